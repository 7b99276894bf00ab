# SPDX-License-Identifier: MIT
"""A small Chrome DevTools Protocol client over --remote-debugging-pipe.

Python standard library only: Chromium reads commands from fd 3 and writes
answers and events to fd 4, each message a JSON object ended by a NUL byte.
One Browser per test; Page.* helpers drive a tab like a user would (real
mouse clicks at an element's centre, real key events, typed text), evaluate
expressions, wait for conditions and take screenshots.
"""

import base64
import json
import os
import shutil
import subprocess
import threading
import time

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio",
    "--hide-scrollbars", "--font-render-hinting=none",
]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class CdpError(Exception):
    pass


class Browser:
    def __init__(self, exe, user_data_dir, timeout=60):
        self.timeout = timeout
        os.makedirs(user_data_dir, exist_ok=True)
        cmd_r, cmd_w = os.pipe()   # we write commands; Chromium reads fd 3
        ev_r, ev_w = os.pipe()     # Chromium writes fd 4; we read

        def child_fds():
            # via fds above 4, so that a pipe end that is already 3 or 4 is not lost
            a, b = os.dup(cmd_r), os.dup(ev_w)
            a, b = os.dup2(a, 100), os.dup2(b, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)
            os.close(100)
            os.close(101)

        self.proc = subprocess.Popen(
            [exe] + FLAGS + ["--user-data-dir=" + user_data_dir, "--remote-debugging-pipe",
                             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, close_fds=False)
        os.close(cmd_r)
        os.close(ev_w)
        self.wfd = cmd_w
        self.rfile = os.fdopen(ev_r, "rb", buffering=0)
        self.next_id = 0
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.answers = {}
        self.events = []   # (sessionId, method, params)
        self.closed = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = self.rfile.read(1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw.decode("utf-8"))
                with self.cond:
                    if "id" in msg:
                        self.answers[msg["id"]] = msg
                    else:
                        self.events.append((msg.get("sessionId"), msg.get("method"),
                                            msg.get("params", {})))
                    self.cond.notify_all()

    def send(self, method, params=None, session=None, timeout=None):
        with self.lock:
            self.next_id += 1
            mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]
        deadline = time.monotonic() + (timeout or self.timeout)
        with self.cond:
            while mid not in self.answers:
                left = deadline - time.monotonic()
                if self.closed:
                    raise CdpError("chromium exited during %s" % method)
                if left <= 0:
                    raise CdpError("no answer to %s" % method)
                self.cond.wait(left)
            ans = self.answers.pop(mid)
        if "error" in ans:
            raise CdpError("%s: %s" % (method, ans["error"].get("message")))
        return ans.get("result", {})

    def wait_event(self, method, session=None, since=0, timeout=None):
        """The first event `method` (of session) at index >= since; its index and params."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self.cond:
            while True:
                for i in range(since, len(self.events)):
                    s, m, p = self.events[i]
                    if m == method and (session is None or s == session):
                        return i, p
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise CdpError("no %s event" % method)
                self.cond.wait(left)

    def event_count(self):
        with self.lock:
            return len(self.events)

    def new_page(self, width=1280, height=900):
        tid = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        return Page(self, sid, tid, width, height)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except CdpError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            os.close(self.wfd)
        except OSError:
            pass
        self.rfile.close()


class Page:
    def __init__(self, browser, session, target, width, height):
        self.b = browser
        self.sid = session
        self.target = target
        self.dialogs = []
        for domain in ("Page", "Runtime"):
            self.send(domain + ".enable")
        self.viewport(width, height)

    def send(self, method, params=None, timeout=None):
        return self.b.send(method, params, self.sid, timeout)

    def viewport(self, width, height):
        self.width, self.height = width, height
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": width < 600})

    def goto(self, url):
        since = self.b.event_count()
        self.send("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.sid, since)

    def eval(self, expr, await_promise=True):
        res = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                             "awaitPromise": await_promise,
                                             "userGesture": True})
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            desc = d.get("exception", {}).get("description") or d.get("text")
            raise CdpError("evaluate %r: %s" % (expr[:80], desc))
        return res.get("result", {}).get("value")

    def wait(self, expr, what=None, timeout=20):
        """Poll the expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.eval(expr)
            except CdpError as e:
                last = e
            if last and not isinstance(last, CdpError):
                return last
            time.sleep(0.05)
        raise CdpError("timed out waiting for %s (last %r)" % (what or expr, last))

    def exists(self, selector):
        return self.eval("!!document.querySelector(%s)" % json.dumps(selector))

    def text(self, selector):
        return self.eval("(function(){const e=document.querySelector(%s);"
                         "return e ? e.textContent : null;})()" % json.dumps(selector))

    def center(self, selector):
        box = self.eval("""(function(){const e=document.querySelector(%s);
            if (!e) return null; e.scrollIntoView({block:'center'});
            const r=e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2, r.width, r.height];})()"""
                        % json.dumps(selector))
        if not box:
            raise CdpError("no element %s" % selector)
        if box[2] == 0 or box[3] == 0:
            raise CdpError("element %s is not visible" % selector)
        return box[0], box[1]

    def click(self, selector):
        x, y = self.center(selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "clickCount": 1})

    def focus(self, selector):
        self.eval("document.querySelector(%s).focus()" % json.dumps(selector))

    KEYS = {
        "Enter": (13, "\r"), "Tab": (9, None), "Escape": (27, None), "Backspace": (8, None),
        "ArrowDown": (40, None), "ArrowUp": (38, None), " ": (32, " "), "/": (191, "/"),
    }

    def key(self, key, shift=False):
        code, text = self.KEYS[key]
        base = {"key": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code,
                "modifiers": 8 if shift else 0}
        down = dict(base, type="keyDown" if text else "rawKeyDown")
        if text:
            down["text"] = text
        self.send("Input.dispatchKeyEvent", down)
        self.send("Input.dispatchKeyEvent", dict(base, type="keyUp"))

    def type(self, text):
        self.send("Input.insertText", {"text": text})

    def fill(self, selector, text):
        """Focus a field, select what it holds and type text over it."""
        self.focus(selector)
        self.eval("document.querySelector(%s).select()" % json.dumps(selector))
        if text:
            self.type(text)
        else:
            self.key("Backspace")

    def active(self):
        return self.eval("(function(){const e=document.activeElement;"
                         "return e ? (e.id || e.tagName + '.' + e.className) : null;})()")

    def screenshot(self, path, full=False):
        params = {"format": "png"}
        if full:
            h = self.eval("Math.ceil(document.documentElement.scrollHeight)")
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": max(h, 1),
                              "scale": 1}
            params["captureBeyondViewport"] = True
        data = base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            raise CdpError("%s is not a PNG" % path)
        with open(path, "wb") as f:
            f.write(data)

    def errors(self):
        """Uncaught exceptions and console errors of this page so far."""
        out = []
        with self.b.lock:
            evs = list(self.b.events)
        for s, m, p in evs:
            if s != self.sid:
                continue
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(d.get("exception", {}).get("description") or d.get("text"))
            elif m == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append(" ".join(str(a.get("value", a.get("description")))
                                    for a in p.get("args", [])))
        return out
