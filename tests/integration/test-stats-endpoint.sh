#!/bin/bash
# vswitchd's stats endpoint (RUN/stats.sock) with real traffic: the JSON
# document and one object at a time, counters equal to what `ip -s -j
# link` reports for the same device, /metrics well formed (HELP and TYPE,
# one group per family, no duplicate series), a deleted port's series gone
# at the next scrape, read-only (405), 404 for what does not exist, ten
# clients at once while ports come and go, the endpoint on TCP and its
# status page in headless Chromium (the switch and port names read back
# from the screenshot, its live rates read under traffic), stalled clients
# that do not delay `vswctl --wait`, clients dripping a request byte by
# byte cut off at the request deadline, and requests that frame a body two
# ways refused.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
for t in python3 curl jq promtool chromium tesseract; do
    command -v $t >/dev/null || skip "$t is not installed"
done
python3 -c 'import jsonschema' 2>/dev/null \
    || skip "python3-jsonschema is not installed"
client="$(dirname "$0")/helpers/stats-client.py"
schema="$(dirname "$0")/../../schema/stats.schema.json"
# valid PATH [DEFINITION]: the answer to GET PATH fits the schema.
valid() {
    local out
    out=$(python3 "$client" "$sock" validate "$1" "$schema" ${2:-}) \
        || fail "GET $1 does not fit schema/stats.schema.json: $out"
}

sw=$(new_netns sw)
a=$(new_netns a)
b=$(new_netns b)
start_vswitchd "$sw"
ctl() { vswctl_in "$sw" "$@"; }
sock="$T_DIR/$sw/run/stats.sock"
# get PATH [METHOD]: the status and the Allow header on a line, then the
# body (curl: a Python start costs half a second on a small machine).
get() {
    local how=(-X "${2:-GET}") code
    [ "${2:-}" = HEAD ] && how=(--head)
    code=$(curl -s --path-as-is --unix-socket "$sock" "${how[@]}" \
           -D "$T_DIR/get.head" -o "$T_DIR/get.body" -w '%{http_code}' \
           "http://localhost$1") || { echo "curl failed: $?"; return; }
    echo "$code $(sed -n 's/^Allow: *//Ip' "$T_DIR/get.head" | tr -d '\r')"
    cat "$T_DIR/get.body"
}
body() { get "$@" | tail -n +2; }
status_of() { get "$@" | head -1 | awk '{print $1}'; }

ctl set root . other_config:stats-update-interval=1000 || die "interval"
ctl --wait add-switch s0 --type private || die "add-switch"
ctl --wait add-port s0 pa --kind veth --netns "$a" --mac 02:00:00:00:07:0a \
    -- set port pa external_ids:vm-id=vm-a || die "add-port pa"
ctl --wait add-port s0 pb --kind veth --netns "$b" --mac 02:00:00:00:07:0b \
    || die "add-port pb"
# No IPv6 chatter: the counters move only with the test's traffic.
for ns in "$a" "$b"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$a" addr add 10.7.0.1/24 dev pa
ip -n "$b" addr add 10.7.0.2/24 dev pb
ip -n "$a" link set pa up
ip -n "$b" link set pb up
[ -S "$sock" ] || die "no stats socket at $sock"

note "GET /v1/stats: the document"
doc=$(body /v1/stats)
assert_eq "schema_version" 1 "$(echo "$doc" | jq .schema_version)"
assert_eq "switch s0" s0 "$(echo "$doc" | jq -r '.switches[0].name')"
assert_eq "ports" "pa pb" \
    "$(echo "$doc" | jq -r '[.ports[].name] | sort | join(" ")')"
assert_eq "pa's vm" vm-a \
    "$(echo "$doc" | jq -r '.ports[] | select(.name == "pa") | .vm.vm_id')"
assert_eq "cur_cfg is a number" number \
    "$(echo "$doc" | jq -r '.daemon.cur_cfg | type')"

note "counters: those of ip -s -j link for the same device, moving"
ip netns exec "$a" ping -c 20 -i 0.05 -W 1 10.7.0.2 >/dev/null \
    || fail "no traffic between the ports"
same_as_kernel() {
    local k e
    k=$(ip -n "$sw" -s -j link show pa \
        | jq -c '.[0].stats64 | [.rx.packets, .rx.bytes, .tx.packets,
                                 .tx.bytes]')
    e=$(body /v1/stats/port/pa \
        | jq -c '[.rx.packets, .rx.bytes, .tx.packets, .tx.bytes]')
    [ "$k" = "$e" ] && [ "$(echo "$e" | jq '.[0]')" -ge 20 ]
}
wait_for 6 same_as_kernel \
    || fail "pa's counters $(body /v1/stats/port/pa | jq -c '[.rx, .tx]') \
are not the kernel's $(ip -n "$sw" -s -j link show pa | jq -c '.[0].stats64')"

valid /v1/stats
valid /v1/stats/port/pa port

note "vswctl stats: the same numbers, from the endpoint"
assert_eq "vswctl stats pa: rx packets" \
    "$(body /v1/stats/port/pa | jq .rx.packets)" \
    "$(ctl --format=json stats pa | jq -r '.[0].rx_packets')"
assert_eq "vswctl stats s0: its ports" 2 \
    "$(ctl --format=json stats s0 | jq 'length')"
expect_error 1 'no switch or port named "nope"' ctl stats nope

note "one object; 404; read-only"
valid /v1/stats/switch/s0 switch
valid /v1/stats/port/nope error
assert_eq "GET /v1/stats/switch/s0" 200 "$(status_of /v1/stats/switch/s0)"
assert_eq "its ports" 2 "$(body /v1/stats/switch/s0 | jq .ports)"
assert_eq "GET /v1/stats/port/nope" 404 "$(status_of /v1/stats/port/nope)"
assert_contains "a JSON error" "no port named" \
    "$(body /v1/stats/port/nope | jq -r .error)"
assert_eq "GET /nope" 404 "$(status_of /nope)"
assert_eq "a NUL in the path: no match" 404 "$(status_of '/v1/stats%00junk')"
assert_eq "a name that is not UTF-8: still JSON" "no port by that name" \
    "$(body '/v1/stats/port/%ff%fe' | jq -r .error)"
for m in POST PUT DELETE PATCH; do
    assert_eq "$m /v1/stats" "405 GET, HEAD" "$(get /v1/stats $m | head -1)"
done
assert_eq "HEAD /metrics" 200 "$(status_of /metrics HEAD)"
ctl --wait set port pa 'external_ids:vm-id="vm-\u001b[2Ja"' || fail "vm-id"
out=$(ctl stats pa)
[[ $out == *$'\e'* ]] && fail "vswctl stats sent an escape to the terminal"
assert_contains "vswctl stats: control characters shown" 'vm-\x1b[2Ja' "$out"
ctl --wait set port pa external_ids:vm-id=vm-a || fail "vm-id back"
assert_eq "still two ports after the refused methods" 2 \
    "$(body /v1/stats | jq '.ports | length')"

note "/metrics: well formed, a deleted port's series gone"
problems=$(python3 "$client" "$sock" check-metrics) \
    || fail "/metrics: $problems"
out=$(body /metrics | promtool check metrics 2>&1) \
    || fail "promtool check metrics: $out"
assert_contains "pa's received bytes" \
    'vsw_port_bytes_total{switch="s0",port="pa",vm="vm-a",direction="rx"}' \
    "$(body /metrics)"
ctl --wait del-port pb || fail "del-port pb"
body /metrics | grep -q 'port="pb"' && fail "pb's series outlived pb"

note "ten clients at once while ports come and go"
(
    for i in $(seq 10); do
        ctl --wait add-port s0 "churn$i" >/dev/null 2>&1
        ctl --wait del-port "churn$i" >/dev/null 2>&1
    done
) &
churn=$!
python3 "$client" "$sock" hammer 10 20 || fail "requests failed under churn"
wait $churn
python3 "$client" "$sock" check-metrics >/dev/null \
    || fail "/metrics malformed after the churn"
valid /v1/stats

note "on TCP too (Root.stats_listen), and the status page in a browser"
ip -n "$sw" link set lo up
ctl --wait set root . stats_listen='"127.0.0.1:9475"' || fail "stats_listen"
tcp_get() { ip netns exec "$sw" curl -sf -m 5 "http://127.0.0.1:9475$1"; }
assert_eq "/v1/stats over TCP" 1 "$(tcp_get /v1/stats | jq .schema_version)"
assert_contains "the page over TCP" "<title>vsw</title>" "$(tcp_get /)"
assert_eq "another Host on a loopback address: 403" 403 \
    "$(ip netns exec "$sw" curl -s -m 5 -o /dev/null -w '%{http_code}' \
       -H 'Host: rebound.example' http://127.0.0.1:9475/v1/stats)"
ctl --wait set root . stats_listen=bogus || fail "stats_listen=bogus"
assert_contains "a bad stats_listen, in Root's status" "not IP:PORT" \
    "$(ctl get root . status:stats_listen)"
assert_eq "the unix socket still answers" 200 "$(status_of /v1/stats)"
# A busy address: said, then taken once it is free.
ctl --wait clear root . stats_listen || fail "clear stats_listen"
ip netns exec "$sw" python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9475)); s.listen(1)
print("holding", flush=True); time.sleep(3)' > "$T_DIR/holder.out" &
holder=$!
wait_for 5 grep -q holding "$T_DIR/holder.out" || fail "no one holds 9475"
ctl --wait set root . stats_listen='"127.0.0.1:9475"' || fail "stats_listen"
assert_contains "a busy address, in Root's status" "in use" \
    "$(ctl get root . status:stats_listen)"
wait $holder
listening_again() {
    [ -z "$(ctl get root . status:stats_listen 2>/dev/null)" ] \
        && tcp_get /v1/stats >/dev/null 2>&1
}
wait_for 12 listening_again \
    || fail "the address freed was not taken: $(ctl get root . status:stats_listen 2>/dev/null)"
# Names long enough to be read back from the picture.
ctl --wait add-switch alphaswitch --type private \
    -- add-port alphaswitch bravoport || fail "add alphaswitch"
# Live rates: the page polls /v1/stats every 2 s; with traffic from pa to
# pb (gone by now: the echo requests go to its MAC, unanswered) for the
# page's 5 s, pa's receive rate is shown.  Then a picture of the page,
# from the same Chromium.
ip -n "$a" neigh replace 10.7.0.2 lladdr 02:00:00:00:07:0b dev pa
ip netns exec "$a" ping -q -i 0.01 -s 1200 -w 9 10.7.0.2 >/dev/null 2>&1 &
pinger=$!
rates=$(ip netns exec "$sw" timeout 60 python3 \
    "$(dirname "$0")/helpers/page-eval.py" http://127.0.0.1:9475/ 5 '
const row = name => [...document.querySelectorAll("#ports tbody tr")]
    .find(r => r.cells[1].textContent === name);
const bits = (name, cell) => Number(row(name).cells[cell].textContent
                                    .replace(/[^0-9]/g, "") || -1);
bits("pa", 6) + ""' "$T_DIR/chrome" "$T_DIR/page.png" 2>&1) \
    || fail "the page in chromium: $rates"
kill $pinger 2>/dev/null; wait $pinger 2>/dev/null
pa_rx=$rates
# About 100 frames of 1242 bytes a second: ~1 Mbit/s each way.
[ "$pa_rx" -gt 200000 ] 2>/dev/null \
    || fail "live rate on the page under traffic: pa rx '$rates' (want ~1,000,000 bit/s)"
seen=$(tesseract "$T_DIR/page.png" - 2>/dev/null)
for name in alphaswitch bravoport; do
    assert_contains "the page shows $name" "$name" "$seen"
done
ctl --wait del-switch alphaswitch || fail "del alphaswitch"
note "the page's live rate under traffic: pa rx $pa_rx bit/s"

note "clients that stall do not delay vswctl --wait"
# median_ms PREFIX: the median of 5 timed `vswctl --wait add-port` calls
# (ports PREFIX1..PREFIX5), in ms; "failed" if one fails.  (It runs in a
# command substitution: failures are reported by the caller.)
median_ms() {
    local t i out=()
    for i in 1 2 3 4 5; do
        t=$(date +%s%N)
        ctl --wait add-port s0 "$1$i" >/dev/null || { echo failed; return; }
        out+=($(( ($(date +%s%N) - t) / 1000000 )))
    done
    printf '%s\n' "${out[@]}" | sort -n | sed -n 3p
}
calm=$(median_ms calm)
for i in 1 2 3 4 5; do
    python3 "$client" "$sock" stall 20 > "$T_DIR/stall$i" &
done
# Timed once all five hold their connections (starting five Pythons on two
# cores takes a second: timed earlier, that start-up is what is measured).
for _ in $(seq 100); do
    [ "$(cat "$T_DIR"/stall? | grep -c stalled)" = 5 ] && break
    sleep 0.1
done
sleep 0.5
stalled=$(median_ms stalled)
note "vswctl --wait add-port: ${calm} ms calm, ${stalled} ms with 5 stalled clients"
[ "$calm" != failed ] && [ "$stalled" != failed ] \
    || fail "add-port failed while timing it"
[ "$stalled" -le $((calm * 2 + 50)) ] 2>/dev/null \
    || fail "stalled clients delayed add-port: $stalled ms against $calm ms"
assert_eq "the endpoint still answers" 200 "$(status_of /v1/stats)"
kill $(jobs -p) 2>/dev/null
wait 2>/dev/null

note "clients that drip a request a byte a second are cut off"
# 64 is the endpoint's connection limit: all of them held, nobody else
# would be answered, until the request deadline (10 s) closes them.
python3 "$client" "$sock" drip 30 64 > "$T_DIR/drips" \
    || fail "the dripping clients: $(tail -3 "$T_DIR/drips")"
assert_eq "dripping clients" 64 "$(wc -l < "$T_DIR/drips")"
i=0
while read -r secs; do
    i=$((i + 1))
    [ "$secs" != open ] && [ "$secs" -ge 9 ] && [ "$secs" -le 14 ] \
        || { fail "dripping client $i: closed after '$secs' s (want 10)"; break; }
done < "$T_DIR/drips"
assert_eq "answered again once they are cut off" 200 "$(status_of /v1/stats)"

note "a request that frames its body two ways is refused"
raw() { python3 "$client" "$sock" raw "$1"; }
assert_eq "two Content-Lengths that disagree" "HTTP/1.1 400 Bad Request" \
    "$(raw 'GET /v1/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n')"
assert_eq "Content-Length beside Transfer-Encoding" "HTTP/1.1 400 Bad Request" \
    "$(raw 'GET /v1/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')"
assert_eq "the same Content-Length twice is one" "HTTP/1.1 200 OK" \
    "$(raw 'GET /v1/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n')"

exit $T_FAILED
