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
