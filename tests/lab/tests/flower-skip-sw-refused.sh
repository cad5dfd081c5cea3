# The hardware-refusal path: a flower rule with skip_sw on a netdevsim port
# is refused by the device, and tc reports the kernel's own message.  With
# hw-tc-offload off the kernel says offload is disabled; with it on the
# driver refuses the rule (the lab's simulated flower offload, told to
# refuse: tests/lab/netdevsim-flower.patch).  A skip_hw rule on the same
# port is accepted (the software fallback); told to accept, the device
# takes the skip_sw rule and the kernel reports it in_hw.
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
echo all > /sys/module/netdevsim/parameters/flower_refuse
out=$(tc filter add dev "$port" ingress protocol ip flower skip_sw \
      dst_ip 192.0.2.9 action drop 2>&1) && fail "skip_sw rule accepted"
echo "hw-tc-offload on: $out"
assert_contains "kernel message (offload on)" \
    "simulated refusal (flower_refuse)" "$out"

tc filter add dev "$port" ingress protocol ip flower skip_hw \
    dst_ip 192.0.2.9 action drop || fail "skip_hw fallback refused"
tc filter show dev "$port" ingress | grep -q not_in_hw \
    || fail "software rule not reported not_in_hw"
echo "" > /sys/module/netdevsim/parameters/flower_refuse
held=$(cat /sys/module/netdevsim/parameters/flower_rules)
tc filter add dev "$port" ingress prio 7 protocol ip flower skip_sw \
    dst_ip 192.0.2.10 action drop || fail "skip_sw refused by an accepting device"
tc filter show dev "$port" ingress prio 7 | grep -q 'in_hw in_hw_count 1' \
    || fail "accepted rule not reported in_hw"
assert_eq "rules the device holds" $((held + 1)) \
    "$(cat /sys/module/netdevsim/parameters/flower_rules)"
echo 11 > /sys/bus/netdevsim/del_device
finish
