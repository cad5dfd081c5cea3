#!/bin/bash
# Hosts on a clustered database over TLS, each allowed to change only its
# own rows (OVSDB role-based access control, role "vswitchd" of
# schema/rbac-vswitchd.json).  Every machine is a network namespace on one
# LAN (a bridge in a namespace of its own): three database servers talking
# Raft over TLS with a TLS listener each (Connection pssl:6641, role
# vswitchd), and two hosts whose vswitchd connects with its own
# certificate (common name = host id).  Checked: the hosts work under the
# role (switches made, status written, --wait returns); host h1's
# credentials can change its own rows' status but nothing of host h2's,
# and cannot make rows for h2; a client without a certificate is refused;
# the leader's failure does not stop a host over TLS.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v openssl >/dev/null || skip "openssl is not installed"
command -v ovsdb-client >/dev/null || skip "ovsdb-client is not installed"
T_TIMEOUT=150

top="$(cd "$(dirname "$0")/../.." && pwd)"
cluster="$top/scripts/cluster.sh"
schema="$top/schema/vswitch.ovsschema"
cl="$T_DIR/cluster"
pki="$T_DIR/pki"

note "a LAN of five machines: s1 s2 s3 (database servers), h1 h2 (hosts)"
lan=$(new_netns lan)
ip -n "$lan" link add br0 type bridge
ip -n "$lan" link set br0 up
declare -A ip_of=([s1]=10.99.0.1 [s2]=10.99.0.2 [s3]=10.99.0.3
                  [h1]=10.99.0.11 [h2]=10.99.0.12)
for m in s1 s2 s3 h1 h2; do
    ns=$(new_netns "$m")
    ip link add "${T_PREFIX}$m" netns "$ns" type veth peer name "v-$m" \
        netns "$lan" || die "veth of $m"
    ip -n "$ns" link set "${T_PREFIX}$m" name eth0
    ip -n "$ns" addr add "${ip_of[$m]}/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$lan" link set "v-$m" master br0 up
done
ns_of() { echo "$T_PREFIX-$1"; }

"$cluster" pki "$pki" s1 s2 s3 h1 h2 || die "pki"
tls_of() {
    echo "--private-key=$pki/$1.key --certificate=$pki/$1.pem --ca-cert=$pki/ca.pem"
}

note "three servers, Raft over TLS"
for k in 1 2 3; do
    d="$cl/s$k"
    mkdir -p "$d"
    T_PIDFILES+=("$d/ovsdb-server.pid")
    if [ $k = 1 ]; then
        ovsdb-tool create-cluster "$d/conf.db" "$schema" \
            "ssl:${ip_of[s1]}:6643" 2>/dev/null || die "create-cluster"
    else
        ovsdb-tool join-cluster "$d/conf.db" VSwitch \
            "ssl:${ip_of[s$k]}:6643" "ssl:${ip_of[s1]}:6643" \
            || die "join-cluster s$k"
    fi
    # shellcheck disable=SC2046
    ip netns exec "$(ns_of "s$k")" ovsdb-server "$d/conf.db" \
        --remote="punix:$d/db.sock" --remote=db:VSwitch,Root,connections \
        $(tls_of "s$k") --pidfile="$d/ovsdb-server.pid" \
        --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" \
        --detach --no-chdir -vconsole:off 2>/dev/null \
        || die "ovsdb-server s$k"
done
for k in 1 2 3; do
    timeout 30 ovsdb-client wait "unix:$cl/s$k/db.sock" VSwitch connected \
        >/dev/null 2>&1 || die "s$k did not join"
done
admin="unix:$cl/s1/db.sock,unix:$cl/s2/db.sock,unix:$cl/s3/db.sock"
ctl() { vswctl --timeout=30 --db="$admin" "$@"; }
ovsdb-client transact "unix:$cl/s1/db.sock" \
    '["VSwitch", {"op": "insert", "table": "Root", "row": {}}]' >/dev/null \
    || die "Root row"
ctl set root . other_config:host-heartbeat=2000 || die "heartbeat"
"$cluster" rbac "$cl" pssl:6641 || die "rbac"
assert_eq "the listener's role" vswitchd \
    "$(ctl --bare --columns=role list connection)"

tls_remote="ssl:${ip_of[s1]}:6641,ssl:${ip_of[s2]}:6641,ssl:${ip_of[s3]}:6641"
note "two hosts over TLS under role vswitchd"
for h in h1 h2; do
    # shellcheck disable=SC2046
    start_vswitchd "$(ns_of "$h")" --db="$tls_remote" --host-id="$h" \
        $(tls_of "$h")
done
for h in h1 h2; do
    ctl --host="$h" --wait add-switch "sw-$h" --type private \
        || fail "add-switch on $h"
    ctl --host="$h" --wait add-port "sw-$h" "p-$h" || fail "add-port on $h"
    assert_eq "sw-$h live on $h" bridge "$(kind_of "$(ns_of "$h")" "sw-$h")"
    assert_eq "$h wrote its switch's status" up \
        "$(ctl --host="$h" get switch "sw-$h" status:state | tr -d '"')"
    assert_eq "$h wrote its port's status" up \
        "$(ctl --host="$h" get port "p-$h" status:state | tr -d '"')"
done
assert_eq "both hosts current" "h1 current h2 current" \
    "$(ctl --format=json list-hosts | jq -r '.[] | "\(.name) \(.state)"' | xargs)"

note "h1's credentials: its own rows only"
h1c() {     # OPS...: a transaction from h1's machine with h1's certificate
    # shellcheck disable=SC2046
    ip netns exec "$(ns_of h1)" ovsdb-client $(tls_of h1) transact \
        "ssl:${ip_of[s2]}:6641" "[\"VSwitch\", $1]" 2>&1
}
uuid_of() { ctl --host="$2" get "$1" "$3" _uuid; }
sw1=$(uuid_of switch h1 sw-h1)
sw2=$(uuid_of switch h2 sw-h2)
p2=$(uuid_of port h2 p-h2)
out=$(h1c "{\"op\": \"update\", \"table\": \"Switch\",
             \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$sw1\"]]],
             \"row\": {\"status\": [\"map\", [[\"state\", \"up\"]]]}}")
assert_contains "h1 may write its switch's status" '"count":1' "$out"
out=$(h1c "{\"op\": \"update\", \"table\": \"Switch\",
             \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$sw2\"]]],
             \"row\": {\"status\": [\"map\", [[\"state\", \"forged\"]]]}}")
assert_contains "h1 may not write h2's switch's status" "RBAC" "$out"
note "refused as: $(echo "$out" | grep -o '"details":"[^"]*' | head -1)"
out=$(h1c "{\"op\": \"update\", \"table\": \"Switch\",
             \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$sw1\"]]],
             \"row\": {\"mtu\": 9000}}")
assert_contains "h1 may not change its switch's configuration" "RBAC" "$out"
out=$(h1c "{\"op\": \"delete\", \"table\": \"Port\",
             \"where\": [[\"_uuid\", \"==\", [\"uuid\", \"$p2\"]]]}")
assert_contains "h1 may not delete h2's port" "RBAC" "$out"
out=$(h1c "{\"op\": \"insert\", \"table\": \"Host\",
             \"row\": {\"name\": \"h3\"}}")
assert_contains "h1 may not make another host's row" "RBAC" "$out"
out=$(h1c "{\"op\": \"insert\", \"table\": \"Switch\",
             \"row\": {\"name\": \"evil\", \"host\": \"h2\",
                       \"type\": \"private\"}}")
assert_contains "h1 may not make a switch for h2" "RBAC" "$out"
# shellcheck disable=SC2046
out=$(ip netns exec "$(ns_of h1)" vswctl --timeout=10 $(tls_of h1) \
    --db="$tls_remote" --host=h2 del-switch sw-h2 2>&1)
assert_contains "vswctl with h1's certificate cannot delete h2's switch" \
    "RBAC" "$out"
note "vswctl says: $out"
assert_eq "h2's switch still there" bridge "$(kind_of "$(ns_of h2)" sw-h2)"
assert_eq "h2's switch's status untouched" up \
    "$(ctl --host=h2 get switch sw-h2 status:state | tr -d '"')"

note "no certificate, no connection"
out=$(ip netns exec "$(ns_of h1)" timeout 5 ovsdb-client \
    --private-key="$pki/h1.key" --certificate="$pki/h1.pem" \
    --ca-cert=/dev/null list-dbs "ssl:${ip_of[s1]}:6641" 2>&1)
assert_ne "a client that does not trust the CA" 0 "$?"
out=$(ip netns exec "$(ns_of h1)" timeout 5 ovsdb-client \
    list-dbs "tcp:${ip_of[s1]}:6641" 2>&1)
assert_ne "plain TCP to the TLS listener" 0 "$?"

note "the leader fails: the hosts go on over TLS"
leader=$("$cluster" leader "$cl") || die "no leader"
kill -KILL "$(cat "$cl/s$leader/ovsdb-server.pid")"
for h in h1 h2; do
    ctl --host="$h" --wait add-port "sw-$h" "q-$h" \
        || fail "--wait on $h after the leader failed"
    assert_eq "q-$h live on $h" tun "$(kind_of "$(ns_of "$h")" "q-$h")"
done
