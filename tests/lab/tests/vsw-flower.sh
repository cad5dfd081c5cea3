# vsw's hardware flow rules on a netdevsim SR-IOV switch: rules derived
# from the VF ports' MACs and VLANs land on the uplink's and the
# representors' ingress with vsw's cookie; netdevsim (6.1) refuses flower
# in hardware, so with placement "hardware" each rule falls back to
# software and the switch says why with the kernel's words; a restart
# adopts every rule (same handles, zero modifying requests); another
# program's rule on the uplink survives everything; "software" replaces
# the rules, "hardware-only" makes the refusal the ports' error, "off"
# and a deleted port or switch leave no rule of vsw's behind.
. /lab/lib.sh
load netdevsim bridge tun sch_ingress cls_flower act_mirred act_vlan act_gact
echo "21 1" > /sys/bus/netdevsim/new_device || die "netdevsim device"
sleep 1
pf=$(ls /sys/bus/netdevsim/devices/netdevsim21/net | head -1)
ip link set "$pf" up
export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
recording_hooks /tmp/fhooks
vswitchd --detach --pidfile --log-file --hooks-dir=/tmp/fhooks \
    || die "vswitchd did not start"
counter() { vswctl appctl dp/counters | grep -o "$1=[0-9]*" | head -1 \
            | cut -d= -f2; }
# vsw's rules on a device: tc prints each action's cookie in hex, and
# vsw's begin with "vsw" 01.
ours() { tc -s filter show dev "$1" ingress | grep -c 'cookie 76737701'; }
handles() { tc filter show dev "$1" ingress | grep -o 'handle 0x[0-9a-f]*' \
            | sort | tr '\n' ' '; }

note "a foreign rule on the uplink first"
tc qdisc add dev "$pf" clsact || die "clsact"
tc filter add dev "$pf" ingress prio 100 protocol ip flower skip_hw \
    dst_ip 192.0.2.1 action drop || die "foreign rule"

note "SR-IOV switch with two VF ports (one in VLAN 100) and a tap"
ethtool -K "$pf" hw-tc-offload on || fail "hw-tc-offload on the PF"
refuse() { echo "$1" > /sys/module/netdevsim/parameters/flower_refuse; }
refuse all
vswctl --wait add-switch sr0 --uplink "$pf" --iov --no-management-os \
    -- set switch sr0 other_config:sriov_vfs=2 || die "add-switch --iov"
for rep in $(ls /sys/class/net); do
    case $(cat /sys/class/net/$rep/phys_port_name 2>/dev/null) in
        pf0vf*) ethtool -K "$rep" hw-tc-offload on ;;
    esac
done
vswctl --wait add-port sr0 vm1 --kind vf --mac 02:00:00:00:00:21 \
    -- add-port sr0 vm2 --kind vf --mac 02:00:00:00:00:22 --vlan access:100 \
    -- add-port sr0 t1 --mac 02:00:00:00:00:23 || die "add-port"
vswctl show
rep1=$(vswctl get port vm1 status:representor | tr -d '"')
rep2=$(vswctl get port vm2 status:representor | tr -d '"')
status=$(vswctl get switch sr0 status)
echo "$status"
assert_contains "placement asked, and what happened" \
    'flows="software (placement hardware)"' "$status"
assert_contains "the device's refusal, in the kernel's words" \
    "simulated refusal (flower_refuse)" \
    "$(vswctl get switch sr0 status:flows_reason)"
assert_eq "refused in hardware" '"18"' \
    "$(vswctl get switch sr0 status:flows_refused)"
wait_event /tmp/fhooks.events flow-refused '"flows_refused":"18"' \
    && has_event /tmp/fhooks.events flow-refused '"switch":"sr0"' \
    || fail "no flow-refused event: $(cat /tmp/fhooks.events)"
# vm1: its own rules (to the bridge for t1, to the uplink) on rep1, and
# the uplink's to it; vm2 the same in VLAN 100; no VF-to-VF (VLANs
# differ).  Three frame types each.
assert_eq "rules on the uplink" 6 "$(ours "$pf")"
assert_eq "rules on vm1's representor" 6 "$(ours "$rep1")"
assert_eq "rules on vm2's representor" 6 "$(ours "$rep2")"
assert_eq "status counts them" '"18"' \
    "$(vswctl get switch sr0 status:flows_in_sw)"
tc filter show dev "$pf" ingress | grep -q 'vlan_id 100' \
    || fail "no VLAN 100 rule on the uplink"
tc -s filter show dev "$pf" ingress | grep -q 'vlan.*pop' \
    || fail "the access port's rule does not pop the tag"
tc filter show dev "$rep2" ingress | grep -q 'vlan.*push id 100' \
    || fail "vm2's rule to the uplink does not push VLAN 100"
tc filter show dev "$rep1" ingress | grep -q 'src_mac 02:00:00:00:00:21' \
    || fail "vm1's rules do not match its own source MAC"
out=$(vswctl flows sr0)
echo "$out"
assert_contains "vswctl flows: requested" "hardware" "$out"
assert_contains "vswctl flows: effective" "software" "$out"
assert_eq "vswctl flows lists them all" 18 \
    "$(vswctl --format=csv --no-headings flows sr0 | wc -l)"
assert_eq "vswctl flows vm1: its rules and the uplink's to it" 9 \
    "$(vswctl --format=csv --no-headings flows vm1 | wc -l)"

note "restart: every rule adopted, the same handles, no modifying request"
before_pf=$(handles "$pf"); before_rep=$(handles "$rep1")
vswctl appctl exit
sleep 0.5
vswitchd --detach --pidfile --log-file || die "restart"
vswctl --wait set root . other_config:x=1
assert_eq "modifying requests after restart" 0 "$(counter modify)"
assert_eq "uplink handles kept" "$before_pf" "$(handles "$pf")"
assert_eq "representor handles kept" "$before_rep" "$(handles "$rep1")"
assert_eq "counts after restart" '"18"' \
    "$(vswctl get switch sr0 status:flows_in_sw)"
assert_contains "the reason kept across the restart" \
    "simulated refusal (flower_refuse)" \
    "$(vswctl get switch sr0 status:flows_reason)"

note "a rule deleted behind vsw's back comes back on the next pass"
h=$(tc filter show dev "$rep1" ingress | grep -m1 -o 'handle 0x[0-9a-f]*' \
    | cut -d' ' -f2)
p=$(tc filter show dev "$rep1" ingress | grep -m1 "handle $h" \
    | grep -o 'pref [0-9]*' | cut -d' ' -f2)
tc filter del dev "$rep1" ingress pref "$p" handle "$h" flower \
    || fail "deleting a rule by hand"
vswctl appctl bridge/reconcile >/dev/null
vswctl --wait set root . other_config:x=2
assert_eq "rule put back" 6 "$(ours "$rep1")"

note "placement software: the rules are replaced, skip_hw"
vswctl --wait set switch sr0 other_config:flow-placement=software \
    || fail "software"
assert_eq "rules on the uplink" 6 "$(ours "$pf")"
assert_eq "all skip_hw (and the foreign one)" 7 \
    "$(tc filter show dev "$pf" ingress | grep -c skip_hw)"
assert_contains "status" 'software (placement software)' \
    "$(vswctl get switch sr0 status:flows)"

note "placement hardware-only: the refusal is the ports' error"
out=$(vswctl --wait set switch sr0 other_config:flow-placement=hardware-only 2>&1)
echo "$out"
assert_contains "vm1's error" "hardware-only flow rule" \
    "$(vswctl get port vm1 status:error)"
assert_eq "no rule of vsw's left in software" 0 "$(ours "$pf")"

note "the device accepts: hardware-only rules in hardware, in_hw"
refuse ""
vswctl appctl bridge/reconcile >/dev/null
vswctl --wait set root . other_config:x=4
assert_contains "status" 'hardware (placement hardware-only)' \
    "$(vswctl get switch sr0 status:flows)"
assert_eq "in hardware" '"18"' "$(vswctl get switch sr0 status:flows_in_hw)"
assert_eq "none hit in hardware (the simulated device forwards nothing)" \
    '"18"' "$(vswctl get switch sr0 status:flows_hw_unhit)"
assert_eq "vm1's error gone" "" \
    "$(vswctl get port vm1 status:error 2>/dev/null)"
assert_eq "in_hw_count 1 on every rule of the uplink" 6 \
    "$(tc filter show dev "$pf" ingress | grep -c 'in_hw in_hw_count 1')"
assert_contains "vswctl flows: effective" "hardware (1 device)" \
    "$(vswctl flows vm1)"

note "mixed: the device refuses the rules that go to the bridge"
refuse goto
vswctl --wait set switch sr0 other_config:flow-placement=hardware \
    || fail "hardware"
assert_contains "status" 'mixed (placement hardware)' \
    "$(vswctl get switch sr0 status:flows)"
assert_eq "in hardware" '"12"' "$(vswctl get switch sr0 status:flows_in_hw)"
assert_eq "in software" '"6"' "$(vswctl get switch sr0 status:flows_in_sw)"
assert_eq "refused" '"6"' "$(vswctl get switch sr0 status:flows_refused)"

note "rules the hardware never matches go to software (flow-idle-demote)"
refuse ""
vswctl --wait set switch sr0 other_config:flow-idle-demote=1 || fail "idle"
sleep 2
vswctl appctl bridge/reconcile >/dev/null
vswctl --wait set root . other_config:x=5
assert_eq "demoted" '"12"' "$(vswctl get switch sr0 status:flows_demoted)"
assert_eq "none left in hardware" '"0"' \
    "$(vswctl get switch sr0 status:flows_in_hw)"
assert_contains "said why" "did not match for 1 s went to software" \
    "$(vswctl get switch sr0 status:flows_reason)"
vswctl --wait remove switch sr0 other_config flow-idle-demote
refuse all
vswctl --wait set switch sr0 other_config:flow-placement=hardware-only

note "a bad placement is refused by name"
vswctl set switch sr0 other_config:flow-placement=sometimes
vswctl --wait set root . other_config:x=3
assert_contains "bad placement" "is not hardware, hardware-only, software or off" \
    "$(vswctl get switch sr0 status:error)"
vswctl --wait set switch sr0 other_config:flow-placement=hardware

note "a port that goes takes its rules"
assert_eq "vm2's rules back" 6 "$(ours "$rep2")"
vswctl --wait del-port vm2 || fail "del-port vm2"
assert_eq "none left on vm2's representor" 0 "$(ours "$rep2")"
tc filter show dev "$pf" ingress | grep -q 'vlan_id 100' \
    && fail "the uplink kept a rule for vm2"

note "placement off, then the switch deleted: nothing of vsw's left"
vswctl --wait set switch sr0 other_config:flow-placement=off || fail "off"
assert_eq "off: no rules" 0 "$(( $(ours "$pf") + $(ours "$rep1") ))"
vswctl --wait set switch sr0 other_config:flow-placement=hardware
assert_eq "hardware again" 6 "$(ours "$rep1")"
vswctl --wait del-switch sr0 || fail "del-switch"
assert_eq "no rule of vsw's on the uplink" 0 "$(ours "$pf")"
tc filter show dev "$pf" ingress | grep -q 'dst_ip 192.0.2.1' \
    || fail "the foreign rule did not survive"
vswctl appctl exit
finish
