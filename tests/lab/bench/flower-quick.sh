# bench/run --quick's flower rows: few rules, to prove the harness works.
COUNTS=100 ROUNDS=1 VFS=10
. /lab/bench/flower.sh
