#!/bin/bash
# Switch lifecycle on the real kernel: each switch type becomes the right
# kernel objects (a tagged bridge; the uplink enslaved; a tagged host vNIC
# veth), status is written back, and deleting a switch removes only what
# vsw created and releases the uplink unharmed.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }

ns=$(new_netns sw)
# Stand-in for a physical NIC: a veth whose other end is elsewhere.
ip -n "$ns" link add u0 type veth peer name u0-peer || die "veth"
ip -n "$ns" link set u0 mtu 1400
ip -n "$ns" addr add 192.0.2.10/24 dev u0
start_vswitchd "$ns"

note "external switch"
vswctl_in "$ns" --wait add-switch ext0 --uplink u0 || fail "add-switch ext0"
assert_eq "ext0 kind" bridge "$(kind_of "$ns" ext0)"
assert_contains "ext0 tag" "vsw:" "$(alias_of "$ns" ext0)"
assert_eq "u0 master" ext0 "$(master_of "$ns" u0)"
assert_eq "host port kind" veth "$(kind_of "$ns" vh-ext0)"
host_peer=$(ip -n "$ns" -o link show master ext0 | awk -F': ' '{print $2}' \
            | sed 's/@.*//' | grep '^vsp')
assert_ne "host port's bridge end" "" "$host_peer"
uuid=$(vswctl_in "$ns" --bare --columns=_uuid find switch name=ext0)
assert_eq "bridge tag" "vsw:$uuid" "$(alias_of "$ns" ext0)"
assert_eq "status state" up \
    "$(vswctl_in "$ns" get switch ext0 status:state | tr -d '"')"
assert_eq "status bridge_ifindex" "$(ifindex "$ns" ext0)" \
    "$(vswctl_in "$ns" get switch ext0 status:bridge_ifindex | tr -d '"')"

note "external switch without management OS: no host port"
ip -n "$ns" link add u1 type veth peer name u1-peer
vswctl_in "$ns" --wait add-switch ext1 --uplink u1 --no-management-os \
    || fail "add-switch ext1"
assert_eq "u1 master" ext1 "$(master_of "$ns" u1)"
assert_eq "ext1 ports" "u1" \
    "$(ip -n "$ns" -o link show master ext1 | awk -F': ' '{print $2}' \
       | sed 's/@.*//')"

note "internal switch"
vswctl_in "$ns" --wait add-switch int0 || fail "add-switch int0"
assert_eq "int0 kind" bridge "$(kind_of "$ns" int0)"
assert_eq "vh-int0 kind" veth "$(kind_of "$ns" vh-int0)"
assert_contains "vh-int0 up" "UP" "$(ip -n "$ns" -o link show vh-int0)"
vswctl_in "$ns" --wait add-switch int1 --host-port hostnic1 \
    || fail "add-switch int1 --host-port"
assert_eq "named host port" veth "$(kind_of "$ns" hostnic1)"

note "private switch"
vswctl_in "$ns" --wait add-switch priv0 --type private || fail "priv0"
assert_eq "priv0 kind" bridge "$(kind_of "$ns" priv0)"
assert_eq "priv0 has no ports" "" \
    "$(ip -n "$ns" -o link show master priv0)"

note "list and show, table and JSON"
out=$(vswctl_in "$ns" list-switches)
for s in ext0 ext1 int0 int1 priv0; do
    assert_contains "list-switches" "$s" "$out"
done
json=$(vswctl_in "$ns" --format=json list-switches)
assert_eq "JSON rows" 5 "$(echo "$json" | jq 'length')"
assert_eq "JSON ext0 uplink" u0 \
    "$(echo "$json" | jq -r '.[] | select(.name=="ext0") | .uplink')"
assert_contains "show" 'Switch "ext0"' "$(vswctl_in "$ns" show)"

note "type change: internal -> private drops the host port"
vswctl_in "$ns" --wait set switch int0 type=private || fail "set type"
assert_eq "vh-int0 gone" "" "$(ifindex "$ns" vh-int0)"
assert_ne "int0 bridge kept" "" "$(ifindex "$ns" int0)"

note "rename"
br_index=$(ifindex "$ns" priv0)
vswctl_in "$ns" --wait set switch priv0 name=priv9 || fail "rename"
assert_eq "renamed bridge keeps its ifindex" "$br_index" \
    "$(ifindex "$ns" priv9)"

note "delete: only vsw's objects go, the uplink is released unharmed"
# Another switch's port is not touched by the deletion (the same device).
vswctl_in "$ns" --wait add-port priv9 keep0 || fail "add-port keep0"
keep_index=$(ifindex "$ns" keep0)
u0_index=$(ifindex "$ns" u0)
vswctl_in "$ns" --wait del-switch ext0 || fail "del-switch ext0"
assert_eq "ext0 bridge gone" "" "$(ifindex "$ns" ext0)"
assert_eq "host port gone" "" "$(ifindex "$ns" vh-ext0)"
assert_eq "u0 still there" "$u0_index" "$(ifindex "$ns" u0)"
assert_eq "u0 released" "" "$(master_of "$ns" u0)"
assert_contains "u0 still up" "UP" "$(ip -n "$ns" -o link show u0)"
assert_contains "u0 MTU unchanged" "mtu 1400" "$(ip -n "$ns" -o link show u0)"
assert_contains "u0 address kept" "192.0.2.10/24" \
    "$(ip -n "$ns" -o addr show dev u0)"
vswctl_in "$ns" --wait del-switch ext1 || fail "del-switch ext1"
assert_eq "u1 released" "" "$(master_of "$ns" u1)"
assert_eq "another switch's port kept (same device)" "$keep_index" \
    "$(ifindex "$ns" keep0)"
vswctl_in "$ns" --wait del-port keep0 || fail "del-port keep0"
assert_eq "keep0 deleted with its row" "" "$(ifindex "$ns" keep0)"

note "del-switch of a missing switch"
expect_error 1 'no switch named "nope"' vswctl_in "$ns" del-switch nope
vswctl_in "$ns" del-switch --if-exists nope || fail "--if-exists"

note "uplink hot-plug: bound when it appears"
# --wait reports what vswitchd found wrong, and exits 1.
expect_error 1 'switch "priv9": uplink late0: no such network device' \
    vswctl_in "$ns" --wait set switch priv9 type=external uplink=late0
assert_contains "missing uplink in status" "late0: no such network device" \
    "$(vswctl_in "$ns" get switch priv9 status:error)"
ip -n "$ns" link add late0 type veth peer name late0-peer
for i in $(seq 50); do
    [ "$(master_of "$ns" late0)" = priv9 ] && break
    sleep 0.1
done
assert_eq "late uplink bound" priv9 "$(master_of "$ns" late0)"
