#!/bin/bash
# Several hosts, one database: each vswitchd is pointed at an existing
# ovsdb-server with --db and manages only the switches whose host is its
# --host-id.  Two namespaces stand in for two hosts.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }

h1=$(new_netns h1)
h2=$(new_netns h2)
db="$T_DIR/shared"
mkdir -p "$db"
ovsdb-tool create "$db/conf.db" \
    "$(dirname "$0")/../../schema/vswitch.ovsschema" || die "create db"
T_PIDFILES+=("$db/ovsdb-server.pid")
ovsdb-server "$db/conf.db" --remote="punix:$db/db.sock" \
    --pidfile="$db/ovsdb-server.pid" --unixctl="$db/ovsdb-server.ctl" \
    --detach --no-chdir --log-file="$db/ovsdb-server.log" -vconsole:off \
    || die "ovsdb-server"
remote="unix:$db/db.sock"

start_vswitchd "$h1" --db="$remote" --host-id=h1
start_vswitchd "$h2" --db="$remote" --host-id=h2
[ -e "$T_DIR/$h1/state/conf.db" ] && fail "vswitchd made an embedded db"

ctl() { vswctl --timeout=20 --db="$remote" "$@"; }
ctl --host=h1 add-switch sw1 --type private || fail "add sw1 on h1"
ctl --host=h2 add-switch sw2 --type internal || fail "add sw2 on h2"
# The same name on two hosts is two switches.
ctl --host=h2 add-switch sw1 --type private || fail "add sw1 on h2"

has_link() { [ -n "$(ifindex "$1" "$2")" ]; }
wait_for 5 has_link "$h1" sw1
wait_for 5 has_link "$h2" sw2
wait_for 5 has_link "$h2" sw1
assert_eq "h1 has sw1" bridge "$(kind_of "$h1" sw1)"
assert_eq "h1 lacks sw2" "" "$(ifindex "$h1" sw2)"
assert_eq "h2 has sw2" bridge "$(kind_of "$h2" sw2)"
assert_eq "h2 has its own sw1" bridge "$(kind_of "$h2" sw1)"
assert_eq "h1 lists only its switches" "sw1" \
    "$(ctl --host=h1 --format=json list-switches | jq -r '.[].name')"

ctl --host=h2 del-switch sw1 || fail "del sw1 on h2"
for i in $(seq 50); do
    [ -z "$(ifindex "$h2" sw1)" ] && break
    sleep 0.1
done
assert_eq "sw1 gone from h2" "" "$(ifindex "$h2" sw1)"
assert_eq "sw1 still on h1" bridge "$(kind_of "$h1" sw1)"

note "the shared server restarts: no kernel change while it is away"
m1=$(modify_count "$h1")
dbpid=$(cat "$db/ovsdb-server.pid")
kill "$dbpid"
wait_gone "$dbpid"
sleep 3
assert_eq "h1's switch kept while the database is away" bridge \
    "$(kind_of "$h1" sw1)"
assert_eq "no modifying request while disconnected" "$m1" "$(modify_count "$h1")"
ovsdb-server "$db/conf.db" --remote="punix:$db/db.sock" \
    --pidfile="$db/ovsdb-server.pid" --unixctl="$db/ovsdb-server.ctl" \
    --detach --no-chdir --log-file="$db/ovsdb-server.log" -vconsole:off \
    || die "ovsdb-server again"
# --wait waits for this host's vswitchd: run it as on h1.
out=$(in_ns "$h1" vswctl --timeout=20 --db="$remote" --host=h1 --wait \
      add-port sw1 p1 2>&1) || fail "--wait after the server came back: $out"
assert_eq "h1 reconnected and applies changes" tun "$(kind_of "$h1" p1)"
assert_eq "h1's switch never touched" bridge "$(kind_of "$h1" sw1)"

note "host ids, the heartbeat and the change counters, from any client"
for bad in '../h1' '-h' 'h 1' "$(printf 'h%.0s' $(seq 65))"; do
    expect_error 1 "host id" ctl --host="$bad" add-switch x --type private
    expect_error 2 "host id" vswitchd --db="$remote" --host-id="$bad"
done
assert_eq "no switch made for a bad host id" "" \
    "$(ctl --bare --columns=name find switch name=x)"
expect_error 1 "host-heartbeat must be a number of ms from 500 to 600000" \
    ctl set root . other_config:host-heartbeat=5
# Another client writes it all the same: vswitchd says so in its status.
ovsdb-client transact "$remote" '["VSwitch", {"op": "mutate",
    "table": "Root", "where": [], "mutations": [["other_config", "insert",
    ["map", [["host-heartbeat", "abc"]]]]]}]' >/dev/null || fail "write abc"
beat_noted() {
    ctl --host=h1 get host h1 status:host_heartbeat 2>/dev/null \
        | grep -q '"abc\\" is not used.*10000 ms are'
}
wait_for 5 beat_noted || fail "h1 does not say its heartbeat setting is unused: $(ctl get host h1 status)"
ctl remove root . other_config host-heartbeat || fail "remove the heartbeat"
beat_gone() { ! beat_noted; }
wait_for 5 beat_gone || fail "h1's status still has the heartbeat"
# A change counter vswctl's counting cannot have made.
top=9223372036854775807
ovsdb-client transact "$remote" "[\"VSwitch\", {\"op\": \"update\",
    \"table\": \"Host\", \"where\": [[\"name\", \"==\", \"h1\"]],
    \"row\": {\"next_cfg\": $top}}]" >/dev/null || fail "write next_cfg"
next_cfg_is() { [ "$(ctl get host h1 next_cfg)" = "$1" ]; }
wait_for 5 next_cfg_is 0 \
    || fail "h1 did not set its next_cfg back: $(ctl get host h1 next_cfg)"
in_ns "$h1" vswctl --timeout=20 --db="$remote" --host=h1 --wait \
    add-port sw1 p2 || fail "--wait after next_cfg was set back"
assert_eq "p2 live" tun "$(kind_of "$h1" p2)"
# A cur_cfg far ahead is no news of a change.
ovsdb-client transact "$remote" "[\"VSwitch\", {\"op\": \"update\",
    \"table\": \"Host\", \"where\": [[\"name\", \"==\", \"h1\"]],
    \"row\": {\"cur_cfg\": 1000}}]" >/dev/null || fail "write cur_cfg"
in_ns "$h1" vswctl --timeout=20 --db="$remote" --host=h1 --wait \
    add-port sw1 p3 || fail "--wait with cur_cfg far ahead"
assert_eq "p3 live when --wait returns, cur_cfg far ahead" tun \
    "$(kind_of "$h1" p3)"

note "one host id, two vswitchds: the second stands by until the first is gone"
h1b=$(new_netns h1b)
inst() { ctl --host=h1 get host h1 status:instance 2>/dev/null | tr -d '"'; }
first=$(inst)
[ -n "$first" ] || fail "h1's Host row names no instance"
start_vswitchd "$h1b" --db="$remote" --host-id=h1
wait_for 5 grep -q 'is another running vswitchd' "$T_DIR/$h1b/state/vswitchd.log" \
    || fail "the second vswitchd of h1 does not say it stands by"
mb=$(modify_count "$h1b")
ctl --host=h1 add-port sw1 p4 || fail "add p4"
wait_for 5 has_link "$h1" p4 || fail "p4 not made by the first"
sleep 1
assert_eq "the standby made no switch" "" "$(ifindex "$h1b" sw1)"
assert_eq "the standby made no kernel change" "$mb" "$(modify_count "$h1b")"
assert_eq "the row is still the first's" "$first" "$(inst)"
kill -KILL "$(vswitchd_pid "$h1")"
wait_for 5 has_link "$h1b" sw1 \
    || fail "the standby did not take over at once after kill -9"
assert_eq "the row is the second's" "$(cat "$T_DIR/$h1b/run/vswitchd.pid")" \
    "$(inst | cut -d/ -f4)"
in_ns "$h1b" vswctl --timeout=20 --db="$remote" --host=h1 --wait \
    add-port sw1 p5 || fail "--wait on h1 after the takeover"
assert_eq "p5 live on the second" tun "$(kind_of "$h1b" p5)"
start_vswitchd "$h1" --db="$remote" --host-id=h1
wait_for 5 grep -q 'is another running vswitchd' "$T_DIR/$h1/state/vswitchd.log" \
    || fail "the first, restarted, does not stand by"
sleep 1
assert_eq "the row stays the second's" "$(cat "$T_DIR/$h1b/run/vswitchd.pid")" \
    "$(inst | cut -d/ -f4)"
assert_eq "the restarted first made no p5" "" "$(ifindex "$h1" p5)"
second=$(cat "$T_DIR/$h1b/run/vswitchd.pid")
kill -TERM "$second"            # As systemd stops it: a clean exit.
wait_gone "$second"
grep -q 'stopping on a signal' "$T_DIR/$h1b/state/vswitchd.log" \
    || fail "SIGTERM did not end the second through its main loop"
row_is_first() { [ "$(inst | cut -d/ -f4)" = "$(vswitchd_pid "$h1")" ]; }
wait_for 2 row_is_first \
    || fail "the row is not the first's after the second's clean exit: $(inst)"
wait_for 5 has_link "$h1" p5 \
    || fail "the first did not take over at once after the second's clean exit"
grep -q 'was given up by its vswitchd (a clean exit)' \
    "$T_DIR/$h1/state/vswitchd.log" \
    || fail "the first took over, but not because the second gave the row up"
