#!/usr/bin/env python3
"""tlspolicyctl report --html, opened in a real browser (headless Chromium).

Two pages, each made by the built tlspolicyctl from an audit log:

  1. generated: bench/gen_audit's records (a week of mail, thousands of
     names) plus tests/data/audit-sample.jsonl. Every row of the three
     tables must show what "report --json" says of that name (messages,
     TLS share, STARTTLS, implicit, versions, min bits, bits, verify,
     would reject, ready), the summary the sums over every record; the
     table keeps at most 500 rows and says how many it left out. Sorting
     (a column's button, twice) and filtering (text, "not ready only")
     must order and hide rows as the same figures say. On a phone-sized
     window the page must not scroll sideways (tables scroll inside
     their box). A screenshot goes to $REPORT_PNG (default
     tests/report-html/report.png below the current directory).
  2. hostile: records whose client address and name, sender, recipient,
     reason, session, queue id and TLS version are markup, quotes,
     </script>, character references, U+2028/U+2029, control bytes and
     a C1 control. Each must show as text, escaped as the terminal shows
     it; no script may run (window.__pwned), no element may appear
     (one <script>, no img/svg-onload/h1/iframe, no on* attribute).

On both pages: no console message of level error or warning, no
exception, no failed load (the page loads nothing).

Chromium is driven over its DevTools protocol on a pipe
(--remote-debugging-pipe: fds 3 and 4, NUL-terminated JSON), standard
library only; it runs with a profile in a temporary directory and is
stopped by its pid. Exit 0 when every check passed, 1 otherwise, with
one "FAIL: ..." line per failed check.

Environment: top_builddir (the build tree; "make check" sets it),
srcdir, CHROMIUM (default /usr/bin/chromium), GEN_RECORDS (default
6000), REPORT_PNG, KEEP=1 keeps the work directory.
"""
import base64
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRCDIR = os.environ.get("srcdir", ".")
BUILD = os.environ.get("top_builddir", ".")
CTL = os.path.abspath(os.path.join(BUILD, "ctl", "tlspolicyctl"))
GEN = os.path.abspath(os.path.join(BUILD, "bench", "gen_audit"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
RECORDS = int(os.environ.get("GEN_RECORDS", "6000"))
TIMEOUT = 30.0
ROWS_MAX = 500

failures = []


def fail(what):
    failures.append(what)
    print("FAIL: " + what, flush=True)


def check(ok, what):
    if not ok:
        fail(what)
    return ok


class Browser:
    """One headless Chromium, one page, over --remote-debugging-pipe."""

    def __init__(self, workdir):
        self.to_r, self.to_w = os.pipe()
        self.from_r, self.from_w = os.pipe()
        to_r, from_w = self.to_r, self.from_w

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.log = open(os.path.join(workdir, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync",
             "--user-data-dir=" + os.path.join(workdir, "profile"),
             "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log, start_new_session=True)
        os.close(self.to_r)
        os.close(self.from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def attach(self):
        """A page to drive, with the events the checks read."""
        target = self.call("Target.createTarget", {"url": "about:blank"})
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target["targetId"],
                                  "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.from_r], [], [], left)
            if ready:
                chunk = os.read(self.from_r, 1 << 20)
                if not chunk:
                    raise EOFError("chromium closed its pipe")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, browser=False):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not browser:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method):
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, m in enumerate(self.events):
                if m["method"] == method:
                    del self.events[i]
                    return m
            m = self._read(deadline)
            if "method" in m:
                self.events.append(m)

    def open(self, path, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": mobile})
        self.events = []
        self.call("Page.navigate", {"url": "file://" + os.path.abspath(path)})
        self.wait_event("Page.loadEventFired")

    def js(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression,
                                           "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("script: %s: %s" % (expression[:60],
                                                   r["exceptionDetails"]))
        return r["result"].get("value")

    def problems(self):
        """Console errors and warnings, exceptions, loads: none expected."""
        self.js("0")            # collect what arrived so far
        out = []
        for m in self.events:
            p = m.get("params", {})
            if m["method"] == "Runtime.exceptionThrown":
                out.append("exception: %s" % p["exceptionDetails"].get("text"))
            elif m["method"] == "Runtime.consoleAPICalled" \
                    and p.get("type") in ("error", "warning", "assert"):
                out.append("console.%s" % p.get("type"))
            elif m["method"] == "Log.entryAdded" \
                    and p["entry"].get("level") in ("error", "warning"):
                out.append("log: %s" % p["entry"].get("text"))
            elif m["method"] == "Network.requestWillBeSent" \
                    and not p["request"]["url"].startswith("file://"):
                out.append("load: %s" % p["request"]["url"][:80])
        return out

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        """Ask Chromium to quit; kill its process group (ours) if it lingers."""
        try:
            self.call("Browser.close", browser=True)
        except (OSError, RuntimeError, TimeoutError, EOFError):
            pass
        # Wait for it without reaping it: while it is a zombie, its pid and
        # process group id cannot be reused, so the kill below hits only
        # what it started.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.waitid(
                os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            time.sleep(0.05)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)     # its helpers too
        except ProcessLookupError:
            pass
        self.proc.wait()
        for fd in (self.to_w, self.from_r):
            os.close(fd)
        self.log.close()


# ---- what the page should show, from report --json ----------------------

def run_ctl(work, *args):
    """tlspolicyctl report in work, so that the page names its logs short."""
    r = subprocess.run([CTL, "report"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=work)
    if r.returncode != 0:
        sys.exit("FAIL: tlspolicyctl report %s: exit %d: %s"
                 % (" ".join(args), r.returncode, r.stderr.decode()))
    return r.stdout


def shown(s):
    """A string from the log as the page shows it (the terminal's escapes)."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7f:
            out.append("\\x%02x" % o)
        elif 0x80 <= o < 0xa0 or o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return "".join(out)


def tally(counts):
    """{"TLSv1.3": 5, ...} as the page's cell: biggest first, then name."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return " ".join("%s:%d" % (shown(k), v) for k, v in items) or "-"


def want_row(g, o):
    """The cells a JSON name object must give, by column key."""
    soft = o["prefer_or_testing"]
    ready = "-" if soft == 0 else "yes" if o["would_reject"] == 0 else "no"
    key = o["addr" if g == "clients" else "domain"]
    w = {
        "name": shown(key) if key is not None
        else "(unknown)" if g == "clients" else "(none)",
        "messages": str(o["messages"]),
        "tls_share": "%.1f%%" % (100.0 * o["tls"] / o["messages"]),
        "starttls": str(o["how"].get("starttls", 0)),
        "implicit": str(o["how"].get("implicit", 0)),
        "versions": tally(o["tls_versions"]),
        "min_bits": "-" if o["cipher_bits"]["min"] is None
        else str(o["cipher_bits"]["min"]),
        "bits": tally(o["cipher_bits"]["counts"]),
        "verify": tally(o["verify"]),
        "would_reject": "-" if soft == 0 else str(o["would_reject"]),
        "ready": ready,
    }
    if g == "clients":
        w["host"] = "-" if o["name"] is None else shown(o["name"])
    return w


# Every table as {column key: text} per row, in page order, and what it
# says it left out.
READ_TABLES = r"""
(() => {
	const out = {};
	for (const t of document.querySelectorAll("table.sortable")) {
		const cols = Array.from(t.tHead.rows[0].cells, th => th.dataset.c);
		const rows = Array.from(t.tBodies[0].rows, r => {
			const o = {hidden: r.hidden};
			Array.from(r.cells).forEach((td, i) => {
				o[cols[i]] = cols[i] === "ready"
					? td.firstChild.textContent : td.textContent;
			});
			return o;
		});
		const left = t.closest("section").querySelector("[data-left]");
		out[t.id] = {rows: rows, left: left ? +left.dataset.left : 0};
	}
	return out;
})()
"""
TABLES = {"t-s": "sender_domains", "t-r": "rcpt_domains", "t-c": "clients"}


def check_tables(b, report, label):
    tables = b.js(READ_TABLES)
    for tid, g in TABLES.items():
        names = report[g]
        got = tables[tid]["rows"]
        check(len(got) == min(len(names), ROWS_MAX),
              "%s %s: %d rows, want %d" % (label, g, len(got),
                                           min(len(names), ROWS_MAX)))
        check(tables[tid]["left"] == len(names) - len(got),
              "%s %s: says %d left out, want %d"
              % (label, g, tables[tid]["left"], len(names) - len(got)))
        by_name = {}
        for o in names:
            w = want_row(g, o)
            by_name[w["name"]] = w
        # Names not ready to enforce come first: all of them fit here.
        not_ready = [n for n in names if n["would_reject"] > 0]
        if len(not_ready) <= ROWS_MAX:
            shown_no = sum(1 for r in got if r.get("ready") == "no")
            check(shown_no == len(not_ready),
                  "%s %s: %d rows not ready, want %d"
                  % (label, g, shown_no, len(not_ready)))
        bad = 0
        for r in got:
            w = by_name.get(r["name"])
            if not check(w is not None, "%s %s: row %r is no name of the JSON report"
                         % (label, g, r["name"])):
                continue
            for k, v in w.items():
                if r.get(k) != v and bad < 10:
                    bad += 1
                    fail("%s %s %r: %s shows %r, JSON says %r"
                         % (label, g, r["name"], k, r.get(k), v))
    return tables


def check_summary(b, report):
    senders = report["sender_domains"]
    msgs = sum(o["messages"] for o in senders)
    tls = sum(o["tls"] for o in senders)
    want = {
        "records": str(report["records"]),
        "messages": str(report["records"]),
        "tls_share": "%.1f%%" % (100.0 * tls / msgs),
        "starttls": str(sum(o["how"].get("starttls", 0) for o in senders)),
        "implicit": str(sum(o["how"].get("implicit", 0) for o in senders)),
        "plaintext": str(sum(o["how"].get("none", 0) for o in senders)),
        "would_reject": str(sum(o["would_reject"] for o in senders)),
    }
    for g, k in (("sender_domains", "s"), ("rcpt_domains", "r"), ("clients", "c")):
        want["not_ready_" + k] = str(sum(1 for o in report[g] if o["would_reject"]))
    got = b.js("Object.fromEntries(Array.from(document.querySelectorAll('[data-k]'),"
               " e => [e.dataset.k, e.textContent]))")
    for k, v in want.items():
        check(got.get(k) == v, "summary %s: shows %r, JSON says %r" % (k, got.get(k), v))


def click(b, tid, col):
    b.js("document.querySelector('#%s th[data-c=%s] button').click()" % (tid, col))


def column(b, tid, col):
    return b.js("""(() => { const t = document.getElementById("%s");
        const i = Array.from(t.tHead.rows[0].cells).findIndex(c => c.dataset.c === "%s");
        return Array.from(t.tBodies[0].rows).filter(r => !r.hidden)
            .map(r => r.cells[i].textContent); })()""" % (tid, col))


def set_filter(b, tid, text, only):
    b.js("""(() => { const box = document.querySelector('[data-filter="%s"]');
        const q = box.querySelector('input[type=search]');
        q.value = %s; q.dispatchEvent(new Event('input'));
        const c = box.querySelector('input[type=checkbox]');
        if (c.checked !== %s) c.click(); })()""" % (tid, json.dumps(text),
                                                   "true" if only else "false"))


def check_interaction(b, report):
    tid = "t-c"
    click(b, tid, "messages")
    m = [int(x) for x in column(b, tid, "messages")]
    check(m == sorted(m, reverse=True) and m[0] > m[-1],
          "sort by messages: not descending after one click")
    click(b, tid, "messages")
    m = [int(x) for x in column(b, tid, "messages")]
    check(m == sorted(m), "sort by messages: not ascending after two clicks")
    click(b, tid, "tls_share")
    s = [float(x.rstrip("%")) for x in column(b, tid, "tls_share")]
    check(s == sorted(s, reverse=True) and s[0] > s[-1],
          "sort by TLS share: not descending")
    click(b, tid, "name")
    click(b, tid, "name")
    n = column(b, tid, "name")
    check(n == sorted(n, key=str.lower), "sort by name: not ascending after two clicks")

    rows = b.js(READ_TABLES)["t-s"]["rows"]
    for text, only, some in (("bank", False, True), ("", True, True),
                             ("shop", True, False), ("no such", False, False)):
        set_filter(b, "t-s", text, only)
        want = [r["name"] for r in rows if text in r["name"].lower()
                and (not only or r["ready"] == "no")]
        got = column(b, "t-s", "name")
        check(sorted(got) == sorted(want) and (want or not some),
              "filter %r%s: %d rows shown, want %d" % (text, " not ready" if only else "",
                                                      len(got), len(want)))
        out = b.js("document.querySelector('[data-filter=\"t-s\"] output').textContent")
        check(out == "%d of %d shown" % (len(want), len(rows)),
              "filter %r: counter says %r" % (text, out))
    set_filter(b, "t-s", "", False)


def check_generated(b, work):
    with open(os.path.join(work, "audit.jsonl"), "wb") as f:
        subprocess.run([GEN, str(RECORDS)], stdout=f, check=True)
    shutil.copy(os.path.join(SRCDIR, "tests", "data", "audit-sample.jsonl"), work)
    page = os.path.join(work, "generated.html")
    logs = ("audit.jsonl", "audit-sample.jsonl")
    run_ctl(work, "--html", page, *logs)
    report = json.loads(run_ctl(work, "--json", *logs))
    check(os.path.getsize(page) < 5_000_000, "page is %d bytes" % os.path.getsize(page))
    check(len(report["clients"]) > ROWS_MAX, "the generated log has too few clients "
          "(%d) to test the row limit" % len(report["clients"]))

    step("generated page made")
    b.open(page, 1280, 900)
    step("generated page open")
    check_summary(b, report)
    check_tables(b, report, "generated")
    png = os.environ.get("REPORT_PNG", os.path.join("tests", "report-html", "report.png"))
    os.makedirs(os.path.dirname(png) or ".", exist_ok=True)
    b.screenshot(png)
    step("tables checked")
    check_interaction(b, report)
    step("interaction checked")
    for p in b.problems():
        fail("generated page: " + p)

    b.open(page, 390, 800, mobile=True)
    step("phone open")
    wide = b.js("[document.documentElement.scrollWidth, window.innerWidth]")
    check(wide[0] <= wide[1], "phone: the page is %d px wide in a %d px window" % tuple(wide))
    for p in b.problems():
        fail("generated page, phone: " + p)


HOSTILE = [
    "<script>window.__pwned=1</script>",
    "\"><img src=x onerror=\"window.__pwned=2\">",
    "'><svg onload=window.__pwned=3>",
    "</script><script>window.__pwned=4</script>",
    "</td></tr></table><h1 id=injected>x</h1><iframe src=x>",
    "&lt;not-a-tag&gt; &amp;amp; &#60;",
    "line\u2028sep\u2029para",
    "ctl\x01\x1b[31m\x7f\u0085\\x41end",
    "<!-- ]]> <![CDATA[ --> <style>*{display:none}</style>",
]


def hostile_records():
    """One record per hostile string; each string lands in every field."""
    out = []
    for i, h in enumerate(HOSTILE):
        rec = {
            "v": 1, "time": "2026-11-20T1%d:00:00.000Z" % i, "host": "mx",
            "session": "S" + h, "queue_id": "Q" + h,
            "client": {"addr": h, "name": "n" + h, "helo": h},
            "tls": {"how": "starttls", "version": "v<b onclick=x>%d" % (i % 4),
                    "cipher": "C", "bits": 256, "verify": "ok"},
            "sender": "<" + h + "@a.example>", "sender_domain": "a.example",
            "rcpts": [{"addr": "<r" + h + "@b.example>", "domain": "b.example",
                       "level": "prefer", "result": "unmet-prefer",
                       "testing": False, "reason": "why " + h}],
            "outcome": "accepted",
        }
        out.append(json.dumps(rec, ensure_ascii=(i % 2 == 0)))
    return "\n".join(out) + "\n"


FIND_TEXT = r"""
((want) => want.filter(w => !Array.from(document.querySelectorAll("td, strong"))
	.some(e => e.textContent === w)))(%s)
"""

INJECTED = r"""
(() => {
	const bad = [];
	if (window.__pwned !== undefined) bad.push("script ran: " + window.__pwned);
	if (document.scripts.length !== 1) bad.push(document.scripts.length + " scripts");
	for (const tag of ["img", "iframe", "h1#injected", "svg svg"])
		if (document.querySelector(tag)) bad.push("element " + tag);
	if (document.querySelectorAll("style").length !== 1) bad.push("styles");
	for (const e of document.querySelectorAll("*"))
		for (const a of e.attributes)
			if (a.name.startsWith("on")) bad.push("attribute " + a.name);
	return bad;
})()
"""


def check_hostile(b, work):
    log = os.path.join(work, "hostile.jsonl")
    with open(log, "w") as f:
        f.write(hostile_records())
    page = os.path.join(work, "hostile.html")
    run_ctl(work, "--html", page, log)
    report = json.loads(run_ctl(work, "--json", log))
    check(report["records"] == len(HOSTILE) and report["skipped"] == 0,
          "hostile log: %d records counted, %d skipped" % (report["records"],
                                                           report["skipped"]))
    step("hostile page made")
    b.open(page, 1280, 900)
    step("hostile page open")
    want = []
    for i, h in enumerate(HOSTILE):
        want += [shown(h), shown("n" + h), shown("S" + h), shown("Q" + h),
                 shown("<" + h + "@a.example>"), shown("<r" + h + "@b.example>"),
                 shown("why " + h), "%s:1" % shown("v<b onclick=x>%d" % (i % 4))]
    missing = b.js(FIND_TEXT % json.dumps(want))
    for m in missing:
        fail("hostile page: no cell shows %r as text" % m)
    for m in b.js(INJECTED):
        fail("hostile page: " + m)
    check_tables(b, report, "hostile")
    for p in b.problems():
        fail("hostile page: " + p)


T0 = time.monotonic()


def step(what):
    if os.environ.get("VERBOSE"):
        print("%6.2f s  %s" % (time.monotonic() - T0, what), flush=True)


def main():
    for prog in (CTL, GEN, CHROMIUM):
        if not os.access(prog, os.X_OK):
            sys.exit("FAIL: %s is not there (contrib/install-deps.sh installs "
                     "chromium; make builds the rest)" % prog)
    work = tempfile.mkdtemp(prefix="tlspolicy-report-html.")
    b = None
    try:
        b = Browser(work)
        b.attach()
        step("browser started")
        check_generated(b, work)
        check_hostile(b, work)
    finally:
        if b is not None:
            b.close()
            step("browser closed")
        if os.environ.get("KEEP") == "1" or failures:
            print("work directory kept: " + work, file=sys.stderr)
        else:
            shutil.rmtree(work)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("ok: report --html in %s: numbers, sorting, filtering, phone width, "
          "hostile strings" % CHROMIUM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
