#!/usr/bin/env python3
"""bench/report.py: turns bench/run's measurements into results.json and
results.md (median and min-max of the rounds, the ratio of vsw to its peer,
the goal of each row and whether it is met, the machine and the date), and
optionally puts the table into README.md between its bench markers."""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

# (row, title, unit shown, peer the ratio is taken against, goal text,
#  goal check on (vsw median, peer median, all medians of vsw by row) or
#  None)
CONTROL = [
    ("bulk", "one transaction, all ports, until live", "ms", "ip-batch",
     "<= 1.2x ip -batch", lambda v, p, n, m: p is not None and v <= 1.2 * p),
    ("percall-first100", "one call per port: median of the first 100",
     "ms", "ovs", "<= 10 ms", lambda v, p, n, m: v <= 10),
    ("percall-last100", "one call per port: median of the last 100", "ms",
     "ovs", "<= 10 ms and <= 1.2x the first 100",
     lambda v, p, n, m: v <= 10 and v <= 1.2 * m.get(
         ("percall-first100", n), v)),
    ("percall-all", "all ports one by one", "ms", "ovs",
     "<= 10 s at 1000", lambda v, p, n, m: n < 1000 or v <= 10000),
    ("restart", "restart until cur_cfg is current", "ms", None, "<= 300 ms",
     lambda v, p, n, m: v <= 300),
    ("restart-modify", "modifying calls made by that restart", "calls", None,
     "0", lambda v, p, n, m: v == 0),
    ("resync", "one full resync pass (bridge/reconcile)", "us", None,
     "<= 10 ms at 1000", lambda v, p, n, m: v <= 10000),
    ("idle-ticks-10s", "CPU ticks of vswitchd idle for 10 s (100/s)",
     "ticks", None, "none measurable", lambda v, p, n, m: v <= 1),
    ("idle-ticks-2s", "CPU ticks of vswitchd idle for 2 s (100/s)",
     "ticks", None, "none measurable", lambda v, p, n, m: v <= 1),
    ("delete", "delete the switch with its ports", "ms", "ip-batch",
     "<= 500 ms", lambda v, p, n, m: v <= 500),
    ("rss-daemon", "resident memory of the switch daemon", "kB", "ovs",
     "<= 12 MB", lambda v, p, n, m: v <= 12 * 1024),
    ("rss-db", "resident memory of its database server", "kB", "ovs",
     "<= 20 MB", lambda v, p, n, m: v <= 20 * 1024),
    ("acl-install", "ACL entries installed per second, one transaction "
     "(N = entries)", "entries/s", "nft-f", ">= 0.8x nft -f",
     lambda v, p, n, m: p is not None and v >= 0.8 * p),
    ("acl-install-switch", "the same, by vswitchd's own CPU time (user "
     "and kernel; the rest is vswctl and ovsdb-server)", "entries/s",
     "nft-f",
     ">= 0.8x nft -f",
     lambda v, p, n, m: p is not None and v >= 0.8 * p),
    ("acl-change", "one ACL entry added to one port, one call, median",
     "ms", None, "<= 10 ms, flat (10 ports: see that row)",
     lambda v, p, n, m: v <= 10 and v <= 1.2 * m.get(("acl-change", 10),
                                                     v)),
    ("acl-dataplane-udp64", "UDP 64-byte rate with 100 ACL entries on "
     "both ports (N = 2 ports)", "kpps", "vsw-noacl",
     ">= 0.9x vsw without ACLs",
     lambda v, p, n, m: p is not None and v >= 0.9 * p),
    ("stats-latency-v1-stats", "stats endpoint: GET /v1/stats, median",
     "ms", None, "<= 20 ms", lambda v, p, n, m: v <= 20),
    ("stats-latency-rebuilt", "stats endpoint: GET /v1/stats right after "
     "a change (the document built again), median", "ms", None, "<= 20 ms",
     lambda v, p, n, m: v <= 20),
    ("stats-latency-metrics", "stats endpoint: GET /metrics, median", "ms",
     None, "<= 50 ms", lambda v, p, n, m: v <= 50),
    ("stats-rps", "stats endpoint: GET /v1/stats per second, 10 clients",
     "req/s", None, "none set", None),
    ("addport-scraped", "vswctl --wait add-port while /v1/stats is "
     "scraped every 100 ms, median", "ms", "vsw-unscraped",
     "<= 1.1x unscraped", lambda v, p, n, m: p is not None and v <= 1.1 * p),
    ("cluster-percall-median", "many hosts on a 3-server cluster: one "
     "--wait add-port, commit to live on its host, median (N = hosts x "
     "ports)", "ms", "vsw-single", "<= 1.5x one host",
     lambda v, p, n, m: p is not None and v <= 1.5 * p),
    ("cluster-percall-p99", "the same, 99th percentile", "ms", "vsw-single",
     "<= 1.5x one host", lambda v, p, n, m: p is not None and v <= 1.5 * p),
    ("cluster-bytes-other-host", "bytes of the switch database a vswitchd "
     "reads for one change on another host (N = hosts)", "bytes",
     "monitor-all", "0",
     lambda v, p, n, m: v <= 0),
    ("cluster-bytes-server-db", "the same, of OVS's client library's "
     "own monitor of the cluster (_Server.Database: its commit index "
     "changes with every transaction; every OVSDB client of a cluster "
     "reads it)", "bytes", None, "none set", None),
    ("cluster-failover", "the cluster's leader killed: until the next "
     "transaction commits (N = hosts)", "ms", None, "none set", None),
    ("flower-install", "flower rules installed per second, in the lab "
     "(N = rules)", "rules/s", "tc-batch", ">= 0.8x tc -batch",
     lambda v, p, n, m: p is not None and v >= 0.8 * p),
    ("flower-restart", "restart with N flower rules until cur_cfg is "
     "current, in the lab", "ms", None, "none set", None),
    ("flower-restart-modify", "modifying calls made by that restart", "calls",
     None, "0", lambda v, p, n, m: v == 0),
]
DATAPLANE = [
    ("tcp-offload-on", "TCP throughput, offloads on", "Mbit/s"),
    ("tcp-offload-off", "TCP throughput, offloads off", "Mbit/s"),
    ("udp64-offload-on", "UDP 64-byte delivered rate, offloads on", "kpps"),
    ("udp64-offload-off", "UDP 64-byte delivered rate, offloads off",
     "kpps"),
    ("ping-offload-on", "ping RTT, offloads on", "us"),
    ("ping-offload-off", "ping RTT, offloads off", "us"),
]
PEERS = {"ip-batch": "ip -batch", "tc-batch": "tc -batch",
         "vsw-single": "vsw, one host",
         "monitor-all": "a client monitoring every row",
         "nft-f": "nft -f", "vsw-noacl": "vsw without ACLs",
         "vsw-unscraped": "vsw not scraped",
         "ovs": "Open vSwitch", "vsw": "vsw",
         "veth": "veth pair", "bridge": "Linux bridge"}


def cmd(args):
    try:
        return subprocess.run(args, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    os_release = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_release = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "os": os_release,
        "vsw_commit": cmd(["git", "-C", top, "rev-parse", "--short",
                           "HEAD"]),
        "ovs_version": cmd(["ovs-vswitchd", "--version"]).splitlines()[0]
        if cmd(["ovs-vswitchd", "--version"]) else "",
    }


def summarize(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["row"], r["peer"], r["ports"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        values = [r["value"] for r in rs if r["value"] is not None]
        out[key] = {
            "row": key[0], "peer": key[1], "ports": key[2],
            "unit": rs[0]["unit"], "rounds": len(values),
            "failed": len(rs) - len(values),
            "median": statistics.median(values) if values else None,
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "busy_max": max(r["busy"] for r in rs),
        }
    return out


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, float) and not v.is_integer():
        return "%.1f" % v
    return "%d" % v


def cell(s):
    if not s:
        return "—"
    if s["median"] is None:
        return "failed"
    text = fmt(s["median"])
    if s["rounds"] > 1 and s["min"] != s["max"]:
        text += " (%s–%s)" % (fmt(s["min"]), fmt(s["max"]))
    if s["rounds"] == 1:
        text += " ¹"
    if s["failed"]:
        text += " (%d failed)" % s["failed"]
    return text


def control_table(summ):
    ports = sorted({k[2] for k in summ if k[0] in dict(
        (c[0], 1) for c in CONTROL)})
    medians = {(k[0], k[2]): s["median"] for k, s in summ.items()
               if k[1] == "vsw"}
    lines = ["| operation | ports | ip / tc -batch / nft -f / vsw without "
             "ACLs | Open vSwitch | vsw | "
             "vsw / peer | goal | met |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    verdicts = []
    for row, title, unit, peer, goal, check in CONTROL:
        for n in ports:
            v = summ.get((row, "vsw", n))
            if not v or v["median"] is None:
                continue
            ip = (summ.get((row, "ip-batch", n))
                  or summ.get((row, "tc-batch", n))
                  or summ.get((row, "nft-f", n))
                  or summ.get((row, "vsw-noacl", n))
                  or summ.get((row, "vsw-unscraped", n)))
            ovs = summ.get((row, "ovs", n))
            p = summ.get((row, peer, n)) if peer else None
            pm = p["median"] if p else None
            ratio = ("%.2f× %s" % (v["median"] / pm, PEERS[peer])
                     if pm else "—")
            ok = check(v["median"], pm, n, medians) if check else None
            if check:
                verdicts.append({"row": row, "ports": n, "goal": goal,
                                 "met": bool(ok)})
            lines.append("| %s (%s) | %d | %s | %s | %s | %s | %s | %s |" % (
                title, unit, n, cell(ip), cell(ovs), cell(v), ratio, goal,
                "—" if ok is None else "yes" if ok else "**no**"))
    return lines, verdicts


def dataplane_table(summ):
    lines = ["| measure | veth pair | Linux bridge | vsw | vsw, MAC "
             "spoofing guard off | Open vSwitch | vsw / bridge | vsw "
             "unguarded / bridge |", "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def ratio(v, b):
        return ("%.2f×" % (v["median"] / b["median"])
                if v and b and b["median"] and v["median"] is not None
                else "—")
    for row, title, unit in DATAPLANE:
        b = summ.get((row, "bridge", 2))
        v = summ.get((row, "vsw", 2))
        u = summ.get((row, "vsw-unguarded", 2))
        if not v:
            continue
        lines.append("| %s (%s) | %s | %s | %s | %s | %s | %s | %s |" % (
            title, unit, cell(summ.get((row, "veth", 2))), cell(b), cell(v),
            cell(u), cell(summ.get((row, "ovs", 2))), ratio(v, b),
            ratio(u, b)))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--started", required=True)
    ap.add_argument("--elapsed", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--quick", type=int, default=0)
    ap.add_argument("--readme")
    a = ap.parse_args()

    with open(a.rows) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        sys.exit("report.py: no measurements")
    summ = summarize(rows)
    ctl, verdicts = control_table(summ)
    dp = dataplane_table(summ)
    m = machine()
    busy = max(r["busy"] for r in rows)

    md = ["# vsw benchmarks", "",
          "Made by `bench/run`%s on %s (%d s, %d round%s; ¹ one round). "
          "Machine: %d CPUs (%s), %s, kernel %s; vsw %s, %s. The busiest "
          "the machine was before a row: %.0f %% (quiet-machine gate: "
          "each row waits up to 10 s for < 25 %%)." % (
              " --quick" if a.quick else "", a.started, a.elapsed, a.rounds,
              "" if a.rounds == 1 else "s", m["cpus"], m["cpu_model"],
              m["os"], m["kernel"], m["vsw_commit"], m["ovs_version"],
              busy * 100),
          "", "Cells: median (min–max of the rounds).", "",
          "## Control plane", ""] + ctl + [
          "", "## Data plane (two namespaces through each switch)", ""] + dp
    if a.quick:
        md += ["", "*A --quick run proves the harness works; its numbers "
               "are not results.*"]
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"started": a.started, "elapsed_s": a.elapsed,
                   "rounds": a.rounds, "quick": bool(a.quick),
                   "machine": m, "busy_max": busy,
                   "results": sorted(summ.values(), key=lambda s: (
                       s["row"], s["ports"], s["peer"])),
                   "goals": verdicts}, f, indent=1)
        f.write("\n")

    if a.readme:
        with open(a.readme) as f:
            text = f.read()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _, tail = rest.split(end, 1)
            # Under the README's own "## Benchmarks": one level down.
            body = "\n".join("#" + line if line.startswith("## ") else line
                             for line in md[2:]) + "\n"
            with open(a.readme, "w") as f:
                f.write(head + begin + "\n" + body + end + tail)


if __name__ == "__main__":
    main()
