# Helpers for lab tests (sourced inside the guest; busybox sh).
#
# A test exits 0 when it passed, 1 when it failed, 77 when it cannot run.
# fail() records a failure and goes on; die() stops the test.  Namespaces
# the test creates are removed by init after each test.
set -u
FAILED=0

# busybox sh runs its own applets before anything in PATH; these are the
# real iproute2/ethtool/kmod programs the lab is about.
for prog in ip tc bridge ethtool modprobe; do
    eval "$prog() { /usr/bin/$prog \"\$@\"; }"
done
modprobe() { /sbin/modprobe "$@"; }
fail() { echo "FAIL: $*"; FAILED=1; }
die() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "--- $*"; }
finish() { [ $FAILED -eq 0 ] && echo "PASS" && exit 0; exit 1; }

load() {        # load MODULE...: modprobe, or die with the reason
    for m in "$@"; do
        modprobe "$m" 2>/tmp/modprobe.err \
            || die "modprobe $m: $(cat /tmp/modprobe.err)"
    done
}

assert_eq() {
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}
assert_contains() {
    case "$3" in
        *"$2"*) ;;
        *) fail "$1: '$2' not found in: $3" ;;
    esac
}

# ns_pair NS1 IF1 ADDR1 NS2 IF2 ADDR2: two namespaces joined by a veth.
# (Made under temporary names: the guest's own NICs may hold IF1/IF2.)
ns_pair() {
    ip netns add "$1" 2>/dev/null; ip netns add "$4" 2>/dev/null
    ip link add lab-pa type veth peer name lab-pb || return 1
    ip link set lab-pa netns "$1"; ip link set lab-pb netns "$4"
    ip -n "$1" link set lab-pa name "$2"; ip -n "$4" link set lab-pb name "$5"
    ip -n "$1" addr add "$3" dev "$2"; ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up; ip -n "$4" link set "$5" up
    ip -n "$1" link set lo up; ip -n "$4" link set lo up
}


# virtio_nic [first|last]: the name of one of the guest's virtio-net NICs.
virtio_nic() {
    for d in /sys/class/net/*; do
        [ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" \
          = virtio_net ] && basename "$d"
    done | if [ "${1:-first}" = last ]; then tail -1; else head -1; fi
}

# recording_hooks DIR: makes DIR a hooks directory (vswitchd --hooks-dir)
# whose one hook appends "EVENT JSON" lines to DIR.events.
recording_hooks() {
    mkdir -p "$1"
    printf '#!/bin/sh\n{ printf "%%s " "$1"; cat; } >> %s.events\n' "$1" \
        > "$1/record"
    chmod 755 "$1" "$1/record"
}
# has_event FILE EVENT WORD: FILE has an EVENT line with WORD in it.
has_event() { grep "^$2 " "$1" 2>/dev/null | grep -q "$3"; }
# wait_event FILE EVENT WORD: has_event, waited for up to 3 s.
wait_event() {
    for i in 1 2 3 4 5 6 7 8 9 10; do
        has_event "$@" && return 0
        sleep 0.3
    done
    has_event "$@"
}
