#!/bin/bash
# Minimum bandwidth weights (Hyper-V's -MinimumBandwidthWeight) with real
# traffic: two "VMs" on an external switch send TCP out of its uplink at
# once, and the uplink's bandwidth is shared by their weights (iperf3);
# status names the class; a restart changes nothing; weights cleared or the
# switch deleted give the uplink its own qdisc back; a root qdisc of
# someone else's is left alone and said so; a port of an internal switch
# is told why not; a bad uplink-bandwidth is refused.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
for t in iperf3 jq tc; do
    command -v $t >/dev/null || skip "$t is not installed"
done

sw=$(new_netns sw)
ext=$(new_netns ext)
a=$(new_netns a)
b=$(new_netns b)
ip -n "$sw" link add u0 type veth peer name e0 netns "$ext"
ip -n "$ext" addr add 10.8.0.100/24 dev e0
ip -n "$ext" link set e0 up
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
ctl --wait add-switch ext0 --uplink u0 || die "add-switch"
ctl --wait set switch ext0 other_config:uplink-bandwidth=100M \
    || die "uplink-bandwidth"
ctl --wait add-port ext0 pa --kind veth --netns "$a" --mac 02:00:00:00:08:0a \
    || die "add-port pa"
ctl --wait add-port ext0 pb --kind veth --netns "$b" --mac 02:00:00:00:08:0b \
    || die "add-port pb"
ip -n "$a" addr add 10.8.0.1/24 dev pa
ip -n "$b" addr add 10.8.0.2/24 dev pb
ip -n "$a" link set pa up
ip -n "$b" link set pb up
reaches() { ip netns exec "$1" ping -c 1 -W 1 10.8.0.100 >/dev/null 2>&1; }
wait_for 10 reaches "$a" || die "a cannot reach the uplink's far end"
wait_for 10 reaches "$b" || die "b cannot reach the uplink's far end"
root_qdisc() { tc -n "$sw" qdisc show dev u0 root | awk '{print $2, $3}'; }
default_root=$(root_qdisc)

note "weights 1 and 3: the busy uplink is shared 1:3"
ctl --wait set-port pa min-bandwidth-weight=1 || fail "weight pa"
ctl --wait set-port pb min-bandwidth-weight=3 || fail "weight pb"
assert_eq "vsw's htb on the uplink" "htb 7673:" "$(root_qdisc)"
assert_contains "pa's status" "htb class 7673:" \
    "$(ctl get port pa status:min_bandwidth_weight)"
# Weights 1 and 3, and 1 for the traffic of ports without one: pb's
# guaranteed rate is 3/5 of the uplink's 100 Mbit/s.
class_b=$(ctl get port pb status:bandwidth_class | tr -d '"')
tc -n "$sw" class show dev u0 classid "$class_b" | grep -q "rate 60Mbit" \
    || fail "pb's class $class_b: $(tc -n "$sw" class show dev u0)"
for port in 5201 5202; do
    ip netns exec "$ext" iperf3 -s -1 -p $port -D -I "$T_DIR/iperf$port.pid"
done
sleep 0.5
ip netns exec "$a" iperf3 -c 10.8.0.100 -p 5201 -t 5 -O 1 -J \
    > "$T_DIR/a.json" &
ja=$!
ip netns exec "$b" iperf3 -c 10.8.0.100 -p 5202 -t 5 -O 1 -J \
    > "$T_DIR/b.json" &
jb=$!
wait $ja $jb
ra=$(jq '.end.sum_received.bits_per_second' "$T_DIR/a.json")
rb=$(jq '.end.sum_received.bits_per_second' "$T_DIR/b.json")
note "weight 1: $ra bit/s, weight 3: $rb bit/s, of 100 Mbit/s"
awk -v a="$ra" -v b="$rb" 'BEGIN { exit !(a > 0 && b / a >= 2.2 && b / a <= 4) }' \
    || fail "weights 1:3 gave $ra and $rb bit/s"
awk -v a="$ra" -v b="$rb" 'BEGIN { exit !(a + b >= 85e6 && a + b <= 105e6) }' \
    || fail "together $ra + $rb bit/s, not the uplink's 100 Mbit/s"

note "alone, a port with a weight may use the whole uplink"
ip netns exec "$ext" iperf3 -s -1 -p 5203 -D -I "$T_DIR/iperf5203.pid"
sleep 0.5
ra=$(ip netns exec "$a" iperf3 -c 10.8.0.100 -p 5203 -t 3 -O 1 -J \
     | jq '.end.sum_received.bits_per_second')
awk -v a="$ra" 'BEGIN { exit !(a >= 85e6) }' \
    || fail "weight 1 alone got $ra bit/s of 100 Mbit/s"

note "restart: the classes are adopted, not remade"
pid=$(vswitchd_pid "$sw")
ctl appctl exit >/dev/null || fail "exit"
wait_gone "$pid"
start_vswitchd "$sw"
ctl --wait list-switches >/dev/null
assert_eq "pb's class after restart" "$class_b" \
    "$(ctl get port pb status:bandwidth_class | tr -d '"')"
ctl appctl bridge/reconcile >/dev/null
assert_contains "no modifying request after restart" "modify=0 " \
    "$(ctl appctl dp/counters)"

note "a port of an internal switch: told why not"
ctl --wait add-switch in0 --type internal || fail "add-switch in0"
ctl --wait add-port in0 pi -- set-port pi min-bandwidth-weight=5 \
    || fail "weight on an internal switch's port"
assert_contains "internal port's status" "only an external switch" \
    "$(ctl get port pi status:min_bandwidth_weight)"
ctl --wait del-switch in0 || fail "del-switch in0"

note "weights cleared: the uplink's own qdisc is back"
ctl --wait set-port pa min-bandwidth-weight=none \
    -- set-port pb min-bandwidth-weight=none || fail "clear weights"
assert_eq "root qdisc without weights" "$default_root" "$(root_qdisc)"

note "a root qdisc of someone else's is left alone"
tc -n "$sw" qdisc add dev u0 root handle 1: tbf rate 1gbit burst 64k \
    latency 10ms || fail "tc add tbf"
ctl --wait set-port pa min-bandwidth-weight=2 || fail "weight pa again"
assert_contains "pa's status with a foreign root" "someone else's" \
    "$(ctl get port pa status:min_bandwidth_weight)"
assert_eq "the foreign root kept" "tbf 1:" "$(root_qdisc)"
tc -n "$sw" qdisc del dev u0 root
ctl --wait set-port pa min-bandwidth-weight=4 || fail "weight pa once more"
assert_eq "vsw's htb once the foreign one went" "htb 7673:" "$(root_qdisc)"

note "bad input"
ctl set-port pa min-bandwidth-weight=101 2>/dev/null \
    && fail "weight 101 accepted"
for bad in lots 1 7999 20T; do
    ctl --wait set switch ext0 other_config:uplink-bandwidth=$bad 2>/dev/null
    assert_contains "uplink-bandwidth=$bad refused" "uplink-bandwidth" \
        "$(ctl get switch ext0 status:error 2>/dev/null)"
done
ctl --wait set switch ext0 other_config:uplink-bandwidth=100M \
    || fail "uplink-bandwidth back"

note "a weighted port deleted: its class goes; the last one: vsw's htb goes"
ctl --wait add-port ext0 pc -- set-port pc min-bandwidth-weight=2 \
    || fail "add-port pc with a weight"
class_c=$(ctl get port pc status:bandwidth_class | tr -d '"')
tc -n "$sw" class show dev u0 | grep -q "htb $class_c " \
    || fail "no class $class_c for pc"
ctl --wait del-port pc || fail "del-port pc"
tc -n "$sw" class show dev u0 | grep -q "htb $class_c " \
    && fail "pc's class $class_c outlived pc"
ctl --wait del-port pa || fail "del-port pa"
assert_eq "root qdisc once no weighted port is left" "$default_root" \
    "$(root_qdisc)"

note "switch deleted: the uplink's own qdisc is back"
ctl --wait set-port pb min-bandwidth-weight=7 || fail "weight pb again"
assert_eq "vsw's htb for pb" "htb 7673:" "$(root_qdisc)"
ctl --wait del-switch ext0 || fail "del-switch"
assert_eq "root qdisc after the switch went" "$default_root" "$(root_qdisc)"

exit $T_FAILED
