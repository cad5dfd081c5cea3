#!/bin/bash
# Another user attaches a queue to a multiqueue tap while vsw makes it.
# Until vswitchd gives a new tap its owner, the kernel lets any user who
# can open the tun device attach a queue to a multiqueue tap (a queue that
# would read the VM's traffic and keep the tap alive past a crash).  The
# test widens that window (VSW_TEST_TAP_WINDOW_MS) so that the attacker, an
# unprivileged user polling for the name, gets in every time: vswitchd must
# find the foreign queue, delete the tap with it, and make the tap again.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
[ -x /usr/bin/python3 ] || skip "python3 is not installed"

# The attacker's own node of the tun device, open to everyone as Debian's
# /dev/net/tun is (some containers make that one root's only).
node_dir=$(mktemp -d "$T_DIR/tun.XXXXXX")
chmod 711 "$T_DIR" "$node_dir"
mknod -m 666 "$node_dir/tun" c 10 200 2>/dev/null \
    || skip "cannot make a tun device node here (a nodev file system?)"

ns=$(new_netns mq)
VSW_TEST_TAP_WINDOW_MS=400 start_vswitchd "$ns"
vswctl_in "$ns" --wait add-switch m1 --type private || die "setup m1"

note "an unprivileged user polls for the new tap's name"
in_ns "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups \
    /usr/bin/python3 -c '
import fcntl, os, struct, sys, time
TUNSETIFF = 0x400454ca
flags = 0x0002 | 0x1000 | 0x0100          # IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE
ifr = struct.pack("16sH22x", b"mq0", flags)
deadline = time.time() + 10
while time.time() < deadline:
    fd = os.open(sys.argv[1], os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifr)
    except OSError:
        os.close(fd)
        time.sleep(0.002)
        continue
    print("attached", flush=True)
    time.sleep(30)                          # Holding the queue.
print("never attached", flush=True)
' "$node_dir/tun" > "$T_DIR/attacker.out" 2>&1 &
sleep 0.3
vswctl_in "$ns" add-port m1 mq0 --queues=2 || fail "add mq0"
attached() { grep -q attached "$T_DIR/attacker.out"; }
wait_for 10 attached \
    || die "the attacker never reached the window: $(cat "$T_DIR/attacker.out")"
assert_eq "the attacker got in (as the test means it to)" attached \
    "$(head -1 "$T_DIR/attacker.out")"

note "vswitchd finds the foreign queue, deletes the tap, makes it again"
mq_error() { vswctl_in "$ns" get port mq0 status:error 2>/dev/null; }
saw_it() { [[ "$(mq_error)" == *"another process attached a queue"* ]]; }
wait_for 5 saw_it || fail "foreign queue not reported: '$(mq_error)'"
mq_up() { [ "$(vswctl_in "$ns" get port mq0 status:state)" = up ]; }
wait_for 15 mq_up || fail "mq0 not made again: '$(mq_error)'"
assert_contains "the tap made again holds no queue (no VM, no attacker)" \
    "numqueues 0" "$(ip -n "$ns" -d link show mq0)"
assert_eq "the tap made again is root's" 0 \
    "$(ip netns exec "$ns" cat /sys/class/net/mq0/owner)"
assert_eq "made in full once (the first try was refused)" 1 \
    "$(grep -c "created port mq0" "$T_DIR/$ns/state/vswitchd.log")"
