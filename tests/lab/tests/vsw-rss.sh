# vsw's receive-queue negotiation with a real NIC driver (virtio-net, QEMU
# mq=on,rss=on: 4 queue pairs, an RSS table and key, settable hash
# fields, no ntuple filters): the switch's rss settings change the channel
# count, the indirection table spread, the hash key and the hashed fields,
# each read back from the kernel by other means (ethtool, ETHTOOL_GRSSH);
# a count above the device's maximum is refused by vswctl; VMQ is reported
# as impossible with the reason; deleting the switch puts the channels,
# table, key and fields back as they were found.  The NIC's capabilities
# are printed for tests/data/nic-virtio-net-qemu.caps.
. /lab/lib.sh
load bridge tun
nic=$(virtio_nic last)
[ -n "$nic" ] || die "no virtio-net NIC"
ip link set "$nic" up

note "the NIC as found (source of tests/data/nic-virtio-net-qemu.caps)"
ethtool -k "$nic"
ethtool -l "$nic"
ethtool -x "$nic"
for f in tcp4 udp4 tcp6 udp6; do ethtool -n "$nic" rx-flow-hash $f; done
combined() { ethtool -l "$nic" | awk '/^Current/{c=1} c && /^Combined/{print $2}'; }
table() { lab-rss "$nic" get | sed 's/^[^:]*: //'; }
key() { ethtool -x "$nic" | awk '/^RSS hash key/{getline; print; exit}'; }
udp4() { ethtool -n "$nic" rx-flow-hash udp4 | tr '\n' ' '; }
before_combined=$(combined)
before_table=$(table)
before_key=$(key)
before_udp4=$(udp4)
size=$(lab-rss "$nic" get | awk '{print $2}')
echo "combined $before_combined, table of $size, key $before_key"

export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
vswitchd --detach --pidfile --log-file || die "vswitchd did not start"
vswctl --wait add-switch ext0 --uplink "$nic" --no-management-os \
    || die "add-switch"
getv() { vswctl get "$@" | tr -d '"'; }

note "probed"
assert_eq "queues" "$before_combined of 4" "$(getv switch ext0 status:uplink_queues)"
assert_contains "rss table" "table $size entries, key 40 bytes" \
    "$(getv switch ext0 status:uplink_rss)"
assert_eq "rss effective (auto)" on "$(getv switch ext0 offload_effective:rss)"
rx_ring=$(ethtool -g "$nic" | awk '/^Current/{c=1} c && /^RX:/{print $2; exit}')
assert_contains "rings (RINGS_GET, as ethtool -g)" "rx $rx_ring of" \
    "$(getv switch ext0 status:uplink_rings)"

note "a count above the device's maximum is refused by vswctl"
out=$(vswctl offload set ext0 rss-queues=9 2>&1) && fail "rss-queues=9 accepted"
assert_contains "refusal" "above uplink $nic's maximum of 4 receive queues" "$out"

note "channels, spread, key and fields changed and read back"
newkey=$(i=0; while [ $i -lt 40 ]; do printf '%s%02x' "${i:+:}" $((i * 7 % 256)); i=$((i+1)); done | sed 's/^://')
vswctl --wait offload set ext0 rss-queues=4 rss-spread=3 \
    rss-hash-key="$newkey" rss-hash-fields=udp4:sdfn || fail "offload set"
vswctl offload show ext0
assert_eq "combined channels (ethtool -l)" 4 "$(combined)"
want=$(i=0; while [ $i -lt "$size" ]; do echo $((i % 3)); i=$((i+1)); done)
assert_eq "indirection table over 3 queues (ETHTOOL_GRSSH)" \
    "$(echo $want)" "$(table)"
assert_eq "rss-spread effective" 3 "$(getv switch ext0 offload_effective:rss-spread)"
assert_eq "rss-queues effective" 4 "$(getv switch ext0 offload_effective:rss-queues)"
assert_eq "hash key (ethtool -x)" "$newkey" "$(key)"
assert_contains "udp4 hashes ports (ethtool -n)" "L4 bytes 0 & 1" "$(udp4)"
reasons=$(vswctl get switch ext0 offload_reason) || die "reading offload_reason"
case $reasons in
    *rss-hash-fields*) fail "rss-hash-fields has a reason: $reasons" ;;
esac

note "VMQ: impossible on virtio-net, and said why"
vswctl --wait add-port ext0 vm0 --mac 52:54:00:aa:00:01 || fail "add-port"
assert_contains "vmq reason" "no ntuple filters" \
    "$(getv port vm0 status:vmq_reason)"
assert_eq "vmq effective" off "$(getv switch ext0 offload_effective:vmq)"

note "negotiated: a restart costs no request"
vswctl appctl exit
vswitchd --detach --pidfile --log-file || die "vswitchd did not restart"
vswctl --wait set root . other_config:x=1
assert_contains "no modifying request" "modify=0" "$(vswctl appctl dp/counters)"

note "deleting the switch puts the NIC back as found"
vswctl --wait del-switch ext0 || fail "del-switch"
assert_eq "channels as found" "$before_combined" "$(combined)"
assert_eq "table as found" "$before_table" "$(table)"
assert_eq "key as found" "$before_key" "$(key)"
assert_eq "udp4 fields as found" "$before_udp4" "$(udp4)"
vswctl appctl exit
finish
