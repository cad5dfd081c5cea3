#!/usr/bin/env python3
"""A client of vswitchd's stats endpoint (a unix socket) for the tests.

  stats-client.py SOCKET get PATH [METHOD]   status line, then the body
  stats-client.py SOCKET check-metrics       checks /metrics (see below);
                                             prints the problems, exit 1
  stats-client.py SOCKET stall SECONDS       connects, sends half a
                                             request, prints "stalled",
                                             never reads
  stats-client.py SOCKET drip SECONDS [N]    N connections (1) that each
                                             send a request a byte a
                                             second; prints, a line each,
                                             the seconds until the server
                                             closed it, or "open"
  stats-client.py SOCKET raw REQUEST         sends REQUEST (\\r\\n escapes
                                             decoded); prints the status
                                             line of the answer
  stats-client.py SOCKET hammer CLIENTS N    CLIENTS threads, N requests
                                             each; exit 1 on any non-200
  stats-client.py SOCKET time PATH N         N timed GETs of PATH, one line
                                             each: microseconds
  stats-client.py SOCKET rate CLIENTS SECS   requests/s that CLIENTS
                                             threads get from /v1/stats
  stats-client.py SOCKET scrape MS SECS      GET /v1/stats every MS ms
                                             (bench/run's scraper)
  stats-client.py SOCKET validate PATH SCHEMA [DEFINITION]
                                             the answer to GET PATH checked
                                             against JSON Schema file SCHEMA
                                             (or its #/definitions/...)

check-metrics: every family has HELP and TYPE before its samples, its
samples are one uninterrupted group, no series (name and labels) appears
twice, and counters end in _total.  promtool does not catch split groups
or duplicates."""

import http.client
import re
import socket
import sys
import threading
import time


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def request(path, method, url):
    c = UnixConnection(path)
    c.request(method, url)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, dict(r.getheaders()), body


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def check_metrics(text):
    problems = []
    declared = {}           # family -> type
    helped = set()
    finished = set()
    current = None
    series = set()
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            if name in declared:
                problems.append("line %d: %s declared twice" % (n, name))
            declared[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("line %d: not a sample: %r" % (n, line))
            continue
        name, labels = m.group(1), m.group(2) or ""
        if name not in declared or name not in helped:
            problems.append("line %d: %s has no HELP or TYPE" % (n, name))
        if name != current:
            if name in finished:
                problems.append("line %d: %s's group is split" % (n, name))
            if current:
                finished.add(current)
            current = name
        if (name, labels) in series:
            problems.append("line %d: duplicate series %s%s"
                            % (n, name, labels))
        series.add((name, labels))
        if declared.get(name) == "counter" and not name.endswith("_total"):
            problems.append("line %d: counter %s does not end in _total"
                            % (n, name))
        try:
            float(m.group(3))
        except ValueError:
            problems.append("line %d: value %r" % (n, m.group(3)))
    return problems


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    if cmd == "get":
        method = sys.argv[4] if len(sys.argv) > 4 else "GET"
        status, headers, body = request(path, method, sys.argv[3])
        print(status, headers.get("Allow", ""))
        sys.stdout.write(body)
    elif cmd == "check-metrics":
        status, _, body = request(path, "GET", "/metrics")
        problems = ([] if status == 200 else ["status %d" % status])
        problems += check_metrics(body)
        for p in problems:
            print(p)
        sys.exit(1 if problems else 0)
    elif cmd == "stall":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(b"GET /v1/stats HTTP/1.1\r\nHost: x\r\n")
        print("stalled", flush=True)
        time.sleep(float(sys.argv[3]))
    elif cmd == "drip":
        # All N connected first (the server's limit is what is tested),
        # then each drips in a thread of its own.
        seconds = float(sys.argv[3])
        n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.settimeout(1)
            socks.append(s)
        results = [None] * n

        def drip(k):
            s = socks[k]
            start = time.monotonic()
            end = start + seconds
            req = b"GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-Drip: " + b"a" * 200
            for i in range(len(req)):
                if time.monotonic() >= end:
                    results[k] = "open"
                    return
                try:
                    s.sendall(req[i:i + 1])
                    if s.recv(1) == b"":
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            results[k] = str(int(time.monotonic() - start))

        threads = [threading.Thread(target=drip, args=(k,)) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("\n".join(results))
    elif cmd == "raw":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(5)
        s.sendall(sys.argv[3].encode().decode("unicode_escape").encode())
        print(s.recv(4096).decode(errors="replace").split("\r\n")[0])
    elif cmd == "hammer":
        clients, n = int(sys.argv[3]), int(sys.argv[4])
        bad = []

        def run():
            for i in range(n):
                url = "/metrics" if i % 2 else "/v1/stats"
                try:
                    status, _, _ = request(path, "GET", url)
                    if status != 200:
                        bad.append(status)
                except OSError as e:
                    bad.append(str(e))
        threads = [threading.Thread(target=run) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if bad:
            print("failed requests:", bad[:10])
            sys.exit(1)
    elif cmd == "time":
        for _ in range(int(sys.argv[4])):
            t = time.monotonic()
            status, _, _ = request(path, "GET", sys.argv[3])
            if status != 200:
                sys.exit("status %d" % status)
            print(int((time.monotonic() - t) * 1e6))
    elif cmd == "rate":
        clients, secs = int(sys.argv[3]), float(sys.argv[4])
        done = [0] * clients
        end = time.monotonic() + secs

        def run(k):
            while time.monotonic() < end:
                if request(path, "GET", "/v1/stats")[0] == 200:
                    done[k] += 1
        threads = [threading.Thread(target=run, args=(k,))
                   for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(int(sum(done) / secs))
    elif cmd == "scrape":
        period, end = float(sys.argv[3]) / 1000, time.monotonic() + float(
            sys.argv[4])
        while time.monotonic() < end:
            t = time.monotonic()
            request(path, "GET", "/v1/stats")
            time.sleep(max(0, period - (time.monotonic() - t)))
    elif cmd == "validate":
        import json
        import jsonschema
        _, _, body = request(path, "GET", sys.argv[3])
        with open(sys.argv[4]) as f:
            schema = json.load(f)
        if len(sys.argv) > 5:
            schema = dict(schema, **{"$ref": "#/definitions/" + sys.argv[5]})
            for k in ("required", "properties", "additionalProperties",
                      "type"):
                schema.pop(k, None)
        try:
            jsonschema.validate(json.loads(body), schema)
        except jsonschema.ValidationError as e:
            print("%s: %s at %s" % (sys.argv[3], e.message,
                                    "/".join(str(p) for p in e.path)))
            sys.exit(1)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
