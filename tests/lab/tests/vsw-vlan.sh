# vsw's VLAN ports on a kernel with bridge VLAN filtering: access ports,
# a trunk with a native VLAN, an untagged port, and the uplink carrying
# the ports' VLANs tagged to the physical network; real traffic shows who
# reaches whom.  A restart changes nothing.
. /lab/lib.sh
load bridge 8021q veth
export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
vswitchd --detach --pidfile --log-file || die "vswitchd did not start"

for ns in a b t n u phys; do ip netns add "$ns"; done
ip link add up0 type veth peer name lab-tmp
ip link set lab-tmp netns phys
ip -n phys link set lab-tmp name eth0
ip -n phys link set eth0 up
ip -n phys link add link eth0 name eth0.10 type vlan id 10
ip -n phys addr add 192.0.2.50/24 dev eth0.10
ip -n phys link set eth0.10 up

vswctl --wait add-switch ext0 --uplink up0 --no-management-os \
    || die "add-switch"
vswctl --wait add-port ext0 pa --kind veth --netns a --vlan access:10 \
    -- add-port ext0 pb --kind veth --netns b --vlan access:20 \
    -- add-port ext0 pt --kind veth --netns t --vlan trunk:10,20,native:30 \
    -- add-port ext0 pn --kind veth --netns n --vlan access:30 \
    -- add-port ext0 pu --kind veth --netns u || die "add-port"
bridge vlan show
vswctl show

ip -n a addr add 192.0.2.1/24 dev pa; ip -n a link set pa up
ip -n b addr add 198.51.100.1/24 dev pb; ip -n b link set pb up
ip -n n addr add 203.0.113.1/24 dev pn; ip -n n link set pn up
ip -n u addr add 192.0.2.9/24 dev pu; ip -n u link set pu up
ip -n t link set pt up
ip -n t addr add 203.0.113.2/24 dev pt
ip -n t link add link pt name pt.10 type vlan id 10
ip -n t link add link pt name pt.20 type vlan id 20
ip -n t addr add 192.0.2.2/24 dev pt.10; ip -n t link set pt.10 up
ip -n t addr add 198.51.100.2/24 dev pt.20; ip -n t link set pt.20 up

ip netns exec a ping -c 2 -W 2 192.0.2.2 >/dev/null \
    || fail "access 10 -> trunk (tagged 10)"
ip netns exec b ping -c 2 -W 2 198.51.100.2 >/dev/null \
    || fail "access 20 -> trunk (tagged 20)"
ip netns exec n ping -c 2 -W 2 203.0.113.2 >/dev/null \
    || fail "access 30 -> trunk (native 30, untagged)"
ip netns exec a ping -c 2 -W 2 192.0.2.50 >/dev/null \
    || fail "access 10 -> physical network (tagged 10 on the uplink)"
ip netns exec u ping -c 2 -W 1 192.0.2.1 >/dev/null \
    && fail "untagged port reached VLAN 10"
ip netns exec u ping -c 2 -W 1 192.0.2.2 >/dev/null \
    && fail "untagged port reached the trunk's VLAN 10"

vswctl appctl exit
sleep 0.5
vswitchd --detach --pidfile --log-file || die "vswitchd restart"
vswctl --wait set root . other_config:x=1
assert_eq "modifying calls after restart" "modify=0" \
    "$(vswctl appctl dp/counters | grep -o 'modify=[0-9]*' | head -1)"
ip netns exec a ping -c 1 -W 2 192.0.2.2 >/dev/null \
    || fail "VLAN 10 after restart"
vswctl appctl exit
finish
