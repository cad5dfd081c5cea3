#!/bin/bash
# vswitchd under systemd: the unit the build makes passes
# `systemd-analyze verify`, and vswitchd speaks systemd's readiness
# protocol (Type=notify): READY=1 comes once the first reconcile pass is
# done, when the database's switches exist in the kernel (so units ordered
# after vswitchd, libvirtd, find their bridges), and STOPPING=1 on a clean
# exit (`vswctl appctl exit`, the unit's ExecStop).  The service manager's
# socket is played by a Python listener ($NOTIFY_SOCKET).
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
unit="$VSW_BIN/../vswitchd.service"
[ -f "$unit" ] || die "no unit at $unit (the build makes it)"

note "the unit"
# Checked with the build's binaries in the installed ones' place.
sed "s|ExecStart=[^ ]*/vswitchd|ExecStart=$VSW_BIN/vswitchd|;
     s|ExecStop=[^ ]*/vswctl|ExecStop=$VSW_BIN/vswctl|" "$unit" \
    > "$T_DIR/vswitchd.service"
out=$(systemd-analyze verify "$T_DIR/vswitchd.service" 2>&1) \
    || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
assert_contains "Type=notify" "Type=notify" "$(cat "$unit")"
assert_contains "before libvirtd" "Before=network.target libvirtd.service" \
    "$(cat "$unit")"

note "READY=1 once the switches exist, STOPPING=1 on exit"
sw=$(new_netns sw)
start_vswitchd "$sw"
vswctl_in "$sw" --wait add-switch s0 --type private || die "add-switch"
stop_vswitchd "$sw"
ip -n "$sw" link del s0     # Made again by the next start's first pass.
# The listener: on READY=1 it notes whether s0 exists at that moment.
ip netns exec "$sw" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as out:
    print("listening", file=out, flush=True)
    while True:
        msg = s.recv(4096).decode()
        seen = "s0 exists" if os.path.exists("/sys/class/net/s0") else "no s0"
        print(msg.replace("\n", " ") + " | " + seen, file=out, flush=True)
        if "STOPPING=1" in msg:
            break
' "$T_DIR/notify.sock" "$T_DIR/notify.log" &
listener=$!
wait_for 5 grep -qs listening "$T_DIR/notify.log" || die "no listener"
T_PIDFILES+=("$T_DIR/$sw/run/vswitchd.pid")
in_ns "$sw" env NOTIFY_SOCKET="$T_DIR/notify.sock" \
    "$VSW_BIN/vswitchd" --pidfile --log-file -vconsole:off &
ready() { grep -q "READY=1" "$T_DIR/notify.log"; }
wait_for 10 ready || fail "no READY=1: $(cat "$T_DIR/notify.log")"
assert_contains "READY=1 after the switch was made" "READY=1 STATUS=switches converged | s0 exists" \
    "$(cat "$T_DIR/notify.log")"
in_ns "$sw" vswctl appctl exit >/dev/null || fail "appctl exit"
wait $listener
assert_contains "STOPPING=1 on a clean exit" "STOPPING=1" "$(cat "$T_DIR/notify.log")"
note "what the service manager heard: $(tr "\n" ";" < "$T_DIR/notify.log")"

exit $T_FAILED
