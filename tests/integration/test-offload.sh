#!/bin/bash
# Offload negotiation with an uplink on the development kernel, a veth
# standing in for the NIC (its checksum/TSO/GRO toggles work; LRO,
# rx-hashing and hw-tc-offload it does not have; 4 receive channels and no
# RSS table or ntuple filters): requested, effective and
# reason for every feature, the operator's policy applied and read back
# from the kernel, bad input refused with the valid choices, no request at
# all once negotiated (also across a restart), and the uplink put back as
# it was found when the switch is deleted.  Receive queues: the channel
# count set and read back, a count above the device's maximum refused by
# vswctl, a setting the device cannot take refused as a whole, RSS and VMQ
# reported as unsupported with the reason, a channel change behind vsw's
# back undone on the ethtool notification.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v ethtool >/dev/null || skip "ethtool is not installed"

ns=$(new_netns sw)
ip -n "$ns" link add u0 numrxqueues 4 numtxqueues 4 type veth \
    peer name u0-peer numrxqueues 4 numtxqueues 4
recording_hooks "$T_DIR/hooks"
start_vswitchd "$ns" --hooks-dir="$T_DIR/hooks"
ctl() { vswctl_in "$ns" "$@"; }
getv() { ctl get "$@" | tr -d '"'; }
feature() {     # feature NAME: ethtool's on/off for kernel feature NAME
    ip netns exec "$ns" ethtool -k u0 | sed -n "s/^[[:space:]]*$1: \([a-z]*\).*/\1/p"
}
before_tso=$(feature tx-tcp-segmentation)
before_gro=$(feature generic-receive-offload)
before_gso=$(feature generic-segmentation-offload)
rx_channels() {
    ip netns exec "$ns" ethtool -l u0 | awk '/^Current/ {c=1} c && /^RX:/ {print $2}'
}

ctl --wait add-switch ext0 --uplink u0 || die "add-switch"

note "auto: what the device can change goes on; what it cannot, says why"
assert_eq "tso requested" "on (auto)" "$(getv switch ext0 offload_requested:tso)"
assert_eq "tso effective" on "$(getv switch ext0 offload_effective:tso)"
assert_eq "gro turned on (auto)" on "$(feature generic-receive-offload)"
assert_eq "lro stays off" off "$(getv switch ext0 offload_effective:lro)"
assert_contains "lro reason" "coalesced frames must not be forwarded" \
    "$(getv switch ext0 offload_reason:lro)"
assert_contains "hw-tc-offload reason" "not supported by the device" \
    "$(getv switch ext0 offload_reason:hw-tc-offload)"

note "the operator's policy, read back from the kernel"
ctl --wait offload set ext0 tso=off lro=on || fail "offload set"
assert_eq "tso off in the kernel" off "$(feature tx-tcp-segmentation)"
# tso is the whole IPv4 TCP segmentation group, as ethtool -K tso sets it.
for bit in tx-tcp-ecn-segmentation tx-tcp-mangleid-segmentation \
           tx-tcp-accecn-segmentation; do
    state=$(feature "$bit")
    [ -z "$state" ] || assert_eq "tso=off: $bit" off "$state"
done
assert_eq "tso=off leaves tso6" on "$(feature tx-tcp6-segmentation)"
assert_eq "tso effective" off "$(getv switch ext0 offload_effective:tso)"
wait_for 3 has_event "$T_DIR/hooks" offload-renegotiated '"tso":"on -> off"' \
    || fail "no offload-renegotiated event: $(cat "$T_DIR/hooks.events")"
assert_eq "lro requested" on "$(getv switch ext0 offload_requested:lro)"
assert_eq "lro effective" off "$(getv switch ext0 offload_effective:lro)"
assert_contains "lro refused with the reason" "not supported by the device" \
    "$(getv switch ext0 offload_reason:lro)"
out=$(ctl --format=json offload show ext0)
assert_eq "JSON: tso policy, requested, effective" "off off off" \
    "$(echo "$out" | jq -r '.[] | select(.feature=="tso") | "\(.policy) \(.requested) \(.effective)"')"
assert_contains "table" "not supported by the device" "$(ctl offload show)"

note "bad input is refused with the valid choices, nothing half-applied"
expect_error 1 'unknown offload feature "turbo" (choose from tx-checksum' \
    ctl offload set ext0 tso=on turbo=on
assert_eq "tso untouched by the refused command" off \
    "$(getv switch ext0 offload:tso)"
expect_error 1 '"maybe" is not a policy (choose auto, on or off)' \
    ctl offload set ext0 tso=maybe
expect_error 1 'unknown offload feature "turbo"' \
    ctl set switch ext0 offload:turbo=on
expect_error 1 "" ctl set switch ext0 offload:tso=maybe

note "the vNIC side: what the VM negotiated, and what it costs"
ctl --wait add-port ext0 vm0 || fail "add-port vm0"
assert_eq "fresh tap: the VM has negotiated nothing" none \
    "$(getv port vm0 status:vm_offloads)"
assert_contains "cost of a VM without TSO behind a coalescing uplink" \
    "traffic to this VM is segmented again in software" \
    "$(getv port vm0 status:offload_mismatch)"
# What QEMU does for a guest that takes checksum and TSO offloads.
ip netns exec "$ns" /usr/bin/python3 -c '
import fcntl, os, struct
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"vm0", 0x0002|0x1000|0x4000))
fcntl.ioctl(fd, 0x400454d0, 1 | 2 | 4)  # TUNSETOFFLOAD: CSUM TSO4 TSO6
' || fail "TUNSETOFFLOAD"
for i in $(seq 50); do
    [ "$(getv port vm0 status:vm_offloads)" = csum,tso4,tso6 ] && break
    sleep 0.1
done
assert_eq "after TUNSETOFFLOAD" csum,tso4,tso6 \
    "$(getv port vm0 status:vm_offloads)"
status=$(ctl get port vm0 status) || fail "reading vm0's status"
assert_contains "vm0's status read" "vm_offloads" "$status"
case $status in
    *offload_mismatch*) fail "a mismatch is left: $status" ;;
esac

note "receive queues: probed, set, read back, limits refused by vswctl"
assert_eq "probe: queues" "4 of 4" "$(getv switch ext0 status:uplink_queues)"
assert_eq "probe: no RSS table" none "$(getv switch ext0 status:uplink_rss)"
assert_eq "probe: no ntuple" no "$(getv switch ext0 status:uplink_ntuple)"
assert_eq "rss effective" off "$(getv switch ext0 offload_effective:rss)"
assert_contains "rss reason" "no RSS indirection table" \
    "$(getv switch ext0 offload_reason:rss)"
ctl --wait offload set ext0 rss=on vmq=on || fail "rss=on vmq=on"
assert_contains "rss=on: the device's reason, not an unknown key" \
    "no RSS indirection table" "$(getv switch ext0 offload_reason:rss)"
assert_contains "vmq=on: the device's reason" "no ntuple filters" \
    "$(getv switch ext0 offload_reason:vmq)"
ctl --wait offload set ext0 rss=auto vmq=auto || fail "rss/vmq back to auto"
assert_contains "VMQ: why this vNIC has no queue" "no ntuple filters" \
    "$(getv port vm0 status:vmq_reason)"
assert_contains "offload show PORT" "no ntuple filters" \
    "$(ctl offload show vm0)"
assert_contains "offload show PORT, JSON" "no ntuple filters" \
    "$(ctl --format=json offload show vm0 | jq -r '.[] | select(.key=="vmq_reason") | .value')"
expect_error 1 "rss queues 8 is above uplink u0's maximum of 4 receive queues (choose 1-4)" \
    ctl offload set ext0 rss-queues=8
expect_error 1 "above uplink u0's maximum of 4" \
    ctl set switch ext0 rss:queues=8
expect_error 1 '"many" is not a number of receive queues' \
    ctl offload set ext0 rss-queues=many
expect_error 1 'unknown setting "colour"' ctl offload set ext0 rss-colour=1
expect_error 1 'is not a list of FLOW:FIELDS' \
    ctl offload set ext0 rss-hash-fields=tcp4:xyz
assert_eq "nothing written by refused commands" "{}" \
    "$(getv switch ext0 rss)"
ctl --wait offload set ext0 rss-queues=2 || fail "rss-queues=2"
assert_eq "channels in the kernel" 2 "$(rx_channels)"
assert_eq "rss-queues requested" 2 "$(getv switch ext0 offload_requested:rss-queues)"
assert_eq "rss-queues effective" 2 "$(getv switch ext0 offload_effective:rss-queues)"
assert_eq "probe follows" "2 of 4" "$(getv switch ext0 status:uplink_queues)"

note "a setting the device cannot take: refused as a whole, nothing lost"
ctl --wait offload set ext0 rss-queues=3 rss-hash-key=6d:5a || fail "set"
assert_contains "reason" "not applied: rss hash-key: the uplink has no RSS hash key" \
    "$(getv switch ext0 offload_reason:rss-queues)"
assert_eq "channels kept as they were" 2 "$(rx_channels)"
ctl --wait offload set ext0 rss-queues=2 rss-hash-key=auto || fail "set back"
assert_eq "key setting removed" "{queues=2}" "$(getv switch ext0 rss)"

note "stays negotiated: a channel change behind vsw's back is undone"
ip netns exec "$ns" ethtool -L u0 rx 3 || fail "ethtool -L"
# The ethtool notification triggers the pass, well before the 5 s resync.
for i in $(seq 25); do
    [ "$(rx_channels)" = 2 ] && break
    sleep 0.1
done
assert_eq "channels back to the policy within 2.5 s" 2 "$(rx_channels)"

note "a group only partly switched: said so, with the bits"
ip netns exec "$ns" ethtool -K u0 tx-tcp-ecn-segmentation on \
    || fail "ethtool -K ecn"
ctl --wait set root . other_config:partial=1
feature_is() { [ "$(feature "$1")" = "$2" ]; }
wait_for 5 feature_is tx-tcp-ecn-segmentation off
assert_eq "ecn bit put back with its group" off \
    "$(feature tx-tcp-ecn-segmentation)"

note "stays negotiated: a change behind vsw's back is undone"
ip netns exec "$ns" ethtool -K u0 tso on || fail "ethtool -K u0 tso on"
for i in $(seq 50); do
    [ "$(feature tx-tcp-segmentation)" = off ] && break
    sleep 0.1
done
assert_eq "tso back to the policy (off)" off "$(feature tx-tcp-segmentation)"

note "negotiated: no request, also after a restart"
m1=$(modify_count "$ns")
ctl --wait set root . other_config:x=1
assert_eq "no request once negotiated" "$m1" "$(modify_count "$ns")"
stop_vswitchd "$ns"
start_vswitchd "$ns"
ctl --wait set root . other_config:x=2
assert_eq "modifying calls after restart" 0 "$(modify_count "$ns")"

note "the uplink set down behind vsw's back is brought back up"
ip -n "$ns" link set u0-peer up
ip -n "$ns" link set u0 down
u0_up() { ip -n "$ns" link show u0 | grep -q "state UP"; }
wait_for 5 u0_up
ip -n "$ns" link show u0 | grep -q "<.*,UP" || fail "uplink left down"
uplink_link_up() { [ "$(getv switch ext0 status:uplink_link)" = up ]; }
wait_for 5 uplink_link_up
assert_eq "status: uplink carrier" up "$(getv switch ext0 status:uplink_link)"
grep -q "uplink u0 was set down outside vsw" \
    "$T_DIR/$ns/state/vswitchd.log" || fail "no INFO line for the repair"

note "a feature changed behind vsw's back is restored as found, not as changed"
ctl --wait offload set ext0 tso=auto || fail "tso=auto"
assert_eq "tso on under auto" on "$(feature tx-tcp-segmentation)"
ip netns exec "$ns" ethtool -K u0 gso off || fail "ethtool -K gso off"
wait_for 5 feature_is generic-segmentation-offload on
assert_eq "gso put back on" on "$(feature generic-segmentation-offload)"
grep -q "tx-generic-segmentation on (was off)" \
    "$T_DIR/$ns/state/vswitchd.log" || fail "no INFO line for the undo"

note "deleting the switch puts the uplink back as it was found"
ctl --wait del-switch ext0 || fail "del-switch"
assert_eq "gso as found (on), not as changed behind vsw's back" \
    "$before_gso" "$(feature generic-segmentation-offload)"
assert_eq "tso as found" "$before_tso" "$(feature tx-tcp-segmentation)"
assert_eq "gro as found" "$before_gro" "$(feature generic-receive-offload)"
assert_eq "channels as found" 4 "$(rx_channels)"
if [ -e "$T_DIR/$ns/state/offload/u0.orig" ]; then
    fail "record of the original offloads left behind"
fi

note "hardware flow rules on a kernel without cls_flower: said, not retried"
# The development kernel has no cls_flower (the lab has it: vsw-flower).
if grep -q ' fl_classify' /proc/kallsyms 2>/dev/null; then
    note "this kernel has cls_flower: the lab covers the rules"
else
    ip -n "$ns" link add u7 type veth peer name u7-peer
    ctl --wait add-switch sr7 --uplink u7 --iov --iov-fallback \
        || fail "add-switch --iov --iov-fallback"
    assert_eq "flows" "unavailable (placement hardware)" \
        "$(getv switch sr7 status:flows)"
    assert_eq "why" "the kernel has no cls_flower" \
        "$(getv switch sr7 status:flows_reason)"
    m1=$(ctl appctl dp/counters | grep -o 'modify=[0-9]*' | head -1)
    ctl --wait set switch sr7 other_config:x=1
    ctl appctl bridge/reconcile >/dev/null
    ctl --wait set root . other_config:y=1
    assert_eq "no request for flow rules, pass after pass" "$m1" \
        "$(ctl appctl dp/counters | grep -o 'modify=[0-9]*' | head -1)"
    out=$(ctl flows sr7)
    assert_eq "vswctl flows: no rules" 0 \
        "$(ctl --format=csv --no-headings flows sr7 | wc -l)"
    ctl --wait del-switch sr7 || fail "del-switch sr7"
fi
