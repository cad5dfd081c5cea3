#!/bin/bash
# vswctl --format=json for programs: vsw's own listings (list-switches,
# show, list-ports, offload show, flows, acl-list, stats) print a list of
# objects with typed values (numbers, booleans, null for what is absent),
# each checked against its definition in schema/vswctl.schema.json; the
# generic database commands keep Open vSwitch's {"headings", "data"} shape.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v jq >/dev/null || skip "jq is not installed"
python3 -c 'import jsonschema' 2>/dev/null \
    || skip "python3-jsonschema is not installed"
schema="$(dirname "$0")/../../schema/vswctl.schema.json"

sw=$(new_netns sw)
b=$(new_netns b)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
ip -n "$sw" link add u0 type veth peer name u0-peer
ctl --wait add-switch s0 --type private || die "add-switch s0"
ctl --wait add-switch ext0 --uplink u0 || die "add-switch ext0"
ctl --wait add-port s0 p1 --mac 52:54:00:00:0a:01 \
    -- set port p1 external_ids:vm-id=vm-one || die "add-port p1"
ctl --wait add-port s0 pb --kind veth --netns "$b" || die "add-port pb"
ctl --wait acl-add p1 deny inbound remote=10.0.0.0/8 >/dev/null \
    || die "acl-add"

# valid COMMAND...: the command's --format=json output fits its
# definition; prints the output.
valid() {
    local def=$1 out problem
    out=$(ctl --format=json "$@") || { fail "vswctl --format=json $*"; return; }
    problem=$(echo "$out" | python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
schema = dict(schema, **{"$ref": "#/definitions/" + sys.argv[2]})
try:
    jsonschema.validate(json.load(sys.stdin), schema)
except jsonschema.ValidationError as e:
    print("%s at %s" % (e.message, "/".join(str(p) for p in e.path)))
    sys.exit(1)' "$schema" "$def") \
        || fail "vswctl --format=json $* does not fit #/definitions/$def: $problem"
    echo "$out"
}

note "each listing fits its schema"
out=$(valid list-switches)
assert_eq "iov is a boolean" false "$(echo "$out" | jq '.[] | select(.name == "s0") | .iov')"
assert_eq "no uplink is null" null "$(echo "$out" | jq '.[] | select(.name == "s0") | .uplink')"
out=$(valid show)
assert_eq "bridge_ifindex is a number" number \
    "$(echo "$out" | jq -r '.[0].bridge_ifindex | type')"
out=$(valid list-ports)
p1=$(echo "$out" | jq '.[] | select(.port == "p1")')
assert_eq "ifindex + 1 (the issue's check)" $(( $(ifindex "$sw" p1) + 1 )) \
    "$(ctl --format=json list-ports | jq '.[] | select(.port == "p1") | .ifindex + 1')"
assert_eq "vm-id as vm_id" vm-one "$(echo "$p1" | jq -r .vm_id)"
assert_eq "no error is null" null "$(echo "$p1" | jq .error)"
out=$(valid offload show ext0)
assert_eq "an offload row per feature" true \
    "$(echo "$out" | jq 'length > 3')"
out=$(valid acl-list)
acl=$(echo "$out" | jq '.[0]')
assert_eq "stateful is a boolean" false "$(echo "$acl" | jq .stateful)"
assert_eq "packets is a number" number "$(echo "$acl" | jq -r '.packets | type')"
valid flows >/dev/null
ctl set root . other_config:stats-update-interval=1000
sleep 1.2
out=$(valid stats)
assert_eq "rx_packets is a number" number \
    "$(echo "$out" | jq -r '.[] | select(.port == "p1") | .rx_packets | type')"

note "the generic commands keep Open vSwitch's shape"
out=$(ctl --format=json list switch)
assert_eq "headings and data" '["data","headings"]' "$(echo "$out" | jq -c 'keys')"

note "a name with quotes and control characters stays a JSON string"
ctl --wait set port p1 'external_ids:vm-id="a\"b\u0001c"' || fail "odd vm-id"
assert_eq "read back" 'a"b'$'\x01''c' \
    "$(ctl --format=json list-ports | jq -r '.[] | select(.port == "p1") | .vm_id')"

exit $T_FAILED
