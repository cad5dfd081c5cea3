#!/bin/bash
# Taps that another program made (libvirt's vnetN, QEMU's tapN) and vsw's
# adopted ports: a tap put in a vsw bridge behind vsw's back becomes a port
# (adopted=true) with its traffic counted and its guards applied; the port
# goes when the tap goes, a reused name gets a row of its own, a tap moved
# to another bridge is let go and one renamed is followed, deleting the
# port releases the tap without deleting it, `add-port --adopt` attaches a
# tap QEMU made, a switch with adopt-taps=false leaves foreign taps alone,
# and a restart (kill -9) forgets a tap that went meanwhile and adopts one
# that came.  The "VM" is a Python process holding the tap and writing
# frames into it.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }

sw=$(new_netns sw)
b=$(new_netns b)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
getv() { ctl get "$@" 2>/dev/null | tr -d '"'; }
sock="$T_DIR/$sw/run/stats.sock"
client="$(dirname "$0")/helpers/stats-client.py"

ctl --wait add-switch s0 --type private || die "add-switch"
ctl --wait add-port s0 pb --kind veth --netns "$b" --mac 02:00:00:00:08:0b \
    || die "add-port pb"
ip netns exec "$b" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$b" link set pb up

# A tap as libvirt makes one: vnet-hdr, the guest's MAC with 0xfe first,
# put in the bridge by its maker.
libvirt_tap() {
    ip -n "$sw" tuntap add dev "$1" mode tap vnet_hdr || return 1
    ip -n "$sw" link set "$1" address "fe:54:00:00:08:${2:-0a}"
    [ -z "${3:-}" ] && ip -n "$sw" link set "$1" master s0
    return 0
}
has_row() { [ -n "$(ctl --if-exists get port "$1" _uuid 2>/dev/null)" ]; }
no_row() { ! has_row "$1"; }
port_up() { [ "$(getv port "$1" status:state)" = up ]; }
pb_rx() { ip -n "$b" -j -s link show pb | jq '.[0].stats64.rx.packets'; }

# guest TAP SRC_MAC N: holds TAP as a VM would and writes N broadcast
# frames (an experimental EtherType) from SRC_MAC into it.
guest() {
    ip netns exec "$sw" python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(),
                                        0x0002 | 0x1000))   # TAP NO_PI
time.sleep(0.3)                 # Carrier up, the bridge forwarding.
src = bytes.fromhex(sys.argv[2].replace(":", ""))
for i in range(int(sys.argv[3])):
    os.write(fd, b"\xff" * 6 + src + b"\x88\xb5" + bytes(50))
time.sleep(0.3)
' "$@"
}

note "a tap put in a vsw bridge by another program becomes an adopted port"
libvirt_tap vnet0 || die "cannot make a tap"
wait_for 5 port_up vnet0 || fail "vnet0 not adopted: $(ctl list-ports)"
assert_eq "adopted" true "$(getv port vnet0 adopted)"
assert_eq "kind" tap "$(getv port vnet0 kind)"
assert_contains "list-ports says so" "tap (adopted)" "$(ctl list-ports)"
assert_contains "tagged as an adopted tap" ":adopted:" "$(alias_of "$sw" vnet0)"
assert_eq "its maker's MAC kept" fe:54:00:00:08:0a \
    "$(ip -n "$sw" -j link show vnet0 | jq -r '.[0].address')"
assert_eq "no MAC made up" "[]" "$(ctl get port vnet0 mac)"
before=$(modify_count "$sw")
sleep 2
assert_eq "no change repeated after adopting" "$before" "$(modify_count "$sw")"

# pb has received at least N frames since rx0 was read.
pb_got() { [ $(( $(pb_rx) - rx0 )) -ge "$1" ]; }

note "its traffic goes through the switch and is counted"
rx0=$(pb_rx)
guest vnet0 52:54:00:00:08:0a 20
wait_for 3 pb_got 20 \
    || fail "frames from the adopted tap did not reach pb: $(( $(pb_rx) - rx0 ))"
ctl set root . other_config:stats-update-interval=1000
doc=""
counted() {
    doc=$(python3 "$client" "$sock" get /v1/stats/port/vnet0 | tail -n +2)
    [ "$(echo "$doc" | jq '.rx.packets')" -ge 20 ] 2>/dev/null
}
wait_for 5 counted || fail "stats endpoint: vnet0 rx packets: $doc"
assert_eq "stats: adopted" true "$(echo "$doc" | jq .adopted)"

note "the port's guards apply once its MAC is known (as the hook sets it)"
assert_contains "no MAC: the spoofing guard says why it waits" "no MAC" \
    "$(getv port vnet0 status:guard_mac_spoofing)"
ctl --wait set port vnet0 'mac="52:54:00:00:08:0a"' || fail "set mac"
rx0=$(pb_rx)
guest vnet0 52:54:00:00:08:ff 20
sleep 0.3
assert_eq "spoofed frames dropped" 0 "$(( $(pb_rx) - rx0 ))"
rx0=$(pb_rx)
guest vnet0 52:54:00:00:08:0a 20
wait_for 3 pb_got 20 \
    || fail "the VM's own frames: $(( $(pb_rx) - rx0 )) of 20 arrived"
assert_eq "its maker's tap MAC still kept" fe:54:00:00:08:0a \
    "$(ip -n "$sw" -j link show vnet0 | jq -r '.[0].address')"

note "the tap goes (the VM stopped): the port goes"
ip -n "$sw" link del vnet0
wait_for 5 no_row vnet0 || fail "vnet0's row outlived its tap"

note "a name used again: the new tap gets a row of its own"
libvirt_tap vnet1 || die "vnet1"
wait_for 5 port_up vnet1 || fail "vnet1 not adopted"
old=$(ctl get port vnet1 _uuid)
ip -n "$sw" link del vnet1 && libvirt_tap vnet1 || die "vnet1 again"
fresh() { has_row vnet1 && [ "$(ctl get port vnet1 _uuid)" != "$old" ] \
              && port_up vnet1; }
wait_for 5 fresh || fail "vnet1 made again: not adopted afresh ($old)"

note "deleting an adopted port releases its tap and leaves it to its maker"
ctl --wait del-port vnet1 || fail "del-port vnet1"
assert_eq "the tap still exists" 1 "$(ip -n "$sw" -o link show vnet1 | wc -l)"
assert_eq "out of the bridge" "" "$(master_of "$sw" vnet1)"
assert_eq "untagged" "" "$(alias_of "$sw" vnet1)"
sleep 1
no_row vnet1 || fail "a released tap was adopted again"

note "--adopt: a tap QEMU made, not in any bridge yet"
ip -n "$sw" tuntap add dev tapq0 mode tap || die "tapq0"
ctl --wait add-port s0 tapq0 --adopt || fail "add-port --adopt"
assert_eq "tapq0 in the bridge" s0 "$(master_of "$sw" tapq0)"
assert_eq "tapq0 adopted" true "$(getv port tapq0 adopted)"
ctl --wait --may-exist add-port s0 tapq0 --adopt \
    || fail "--may-exist --adopt of an adopted port"
out=$(ctl add-port s0 nosuchtap --adopt 2>&1) && fail "--adopt of nothing"
assert_contains "--adopt of nothing" "no tap nosuchtap to adopt" "$out"
ip -n "$sw" link add vdum0 type veth peer name vdum1
out=$(ctl add-port s0 vdum0 --adopt 2>&1) && fail "--adopt of a veth"
assert_contains "--adopt of a veth" "not a tap" "$out"
out=$(ctl add-port s0 tapq0x --adopt --queues 2 2>&1) && fail "--adopt --queues"
assert_contains "--adopt --queues" "as it made it" "$out"
ip -n "$sw" link del vdum0
ip -n "$sw" link add otherbr type bridge
ip -n "$sw" tuntap add dev tapo0 mode tap
ip -n "$sw" link set tapo0 master otherbr
out=$(ctl --wait add-port s0 tapo0 --adopt 2>&1) \
    && fail "add-port --adopt of a tap in another bridge succeeded"
assert_contains "a tap in another program's bridge is not taken, and said" \
    "which is not switch s0's bridge" "$out"
assert_eq "tapo0 left in its bridge" otherbr "$(master_of "$sw" tapo0)"
ctl --wait del-port tapo0 || fail "del-port tapo0"
assert_eq "tapo0 still in its bridge after del-port" otherbr \
    "$(master_of "$sw" tapo0)"
ip -n "$sw" link del tapo0
ip -n "$sw" link del otherbr

note "a row written straight into the database: adopted, but not a tap"
ctl --wait add-port s0 pv --kind veth --netns "$b" || fail "pv"
pv_if=$(getv port pv status:ifindex)
db_set_adopted() {
    in_ns "$sw" ovsdb-client transact "unix:$T_DIR/$sw/run/db.sock" \
        "[\"VSwitch\",{\"op\":\"update\",\"table\":\"Port\",
          \"where\":[[\"name\",\"==\",\"pv\"]],\"row\":{\"adopted\":$1}}]" \
        >/dev/null || fail "ovsdb-client transact"
}
db_set_adopted true
refused() { [[ $(getv port pv status:error) == *"only a tap can be adopted"* ]]; }
wait_for 5 refused || fail "adopted veth: $(getv port pv status:error)"
assert_eq "pv's device untouched, still in the bridge" s0 \
    "$(ip -n "$sw" -j link show | jq -r ".[] | select(.ifindex == $pv_if) | .master")"
db_set_adopted false
ctl --wait del-port pv || fail "del-port pv"

note "a tap its maker moves to another bridge is let go; one it renames is followed"
ctl --wait add-switch s1 --type private || fail "add-switch s1"
libvirt_tap mv0 0e || die "mv0"
wait_for 5 port_up mv0 || fail "mv0 not adopted"
ip -n "$sw" link add obr type bridge
ip -n "$sw" link set mv0 master obr
wait_for 5 no_row mv0 || fail "mv0 moved to another bridge: its port stays"
sleep 0.5
assert_eq "mv0 not pulled back" obr "$(master_of "$sw" mv0)"
assert_eq "mv0 untagged" "" "$(alias_of "$sw" mv0)"
ip -n "$sw" link set mv0 master s1
in_s1() { [ "$(getv port mv0 switch)" = "$(ctl get switch s1 _uuid)" ]; }
wait_for 5 in_s1 || fail "mv0 moved to vsw switch s1: not adopted there"
assert_eq "mv0 in s1" s1 "$(master_of "$sw" mv0)"
mv_uuid=$(ctl get port mv0 _uuid)
ip -n "$sw" link set mv0 down
ip -n "$sw" link set mv0 name mv9
wait_for 5 port_up mv9 || fail "mv0 renamed mv9: its port did not follow"
assert_eq "the same port, renamed" "$mv_uuid" "$(ctl get port mv9 _uuid)"
no_row mv0 || fail "a port mv0 is left after the rename"
ip -n "$sw" link del mv9
ip -n "$sw" link del obr
ctl --wait del-switch s1

note "a tap vsw made cannot be marked adopted: it is kept, and says why"
ctl --wait add-port s0 mk0 || fail "add-port mk0"
mk0_if=$(ifindex "$sw" mk0)
in_ns "$sw" ovsdb-client transact "unix:$T_DIR/$sw/run/db.sock" \
    '["VSwitch",{"op":"update","table":"Port","where":[["name","==","mk0"]],"row":{"adopted":true}}]' \
    >/dev/null || fail "ovsdb-client transact"
said() { [[ $(getv port mk0 status:error) == *"a device vsw made"* ]]; }
wait_for 5 said || fail "mk0 marked adopted: $(getv port mk0 status:error)"
assert_eq "mk0's tap kept" "$mk0_if" "$(ifindex "$sw" mk0)"
ctl --wait del-port mk0

note "adopt-taps=false leaves a foreign tap alone"
ctl --wait set switch s0 other_config:adopt-taps=false || fail "adopt-taps"
libvirt_tap vnet5 0c || die "vnet5"
sleep 1
no_row vnet5 || fail "vnet5 adopted although the switch says not to"
assert_eq "vnet5 left in the bridge" s0 "$(master_of "$sw" vnet5)"
ip -n "$sw" link del vnet5
ctl --wait remove switch s0 other_config adopt-taps || fail "adopt-taps back"

note "kill -9: a tap gone meanwhile loses its row, one that came is adopted"
pid=$(vswitchd_pid "$sw")
kill -9 "$pid"
wait_gone "$pid"
ip -n "$sw" link del tapq0
libvirt_tap vnet6 0d || die "vnet6"
start_vswitchd "$sw"
wait_for 5 no_row tapq0 || fail "tapq0's row outlived its tap across a restart"
wait_for 5 port_up vnet6 || fail "vnet6 not adopted at start"
before=$(modify_count "$sw")
sleep 2
assert_eq "settled after the restart" "$before" "$(modify_count "$sw")"
assert_contains "the log says what was adopted" "adopting tap vnet6" \
    "$(cat "$T_DIR/$sw/state/vswitchd.log")"

exit $T_FAILED
