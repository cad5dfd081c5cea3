#!/usr/bin/env python3
"""bench/db-bytes.py STRACE-FILE: the bytes of OVSDB messages a process
read, from `strace -xx -s 65536 -e trace=recvfrom` of it, by database:
prints "VSWITCH SERVER" (the switch database's messages, and those of the
_Server database, which OVS's client library monitors on a cluster).  The
socket's stream is put together per file descriptor and cut into JSON-RPC
messages; descriptors whose data is not JSON (netlink) are left out."""

import json
import re
import sys

CALL = re.compile(r'^recvfrom\((\d+), "((?:\\x[0-9a-f]{2})*)"')


def main():
    streams = {}
    with open(sys.argv[1], errors="replace") as f:
        for line in f:
            m = CALL.match(line)
            if m:
                data = bytes.fromhex(m.group(2).replace("\\x", ""))
                streams.setdefault(m.group(1), bytearray()).extend(data)
    totals = {"vswitch": 0, "server": 0}
    decoder = json.JSONDecoder()
    for data in streams.values():
        text = data.decode("utf-8", errors="replace")
        if not text.lstrip().startswith("{"):
            continue                    # Not a JSON-RPC stream.
        pos = 0
        while pos < len(text):
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            try:
                msg, end = decoder.raw_decode(text, pos)
            except ValueError:
                break                   # A message cut by the trace's end.
            params = msg.get("params") if isinstance(msg, dict) else None
            monid = params[0] if isinstance(params, list) and params else None
            key = ("server" if isinstance(monid, list) and "_Server" in monid
                   else "vswitch")
            totals[key] += len(text[pos:end].encode())
            pos = end
    print(totals["vswitch"], totals["server"])


if __name__ == "__main__":
    main()
