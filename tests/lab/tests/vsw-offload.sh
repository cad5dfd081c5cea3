# vsw's offload negotiation with a real NIC driver (virtio-net): on an
# external switch, "auto" turns hardware GRO (RSC) off on the uplink —
# coalesced frames must not be forwarded — and keeps the rest as the device
# allows; requested / effective / reason come from the kernel; deleting the
# switch puts the NIC back as it was found.
. /lab/lib.sh
load bridge
nic=$(virtio_nic last)
[ -n "$nic" ] || die "no virtio-net NIC"
ethtool -k "$nic" | grep -E "rx-gro-hw|tcp-segmentation:|rx-checksumming"
hw_gro() { ethtool -k "$nic" | sed -n 's/^rx-gro-hw: \([a-z]*\).*/\1/p'; }
before=$(hw_gro)
echo "rx-gro-hw before: $before"

export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
vswitchd --detach --pidfile --log-file || die "vswitchd did not start"
vswctl --wait add-switch ext0 --uplink "$nic" --no-management-os \
    || die "add-switch"
vswctl offload show ext0
assert_eq "lro requested" "off (auto)" \
    "$(vswctl get switch ext0 offload_requested:lro | tr -d '"')"
assert_eq "lro effective (rx-gro-hw off on the uplink)" off \
    "$(vswctl get switch ext0 offload_effective:lro)"
assert_eq "rx-gro-hw in the kernel" off "$(hw_gro)"
assert_eq "tx checksum effective" on \
    "$(vswctl get switch ext0 offload_effective:tx-checksum)"

vswctl --wait offload set ext0 tso=off || fail "offload set tso=off"
assert_eq "tso off in the kernel" off \
    "$(ethtool -k "$nic" | sed -n 's/^\ttx-tcp-segmentation: \([a-z]*\).*/\1/p')"

note "the one combination known to break forwarding is reported"
vswctl --wait offload set ext0 lro=on || fail "offload set lro=on"
assert_eq "rx-gro-hw on as asked" on "$(hw_gro)"
assert_contains "lro reason" "against the uplink rule" \
    "$(vswctl get switch ext0 offload_reason:lro)"
vswctl --wait offload set ext0 lro=auto || fail "offload set lro=auto"
assert_eq "rx-gro-hw off again" off "$(hw_gro)"

vswctl --wait del-switch ext0 || fail "del-switch"
assert_eq "rx-gro-hw as found" "$before" "$(hw_gro)"
assert_eq "tso as found" on \
    "$(ethtool -k "$nic" | sed -n 's/^\ttx-tcp-segmentation: \([a-z]*\).*/\1/p')"
vswctl appctl exit
finish
