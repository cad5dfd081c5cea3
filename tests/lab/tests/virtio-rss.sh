# RSS on a real NIC driver: the guest's virtio-net NIC (QEMU mq=on,rss=on,
# 4 queue pairs) takes 4 combined channels, and ETHTOOL_SRSSH changes its
# indirection table, read back with ETHTOOL_GRSSH.
. /lab/lib.sh
load virtio_net
nic=$(virtio_nic first)
[ -n "$nic" ] || die "no virtio-net NIC"
ip link set "$nic" up
ethtool -l "$nic"
ethtool -L "$nic" combined 4 || die "ethtool -L $nic combined 4"
assert_eq "combined channels" 4 \
    "$(ethtool -l "$nic" | awk '/^Current/{c=1} c && /^Combined/{print $2}')"
before=$(lab-rss "$nic" get) || die "ETHTOOL_GRSSH"
echo "before: $before"
lab-rss "$nic" set 3 2 1 0 || die "ETHTOOL_SRSSH"
after=$(lab-rss "$nic" get) || die "ETHTOOL_GRSSH after the change"
echo "after: $after"
table=$(echo ${after#*:})
size=$(echo "$after" | awk '{print $2}')
# An empty answer must not compare equal to an empty expectation.
[ "${size:-0}" -gt 0 ] 2>/dev/null || die "no indirection table read back: '$after'"
want=$(i=0; while [ $i -lt "$size" ]; do echo $((3 - i % 4)); i=$((i+1)); done)
assert_eq "indirection table read back" "$(echo $want)" "$table"
[ "$before" != "$after" ] || fail "indirection table unchanged"
lab-rss "$nic" set 0 1 2 3 || fail "setting an even spread"
finish
