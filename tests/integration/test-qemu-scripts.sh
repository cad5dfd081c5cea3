#!/bin/bash
# QEMU started by hand with vsw's tap scripts: a real guest (TCG; the lab's
# kernel and a tiny initramfs, tests/lab/tiny-guest.sh) on
#     -netdev tap,ifname=vmq0,script=vsw-ifup,downscript=vsw-ifdown
# with the switch from VSW_SWITCH: the tap QEMU made becomes an adopted
# port with the VM's identity, the guest pings a host port through the
# switch, and when the guest powers off the port is gone.  A script
# without a switch fails QEMU's start with a message.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
qemu=$(command -v qemu-system-x86_64) \
    || skip "qemu-system-x86_64 is not installed"
tiny_guest

sw=$(new_netns sw)
h=$(new_netns h)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
getv() { ctl get "$@" 2>/dev/null | tr -d '"'; }
ctl --wait add-switch s0 --type private || die "add-switch"
ctl --wait add-port s0 ph --kind veth --netns "$h" || die "host port"
ip -n "$h" addr add 10.9.0.1/24 dev ph
ip -n "$h" link set ph up

# qemu_vm NAME MAC ARGS...: QEMU in the switch's namespace with the tap
# scripts, vsw's environment and the tiny guest; console in $T_DIR/NAME.
qemu_vm() {
    local name=$1 mac=$2; shift 2
    in_ns "$sw" env VSW_SWITCH=s0 VSW_VM_NAME="$name" VSW_MAC="$mac" \
        "$qemu" -accel tcg -m 256 -smp 1 -display none -no-reboot \
        -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 vsw.ip=10.9.0.2/24 vsw.ping=10.9.0.1 vsw.then=poweroff" \
        -serial "file:$T_DIR/$name.console" \
        -netdev "tap,id=n0,ifname=vmq0,script=$VSW_BIN/vsw-ifup,downscript=$VSW_BIN/vsw-ifdown" \
        -device "virtio-net-pci,netdev=n0,mac=$mac" "$@"
}

note "a guest on script=vsw-ifup reaches a host port"
t0=$(date +%s)
qemu_vm vmq 52:54:00:cc:00:01 > "$T_DIR/qemu.out" 2>&1 &
qpid=$!
adopted() { [ "$(getv port vmq0 adopted)" = true ]; }
wait_for 20 adopted || fail "vmq0 is not an adopted port: $(ctl list-ports)"
assert_eq "in the switch" s0 "$(master_of "$sw" vmq0)"
assert_eq "the VM's name" vmq "$(getv port vmq0 external_ids:vm-name)"
assert_eq "the VM's MAC" 52:54:00:cc:00:01 "$(getv port vmq0 mac)"
assert_eq "active" active "$(getv port vmq0 external_ids:iface-status)"
for _ in $(seq 240); do
    grep -q "VSW-GUEST: ping" "$T_DIR/vmq.console" 2>/dev/null && break
    kill -0 $qpid 2>/dev/null || break
    sleep 0.5
done
assert_contains "the guest pinged the host port" "VSW-GUEST: ping 10.9.0.1 ok" \
    "$(grep VSW-GUEST "$T_DIR/vmq.console" 2>/dev/null)"
wait $qpid
note "the guest booted, pinged and powered off in $(( $(date +%s) - t0 )) s"
gone() { [ -z "$(ctl --if-exists get port vmq0 _uuid 2>/dev/null)" ]; }
wait_for 5 gone || fail "vmq0's port outlived QEMU"
[ -e "/sys/class/net/vmq0" ] && fail "vmq0 left in the host's namespace"
ip -n "$sw" link show vmq0 >/dev/null 2>&1 && fail "QEMU's tap outlived QEMU"

note "vsw-ifdown leaves a port vsw made alone"
ctl --wait add-port s0 made0 || fail "add-port made0"
in_ns "$sw" "$VSW_BIN/vsw-ifdown" made0 || fail "vsw-ifdown made0"
assert_eq "made0 kept" made0 "$(getv port made0 name)"

note "a script with no switch fails QEMU's start, with a message"
out=$(in_ns "$sw" env -u VSW_SWITCH VSW_QEMU_CONF=/nonexistent \
          "$VSW_BIN/vsw-ifup" vmq9 2>&1) && fail "vsw-ifup without a switch"
assert_contains "says what to set" "set VSW_SWITCH" "$out"

exit $T_FAILED
