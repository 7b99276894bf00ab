#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Browser test of the web page as an application (suite 'web').

Drives the real `skillmeat serve` (SKILLMEAT_BIN) on a temporary home in
headless Chromium over the DevTools protocol (tests/web/cdp.py, a pipe, no
network): the list (page size, "showing X of Y", sort, tag filter, search),
the content view (rendered SKILL.md, files), a hostile artifact (no script
runs), the metadata edit written to the file on disk, a stale edit answered
409 and shown to the user (reload / overwrite), add, delete with
confirmation, deploy and undeploy from the detail panel (web/deploy.js:
files in the project, status shown, a hand edit seen as modified),
keyboard use, a 390 px wide screen, the favicon, the token
prompt, and axe-core (WCAG 2 A/AA) on every state. Screenshots go to
$SKILLMEAT_BUILD/screenshots (build/screenshots).

Without Chromium or axe-core: skipped (77), but failed when CI=true.
Install both with `sh tools/deps.sh`.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SKILLMEAT_SRC") or os.path.join(HERE, "..", "..")
AXE = os.path.join(SRC, "tests", "web", "node_modules", "axe-core", "axe.min.js")
BUILD = os.environ.get("SKILLMEAT_BUILD") or os.path.join(SRC, "build")
SHOTS = os.path.join(BUILD, "screenshots")
BIN = os.environ.get("SKILLMEAT_BIN")
SKIP = 77

FAILED = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if cond:
        print("ok %d - %s" % (CHECKS[0], what), flush=True)
    else:
        print("not ok %d - %s" % (CHECKS[0], what), flush=True)
        FAILED.append(what)
    return cond


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


EVIL = """---
name: evil
description: "<img src=x onerror=\\"window.__pwned='fm'\\"> <script>window.__pwned='fm2'</script>"
---
# Evil <script>window.__pwned='h1'</script>

<script>window.__pwned = 'block'</script>

<img src=x onerror="window.__pwned='img'">

[click me](javascript:window.__pwned='link') and <a href="javascript:window.__pwned='a'">raw</a>

<div onmouseover="window.__pwned='div'">block html</div>
"""


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.home = os.path.join(tmp, "home")
        self.src = os.path.join(tmp, "src")
        self.env = dict(os.environ, SKILLMEAT_HOME=self.home, NO_COLOR="1", HOME=tmp)
        for k in ("SKILLMEAT_API_TOKEN", "SKILLMEAT_HOST", "SKILLMEAT_PORT"):
            self.env.pop(k, None)
        self.proc = None

    def cli(self, *args):
        p = subprocess.run([BIN] + list(args), env=self.env, capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            raise AssertionError("skillmeat %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout

    def skill_md(self, name):
        return os.path.join(self.home, "collections", "default", "skills", name, "SKILL.md")

    def populate(self):
        s = self.src
        write(os.path.join(s, "canvas", "SKILL.md"),
              "---\nname: canvas\ntitle: Canvas\ndescription: Draw on a canvas\n"
              "author: Ann\nlicense: MIT\nversion: 1.2.0\ntags: [art, ui]\n"
              "tools: [Read, Write]\n---\n# Canvas\n\nDraw **posters** with `shapes`.\n\n"
              "- one\n- two\n")
        write(os.path.join(s, "canvas", "references", "colors.md"),
              "# Colors\n\nUse *contrast*.\n")
        write(os.path.join(s, "pdf", "SKILL.md"),
              "---\nname: pdf\ndescription: Read PDF files\ntags: [docs]\ntools: [Bash]\n---\n"
              "# PDF\n")
        write(os.path.join(s, "reviewer.md"),
              "---\ndescription: Review code carefully\ntags: [review]\n---\n# Reviewer\n\n"
              "You review code.\n")
        write(os.path.join(s, "evil", "SKILL.md"), EVIL)
        # long names that share a prefix: the cards must tell them apart
        for i in range(3):
            n = "data-pipeline-orchestration-helper-for-warehouse-%d" % i
            write(os.path.join(s, n, "SKILL.md"),
                  "---\nname: %s\ndescription: Pipeline helper %d\ntags: [data]\n---\nx\n" % (n, i))
        for i in range(24):
            n = "tool-%02d" % i
            write(os.path.join(s, n, "SKILL.md"),
                  "---\nname: %s\ndescription: Tool number %d\ntags: [tool%d]\n---\nt\n"
                  % (n, i, i % 3))
        write(os.path.join(s, "fresh", "SKILL.md"),
              "---\nname: fresh\ndescription: Added from the page\n---\n# Fresh\n")
        for n in ["canvas", "pdf", "evil"] + ["tool-%02d" % i for i in range(24)] + \
                 ["data-pipeline-orchestration-helper-for-warehouse-%d" % i for i in range(3)]:
            self.cli("add", "skill", os.path.join(s, n))
        self.cli("add", "agent", os.path.join(s, "reviewer.md"))
        # "updated" differs from "added" for one artifact: a hand edit later
        time.sleep(1.1)
        with open(self.skill_md("tool-05"), "a") as f:
            f.write("edited by hand\n")

    def serve(self, *extra, env=None):
        proc = subprocess.Popen([BIN, "serve", "--port", "0", "--no-rate-limit"] + list(extra),
                                env=env or self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline().strip()
        if not re.match(r"http://[^:/]+:\d+$", line):
            proc.kill()
            raise AssertionError("serve did not start: %r %r" % (line, proc.stderr.read()))
        return proc, line + "/"

    @staticmethod
    def stop(proc):
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def http_get(base, path, headers=None):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


class Ui:
    """The page under test, with the waits and reads the flows need."""

    def __init__(self, page, base, axe_src):
        self.p = page
        self.base = base
        self.axe_src = axe_src
        self.axe_results = {}

    def open(self, frag=""):
        self.p.goto("about:blank")  # a new document, also when only the #fragment differs
        self.p.goto(self.base + frag)
        self.p.wait("document.querySelectorAll('button.card').length > 0 || "
                    "document.getElementById('artifacts-status').textContent.length > 0 && "
                    "!document.querySelector('#artifacts-status .loading')", "the list")
        self.idle()

    def idle(self):
        self.p.wait("!document.querySelector('.loading')", "no loading indicator")

    def cards(self):
        return self.p.eval("Array.from(document.querySelectorAll('button.card .card-name'))"
                           ".map((e) => e.textContent)")

    def status(self):
        return self.p.text("#artifacts-status")

    def wait_status(self, needle, what=None):
        return self.p.wait("document.getElementById('artifacts-status').textContent.includes(%s)"
                           " && !document.querySelector('#artifacts-status .loading')"
                           % json.dumps(needle), what or needle)

    def card(self, aid):
        return "button.card[data-id=%s]" % json.dumps(aid)

    def open_detail(self, aid):
        self.p.click(self.card(aid))
        self.p.wait("document.getElementById('detail-title').textContent === %s && "
                    "!!document.getElementById('edit-button')"
                    % json.dumps(aid.split(":", 1)[1]), "detail of " + aid)
        self.p.wait("!document.querySelector('#detail .loading')", "content of " + aid)

    def axe(self, name):
        """axe-core, WCAG 2.0/2.1 A and AA rules; the violations (id, impact, targets)."""
        if not self.p.eval("typeof axe !== 'undefined'"):
            self.p.eval(self.axe_src + "\n;true")
        res = self.p.eval("""axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
            resultTypes: ['violations']}).then((r) => ({
              violations: r.violations.map((v) => ({id: v.id, impact: v.impact,
                targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
                summary: (v.nodes[0] || {}).failureSummary})),
              passes: r.passes.length}))""")
        self.axe_results[name] = res
        v = res["violations"]
        check(not v, "axe-core: no WCAG A/AA violation on %s%s"
              % (name, "" if not v else ": " + json.dumps(v)[:1500]))

    def shot(self, name, full=False):
        path = os.path.join(SHOTS, name + ".png")
        self.p.eval("window.scrollTo(0, 0); document.getElementById('detail').scrollTop = 0; true")
        self.p.screenshot(path, full)
        return path


def flows(env, b, axe_src):
    proc, base = env.serve()
    page = b.new_page(1280, 900)
    ui = Ui(page, base, axe_src)
    p = page
    total = 31

    def step_list():
        # favicon, served and linked
        st, hdrs, body = http_get(base, "/favicon.svg")
        check(st == 200 and hdrs.get("content-type") == "image/svg+xml"
              and body.startswith(b"<svg"), "GET /favicon.svg -> an SVG")
        # ---- the list: page size, showing X of Y, full names
        ui.open()
        check(len(ui.cards()) == 24 and ui.status() == "Showing 24 of %d artifacts" % total,
              "first page: 24 cards, 'Showing 24 of %d artifacts' (%s)" % (total, ui.status()))
        check(p.eval("document.querySelector('link[rel=icon]').getAttribute('href')")
              == "favicon.svg", "the page links its favicon")
        longs = [c for c in ui.cards() if c.startswith("data-pipeline")]
        check(len(longs) == 3 and len(set(longs)) == 3, "long names shown in full: %s" % longs)
        widths = p.eval("""Array.from(document.querySelectorAll('.card-name')).every(
            (e) => e.scrollWidth <= e.clientWidth + 1)""")
        check(widths, "no card name is cut off")
        ui.axe("the list")
        ui.shot("list-desktop")
        p.eval("document.getElementById('page-size').value = '48';"
               "document.getElementById('page-size').dispatchEvent(new Event('change'))")
        ui.wait_status("Showing %d of %d" % (total, total))
        check(len(ui.cards()) == total and p.eval("document.getElementById('load-more').hidden"),
              "page size 48: everything on one page, no Load more")
        check("limit=48" in p.eval("location.hash"), "page size kept in the URL")
        p.eval("document.getElementById('page-size').value = '24';"
               "document.getElementById('page-size').dispatchEvent(new Event('change'))")
        ui.wait_status("Showing 24 of %d" % total)
        p.click("#load-more")
        ui.wait_status("Showing %d of %d" % (total, total))
        check(len(ui.cards()) == total and len(set(ui.cards())) == total,
              "Load more appends the rest, no duplicates")

        # ---- sort
        p.eval("document.getElementById('sort').value = 'updated';"
               "document.getElementById('sort').dispatchEvent(new Event('change'))")
        ui.wait_status("Showing 24 of %d" % total)
        first = ui.cards()[0]
        check(first == "tool-05", "sort by recently updated: the hand-edited one first (%s)" % first)
        p.click("#load-more")
        ui.wait_status("Showing %d of %d" % (total, total))
        names = ui.cards()
        check(len(names) == total and len(set(names)) == total,
              "sort by updated: keyset pages hold every artifact once")
        p.eval("document.getElementById('sort').value = 'added';"
               "document.getElementById('sort').dispatchEvent(new Event('change'))")
        ui.wait_status("Showing 24 of %d" % total)
        check(ui.cards()[0] == "reviewer", "sort by recently added: the last added first (%s)"
              % ui.cards()[0])
        p.eval("document.getElementById('sort').value = 'name';"
               "document.getElementById('sort').dispatchEvent(new Event('change'))")
        ui.wait_status("Showing 24 of %d" % total)
        check(ui.cards()[:2] == ["canvas", "data-pipeline-orchestration-helper-for-warehouse-0"],
              "sort by name (%s)" % ui.cards()[:2])

        # ---- search and tag filter, typed like a user
        p.focus("#search")
        p.type("canvas")
        ui.wait_status("Showing 1 of 1")
        check(ui.cards() == ["canvas"], "search: %s" % ui.cards())
        p.fill("#search", "")
        ui.wait_status("Showing 24 of %d" % total)
        p.focus("#tag")
        p.type("data")
        ui.wait_status("Showing 3 of 3")
        check(len(ui.cards()) == 3 and all(c.startswith("data-pipeline") for c in ui.cards()),
              "tag filter: %s" % ui.cards())
        p.fill("#tag", "")
        ui.wait_status("Showing 24 of %d" % total)


    def step_content():
        # ---- content view
        ui.open("#collection=default&search=canvas")
        ui.open_detail("skill:canvas")
        p.wait("!!document.querySelector('#content .markdown h4')", "rendered SKILL.md")
        check(p.text("#content .file-title") == "SKILL.md", "the main document is SKILL.md")
        check(p.text("#content .markdown h4") == "Canvas"
              and p.eval("document.querySelector('#content .markdown strong').textContent")
              == "posters"
              and p.eval("document.querySelectorAll('#content .markdown li').length") == 2,
              "SKILL.md rendered as Markdown (heading, bold, list)")
        check("name: canvas" in p.text("#content .markdown pre"), "frontmatter shown as code")
        p.click("#content details.files summary")
        p.click('#content button.file[data-path="references/colors.md"]')
        p.wait("document.querySelector('#content .file-title').textContent === "
               "'references/colors.md' && !!document.querySelector('#content .markdown em')",
               "another file")
        check(p.text("#content .markdown em") == "contrast", "a file of the tree opens rendered")
        ui.axe("the detail with content")
        ui.shot("detail-desktop")


    def step_keyboard():
        # ---- keyboard: "/" to search, Tab to a card, Enter opens, Escape closes
        ui.open()
        p.eval("document.activeElement && document.activeElement.blur()")
        p.key("/")
        check(p.active() == "search", "'/' focuses the search box")
        p.type("pdf")
        ui.wait_status("Showing 1 of 1")
        for _ in range(12):
            p.key("Tab")
            if p.eval("document.activeElement.classList.contains('card')"):
                break
        check(p.eval("document.activeElement.getAttribute('data-id')") == "skill:pdf",
              "Tab reaches the card")
        p.key("Enter")
        p.wait("document.getElementById('detail-title').textContent === 'pdf'", "detail by Enter")
        check(p.active() == "detail-title", "focus moves to the detail")
        p.key("Escape")
        p.wait("document.getElementById('detail').hidden", "Escape closes")
        check(p.eval("document.activeElement.getAttribute('data-id')") == "skill:pdf",
              "focus returns to the card")


    def step_hostile():
        # ---- hostile artifact: nothing runs, nothing injected
        ui.open("#collection=default&search=evil")
        ui.open_detail("skill:evil")
        p.wait("!!document.querySelector('#content .markdown')", "evil rendered")
        p.eval("""(function(){const d=document.querySelector('#content div[class=markdown]');
            for (const e of document.querySelectorAll('#content *')) {
              e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
            } return true;})()""")
        try:
            p.click("#content .markdown a")
        except cdp.CdpError:
            pass
        time.sleep(0.3)
        check(p.eval("typeof window.__pwned") == "undefined", "no script of the artifact ran")
        check(p.eval("document.querySelectorAll('#content script, #content img, #content iframe,"
                     " #detail-body img, #detail-body script').length") == 0,
              "no script, img or iframe element in the content")
        check(p.eval("""Array.from(document.querySelectorAll('#detail *')).every((e) =>
            Array.from(e.attributes).every((a) => !/^on/i.test(a.name)))"""),
              "no event-handler attribute in the detail")
        check(p.eval("""Array.from(document.querySelectorAll('#detail a[href]')).every((a) =>
            /^(https?:|mailto:|#)/.test(a.getAttribute('href')))"""), "no javascript: link")
        body = p.text("#content .markdown")
        check("<script>window.__pwned = 'block'</script>" in body
              and "<img src=x onerror=" in body, "hostile HTML shown as text")
        check(p.eval("document.title").endswith("SkillMeat"), "title untouched")
        ui.shot("detail-hostile")


    def step_edit():
        # ---- edit: the phase-5 flow, the description lands in the file
        ui.open("#collection=default&search=canvas")
        ui.open_detail("skill:canvas")
        p.click("#edit-button")
        p.wait("!!document.getElementById('edit-form')", "edit form")
        check(p.active() == "edit-description", "the form opens on the description")
        check(p.eval("document.querySelectorAll('[id]').length") ==
              p.eval("new Set(Array.from(document.querySelectorAll('[id]')).map((e) => e.id)).size"),
              "every id on the page is unique")
        check(p.eval("document.getElementById('edit-title').value") == "Canvas"
              and p.eval("document.getElementById('edit-author').value") == "Ann"
              and p.eval("document.getElementById('edit-tags').value") == "art, ui"
              and p.eval("document.getElementById('edit-tools').value") == "Read, Write",
              "the form holds the current values")
        ui.axe("the edit form")
        p.fill("#edit-description", "Design posters from the browser")
        p.fill("#edit-tags", "art, ui, print")
        p.click("#edit-save")
        p.wait("document.getElementById('detail-status').textContent.includes('Saved') || "
               "!!document.querySelector('#edit-status .error')", "saved")
        err = p.text("#edit-status")
        check(p.text("#detail-status") == "Saved." and not p.exists("#edit-form"),
              "Save -> 'Saved.' and the form closes (%s)" % err)
        md = read(env.skill_md("canvas"))
        check("description: Design posters from the browser\n" in md,
              "the new description is in SKILL.md on disk")
        check("# Canvas\n\nDraw **posters** with `shapes`.\n" in md, "the body is untouched")
        check(p.text("#detail-body .detail-desc") == "Design posters from the browser",
              "the detail shows the new description")
        check(p.eval("Array.from(document.querySelectorAll('#detail-body button.tag'))"
                     ".map((e) => e.textContent).join(',')") == "art,print,ui"
              or "print" in p.text("#detail-body"), "the new tag is shown")
        ui.wait_status("Showing 1 of 1")
        check("Design posters from the browser" in p.text(ui.card("skill:canvas")),
              "the card shows the new description")

        # ---- a stale edit: 409 shown, then overwrite
        p.click("#edit-button")
        p.wait("!!document.getElementById('edit-form')", "edit form again")
        md = read(env.skill_md("canvas"))
        write(env.skill_md("canvas"), md.replace("author: Ann", "author: Bob (by hand)"))
        p.fill("#edit-description", "My stale edit")
        p.click("#edit-save")
        p.wait("!!document.getElementById('conflict')", "the conflict report")
        text = p.text("#conflict")
        check("409" in text and "changed since you opened the form" in text,
              "a stale edit is refused with 409 and said so")
        check("Author" in text and "Ann" in text and "Bob (by hand)" in text,
              "the report shows what changed (author Ann -> Bob): %s" % text)
        check("My stale edit" in text, "and the user's own edit")
        check("description: Design posters from the browser\n" in read(env.skill_md("canvas")),
              "nothing written by the refused edit")
        check(p.active() == "conflict-reload", "focus on the first choice")
        ui.axe("the conflict report")
        ui.shot("edit-conflict")
        p.click("#conflict-overwrite")
        p.wait("document.getElementById('detail-status').textContent.includes('Saved') && "
               "!document.getElementById('edit-form')", "overwrite saved")
        md = read(env.skill_md("canvas"))
        check("description: My stale edit\n" in md and "author: Bob (by hand)" in md,
              "overwrite writes my field and keeps the hand edit of another (%r)" % md[:200])

        # ---- a stale edit: 409, then reload
        p.click("#edit-button")
        p.wait("!!document.getElementById('edit-form')", "edit form a third time")
        md = read(env.skill_md("canvas"))
        write(env.skill_md("canvas"), md.replace("license: MIT", "license: Apache-2.0"))
        p.fill("#edit-license", "GPL-3.0")
        p.click("#edit-save")
        p.wait("!!document.getElementById('conflict')", "the second conflict report")
        p.click("#conflict-reload")
        p.wait("document.getElementById('edit-license').value === 'Apache-2.0' && "
               "!document.getElementById('conflict')", "reloaded values")
        check(p.eval("document.getElementById('edit-license').value") == "Apache-2.0",
              "Reload fills the form with the file's current values")
        p.click("#edit-cancel")
        check("license: Apache-2.0" in read(env.skill_md("canvas")), "reload wrote nothing")


    def step_add():
        # ---- add
        ui.open()
        p.click("#add-button")
        p.wait("document.getElementById('add-dialog').open", "add dialog")
        check(p.active() == "add-source", "the add dialog opens on the source field")
        ui.axe("the add dialog")
        p.click("#add-submit")
        p.wait("!!document.querySelector('#add-status .error')", "empty source refused")
        check("Enter a path" in p.text("#add-status"), "an empty source is refused in the page")
        p.click('input[name="add-kind"][value="github"]')
        p.fill("#add-source", "not a spec at all")
        p.click("#add-submit")
        p.wait("!!document.querySelector('#add-status .error')", "bad GitHub spec")
        check("API error 4" in p.text("#add-status"), "a bad GitHub spec gets the API's error (%s)"
              % p.text("#add-status"))
        p.click('input[name="add-kind"][value="local"]')
        p.fill("#add-source", os.path.join(env.src, "fresh"))
        p.fill("#add-tags", "new, web")
        ui.shot("add-dialog")
        p.click("#add-submit")
        p.wait("!document.getElementById('add-dialog').open && "
               "document.getElementById('detail-title').textContent === 'fresh'", "added")
        ui.wait_status("Added skill:fresh.")
        check("Showing 24 of %d" % (total + 1) in ui.status(), "the count grows (%s)" % ui.status())
        check(os.path.isfile(env.skill_md("fresh")), "the files are in the collection")
        p.wait("!document.querySelector('#detail .loading')", "fresh content")
        check(p.text("#content .markdown h4") == "Fresh", "the new artifact opens with its content")
        check(p.eval("Array.from(document.querySelectorAll('#collections .badge .sr'))"
                     ".map((e) => e.textContent)")[0] == "%d artifacts" % (total + 1),
              "the collection count follows")


    def step_delete():
        # ---- delete, with confirmation
        ui.open("#collection=default&search=pdf")
        ui.open_detail("skill:pdf")
        p.click("#delete-button")
        p.wait("document.getElementById('confirm-dialog').open", "confirm dialog")
        check("Delete skill:pdf?" == p.text("#confirm-title") and p.active() == "confirm-cancel",
              "delete asks first, focus on Cancel")
        ui.axe("the delete confirmation")
        ui.shot("delete-confirm")
        p.key("Escape")
        p.wait("!document.getElementById('confirm-dialog').open", "cancelled")
        check(os.path.isdir(os.path.dirname(env.skill_md("pdf"))), "cancel deletes nothing")
        p.click("#delete-button")
        p.wait("document.getElementById('confirm-dialog').open", "confirm dialog again")
        p.click("#confirm-ok")
        p.wait("!document.getElementById('confirm-dialog').open && "
               "document.getElementById('detail').hidden", "deleted")
        ui.wait_status("Deleted skill:pdf.")
        check(not os.path.exists(os.path.dirname(env.skill_md("pdf"))), "the files are gone")


    def step_deploy():
        # ---- deploy and undeploy from the detail panel (web/deploy.js)
        proj = os.path.join(env.tmp, "project")
        os.makedirs(proj, exist_ok=True)
        real = os.path.realpath(proj)
        target = os.path.join(real, ".claude", "skills", "canvas", "SKILL.md")
        ui.open("#collection=default&search=canvas")
        ui.open_detail("skill:canvas")
        p.wait("!!document.querySelector('#deploy-panel [data-deploy-empty]')", "deployments listed")
        check(p.exists("#deploy-panel form.deploy-form"), "the detail has a deploy form")
        # an empty path is refused in the page; a missing folder by the API
        p.click('#deploy-panel button[data-action="deploy"]')
        p.wait("document.querySelector('#deploy-panel .deploy-result').dataset.ok === 'false'",
               "empty path refused")
        p.fill('#deploy-panel input[name="project_path"]', os.path.join(env.tmp, "no-such-dir"))
        p.click('#deploy-panel button[data-action="deploy"]')
        p.wait("document.querySelector('#deploy-panel .deploy-result').textContent.startsWith('Failed')",
               "missing folder refused")
        check("API error 400" in p.text("#deploy-panel .deploy-result")
              and not os.path.exists(os.path.join(env.tmp, "no-such-dir")),
              "a missing project folder: the API's error shown, nothing made (%s)"
              % p.text("#deploy-panel .deploy-result"))
        # deploy
        p.fill('#deploy-panel input[name="project_path"]', proj)
        p.click('#deploy-panel button[data-action="deploy"]')
        p.wait("document.querySelector('#deploy-panel .deploy-result').dataset.ok === 'true' && "
               "!!document.querySelector('#deploy-panel li[data-status]')", "deployed")
        check(p.text("#deploy-panel .deploy-result") == "Deployed to " + os.path.dirname(target),
              "the result is shown (%s)" % p.text("#deploy-panel .deploy-result"))
        check(os.path.isfile(target) and read(target) == read(env.skill_md("canvas")),
              "the files are in the project, equal to the collection's")
        rec = read(os.path.join(real, ".claude", ".skillmeat-deployed.toml"))
        check('artifact_name = "canvas"' in rec and 'deployment_profile_id = "claude_code"' in rec,
              "the tracking file records it")
        item = p.eval("(function(){const li=document.querySelector('#deploy-panel li[data-status]');"
                      "return [li.dataset.project, li.dataset.profile, li.dataset.status];})()")
        check(item == [real, "claude_code", "synced"],
              "the panel lists the project, the profile and its status (%s)" % item)
        ui.axe("the deployments section")
        p.eval("document.getElementById('deploy-panel').scrollIntoView({block: 'end'}); true")
        p.screenshot(os.path.join(SHOTS, "deploy-panel.png"))
        # a hand edit in the project shows as modified when the detail is opened again
        with open(target, "a") as f:
            f.write("edited in the project\n")
        ui.open("#collection=default&search=canvas")
        ui.open_detail("skill:canvas")
        p.wait("document.querySelector('#deploy-panel li[data-status]') && "
               "document.querySelector('#deploy-panel li[data-status]').dataset.status === 'modified'",
               "modified shown")
        check(True, "a hand edit in the project shows as modified")
        # undeploy (the profile chosen in the form), from the page
        p.fill('#deploy-panel input[name="project_path"]', proj)
        p.click('#deploy-panel button[data-action="undeploy"]')
        p.wait("document.querySelector('#deploy-panel .deploy-result').dataset.ok === 'true' && "
               "!!document.querySelector('#deploy-panel [data-deploy-empty]')", "undeployed")
        check(p.text("#deploy-panel .deploy-result") == "Undeployed from " + proj,
              "the undeploy result is shown")
        check(not os.path.exists(os.path.dirname(target)), "the project's copy is gone")
        p.eval("document.getElementById('deploy-panel').scrollIntoView({block: 'end'}); true")
        p.screenshot(os.path.join(SHOTS, "undeploy-panel.png"))


    def step_narrow():
        # ---- 390 px wide
        page.viewport(390, 844)
        ui.open()
        check(p.eval("document.documentElement.scrollWidth") <= 390,
              "390 px: no horizontal scrolling (%s)" % p.eval("document.documentElement.scrollWidth"))
        ui.axe("the list at 390 px")
        ui.shot("list-390")
        ui.open("#collection=default&search=canvas")
        ui.open_detail("skill:canvas")
        check(p.eval("document.documentElement.scrollWidth") <= 390,
              "390 px detail: no horizontal scrolling")
        r = p.eval("(function(){const r=document.getElementById('detail').getBoundingClientRect();"
                   "return [r.left, r.right];})()")
        check(r[0] >= 0 and r[1] <= 391, "390 px: the detail fits the screen (%s)" % r)
        ui.axe("the detail at 390 px")
        ui.shot("detail-390")
        p.click("#edit-button")
        p.wait("!!document.getElementById('edit-form')", "edit form at 390")
        check(p.eval("document.documentElement.scrollWidth") <= 390, "390 px edit form fits")
        ui.shot("edit-390")
        page.viewport(1280, 900)

    try:
        for step in (step_list, step_content, step_keyboard, step_hostile, step_edit, step_add,
                     step_delete, step_deploy, step_narrow):
            try:
                step()
            except (cdp.CdpError, AssertionError) as e:
                check(False, "%s: %s" % (step.__name__, e))
                page.viewport(1280, 900)
        errs = page.errors()
        check(not errs, "no script error on the page: %s" % errs[:3])
    finally:
        env.stop(proc)


def token_flow(env, b, axe_src):
    """A server with a token: the page says so, a wrong token is refused, the right one works."""
    e = dict(env.env, SKILLMEAT_API_TOKEN="right-token-123")
    proc, base = env.serve(env=e)
    try:
        page = b.new_page(1280, 900)
        ui = Ui(page, base, axe_src)
        p = page
        st, _, _ = http_get(base, "/api/v1/user-collections")
        if st != 401:
            print("ok - # SKIP token flow: this server does not ask loopback clients for a token")
            return
        p.goto(base)
        p.wait("!document.getElementById('token-form').hidden", "token prompt")
        check("needs an API token" in p.text("#token-message"), "401: the page asks for a token")
        ui.axe("the token prompt")
        p.fill("#token-input", "wrong")
        p.key("Enter")
        p.wait("!document.getElementById('token-form').hidden && "
               "document.getElementById('token-message').textContent.includes('refused')",
               "wrong token refused")
        check("refused this API token" in p.text("#token-message"),
              "a wrong token: a clear message (%s)" % p.text("#token-message"))
        ui.shot("token-refused")
        p.fill("#token-input", "right-token-123")
        p.key("Enter")
        p.wait("document.querySelectorAll('button.card').length > 0", "list with the token")
        check(p.eval("document.getElementById('token-form').hidden"), "the right token works")
    finally:
        env.stop(proc)


def main():
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    exe = cdp.find_chromium()
    missing = []
    if not exe:
        missing.append("chromium")
    if not os.path.isfile(AXE):
        missing.append("axe-core (tests/web/node_modules)")
    if not BIN or not os.access(BIN, os.X_OK):
        missing.append("SKILLMEAT_BIN")
    if missing:
        print("missing: %s (sh tools/deps.sh installs them)" % ", ".join(missing))
        if ci:
            print("CI=true: the browser suite must run; failing")
            return 1
        return SKIP
    with open(AXE) as f:
        axe_src = f.read()
    os.makedirs(SHOTS, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="skillmeat-webapp-")
    b = None
    try:
        env = Env(tmp)
        env.populate()
        b = cdp.Browser(exe, os.path.join(tmp, "chromium"))
        for fn in (flows, token_flow):
            try:
                fn(env, b, axe_src)
            except (cdp.CdpError, AssertionError) as e:
                check(False, "%s: %s" % (fn.__name__, e))
    finally:
        if b:
            b.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("screenshots in %s" % SHOTS)
    if FAILED:
        print("%d passed, %d failed" % (CHECKS[0] - len(FAILED), len(FAILED)))
        return 1
    print("%d passed, 0 failed" % CHECKS[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
