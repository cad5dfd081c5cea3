#!/bin/bash
# Port policy with real traffic between two "VMs" (namespaces behind veth
# ports of a private switch): the MAC-spoofing, DHCP and router guards,
# ACLs (longest prefix, weight order, stateful return traffic, counters),
# bad input from vswctl and from another database client, rebuild after
# "nft flush ruleset", a foreign table left alone, the table saved and
# restored with nft, zero modifying requests on restart, mirroring seen
# with tcpdump, and a rate limit measured with iperf3.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
for t in nft iperf3 python3 tcpdump jq; do
    command -v $t >/dev/null || skip "$t is not installed"
done

sw=$(new_netns sw)
a=$(new_netns a)
b=$(new_netns b)
c=$(new_netns c)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
# ACL counters reach the database each second.
ctl set root . other_config:stats-update-interval=1000 || die "interval"
ctl --wait add-switch s0 --type private || die "add-switch"
ctl --wait add-port s0 pa --kind veth --netns "$a" --mac 02:00:00:00:00:0a \
    || die "add-port pa"
ctl --wait add-port s0 pb --kind veth --netns "$b" --mac 02:00:00:00:00:0b \
    || die "add-port pb"
for ns in "$a" "$b"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
done
ip -n "$a" addr add 10.9.0.1/24 dev pa
ip -n "$b" addr add 10.9.0.2/24 dev pb
ip -n "$b" addr add 10.9.0.3/24 dev pb
ip -n "$a" link set pa up
ip -n "$b" link set pb up
pa=$(ctl get port pa _uuid)

# acl_packets ID: the packets column of acl-list for ACL ID.
acl_packets() {
    ctl --format=json acl-list pa \
        | jq -r --arg id "$1" '.[] | select(.id == $id) | .packets'
}
reaches() { ip netns exec "$a" ping -c 1 -W 1 "$1" >/dev/null 2>&1; }
flush_neigh() { ip -n "$a" neigh flush all; ip -n "$b" neigh flush all; }
# counter CHAIN COMMENT-PREFIX: packets of the rule of vsw's table.
counter() {
    ip netns exec "$sw" nft list chain bridge vsw "$1" \
        | grep -F "comment \"$2" \
        | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' \
        | head -1
}

wait_for 10 reaches 10.9.0.2 || die "no traffic between the ports"
assert_eq "policy of pa" enforced "$(ctl get port pa status:policy)"
assert_eq "guards of pa" mac-spoofing "$(ctl get port pa status:guards)"

# spoof_drops DEV: the frames the MAC spoofing guard dropped from DEV
# (its element of set mac-spoofing-drops; 0 if none).
spoof_drops() {
    ip netns exec "$sw" nft list set bridge vsw mac-spoofing-drops \
        | grep -o "\"$1\" counter packets [0-9]*" | grep -o '[0-9]*$' \
        | grep . || echo 0
}
note "MAC spoofing guard (on by default): a spoofed source is dropped"
ip -n "$a" link set pa address 02:00:00:00:00:99
flush_neigh
reaches 10.9.0.2 && fail "a spoofed source MAC got through"
n=$(counter guard-mac "guard mac-spoofing source")
[ "${n:-0}" -gt 0 ] || fail "the spoof guard's counter did not move ($n)"
n=$(spoof_drops pa)
[ "$n" -gt 0 ] || fail "pa's count of spoofed frames did not move ($n)"
assert_eq "pb's count of spoofed frames" 0 "$(spoof_drops pb)"
nft_rules_of_pa=$(ip netns exec "$sw" nft list chain bridge vsw "from-$pa" \
                  2>&1)
assert_contains "guarded, and nothing else: no chain of its own" \
    "No such file or directory" "$nft_rules_of_pa"
ctl --wait set-port pa mac-spoofing=on || fail "set-port mac-spoofing=on"
wait_for 5 reaches 10.9.0.2 || fail "spoofing allowed, still dropped"
ctl --wait set-port pa mac-spoofing=off || fail "set-port mac-spoofing=off"
ip -n "$a" link set pa address 02:00:00:00:00:0a
flush_neigh
wait_for 5 reaches 10.9.0.2 || fail "the port's own MAC is dropped"

note "ARP with another sender MAC is dropped"
before=$(spoof_drops pa)
ip netns exec "$a" python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("pa", 0))
own = bytes.fromhex("02000000000a"); other = bytes.fromhex("020000000077")
arp = (bytes.fromhex("0001080006040001") + other + bytes([10, 9, 0, 1])
       + bytes(6) + bytes([10, 9, 0, 2]))
s.send(b"\xff" * 6 + own + b"\x08\x06" + arp)
EOF
n=$(counter guard-mac "guard mac-spoofing arp")
assert_eq "ARP spoof counter" 1 "$n"
assert_eq "counted as pa's" 1 "$(( $(spoof_drops pa) - before ))"

# send_udp NS SPORT DPORT DEST: one datagram from SPORT.
send_udp() {
    ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.sendto(b"offer", (sys.argv[3], int(sys.argv[2])))' "$2" "$3" "$4"
}
# got_udp NS PORT CMD...: whether NS receives a datagram on PORT while CMD
# runs.
got_udp() {
    local ns=$1 port=$2; shift 2
    ip netns exec "$ns" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(2)
try:
    s.recv(100); print("got")
except socket.timeout:
    print("none")' "$port" > "$T_DIR/udp.out" &
    local l=$!
    sleep 0.3
    "$@"
    wait $l
    [ "$(cat "$T_DIR/udp.out")" = got ]
}

note "DHCP guard: a DHCP server answer from the VM is dropped with it on"
got_udp "$b" 68 send_udp "$a" 67 68 10.9.0.255 \
    || fail "DHCP offer not delivered without the guard"
ctl --wait set-port pa dhcp-guard=on || fail "set-port dhcp-guard=on"
got_udp "$b" 68 send_udp "$a" 67 68 10.9.0.255 \
    && fail "DHCP offer delivered with the DHCP guard on"
got_udp "$b" 5000 send_udp "$a" 4000 5000 10.9.0.2 \
    || fail "other UDP dropped by the DHCP guard"

note "router guard: router advertisements from the VM are dropped"
ctl --wait set-port pa router-guard=on || fail "set-port router-guard=on"
ip netns exec "$a" python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF,
             socket.if_nametoindex("pa"))
s.sendto(bytes([134, 0, 0, 0, 64, 0, 0, 0]) + bytes(8), ("ff02::1", 0))
EOF
n=$(counter "from-$pa" "guard router icmpv6 router advertisement")
assert_eq "RA dropped" 1 "$n"
assert_eq "guards of pa" mac-spoofing,dhcp,router \
    "$(ctl get port pa status:guards | tr -d \")"

note "ACLs: the longest prefix wins"
ctl --wait acl-add pa deny outbound remote=10.9.0.0/24 >/dev/null \
    || fail "acl-add deny /24"
ctl --wait acl-add pa allow outbound remote=10.9.0.2/32 >/dev/null \
    || fail "acl-add allow /32"
reaches 10.9.0.2 || fail "allowed /32 dropped"
reaches 10.9.0.3 && fail "denied /24 got through"
ctl --wait acl-del pa --all || fail "acl-del --all"
wait_for 5 reaches 10.9.0.3 || fail "traffic still dropped without ACLs"

# Whether "nft -f" reads back the table as "nft list" shows it (checked,
# not applied): a ruleset saved and restored must keep vsw's objects.
reads_back() {
    ip netns exec "$sw" nft list table bridge vsw > "$T_DIR/listed.nft"
    ip netns exec "$sw" nft -c -f "$T_DIR/listed.nft" \
        || fail "nft -f cannot read back $1"
}

note "grouped ACLs: a run of same-length prefixes is one map lookup"
# Six /32 entries (one lookup), under a /24 deny: the /32 allows win, the
# /32 deny drops, each entry counts its own packets.
args=()
for i in 2 4 5 6 7; do
    args+=(-- acl-add pa allow outbound "remote=10.9.0.$i/32")
done
ctl --wait "${args[@]:1}" >/dev/null || fail "acl-add five /32 allows"
deny3=$(ctl --wait acl-add pa deny outbound remote=10.9.0.3/32) \
    || fail "acl-add deny /32"
ctl --wait acl-add pa deny outbound remote=10.9.0.0/24 >/dev/null \
    || fail "acl-add deny /24"
maps=$(ip netns exec "$sw" nft list table bridge vsw | grep -c "map m-$pa-")
assert_eq "maps of pa's grouped ACLs" 1 "$maps"
reads_back "the grouped ACLs' maps"
ip netns exec "$sw" nft list chain bridge vsw "from-$pa" \
    | grep -q "vmap @m-$pa-" || fail "the /32 entries are not one lookup"
reaches 10.9.0.2 || fail "grouped allow /32 dropped"
reaches 10.9.0.3 && fail "grouped deny /32 got through"
ip -n "$b" addr add 10.9.0.9/24 dev pb
reaches 10.9.0.9 && fail "the /24 deny under the group let 10.9.0.9 through"
ip -n "$b" addr del 10.9.0.9/24 dev pb
grouped_deny_counted() { [ "$(acl_packets "$deny3")" -gt 0 ] 2>/dev/null; }
wait_for 5 grouped_deny_counted \
    || fail "the grouped deny's packets did not reach acl-list"
assert_eq "acl-list state of a grouped entry" enforced \
    "$(ctl --format=json acl-list pa | jq -r --arg id "$deny3" \
       '.[] | select(.id == $id) | .state')"
# An element deleted from the map behind vsw's back is put back.
map=$(ip netns exec "$sw" nft list table bridge vsw \
      | sed -n "s/.*map \(m-$pa-[0-9a-f]*\) .*/\1/p")
ip netns exec "$sw" nft delete element bridge vsw "$map" '{ 10.9.0.2 }' \
    || fail "nft delete element"
map_has_it() {
    ip netns exec "$sw" nft list map bridge vsw "$map" | grep -qw 10.9.0.2
}
wait_for 10 map_has_it \
    || fail "the map element deleted behind vsw's back was not put back"
reaches 10.9.0.2 || fail "10.9.0.2 dropped after its element came back"
# A rule slipped into an entry's own chain behind vsw's back is taken out.
allow2=$(ip netns exec "$sw" nft -a list map bridge vsw "$map" \
         | grep -o "10.9.0.2 : jump a-[-0-9a-f]*-allow" | awk '{print $4}')
ip netns exec "$sw" nft insert rule bridge vsw "$allow2" drop \
    || fail "nft insert rule into $allow2"
one_rule_again() {
    [ "$(ip netns exec "$sw" nft list chain bridge vsw "$allow2" \
         | grep -c -e drop -e accept)" = 1 ]
}
wait_for 10 one_rule_again \
    || fail "the rule put into $allow2 behind vsw's back stayed"
reaches 10.9.0.2 || fail "10.9.0.2 dropped after its chain was repaired"
ctl --wait acl-del pa "$deny3" || fail "acl-del $deny3"
reaches 10.9.0.3 && fail "10.9.0.3 got through: the /24 deny is below"
assert_eq "maps after a change" 1 \
    "$(ip netns exec "$sw" nft list table bridge vsw | grep -c "map m-$pa-")"
ctl --wait acl-del pa --all || fail "acl-del --all"
assert_eq "maps and ACL chains after acl-del --all" 0 \
    "$(ip netns exec "$sw" nft list table bridge vsw \
       | grep -c -e "map m-$pa-" -e "chain a-$pa-")"
wait_for 5 reaches 10.9.0.3 || fail "traffic still dropped without ACLs"

note "extended ACLs: the highest weight goes first"
hi=$(ctl --wait acl-add pa deny outbound protocol=icmp weight=20) \
    || fail "acl-add weight 20"
lo=$(ctl --wait acl-add pa allow outbound protocol=icmp weight=10) \
    || fail "acl-add weight 10"
reaches 10.9.0.2 && fail "deny of weight 20 did not win over allow of 10"
ctl --wait acl-del pa "$hi" || fail "acl-del $hi"
ctl --wait acl-add pa deny outbound protocol=icmp weight=5 >/dev/null
reaches 10.9.0.2 || fail "allow of weight 10 did not win over deny of 5"
expect_error 1 "weight 10 is taken" \
    ctl acl-add pa deny both protocol=icmp weight=10
ctl --wait acl-del pa --all

note "stateful: return traffic of an allowed outbound connection"
dn=$(ctl --wait acl-add pa deny inbound remote=10.9.0.0/24) || fail "deny"
ctl --wait acl-add pa allow outbound protocol=tcp remote-ports=7000 \
    weight=10 stateful=on idle-timeout=30 >/dev/null || fail "stateful acl"
ip netns exec "$b" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.9.0.2", 7000)); s.listen(1); s.settimeout(8)
c, _ = s.accept(); c.sendall(b"reply"); c.close()' &
sleep 0.3
got=$(ip netns exec "$a" timeout 5 python3 -c '
import socket
s = socket.create_connection(("10.9.0.2", 7000), timeout=3)
print(s.recv(10).decode())' 2>&1)
assert_eq "reply through the stateful ACL" reply "$got"
wait
ip netns exec "$a" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.9.0.1", 7001)); s.listen(1); s.settimeout(3)
try:
    s.accept(); print("accepted")
except socket.timeout:
    print("none")' > "$T_DIR/in.out" &
sleep 0.3
ip netns exec "$b" timeout 3 python3 -c '
import socket
socket.create_connection(("10.9.0.1", 7001), timeout=2)' 2>/dev/null
wait
assert_eq "inbound connection denied" none "$(cat "$T_DIR/in.out")"
n=$(ip netns exec "$sw" nft list chain bridge vsw "to-$pa" \
    | grep -F 'deny in v4' | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[ "${n:-0}" -gt 0 ] || fail "the deny ACL's counter did not move"
acl_counted() { [ "$(acl_packets "$1")" -gt 0 ] 2>/dev/null; }
wait_for 5 acl_counted "$dn" \
    || fail "ACL $dn's statistics did not reach the database ($(acl_packets "$dn"))"
# Each stateful ACL's connections keep its own idle timeout: one set per
# timeout, the 30 s ACL's connection not kept for the other's 600 s.
ctl --wait acl-add pa allow outbound protocol=tcp remote-ports=7002 \
    weight=11 stateful=on idle-timeout=600 >/dev/null \
    || fail "second stateful acl"
assert_eq "one set per idle timeout" 2 \
    "$(ip netns exec "$sw" nft list table bridge vsw | grep -c "set st4-$pa-")"
left=$(ip netns exec "$sw" nft list set bridge vsw "st4-$pa-30" \
       | grep -o 'expires [0-9]*s' | head -1 | grep -o '[0-9]*')
[ -n "$left" ] && [ "$left" -le 30 ] \
    || fail "the 30 s ACL's connection expires in '${left}' s"
reads_back "the stateful ACLs' sets"
ctl --wait acl-del pa --all
assert_eq "stateful sets gone with their ACLs" 0 \
    "$(ip netns exec "$sw" nft list table bridge vsw | grep -c "set st4-$pa-")"

note "bad input: vswctl refuses it, nothing written"
expect_error 1 "prefix length" ctl acl-add pa deny inbound remote=10.0.0.0/33
expect_error 1 "upside down" ctl acl-add pa deny inbound protocol=tcp \
    local-ports=90-80 weight=3
expect_error 1 "unknown protocol" ctl acl-add pa deny inbound protocol=xyz \
    weight=3
expect_error 1 "rate of 0" ctl set-port pa max-bandwidth=0
expect_error 1 "beyond 2^63-1" ctl set-port pa max-bandwidth=99999999999999999999
expect_error 1 "not an address" ctl acl-add pa deny inbound remote=02:00:zz
expect_error 1 "in this command" ctl acl-add pa allow inbound weight=12 \
    protocol=tcp -- acl-add pa allow both weight=12 protocol=udp
assert_eq "no ACL written" "" "$(ctl get port pa acls | tr -d '[]')"

note "bad input from another database client: a port error, rules kept"
rules_before=$(ip netns exec "$sw" nft list chain bridge vsw "from-$pa")
in_ns "$sw" ovsdb-client transact "unix:$T_DIR/$sw/run/db.sock" \
    "[\"VSwitch\", {\"op\": \"update\", \"table\": \"Port\",
      \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$pa\"]]],
      \"row\": {\"storm_limit\": -5}}]" >/dev/null || fail "raw write"
policy_is() { [ "$(ctl get port pa status:policy 2>/dev/null)" = "$1" ]; }
wait_for 5 policy_is error \
    || fail "a negative storm limit is not a port error"
assert_contains "its error" "storm_limit -5" "$(ctl get port pa status:error)"
assert_eq "rules kept" "$rules_before" \
    "$(ip netns exec "$sw" nft list chain bridge vsw "from-$pa")"
ctl --wait set-port pa storm-limit=none
wait_for 5 policy_is enforced \
    || fail "clearing the bad value did not bring the policy back"
# An ACL row with a malformed prefix: its own error, the others untouched.
in_ns "$sw" ovsdb-client transact "unix:$T_DIR/$sw/run/db.sock" \
    "[\"VSwitch\", {\"op\": \"insert\", \"table\": \"ACL\", \"uuid-name\": \"a\",
      \"row\": {\"direction\": \"outbound\", \"action\": \"deny\",
                \"remote_address\": \"10.9.0.300/32\"}},
     {\"op\": \"mutate\", \"table\": \"Port\",
      \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$pa\"]]],
      \"mutations\": [[\"acls\", \"insert\", [\"named-uuid\", \"a\"]]]}]" \
    >/dev/null || fail "raw ACL write"
wait_for 5 policy_is error || fail "a malformed ACL is not a port error"
bad_acl_state() {
    ctl --format=json acl-list pa | jq -r '.[] | .state + " " + (.error // "")'
}
assert_contains "the bad entry's state and error" "error " "$(bad_acl_state)"
assert_contains "its error names the value" "10.9.0.300" "$(bad_acl_state)"
ctl --wait acl-del pa --all || fail "acl-del --all after a bad ACL"
wait_for 5 policy_is enforced || fail "policy back after the bad ACL"
# Two rows with one weight for one direction: each says which is the other.
in_ns "$sw" ovsdb-client transact "unix:$T_DIR/$sw/run/db.sock" \
    "[\"VSwitch\",
      {\"op\": \"insert\", \"table\": \"ACL\", \"uuid-name\": \"x\",
       \"row\": {\"direction\": \"inbound\", \"action\": \"allow\",
                 \"protocol\": \"tcp\", \"weight\": 12}},
      {\"op\": \"insert\", \"table\": \"ACL\", \"uuid-name\": \"y\",
       \"row\": {\"direction\": \"both\", \"action\": \"deny\",
                 \"protocol\": \"udp\", \"weight\": 12}},
     {\"op\": \"mutate\", \"table\": \"Port\",
      \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$pa\"]]],
      \"mutations\": [[\"acls\", \"insert\",
                       [\"set\", [[\"named-uuid\", \"x\"],
                                  [\"named-uuid\", \"y\"]]]]]}]" \
    >/dev/null || fail "raw duplicate weights"
wait_for 5 policy_is error || fail "a weight used twice is not a port error"
assert_eq "both entries name the clash" 2 \
    "$(ctl --format=json acl-list pa \
       | jq '[.[] | select(.state == "error"
                           and (.error | test("weight 12 is also")))]
             | length')"
ctl --wait acl-del pa --all || fail "acl-del --all after duplicate weights"
wait_for 5 policy_is enforced \
    || fail "deleting the bad ACL did not bring the policy back"

note "mirroring: a source's traffic both ways reaches the destination"
ctl --wait add-port s0 pc --kind veth --netns "$c" --mac 02:00:00:00:00:0c \
    || fail "add-port pc"
ip -n "$c" link set pc up
reaches 10.9.0.2 || fail "no traffic before mirroring"
# captured NS IFACE: ICMP packets between a and b seen on IFACE during a
# ping of three.
captured() {
    ip netns exec "$1" timeout 4 tcpdump -lni "$2" -c 6 \
        'icmp and host 10.9.0.1' > "$T_DIR/cap.out" 2>/dev/null &
    local tp=$!
    sleep 1
    ip netns exec "$a" ping -c 3 -i 0.2 -W 1 10.9.0.2 >/dev/null 2>&1
    wait $tp
    grep -c 'ICMP echo' "$T_DIR/cap.out"
}
assert_eq "no copies without mirroring" 0 "$(captured "$c" pc)"
ctl --wait set-port pa mirror=source || fail "mirror=source"
assert_contains "source without destination" "no destination port" \
    "$(ctl get port pa status:mirror)"
ctl --wait set-port pc mirror=destination || fail "mirror=destination"
assert_eq "source's status" "source, copies to pc" \
    "$(ctl get port pa status:mirror | tr -d '"')"
assert_eq "requests and replies copied" 6 "$(captured "$c" pc)"

note "behind vsw's back: nft flush ruleset, then a foreign table"
ip netns exec "$sw" nft flush ruleset
rebuilt() {
    ip netns exec "$sw" nft list chain bridge vsw "from-$pa" 2>/dev/null \
        | grep -q 'guard dhcp'
}
wait_for 10 rebuilt \
    || fail "the table was not rebuilt after a flush"
wait_for 10 ip netns exec "$sw" nft list table netdev vsw >/dev/null \
    || fail "the mirrors were not rebuilt after a flush"
ip netns exec "$sw" nft add table bridge mine
ip netns exec "$sw" nft add chain bridge mine c
ip netns exec "$sw" nft add rule bridge mine c counter
foreign=$(ip netns exec "$sw" nft list table bridge mine)

note "restart: the rules are adopted with no modifying request"
ctl --wait acl-add pa deny outbound remote=10.9.0.3/32 >/dev/null
ip netns exec "$sw" nft list table bridge vsw > "$T_DIR/saved.nft"
stop_vswitchd "$sw"
reaches 10.9.0.3 && fail "the rules went with vswitchd"
note "the table as nft lists it reads back (a ruleset saved and restored)"
ip netns exec "$sw" nft delete table bridge vsw
ip netns exec "$sw" nft -f "$T_DIR/saved.nft" \
    || fail "nft -f cannot read back the table vsw made"
reaches 10.9.0.3 && fail "the restored rules are not in force"
start_vswitchd "$sw"
ctl --wait list-switches >/dev/null
m1=$(modify_count "$sw")
ctl appctl bridge/reconcile >/dev/null
sleep 1
assert_eq "modifying requests after restart" 0 "$m1"
assert_eq "foreign table untouched" "$foreign" \
    "$(ip netns exec "$sw" nft list table bridge mine)"

note "maximum bandwidth, measured with iperf3"
ctl --wait acl-del pa --all
ctl --wait set-port pa max-bandwidth=50M || fail "set-port max-bandwidth"
ip netns exec "$b" iperf3 -s -1 -B 10.9.0.2 -D -I "$T_DIR/iperf.pid"
sleep 0.5
bps=$(ip netns exec "$a" iperf3 -c 10.9.0.2 -t 4 -O 1 -J \
      | jq '.end.sum_received.bits_per_second')
note "from the VM: $bps bit/s for a limit of 50 Mbit/s"
awk -v r="$bps" 'BEGIN { exit !(r >= 45e6 && r <= 55e6) }' \
    || fail "rate from the VM $bps bit/s is not within 10% of 50 Mbit/s"
kill "$(cat "$T_DIR/iperf.pid" 2>/dev/null)" 2>/dev/null

exit $T_FAILED
