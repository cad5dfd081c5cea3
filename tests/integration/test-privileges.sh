#!/bin/bash
# Least privilege: once started, vswitchd (and the ovsdb-server it starts)
# keeps CAP_NET_ADMIN alone, and still does its whole job; an unprivileged
# user cannot reach the database or the control socket, unless vswitchd was
# given --db-group and the user is in that group; nobody opens a root tap.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
[ -x /usr/bin/python3 ] || skip "python3 is not installed"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
id nobody >/dev/null 2>&1 || skip "no user nobody"

ns=$(new_netns pv)
ip -n "$ns" link add u0 type veth peer name u0-peer
start_vswitchd "$ns"
pid=$(vswitchd_pid "$ns")
caps() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

note "capabilities: CAP_NET_ADMIN (bit 12) alone"
assert_eq "vswitchd effective" 0000000000001000 "$(caps "$pid" CapEff)"
assert_eq "vswitchd permitted" 0000000000001000 "$(caps "$pid" CapPrm)"
assert_eq "vswitchd bounding" 0000000000001000 "$(caps "$pid" CapBnd)"

note "...and still the whole job: switches, taps with an owner, veths, offloads"
vswctl_in "$ns" --wait add-switch ext0 --uplink u0 || fail "external switch"
vswctl_in "$ns" --wait add-port ext0 vm0 --owner nobody || fail "tap"
assert_eq "tap owner" 65534 \
    "$(ip netns exec "$ns" cat /sys/class/net/vm0/owner)"
ip netns add "$T_PREFIX-peer"
vswctl_in "$ns" --wait add-port ext0 c0 --kind veth --netns "$T_PREFIX-peer" \
    || fail "veth into a namespace"
assert_eq "veth peer moved" c0 \
    "$(ip -n "$T_PREFIX-peer" -o link show c0 | awk -F': ' '{print $2}' | cut -d@ -f1)"
vswctl_in "$ns" --wait offload set ext0 tso=off || fail "offload set"
assert_eq "tso off" off "$(vswctl_in "$ns" get switch ext0 offload_effective:tso)"

note "the embedded ovsdb-server, restarted by vswitchd, has no more"
db=$(cat "$T_DIR/$ns/run/ovsdb-server.pid")
kill -9 "$db"
wait_gone "$db"
restarted() { [ -s "$T_DIR/$ns/run/ovsdb-server.pid" ] \
              && [ "$(cat "$T_DIR/$ns/run/ovsdb-server.pid")" != "$db" ] \
              && vswctl_in "$ns" list-switches >/dev/null 2>&1; }
wait_for 10 restarted || fail "ovsdb-server not restarted"
db=$(cat "$T_DIR/$ns/run/ovsdb-server.pid")
assert_eq "restarted ovsdb-server bounding set" 0000000000001000 \
    "$(caps "$db" CapBnd)"

note "an unprivileged user: no database, no control socket, no root tap"
chmod 755 "$T_DIR" "$T_DIR/$ns"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
out=$(as_nobody env VSW_STATE_DIR="$T_DIR/$ns/state" \
      VSW_RUN_DIR="$T_DIR/$ns/run" "$VSW_BIN/vswctl" --timeout=5 show 2>&1)
assert_ne "vswctl show as nobody" 0 "$?"
assert_contains "why" "Permission denied" "$out"
out=$(as_nobody env VSW_STATE_DIR="$T_DIR/$ns/state" \
      VSW_RUN_DIR="$T_DIR/$ns/run" "$VSW_BIN/vswctl" --timeout=5 \
      appctl dp/counters 2>&1)
assert_ne "appctl as nobody" 0 "$?"
vswctl_in "$ns" --wait add-port ext0 rootonly0 || fail "root tap"
out=$(open_tap "$ns" rootonly0 0 nobody)
if [ "$(stat -c %a /dev/net/tun)" = 666 ]; then
    assert_contains "nobody cannot open root's tap" "Operation not permitted" \
        "$out"
    assert_eq "nobody opens the tap it owns" ok "$(open_tap "$ns" vm0 0 nobody)"
else
    # This host keeps /dev/net/tun from other users altogether.
    assert_contains "nobody cannot open root's tap" "Permission denied" "$out"
fi

note "--db-group: the group's members may use vswctl"
stop_vswitchd "$ns"
start_vswitchd "$ns" --db-group=nogroup
assert_eq "db.sock group" "770 nogroup" \
    "$(stat -c '%a %G' "$T_DIR/$ns/run/db.sock")"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env \
      VSW_STATE_DIR="$T_DIR/$ns/state" VSW_RUN_DIR="$T_DIR/$ns/run" \
      "$VSW_BIN/vswctl" --timeout=5 --wait set port vm0 \
      external_ids:vm-id=vm0 2>&1) || fail "vswctl --wait as a group member: $out"
assert_eq "written by the group member" vm0 \
    "$(vswctl_in "$ns" get port vm0 external_ids:vm-id)"
db=$(cat "$T_DIR/$ns/run/ovsdb-server.pid")
kill -9 "$db"
wait_gone "$db"
member_lists() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups env \
        VSW_STATE_DIR="$T_DIR/$ns/state" VSW_RUN_DIR="$T_DIR/$ns/run" \
        "$VSW_BIN/vswctl" --timeout=5 list-switches >/dev/null 2>&1
}
restarted() { [ "$(cat "$T_DIR/$ns/run/ovsdb-server.pid" 2>/dev/null)" != "$db" ]; }
wait_for 10 restarted || fail "ovsdb-server not restarted"
wait_for 10 member_lists \
    || fail "a group member cannot use vswctl after a server restart: $(stat -c '%a %G' "$T_DIR/$ns/run/db.sock")"
