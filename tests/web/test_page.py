#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Browser test of the web page (suite 'web').

Serves web/ and a stub of the JSON API (canned responses in the shapes of
spec/API.md) from a python http.server on 127.0.0.1, loads the page in
headless Chromium (--dump-dom with a virtual-time budget, so the scripts and
fetches run) and checks the DOM: the collections (default first, counts), a
page of artifacts with "Load more", the detail panel, search and type filter
reaching the API, error and empty states, the token prompt on 401, and that
API text is never parsed as markup. It also takes screenshots (light, dark,
400 px wide) and checks they are PNG files; set SKILLMEAT_WEB_SHOTS=<dir> to
keep them.

Exit 77 (meson's skip) when Chromium is not installed (`sh tools/deps.sh`),
exit 1 then when CI=true.
Python standard library only.
"""

import base64
import html
import http.client
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

SRC = os.environ.get("SKILLMEAT_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
WEB = os.path.join(SRC, "web")
SKIP = 77

EVIL = '<img src=x onerror="document.title=\'pwned\'">'

TYPES = ["skill", "command", "agent"]

# As src/http/web.c sends it, so the page is tested under the same policy.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")

# Drives the page inside a same-origin iframe the way a user would (clicks,
# typing, Escape) and writes what it saw into <pre id="result">.
HARNESS = """<!doctype html><html><body>
<iframe id="f" src="/#collection=default" width="1200" height="800"></iframe>
<script>
const out = {};
const f = document.getElementById('f');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, what) {
  for (let i = 0; i < 200; i++) { if (cond()) return; await sleep(25); }
  throw new Error('timed out waiting for ' + what);
}
async function run() {
  const d = f.contentDocument, w = f.contentWindow;
  const cards = () => d.querySelectorAll('button.card');
  const status = () => d.getElementById('artifacts-status').textContent;
  await until(() => cards().length === 24, 'first page');
  d.getElementById('load-more').click();
  await until(() => cards().length > 24, 'second page');
  out.more = {cards: cards().length, hidden: d.getElementById('load-more').hidden, status: status()};
  const search = d.getElementById('search');
  search.value = 'canvas';
  search.dispatchEvent(new w.Event('input', {bubbles: true}));
  await until(() => cards().length === 1, 'search');
  out.search = {cards: cards().length, name: cards()[0].querySelector('.card-name').textContent,
                hash: w.location.hash};
  cards()[0].focus();
  cards()[0].click();
  await until(() => !d.getElementById('detail').hidden &&
              d.getElementById('detail-body').textContent.includes('content hash'), 'detail');
  out.detail = {title: d.getElementById('detail-title').textContent,
                focus: d.activeElement.id, current: cards()[0].getAttribute('aria-current')};
  d.dispatchEvent(new w.KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
  out.escape = {hidden: d.getElementById('detail').hidden,
                focusOnCard: d.activeElement === cards()[0]};
  search.value = '';
  const type = d.getElementById('type');
  type.value = 'agent';
  type.dispatchEvent(new w.Event('change', {bubbles: true}));
  await until(() => cards().length === 10, 'type filter');
  out.type = {cards: cards().length, status: status(),
              chips: Array.from(d.querySelectorAll('button.card .chip')).map((c) => c.textContent)};
  const team = Array.from(d.querySelectorAll('#collections button')).find(
    (b) => b.textContent.startsWith('Team picks'));
  team.click();
  await until(() => d.getElementById('collection-title').textContent === 'Team picks' &&
              status().includes('No artifacts match'), 'collection switch');
  const sel = d.querySelector('#collections button[aria-current="true"]');
  out.collection = {title: d.title, status: status(), current: sel && sel.textContent};
}
f.addEventListener('load', () => {
  run().catch((e) => { out.error = String(e && e.message || e); }).then(() => {
    const pre = document.createElement('pre');
    pre.id = 'result';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
});
</script></body></html>"""


def collection(cid, name, count, ctype=None, description=None):
    return {
        "id": cid,
        "name": name,
        "description": description,
        "created_by": None,
        "collection_type": ctype,
        "context_category": None,
        "created_at": "2026-01-02T03:04:05",
        "updated_at": "2026-01-02T03:04:05",
        "group_count": 0,
        "artifact_count": count,
    }


def summary(atype, name, description, tags, cols):
    aid = "%s:%s" % (atype, name)
    return {
        "id": aid,
        "name": name,
        "type": atype,
        "version": None,
        "source": aid,
        "description": description,
        "author": "Ada",
        "tags": tags,
        "tools": ["Read", "Write"],
        "origin": "local",
        "origin_source": None,
        "collections": cols,
        "deployments": [],
    }


def make_data():
    default = collection("default", "Default Collection", 30, "default", "Every artifact of the home")
    team = collection("0f3c9a", "Team picks", 2, None, "Shared with the team")
    evil = collection("1a2b3c", EVIL, 1)
    empty = collection("2b3c4d", "Empty shelf", 0)
    broken = collection("3c4d5e", "Broken", None)
    cols = [team, evil, empty, broken, default]  # API order: by id, default not first
    ref = [{"id": "default", "name": "Default Collection", "artifact_count": 30}]
    arts = {"default": [], "0f3c9a": [], "1a2b3c": [], "2b3c4d": [], "3c4d5e": []}
    for i in range(30):
        atype = TYPES[i % 3]
        name = "tool-%02d" % i
        desc = "Artifact number %d. " % i + "A long description that goes on. " * 8
        arts["default"].append(summary(atype, name, desc, ["tag%d" % (i % 4), "shared"], ref))
    arts["default"].append(summary("skill", "canvas-design", "Design posters on a canvas",
                                   ["design", "art"], ref))
    arts["default"].sort(key=lambda a: a["id"])
    arts["0f3c9a"] = [a for a in arts["default"] if a["name"] in ("canvas-design", "tool-01")]
    arts["1a2b3c"] = [summary("agent", "sneaky", EVIL, [EVIL], ref)]
    return cols, arts


def detail(aid):
    atype, name = aid.split(":", 1)
    modified = name == "canvas-design"
    return {
        "id": aid,
        "uuid": "5f0e6a0c2b7d4e0f8a1b2c3d4e5f6071",
        "name": name,
        "type": atype,
        "source": "https://github.com/anthropics/skills/tree/main/canvas-design",
        "origin": "github",
        "origin_source": "github",
        "version": "1.2.0",
        "aliases": [],
        "tags": ["design", "art"],
        "target_platforms": [],
        "metadata": {
            "title": "Canvas Design",
            "description": "Design posters on a canvas",
            "author": "Ada",
            "license": "MIT",
            "version": "1.2.0",
            "dependencies": [],
            "tools": ["Read", "Write", "Bash"],
            "linked_artifacts": [],
            "unlinked_references": [],
        },
        "upstream": {
            "tracking_enabled": True,
            "current_sha": "abc123def456",
            "upstream_sha": None,
            "update_available": False,
            "has_local_modifications": modified,
            "drift_status": None,
        },
        "deployment_stats": None,
        "deployments": [],
        "collections": [{"id": "default", "name": "Default Collection", "artifact_count": 30}],
        "added": "2026-01-02T03:04:05Z",
        "updated": "2026-01-02T03:04:05Z",
        "import_id": None,
        "owner_id": None,
        "owner_type": "user",
        "visibility": "private",
        "workflow_id": None,
        "collection": "default",
        "path": "skills/%s" % name,
        "content_hash": "c34dd682deaf5bbb8f1e703d83eda77af12b1a6263392ab24a3e5ab232ff93a4",
        "locally_modified": modified,
        "revision": "r-42",
        "future_field": "kept visible",
    }


def page(items, params, limit_default=20):
    limit = int(params.get("limit", [limit_default])[0])
    after = params.get("after", [None])[0]
    start = 0
    if after:
        key = base64.b64decode(after).decode()
        ids = [a["id"] for a in items]
        start = ids.index(key) + 1
    chunk = items[start:start + limit]
    has_next = start + limit < len(items)
    enc = lambda a: base64.b64encode(a["id"].encode()).decode() if a else None  # noqa: E731
    return {
        "items": chunk,
        "page_info": {
            "has_next_page": has_next,
            "has_previous_page": start > 0,
            "start_cursor": enc(chunk[0]) if chunk else None,
            "end_cursor": enc(chunk[-1]) if chunk else None,
            "total_count": len(items),
        },
    }


class Stub:
    def __init__(self, need_token=None, upstream=None):
        self.cols, self.arts = make_data()
        self.need_token = need_token
        self.upstream = upstream  # (host, port) of a real serve: /api/ is forwarded
        self.requests = []
        self.lock = threading.Lock()


def handler_for(stub):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, status, body, ctype="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if ctype.startswith("text/html") and self.path.split("?")[0] != "/harness.html":
                self.send_header("Content-Security-Policy", CSP)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def forward(self):
            conn = http.client.HTTPConnection(*stub.upstream, timeout=30)
            try:
                conn.request("GET", self.path, headers={"Accept": "application/json"})
                res = conn.getresponse()
                body = res.read()
                return self.send(res.status, body, res.getheader("Content-Type") or "")
            finally:
                conn.close()

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            params = urllib.parse.parse_qs(url.query)
            path = url.path
            with stub.lock:
                stub.requests.append((path, params))
            files = {"/": "index.html", "/index.html": "index.html", "/app.css": "app.css",
                     "/app.js": "app.js"}
            if path == "/harness.html":
                return self.send(200, HARNESS.encode(), "text/html; charset=utf-8")
            if path in files:
                name = files[path]
                ctype = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
                         "js": "text/javascript; charset=utf-8"}[name.rsplit(".", 1)[1]]
                with open(os.path.join(WEB, name), "rb") as f:
                    return self.send(200, f.read(), ctype)
            if not path.startswith("/api/v1/"):
                return self.send(404, {"detail": "Not Found"})
            if stub.upstream:
                return self.forward()
            if stub.need_token and self.headers.get("Authorization") != "Bearer " + stub.need_token:
                return self.send(401, {"detail": "Not authenticated"})
            parts = [urllib.parse.unquote(p) for p in path[len("/api/v1/"):].split("/")]
            if parts == ["user-collections"]:
                return self.send(200, page(stub.cols, params))
            if len(parts) == 3 and parts[0] == "user-collections" and parts[2] == "artifacts":
                cid = parts[1]
                if cid == "3c4d5e":
                    return self.send(500, {"detail": "database is locked"})
                if cid not in stub.arts:
                    return self.send(404, {"detail": "Collection '%s' not found" % cid})
                items = stub.arts[cid]
                t = params.get("artifact_type", [""])[0]
                if t:
                    items = [a for a in items if a["type"] == t]
                q = params.get("search", [""])[0].lower()
                if q:
                    items = [a for a in items
                             if q in a["name"].lower() or q in (a["description"] or "").lower()]
                return self.send(200, page(items, params))
            if len(parts) == 2 and parts[0] == "artifacts":
                aid = parts[1]
                if aid == "skill:missing" or ":" not in aid:
                    return self.send(404, {"detail": "Artifact '%s' not found" % aid})
                return self.send(200, detail(aid))
            return self.send(404, {"detail": "Not Found"})

    return Handler


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, exe, tmp):
        self.exe = exe
        self.tmp = tmp
        self.n = 0

    def run(self, url, *extra, budget=5000):
        self.n += 1
        profile = tempfile.mkdtemp(prefix="profile-", dir=self.tmp)
        cmd = [self.exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", "--mute-audio",
               "--user-data-dir=" + profile, "--virtual-time-budget=%d" % budget]
        cmd += list(extra) + [url]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        if p.returncode != 0:
            raise AssertionError("chromium failed (%d): %s" % (p.returncode, p.stderr.decode()[-2000:]))
        return p.stdout.decode("utf-8", "replace")

    def dom(self, url, width=1280, height=800, budget=5000):
        return self.run(url, "--dump-dom", "--window-size=%d,%d" % (width, height), budget=budget)

    def shot(self, url, path, width=1280, height=800, *extra):
        self.run(url, "--screenshot=" + path, "--window-size=%d,%d" % (width, height),
                 "--hide-scrollbars", *extra)
        with open(path, "rb") as f:
            head = f.read(8)
        if head != b"\x89PNG\r\n\x1a\n":
            raise AssertionError("%s is not a PNG" % path)


FAILED = []


def check(cond, what):
    if cond:
        print("ok - " + what)
    else:
        print("not ok - " + what)
        FAILED.append(what)


def element(dom, elem_id):
    """The opening tag of the element with this id."""
    m = re.search(r"<[a-z]+[^>]*\bid=\"%s\"[^>]*>" % re.escape(elem_id), dom)
    return m.group(0) if m else ""


def html_unescape(s):
    return html.unescape(s)


def texts(dom, cls):
    return re.findall(r'<span class="%s">([^<]*)</span>' % re.escape(cls), dom)


def serve(stub):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(stub))
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d/" % srv.server_address[1]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def http_get(host, port, path, headers=None):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        res = conn.getresponse()
        return res.status, dict((k.lower(), v) for k, v in res.getheaders()), res.read()
    finally:
        conn.close()


def real_serve(b, tmp, shots):
    """The page against the real API: `skillmeat serve` (SKILLMEAT_BIN) on a small home."""
    exe = os.environ.get("SKILLMEAT_BIN")
    if not exe or not os.access(exe, os.X_OK):
        print("ok - # SKIP the real serve: SKILLMEAT_BIN not set")
        return
    home, src = os.path.join(tmp, "home"), os.path.join(tmp, "src")
    env = dict(os.environ, SKILLMEAT_HOME=home, NO_COLOR="1")
    for k in ("SKILLMEAT_API_TOKEN", "SKILLMEAT_HOST", "SKILLMEAT_PORT"):
        env.pop(k, None)
    write(os.path.join(src, "canvas", "SKILL.md"),
          "---\nname: canvas\ntitle: Canvas\ndescription: Draw <b>on</b> a canvas\n"
          "author: Ann\nlicense: MIT\nversion: 1.2.0\ntags: [art, ui]\ntools: [Read, Write]\n"
          "---\n# Canvas\n")
    write(os.path.join(src, "pdf", "SKILL.md"),
          "---\nname: pdf\ndescription: Read PDF files\ntags: [docs]\ntools: [Bash]\n---\nx\n")
    write(os.path.join(src, "reviewer.md"),
          "---\ndescription: Review code carefully\ntags: [review]\n---\nb\n")
    for args in (["add", "skill", os.path.join(src, "canvas")],
                 ["add", "skill", os.path.join(src, "pdf")],
                 ["add", "agent", os.path.join(src, "reviewer.md")],
                 ["user-collection", "create", "Favourites"],
                 ["user-collection", "add", "Favourites", "skill:canvas"],
                 ["deploy", "canvas", "--project", tmp]):
        p = subprocess.run([exe] + args, env=env, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            check(False, "skillmeat %s: %s" % (" ".join(args), p.stderr.strip()))
            return
    # edit the collection's copy: the detail shows it as locally modified
    with open(os.path.join(home, "collections", "default", "skills", "canvas", "SKILL.md"), "a") as f:
        f.write("edited\n")
    proc = subprocess.Popen([exe, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        m = re.match(r"http://([^:/]+):(\d+)$", line)
        if not m:
            check(False, "serve printed its URL (%r)" % line)
            return
        host, port = m.group(1), int(m.group(2))
        st, _, body = http_get(host, port, "/api/v1/user-collections")
        fav = [c["id"] for c in json.loads(body)["items"] if c["name"] == "Favourites"]
        srv = None
        st, hdrs, body = http_get(host, port, "/")
        if st == 200 and hdrs.get("content-type", "").startswith("text/html"):
            # serve has the page (sm_web_register): the embedded copy, its headers
            with open(os.path.join(WEB, "index.html"), "rb") as f:
                check(body == f.read(), "serve answers / with web/index.html")
            etag = hdrs.get("etag", "")
            check(hdrs.get("cache-control") == "no-cache" and len(etag) == 66,
                  "Cache-Control: no-cache and an ETag")
            st, _, _ = http_get(host, port, "/app.js", {"If-None-Match": etag})
            check(st == 200, "another asset's tag does not match")
            st, _, body = http_get(host, port, "/", {"If-None-Match": etag})
            check(st == 304 and body == b"", "If-None-Match -> 304")
            base = line + "/"
        else:
            print("ok - # serve does not serve the page yet: web/ from here, /api/ forwarded")
            srv, base = serve(Stub(upstream=(host, port)))
        try:
            dom = b.dom(base + "#collection=default&artifact=skill%3Acanvas")
            names = texts(dom, "cname")
            check(names == ["Default Collection", "Favourites"], "real collections: %s" % names)
            cards = texts(dom, "card-name")
            check(sorted(cards) == ["canvas", "pdf", "reviewer"], "real artifacts: %s" % cards)
            check("Showing 3 of 3 artifacts" in dom, "real total_count")
            check("Draw &lt;b&gt;on&lt;/b&gt; a canvas" in dom, "real description, as text")
            check(re.search(r">[0-9a-f]{64}<", dom) is not None, "real content hash shown")
            check("locally modified</span>" in dom, "real locally_modified badge")
            check(">Write</span>" in dom and ">art</span>" in dom, "real tools and tags")
            check("API error" not in dom, "no API error")
            # web/deploy.js: where canvas is deployed (the edit above made it outdated)
            check('id="deploy-panel"' in dom and html.escape(os.path.realpath(tmp)) in dom
                  and 'data-status="outdated"' in dom and 'data-action="deploy"' in dom,
                  "deployments section with the project, its status and the form")
            if fav:
                dom = b.dom(base + "#collection=" + urllib.parse.quote(fav[0]))
                check(texts(dom, "card-name") == ["canvas"], "real user collection members")
            dom = b.dom(base + "#collection=default&type=agent")
            check(texts(dom, "card-name") == ["reviewer"], "real artifact_type filter")
            dom = b.dom(base + "#collection=default&search=pdf")
            check(texts(dom, "card-name") == ["pdf"], "real search")
            b.shot(base + "#collection=default&artifact=skill%3Acanvas",
                   os.path.join(shots, "page-real.png"))
        finally:
            if srv:
                srv.shutdown()
                srv.server_close()
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    exe = find_chromium()
    if not exe:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            print("chromium is not installed (sh tools/deps.sh), and CI=true: failing")
            return 1
        print("chromium is not installed (sh tools/deps.sh); skipping")
        return SKIP
    for name in ("index.html", "app.css", "app.js"):
        if not os.path.exists(os.path.join(WEB, name)):
            print("missing web/%s" % name)
            return 1

    stub = Stub()
    srv, base = serve(stub)
    tmp = tempfile.mkdtemp(prefix="skillmeat-web-")
    b = Browser(exe, tmp)
    try:
        # 1. first load: collections, the default one selected, first page of artifacts
        dom = b.dom(base)
        names = texts(dom, "cname")
        check(len(names) == 5, "five collections listed (%d)" % len(names))
        check(names[:1] == ["Default Collection"], "the default collection comes first: %s" % names[:2])
        check('aria-current="true" data-id="default"' in dom or
              re.search(r'data-id="default"[^>]*aria-current="true"', dom) is not None,
              "the default collection is selected")
        check(re.search(r'<span aria-hidden="true">30</span><span class="sr">30 artifacts</span>', dom)
              is not None, "artifact_count badge of the default collection")
        cards = texts(dom, "card-name")
        check(len(cards) == 24, "first page holds 24 artifacts (%d)" % len(cards))
        check("canvas-design" in cards, "artifact names shown")
        check({"skill", "command", "agent"} <= set(texts(dom, "chip")), "type chips shown")
        check("Showing 24 of 31 artifacts" in dom, "status line with the total")
        check("hidden" not in element(dom, "load-more"), "Load more is visible")
        check(">design</span>" in dom, "tags shown")
        with stub.lock:
            reqs = list(stub.requests)
        art_reqs = [p for path, p in reqs if path == "/api/v1/user-collections/default/artifacts"]
        check(art_reqs and art_reqs[0].get("limit") == ["24"], "artifacts fetched with limit=24")
        check(any(path == "/api/v1/user-collections" for path, _ in reqs), "collections fetched")

        # 2. hash state: search + type filter reach the API; the detail panel opens
        stub.requests.clear()
        dom = b.dom(base + "#collection=default&search=canvas&type=skill&artifact=skill%3Acanvas-design")
        with stub.lock:
            reqs = list(stub.requests)
        art_reqs = [p for path, p in reqs if path == "/api/v1/user-collections/default/artifacts"]
        check(any(p.get("search") == ["canvas"] and p.get("artifact_type") == ["skill"]
                  for p in art_reqs), "search and artifact_type passed to the API")
        cards = texts(dom, "card-name")
        check(cards == ["canvas-design"], "filtered list: %s" % cards)
        check("hidden" in element(dom, "load-more"), "no Load more on the last page")
        check(any(urllib.parse.unquote(path) == "/api/v1/artifacts/skill:canvas-design"
                  for path, _ in reqs),
              "detail fetched from /api/v1/artifacts/{id}")
        check("hidden" not in element(dom, "detail"), "detail panel open")
        check("c34dd682deaf5bbb8f1e703d83eda77af12b1a6263392ab24a3e5ab232ff93a4" in dom,
              "content hash shown")
        check("locally modified</span>" in dom, "locally_modified badge")
        check('href="https://github.com/anthropics/skills/tree/main/canvas-design"' in dom,
              "upstream link")
        check(">Bash</span>" in dom, "tools shown")
        check("MIT" in dom and "Canvas Design" in dom, "metadata shown")
        check("future_field" in dom and "kept visible" in dom, "unknown fields shown")

        # 3. interaction, driven from a same-origin harness page
        stub.requests.clear()
        dom = b.dom(base + "harness.html", budget=20000)
        m = re.search(r'<pre id="result">([^<]*)</pre>', dom)
        res = json.loads(html_unescape(m.group(1))) if m else {"error": "no result"}
        check("error" not in res, "harness ran: %s" % res.get("error", "ok"))
        more = res.get("more", {})
        check(more.get("cards") == 31 and more.get("hidden") is True
              and "Showing 31 of 31" in more.get("status", ""), "Load more appends the last page: %s" % more)
        with stub.lock:
            reqs = list(stub.requests)
        cursor = base64.b64encode(stub.arts["default"][23]["id"].encode()).decode()
        check(any(p.get("after") == [cursor] for path, p in reqs
                  if path == "/api/v1/user-collections/default/artifacts"),
              "Load more sends after=page_info.end_cursor")
        srch = res.get("search", {})
        check(srch.get("cards") == 1 and srch.get("name") == "canvas-design"
              and "search=canvas" in srch.get("hash", ""), "typing searches (debounced): %s" % srch)
        det = res.get("detail", {})
        check(det.get("title") == "canvas-design" and det.get("focus") == "detail-title"
              and det.get("current") == "true", "clicking a card opens the detail: %s" % det)
        esc = res.get("escape", {})
        check(esc.get("hidden") is True and esc.get("focusOnCard") is True,
              "Escape closes the detail and focus returns to the card: %s" % esc)
        typ = res.get("type", {})
        check(typ.get("cards") == 10 and set(typ.get("chips", [])) == {"agent"},
              "type filter: %s" % typ.get("status"))
        col = res.get("collection", {})
        check((col.get("current") or "").startswith("Team picks")
              and col.get("title", "").startswith("Team picks"),
              "clicking a collection selects it: %s" % col)

        # 4. API text is never markup
        dom = b.dom(base + "#collection=1a2b3c")
        check("<title>pwned</title>" not in dom, "no injected script ran")
        check("<img" not in dom, "no injected element")
        check("&lt;img src=x" in dom, "markup-looking names shown as text")

        # 5. empty collection, empty search, error
        dom = b.dom(base + "#collection=2b3c4d")
        check("This collection has no artifacts yet." in dom, "empty collection state")
        dom = b.dom(base + "#collection=default&search=zzzz-nothing")
        check("No artifacts match these filters." in dom and "Clear filters" in dom,
              "empty search state")
        dom = b.dom(base + "#collection=3c4d5e")
        check("API error 500: database is locked" in dom, "error state with the detail")
        check("Retry</button>" in dom, "retry button on error")
        dom = b.dom(base + "#collection=default&artifact=skill%3Amissing")
        check("API error 404: Artifact &#39;skill:missing&#39; not found" in dom or
              "API error 404: Artifact 'skill:missing' not found" in dom, "detail error state")

        # 6. screenshots: light, dark, 400 px
        shots = os.environ.get("SKILLMEAT_WEB_SHOTS") or tmp
        os.makedirs(shots, exist_ok=True)
        url = base + "#collection=default&artifact=skill%3Acanvas-design"
        b.shot(url, os.path.join(shots, "page-light.png"))
        b.shot(url, os.path.join(shots, "page-dark.png"), 1280, 800, "--force-dark-mode",
               "--blink-settings=preferredColorScheme=0")
        b.shot(base + "#collection=default", os.path.join(shots, "page-400.png"), 400, 900)
        b.shot(url, os.path.join(shots, "page-400-detail.png"), 400, 900)
        check(True, "screenshots taken in %s" % shots)

        # 7. the real serve, when the build names it
        real_serve(b, tmp, shots)
    finally:
        srv.shutdown()
        srv.server_close()

    # 8. a server with a token: the page asks for it
    stub = Stub(need_token="sekret")
    srv, base = serve(stub)
    try:
        dom = b.dom(base)
        check("hidden" not in element(dom, "token-form"), "token prompt shown on 401")
        check("API error 401: Not authenticated" in dom, "401 reported")
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(tmp, ignore_errors=True)

    if FAILED:
        print("%d check(s) failed" % len(FAILED))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
