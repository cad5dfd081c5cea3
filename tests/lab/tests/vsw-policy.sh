# Port policy on Debian's 6.1 kernel (nf_tables and the bridge family's
# meta expression as modules, as on a production host): vsw's table, the
# spoof guard with traffic, a stateful ACL (timeout sets), the limits,
# mirroring (netdev ingress and egress hooks, dup) and a restart without a
# modifying request.
. /lab/lib.sh
load bridge veth nf_tables nft_meta_bridge nft_limit nft_dup_netdev
export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
ip netns add a
ip netns add b
vswitchd --detach --pidfile --log-file || die "vswitchd did not start"
vswctl --wait add-switch s0 --type private || die "add-switch"

vswctl --wait add-port s0 pa --kind veth --netns a --mac 02:00:00:00:00:0a \
    || die "add-port pa"
vswctl --wait add-port s0 pb --kind veth --netns b --mac 02:00:00:00:00:0b \
    || die "add-port pb"
assert_eq "policy of pb" enforced "$(vswctl get port pb status:policy)"
assert_eq "policy of pa" enforced "$(vswctl get port pa status:policy)"
ip -n a addr add 10.9.0.1/24 dev pa
ip -n b addr add 10.9.0.2/24 dev pb
ip -n a link set pa up
ip -n b link set pb up
ip netns exec a ping -c 1 -W 2 10.9.0.2 >/dev/null || fail "no traffic"
ip -n a link set pa address 02:00:00:00:00:99
ip -n a neigh flush all
ip -n b neigh flush all
ip netns exec a ping -c 1 -W 1 10.9.0.2 >/dev/null && fail "spoofed MAC passed"
ip -n a link set pa address 02:00:00:00:00:0a

note "grouped ACLs: one map lookup, each entry counted in its own chain"
vswctl --wait acl-add pa allow outbound remote=10.9.0.3/32 \
    -- acl-add pa allow outbound remote=10.9.0.4/32 \
    -- acl-add pa allow outbound remote=10.9.0.5/32 \
    -- acl-add pa allow outbound remote=10.9.0.6/32 >/dev/null \
    || fail "acl-add four allows"
id=$(vswctl --wait acl-add pa deny outbound remote=10.9.0.2/32) \
    || fail "acl-add deny"
pa=$(vswctl get port pa _uuid)
nft list chain bridge vsw "from-$pa" | grep -q "vmap @m-$pa-" \
    || fail "the five /32 entries are not one lookup"
ip netns exec a ping -c 2 -W 1 10.9.0.2 >/dev/null && fail "grouped deny passed"
deny=$(nft list table bridge vsw | sed -n "s/.*chain \(a-$pa-$id[-0-9a-f]*-deny\) .*/\1/p")
packets=$(nft list chain bridge vsw "$deny" 2>/dev/null \
          | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[ "${packets:-0}" -ge 2 ] \
    || fail "the grouped deny's chain ($deny) counted ${packets:-nothing}"
vswctl --wait acl-del pa --all || fail "acl-del --all"
ip netns exec a ping -c 1 -W 2 10.9.0.2 >/dev/null || fail "no traffic after"

note "stateful ACL and rate limit"
vswctl --wait acl-add pa allow outbound protocol=tcp weight=5 stateful=on \
    >/dev/null || fail "stateful ACL"
vswctl --wait set-port pa max-bandwidth=10M storm-limit=100 \
    || fail "limits"
assert_eq "policy with limits" enforced "$(vswctl get port pa status:policy)"
nft list table bridge vsw | grep -c 'set st4-' | grep -qx 1 \
    || fail "no stateful set"

note "mirroring"
ip netns add c
vswctl --wait add-port s0 pc --kind veth --netns c --mac 02:00:00:00:00:0c \
    || fail "add-port pc"
vswctl --wait set-port pc mirror=destination -- set-port pb mirror=source \
    || fail "mirror settings"
assert_eq "source" "source, copies to pc" \
    "$(vswctl get port pb status:mirror | tr -d '"')"
nft list table netdev vsw | grep -q 'hook egress device "pb"' \
    || fail "no egress mirror chain on pb"
ip -n c link set pc up
before=$(ip -n c -s link show pc | awk '/RX:/ {getline; print $2}')
ip netns exec a ping -c 3 -i 0.2 -W 1 10.9.0.2 >/dev/null || fail "ping"
after=$(ip -n c -s link show pc | awk '/RX:/ {getline; print $2}')
[ $((after - before)) -ge 6 ] \
    || fail "the destination got $((after - before)) packets, not >= 6"

note "restart: no modifying request"
vswctl appctl exit
sleep 1
vswitchd --detach --pidfile --log-file || die "vswitchd did not restart"
vswctl --wait list-switches >/dev/null
out=$(vswctl appctl dp/counters)
assert_contains "no modifying request after restart" "modify=0 " "$out"
nft list ruleset | head -40
vswctl appctl exit
finish
