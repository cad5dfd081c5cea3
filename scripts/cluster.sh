#!/bin/bash
# A clustered vsw database (OVSDB Raft) on this machine, for tests and for
# trying a multi-host setup before deploying one (docs/cluster.md):
#
#   scripts/cluster.sh start DIR [N] [PORT]   N servers (default 3) in DIR/s1..sN;
#                                          Raft on 127.0.0.1:PORT.. (default
#                                          6643..), clients on unix sockets
#                                          DIR/sK/db.sock; prints the remotes
#   scripts/cluster.sh remotes DIR         "unix:DIR/s1/db.sock,unix:..." for
#                                          vswitchd --db and vswctl --db
#   scripts/cluster.sh leader DIR          the number K of the leader
#   scripts/cluster.sh kill DIR K          SIGKILL server K (a crash)
#   scripts/cluster.sh restart DIR K       start server K again on its files
#   scripts/cluster.sh stop DIR            stop every server
#   scripts/cluster.sh pki DIR NAME...     a CA (made once) and a key and
#                                          certificate for each NAME (its
#                                          common name): DIR/NAME.key, .pem
#   scripts/cluster.sh rbac DIR TARGET     role "vswitchd" (each host may
#                                          change only its own rows) on a
#                                          listener TARGET, e.g. pssl:6641
#
# Each server keeps its files (conf.db, log, pid, control socket) in its
# directory; its unix socket is for operators (no access control).  With
# VSW_CLUSTER_PKI=DIR (made by "pki" with names s1..sN) the servers talk
# Raft over TLS and serve TLS listeners.  A real deployment puts each
# server on its own machine (docs/cluster.md).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# Its files: beside it in a source tree, else where the package puts them.
share=$top/schema
[ -f "$share/vswitch.ovsschema" ] || share=/usr/share/vsw
schema=${VSW_SCHEMA:-$share/vswitch.ovsschema}
role_file=$share/rbac-vswitchd.json
# vsw's own OVSDB tools (a build's, or the installed ones), else PATH's.
for d in "$top/build/bin" /usr/libexec/vsw /usr/lib/vsw; do
    if [ -x "$d/ovsdb-server" ]; then
        PATH=$d:$PATH
        break
    fi
done
pki=${VSW_CLUSTER_PKI:-}

die() { echo "cluster.sh: $*" >&2; exit 1; }
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

servers() { ls -d "$1"/s[0-9]* 2>/dev/null | sort -V; }

start_server() {
    local d=$1 name tls=()
    name=$(basename "$d")
    if [ -n "$pki" ]; then
        tls=(--private-key="$pki/$name.key" --certificate="$pki/$name.pem"
             --ca-cert="$pki/ca.pem")
    fi
    ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
        --remote=db:VSwitch,Root,connections "${tls[@]}" \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
        --log-file="$d/ovsdb-server.log" --detach --no-chdir \
        -vconsole:off 2>/dev/null || die "ovsdb-server in $d did not start"
}

# The directory of the server that says it leads; none if none answers
# within 2 s (a stopped or frozen server still accepts connections).
leader_dir() {
    local d
    for d in $(servers "$1"); do
        if ovs-appctl --timeout=2 -t "$d/ovsdb-server.ctl" cluster/status \
               VSwitch 2>/dev/null | grep -q '^Role: leader'; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# The leader's socket (a follower would forward writes; the leader is
# the one sure to be up to date), else the first member's.
member() {
    local d
    d=$(leader_dir "$1") || d=$(servers "$1" | head -1)
    echo "unix:$d/db.sock"
}

# Runs OPS (a JSON list of operations) on the cluster: 'query' or
# 'transact'.
ovsdb() {
    ovsdb-client --timeout=30 "$1" "$(member "$2")" "[\"VSwitch\", ${3#[}" \
        || die "$1 refused"
}

make_pki() {
    local dir=$1 name; shift
    mkdir -p "$dir"
    if [ ! -f "$dir/ca.pem" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 \
            -subj "/CN=vsw cluster CA" 2>/dev/null || die "openssl: CA"
    fi
    for name in "$@"; do
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
            -subj "/CN=$name" 2>/dev/null || die "openssl: key of $name"
        openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" \
            -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/$name.pem" \
            -days 3650 2>/dev/null || die "openssl: certificate of $name"
        rm -f "$dir/$name.csr"
        chmod 600 "$dir/$name.key"
    done
}

remotes() {
    local d out=""
    for d in $(servers "$1"); do
        out="${out:+$out,}unix:$d/db.sock"
    done
    [ -n "$out" ] || die "no servers in $1"
    echo "$out"
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
case $cmd in
start)
    n=${3:-3}
    port=${4:-6643}
    [ "$n" -ge 1 ] 2>/dev/null || die "N must be a number >= 1"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -z "$(servers "$dir")" ] || die "$dir already has servers"
    for k in $(seq "$n"); do
        mkdir -p "$dir/s$k"
        local_addr="${pki:+ssl}${pki:-tcp}:127.0.0.1:$((port + k - 1))"
        if [ "$k" = 1 ]; then
            # (Raft keeps every column: the schema's ephemeral ones are
            # made persistent, which ovsdb-tool warns about.)
            ovsdb-tool create-cluster "$dir/s1/conf.db" "$schema" \
                "$local_addr" 2>&1 | grep -v 'from ephemeral to persistent' >&2 || true
            [ -f "$dir/s1/conf.db" ] || die "create-cluster failed"
            first=$local_addr
        else
            ovsdb-tool join-cluster "$dir/s$k/conf.db" VSwitch \
                "$local_addr" "$first" || die "join-cluster s$k"
        fi
        start_server "$dir/s$k"
    done
    # Joined: every member answers for the database.
    for k in $(seq "$n"); do
        timeout 30 ovsdb-client wait "unix:$dir/s$k/db.sock" VSwitch \
            connected >/dev/null 2>&1 \
            || die "server s$k did not join the cluster"
    done
    # The Root row, so that every vswitchd finds its database ready.
    case $(ovsdb query "$dir" '[{"op": "select", "table": "Root",
                                "where": [], "columns": ["_uuid"]}]') in
    *'"rows":[]'*)
        ovsdb transact "$dir" '[{"op": "insert", "table": "Root",
                                 "row": {}}]' >/dev/null
        ;;
    esac
    remotes "$dir"
    ;;
pki)
    shift 2
    [ $# -ge 1 ] || usage
    make_pki "$dir" "$@"
    ;;
rbac)
    target=${3:?a listener, e.g. pssl:6641}
    ops=$(cat "$role_file")
    # The role once; a listener per call.
    case $(ovsdb query "$dir" '[{"op": "select", "table": "RBAC_Role",
                   "where": [["name", "==", "vswitchd"]]}]') in
    *'"name":"vswitchd"'*)
        ops='[]'
        ;;
    esac
    ops=${ops%]}
    [ "$ops" = '[' ] && sep='' || sep=','
    ovsdb transact "$dir" "$ops$sep
      {\"op\": \"insert\", \"table\": \"Connection\", \"uuid-name\": \"c\",
       \"row\": {\"target\": \"$target\", \"role\": \"vswitchd\"}},
      {\"op\": \"mutate\", \"table\": \"Root\", \"where\": [],
       \"mutations\": [[\"connections\", \"insert\",
                        [\"set\", [[\"named-uuid\", \"c\"]]]]]}]" >/dev/null
    ;;
remotes)
    remotes "$dir"
    ;;
leader)
    d=$(leader_dir "$dir") \
        || die "no leader now: an election is under way, or fewer than a" \
               "majority of the servers run and answer (a stopped one does" \
               "not); cluster/status on each server's ovsdb-server.ctl says more"
    basename "$d" | tr -d s
    ;;
kill|restart)
    k=${3:?server number}
    d="$dir/s$k"
    [ -d "$d" ] || die "no server $k in $dir"
    if [ "$cmd" = kill ]; then
        kill -KILL "$(cat "$d/ovsdb-server.pid")"
    else
        start_server "$d"
    fi
    ;;
stop)
    for d in $(servers "$dir"); do
        [ -f "$d/ovsdb-server.pid" ] || continue
        pid=$(cat "$d/ovsdb-server.pid")
        kill "$pid" 2>/dev/null || true
    done
    ;;
*)
    usage
    ;;
esac
