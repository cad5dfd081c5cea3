# TC flower with gact drop: a rule dropping ICMP stops ping while other
# traffic (ARP) still passes; the rule counts the drops; deleting it brings
# the traffic back.
. /lab/lib.sh
load sch_ingress cls_flower act_gact veth

ns_pair a eth0 192.0.2.1/24 b eth0 192.0.2.2/24
ip netns exec a ping -c 1 -W 2 192.0.2.2 >/dev/null || die "no baseline"

tc -n b qdisc add dev eth0 ingress || die "ingress qdisc"
tc -n b filter add dev eth0 ingress protocol ip pref 10 flower \
    ip_proto icmp action drop || die "flower drop rule"
ip netns exec a ping -c 3 -W 1 192.0.2.2 >/dev/null \
    && fail "ping passed a drop rule"
n=$(tc -n b -s filter show dev eth0 ingress \
    | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -1)
[ "${n:-0}" -ge 3 ] || fail "drop rule counted ${n:-0} packets"
ip netns exec a arping -c 1 -w 2 -I eth0 192.0.2.2 >/dev/null 2>&1 \
    || fail "ARP was dropped too"

tc -n b filter del dev eth0 ingress pref 10
ip netns exec a ping -c 2 -W 2 192.0.2.2 >/dev/null \
    || fail "no traffic after the rule was deleted"
finish
