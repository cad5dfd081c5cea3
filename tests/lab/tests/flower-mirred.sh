# TC flower with mirred redirect: two namespaces joined only through flower
# rules on the guest's veth ends (no bridge, no routing); traffic flows
# because of the rules and the rules count it.
. /lab/lib.sh
load sch_ingress cls_flower act_mirred veth

ip netns add a; ip netns add b
ip link add r0 type veth peer name eth0 netns a
ip link add r1 type veth peer name eth0 netns b
ip -n a addr add 192.0.2.1/24 dev eth0; ip -n a link set eth0 up
ip -n b addr add 192.0.2.2/24 dev eth0; ip -n b link set eth0 up
ip link set r0 up; ip link set r1 up

ip netns exec a ping -c 1 -W 1 192.0.2.2 >/dev/null \
    && fail "traffic flowed before any rule"

tc qdisc add dev r0 ingress || die "ingress qdisc"
tc qdisc add dev r1 ingress
tc filter add dev r0 ingress protocol all flower \
    action mirred egress redirect dev r1 || die "flower rule r0"
tc filter add dev r1 ingress protocol all flower \
    action mirred egress redirect dev r0 || die "flower rule r1"
tc filter show dev r0 ingress

ip netns exec a ping -c 3 -W 2 192.0.2.2 || fail "no traffic through flower"
n=$(tc -s filter show dev r0 ingress \
    | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -1)
[ "${n:-0}" -ge 3 ] || fail "flower rule on r0 counted ${n:-0} packets"
finish
