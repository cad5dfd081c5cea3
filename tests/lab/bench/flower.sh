# Benchmark rows for bench/run, run in the lab guest (not a test: it
# asserts nothing; tests/lab/tests/ has the tests).  Prints one line per
# measurement: "BENCH ROW PEER N UNIT VALUE".
#   flower-install: rules installed per second on a veth's ingress, N
#     rules, through vsw's codec (lab-flower many: one request each, read
#     back from the kernel's echo) and through tc -batch (the same rules);
#   flower-restart, flower-restart-modify: vswitchd restarted with the
#     rules of an SR-IOV switch whose VF ports (on netdevsim with the lab's
#     simulated offload, in hardware) make about N rules: ms until
#     cur_cfg is current, modifying requests it made.
# COUNTS (rules), ROUNDS (of the install rows; the restart row runs once)
# and VFS (VF ports for the restart row) come from flower-quick.sh or
# default to the full run's.
. /lab/lib.sh
load sch_ingress cls_flower act_mirred act_gact act_vlan veth netdevsim \
    bridge tun
COUNTS=${COUNTS:-1000 10000}
ROUNDS=${ROUNDS:-3}
VFS=${VFS:-60}
bench() { echo "BENCH $*"; }
now() { lab-flower now; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

ip link add r0 type veth peer name r1
ip link set r0 up; ip link set r1 up
for n in $COUNTS; do
    i=0
    while [ $i -lt "$n" ]; do
        printf 'filter add dev r0 ingress prio 61456 protocol ip flower skip_hw dst_mac 02:00:%02x:%02x:%02x:%02x action mirred egress redirect dev r1 cookie 76737701000000000000000000000000\n' \
            $((i >> 24 & 255)) $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
        i=$((i + 1))
    done > "/tmp/batch.$n"
done
round=0
while [ $round -lt "$ROUNDS" ]; do
    round=$((round + 1))
    for n in $COUNTS; do
        tc qdisc del dev r0 clsact 2>/dev/null
        t0=$(now)
        lab-flower many r0 r1 "$n" sw || die "lab-flower many $n"
        t1=$(now)
        bench flower-install vsw "$n" rules/s "$(rate "$n" "$t0" "$t1")"
        tc qdisc del dev r0 clsact
        tc qdisc add dev r0 clsact
        t0=$(now)
        tc -batch "/tmp/batch.$n" || die "tc -batch $n"
        t1=$(now)
        bench flower-install tc-batch "$n" rules/s "$(rate "$n" "$t0" "$t1")"
        tc qdisc del dev r0 clsact
    done
done

# The restart row: VFS VF ports on one SR-IOV switch.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
echo "23 1" > /sys/bus/netdevsim/new_device || die "netdevsim device"
sleep 1
echo "$VFS" > /sys/kernel/debug/netdevsim/netdevsim23/max_vfs \
    || die "max_vfs $VFS"
pf=$(ls /sys/bus/netdevsim/devices/netdevsim23/net | head -1)
ip link set "$pf" up
ethtool -K "$pf" hw-tc-offload on
echo "" > /sys/module/netdevsim/parameters/flower_refuse
export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
vswitchd --detach --pidfile --log-file || die "vswitchd"
vswctl --timeout=300 --wait add-switch sr0 --uplink "$pf" --iov \
    --no-management-os -- set switch sr0 other_config:sriov_vfs="$VFS" \
    || die "add-switch"
for d in /sys/class/net/*; do
    case $(cat "$d/phys_port_name" 2>/dev/null) in
        pf0vf*) ethtool -K "${d##*/}" hw-tc-offload on ;;
    esac
done
args=""
i=1
while [ $i -le "$VFS" ]; do
    args="$args -- add-port sr0 v$i --kind vf --mac 02:00:00:01:$(printf %02x $((i >> 8))):$(printf %02x $((i & 255)))"
    i=$((i + 1))
done
vswctl --timeout=600 --wait ${args# -- } || die "VF ports"
rules=$(( $(vswctl get switch sr0 status:flows_in_hw | tr -d '"') \
          + $(vswctl get switch sr0 status:flows_in_sw | tr -d '"') ))
echo "rules in place: $rules ($(vswctl get switch sr0 status:flows))"
vswctl appctl exit
sleep 0.5
t0=$(now)
vswitchd --detach --pidfile --log-file || die "restart"
vswctl --timeout=600 --wait set root . other_config:x=1
t1=$(now)
modify=$(vswctl appctl dp/counters | grep -o 'modify=[0-9]*' | head -1 \
         | cut -d= -f2)
bench flower-restart vsw "$rules" ms "$(ms_between "$t0" "$t1")"
bench flower-restart-modify vsw "$rules" calls "$modify"
vswctl appctl exit
