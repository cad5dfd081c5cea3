# Shared helpers for vsw's integration tests (sourced, not run).
#
# Each test gets a unique prefix, its own network namespaces and its own
# vswitchd/ovsdb-server instance (state and run directories under a
# private temporary directory).  Everything is removed on every exit path
# by the EXIT trap: the namespaces (and with them every link inside), and
# the processes this test started, ended by PID.
#
# Exit codes follow automake/CTest: 0 pass, 1 fail, 77 skipped.

set -u

VSW_BIN=${VSW_BIN:?VSW_BIN must point at the bin directory of a build}
export PATH="$VSW_BIN:$PATH"

T_NAME=$(basename "$0" .sh)
T_PREFIX="vt$$"                 # Unique per test run; short: ifnames <= 15.
T_DIR=$(mktemp -d "/tmp/vsw-$T_NAME.XXXXXX")
T_PIDFILES=()
T_MOUNTS=()
T_FAILED=0

# A test that cannot run here is skipped (exit 77), unless every test must
# run here (VSW_TESTS_MUST_RUN=1, as in CI): then it fails.
# In a sanitized build (scripts/test.sh sets ASAN_OPTIONS/UBSAN_OPTIONS),
# every program of the test writes its reports where cleanup() finds them.
if [ -n "${ASAN_OPTIONS:-}" ]; then
    export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$T_DIR/sanitizer"
    # vswctl is a one-shot command: what it has not freed when it exits
    # (on its error paths above all) is no leak.  Its memory errors are
    # still reported; the daemon's leaks are too.
    mkdir -p "$T_DIR/bin"
    printf '#!/bin/sh\nASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" exec %s/vswctl "$@"\n' \
        "$VSW_BIN" > "$T_DIR/bin/vswctl"
    chmod 755 "$T_DIR/bin/vswctl"
    export PATH="$T_DIR/bin:$PATH"
fi
if [ -n "${UBSAN_OPTIONS:-}" ]; then
    export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$T_DIR/sanitizer"
fi

skip() {
    echo "SKIP: $T_NAME: $*"
    if [ "${VSW_TESTS_MUST_RUN:-0}" = 1 ]; then
        echo "FAIL: $T_NAME: skipped, but VSW_TESTS_MUST_RUN=1 says every test must run here"
        exit 1
    fi
    exit 77
}
fail() { echo "FAIL: $T_NAME: $*" >&2; T_FAILED=1; }
die() { echo "FAIL: $T_NAME: $*" >&2; exit 1; }
T_START=$EPOCHREALTIME
# note TEXT: a step of the test, with the seconds since it started (the
# CI log shows where a slow test spends its time).
note() {
    local us=$(( ${EPOCHREALTIME/./} - ${T_START/./} ))
    printf -- '--- [%d.%01d s] %s\n' $((us / 1000000)) $((us % 1000000 / 100000)) "$*"
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "iproute2 is not installed"

# Commands a test adds to be run first on every exit path (eval'd), e.g.
# to undo what it put outside its namespaces and T_DIR.
T_ON_EXIT=()

cleanup() {
    local rc=$?
    local pf pid c
    for c in "${T_ON_EXIT[@]}"; do
        eval "$c" >/dev/null 2>&1
    done
    # Background processes of the test (ping, ip monitor, helpers), the
    # watchdog included: ended on every path.
    # The watchdog (SIGKILL: it must not wake up and fire), then every
    # background job of the test, each before its children (a leftover
    # child holding CTest's output pipe would keep CTest waiting).
    local kids
    for pid in ${T_WATCHDOG:-} $(jobs -p); do
        kids=$(pgrep -P "$pid")
        kill -KILL "$pid" 2>/dev/null
        [ -n "$kids" ] && kill $kids 2>/dev/null
    done
    for pf in "${T_PIDFILES[@]}"; do
        [ -f "$pf" ] || continue
        pid=$(cat "$pf" 2>/dev/null)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    done
    sleep 0.2
    for pf in "${T_PIDFILES[@]}"; do
        [ -f "$pf" ] || continue
        pid=$(cat "$pf" 2>/dev/null)
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done
    # A sanitized build's daemons report into T_DIR (they run detached):
    # any report fails the test.
    local report
    for report in "$T_DIR"/sanitizer.*; do
        [ -e "$report" ] || continue
        echo "FAIL: $T_NAME: sanitizer report $(basename "$report"):" >&2
        cat "$report" >&2
        [ $rc -eq 0 ] && rc=1
    done
    # File systems the test mounted (after its processes are gone).
    local m
    for m in "${T_MOUNTS[@]}"; do
        umount -l "$m" 2>/dev/null
    done
    # Every namespace with this run's prefix (new_netns runs in command
    # substitutions, so an array filled there would not reach us).
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        case $ns in
            "$T_PREFIX"-*) ip netns delete "$ns" 2>/dev/null ;;
        esac
    done
    [ -n "${T_KEEP:-}" ] && cp -r "$T_DIR" "$T_KEEP" 2>/dev/null
    rm -rf "$T_DIR"
    if [ $rc -eq 0 ] && [ $T_FAILED -ne 0 ]; then
        rc=1
    fi
    if [ $rc -eq 0 ]; then
        echo "PASS: $T_NAME"
    elif [ $rc -ne 77 ]; then
        echo "FAIL: $T_NAME (exit $rc)"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A watchdog well inside CTest's timeout (which kills with SIGKILL, and no
# trap runs then): it ends whatever the test waits on, then the test, so
# that the cleanup above always runs.
T_TIMEOUT=${T_TIMEOUT:-240}
(
    sleep "$T_TIMEOUT"
    echo "FAIL: $T_NAME: timed out after $T_TIMEOUT s" >&2
    kill -TERM $$ 2>/dev/null
    pkill -TERM -P $$ 2>/dev/null
) &
T_WATCHDOG=$!
disown "$T_WATCHDOG"        # Not a job: a bare "wait" does not wait for it.

# new_netns SUFFIX: creates namespace "$T_PREFIX-SUFFIX", prints its name.
new_netns() {
    local ns="$T_PREFIX-$1"
    ip netns add "$ns" || die "cannot create namespace $ns"
    ip -n "$ns" link set lo up
    echo "$ns"
}

# In namespace NS, with the vsw instance of that namespace.
in_ns() {
    local ns=$1; shift
    ip netns exec "$ns" env VSW_STATE_DIR="$T_DIR/$ns/state" \
        VSW_RUN_DIR="$T_DIR/$ns/run" "$@"
}

# start_vswitchd NS [ARGS]: starts vswitchd (and its ovsdb-server) in NS.
start_vswitchd() {
    local ns=$1; shift
    T_PIDFILES+=("$T_DIR/$ns/run/vswitchd.pid"
                 "$T_DIR/$ns/run/ovsdb-server.pid")
    in_ns "$ns" vswitchd --detach --pidfile --log-file -vconsole:off "$@" \
        || die "vswitchd did not start in $ns"
}

# stop_vswitchd NS: clean exit through the control socket.
stop_vswitchd() {
    local ns=$1
    local pid
    pid=$(cat "$T_DIR/$ns/run/vswitchd.pid")
    in_ns "$ns" vswctl appctl exit >/dev/null || fail "vswitchd exit failed"
    wait_gone "$pid"
}

vswitchd_pid() { cat "$T_DIR/$1/run/vswitchd.pid"; }

# wait_gone PID: waits up to 5 s for PID to end.  A zombie has ended: a
# detached daemon's zombie waits for init, which may reap it seconds later.
wait_gone() {
    local pid=$1 i state
    for i in $(seq 100); do
        state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
                "/proc/$pid/status" 2>/dev/null)
        [ -z "$state" ] || [ "$state" = Z ] && return 0
        sleep 0.05
    done
    fail "process $pid did not exit"
}

vswctl_in() { local ns=$1; shift; in_ns "$ns" vswctl --timeout=20 "$@"; }

# modify_count NS: modifying netlink requests vswitchd made so far.  Fails
# the test (and prints "unavailable") when it cannot be read, so that two
# unreadable counters never compare equal.
modify_count() {
    local n
    n=$(vswctl_in "$1" appctl dp/counters | sed -n 's/.*modify=\([0-9]*\) .*/\1/p')
    if [ -z "$n" ]; then
        fail "cannot read vswitchd's counters in $1"
        n=unavailable-$RANDOM
    fi
    echo "$n"
}

# ifindex NS IFNAME
ifindex() { ip -n "$1" -o link show dev "$2" 2>/dev/null | cut -d: -f1; }
master_of() {
    ip -n "$1" -o link show dev "$2" | sed -n 's/.* master \([^ ]*\) .*/\1/p'
}
alias_of() { ip -n "$1" -d link show dev "$2" | sed -n 's/^ *alias //p'; }
kind_of() {
    ip -n "$1" -d -j link show dev "$2" \
        | sed -n 's/.*"info_kind":"\([^"]*\)".*/\1/p'
}

# open_tap NS NAME SECONDS [USER]: opens tap NAME in namespace NS as a VM
# would (TUNSETIFF with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR), as USER if given,
# holds it for SECONDS, then prints "ok" (or Python's error).
open_tap() {
    local ns=$1 name=$2 secs=$3 user=${4:-}
    local as=()
    [ -n "$user" ] && as=(setpriv --reuid="$user" --regid="$(id -g "$user")"
                          --clear-groups)
    ip netns exec "$ns" "${as[@]}" /usr/bin/python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(),
                                        0x0002 | 0x1000 | 0x4000))
time.sleep(float(sys.argv[2]))
print("ok")
' "$name" "$secs" 2>&1
}

# tiny_guest: builds a tiny VM (tests/lab/tiny-guest.sh: the lab's kernel
# and a busybox initramfs with virtio-net) into $T_DIR/guest and sets
# $guest to that directory; skips the test when the lab's kernel cannot be
# had.  (Not in a command substitution: skip and die end the test.)
tiny_guest() {
    local top
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    "$top/tests/lab/tiny-guest.sh" "$T_DIR/guest" >"$T_DIR/guest.log" 2>&1
    case $? in
        0) guest="$T_DIR/guest" ;;
        77) skip "the lab's kernel cannot be had (tests/lab/prepare.sh)" ;;
        *) die "building the guest failed: $(tail -3 "$T_DIR/guest.log")" ;;
    esac
}

# recording_hooks DIR: makes DIR a hooks directory (vswitchd --hooks-dir)
# whose one hook appends "EVENT JSON" lines to DIR.events.
recording_hooks() {
    mkdir -p "$1"
    printf '#!/bin/sh\n{ printf "%%s " "$1"; cat; } >> %s.events\n' "$1" \
        > "$1/record"
    chmod 755 "$1" "$1/record"
}
# has_event DIR EVENT [WORD]: DIR's hook heard EVENT (with WORD in it).
has_event() { grep "^$2 " "$1.events" 2>/dev/null | grep -q -- "${3:-}"; }

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds or
# SECONDS have passed.  Returns CMD's last status.  (CMD's arguments are
# expanded once, by the caller: a test of a command's output goes in a
# function, e.g. "wait_for 5 has_link ns p1", never "[ "$(...)" = x ]".)
wait_for() {
    local tries=$(( $1 * 10 )) i; shift
    for i in $(seq "$tries"); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

assert_eq() {
    local what=$1 want=$2 got=$3
    if [ "$want" != "$got" ]; then
        fail "$what: expected '$want', got '$got'"
    fi
}
assert_ne() {
    local what=$1 unwanted=$2 got=$3
    if [ "$unwanted" = "$got" ]; then
        fail "$what: did not expect '$got'"
    fi
}
assert_contains() {
    local what=$1 needle=$2 hay=$3
    case "$hay" in
        *"$needle"*) ;;
        *) fail "$what: '$needle' not found in: $hay" ;;
    esac
}

# state_snapshot NS FILE: every table of NS's database less the columns
# vswitchd writes (status, statistics, offload_*, cur_cfg, last_seen) and row
# versions, and every link of NS with its master, alias and kind; for
# "nothing changed" checks.  Needs jq.
state_snapshot() {
    local ns=$1 out=$2
    {
        in_ns "$ns" ovsdb-client -f json dump "unix:$T_DIR/$ns/run/db.sock" \
            | jq -S -c 'select(.headings) | .caption as $t | .headings as $h
                | [range(0; $h | length) | select(($h[.] | IN("status",
                    "statistics", "offload_requested", "offload_effective",
                    "offload_reason", "cur_cfg", "last_seen",
                    "_version")) | not)] as $keep
                | .data[] | [$t, [$keep[] as $i | .[$i]]]' | sort
        ip -n "$ns" -j -d link show | jq -S -c '.[] | [.ifname, .master,
            .ifalias, .linkinfo.info_kind]' | sort
    } > "$out"
    [ -s "$out" ] || fail "empty snapshot of $ns"
}

# unchanged_since NS FILE WHAT: the state of NS is as FILE says.
unchanged_since() {
    local ns=$1 before=$2 what=$3
    state_snapshot "$ns" "$before.now"
    if ! diff -u "$before" "$before.now" >/dev/null; then
        fail "$what changed something:"
        diff -u "$before" "$before.now" >&2
    fi
}

# expect_error EXIT_CODE NEEDLE CMD...: CMD must fail with EXIT_CODE and
# say NEEDLE on stderr.
expect_error() {
    local want_rc=$1 needle=$2; shift 2
    local out rc
    out=$("$@" 2>&1 >/dev/null); rc=$?
    assert_eq "exit code of: $*" "$want_rc" "$rc"
    assert_contains "error of: $*" "$needle" "$out"
}
