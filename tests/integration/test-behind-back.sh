#!/bin/bash
# What the README promises about changes made behind vsw's back, and about
# defaults, each checked on real kernel objects: a deleted host port is
# made again; a tap moved to a foreign bridge, given another MAC or set
# down is put back; a foreign device with a port's name is never taken
# over; a live uplink change releases the old uplink as it was found;
# --may-exist add-switch is idempotent; a foreign device in the device
# group vsw deletes by survives; with no directories given, vswitchd uses
# /var/lib/vsw and /run/vsw.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v ethtool >/dev/null || skip "ethtool is not installed"
command -v nsenter >/dev/null || skip "nsenter (util-linux) is not installed"

ns=$(new_netns bb)
ip -n "$ns" link add u0 type veth peer name u0-peer
ip -n "$ns" link add u1 type veth peer name u1-peer
ip -n "$ns" link add foreign0 type bridge
start_vswitchd "$ns"
vswctl_in "$ns" --wait add-switch ext0 --uplink u0 || die "add-switch"
vswctl_in "$ns" --wait add-port ext0 vm0 --mac 52:54:00:00:00:01 \
    || die "add-port"
settle() { vswctl_in "$ns" --wait set root . other_config:s=$RANDOM; }

note "a host port deleted behind vsw's back is made again"
ip -n "$ns" link del vh-ext0
has_host_port() { [ "$(kind_of "$ns" vh-ext0)" = veth ]; }
wait_for 5 has_host_port || fail "host port not made again"
assert_eq "its bridge end in the bridge" ext0 \
    "$(master_of "$ns" "$(ip -n "$ns" -o link show master ext0 \
       | grep -o 'vsp[0-9a-f]*' | head -1)")"

note "a tap moved to a foreign bridge, re-MACed, set down: put back"
ip -n "$ns" link set vm0 master foreign0
back_in_ext0() { [ "$(master_of "$ns" vm0)" = ext0 ]; }
wait_for 5 back_in_ext0 || fail "tap not moved back"
ip -n "$ns" link set vm0 address 02:00:00:00:00:99
mac_back() { ip -n "$ns" link show vm0 | grep -q "fe:54:00:00:00:01"; }
wait_for 5 mac_back || fail "tap MAC not put back"
ip -n "$ns" link set vm0 down
up_again() { ip -n "$ns" -o link show vm0 | grep -q "<.*,UP"; }
wait_for 5 up_again || fail "tap not brought up"

note "a foreign device with a port's name is never taken over"
ip -n "$ns" link add fp0 type veth peer name fp0-peer
before=$(ip -n "$ns" -d -o link show fp0 | awk '{print $1, $2}')
in_ns "$ns" ovsdb-client transact "unix:$T_DIR/$ns/run/db.sock" \
    '["VSwitch",{"op":"insert","table":"Port",
      "row":{"name":"fp0","kind":"tap","queues":1,
             "switch":["uuid","'"$(vswctl_in "$ns" get switch ext0 _uuid)"'"]}}]' \
    >/dev/null
settle
assert_contains "reported" "already exists and vsw did not create it" \
    "$(vswctl_in "$ns" get port fp0 status:error)"
assert_eq "foreign device unchanged" "$before" \
    "$(ip -n "$ns" -d -o link show fp0 | awk '{print $1, $2}')"
assert_eq "foreign device not tagged" "" "$(alias_of "$ns" fp0)"
assert_eq "foreign device not enslaved" "" "$(master_of "$ns" fp0)"
vswctl_in "$ns" del-port fp0
settle
assert_eq "still there after the port went" veth "$(kind_of "$ns" fp0)"

note "a live uplink change releases the old uplink as it was found"
gro_before=$(ip netns exec "$ns" ethtool -k u1 \
             | sed -n 's/^generic-receive-offload: \([a-z]*\).*/\1/p')
ip netns exec "$ns" ethtool -K u0 gro off
u0_gro=$(ip netns exec "$ns" ethtool -k u0 \
         | sed -n 's/^generic-receive-offload: \([a-z]*\).*/\1/p')
vswctl_in "$ns" --wait offload set ext0 gro=on || fail "gro=on"
vswctl_in "$ns" --wait set switch ext0 uplink=u1 || fail "uplink=u1"
assert_eq "u1 bound" ext0 "$(master_of "$ns" u1)"
assert_eq "u0 released" "" "$(master_of "$ns" u0)"
assert_eq "u0's gro as found" off \
    "$(ip netns exec "$ns" ethtool -k u0 \
       | sed -n 's/^generic-receive-offload: \([a-z]*\).*/\1/p')"
[ -e "$T_DIR/$ns/state/offload/u0.orig" ] && fail "u0's record left behind"
: "$gro_before" "$u0_gro"

note "--may-exist add-switch is idempotent"
m1=$(modify_count "$ns")
vswctl_in "$ns" --may-exist --wait add-switch ext0 --uplink u1 \
    || fail "--may-exist on an existing switch"
assert_eq "nothing changed" "$m1" "$(modify_count "$ns")"
assert_eq "one switch" 1 \
    "$(vswctl_in "$ns" --format=json list switch | jq '.data | length')"

note "a foreign device in the device group vsw deletes by is never deleted"
# vsw deletes many devices in one request by giving them a device group;
# the test fixes the group (VSW_TEST_DELETE_GROUP) and puts a foreign
# device in it first: the batch is refused, the ports go one by one.
ns2=$(new_netns bg)
export VSW_TEST_DELETE_GROUP=4242
start_vswitchd "$ns2"
unset VSW_TEST_DELETE_GROUP
vswctl_in "$ns2" --wait add-switch s9 --type private -- add-port s9 a1 \
    -- add-port s9 a2 -- add-port s9 a3 || fail "s9 and its ports"
ip -n "$ns2" link add fx0 type bridge
ip -n "$ns2" link set fx0 group 4242
vswctl_in "$ns2" --wait del-switch s9 || fail "del-switch s9"
assert_eq "the foreign device in the group" bridge "$(kind_of "$ns2" fx0)"
for p in s9 a1 a2 a3; do
    assert_eq "$p deleted" "" "$(ifindex "$ns2" "$p")"
done
assert_contains "the batch refused, and why" "device group 4242 is in use" \
    "$(cat "$T_DIR/$ns2/state/vswitchd.log")"
assert_contains "deleted one by one" "deleted a2 (vsw:" \
    "$(cat "$T_DIR/$ns2/state/vswitchd.log")"
case $(cat "$T_DIR/$ns2/state/vswitchd.log") in
    *"wants any more, in one batch"*)
        fail "a batch deleted with a foreign device in its group" ;;
esac
ip -n "$ns2" link del fx0
vswctl_in "$ns2" --wait add-switch s9 --type private -- add-port s9 a1 \
    -- add-port s9 a2 || fail "s9 again"
vswctl_in "$ns2" --wait del-switch s9 || fail "del-switch s9 again"
assert_contains "with the group free: one batch" \
    "deleted 3 devices that no switch wants any more, in one batch" \
    "$(cat "$T_DIR/$ns2/state/vswitchd.log")"
assert_eq "nothing left in the group" "" \
    "$(ip -n "$ns2" -o link show group 4242)"

note "the default directories: /var/lib/vsw and /run/vsw"
# In a mount namespace of its own, over empty tmpfs, so the host's
# /var/lib/vsw and /run/vsw are not touched.
n2=$(new_netns dflt)
ip netns exec "$n2" unshare -m --propagation private sh -c '
    mount -t tmpfs vsw-test /var/lib && mount -t tmpfs vsw-test /run &&
    exec env -u VSW_STATE_DIR -u VSW_RUN_DIR "$0" --detach -vconsole:off
' "$VSW_BIN/vswitchd" || fail "vswitchd with the default directories"
dpid=$(pgrep -n -f "$VSW_BIN/vswitchd --detach -vconsole:off$")
[ -n "$dpid" ] || die "the default-directory vswitchd is not running"
in_its_ns() { nsenter -t "$dpid" -m -n env -u VSW_STATE_DIR -u VSW_RUN_DIR "$@"; }
in_its_ns "$VSW_BIN/vswctl" --timeout=10 --wait add-switch d0 \
    || fail "vswctl on the default socket"
in_its_ns test -S /run/vsw/db.sock || fail "no /run/vsw/db.sock"
in_its_ns test -f /var/lib/vsw/conf.db || fail "no /var/lib/vsw/conf.db"
assert_eq "its bridge" bridge "$(kind_of "$n2" d0)"
dbpid=$(in_its_ns cat /run/vsw/ovsdb-server.pid)
in_its_ns "$VSW_BIN/vswctl" --timeout=10 appctl exit >/dev/null
wait_gone "$dpid"
[ -n "$dbpid" ] && wait_gone "$dbpid"
