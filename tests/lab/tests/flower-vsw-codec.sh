# vsw's flower codec (offload/flower.c over OVS lib/tc.c) on the real
# kernel: rules by destination MAC installed by lab-flower carry traffic
# between two namespaces whose ends are also ports of a bridge that will
# not forward between them (flooding and learning off, no FDB entry), so
# traffic flows only through the rules; they count it in the kernel's
# counters as vsw reads them back, and carry vsw's cookie; on the
# lab's simulated netdevsim offload a skip_sw rule reads back in_hw with
# in_hw_count 1.  The kernel's messages for both are printed (RECORD
# lines): tests/data/flower-*.hex are such recordings.
. /lab/lib.sh
load sch_ingress cls_flower act_mirred act_gact veth netdevsim bridge

ip netns add a; ip netns add b
ip link add r0 type veth peer name eth0 netns a
ip link add r1 type veth peer name eth0 netns b
ip -n a link set eth0 address 02:00:00:00:0a:01
ip -n b link set eth0 address 02:00:00:00:0b:01
ip -n a addr add 192.0.2.1/24 dev eth0; ip -n a link set eth0 up
ip -n b addr add 192.0.2.2/24 dev eth0; ip -n b link set eth0 up
ip link add br9 type bridge
ip link set br9 up
for p in r0 r1; do
    ip link set "$p" master br9
    bridge link set dev "$p" flood off learning off mcast_flood off
done
ip link set r0 up; ip link set r1 up
# The rules carry unicast frames only (a broadcast ARP request would find
# none, as on a switch it takes the bridge): the neighbours are known.
ip -n a neigh add 192.0.2.2 lladdr 02:00:00:00:0b:01 dev eth0
ip -n b neigh add 192.0.2.1 lladdr 02:00:00:00:0a:01 dev eth0
ip netns exec a ping -c 1 -W 1 192.0.2.2 >/dev/null \
    && fail "traffic flowed before any rule (through the bridge?)"

note "rules by destination MAC, through vsw's codec"
lab-flower install r0 r1 02:00:00:00:0b:01 sw || die "install on r0"
lab-flower install r1 r0 02:00:00:00:0a:01 sw || die "install on r1"
tc -s filter show dev r0 ingress
ip netns exec a ping -c 3 -W 2 192.0.2.2 || fail "no traffic through the rules"
out=$(lab-flower dump r0)
echo "$out"
assert_eq "vsw's rules on r0" 3 "$(echo "$out" | grep -c '^ours ')"
ipv4=$(echo "$out" | grep ' ipv4 ')
pkts=$(echo "$ipv4" | sed -n 's/.* packets \([0-9]*\) .*/\1/p')
[ "${pkts:-0}" -ge 3 ] || fail "the IPv4 rule counted ${pkts:-0} packets"
assert_contains "read back as software" "not_in_hw" "$ipv4"
assert_contains "what it matches and does" \
    "ipv4 dst 02:00:00:00:0b:01/ff:ff:ff:ff:ff:ff -> redirect to" "$ipv4"
tc filter show dev r0 ingress | grep -q 'cookie 76737701' \
    || fail "no vsw cookie on the rule's action"
prio=$(echo "$ipv4" | sed -n 's/.* prio \([0-9]*\) .*/\1/p')
handle=$(echo "$ipv4" | sed -n 's/.* handle \(0x[0-9a-f]*\) .*/\1/p')
echo "RECORD flower-veth-counters $(lab-flower get r0 "$prio" "$handle")"

note "on the simulated offload: in_hw, in_hw_count 1"
echo "12 1" > /sys/bus/netdevsim/new_device || die "netdevsim device"
sleep 1
port=$(ls /sys/bus/netdevsim/devices/netdevsim12/net | head -1)
ip link set "$port" up
ethtool -K "$port" hw-tc-offload on || die "hw-tc-offload"
echo "" > /sys/module/netdevsim/parameters/flower_refuse
out=$(lab-flower install "$port" "$port" 02:00:00:00:0c:01 hw) \
    || die "skip_sw install"
echo "$out"
assert_eq "all in hardware" 3 "$(echo "$out" | grep -c ' in_hw count 1 ')"
ipv4=$(echo "$out" | grep ' ipv4 ')
prio=$(echo "$ipv4" | sed -n 's/.* prio \([0-9]*\) .*/\1/p')
handle=$(echo "$ipv4" | sed -n 's/.* handle \(0x[0-9a-f]*\) .*/\1/p')
echo "RECORD flower-netdevsim-in-hw $(lab-flower get "$port" "$prio" "$handle")"
echo 12 > /sys/bus/netdevsim/del_device
finish
