#!/bin/bash
# Hostile input, through vswctl and straight into the database: names that
# the kernel would cut or that belong to other objects, out-of-range ids,
# bad MACs and namespaces, duplicate names (in one transaction, from
# concurrent clients, from raw OVSDB clients), read-only columns, a port in
# two switches.  Every refusal names the object and what to do; nothing
# already configured is lost; no pass repeats a change forever.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v jq >/dev/null || skip "jq is not installed"

ns=$(new_netns sw)
start_vswitchd "$ns"
db="unix:$T_DIR/$ns/run/db.sock"
vswctl_in "$ns" --wait add-switch s1 --type internal || die "setup"
vswctl_in "$ns" --wait add-switch s2 --type private || die "setup"
vswctl_in "$ns" --wait add-port s1 vmvictim0000000 --owner=nobody \
    || die "setup victim"
victim_ifindex=$(ifindex "$ns" vmvictim0000000)
[ -n "$victim_ifindex" ] || die "victim tap missing"

# raw TXN: one OVSDB transaction through ovsdb-client (not vswctl).
raw() {
    in_ns "$ns" ovsdb-client transact "$db" "[\"VSwitch\",$1]" 2>&1
}
# raw_port SWITCH NAME [EXTRA [KIND]]: inserts a port row into SWITCH.
raw_port() {
    local sw
    sw=$(vswctl_in "$ns" get switch "$1" _uuid) || return 1
    raw "{\"op\":\"insert\",\"table\":\"Port\",
          \"row\":{\"name\":\"$2\",\"kind\":\"${4:-tap}\",\"queues\":1,
                   \"switch\":[\"uuid\",\"$sw\"]${3:-}}}"
}
raw_del_port() { vswctl_in "$ns" del-port "$1" || fail "del-port $1"; }
port_error() { vswctl_in "$ns" get port "$1" status:error 2>/dev/null; }
has_port_error() { [ -n "$(port_error "$1")" ]; }
wait_port_error() { wait_for 5 has_port_error "$1"; }
# settled WHAT: vswitchd makes no modifying request for 1.5 s.
settled() {
    local m1 m2
    sleep 0.5
    m1=$(modify_count "$ns")
    sleep 1.5
    m2=$(modify_count "$ns")
    assert_eq "modifying requests while idle after $1" "$m1" "$m2"
}
victim_intact() {
    assert_eq "victim tap after $1" "$victim_ifindex" \
        "$(ifindex "$ns" vmvictim0000000)"
    assert_eq "victim owner after $1" 65534 \
        "$(cat /sys/class/net/vmvictim0000000/owner 2>/dev/null \
           || ip netns exec "$ns" cat /sys/class/net/vmvictim0000000/owner)"
}
devices() { ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 \
            | sort; }
before_devices=$(devices)

note "a name the kernel would cut to another VM's tap (raw client)"
raw_port s1 vmvictim0000000-evil >/dev/null
wait_port_error vmvictim0000000-evil
assert_contains "too-long name refused in status" "invalid name" \
    "$(port_error vmvictim0000000-evil)"
settled "a too-long name"
victim_intact "a too-long name"

note "200 characters, '/', spaces, '..': refused, nothing created"
long=$(printf 'x%.0s' $(seq 200))
for n in "$long" "a/b" "a b" ".." "vsp0a0b0c0d" ; do
    raw_port s1 "$n" >/dev/null
done
sleep 1
assert_contains "200-char name" "invalid name" "$(port_error "$long")"
assert_contains "slash" "invalid name" "$(port_error a/b)"
assert_contains "vsw's own name form" "vsw's own interface names" \
    "$(port_error vsp0a0b0c0d)"
for n in "$long" "a/b" "a b" ".." "vsp0a0b0c0d" vmvictim0000000-evil; do
    raw_del_port "$n"
done
settled "deleting the refused ports"
assert_eq "no device left behind by refused names" "$before_devices" \
    "$(devices)"

note "names of other objects: the bridge, the host port, lo (raw client)"
raw_port s2 s1 >/dev/null
raw_port s2 vh-s1 >/dev/null
raw_port s2 lo >/dev/null
wait_port_error lo
assert_contains "port named like a bridge" "already used by the bridge of switch s1" \
    "$(port_error s1)"
assert_contains "port named like a host port" "already used by the host port of switch s1" \
    "$(port_error vh-s1)"
assert_contains "port named lo" "already exists and vsw did not create it" \
    "$(port_error lo)"
assert_eq "bridge s1 untouched" bridge "$(kind_of "$ns" s1)"
assert_eq "host port untouched" veth "$(kind_of "$ns" vh-s1)"
settled "clashing names"
for n in s1 vh-s1 lo; do raw_del_port "$n"; done

note "...and through vswctl: refused before anything is written"
state_snapshot "$ns" "$T_DIR/refusals"
expect_error 1 "is the name of switch \"s1\"'s bridge" \
    vswctl_in "$ns" add-port s2 s1
expect_error 1 "is the host port of switch \"s1\"" \
    vswctl_in "$ns" add-port s2 vh-s1
expect_error 1 "a network device named lo already exists" \
    vswctl_in "$ns" add-port s2 lo
expect_error 1 "vsw's own interface names" \
    vswctl_in "$ns" add-port s2 vpb12345678
expect_error 1 "host port vh-s2b: a network device named vh-s2b" \
    bash -c "ip -n $ns link add vh-s2b type veth peer name vh-s2c &&
             VSW_STATE_DIR=$T_DIR/$ns/state VSW_RUN_DIR=$T_DIR/$ns/run \
             ip netns exec $ns vswctl add-switch s2b"
expect_error 1 "is the name of an existing port" \
    vswctl_in "$ns" add-switch vmvictim0000000 --type private
ip -n "$ns" link del vh-s2b
unchanged_since "$ns" "$T_DIR/refusals" "refused names through vswctl"

note "owner and group ids out of range"
expect_error 1 "a user id must be in 0..4294967294" \
    vswctl_in "$ns" add-port s1 bad0 --owner=4294967295
expect_error 1 "a group id must be in 0..4294967294" \
    vswctl_in "$ns" add-port s1 bad0 --group=4294967295
expect_error 1 "no such user" vswctl_in "$ns" add-port s1 bad0 --owner=nosuchuser
raw_port s1 bad1 ',"owner":"4294967295"' >/dev/null
wait_port_error bad1
assert_contains "raw owner -1" "a user id must be in 0..4294967294" \
    "$(port_error bad1)"
settled "an owner of -1"
assert_eq "no tap for a refused owner" "" "$(ifindex "$ns" bad1)"
raw_del_port bad1

note "MACs"
state_snapshot "$ns" "$T_DIR/refusals"
for mac in "52:54:00: 1:02:03" "+2:54:00:01:02:03" "0x:54:00:01:02:03" \
           "52:54:00:01:02" "52-54-00-01-02-03" "garbage"; do
    expect_error 1 "not a MAC address" \
        vswctl_in "$ns" add-port s1 mac0 --mac="$mac"
done
expect_error 1 "all-zero" vswctl_in "$ns" add-port s1 mac0 \
    --mac=00:00:00:00:00:00
expect_error 1 "multicast or broadcast" vswctl_in "$ns" add-port s1 mac0 \
    --mac=01:00:5e:00:00:01
expect_error 1 "multicast or broadcast" vswctl_in "$ns" add-port s1 mac0 \
    --mac=ff:ff:ff:ff:ff:ff
unchanged_since "$ns" "$T_DIR/refusals" "refused MACs through vswctl"
raw_port s1 mac1 ',"mac":"garbage"' >/dev/null
wait_port_error mac1
assert_contains "raw MAC garbage" "not a MAC address" "$(port_error mac1)"
assert_ne "raw MAC garbage is not up" up \
    "$(vswctl_in "$ns" get port mac1 status:state)"
raw_del_port mac1

note "network namespaces: names only, never paths"
ip netns add "$T_PREFIX-peer"
expect_error 1 "not a path" vswctl_in "$ns" add-port s1 ve0 --kind=veth \
    --netns=../../proc/1/ns/net
raw_port s1 ve1 ",\"netns\":\"../../proc/1/ns/net\"" veth >/dev/null
wait_port_error ve1
assert_contains "raw netns path" "not a path" "$(port_error ve1)"
assert_eq "no veth for a path netns" "" "$(ifindex "$ns" ve1)"
raw_del_port ve1

note "--wait reports the ports a switch-wide change breaks"
expect_error 1 "port \"vmvictim0000000\"" \
    vswctl_in "$ns" --wait set switch s1 mtu=65535
vswctl_in "$ns" --wait clear switch s1 mtu || fail "clearing the MTU"

note "an MTU a tap cannot take (above 65521): refused, not tried again and again"
expect_error 1 "above a tap's largest MTU, 65521" \
    vswctl_in "$ns" add-port s1 mtu0 --mtu=65535
expect_error 1 "is not in 68..65535" vswctl_in "$ns" add-port s1 mtu0 --mtu=65536
expect_error 1 "is not a number" vswctl_in "$ns" add-port s1 mtu0 --mtu=9k
vswctl_in "$ns" --wait add-port s2 mtu1 --kind=internal --mtu=65535 \
    || fail "an internal port (a veth) takes MTU 65535"
raw_port s1 mtu2 ',"mtu":65535' >/dev/null
wait_port_error mtu2
assert_contains "raw tap MTU 65535" "MTU 65535 is above a tap's largest MTU" \
    "$(port_error mtu2)"
raw "{\"op\":\"update\",\"table\":\"Port\",
      \"where\":[[\"name\",\"==\",\"vmvictim0000000\"]],
      \"row\":{\"mtu\":65530}}" >/dev/null
wait_for 5 has_port_error vmvictim0000000 || fail "victim MTU 65530 not refused"
m1=$(modify_count "$ns")
sleep 6                         # longer than the 5 s retry interval
m2=$(modify_count "$ns")
assert_eq "modifying requests in 6 s with two refused MTUs" "$m1" "$m2"
assert_eq "no tap for MTU 65535" "" "$(ifindex "$ns" mtu2)"
victim_intact "a refused MTU"
vswctl_in "$ns" --wait clear port vmvictim0000000 mtu || fail "clearing the MTU"
assert_eq "victim error gone" "" "$(port_error vmvictim0000000)"
for n in mtu1 mtu2; do raw_del_port "$n"; done

note "duplicate port names: one transaction, concurrent clients, raw"
expect_error 1 'port "dd1" already exists on switch "s1"' \
    vswctl_in "$ns" add-port s1 dd1 -- add-port s1 dd1
pids=()
for i in 1 2 3 4; do
    vswctl_in "$ns" add-port s$(( i % 2 + 1 )) cc1 >/dev/null 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"
assert_eq "concurrent add-port: one row" 1 \
    "$(vswctl_in "$ns" --format=json find port name=cc1 | jq '.data | length')"
out=$(raw_port s2 cc1)
assert_contains "raw duplicate refused by the database" "constraint violation" "$out"
assert_eq "get port after duplicate attempts" cc1 \
    "$(vswctl_in "$ns" get port cc1 name)"

note "a port moved to the other switch by a raw client"
uuid=$(vswctl_in "$ns" get port cc1 _uuid)
to=s1
[ "$(vswctl_in "$ns" get port cc1 switch)" = \
  "$(vswctl_in "$ns" get switch s1 _uuid)" ] && to=s2
raw "{\"op\":\"update\",\"table\":\"Port\",
      \"where\":[[\"_uuid\",\"==\",[\"uuid\",\"$uuid\"]]],
      \"row\":{\"switch\":[\"uuid\",
                \"$(vswctl_in "$ns" get switch $to _uuid)\"]}}" >/dev/null
on_bridge() { [ "$(master_of "$ns" cc1)" = "$to" ]; }
wait_for 5 on_bridge || fail "cc1 not moved to $to's bridge"
settled "a port moved between switches"

note "a switch deleted under its ports by a raw client"
out=$(raw "{\"op\":\"delete\",\"table\":\"Switch\",
            \"where\":[[\"name\",\"==\",\"$to\"]]}")
assert_contains "refused by the database" "referential integrity" "$out"
assert_eq "its port stays" "$to" "$(master_of "$ns" cc1)"

note "read-only columns"
expect_error 1 "read-only" vswctl_in "$ns" set switch s1 status:state=up
expect_error 1 "read-only" vswctl_in "$ns" set port cc1 status:x=1
expect_error 1 "read-only" vswctl_in "$ns" clear switch s1 offload_effective
expect_error 1 "read-only" vswctl_in "$ns" set root . cur_cfg=99

note "a port's status overwritten by a raw client: the next resync writes it back"
# Twice: the second time its status has been found right by resyncs (the
# status writer's memo), and a write by someone else must still be seen.
real_status=$(vswctl_in "$ns" get port vmvictim0000000 status)
status_back() {
    [ "$(vswctl_in "$ns" get port vmvictim0000000 status)" = "$real_status" ]
}
for round in 1 2; do
    vswctl_in "$ns" appctl bridge/reconcile >/dev/null
    vswctl_in "$ns" appctl bridge/reconcile >/dev/null
    out=$(raw "{\"op\":\"update\",\"table\":\"Port\",
                \"where\":[[\"name\",\"==\",\"vmvictim0000000\"]],
                \"row\":{\"status\":[\"map\",[[\"state\",\"up\"],
                                              [\"lie\",\"$round\"]]]}}")
    assert_contains "the raw write of round $round" '"count":1' "$out"
    vswctl_in "$ns" appctl bridge/reconcile >/dev/null
    wait_for 5 status_back \
        || fail "round $round: status not written back: $(vswctl_in "$ns" \
                get port vmvictim0000000 status)"
done

note "uplinks"
expect_error 1 "loopback" vswctl_in "$ns" add-switch e1 --uplink lo

note "names the kernel would rewrite or refuse: '%', every kind of space"
expect_error 1 "cannot contain '/', ':' or '%'" \
    vswctl_in "$ns" add-port s1 'x%d'
expect_error 1 "cannot contain '/', ':' or '%'" \
    vswctl_in "$ns" add-switch 'z%d' --type private
expect_error 1 "white space or control characters" \
    vswctl_in "$ns" add-port s1 $'a\vb'
expect_error 1 "cannot take the name q%d" \
    vswctl_in "$ns" set port cc1 'name="q%d"'
raw_port s2 'y%d' >/dev/null
raw_port s2 'a\u000bb' >/dev/null
raw_port s2 'a\rb' >/dev/null
wait_port_error 'y%d'
assert_contains "raw %d name" "cannot contain" "$(port_error 'y%d')"
settled "names with '%' and control characters"
assert_eq "no device made of them" 0 \
    "$(ip -n "$ns" -o link show | grep -c 'y[0-9]:\|vswt')" 
for n in 'y%d' $'a\vb' $'a\rb'; do vswctl_in "$ns" --if-exists del-port "$n"; done

note "a veth whose namespace goes away: reported, not made again and again"
ip netns add "$T_PREFIX-gone"
vswctl_in "$ns" --wait add-port s2 vg0 --kind veth --netns "$T_PREFIX-gone" \
    || fail "veth into a namespace"
ip netns del "$T_PREFIX-gone"
sleep 1
m1=$(modify_count "$ns")
sleep 3
m2=$(modify_count "$ns")
[ $((m2 - m1)) -le 12 ] || fail "$((m2 - m1)) modifying requests in 3 s for a veth without its namespace"
assert_contains "its error" "create it with ip netns add" "$(port_error vg0)"
vswctl_in "$ns" del-port vg0

note "a switch renamed to a running port's name: the port keeps it"
vswctl_in "$ns" --wait add-port s2 vmkeep || fail "add vmkeep"
keep=$(ifindex "$ns" vmkeep)
expect_error 1 "cannot take the name vmkeep" \
    vswctl_in "$ns" set switch s2 name=vmkeep
expect_error 1 "cannot take the name vmkeep" \
    vswctl_in "$ns" set switch s1 host_port=vmkeep
raw "{\"op\":\"update\",\"table\":\"Switch\",
      \"where\":[[\"name\",\"==\",\"s2\"]],
      \"row\":{\"host_port\":\"vmkeep\"}}" >/dev/null
raw "{\"op\":\"update\",\"table\":\"Switch\",
      \"where\":[[\"name\",\"==\",\"s1\"]],
      \"row\":{\"name\":\"vmkeep\"}}" >/dev/null
vswctl_in "$ns" --wait set root . other_config:rename=1
assert_eq "the port's tap keeps its name" "$keep" "$(ifindex "$ns" vmkeep)"
assert_eq "the port stays up" up \
    "$(vswctl_in "$ns" get port vmkeep status:state)"
assert_contains "the renamed switch is refused" "already used by the port" \
    "$(vswctl_in "$ns" get switch vmkeep status:error)"
ip -n "$ns" link del vmkeep
vswctl_in "$ns" --wait set root . other_config:rename=2
assert_eq "a deleted tap comes back as the port's, not the bridge" tun \
    "$(kind_of "$ns" vmkeep)"
raw "{\"op\":\"update\",\"table\":\"Switch\",
      \"where\":[[\"name\",\"==\",\"vmkeep\"]],
      \"row\":{\"name\":\"s1\"}}" >/dev/null
vswctl_in "$ns" --wait set root . other_config:rename=3 \
    || fail "switch back to its name"

note "guest MACs starting with fe (the tap's own first byte)"
expect_error 1 "starts with fe" \
    vswctl_in "$ns" add-port s1 fe0 --mac=fe:f7:37:36:fb:00
for i in 1 2 3 4 5 6; do vswctl_in "$ns" add-port s2 "gm$i" || fail "gm$i"; done
for i in 1 2 3 4 5 6; do
    case $(vswctl_in "$ns" get port "gm$i" mac) in
        '"52:54:00:'*) ;;
        *) fail "generated MAC of gm$i: $(vswctl_in "$ns" get port "gm$i" mac)" ;;
    esac
    vswctl_in "$ns" del-port "gm$i"
done

note "a foreign device that only looks like vsw's temporary names"
ip -n "$ns" link add vswt0123456789a type veth peer name vswtpeer0
vswctl_in "$ns" appctl bridge/reconcile >/dev/null
vswctl_in "$ns" --wait set root . other_config:temp=1
assert_eq "foreign vswt... left alone" veth "$(kind_of "$ns" vswt0123456789a)"

note "a foreign tap under the temporary name a new internal port will use"
pid=$(vswitchd_pid "$ns")
kill -STOP "$pid"
vswctl_in "$ns" add-port s2 victim1 --kind internal >/dev/null \
    || fail "add-port victim1"
u=$(vswctl_in "$ns" get port victim1 _uuid)
tmp="vswt${u:0:8}${u:9:3}"
ip -n "$ns" tuntap add dev "$tmp" mode tap vnet_hdr user 1 \
    || fail "foreign tap $tmp"
foreign=$(ifindex "$ns" "$tmp")
kill -CONT "$pid"
vswctl_in "$ns" --wait set root . other_config:foreign=1
assert_eq "the foreign tap keeps its name and ifindex" "$foreign" \
    "$(ifindex "$ns" "$tmp")"
assert_eq "...its owner" 1 "$(ip netns exec "$ns" cat /sys/class/net/$tmp/owner)"
assert_eq "...and no tag" "" "$(alias_of "$ns" "$tmp")"
assert_ne "the port says why" "" "$(port_error victim1)"
ip -n "$ns" link del "$tmp"
vswctl_in "$ns" --wait set root . other_config:foreign=2
assert_eq "the port made once the name is free" up \
    "$(vswctl_in "$ns" get port victim1 status:state)"

note "a record of a device being made, left by a crash, never marks a foreign one"
stop_vswitchd "$ns"
mkdir -p "$T_DIR/$ns/state/creating"
touch "$T_DIR/$ns/state/creating/vswt0123456789b"
start_vswitchd "$ns"
ip -n "$ns" link add vswt0123456789b type bridge
vswctl_in "$ns" appctl bridge/reconcile >/dev/null
vswctl_in "$ns" --wait set root . other_config:stale=1
assert_eq "the foreign bridge kept" bridge "$(kind_of "$ns" vswt0123456789b)"

note "the name a port's tap held is still its after a restart"
vswctl_in "$ns" --wait add-port s2 n1 || fail "add n1"
vswctl_in "$ns" --wait add-switch s3 --type private || fail "add s3"
raw "{\"op\":\"update\",\"table\":\"Switch\",
      \"where\":[[\"name\",\"==\",\"s3\"]],\"row\":{\"name\":\"n1\"}}" >/dev/null
vswctl_in "$ns" --wait set root . other_config:n1=1
stop_vswitchd "$ns"
ip -n "$ns" link del n1
start_vswitchd "$ns"
vswctl_in "$ns" --wait set root . other_config:n1=2
assert_eq "n1 is the port's tap again" tun "$(kind_of "$ns" n1)"
assert_contains "the renamed switch is refused" "already used by the port" \
    "$(vswctl_in "$ns" get switch n1 status:error)"

note "--wait reports the object added, not its switch's other ports"
vswctl_in "$ns" --wait add-port s2 fresh0 \
    || fail "--wait add-port failed for others' errors"

note "--timeout says so, exit 1"
pid=$(vswitchd_pid "$ns")
kill -STOP "$pid"
out=$(in_ns "$ns" vswctl --timeout 2 --wait set root . other_config:t=1 2>&1)
rc=$?
kill -CONT "$pid"
assert_eq "--timeout exit code" 1 "$rc"
assert_contains "--timeout message" "timed out after 2 s" "$out"
assert_contains "stopped daemon noticed" "vswitchd is stopped" "$out"

victim_intact "everything above"
settled "everything above"
