"""End-to-end: the /sandboxes page of the built exporter on real runsc sandboxes.

Ground truth comes from outside the exporter (`runsc usage`, smaps_rollup of the
sandbox cgroup's processes, the cgroup files); the HTML is also rendered by a
real browser (headless Chromium) to prove a hostile pod name stays text.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from html.parser import HTMLParser

import pytest

from gvisor_env import cgroup_file, cgroup_procs, default_platform, smaps_pss_bytes

N = os.getpid()
# Same length, different 4th character: no id is a prefix of another (runsc
# resolves ids by prefix), and none collides with the other modules' ids.
PLAIN, HOSTILE, WORKER = f"gvpa{N}", f"gvph{N}", f"gvpw{N}"
HOSTILE_POD = "<b>x</b>&\"'<script>"
HOSTILE_ESCAPED = "&lt;b&gt;x&lt;/b&gt;&amp;&quot;&#39;&lt;script&gt;"
SCREENSHOT_COPY = "/tmp/sandboxes-page.png"


@pytest.fixture(scope="module")
def sandboxes(runsc):
    runsc.run_sandbox(PLAIN, pod="web-p", namespace="shop", uid="uid-p", network="none")
    runsc.add_container(PLAIN, WORKER, name="worker")
    runsc.run_sandbox(HOSTILE, pod=HOSTILE_POD, namespace="evil", uid="uid-h", network="none")
    return runsc


@pytest.fixture
def exporter(sandboxes, start_exporter):
    return start_exporter(f"--runsc.root={sandboxes.root}", "--runsc.root-parent=",
                          "--poll.interval=500ms")


def fetch(exporter, path, accept=None):
    """(status, content type, body) of a GET on loopback."""
    req = urllib.request.Request(exporter.url + path, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def sandboxes_json(exporter):
    status, ctype, body = fetch(exporter, "/sandboxes?format=json")
    assert status == 200 and ctype == "application/json"
    return json.loads(body)


def json_with_stable_total(exporter, runsc, sid, attempts=10):
    """The JSON of a poll taken while `runsc usage` Total stood still (read right
    before and right after it); returns (document, that Total)."""
    for _ in range(attempts):
        before = runsc.usage(sid)["Total"]
        exporter.wait_polls()
        doc = sandboxes_json(exporter)
        if runsc.usage(sid)["Total"] == before:
            return doc, before
    raise AssertionError(f"memory of sandbox {sid} did not settle")


def cgroup_memory_usage(runsc, sid):
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    return int(cgroup_file(runsc, sid, "memory", "memory.current" if v2 else "memory.usage_in_bytes"))


def test_json_fields_match_independent_truth(exporter, sandboxes, runsc_release):
    expected = {
        PLAIN: ("web-p", "shop", ["worker"]),
        HOSTILE: (HOSTILE_POD, "evil", []),
    }
    for sid, (pod, namespace, containers) in expected.items():
        doc, total = json_with_stable_total(exporter, sandboxes, sid)
        pss_truth = sum(smaps_pss_bytes(p) for p in cgroup_procs(sandboxes, sid))
        cgroup_truth = cgroup_memory_usage(sandboxes, sid)
        snap = doc["snapshot"]
        assert snap["sandbox_count"] == 2 and snap["poll_count"] >= 2
        assert 0 <= snap["age_seconds"] < 5
        assert abs(time.time() - snap["timestamp_seconds"]) < 10
        # Sorted by namespace: "evil" before "shop".
        assert [s["sandbox_id"] for s in doc["sandboxes"]] == [HOSTILE, PLAIN]
        row = {s["sandbox_id"]: s for s in doc["sandboxes"]}[sid]
        assert row["pod"] == pod and row["namespace"] == namespace
        assert row["root"] == sandboxes.root
        assert row["runtime_class"] is None
        assert (row["platform"], row["network"]) == (default_platform(runsc_release), "none")
        assert row["stats_path"] == "control_socket"
        assert row["syscall_collection"] == "off"
        assert row["containers"] == containers
        assert row["last_poll_timestamp_seconds"] == snap["timestamp_seconds"]
        assert row["memory_total_bytes"] == total
        pss = row["host_memory_pss_bytes"]
        assert abs(pss - pss_truth) <= 0.05 * pss_truth, (pss, pss_truth)
        assert row["memory_overhead_bytes"] == pss - total
        cg = row["cgroup_memory_usage_bytes"]
        assert abs(cg - cgroup_truth) <= 0.05 * cgroup_truth, (cg, cgroup_truth)


def test_accept_header_selects_json_and_browsers_get_html(exporter):
    exporter.wait_polls(1)
    status, ctype, body = fetch(exporter, "/sandboxes", accept="application/json")
    assert status == 200 and ctype == "application/json"
    assert {s["sandbox_id"] for s in json.loads(body)["sandboxes"]} == {PLAIN, HOSTILE}
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    status, ctype, body = fetch(exporter, "/sandboxes", accept=browser)
    assert status == 200 and ctype == "text/html; charset=utf-8"
    status, _, body = fetch(exporter, "/")
    assert status == 200 and 'href="/sandboxes"' in body


def test_html_escapes_the_hostile_pod_name(exporter):
    exporter.wait_polls(1)
    status, ctype, body = fetch(exporter, "/sandboxes")
    assert status == 200 and ctype == "text/html; charset=utf-8"
    assert f'<td class="w">{HOSTILE_ESCAPED}</td>' in body
    assert "<b>" not in body and "<script" not in body and HOSTILE_POD not in body
    for sid in (PLAIN, HOSTILE):
        assert f'<td class="id">{sid}</td>' in body
    assert '<td class="w">web-p</td><td class="w">shop</td>' in body


class _Table(HTMLParser):
    """Rows of <td> texts, and every start tag seen (to find injected elements)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.tags, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def chromium(workdir, *args, timeout=60):
    """Runs headless Chromium on loopback; returns its stdout. It and its helper
    processes (its own session) are killed by its PID when it hangs, and any
    helper left behind is killed while its zombie still holds that PID."""
    binary = shutil.which("chromium")
    if not binary:
        pytest.fail("chromium is not installed (scripts/install-deps.sh installs it)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir)
    # Crashpad and GTK write under $HOME / XDG dirs despite --user-data-dir:
    # point them into the temp dir too, so nothing is left in root's home.
    env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=os.path.join(profile, "config"),
               XDG_CACHE_HOME=os.path.join(profile, "cache"))
    argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}",
            # Loopback only: no proxy, and no name resolves.
            "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            *args]
    with open(os.path.join(workdir, "chromium.log"), "ab") as err, \
            tempfile.TemporaryFile(dir=workdir) as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=env, start_new_session=True)
        deadline = time.time() + timeout
        try:
            # WNOWAIT: leave the zombie unreaped so its PID (= the group id) cannot
            # be reused before the group is killed below.
            while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                if time.time() > deadline:
                    raise TimeoutError(f"chromium hung for {timeout}s: {args}")
                time.sleep(0.1)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        out.seek(0)
        text = out.read().decode(errors="replace")
    assert proc.returncode == 0, f"chromium exited {proc.returncode}; see {err.name}"
    shutil.rmtree(profile, ignore_errors=True)
    return text


def test_headless_chromium_renders_every_row_and_the_hostile_name_as_text(exporter, workdir):
    exporter.wait_polls(1)
    url = f"http://127.0.0.1:{exporter.port}/sandboxes"
    dom = chromium(workdir, "--dump-dom", url)
    table = _Table()
    table.feed(dom)
    rows = {r[2]: r for r in table.rows if len(r) == 15}
    assert set(rows) == {PLAIN, HOSTILE}, table.rows
    # The browser's text of the pod cell is exactly the hostile name...
    assert rows[HOSTILE][:2] == [HOSTILE_POD, "evil"]
    assert rows[PLAIN][:2] == ["web-p", "shop"] and rows[PLAIN][13] == "worker"
    assert rows[PLAIN][7].endswith(" MiB") and rows[PLAIN][15 - 1].endswith(" UTC")
    # ...and it made no element: no <b>, no <script> anywhere in the DOM.
    assert "script" not in table.tags and "b" not in table.tags
    assert "<script" not in dom

    shot = os.path.join(workdir, "sandboxes-page.png")
    chromium(workdir, f"--screenshot={shot}", "--window-size=1400,600", url)
    with open(shot, "rb") as f:
        png = f.read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    shutil.copy(shot, SCREENSHOT_COPY)  # for a person to look at
