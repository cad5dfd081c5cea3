#!/bin/bash
# vsw under a real libvirtd (Debian's libvirt-daemon-system, qemu:///system,
# started by this test in its own network namespace, with vsw's hook in
# /etc/libvirt/hooks/qemu.d/ for as long as the test runs): a TCG domain
# (the lab's kernel, tests/lab/tiny-guest.sh) with one NIC of
# type='bridge' on a vsw switch and one type='ethernet' managed='no' tap
# the hook makes at prepare.  Checked: the guest pings a host port through
# the switch, libvirt's vnetN is an adopted port with the VM's identity,
# `virsh attach-interface` adds a NIC that becomes a vsw port with no hook,
# libvirtd restarted under the running domain calls reconnect and the VM
# survives, and `virsh destroy` takes the ports away.
T_TIMEOUT=420
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
for t in libvirtd virtlogd virsh qemu-system-x86_64; do
    command -v $t >/dev/null || skip "$t is not installed (libvirt-daemon-system)"
done
if [ -S /run/libvirt/libvirt-sock ] && pgrep -x libvirtd >/dev/null; then
    skip "a libvirtd of someone else's runs here: this test starts its own"
fi
tiny_guest
chmod 755 "$T_DIR"          # QEMU reads the guest's files.

sw=$(new_netns sw)
h=$(new_netns h)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
getv() { ctl get "$@" 2>/dev/null | tr -d '"'; }
ctl --wait add-switch s0 --type private || die "add-switch"
ctl --wait add-port s0 ph --kind veth --netns "$h" || die "host port"
ip -n "$h" addr add 10.9.1.1/24 dev ph
ip -n "$h" link set ph up

# The hook, as an operator installs it, with this test's vsw instance.
hookdir=/etc/libvirt/hooks/qemu.d
hook="$hookdir/vsw-test-$$"
mkdir -p "$hookdir"
cat > "$hook" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$*" >> "$T_DIR/hook-calls"
VSW_RUN_DIR="$T_DIR/$sw/run" VSW_STATE_DIR="$T_DIR/$sw/state" \\
    exec "$VSW_BIN/vsw-libvirt-hook" "\$@"
EOF
chmod 755 "$hook"
T_ON_EXIT+=("rm -f '$hook'")

dom="vswtest$$"
uuid=$(cat /proc/sys/kernel/random/uuid)
T_ON_EXIT+=("virsh -c qemu:///system destroy $dom"
            "virsh -c qemu:///system undefine $dom")
virt() { ip netns exec "$sw" virsh -q -c qemu:///system "$@"; }

start_libvirtd() {
    T_PIDFILES+=("$T_DIR/libvirtd.pid")
    ip netns exec "$sw" libvirtd -d -p "$T_DIR/libvirtd.pid" \
        || die "libvirtd did not start"
    wait_for 20 virt version >/dev/null 2>&1 \
        || die "libvirtd does not answer: $(tail -5 /var/log/libvirt/libvirtd.log 2>/dev/null)"
}
T_PIDFILES+=("$T_DIR/virtlogd.pid")
ip netns exec "$sw" virtlogd -d -p "$T_DIR/virtlogd.pid" \
    || die "virtlogd did not start"
start_libvirtd

cat > "$T_DIR/dom.xml" <<EOF
<domain type='qemu'>
  <name>$dom</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <metadata>
    <vsw:ports xmlns:vsw="urn:vsw:libvirt:1">
      <vsw:interface target="lv$$e" switch="s0"/>
    </vsw:ports>
  </metadata>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet vsw.ip=10.9.1.2/24 vsw.ping=10.9.1.1 vsw.ip2=10.9.1.3/24 vsw.then=stay</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='bridge'>
      <mac address='52:54:00:dd:00:01'/>
      <source bridge='s0'/>
      <model type='virtio'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:dd:00:02'/>
      <target dev='lv$$e' managed='no'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$T_DIR/console.log'/>
    </serial>
  </devices>
</domain>
EOF

note "the domain starts with its NICs on vsw"
virt define "$T_DIR/dom.xml" >/dev/null || die "virsh define"
t0=$(date +%s%N)
virt start "$dom" >"$T_DIR/start.out" 2>&1 \
    || die "virsh start: $(cat "$T_DIR/start.out"; tail -5 "/var/log/libvirt/qemu/$dom.log" 2>/dev/null)"
note "virsh start: $(( ($(date +%s%N) - t0) / 1000000 )) ms (hook calls: $(cut -d' ' -f3 "$T_DIR/hook-calls" | tr '\n' ' '))"
vnet=$(virt domiflist "$dom" | awk '$3 == "s0" && $2 == "bridge" {print $1}')
[ -n "$vnet" ] || die "no bridge interface in domiflist: $(virt domiflist "$dom")"
assert_eq "$vnet adopted" true "$(getv port "$vnet" adopted)"
identity() { [ "$(getv port "$vnet" external_ids:vm-id)" = "$uuid" ]; }
wait_for 5 identity || fail "$vnet without the VM's identity"
assert_eq "$vnet's MAC" 52:54:00:dd:00:01 "$(getv port "$vnet" mac)"
assert_eq "$vnet active" active "$(getv port "$vnet" external_ids:iface-status)"
assert_eq "lv$$e made by the hook, in s0" s0 "$(master_of "$sw" "lv$$e")"
assert_eq "lv$$e active" active "$(getv port "lv$$e" external_ids:iface-status)"
pinged() { grep -q "VSW-GUEST: ping" "$T_DIR/console.log" 2>/dev/null; }
wait_for 120 pinged
assert_contains "the guest pinged a host port through the switch" \
    "VSW-GUEST: ping 10.9.1.1 ok" "$(grep VSW-GUEST "$T_DIR/console.log")"

note "virsh attach-interface: a NIC hot-plugged, no hook, still a vsw port"
ports_before=$(ctl list-ports | wc -l)
virt attach-interface "$dom" bridge s0 --model virtio \
    --mac 52:54:00:dd:00:03 --live >"$T_DIR/attach.out" 2>&1 \
    || fail "attach-interface: $(cat "$T_DIR/attach.out")"
vnet2=$(virt domiflist "$dom" | awk '$5 == "52:54:00:dd:00:03" {print $1}')
adopted2() { [ "$(getv port "$vnet2" adopted)" = true ]; }
wait_for 5 adopted2 || fail "hot-plugged $vnet2 is not a vsw port: $(ctl list-ports)"
assert_eq "one port more" $((ports_before + 1)) "$(ctl list-ports | wc -l)"
eth1() { grep -q "VSW-GUEST: eth1 up" "$T_DIR/console.log"; }
wait_for 30 eth1 || fail "the guest did not see the hot-plugged NIC"

note "libvirtd restarted under the running domain: reconnect, the VM survives"
qemu_pid=$(pgrep -f "guest=$dom" | head -1)
kill "$(cat "$T_DIR/libvirtd.pid")"
wait_gone "$(cat "$T_DIR/libvirtd.pid")"
start_libvirtd
reconnected() { grep -q "$dom reconnect" "$T_DIR/hook-calls"; }
wait_for 10 reconnected || fail "the hook was not called for reconnect"
assert_eq "the domain still runs" running "$(virt domstate "$dom")"
assert_eq "the same QEMU" "$qemu_pid" "$(pgrep -f "guest=$dom" | head -1)"
assert_eq "$vnet still a port with its VM" "$uuid" \
    "$(getv port "$vnet" external_ids:vm-id)"
assert_eq "the hot-plugged $vnet2 given its VM at reconnect" "$uuid" \
    "$(getv port "$vnet2" external_ids:vm-id)"

note "virsh destroy: the ports go"
virt destroy "$dom" >/dev/null || fail "virsh destroy"
gone() { [ -z "$(ctl --if-exists get port "$1" _uuid 2>/dev/null)" ]; }
wait_for 10 gone "$vnet" || fail "$vnet's port outlived the VM"
wait_for 10 gone "$vnet2" || fail "$vnet2's port outlived the VM"
wait_for 10 gone "lv$$e" || fail "lv$$e (made by the hook) kept after release"
assert_contains "hook calls in order" \
    "prepare begin - start begin - started begin - reconnect begin - stopped end - release end -" \
    "$(cut -d' ' -f3,4,5 "$T_DIR/hook-calls" | tr '\n' ' ')"
virt undefine "$dom" >/dev/null

exit $T_FAILED
