# The hardware-refusal path: a flower rule with skip_sw on a netdevsim port
# is refused by the device, and tc reports the kernel's own message.  With
# hw-tc-offload off the kernel says offload is disabled; with it on the
# driver refuses the rule.  A skip_hw rule on the same port is accepted
# (the software fallback).
. /lab/lib.sh
load netdevsim cls_flower act_gact sch_ingress
echo "11 1" > /sys/bus/netdevsim/new_device || die "new netdevsim device"
sleep 1
port=$(ls /sys/bus/netdevsim/devices/netdevsim11/net | head -1)
ip link set "$port" up
tc qdisc add dev "$port" clsact || die "clsact"

ethtool -K "$port" hw-tc-offload off
out=$(tc filter add dev "$port" ingress protocol ip flower skip_sw \
      dst_ip 192.0.2.9 action drop 2>&1) && fail "skip_sw rule accepted"
echo "hw-tc-offload off: $out"
assert_contains "kernel message (offload off)" "Error:" "$out"

ethtool -K "$port" hw-tc-offload on || die "hw-tc-offload on"
out=$(tc filter add dev "$port" ingress protocol ip flower skip_sw \
      dst_ip 192.0.2.9 action drop 2>&1) && fail "skip_sw rule accepted"
echo "hw-tc-offload on: $out"
assert_contains "kernel message (offload on)" \
    "only offload of BPF classifiers supported" "$out"

tc filter add dev "$port" ingress protocol ip flower skip_hw \
    dst_ip 192.0.2.9 action drop || fail "skip_hw fallback refused"
tc filter show dev "$port" ingress | grep -q not_in_hw \
    || fail "software rule not reported not_in_hw"
echo 11 > /sys/bus/netdevsim/del_device
finish
