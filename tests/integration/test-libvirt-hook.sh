#!/bin/bash
# vsw's libvirt qemu hook (hooks/libvirt/vsw-libvirt-hook.c) run as
# libvirt runs it: argv "DOMAIN OPERATION SUB-OPERATION EXTRA", the domain
# XML on stdin, one operation after another as a VM's life goes; results
# checked in the database and the kernel.  Forms: <interface
# type='ethernet'> with <target managed='no'/> named by the domain's vsw
# metadata (made at prepare, owned by QEMU's user from the DAC label,
# deleted at release) or naming an existing vsw port (kept at release);
# type='bridge' on a vsw switch (libvirt's vnetN: adopted, given the VM's
# identity at started); interfaces that are not vsw's left alone.  Also:
# migrate and restore print nothing (the XML stays), odd names are
# ignored, and bounded time: reconnect exits 0 with vswitchd stopped, and
# prepare against a stopped (SIGSTOP) vswitchd fails within the hook's
# bound with a message instead of hanging the VM's start.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }

sw=$(new_netns sw)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
getv() { ctl get "$@" 2>/dev/null | tr -d '"'; }
has_row() { [ -n "$(ctl --if-exists get port "$1" _uuid 2>/dev/null)" ]; }
ctl --wait add-switch s0 --type private || die "add-switch"
ctl --wait add-port s0 keep0 --mac 52:54:00:bb:00:09 || die "keep0"
ip -n "$sw" link add plainbr type bridge

uuid=6b1f0a52-5d2e-4c1a-9a43-1d2c3e4f5a60
dom="$T_DIR/vm1.xml"
cat > "$dom" <<EOF
<domain type='qemu'>
  <name>vm1</name>
  <uuid>$uuid</uuid>
  <metadata>
    <vsw:ports xmlns:vsw="urn:vsw:libvirt:1">
      <vsw:interface target="vm1-eth0" switch="s0"/>
      <vsw:interface mac="52:54:00:bb:00:05" switch="s0"/>
    </vsw:ports>
  </metadata>
  <devices>
    <interface type='ethernet'>
      <mac address='52:54:00:bb:00:01'/>
      <target dev='vm1-eth0' managed='no'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='0f0e0d0c-0000-4000-8000-00000000e001'/>
      </virtualport>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:bb:00:09'/>
      <target dev='keep0' managed='no'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:bb:00:02'/>
      <source bridge='s0'/>
      <target dev='vnet40'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:bb:00:03'/>
      <source bridge='plainbr'/>
      <target dev='vnet41'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:bb:00:04'/>
      <target dev='notvsw0' managed='no'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:bb:00:06'/>
      <target dev='../../etc' managed='no'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:bb:00:07'/>
      <target dev='a-name-far-too-long-for-linux' managed='no'/>
    </interface>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <label>+65534:+65534</label>
  </seclabel>
</domain>
EOF

# hook OP SUB [XML]: the hook as libvirt runs it; its stdout goes to
# $T_DIR/out, its exit status is returned, its time (ms) left in $ms.
hook() {
    local t=$(date +%s%N) rc
    in_ns "$sw" "$VSW_BIN/vsw-libvirt-hook" vm1 "$1" "$2" - \
        < "${3:-$dom}" > "$T_DIR/out" 2> "$T_DIR/err"
    rc=$?
    ms=$(( ($(date +%s%N) - t) / 1000000 ))
    return $rc
}

note "prepare: the ports QEMU will open exist, owned by QEMU's user"
hook prepare begin || fail "prepare: $(cat "$T_DIR/err")"
note "prepare took $ms ms"
assert_eq "prepare prints nothing" "" "$(cat "$T_DIR/out")"
d=$(ip -n "$sw" -d link show vm1-eth0 2>&1)
assert_contains "vm1-eth0 made, a tap" "tun type tap" "$d"
assert_contains "owned by QEMU's user (the DAC label's uid)" "user nobody" "$d"
assert_contains "in the switch" "master s0" "$d"
assert_eq "the VM's MAC" 52:54:00:bb:00:01 "$(getv port vm1-eth0 mac)"
assert_eq "vm-id" "$uuid" "$(getv port vm1-eth0 external_ids:vm-id)"
assert_eq "vm-uuid" "$uuid" "$(getv port vm1-eth0 external_ids:vm-uuid)"
assert_eq "vm-name" vm1 "$(getv port vm1-eth0 external_ids:vm-name)"
assert_eq "iface-id from the virtualport" 0f0e0d0c-0000-4000-8000-00000000e001 \
    "$(getv port vm1-eth0 external_ids:iface-id)"
assert_eq "not active yet" inactive \
    "$(getv port vm1-eth0 external_ids:iface-status)"
assert_eq "keep0 (a vsw port already) owned by QEMU's user" 65534 \
    "$(getv port keep0 owner)"
assert_eq "keep0 given the VM's identity" "$uuid" \
    "$(getv port keep0 external_ids:vm-id)"
has_row notvsw0 && fail "an interface that is not vsw's got a port"
has_row vnet41 && fail "a tap of a bridge that is not vsw's got a port"
[ -e /etc/x ] && fail "an odd target name reached a path"

note "started: libvirt's vnetN on a vsw bridge is adopted, with the VM's identity"
ip -n "$sw" tuntap add dev vnet40 mode tap vnet_hdr
ip -n "$sw" link set vnet40 address fe:54:00:bb:00:02
ip -n "$sw" link set vnet40 master s0
ip -n "$sw" tuntap add dev vnet41 mode tap vnet_hdr
ip -n "$sw" link set vnet41 master plainbr
hook started begin || fail "started: $(cat "$T_DIR/err")"
assert_eq "vnet40 adopted" true "$(getv port vnet40 adopted)"
assert_eq "vnet40's VM" "$uuid" "$(getv port vnet40 external_ids:vm-id)"
assert_eq "vnet40's MAC (its guards apply)" 52:54:00:bb:00:02 \
    "$(getv port vnet40 mac)"
assert_eq "vm1-eth0 active" active \
    "$(getv port vm1-eth0 external_ids:iface-status)"
has_row vnet41 && fail "vnet41 (another bridge) got a port"

note "migrate and restore: nothing printed, the XML stays as it is"
for op in migrate restore; do
    hook "$op" begin || fail "$op failed"
    assert_eq "$op prints nothing" "" "$(cat "$T_DIR/out")"
done

note "stopped, then release: the hook's port goes, the others stay"
hook stopped end || fail "stopped"
assert_eq "vm1-eth0 inactive" inactive \
    "$(getv port vm1-eth0 external_ids:iface-status)"
hook release end || fail "release"
has_row vm1-eth0 && fail "vm1-eth0 (made by the hook) kept at release"
has_row keep0 || fail "keep0 (there before the VM) deleted at release"
assert_eq "keep0 marked inactive" inactive \
    "$(getv port keep0 external_ids:iface-status)"

note "release='keep' keeps the hook's port"
sed 's|target="vm1-eth0" switch="s0"|target="vm1-eth0" switch="s0" release="keep"|' \
    "$dom" > "$T_DIR/keep.xml"
hook prepare begin "$T_DIR/keep.xml" || fail "prepare (keep)"
hook release end "$T_DIR/keep.xml" || fail "release (keep)"
has_row vm1-eth0 || fail "release='keep': vm1-eth0 deleted"

note "a domain name with quotes and backslashes stays one value"
in_ns "$sw" "$VSW_BIN/vsw-libvirt-hook" 'vm"1\x, external_ids:evil=1' \
    started begin - < "$T_DIR/keep.xml" 2>"$T_DIR/err" \
    || fail "started with an odd domain name: $(cat "$T_DIR/err")"
assert_eq "the name, whole" '"vm\"1\\x, external_ids:evil=1"' \
    "$(ctl get port vm1-eth0 external_ids:vm-name)"
assert_eq "nothing else set" "" \
    "$(ctl --if-exists get port vm1-eth0 external_ids:evil 2>/dev/null)"

note "release deletes only what the hook made, by the exact mark"
for name in 'vsw-made-by=libvirt-hook' x; do
    in_ns "$sw" "$VSW_BIN/vsw-libvirt-hook" "$name" prepare begin - \
        < "$dom" >/dev/null 2>&1
    in_ns "$sw" "$VSW_BIN/vsw-libvirt-hook" "$name" release end - \
        < "$dom" >/dev/null 2>&1
done
has_row keep0 || fail "keep0 deleted: the mark was read out of a domain name"

note "XML that does not parse: nothing done, nothing fails"
echo '<domain><name>x' > "$T_DIR/bad.xml"
hook prepare begin "$T_DIR/bad.xml" || fail "bad XML failed prepare"

note "bounded: vswitchd stopped (SIGSTOP): prepare fails in time, reconnect exits 0"
ctl --wait --if-exists del-port vm1-eth0 || fail "del-port vm1-eth0"
pid=$(vswitchd_pid "$sw")
kill -STOP "$pid"
# prepare makes vm1-eth0 again and waits for vswitchd: bounded, and says
# why.
hook prepare begin && fail "prepare succeeded against a stopped vswitchd"
note "prepare with vswitchd stopped: $ms ms, then failed"
[ "$ms" -le 14000 ] || fail "prepare took $ms ms against a stopped vswitchd"
assert_contains "says why" "timed out" "$(cat "$T_DIR/err")"
hook reconnect begin || fail "reconnect failed: a running VM would be killed"
note "reconnect with vswitchd stopped: $ms ms"
kill -CONT "$pid"
# The port that prepare made before it gave up is the hook's: released.
hook release end || fail "release after a failed prepare"
has_row vm1-eth0 && fail "a port made by a failed prepare was never released"

note "bounded: reconnect exits 0 with the database gone too"
stop_vswitchd "$sw"
db_pid=$(cat "$T_DIR/$sw/run/ovsdb-server.pid" 2>/dev/null)
[ -n "$db_pid" ] && kill "$db_pid" 2>/dev/null
hook reconnect begin || fail "reconnect without a database failed"
note "reconnect without a database: $ms ms"
[ "$ms" -le 14000 ] || fail "reconnect took $ms ms"
ip -n "$sw" link del plainbr 2>/dev/null

exit $T_FAILED
