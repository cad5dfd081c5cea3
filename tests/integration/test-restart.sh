#!/bin/bash
# A restarted or killed vswitchd loses nothing and disturbs nothing: after
# a restart with an unchanged database it makes no modifying kernel call,
# ifindexes stay, "ip monitor" stays silent, and traffic between two
# namespaces through an external switch keeps flowing.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v ping >/dev/null || skip "ping (iputils-ping) is not installed"

sw=$(new_netns sw)
a=$(new_netns a)
b=$(new_netns b)
# No IPv6 in the switch's namespace: its address autoconfiguration, seconds
# after a link comes up, would show in the "silent" ip monitor below.
ip netns exec "$sw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
# Host A sits behind the uplink; host B on a port attached by hand (as
# libvirt's type='bridge' does): vsw must leave that port alone too.
ip -n "$sw" link add u0 type veth peer name eth0 netns "$a"
ip -n "$sw" link add pb type veth peer name eth0 netns "$b"
ip -n "$a" addr add 192.0.2.1/24 dev eth0
ip -n "$b" addr add 192.0.2.2/24 dev eth0
ip -n "$a" link set eth0 up
ip -n "$b" link set eth0 up
start_vswitchd "$sw"
vswctl_in "$sw" --wait add-switch ext0 --uplink u0 || die "add-switch"
vswctl_in "$sw" --wait add-switch int0 || die "add-switch int0"
ip -n "$sw" link set pb master ext0 up
ip netns exec "$a" ping -c 3 -W 2 192.0.2.2 >/dev/null \
    || die "no traffic through the switch before the restart"

links() { ip -n "$sw" -o link show | awk '{print $1, $2}' | sort; }
before=$(links)

# Continuous traffic across both restarts: ping runs until it is told to
# stop, after the second restart, so its window covers both.
ip netns exec "$a" ping -i 0.02 -w 120 -W 1 192.0.2.2 \
    > "$T_DIR/ping.out" 2>&1 &
ping_pid=$!
# The setup settles first (the bridges' carriers come up through the
# kernel's linkwatch, up to a second later).
carrier_up() { ip -n "$sw" link show "$1" | grep -q LOWER_UP; }
wait_for 5 carrier_up int0 || fail "int0 has no carrier"
wait_for 5 carrier_up ext0 || fail "ext0 has no carrier"
sleep 1.5
# Links, addresses and routes; a marker device proves it is listening
# before the restarts, and only what comes after the marker counts.
ip -n "$sw" monitor link address route > "$T_DIR/monitor.out" 2>&1 &
mon_pid=$!
marked() {      # A marker made and removed until the monitor shows it.
    ip -n "$sw" link add mark0 type veth peer name mark1 2>/dev/null
    ip -n "$sw" link del mark0 2>/dev/null
    sleep 0.1
    grep -q mark0 "$T_DIR/monitor.out"
}
wait_for 5 marked || fail "ip monitor is not listening"
sleep 0.3
marker_lines=$(wc -l < "$T_DIR/monitor.out")

note "clean restart"
log="$T_DIR/$sw/state/vswitchd.log"
clean_starts() { grep -c "as the last clean stop left it" "$log"; }
n_clean=$(clean_starts)
ext0_status=$(vswctl_in "$sw" get switch ext0 status)
stop_vswitchd "$sw"
start_vswitchd "$sw"
vswctl_in "$sw" --wait set root . other_config:touch=1 || fail "--wait"
assert_eq "modifying calls after clean restart" 0 "$(modify_count "$sw")"
assert_eq "a cleanly stopped database is not read again at start" \
    $((n_clean + 1)) "$(clean_starts)"
assert_eq "observed state kept on disk across the restart" "$ext0_status" \
    "$(vswctl_in "$sw" get switch ext0 status)"

note "kill -9 and restart"
pid=$(vswitchd_pid "$sw")
kill -9 "$pid"
wait_gone "$pid"
# The database outlives the daemon: configuration reads and writes go on.
assert_contains "database up without vswitchd" ext0 \
    "$(vswctl_in "$sw" list-switches)"
start_vswitchd "$sw"
vswctl_in "$sw" --wait set root . other_config:touch=2 || fail "--wait"
assert_eq "modifying calls after kill -9" 0 "$(modify_count "$sw")"
sleep 0.5

kill "$mon_pid" 2>/dev/null; wait "$mon_pid" 2>/dev/null
kill -0 "$ping_pid" 2>/dev/null \
    || fail "ping ended before the restarts did: its window does not cover them"
kill -INT "$ping_pid"
wait "$ping_pid"
assert_eq "ifindexes after restarts" "$before" "$(links)"
assert_eq "ip monitor during restarts (after the marker)" "" \
    "$(tail -n +$((marker_lines + 1)) "$T_DIR/monitor.out")"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T_DIR/ping.out")
[ "${sent:-0}" -ge 100 ] || fail "only ${sent:-0} pings across the restarts"
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$T_DIR/ping.out")
assert_eq "packet loss across restarts (%)" 0 "$loss"
assert_eq "hand-attached port kept" ext0 "$(master_of "$sw" pb)"

note "configuration survives, and a change after restart is applied"
vswctl_in "$sw" --wait add-switch int1 || fail "add after restart"
assert_eq "int1 created" bridge "$(kind_of "$sw" int1)"

note "a deleted bridge is recreated from the database"
old_br=$(ifindex "$sw" int0)
ip -n "$sw" link del int0
has_int0() { [ -n "$(ifindex "$sw" int0)" ]; }
wait_for 5 has_int0 || fail "int0 not recreated"
assert_eq "int0 repaired" bridge "$(kind_of "$sw" int0)"
assert_ne "int0 is a new device" "$old_br" "$(ifindex "$sw" int0)"

note "a deleted host port is recreated, its bridge end in the bridge"
old_hp=$(ifindex "$sw" vh-int0)
ip -n "$sw" link del vh-int0
new_host_port() { [ -n "$(ifindex "$sw" vh-int0)" ] \
                  && [ "$(ifindex "$sw" vh-int0)" != "$old_hp" ]; }
wait_for 5 new_host_port || fail "vh-int0 not recreated"
assert_eq "int0 host port repaired" veth "$(kind_of "$sw" vh-int0)"
peer=$(ip -n "$sw" -o link show master int0 | grep -o 'vsp[0-9a-f]*' | head -1)
assert_ne "its bridge end is in int0" "" "$peer"

note "the embedded ovsdb-server dies: vswitchd restarts it, nothing lost"
db_pid=$(cat "$T_DIR/$sw/run/ovsdb-server.pid")
kill -9 "$db_pid"
wait_gone "$db_pid"
for i in $(seq 50); do
    vswctl_in "$sw" list-switches >/dev/null 2>&1 && break
    sleep 0.1
done
assert_ne "new ovsdb-server" "$db_pid" \
    "$(cat "$T_DIR/$sw/run/ovsdb-server.pid")"
assert_contains "configuration after database restart" int1 \
    "$(vswctl_in "$sw" list-switches)"
vswctl_in "$sw" --wait set root . other_config:touch=3 || fail "--wait"
assert_eq "status rewritten after database restart" up \
    "$(vswctl_in "$sw" get switch ext0 status:state)"
