# netdevsim as an SR-IOV NIC: devlink eswitch mode switchdev is set before
# VFs exist; creating VFs then makes representors that carry the PF's
# phys_switch_id and phys_port_name pf0vfN; VF MAC/VLAN/spoof-check are set
# through IFLA_VF_* on the PF.  netdevsim, like mlx5, accepts a mode change
# while VFs exist by tearing down every representor: that is why vsw never
# changes the mode of a NIC with VFs (ConnectX-6 Lx and bnxt refuse it).
. /lab/lib.sh
load netdevsim
echo "10 1" > /sys/bus/netdevsim/new_device || die "new netdevsim device"
sleep 1
dev=netdevsim/netdevsim10
sysdev=/sys/bus/netdevsim/devices/netdevsim10
pf=$(ls "$sysdev/net" | head -1)
[ -n "$pf" ] || die "no PF netdev"
devlink dev show "$dev" || die "devlink does not see $dev"

devlink dev eswitch set "$dev" mode switchdev || die "switchdev (no VFs)"
assert_contains "eswitch mode" "switchdev" "$(devlink dev eswitch show "$dev")"

echo 2 > "$sysdev/sriov_numvfs" || die "creating 2 VFs"
sleep 1
swid=$(cat "/sys/class/net/$pf/phys_switch_id")
[ -n "$swid" ] || fail "PF has no phys_switch_id"
reps=""
for d in /sys/class/net/*; do
    [ "$(cat "$d/phys_switch_id" 2>/dev/null)" = "$swid" ] || continue
    name=$(cat "$d/phys_port_name" 2>/dev/null) || continue
    case $name in
        pf0vf*) reps="$reps $name" ;;
    esac
done
echo "representors:$reps"
assert_contains "representor of VF 0" "pf0vf0" "$reps"
assert_contains "representor of VF 1" "pf0vf1" "$reps"
devlink port show

ip link set "$pf" vf 0 mac 02:00:00:00:00:10 vlan 100 spoofchk on \
    || fail "IFLA_VF_* on the PF"
vf0=$(ip link show "$pf" | grep "vf 0")
echo "$vf0"
assert_contains "VF 0 MAC" "02:00:00:00:00:10" "$vf0"
assert_contains "VF 0 VLAN" "vlan 100" "$vf0"
assert_contains "VF 0 spoof check" "spoof checking on" "$vf0"

devlink dev eswitch set "$dev" mode legacy || fail "back to legacy"
left=$(for d in /sys/class/net/*; do
         [ "$(cat "$d/phys_switch_id" 2>/dev/null)" = "$swid" ] \
             && cat "$d/phys_port_name"; done | grep -c '^pf0vf')
assert_eq "representors left after leaving switchdev with VFs" 0 "$left"

echo 0 > "$sysdev/sriov_numvfs"
echo 10 > /sys/bus/netdevsim/del_device
finish
