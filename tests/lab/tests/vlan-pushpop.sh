# TC act_vlan: untagged traffic from namespace a is pushed onto VLAN 100 on
# its way to namespace b, where an 802.1Q interface receives it; b's
# tagged replies are popped on the way back.
. /lab/lib.sh
load sch_ingress cls_flower act_vlan act_mirred 8021q veth

ip netns add a; ip netns add b
ip link add r0 type veth peer name eth0 netns a
ip link add r1 type veth peer name eth0 netns b
ip -n a addr add 192.0.2.1/24 dev eth0; ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n b link add link eth0 name eth0.100 type vlan id 100 || die "8021q"
ip -n b addr add 192.0.2.2/24 dev eth0.100; ip -n b link set eth0.100 up
ip link set r0 up; ip link set r1 up

tc qdisc add dev r0 ingress; tc qdisc add dev r1 ingress
tc filter add dev r0 ingress protocol all flower \
    action vlan push id 100 pipe action mirred egress redirect dev r1 \
    || die "vlan push rule"
tc filter add dev r1 ingress protocol 802.1Q flower vlan_id 100 \
    action vlan pop pipe action mirred egress redirect dev r0 \
    || die "vlan pop rule"

ip netns exec a ping -c 3 -W 2 192.0.2.2 || fail "no traffic over VLAN 100"
tc -s filter show dev r1 ingress | grep -q "vlan_id 100" \
    || fail "pop rule does not match on vlan_id 100"
finish
