#!/bin/bash
# The embedded database is upgraded in place: a conf.db made with an older
# schema is converted on start (ovsdb-tool convert) without losing rows, a
# backup of the old file is kept, and a database newer than vswitchd is
# refused rather than converted down.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v jq >/dev/null || skip "jq is not installed"

ns=$(new_netns sw)
state="$T_DIR/$ns/state"
mkdir -p "$state" "$T_DIR/$ns/run"
schema="$(dirname "$0")/../../schema/vswitch.ovsschema"
# Before 1.3.0 switches listed their ports (and the root its switches).
lists='del(.tables.Port.columns.switch) | del(.tables.Port.isRoot)
  | del(.tables.Switch.isRoot)
  | .tables.Switch.columns.ports = {"type": {"key": {"type": "uuid",
      "refTable": "Port"}, "min": 0, "max": "unlimited"}}
  | .tables.Root.columns.switches = {"type": {"key": {"type": "uuid",
      "refTable": "Switch"}, "min": 0, "max": "unlimited"}}'

note "an older schema: version 0.9.0, without Switch.host_port"
jq "$lists"' | .version = "0.9.0" | del(.tables.Switch.columns.host_port)' \
    "$schema" > "$T_DIR/old.ovsschema"
ovsdb-tool create "$state/conf.db" "$T_DIR/old.ovsschema" \
    || die "ovsdb-tool create"
ovsdb-tool transact "$state/conf.db" '["VSwitch",
  {"op":"insert","table":"Switch","uuid-name":"s",
   "row":{"name":"old0","type":"private","host":""}},
  {"op":"insert","table":"Root",
   "row":{"switches":["set",[["named-uuid","s"]]],
          "external_ids":["map",[["keep","me"]]]}}]' >/dev/null \
    || die "ovsdb-tool transact"

start_vswitchd "$ns"
assert_eq "converted version" "$(ovsdb-tool schema-version "$schema")" \
    "$(ovsdb-tool db-version "$state/conf.db")"
[ -f "$state/conf.db.backup-0.9.0" ] || fail "no backup of the old database"
assert_contains "switch row kept" old0 "$(vswctl_in "$ns" list-switches)"
assert_eq "root row kept" me \
    "$(vswctl_in "$ns" get root . external_ids:keep)"
vswctl_in "$ns" --wait set root . other_config:x=1 || fail "--wait"
assert_eq "bridge for the old row" bridge "$(kind_of "$ns" old0)"
vswctl_in "$ns" set switch old0 host_port=hp0 || fail "set new column"
assert_eq "new column usable" hp0 \
    "$(vswctl_in "$ns" get switch old0 host_port)"

note "a newer database is refused"
stop_vswitchd "$ns"
jq '.version = "9.0.0" | .tables.Switch.columns.future =
    {"type": "string"}' "$schema" > "$T_DIR/new.ovsschema"
ovsdb-tool convert "$state/conf.db" "$T_DIR/new.ovsschema" \
    || die "ovsdb-tool convert up"
out=$(in_ns "$ns" vswitchd --pidfile -vconsole:off 2>&1); rc=$?
assert_eq "vswitchd exit code on a newer database" 1 "$rc"
assert_contains "refusal" "newer than this vswitchd's" "$out"
assert_eq "database left at its version" 9.0.0 \
    "$(ovsdb-tool db-version "$state/conf.db")"

note "1.1.0 to 1.2.0: ports get their switch's host; duplicates kept, marked"
rm -f "$state"/conf.db*
jq "$lists"' | .version = "1.1.0" | del(.tables.Port.columns.host)
    | del(.tables.Port.indexes) | del(.tables.Root.columns.status)' \
    "$schema" > "$T_DIR/v110.ovsschema"
ovsdb-tool create "$state/conf.db" "$T_DIR/v110.ovsschema" \
    || die "ovsdb-tool create 1.1.0"
ovsdb-tool transact "$state/conf.db" '["VSwitch",
  {"op":"insert","table":"Port","uuid-name":"p1",
   "row":{"name":"vnet0","kind":"tap","queues":1}},
  {"op":"insert","table":"Port","uuid-name":"p2",
   "row":{"name":"vnet0","kind":"tap","queues":1}},
  {"op":"insert","table":"Port","uuid-name":"p3",
   "row":{"name":"vnet0","kind":"tap","queues":1}},
  {"op":"insert","table":"Switch","uuid-name":"s1",
   "row":{"name":"mine","type":"private","host":"",
          "ports":["set",[["named-uuid","p1"],["named-uuid","p2"]]]}},
  {"op":"insert","table":"Switch","uuid-name":"s2",
   "row":{"name":"theirs","type":"private","host":"other",
          "ports":["set",[["named-uuid","p3"]]]}},
  {"op":"insert","table":"Root",
   "row":{"switches":["set",[["named-uuid","s1"],["named-uuid","s2"]]]}}]' \
    >/dev/null || die "ovsdb-tool transact 1.1.0"
start_vswitchd "$ns"
assert_eq "converted to the current version" \
    "$(ovsdb-tool schema-version "$schema")" \
    "$(ovsdb-tool db-version "$state/conf.db")"
[ -f "$state/conf.db.backup-1.1.0" ] || fail "no backup of the 1.1.0 database"
hosts=$(in_ns "$ns" ovsdb-client -f json dump "unix:$T_DIR/$ns/run/db.sock" \
        Port host name | jq -r '.data[] | .[0]' | sort | tr '\n' ' ')
case "$hosts" in
    " !duplicate-"*" other ") ;;
    *) fail "ports' hosts after conversion: '$hosts'" ;;
esac
assert_eq "three port rows kept" 3 \
    "$(in_ns "$ns" ovsdb-client -f json dump "unix:$T_DIR/$ns/run/db.sock" \
       Port _uuid name | jq '.data | length')"
vswctl_in "$ns" --wait set root . other_config:x=1 || fail "--wait"
errors=$(vswctl_in "$ns" --format=json --columns=status list port \
         | grep -o 'belongs to host[^"]*' | head -1)
assert_contains "the marked duplicate says why it is not applied" \
    "belongs to host" "$errors"
assert_eq "the first vnet0 is applied" tun "$(kind_of "$ns" vnet0)"

note "an upgrade interrupted after its first step is finished by the next start"
stop_vswitchd "$ns"
cp "$state/conf.db.backup-1.1.0" "$state/conf.db"
jq "$lists"' | .version = "1.1.99" | del(.tables.Port.indexes)
    | .tables.Port.columns.switch = {"type": {"key": {"type": "uuid",
        "refTable": "Switch"}, "min": 0, "max": 1}}' "$schema" \
    > "$T_DIR/step.ovsschema"
ovsdb-tool convert "$state/conf.db" "$T_DIR/step.ovsschema" || die "step"
start_vswitchd "$ns"
assert_eq "converted" "$(ovsdb-tool schema-version "$schema")" \
    "$(ovsdb-tool db-version "$state/conf.db")"
assert_eq "three port rows kept" 3 \
    "$(in_ns "$ns" ovsdb-client -f json dump "unix:$T_DIR/$ns/run/db.sock" \
       Port _uuid name | jq '.data | length')"
[ -f "$state/conf.db.backup-1.1.99" ] || fail "no backup of the step"
[ -f "$state/conf.db.backup-1.1.0" ] || fail "the first backup was lost"

note "1.2.0 to 1.3.0: each port names the switch that listed it"
stop_vswitchd "$ns"
rm -f "$state"/conf.db*
jq "$lists"' | .version = "1.2.0"' "$schema" > "$T_DIR/v120.ovsschema"
ovsdb-tool create "$state/conf.db" "$T_DIR/v120.ovsschema" \
    || die "ovsdb-tool create 1.2.0"
ovsdb-tool transact "$state/conf.db" '["VSwitch",
  {"op":"insert","table":"Port","uuid-name":"p1",
   "row":{"name":"a1","kind":"tap","queues":1,"host":""}},
  {"op":"insert","table":"Port","uuid-name":"p2",
   "row":{"name":"b1","kind":"tap","queues":1,"host":""}},
  {"op":"insert","table":"Port","uuid-name":"p3",
   "row":{"name":"b2","kind":"tap","queues":1,"host":""}},
  {"op":"insert","table":"Switch","uuid-name":"s1",
   "row":{"name":"sa","type":"private","host":"",
          "ports":["set",[["named-uuid","p1"]]]}},
  {"op":"insert","table":"Switch","uuid-name":"s2",
   "row":{"name":"sb","type":"private","host":"",
          "ports":["set",[["named-uuid","p2"],["named-uuid","p3"]]]}},
  {"op":"insert","table":"Root",
   "row":{"switches":["set",[["named-uuid","s1"],["named-uuid","s2"]]]}}]' \
    >/dev/null || die "ovsdb-tool transact 1.2.0"
start_vswitchd "$ns"
assert_eq "converted to the current version" \
    "$(ovsdb-tool schema-version "$schema")" \
    "$(ovsdb-tool db-version "$state/conf.db")"
[ -f "$state/conf.db.backup-1.2.0" ] || fail "no backup of the 1.2.0 database"
vswctl_in "$ns" --wait set root . other_config:x=1 || fail "--wait"
for pair in a1:sa b1:sb b2:sb; do
    assert_eq "${pair%:*}'s switch" \
        "$(vswctl_in "$ns" get switch "${pair#*:}" _uuid)" \
        "$(vswctl_in "$ns" get port "${pair%:*}" switch)"
done
assert_eq "b2 on sb's bridge" sb "$(master_of "$ns" b2)"
vswctl_in "$ns" --wait del-switch sb || fail "del-switch after conversion"
assert_eq "sb's ports gone with it" "" "$(ifindex "$ns" b1)"
