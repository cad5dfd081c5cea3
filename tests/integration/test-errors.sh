#!/bin/bash
# Bad input: every refusal names the object, says what is wrong and what to
# do, exits 1 (2 for usage errors), and leaves the database and the kernel
# exactly as they were.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }

ns=$(new_netns sw)
ip -n "$ns" link add u0 type veth peer name u0-peer
ip -n "$ns" link add u1 type veth peer name u1-peer
ip -n "$ns" link add foreign0 type bridge             # Not ours.
ip -n "$ns" link add u2 type veth peer name u2-peer
ip -n "$ns" link set u2 master foreign0               # Enslaved elsewhere.
ip -n "$ns" link add u3 type veth peer name u3-peer
start_vswitchd "$ns"
vswctl_in "$ns" --wait add-switch ext0 --uplink u0 || die "setup"
vswctl_in "$ns" --wait add-switch sriov0 --uplink u3 --iov --iov-fallback \
    || die "setup"

command -v jq >/dev/null || skip "jq is not installed"
snapshot() { state_snapshot "$ns" "$T_DIR/$1"; }
unchanged() { unchanged_since "$ns" "$T_DIR/before" "$1"; }
snapshot before

note "SR-IOV mode is immutable"
expect_error 1 'switch "ext0": SR-IOV mode is fixed when a switch is created; delete and recreate the switch' \
    vswctl_in "$ns" set switch ext0 iov=true
expect_error 1 'SR-IOV mode is fixed when a switch is created' \
    vswctl_in "$ns" set switch sriov0 iov=false
expect_error 1 'SR-IOV mode is fixed when a switch is created' \
    vswctl_in "$ns" --may-exist add-switch ext0 --uplink u0 --iov
expect_error 1 "SR-IOV needs an external switch" \
    vswctl_in "$ns" add-switch p9 --type private --iov
expect_error 1 "uplink u1 has no SR-IOV capability (no sriov_numvfs" \
    vswctl_in "$ns" add-switch e9 --uplink u1 --iov
assert_contains "SR-IOV not delivered, with the reason" \
    "u3 has no SR-IOV capability" \
    "$(vswctl_in "$ns" get switch sriov0 status:iov_reasons)"
unchanged "iov change"

note "the database itself refuses, whatever the client"
out=$(in_ns "$ns" ovsdb-client transact "unix:$T_DIR/$ns/run/db.sock" \
    '["VSwitch",{"op":"update","table":"Switch",
      "where":[["name","==","ext0"]],"row":{"iov":true}}]' 2>&1)
assert_contains "ovsdb-server refusal" "constraint violation" "$out"
unchanged "raw iov update"

note "uplink problems"
expect_error 1 'switch "ext1": uplink nosuch0: no such network device' \
    vswctl_in "$ns" add-switch ext1 --uplink nosuch0
expect_error 1 'uplink u0 is already the uplink of switch "ext0"' \
    vswctl_in "$ns" add-switch ext1 --uplink u0
expect_error 1 'uplink u2 is already a port of foreign0; release it first' \
    vswctl_in "$ns" add-switch ext1 --uplink u2
expect_error 1 'uplink foreign0 is a bridge' \
    vswctl_in "$ns" add-switch ext1 --uplink foreign0
expect_error 1 'an external switch needs an uplink' \
    vswctl_in "$ns" add-switch ext1 --type external
expect_error 1 '--uplink is for external switches' \
    vswctl_in "$ns" add-switch int1 --type internal --uplink u1
unchanged "uplink errors"

note "names"
expect_error 1 'switch "ext0" already exists' \
    vswctl_in "$ns" add-switch ext0 --uplink u1
expect_error 1 'a network device named foreign0 already exists and vsw did not create it' \
    vswctl_in "$ns" add-switch foreign0 --type private
expect_error 1 'an interface name has at most 15 characters' \
    vswctl_in "$ns" add-switch this-name-is-too-long --type private
expect_error 1 'unknown type "bogus"' \
    vswctl_in "$ns" add-switch x0 --type bogus
unchanged "name errors"

note "one failing command aborts the whole transaction"
expect_error 1 'uplink nosuch0: no such network device' \
    vswctl_in "$ns" add-switch ok0 --type private -- \
    add-switch bad0 --uplink nosuch0
assert_eq "ok0 not created" "" "$(ifindex "$ns" ok0)"
unchanged "chained transaction"

note "usage errors exit 2"
expect_error 2 "unknown command 'frobnicate'" vswctl_in "$ns" frobnicate
expect_error 2 "requires at least 1 arguments" vswctl_in "$ns" add-switch
expect_error 2 "" vswctl_in "$ns" --no-such-option list-switches
unchanged "usage errors"

note "unreachable database"
expect_error 1 "database connection failed" \
    vswctl_in "$ns" --db=unix:"$T_DIR"/nowhere.sock list-switches
# --wait with no vswitchd to wait for is refused before anything is
# committed: on the embedded database, none answers in the run directory;
# on a database given with --db, the host has no Host row.
expect_error 1 "vswitchd is not running" \
    in_ns "$ns" env VSW_RUN_DIR="$T_DIR/empty" vswctl --wait \
    add-switch p1 --type private
expect_error 1 'no vswitchd of host "elsewhere" has ever used this database' \
    vswctl_in "$ns" --wait --db=unix:"$T_DIR/$ns/run/db.sock" \
    --host=elsewhere add-switch p1 --type private
unchanged "unreachable database"

note "a name collision found by vswitchd is reported, the device untouched"
# Bypass vswctl's checks: the daemon must hold the line by itself.
ip -n "$ns" link add clash0 type dummy 2>/dev/null \
    || ip -n "$ns" link add clash0 type bridge
clash_index=$(ifindex "$ns" clash0)
vswctl_in "$ns" --wait create switch name=clash0 type=private >/dev/null 2>&1
err=$(vswctl_in "$ns" get switch clash0 status:error)
assert_contains "daemon-side collision" \
    "a network device named clash0 already exists" "$err"
assert_eq "foreign device untouched" "$clash_index" "$(ifindex "$ns" clash0)"
assert_eq "foreign device not tagged" "" "$(alias_of "$ns" clash0)"
vswctl_in "$ns" --wait del-switch clash0 || fail "del-switch clash0"
assert_eq "foreign device survives del-switch" "$clash_index" \
    "$(ifindex "$ns" clash0)"
