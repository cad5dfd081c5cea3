#!/usr/bin/env python3
"""Loads a page in headless Chromium, lets it run for real time, and prints
what a JavaScript expression evaluates to in it.

  page-eval.py URL SECONDS EXPRESSION [USER_DATA_DIR [SCREENSHOT]]

With SCREENSHOT, a PNG of the page (1400x900) is written there too, after
the expression is evaluated.

Chromium is driven over its DevTools protocol on a pipe
(--remote-debugging-pipe: fds 3 and 4, JSON messages ended by NUL), so
nothing but Python's standard library is needed.  The page's timers run in
real time (unlike --virtual-time-budget, where a page that polls sees no
time pass between two answers).  Exit 1 if the expression throws."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time


def main():
    url, secs, expr = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    data_dir = sys.argv[4] if len(sys.argv) > 4 else tempfile.mkdtemp()
    shot = sys.argv[5] if len(sys.argv) > 5 else None
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    # Chromium reads commands on fd 3 and writes answers on fd 4 (the
    # pipes' own fds are above 4 when they are moved there: they are made
    # after 0-2 and dup()ed up first).
    to_chrome_r, from_chrome_w = (os.dup(to_chrome_r) if to_chrome_r < 5
                                  else to_chrome_r,
                                  os.dup(from_chrome_w) if from_chrome_w < 5
                                  else from_chrome_w)

    def child_fds():
        os.dup2(to_chrome_r, 3)
        os.dup2(from_chrome_w, 4)
    proc = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--user-data-dir=" + data_dir, "--remote-debugging-pipe",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=child_fds, close_fds=False)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    buf = b""
    next_id = [0]

    def call(method, params=None, session=None):
        next_id[0] += 1
        msg = {"id": next_id[0], "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(to_chrome_w, json.dumps(msg).encode() + b"\0")
        nonlocal buf
        while True:
            while b"\0" not in buf:
                chunk = os.read(from_chrome_r, 65536)
                if not chunk:
                    sys.exit("chromium went away")
                buf += chunk
            raw, buf = buf.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == next_id[0]:
                if "error" in answer:
                    sys.exit("%s: %s" % (method, answer["error"]))
                return answer["result"]

    try:
        target = call("Target.createTarget", {"url": url})["targetId"]
        session = call("Target.attachToTarget",
                       {"targetId": target, "flatten": True})["sessionId"]
        if shot:
            call("Emulation.setDeviceMetricsOverride",
                 {"width": 1400, "height": 900, "deviceScaleFactor": 1,
                  "mobile": False}, session)
        time.sleep(secs)
        result = call("Runtime.evaluate",
                      {"expression": expr, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            sys.exit("the expression threw: %s"
                     % result["exceptionDetails"].get("text"))
        value = result["result"].get("value")
        if shot:
            png = call("Page.captureScreenshot", {"format": "png"}, session)
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png["data"]))
        print(value if isinstance(value, str) else json.dumps(value))
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
