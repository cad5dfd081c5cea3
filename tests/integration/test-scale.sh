#!/bin/bash
# A switch full of ports: 1000 taps in one transaction, then an idle
# daemon (under 1 % of a core over 10 s once --wait has returned, while
# the kernel's linkwatch still announces the new taps); a kill -9 in the
# middle of making 1000 ports and a restart (every port exactly once);
# the bridge's limit of 1023 ports refused up front by vswctl and reported
# by vswitchd for other clients; a VM attaching to its tap shown without a
# pass; all deleted in one transaction.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v jq >/dev/null || skip "jq is not installed"
[ -x /usr/bin/python3 ] || skip "python3 is not installed"

ns=$(new_netns sc)
start_vswitchd "$ns"
vswctl_in "$ns" --wait add-switch p0 --type private || die "add-switch"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
counters() { vswctl_in "$ns" appctl dp/counters; }
taps() { ip -n "$ns" -o link show master p0 | grep -c ': t[0-9]*:'; }

note "1000 ports in one transaction"
args=()
for i in $(seq 1000); do args+=(-- add-port p0 "t$i"); done
start=$(date +%s%N)
in_ns "$ns" vswctl --timeout=120 --wait "${args[@]:1}" || die "1000 ports"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
note "1000 ports applied in $ms ms"
assert_eq "taps on the bridge" 1000 "$(taps)"

note "idle afterwards: under 1 % of a core over 10 s"
# The statistics collector dumps every link with its counters every 5 s:
# its cost is bench/run's to measure (and a sanitized build's dump is
# slow); here the reconciler alone must be idle.
vswctl_in "$ns" set root . other_config:stats-update-interval=0
pid=$(vswitchd_pid "$ns")
t1=$(cpu_ticks "$pid")
sleep 10
t2=$(cpu_ticks "$pid")
[ $((t2 - t1)) -le 10 ] || fail "vswitchd used $((t2 - t1)) ticks in 10 s"
note "$((t2 - t1)) ticks in 10 s; $(counters)"

note "a VM opens its tap: the carrier shows, at the cost of that port only"
# The carrier goes straight to the status; the tap's features (the VM's
# offloads) are read again for its port alone: no full pass, no change.
field() { counters | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
full1=$(field full); conv1=$(field converged); mod1=$(modify_count "$ns")
open_tap "$ns" t7 3 >/dev/null &
vm=$!
t7_link_is() { [ "$(vswctl_in "$ns" get port t7 status:link)" = "$1" ]; }
wait_for 2 t7_link_is up
assert_eq "t7 link with a VM on it" up \
    "$(vswctl_in "$ns" get port t7 status:link)"
assert_eq "full passes for a carrier change" "$full1" "$(field full)"
[ $(( $(field converged) - conv1 )) -le 2 ] \
    || fail "a carrier change converged $(( $(field converged) - conv1 )) objects"
wait "$vm"
wait_for 2 t7_link_is down
assert_eq "t7 link once the VM is gone" down \
    "$(vswctl_in "$ns" get port t7 status:link)"
assert_eq "modifying requests for a VM coming and going" "$mod1" \
    "$(modify_count "$ns")"

note "the bridge's limit: 1023 ports"
args=()
for i in $(seq 1001 1024); do args+=(-- add-port p0 "t$i"); done
expect_error 1 "switch \"p0\" is full" vswctl_in "$ns" "${args[@]:1}"
assert_contains "one transaction past the limit adds nothing" \
    "ports: 1000 of 1023" "$(vswctl_in "$ns" show | grep ports:)"
args=()
for i in $(seq 1001 1023); do args+=(-- add-port p0 "t$i"); done
vswctl_in "$ns" --wait "${args[@]:1}" || fail "up to the limit"
assert_eq "taps at the limit" 1023 "$(taps)"
expect_error 1 "switch \"p0\" is full: a Linux bridge takes at most 1023 ports" \
    vswctl_in "$ns" add-port p0 t1024
assert_contains "show says how many" "ports: 1023 of 1023 (room for 0 more)" \
    "$(vswctl_in "$ns" show | grep ports:)"
in_ns "$ns" ovsdb-client transact "unix:$T_DIR/$ns/run/db.sock" \
    '["VSwitch",{"op":"insert","table":"Port",
      "row":{"name":"t1024","kind":"tap","queues":1,
             "switch":["uuid","'"$(vswctl_in "$ns" get switch p0 _uuid)"'"]}}]' \
    >/dev/null \
    || fail "raw insert"
vswctl_in "$ns" --wait set root . other_config:x=1
assert_contains "the 1024th, through the database" "switch p0 is full" \
    "$(vswctl_in "$ns" get port t1024 status:error)"
assert_eq "no tap for the 1024th" "" "$(ifindex "$ns" t1024)"
assert_eq "ports in place keep theirs" up \
    "$(vswctl_in "$ns" get port t1023 status:state)"
vswctl_in "$ns" del-port t1024 || fail "del-port t1024"

note "all deleted in one transaction"
args=()
for i in $(seq 1023); do args+=(-- del-port "t$i"); done
in_ns "$ns" vswctl --timeout=120 --wait "${args[@]:1}" || fail "delete all"
assert_eq "no taps left" 0 "$(taps)"

note "kill -9 in the middle of making 1000 ports, then a restart"
args=()
for i in $(seq 1000); do args+=(-- add-port p0 "k$i"); done
in_ns "$ns" vswctl --timeout=120 "${args[@]:1}" || die "1000 ports"
sleep 0.3
kill -9 "$pid"
wait_gone "$pid"
made=$(ip -n "$ns" -o link show | grep -c ': k[0-9]*:')
note "$made of 1000 taps made before the kill"
start_vswitchd "$ns"
vswctl_in "$ns" --timeout=120 --wait set root . other_config:x=2 \
    || fail "--wait after restart"
assert_eq "every port exactly once" 1000 \
    "$(ip -n "$ns" -o link show | grep -c ': k[0-9]*:')"
assert_eq "on the bridge" 1000 \
    "$(ip -n "$ns" -o link show master p0 | grep -c ': k[0-9]*:')"
assert_eq "none half-made" 0 "$(ip -n "$ns" -o link show | grep -c vswt)"
assert_eq "ports up" 1000 \
    "$(vswctl_in "$ns" --format=json list port | jq '[.data[]] | length')"
errors=$(vswctl_in "$ns" --format=json --columns=status list port \
         | grep -c '"error"')
assert_eq "ports in error" 0 "$errors"
