# Bridge VLAN filtering: an access port (PVID 10, untagged) and a trunk
# port (VLANs 10 and 20 tagged) pass traffic between them on VLAN 10; the
# trunk reaches a VLAN 20 access port on VLAN 20; and the two access ports,
# in different VLANs of the same subnet, cannot reach each other.
. /lab/lib.sh
load bridge 8021q veth

ip link add br0 type bridge vlan_filtering 1 || die "bridge"
ip link set br0 up
for h in a b c; do
    ip netns add "$h"
    ip link add "p$h" type veth peer name lab-tmp
    ip link set lab-tmp netns "$h"
    ip -n "$h" link set lab-tmp name eth0
    ip -n "$h" link set eth0 up
    ip link set "p$h" master br0 up
    bridge vlan del dev "p$h" vid 1
done
bridge vlan add dev pa vid 10 pvid untagged || die "access port a"
bridge vlan add dev pc vid 20 pvid untagged || die "access port c"
bridge vlan add dev pb vid 10 || die "trunk vid 10"
bridge vlan add dev pb vid 20 || die "trunk vid 20"
bridge vlan show

ip -n a addr add 192.0.2.1/24 dev eth0
ip -n c addr add 192.0.2.3/24 dev eth0
ip -n c addr add 198.51.100.3/24 dev eth0
ip -n b link add link eth0 name eth0.10 type vlan id 10 || die "8021q"
ip -n b link add link eth0 name eth0.20 type vlan id 20
ip -n b addr add 192.0.2.2/24 dev eth0.10; ip -n b link set eth0.10 up
ip -n b addr add 198.51.100.2/24 dev eth0.20; ip -n b link set eth0.20 up

ip netns exec a ping -c 3 -W 2 192.0.2.2 \
    || fail "access port (untagged, VLAN 10) to trunk (tagged 10) failed"
ip netns exec b ping -c 3 -W 2 198.51.100.3 \
    || fail "trunk (tagged 20) to access port (VLAN 20) failed"
ip netns exec a ping -c 2 -W 1 192.0.2.3 >/dev/null \
    && fail "VLAN 20 access port reachable from VLAN 10"
finish
