# vsw's SR-IOV switch on a netdevsim PF: creation runs the safe order
# (switchdev before any VF exists), VF ports get free VFs whose
# representors (found by phys_switch_id + phys_port_name) join the bridge,
# VF MAC/VLAN/spoof check are set on the PF and cleaned when the port goes,
# a port with no VF left falls back to a tap and gets a VF once one is
# free (an event hook hears of it: vf-assigned), a restart changes
# nothing, iov stays immutable, and deleting the
# switch puts the PF back as it was found (legacy mode, no VFs).
. /lab/lib.sh
load netdevsim bridge tun
echo "20 1" > /sys/bus/netdevsim/new_device || die "netdevsim device"
sleep 1
dev=netdevsim/netdevsim20
pf=$(ls /sys/bus/netdevsim/devices/netdevsim20/net | head -1)
before_mode=$(devlink dev eswitch show $dev)
echo "as found: $before_mode"
ip link set "$pf" up
export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
recording_hooks /tmp/hooks
vswitchd --detach --pidfile --log-file --hooks-dir=/tmp/hooks \
    || die "vswitchd did not start"

note "SR-IOV switch: switchdev first, then the VFs"
vswctl --wait add-switch sr0 --uplink "$pf" --iov --no-management-os \
    -- set switch sr0 other_config:sriov_vfs=2 || die "add-switch --iov"
vswctl show
assert_contains "eswitch mode" switchdev "$(devlink dev eswitch show $dev)"
assert_eq "VFs created" 2 \
    "$(cat /sys/bus/netdevsim/devices/netdevsim20/sriov_numvfs)"
assert_eq "iov_support" true "$(vswctl get switch sr0 status:iov_support | tr -d '"')"
assert_eq "vf_capacity" '"2"' "$(vswctl get switch sr0 status:vf_capacity)"

note "VF ports get VFs through their representors"
vswctl --wait add-port sr0 vm1 --kind vf --mac 02:00:00:00:00:11 \
    -- add-port sr0 vm2 --kind vf --mac 02:00:00:00:00:12 --vlan access:100 \
    || die "add-port vf"
vswctl show
for p in vm1 vm2; do
    assert_eq "$p kind in use" vf "$(vswctl get port $p status:kind)"
    rep=$(vswctl get port $p status:representor | tr -d '"')
    assert_eq "$p representor in the bridge" sr0 \
        "$(ip -o link show "$rep" | sed -n 's/.* master \([^ ]*\) .*/\1/p')"
done
vfs=$(ip link show "$pf")
echo "$vfs"
assert_contains "VF MAC of vm1" "02:00:00:00:00:11" "$vfs"
assert_contains "VF MAC of vm2" "02:00:00:00:00:12" "$vfs"
assert_contains "spoof checking" "spoof checking on" "$vfs"
assert_contains "VF VLAN of vm2" "vlan 100" "$vfs"

note "no VF left: the port runs as a tap and says why"
vswctl --wait add-port sr0 vm3 --kind vf --mac 02:00:00:00:00:13 \
    || die "add-port vm3"
assert_eq "vm3 kind in use" tap "$(vswctl get port vm3 status:kind)"
assert_contains "vm3 reason" "no free VF (2 of 2 in use)" \
    "$(vswctl get port vm3 status:reason)"

note "a port that goes away leaves its VF clean; the waiting port gets it"
vf1=$(vswctl get port vm1 status:vf_index | tr -d '"')
vswctl --wait del-port vm1 || fail "del-port vm1"
vswctl --wait set root . other_config:x=1
vfs=$(ip link show "$pf")
echo "$vfs"
case "$vfs" in *02:00:00:00:00:11*) fail "VF $vf1 kept vm1's MAC" ;; esac
assert_eq "vm3 moved to a VF" vf "$(vswctl get port vm3 status:kind)"
wait_event /tmp/hooks.events vf-assigned '"port":"vm3"' \
    || fail "no vf-assigned event for vm3: $(cat /tmp/hooks.events)"
assert_contains "vm3's MAC on its VF" "02:00:00:00:00:13" "$(ip link show "$pf")"
[ -e /sys/class/net/vm3 ] && fail "vm3's fallback tap left behind"

note "restart: nothing changes"
vswctl appctl exit
sleep 0.5
vswitchd --detach --pidfile --log-file || die "restart"
vswctl --wait set root . other_config:x=2
assert_eq "modifying calls after restart" "modify=0" \
    "$(vswctl appctl dp/counters | grep -o 'modify=[0-9]*' | head -1)"

note "SR-IOV impossible: the switch says why (a virtio NIC has no SR-IOV)"
nic=$(virtio_nic first)
out=$(vswctl add-switch v0 --uplink "$nic" --iov 2>&1) \
    && fail "--iov accepted on a NIC without SR-IOV"
assert_contains "refused without --iov-fallback" "has no SR-IOV capability" \
    "$out"
vswctl --wait add-switch v0 --uplink "$nic" --iov --iov-fallback \
    || fail "--iov-fallback"
assert_contains "reason in the status" "$nic has no SR-IOV capability" \
    "$(vswctl get switch v0 status:iov_reasons)"
vswctl --wait del-switch v0 || fail "del-switch v0"
assert_eq "$nic released" "" \
    "$(ip -o link show "$nic" | grep -o 'master [^ ]*')"

note "SR-IOV mode is fixed"
out=$(vswctl set switch sr0 iov=false 2>&1) && fail "iov changed"
assert_contains "immutable" "SR-IOV mode is fixed when a switch is created" \
    "$out"

note "deleting the switch puts the PF back as found"
vswctl --wait del-switch sr0 || fail "del-switch sr0"
assert_eq "eswitch mode as found" "$before_mode" \
    "$(devlink dev eswitch show $dev)"
assert_eq "no VFs left" 0 \
    "$(cat /sys/bus/netdevsim/devices/netdevsim20/sriov_numvfs)"
vswctl appctl exit
finish
