#!/bin/bash
# Faults and timing: an idle daemon on a fresh database does not spin; a
# burst of link notifications costs a few passes, not one per message; a
# kill -9 at every step of creating a port leaves nothing that a restart
# cannot finish; --wait notices a dead daemon and honours --timeout; a
# torn database is noticed, kept, and deletes nothing; --detach lets go of
# the caller's output; one vswitchd per run directory; the vhost-net socket
# answers root promptly under a flood and tells other users nothing.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
[ -x /usr/bin/python3 ] || skip "python3 is not installed"
command -v jq >/dev/null || skip "jq is not installed"

# cpu_ticks PID: user + system clock ticks the process used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# idle_ticks PID SECONDS: ticks used over SECONDS.
idle_ticks() {
    local t1 t2
    t1=$(cpu_ticks "$1"); sleep "$2"; t2=$(cpu_ticks "$1")
    echo $((t2 - t1))
}
counter() {
    vswctl_in "$1" appctl dp/counters | sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}
kill_vswitchd() {
    local pid
    pid=$(vswitchd_pid "$1")
    kill -9 "$pid"
    wait_gone "$pid"
}

note "a fresh database: the Root row is made, and the daemon sleeps"
ns=$(new_netns idle)
start_vswitchd "$ns"
pid=$(vswitchd_pid "$ns")
sleep 0.5
out=$(in_ns "$ns" ovsdb-client dump "unix:$T_DIR/$ns/run/db.sock" Root _uuid)
assert_contains "Root row created by vswitchd" "Root table" "$out"
[ "$(echo "$out" | grep -c -- '-')" -ge 2 ] || fail "no Root row: $out"
ticks=$(idle_ticks "$pid" 2)
[ "$ticks" -le 5 ] || fail "idle vswitchd used $ticks ticks in 2 s"
if grep -q "0-ms timeout" "$T_DIR/$ns/state/vswitchd.log"; then
    fail "vswitchd woke on 0-ms timeouts while idle"
fi

note "a burst of 400 link notifications is drained in a few passes"
vswctl_in "$ns" --wait add-switch s0 --type private || die "add-switch"
passes1=$(counter "$ns" passes)
notify1=$(counter "$ns" notify)
for i in $(seq 200); do
    echo "link add name fx$i type veth peer name fy$i"
done > "$T_DIR/burst"
ip -n "$ns" -batch "$T_DIR/burst" || die "ip -batch"
sleep 1
passes2=$(counter "$ns" passes)
notify2=$(counter "$ns" notify)
[ $((notify2 - notify1)) -ge 200 ] \
    || fail "only $((notify2 - notify1)) notifications counted"
# Each loop iteration drains the socket and runs at most one pass, so a
# burst costs a pass per wake-up, not one per message.
[ $(( (passes2 - passes1) * 10 )) -le $((notify2 - notify1)) ] \
    || fail "$((passes2 - passes1)) passes for $((notify2 - notify1)) notifications"
ticks=$(idle_ticks "$pid" 2)
[ "$ticks" -le 5 ] || fail "vswitchd used $ticks ticks in 2 s after a burst"

note "notifications overrun (ENOBUFS): one resync, and the state converges"
n3=$(new_netns nobufs)
VSW_TEST_RCVBUF=2048 start_vswitchd "$n3"
vswctl_in "$n3" --wait add-switch ob0 --type private || fail "add-switch"
ip -n "$n3" -batch "$T_DIR/burst" || fail "ip -batch"
vswctl_in "$n3" --wait add-port ob0 ob1 || fail "add-port after an overrun"
resyncs=$(counter "$n3" resync)
[ "${resyncs:-0}" -ge 1 ] || fail "no overrun seen with a 2 KiB buffer"
assert_eq "port made after the overrun" up \
    "$(vswctl_in "$n3" get port ob1 status:state)"
ip -n "$n3" link del ob1
has_ob1() { [ -n "$(ifindex "$n3" ob1)" ]; }
wait_for 5 has_ob1 || fail "tap deleted after an overrun not made again"

note "a full disk: the change is refused with the reason, nothing spins"
n4=$(new_netns full)
mkdir -p "$T_DIR/$n4/state"
mount -t tmpfs -o size=2m vsw-test "$T_DIR/$n4/state"
T_MOUNTS+=("$T_DIR/$n4/state")
start_vswitchd "$n4"
vswctl_in "$n4" --wait add-switch fd0 --type internal || fail "add-switch"
dd if=/dev/zero of="$T_DIR/$n4/state/fill" bs=4k 2>/dev/null
args=(); for i in $(seq 60); do args+=(-- add-port fd0 "f$i"); done
expect_error 1 "could not write its file (No space left on device): nothing was changed" \
    vswctl_in "$n4" --wait "${args[@]:1}"
ticks=$(idle_ticks "$(vswitchd_pid "$n4")" 2)
[ "$ticks" -le 5 ] || fail "vswitchd used $ticks ticks in 2 s with a full disk"
assert_eq "the switch kept" bridge "$(kind_of "$n4" fd0)"
grep -q "ovsdb-server: .*No space left on device" \
    "$T_DIR/$n4/state/vswitchd.log" || fail "the server's error not in vswitchd's log"
rm -f "$T_DIR/$n4/state/fill"
vswctl_in "$n4" --wait add-port fd0 after0 || fail "after freeing room"
stop_vswitchd "$n4"

note "kill -9 at every step of making a port; a restart finishes it"
# The database outlives the daemon; vswitchd is started under strace, which
# kills it at its K-th ioctl (TUNSETIFF, TUNSETOWNER, TUNSETPERSIST, ...),
# or at its K-th netlink message for K > 20.
if command -v strace >/dev/null; then
    kill_vswitchd "$ns"
    hits=0
    for k in 1 2 3 4 5 6 21 22 23 24 25 26; do
        vswctl_in "$ns" add-port s0 "k$k" >/dev/null || fail "add-port k$k"
        if [ "$k" -le 20 ]; then
            inject="inject=ioctl:signal=KILL:when=$k"
        else
            inject="inject=sendmsg:signal=KILL:when=$((k - 20))"
        fi
        in_ns "$ns" strace -f -o /dev/null -e trace=ioctl,sendmsg \
            -e "$inject" vswitchd --pidfile -vconsole:off --log-file \
            >/dev/null 2>&1 &
        tracer=$!
        # Until the kill, or until the port is made (the K-th call would
        # come after it, if at all).
        for i in $(seq 40); do
            kill -0 "$tracer" 2>/dev/null || break
            [ "$(vswctl_in "$ns" --timeout=1 get port "k$k" status:state \
                 2>/dev/null)" = up ] && break
            sleep 0.1
        done
        if kill -0 "$tracer" 2>/dev/null; then
            kill_vswitchd "$ns"         # Finished before the K-th call.
        else
            hits=$((hits + 1))
        fi
        wait "$tracer"
        start_vswitchd "$ns"
        vswctl_in "$ns" --wait set root . other_config:k=$k \
            || fail "--wait after a kill at step $k"
        assert_eq "port k$k after a kill at step $k" up \
            "$(vswctl_in "$ns" get port "k$k" status:state)"
        assert_eq "tap k$k tagged" "vsw:" "$(alias_of "$ns" "k$k" | cut -c1-4)"
        kill_vswitchd "$ns"
    done
    [ "$hits" -ge 8 ] || fail "only $hits of 12 kill points were reached"
    assert_eq "nothing half-made left" "" \
        "$(ip -n "$ns" -o link show | grep -o 'vswt[0-9a-f]*')"
    start_vswitchd "$ns"
else
    note "SKIP part: strace is not installed"
fi

note "--wait: a dead daemon is noticed, --timeout is honoured"
pid=$(vswitchd_pid "$ns")
kill -9 "$pid"
wait_gone "$pid"
start=$(date +%s)
expect_error 1 "vswitchd is not running" \
    vswctl_in "$ns" --wait add-switch w0 --type private
assert_eq "refused --wait wrote nothing" "" \
    "$(vswctl_in "$ns" --if-exists get switch w0 name 2>/dev/null)"
start_vswitchd "$ns"
pid=$(vswitchd_pid "$ns")
kill -STOP "$pid"
start=$(date +%s)
in_ns "$ns" vswctl --timeout 2 --wait add-switch w1 --type private \
    >/dev/null 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
kill -CONT "$pid"
assert_ne "--timeout 2 on a stopped vswitchd: exit code" 0 "$rc"
[ "$elapsed" -le 5 ] || fail "--timeout 2 took $elapsed s"
# The daemon dies while a --wait is waiting: told, not hung.
kill -STOP "$pid"
in_ns "$ns" vswctl --wait add-switch w2 --type private \
    > "$T_DIR/wait.out" 2>&1 &
waiter=$!
sleep 0.5
kill -9 "$pid"
kill -CONT "$pid" 2>/dev/null
gone_waiter() { ! kill -0 "$waiter" 2>/dev/null; }
if ! wait_for 5 gone_waiter; then
    kill "$waiter"
    fail "--wait hangs after vswitchd was killed"
fi
assert_contains "--wait after a kill" "the change is stored" \
    "$(cat "$T_DIR/wait.out")"
start_vswitchd "$ns"

note "options as two words"
vswctl_in "$ns" --timeout 10 add-switch o1 --type private || fail "--timeout 10"
in_ns "$ns" vswctl -t 10 --if-exists del-switch o1 || fail "-t 10"
in_ns "$ns" vswctl -f json list-switches | jq -e 'type == "array"' >/dev/null \
    || fail "-f json"
in_ns "$ns" vswctl --host "" list-switches >/dev/null || fail "--host X"
expect_error 2 "--bogus" in_ns "$ns" vswctl --bogus list-switches

note "a torn database: noticed, copied, nothing deleted until acknowledged"
vswctl_in "$ns" --wait add-switch t1 --type private || fail "add t1"
vswctl_in "$ns" --wait add-switch t2 --type private || fail "add t2"
dbpid=$(cat "$T_DIR/$ns/run/ovsdb-server.pid")
stop_vswitchd "$ns"
wait_gone "$dbpid"                          # As after a power cut.
dbfile="$T_DIR/$ns/state/conf.db"
# Tear the file in the middle of t2's record: it and all after it are lost.
/usr/bin/python3 - "$dbfile" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
at = data.rfind(b'"t2"')
open(sys.argv[1], "r+b").truncate(at)
EOF
recording_hooks "$T_DIR/hooks"
clean_starts() {
    grep -c "as the last clean stop left it" "$T_DIR/$ns/state/vswitchd.log"
}
n_clean=$(clean_starts)
start_vswitchd "$ns" --hooks-dir="$T_DIR/hooks"
vswctl_in "$ns" --wait set root . other_config:torn=1 || fail "--wait"
# The clean stop's note of the file does not match the torn file.
assert_eq "a database torn after a clean stop is read again" "$n_clean" \
    "$(clean_starts)"
assert_eq "t2's row is gone with the tear" "" \
    "$(vswctl_in "$ns" --if-exists get switch t2 name 2>/dev/null)"
assert_eq "t2's bridge is kept" bridge "$(kind_of "$ns" t2)"
assert_contains "damage in Root.status" "is damaged" \
    "$(vswctl_in "$ns" get root . status:db_damaged)"
assert_contains "damage in vswctl show" "damaged" "$(vswctl_in "$ns" show)"
wait_for 3 has_event "$T_DIR/hooks" database-damaged "is damaged" \
    || fail "no database-damaged event: $(cat "$T_DIR/hooks.events" 2>&1)"
grep -q "ERR|.*is damaged" "$T_DIR/$ns/state/vswitchd.log" \
    || fail "no ERR line about the damage in vswitchd's log"
ls "$dbfile".damaged-* >/dev/null 2>&1 || fail "no copy of the damaged file"
vswctl_in "$ns" appctl db/acknowledge-damage >/dev/null || fail "acknowledge"
gone() { [ -z "$(ifindex "$ns" "$1")" ]; }
wait_for 5 gone t2 || fail "t2's bridge not deleted once acknowledged"
assert_eq "t1 kept" bridge "$(kind_of "$ns" t1)"
stop_vswitchd "$ns"
start_vswitchd "$ns"
vswctl_in "$ns" --wait set root . other_config:torn=2 || fail "--wait"
assert_eq "acknowledged damage stays forgotten after a restart" "" \
    "$(vswctl_in "$ns" get root . status:db_damaged 2>/dev/null)"

note "a torn schema record: vswitchd refuses to start, and says so in its log"
dbpid=$(cat "$T_DIR/$ns/run/ovsdb-server.pid")
stop_vswitchd "$ns"
wait_gone "$dbpid"
cp "$dbfile" "$T_DIR/good.db"
truncate -s 100 "$dbfile"
out=$(timeout -k 1 20 ip netns exec "$ns" env VSW_STATE_DIR="$T_DIR/$ns/state" \
      VSW_RUN_DIR="$T_DIR/$ns/run" vswitchd --pidfile --log-file \
      -vconsole:off 2>&1)
assert_eq "exit code with a torn schema record" 1 "$?"
assert_contains "the error on stderr" "failed" "$out"
grep -q "EMER|.*failed" "$T_DIR/$ns/state/vswitchd.log" \
    || fail "the start error is not in vswitchd's log"
cp "$T_DIR/good.db" "$dbfile"
vswctl_in "$ns" appctl db/acknowledge-damage >/dev/null 2>&1
rm -f "$T_DIR/$ns/state/conf.db.damaged"
start_vswitchd "$ns"

note "one vswitchd per run directory"
out=$(timeout -k 1 10 ip netns exec "$ns" env VSW_STATE_DIR="$T_DIR/$ns/state" \
      VSW_RUN_DIR="$T_DIR/$ns/run" vswitchd --pidfile=$T_DIR/second.pid \
      -vconsole:off 2>&1)
rc=$?
assert_eq "second vswitchd exit code" 1 "$rc"
assert_contains "second vswitchd refused" "another vswitchd is running" "$out"
vswctl_in "$ns" --wait set root . other_config:second=1 \
    || fail "the first vswitchd was disturbed by the second"

note "one vswitchd per network namespace, whatever its directories"
mkdir -p "$T_DIR/other"
out=$(timeout -k 1 10 ip netns exec "$ns" env VSW_STATE_DIR="$T_DIR/other" \
      VSW_RUN_DIR="$T_DIR/other" vswitchd -vconsole:off 2>&1)
assert_eq "a vswitchd with other directories, same namespace" 1 "$?"
assert_contains "why" "another vswitchd is running in this network namespace" \
    "$out"
assert_eq "the first one's bridge untouched" bridge "$(kind_of "$ns" t1)"

note "a VM holds its tap: an owner change waits instead of cutting it off"
vswctl_in "$ns" --wait add-port t1 held0 || fail "add held0"
before=$(ifindex "$ns" held0)
open_tap "$ns" held0 4 >/dev/null &
vm=$!
sleep 1
vswctl_in "$ns" --wait set port held0 owner=nobody
assert_eq "tap kept while the VM holds it" "$before" "$(ifindex "$ns" held0)"
assert_contains "status says it waits" "waits: a VM has tap held0 open" \
    "$(vswctl_in "$ns" get port held0 status:error)"
wait "$vm"
owner_is_nobody() {
    [ "$(ip netns exec "$ns" cat /sys/class/net/held0/owner 2>/dev/null)" = 65534 ]
}
wait_for 8 owner_is_nobody || fail "owner not applied once the VM let go"

note "--detach lets go of the caller's output"
n2=$(new_netns detach)
T_PIDFILES+=("$T_DIR/$n2/run/vswitchd.pid" "$T_DIR/$n2/run/ovsdb-server.pid")
if ! timeout -k 1 10 bash -c "VSW_STATE_DIR=$T_DIR/$n2/state \
        VSW_RUN_DIR=$T_DIR/$n2/run ip netns exec $n2 vswitchd --detach \
        --pidfile --log-file -vconsole:off | cat" >/dev/null; then
    fail "vswitchd --detach | cat did not return"
fi

note "the vhost-net socket: root first under a flood, nothing for others"
vswctl_in "$ns" --wait add-port t1 vh0 --kind=vhost-net || fail "add vh0"
sock="$T_DIR/$ns/run/vhost-net.sock"
chmod 755 "$T_DIR" "$T_DIR/$ns" "$T_DIR/$ns/run"
cat > "$T_DIR/vhost.py" <<'EOF'
import socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
if mode == "flood":
    held = []
    for i in range(200):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(path)
            held.append(s)
        except OSError:
            pass
    time.sleep(float(sys.argv[3]))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    t = time.time()
    s.connect(path)
    s.send(mode.encode())
    print("%.2f %s" % (time.time() - t, s.recv(512).decode()))
EOF
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    /usr/bin/python3 "$T_DIR/vhost.py" "$sock" flood 4 &
flood=$!
sleep 1
answer=$(/usr/bin/python3 "$T_DIR/vhost.py" "$sock" vh0)
kill "$flood" 2>/dev/null; wait "$flood" 2>/dev/null
secs=${answer%% *}
awk -v s="$secs" 'BEGIN { exit !(s < 0.5) }' \
    || fail "root waited $secs s for the vhost-net socket under a flood"
assert_ne "root's answer" "" "${answer#* }"
other=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    /usr/bin/python3 "$T_DIR/vhost.py" "$sock" vh0)
missing=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    /usr/bin/python3 "$T_DIR/vhost.py" "$sock" nosuch0)
assert_contains "other user refused" "has no port named" "$other"
case "$other" in *vhost-net*|*"not up"*) fail "other user told about vh0: $other" ;; esac
assert_eq "existing and missing ports look alike to another user" \
    "${missing#* }" "$(echo "${other#* }" | sed 's/vh0/nosuch0/')"
