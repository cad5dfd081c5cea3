#!/bin/bash
# vswitchd's event hooks (--hooks-dir) and the stats endpoint's event
# stream (GET /v1/events): for a switch created and deleted, a port
# attached and detached and its link going up and down (a VM opening and
# closing its tap), each hook gets the event's JSON on stdin and its name
# as argument, in order, in a clean environment; a hook that hangs is
# killed at its timeout while `vswctl --wait` stays fast and the next
# events still come; a failing hook's exit status and output are logged;
# a hook that others may write is not run; the same events arrive as
# server-sent events, and a client resuming with Last-Event-ID gets what
# it missed.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v curl >/dev/null || skip "curl is not installed"
command -v jq >/dev/null || skip "jq is not installed"

hooks="$T_DIR/hooks"
mkdir -p "$hooks"
chmod 755 "$hooks"
cat > "$hooks/10-record" <<EOF
#!/bin/sh
env | sort > "$T_DIR/env.\$1"
ls -l /proc/\$\$/fd > "$T_DIR/fds.\$1"
{ printf '%s ' "\$1"; cat; } >> "$T_DIR/events"
EOF
cat > "$hooks/20-hang" <<EOF
#!/bin/sh
[ "\$1" = port-attached ] && [ ! -e "$T_DIR/hung" ] \\
    && touch "$T_DIR/hung" && exec sleep 1000
exit 0
EOF
cat > "$hooks/25-sleepy" <<'EOF'
#!/bin/sh
# Never reads its stdin.
[ "$1" = port-attached ] && exec sleep 3
exit 0
EOF
cat > "$hooks/30-fail" <<'EOF'
#!/bin/sh
[ "$1" = switch-created ] && { echo "boom on $1"; exit 3; }
exit 0
EOF
cat > "$hooks/40-writable" <<EOF
#!/bin/sh
touch "$T_DIR/writable-ran"
EOF
cp "$hooks/40-writable" "$hooks/.hidden"
cat > "$hooks/50-late" <<EOF
#!/bin/sh
touch "$T_DIR/late-ran.\$1"
EOF
cat > "$T_DIR/elsewhere" <<EOF
#!/bin/sh
touch "$T_DIR/symlink-ran"
EOF
chmod 755 "$hooks"/* "$T_DIR/elsewhere"
chmod 775 "$hooks/40-writable"
ln -s "$T_DIR/elsewhere" "$hooks/60-symlink"

sw=$(new_netns sw)
start_vswitchd "$sw" --hooks-dir="$hooks" --hook-timeout=2
ctl() { vswctl_in "$sw" "$@"; }
sock="$T_DIR/$sw/run/stats.sock"
log="$T_DIR/$sw/state/vswitchd.log"
curl --silent -N --unix-socket "$sock" http://localhost/v1/events \
    > "$T_DIR/sse" 2>&1 &
sleep 0.3

# events_of NAME: the JSON lines the record hook got for event NAME.
events_of() { sed -n "s/^$1 //p" "$T_DIR/events" 2>/dev/null; }
has_event() { [ -n "$(events_of "$1")" ]; }
# The event EVENT for port PORT: others of its kind may already be there.
port_event() { events_of "$1" | jq -r --arg p "$2" 'select(.port == $p) | .port'; }
has_port_event() { [ -n "$(port_event "$1" "$2")" ]; }

note "switch-created"
ctl --wait add-switch s0 --type private || die "add-switch"
wait_for 5 has_event switch-created || fail "no switch-created event"
ev=$(events_of switch-created | head -1)
assert_eq "event" switch-created "$(echo "$ev" | jq -r .event)"
assert_eq "switch" s0 "$(echo "$ev" | jq -r .switch)"
assert_eq "schema_version" 1 "$(echo "$ev" | jq .schema_version)"
assert_contains "time" "Z" "$(echo "$ev" | jq -r .time)"
env_seen=$(cat "$T_DIR/env.switch-created")
# (The shell adds PWD, and bash SHLVL and _.)
assert_eq "a clean environment: nothing of vswitchd's" "LANG PATH VSW_EVENT" \
    "$(echo "$env_seen" | cut -d= -f1 | grep -v -e '^_$' -e '^PWD$' -e '^SHLVL$' \
       | tr '\n' ' ' | sed 's/ $//')"
assert_contains "VSW_EVENT" "VSW_EVENT=switch-created" "$env_seen"
failed() { grep -q "30-fail (switch-created): exit status 3" "$log"; }
wait_for 5 failed || fail "the failing hook's exit is not in the log"
assert_contains "its output logged" "boom on switch-created" "$(cat "$log")"
assert_contains "a hook others may write: refused" "40-writable: not root's alone" \
    "$(cat "$log")"
[ -e "$T_DIR/writable-ran" ] && fail "a group-writable hook ran"
[ -e "$T_DIR/symlink-ran" ] && fail "a symbolic link ran as a hook"
assert_contains "a symbolic link: refused" "60-symlink: a symbolic link" \
    "$(cat "$log")"
fds=$(cat "$T_DIR/fds.switch-created")
case $fds in
    *vswitchd*|*socket:*|*conf.db*) fail "vswitchd's files leaked into a hook: $fds" ;;
esac
wait_for 3 test -e "$T_DIR/late-ran.switch-created" || fail "50-late did not run"
# Made another user's after the directory was read: refused at its next run.
chown 65534 "$hooks/50-late"

note "port-attached, while a hook hangs on it: vswctl --wait stays fast"
t=$(date +%s%N)
ctl --wait add-port s0 vm0 --mac 52:54:00:ee:00:01 \
    -- set port vm0 external_ids:vm-id=vm-zero || fail "add-port"
ms=$(( ($(date +%s%N) - t) / 1000000 ))
note "add-port with a hook hanging on its event: $ms ms"
wait_for 5 has_event port-attached || fail "no port-attached event"
ev=$(events_of port-attached | head -1)
assert_eq "port" vm0 "$(echo "$ev" | jq -r .port)"
assert_eq "its VM" vm-zero "$(echo "$ev" | jq -r .vm.vm_id)"
assert_eq "ifindex" "$(ifindex "$sw" vm0)" "$(echo "$ev" | jq -r .details.ifindex)"
wait_for 2 test -e "$T_DIR/hung" || fail "the hanging hook did not start"
t=$(date +%s%N)
ctl --wait add-port s0 vm1 || fail "add-port vm1"
ms=$(( ($(date +%s%N) - t) / 1000000 ))
note "add-port while a hook hangs: $ms ms"
[ "$ms" -lt 1000 ] || fail "a hanging hook slowed vswctl --wait: $ms ms"
killed() { grep -q "20-hang (port-attached): killed after 2 s" "$log"; }
wait_for 5 killed || fail "the hanging hook was not killed at its timeout"
pgrep -f "sleep 1000" >/dev/null && fail "the hung hook's process survived"

[ -e "$T_DIR/late-ran.port-attached" ] \
    && fail "a hook that became another user's still ran"

note "a hook that never reads its stdin, and a 100 kB event: vswitchd goes on"
big=$(head -c 100000 /dev/zero | tr '\0' v)
t=$(date +%s%N)
ctl --wait add-port s0 big0 -- set port big0 "external_ids:vm-id=$big" \
    || fail "add-port big0"
ctl --wait add-port s0 big1 || fail "add-port big1"
ms=$(( ($(date +%s%N) - t) / 1000000 ))
note "two add-ports with a 100 kB event pending: $ms ms"
[ "$ms" -lt 1500 ] || fail "a big event for a hook that does not read held vswitchd: $ms ms"
big_seen() { events_of port-attached | grep -q big0; }
wait_for 5 big_seen || fail "the big event did not reach the recording hook"
assert_eq "its vm-id cut at 1024 bytes" 1024 \
    "$(events_of port-attached | grep big0 | head -1 | jq -r '.vm.vm_id | length')"
ctl --wait del-port big0 -- del-port big1

note "link-up and link-down: a VM opens its tap, then closes it"
open_tap "$sw" vm0 2 >/dev/null &
vm=$!
wait_for 5 has_event link-up || fail "no link-up event"
wait $vm
wait_for 5 has_event link-down || fail "no link-down event"
assert_eq "link-up's port" vm0 "$(events_of link-up | head -1 | jq -r .port)"

note "port-detached, switch-deleted"
ctl --wait del-port vm0 || fail "del-port"
# big0 and big1 were detached above: wait for vm0's own event.
wait_for 5 has_port_event port-detached vm0 || fail "no port-detached for vm0"
assert_eq "detached port" vm0 "$(port_event port-detached vm0)"
ctl --wait del-switch s0 || fail "del-switch"
wait_for 5 has_event switch-deleted || fail "no switch-deleted event"

note "in order, each once, to every hook"
seqs=$(cut -d' ' -f2- "$T_DIR/events" | jq -s 'map(.seq) | join(" ")' -r)
sorted=$(echo "$seqs" | tr ' ' '\n' | sort -n | uniq | tr '\n' ' ' | sed 's/ $//')
assert_eq "sequence numbers in order, no duplicate" "$sorted" "$seqs"

note "the same events as server-sent events"
sse_has() { grep -q "^event: $1" "$T_DIR/sse"; }
for e in switch-created port-attached link-up link-down port-detached \
         switch-deleted; do
    wait_for 3 sse_has "$e" || fail "/v1/events: no $e"
done
first=$(grep -m1 '^data: ' "$T_DIR/sse" | cut -c7-)
assert_eq "data is the event's JSON" switch-created "$(echo "$first" | jq -r .event)"
id=$(grep -m1 '^id: ' "$T_DIR/sse" | cut -c5-)
again=$(timeout 2 curl --silent -N --unix-socket "$sock" \
            -H "Last-Event-ID: $id" http://localhost/v1/events)
assert_contains "resumed after Last-Event-ID $id" "id: $((id + 1))" "$again"
case $again in *"id: $id"$'\n'*) fail "resumed stream repeats event $id" ;; esac
streams=()
for i in $(seq 15); do
    curl --silent -N --unix-socket "$sock" http://localhost/v1/events \
        > /dev/null 2>&1 &
    streams+=($!)
done
sleep 0.5
assert_contains "a 17th stream is refused, the endpoint keeps room" "503" \
    "$(curl --silent -o /dev/null -w '%{http_code}' --max-time 3 \
        --unix-socket "$sock" http://localhost/v1/events)"
assert_eq "/v1/stats still answers" 200 \
    "$(curl --silent -o /dev/null -w '%{http_code}' --max-time 3 \
        --unix-socket "$sock" http://localhost/v1/stats)"
kill "${streams[@]}" 2>/dev/null
wait "${streams[@]}" 2>/dev/null

exit $T_FAILED
