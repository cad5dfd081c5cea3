#!/bin/bash
# Ports on the development kernel: persistent taps (single and multiqueue,
# owned by a user who can then open them unprivileged, libvirt's MAC rule),
# internal ports (host vNICs) and veths into other namespaces with traffic
# between them, MTU rules, fallbacks (vhost-net without /dev/vhost-net, vf
# on a switch without SR-IOV), VLAN refused where the kernel lacks VLAN
# filtering, adoption after restart, repair, stale ports, a port moved to
# another switch in one transaction, and removal.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"

sw=$(new_netns sw)
c=$(new_netns c)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
getv() { ctl get "$@" | tr -d '"'; }     # A status value, unquoted.
ctl --wait add-switch sw0 --type private || die "add-switch"

note "tap: persistent, vnet-hdr, in the bridge, libvirt's MAC rule"
ctl --wait add-port sw0 tap0 --mac 52:54:00:12:34:56 || fail "add-port tap0"
d=$(ip -n "$sw" -d link show tap0)
assert_contains "tap flags" "tun type tap pi off vnet_hdr on" "$d"
assert_contains "persistent" "persist on" "$d"
assert_eq "tap0 master" sw0 "$(master_of "$sw" tap0)"
assert_contains "tap MAC = guest MAC with 0xfe first" \
    "link/ether fe:54:00:12:34:56" "$d"
assert_eq "status kind" tap "$(ctl get port tap0 status:kind)"
assert_eq "status state" up "$(ctl get port tap0 status:state)"

note "multiqueue tap owned by an unprivileged user, who can open it"
ctl --wait add-port sw0 tap1 --queues 4 --owner nobody || fail "tap1"
d=$(ip -n "$sw" -d link show tap1)
assert_contains "multiqueue" "multi_queue" "$d"
assert_contains "owner" "user nobody" "$d"
attach='
import fcntl, os, struct, sys, time
fds = []
for _ in range(int(sys.argv[2])):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = 0x0002 | 0x1000 | 0x4000           # TAP NO_PI VNET_HDR
    flags |= 0x0100 if sys.argv[4] == "mq" else 0     # MULTI_QUEUE
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), flags))
    fds.append(fd)
print("attached", len(fds))
sys.stdout.flush()
time.sleep(float(sys.argv[3]))
'
# as_nobody ARGS: runs the attach script as user nobody in $sw.  Debian's
# udev makes /dev/net/tun 0666; where this machine's is not, a node with
# that mode is bind-mounted over it in a private mount namespace (the
# host's /dev stays as it is).
as_nobody() {
    local dev="$T_DIR/dev"
    mkdir -p "$dev"
    unshare -m --propagation private sh -c '
        if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
            mount -t tmpfs none "$1" && mknod -m 666 "$1/tun" c 10 200 &&
            mount --bind "$1/tun" /dev/net/tun || exit 99
        fi
        shift
        exec ip netns exec "$@"' sh "$dev" "$sw" setpriv --reuid=nobody \
        --regid=nogroup --clear-groups /usr/bin/python3 -c "$attach" "$@"
}
out=$(as_nobody tap1 2 0 mq 2>&1)
assert_contains "nobody opens tap1 (2 queues)" "attached 2" "$out"
out=$(as_nobody tap0 1 0 sq 2>&1) && fail "nobody opened tap0, which has no owner"
assert_contains "tap0 refuses nobody" "PermissionError" "$out"
# Queues attached, as the status reports them while a VM holds them.
as_nobody tap1 3 3 mq > "$T_DIR/attach.out" 2>&1 &
holder=$!
sleep 1
ctl appctl bridge/reconcile >/dev/null
sleep 0.5
assert_eq "queues_attached while held" 3 \
    "$(getv port tap1 status:queues_attached)"
assert_eq "queues_requested" 4 "$(getv port tap1 status:queues_requested)"
wait "$holder"

note "internal port and veth port: traffic between them"
ctl --wait add-port sw0 in0 --kind internal --mac 02:00:00:00:01:01 \
    || fail "internal port"
ctl --wait add-port sw0 ve0 --kind veth --netns "$c" \
    --mac 02:00:00:00:01:02 || fail "veth port"
assert_eq "host end of in0" veth "$(kind_of "$sw" in0)"
assert_contains "in0 MAC" "02:00:00:00:01:01" \
    "$(ip -n "$sw" link show in0)"
assert_contains "peer moved into $c with its MAC" "02:00:00:00:01:02" \
    "$(ip -n "$c" link show ve0)"
ip -n "$sw" addr add 192.0.2.1/24 dev in0
ip -n "$c" addr add 192.0.2.2/24 dev ve0
ip -n "$c" link set ve0 up
ip netns exec "$sw" ping -c 3 -W 2 192.0.2.2 >/dev/null \
    || fail "no traffic between internal port and veth port"

note "the statistics collector: the kernel's counters in Port.statistics"
ctl set root . other_config:stats-update-interval=1000
counted() { [ "$(getv port ve0 statistics:rx_packets 2>/dev/null)" -ge 3 ]; }
wait_for 4 counted || fail "ve0's statistics: $(getv port ve0 statistics)"
sent=$(ip -n "$sw" -j -s link show ve0 | jq '.[0].stats64.rx.packets')
[ "$(getv port ve0 statistics:rx_packets)" -le "$sent" ] \
    || fail "more packets counted than the kernel's $sent"
ctl remove root . other_config stats-update-interval

note "restart adopts every port: no modifying call, same ifindexes"
links() { ip -n "$sw" -o link show | awk '{print $1, $2}' | sort; }
before=$(links)
stop_vswitchd "$sw"
start_vswitchd "$sw"
ctl --wait set root . other_config:touch=1 || fail "--wait"
assert_eq "modifying calls after restart" 0 "$(modify_count "$sw")"
assert_eq "ifindexes after restart" "$before" "$(links)"

note "no host IPv6 on a switch's bridge and ports; turned on behind vsw's back: off again"
ipv6_of() { ip netns exec "$sw" cat "/proc/sys/net/ipv6/conf/$1/disable_ipv6"; }
if [ -e /proc/sys/net/ipv6 ]; then
    assert_eq "tap0's host IPv6 off" 1 "$(ipv6_of tap0)"
    assert_eq "the bridge's host IPv6 off" 1 "$(ipv6_of sw0)"
    assert_eq "the internal port's host end keeps it" 0 "$(ipv6_of in0)"
    ip netns exec "$sw" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/tap0/disable_ipv6'
    ctl appctl bridge/reconcile >/dev/null
    ipv6_off() { [ "$(ipv6_of tap0)" = 1 ]; }
    wait_for 3 ipv6_off || fail "tap0's IPv6 left on"
fi

note "a tap deleted behind our back is repaired"
ip -n "$sw" link del tap0
for i in $(seq 50); do
    [ "$(master_of "$sw" tap0 2>/dev/null)" = sw0 ] && break
    sleep 0.1
done
assert_eq "tap0 recreated and enslaved" sw0 "$(master_of "$sw" tap0)"
assert_contains "tap0 MAC restored" "fe:54:00:12:34:56" \
    "$(ip -n "$sw" link show tap0)"

note "fallbacks are reported, not hidden"
ctl --wait add-port sw0 vh0 --kind vhost-net --queues 2 || fail "vh0"
if [ -e /dev/vhost-net ]; then
    assert_eq "vhost-net in use" vhost-net "$(ctl get port vh0 status:kind)"
else
    assert_eq "vhost-net falls back to tap" tap \
        "$(ctl get port vh0 status:kind)"
    assert_contains "reason" "/dev/vhost-net is missing" \
        "$(ctl get port vh0 status:reason)"
    expect_error 1 "/dev/vhost-net is missing" \
        in_ns "$sw" vswctl vhost-exec vh0 -- true
fi
ctl --wait add-port sw0 vf0 --kind vf || fail "vf0"
assert_eq "vf on a non-SR-IOV switch runs as tap" tap \
    "$(ctl get port vf0 status:kind)"
assert_contains "vf reason" "not an SR-IOV switch" \
    "$(ctl get port vf0 status:reason)"
expect_error 1 "is not a vhost-net port" \
    in_ns "$sw" vswctl vhost-exec tap0 -- true

note "identity: the external_ids VM managers write"
ctl set port tap0 external_ids:vm-id=vm-1 external_ids:iface-id=if-1 \
    external_ids:attached-mac=52:54:00:12:34:56 || fail "external_ids"
out=$(ctl --format=json list-ports sw0)
assert_eq "vm-id shown" vm-1 \
    "$(echo "$out" | jq -r '.[] | select(.port=="tap0") | .vm_id')"
assert_eq "iface-id shown" if-1 \
    "$(echo "$out" | jq -r '.[] | select(.port=="tap0") | .iface_id')"

note "MTU: the switch's MTU is enforced, a mismatch names both values"
ctl --wait set switch sw0 mtu=9000 || fail "switch mtu"
assert_contains "tap0 follows the switch MTU" "mtu 9000" \
    "$(ip -n "$sw" link show tap0)"
expect_error 1 "MTU 1500 does not match switch \"sw0\"'s MTU 9000" \
    ctl add-port sw0 tap9 --mtu 1500
expect_error 1 "asks for MTU 1400, switch sw0 enforces 9000" \
    ctl --wait set port tap1 mtu=1400
ctl clear port tap1 mtu

note "VLANs need bridge VLAN filtering"
if [ ! -e "/sys/class/net/sw0/bridge/vlan_filtering" ] \
   && ! ip netns exec "$sw" test -e /sys/class/net/sw0/bridge/vlan_filtering
then
    expect_error 1 "need bridge VLAN filtering, which this kernel lacks" \
        ctl add-port sw0 vl0 --vlan access:10
fi
expect_error 1 'is not in 1..4094' ctl add-port sw0 vl1 --vlan access:5000
expect_error 1 "unknown kind" ctl add-port sw0 x0 --kind bogus
expect_error 1 'no switch named "nope"' ctl add-port nope x0
expect_error 1 'port "tap0" already exists' ctl add-port sw0 tap0
expect_error 1 'does not exist (ip netns add' \
    ctl add-port sw0 ve9 --kind veth --netns no-such-ns

note "stale: a veth whose namespace is gone is reported"
ip netns delete "$c"
for i in $(seq 50); do
    ctl get port ve0 status:error 2>/dev/null | grep -q namespace && break
    sleep 0.1
done
assert_contains "stale veth" "namespace $c" "$(ctl get port ve0 status:error)"

note "--wait reports what vswitchd refused after vswctl's checks passed"
# add-port and del-port alone do not download the observed state (it is
# most of the database at scale): after --wait, vswctl asks the server for
# the status of the ports it named.  Here the namespace goes between the
# commit and vswitchd's pass, which only vswitchd can see.
late=$(new_netns late)
pid=$(vswitchd_pid "$sw")
kill -STOP "$pid"
ctl --wait add-port sw0 ve5 --kind veth --netns "$late" \
    >"$T_DIR/late.out" 2>&1 &
waiter=$!
for i in $(seq 50); do
    ctl get port ve5 name >/dev/null 2>&1 && break
    sleep 0.1
done
ip netns delete "$late"
kill -CONT "$pid"
wait "$waiter"; rc=$?
assert_eq "exit status of --wait add-port refused by vswitchd" 1 "$rc"
assert_contains "the port's error reported" "port \"ve5\": " \
    "$(cat "$T_DIR/late.out")"
assert_contains "with vswitchd's words" "namespace $late" \
    "$(cat "$T_DIR/late.out")"
ctl --wait del-port ve5 || fail "del-port ve5"

note "a port moved to another switch in one transaction, under its name"
ctl --wait add-switch sw1 --type private || fail "add-switch sw1"
old=$(ifindex "$sw" tap0)
ctl --wait del-port tap0 -- add-port sw1 tap0 --mac 52:54:00:12:34:56 \
    || fail "moving tap0 to sw1 (its old tap went in the same pass)"
assert_eq "tap0 master after the move" sw1 "$(master_of "$sw" tap0)"
assert_ne "tap0 made again" "$old" "$(ifindex "$sw" tap0)"
ctl --wait del-port tap0 -- add-port sw0 tap0 --mac 52:54:00:12:34:56 \
    || fail "moving tap0 back to sw0"
assert_eq "tap0 master after the move back" sw0 "$(master_of "$sw" tap0)"
ctl --wait del-switch sw1 || fail "del-switch sw1"

note "del-port removes what vsw made"
ctl --wait del-port sw0 tap1 || fail "del-port"
assert_eq "tap1 gone" "" "$(ifindex "$sw" tap1)"
ctl --wait del-port in0 || fail "del-port in0"
assert_eq "in0 gone" "" "$(ifindex "$sw" in0)"
ctl --wait del-switch sw0 || fail "del-switch"
assert_eq "ports go with their switch" "" "$(ifindex "$sw" tap0)"
