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
#
# Each server keeps its files (conf.db, log, pid, control socket) in its
# directory.  A real deployment puts each server on its own machine and
# gives vswitchd and vswctl their tcp: or ssl: remotes (docs/cluster.md).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
schema=${VSW_SCHEMA:-$top/schema/vswitch.ovsschema}
[ -f "$schema" ] || schema=/usr/share/vsw/vswitch.ovsschema

die() { echo "cluster.sh: $*" >&2; exit 1; }
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

servers() { ls -d "$1"/s[0-9]* 2>/dev/null | sort -V; }

start_server() {
    local d=$1
    ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
        --log-file="$d/ovsdb-server.log" --detach --no-chdir \
        -vconsole:off || die "ovsdb-server in $d did not start"
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
        local_addr="tcp:127.0.0.1:$((port + k - 1))"
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
    remotes "$dir"
    ;;
remotes)
    remotes "$dir"
    ;;
leader)
    for d in $(servers "$dir"); do
        if ovs-appctl -t "$d/ovsdb-server.ctl" cluster/status VSwitch \
               2>/dev/null | grep -q '^Role: leader'; then
            basename "$d" | tr -d s
            exit 0
        fi
    done
    die "no leader now (an election is under way, or too few servers run)"
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
