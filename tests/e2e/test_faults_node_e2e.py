"""Node-scale fault injection on the real exporter binary: real processes, real files.

What test_faults_e2e.py (control socket) and test_core_e2e.py (garbled files,
killed sandboxes, runsc missing) do not cover:

  - `runsc` replaced (--runsc.path) by a program that hangs, hangs in a
    grandchild, prints garbage, exits non-zero, prints megabytes: on the CLI
    fallback path and for the start-up `runsc --version`;
  - state files that are huge (sparse), deeply nested but small, FIFOs and
    device nodes, half-written under runsc's exclusive lock (and left
    half-written by a writer that died), a root entry symlinked out of the
    parent;
  - a root directory (below --runsc.root-parent, or given by --runsc.root)
    moved away, deleted, replaced by a file or a symlink, and recreated;
  - a sandbox SIGKILLed while a poll is in progress (deterministically: while
    the poller waits on a slow fake sandbox read before it), and one killed
    while the poll is stuck on its own (SIGSTOPped) sentry.

Each fault asserts: the exporter process is alive (same pid, same start time),
every /metrics during the fault answers 200 within SCRAPE_DEADLINE, the right
gvisor_exporter_errors_total{source,reason} moved, the other sandboxes are
unaffected, and it recovers (series back, errors stop) without a restart.

The CLI path needs a sandbox whose control socket the exporter cannot reach
while the exporter itself stays in the host network namespace (so scrapes are
timed without a curl in between): that sandbox is created by runsc running in
a private network namespace, which is where runsc binds the abstract
`@runsc-sandbox.<id>` socket. The fake runsc's "real" mode runs the real runsc
back in that namespace. From runsc 20230920 the socket is a file in the root
instead: it is hidden (Runsc.hide_control_socket) and "real" runs runsc in a
private mount namespace that sees it.
"""
import json
import os
import random
import signal
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from gvisor_env import RUNSC, Runsc, control_socket_is_file

N = os.getpid()
SH = f"gvnh{N}"   # host sandbox under <parent>/k8s.io (control socket path)
SH2 = f"gvni{N}"  # its neighbour: "the others are unaffected"
SN = f"gvnn{N}"   # sandbox whose socket lives in another netns (CLI fallback path)

# Scrapes serve a prepared snapshot and never wait for a poll; measured at a
# few ms even while polls hang. 1 s is a tenth of Prometheus' default
# scrape_timeout and leaves room for a loaded 2-core CI machine.
SCRAPE_DEADLINE = 1.0
# --runsc.cli-timeout for the tests where runsc misbehaves: the real runsc
# (via nsenter) takes ~50-150 ms on a loaded box, a hang is cut at this.
CLI_TIMEOUT_S = 1.0
WORST_SCRAPE = [0.0]  # slowest /metrics of the module, printed at its end (-s)


# ---------------------------------------------------------------- processes


def proc_stat(pid):
    """(state, ppid, starttime) of /proc/<pid>/stat, or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rfind(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[19])


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid, marker):
    """True while `pid` runs (not a zombie) with `marker` in its command line."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z" and marker in cmdline(pid)


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[1] == pid:
                out.append(int(d))
    return out


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def kill_pid(pid, marker):
    """SIGKILL a process this test started (directly or not), by its own pid."""
    if alive(pid, marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_gone(pid, marker, timeout=5):
    deadline = time.monotonic() + timeout
    while alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid, marker)


# ---------------------------------------------------------------- metrics


def errs(s, source, reason=None):
    kw = {"source": source}
    if reason:
        kw["reason"] = reason
    return s.sum("gvisor_exporter_errors_total", **kw)


def sandbox_ids(s):
    return {l["sandbox_id"] for l, _ in s.select("gvisor_sandbox_info")}


class Watched:
    """An exporter under fault: every scrape is timed and checks it still runs."""

    def __init__(self, e):
        self.e = e
        self.pid = e.proc.pid
        self.start = proc_stat(self.pid)[2]
        self.worst = 0.0
        self.scrapes = 0
        self.fds = fd_count(self.pid)

    def alive(self):
        assert self.e.proc.poll() is None, "exporter exited:\n" + self.e.logs()
        st = proc_stat(self.pid)
        assert st is not None and st[2] == self.start, "exporter pid changed"

    def scrape(self):
        self.alive()
        t0 = time.monotonic()
        s = self.e.scrape()  # asserts HTTP 200
        dt = time.monotonic() - t0
        self.worst = max(self.worst, dt)
        WORST_SCRAPE[0] = max(WORST_SCRAPE[0], dt)
        self.scrapes += 1
        assert dt < SCRAPE_DEADLINE, f"/metrics took {dt:.3f}s"
        return s

    def until(self, pred, what, timeout=20):
        deadline = time.monotonic() + timeout
        s = None
        while time.monotonic() < deadline:
            s = self.scrape()
            if pred(s):
                return s
            time.sleep(0.05)
        errors = s.select("gvisor_exporter_errors_total") if s else None
        raise AssertionError(f"timed out waiting for {what}; errors={errors}\n{self.e.logs()}")

    def polls(self, n=2, timeout=20):
        """The scrape after n more polls completed: the last one started after this call."""
        start = self.scrape().value("gvisor_exporter_polls_total")
        return self.until(lambda s: s.value("gvisor_exporter_polls_total") >= start + n,
                          f"{n} polls", timeout)

    def no_fd_leak(self):
        # A few fds come and go (HTTP connections, a runsc child's pipes).
        assert fd_count(self.pid) <= self.fds + 8, (self.fds, os.listdir(f"/proc/{self.pid}/fd"))


# ---------------------------------------------------------------- fixtures


class NodeRunsc(Runsc):
    """Runsc with a chosen root path and, optionally, run inside a network namespace."""

    def __init__(self, workdir, cgroup_prefix, root=None, netns=None):
        os.makedirs(workdir, exist_ok=True)
        super().__init__(workdir, cgroup_prefix)
        if root:
            os.rmdir(self.root)
            self.root = root
            os.makedirs(root, exist_ok=True)
        self.netns = netns

    def cmd(self, *args, flags=(), timeout=30, check=True):
        if not self.netns:
            return super().cmd(*args, flags=flags, timeout=timeout, check=check)
        argv = ["nsenter", f"--net=/run/netns/{self.netns}", "--", *self.reach_argv(), RUNSC,
                "--root", self.root, *flags, *args]
        with open(os.path.join(self.workdir, "runsc.err"), "ab") as err, \
                tempfile.TemporaryFile(dir=self.workdir) as out:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               timeout=timeout)
            out.seek(0)
            text = out.read().decode()
        if check and r.returncode != 0:
            raise RuntimeError(f"{argv} exited {r.returncode}")
        return text

    def pids_of(self, sid):
        st = self.state_file(sid)
        return st["sandbox"]["pid"], st.get("goferPid")


@pytest.fixture(scope="module", autouse=True)
def report_worst_scrape():
    yield
    print(f"\nslowest /metrics during the faults: {WORST_SCRAPE[0] * 1000:.1f} ms")



@pytest.fixture(scope="module")
def parent(workdir):
    return os.path.join(workdir, "parent")


@pytest.fixture(scope="module")
def host(workdir, parent):
    r = NodeRunsc(os.path.join(workdir, "h"), f"gve-node-{N}-h", root=os.path.join(parent, "k8s.io"))
    try:
        r.run_sandbox(SH, pod="web", namespace="shop", uid="uid-h")
        r.run_sandbox(SH2, pod="db", namespace="shop", uid="uid-i")
        yield r
    finally:
        r.cleanup()


@pytest.fixture(scope="module")
def nsbox(workdir, netns, runsc_release):
    r = NodeRunsc(os.path.join(workdir, "n"), f"gve-node-{N}-n", netns=netns)
    try:
        r.run_sandbox(SN, pod="cli", namespace="shop", uid="uid-n")
        if control_socket_is_file(runsc_release):
            r.hide_control_socket(SN)
        yield r
    finally:
        r.cleanup()


FAKE_RUNSC = r'''#!/usr/bin/python3 -S
# A stand-in for runsc. Its behaviour is read from mode.version / mode.stats
# beside it at every call; "real" runs the real runsc (in the sandbox's netns,
# where it reaches the sandbox's control socket).
import os, subprocess, sys, time
REACH = @REACH@
HERE = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
kind = "version" if args == ["--version"] else "stats"
try:
    with open(os.path.join(HERE, "mode." + kind)) as f:
        mode = f.read().strip()
except FileNotFoundError:
    mode = "real"
def record(pid, what):
    with open(os.path.join(HERE, "spawned"), "a") as f:
        f.write(f"{pid} {what}\n")
record(os.getpid(), mode)
if mode == "real":
    if kind == "version":
        os.execv("@REAL@", ["@REAL@"] + args)
    os.execvp(REACH[0], REACH + ["@REAL@"] + args)
elif mode == "hang":
    time.sleep(3600)
elif mode == "hang_grandchild":
    p = subprocess.Popen(["sleep", "3600"])
    record(p.pid, "grandchild")
    p.wait()
elif mode == "garbage":
    sys.stdout.write("\x01\x02 runsc? {\"id\": ]]] not json\n")
elif mode == "exit":
    sys.stderr.write("fake runsc: the sandbox exploded\x1b[31m\n")
    sys.exit(3)
elif mode == "gone":
    sys.stderr.write("loading container: file does not exist\n")
    sys.exit(1)
elif mode == "deep":
    sys.stdout.write("[" * 100000 + "\n")
elif mode == "huge":
    try:
        sys.stdout.write("A" * (4 << 20))
        sys.stdout.flush()
    except BrokenPipeError:
        pass
'''


class FakeRunsc:
    def __init__(self, workdir, netns, nsbox):
        self.dir = os.path.join(workdir, "fake-runsc")
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, "runsc")
        with open(self.path, "w") as f:
            reach = ["nsenter", f"--net=/run/netns/{netns}", "--", *nsbox.reach_argv()]
            f.write(FAKE_RUNSC.replace("@REAL@", RUNSC).replace("@REACH@", repr(reach)))
        os.chmod(self.path, 0o755)
        self.reset()

    def set(self, kind, mode):
        tmp = os.path.join(self.dir, f"mode.{kind}.tmp")
        with open(tmp, "w") as f:
            f.write(mode)
        os.rename(tmp, os.path.join(self.dir, f"mode.{kind}"))  # atomic for the readers

    def reset(self):
        for kind in ("version", "stats"):
            self.set(kind, "real")
        open(os.path.join(self.dir, "spawned"), "w").close()

    def spawned(self, what=None):
        """Pids the fake started (itself, or its grandchildren with what="grandchild")."""
        with open(os.path.join(self.dir, "spawned")) as f:
            rows = [line.split() for line in f if line.strip()]
        return [int(p) for p, w in rows if what is None or w == what]

    def marker(self, pid):
        return "sleep" if pid in self.spawned("grandchild") else self.path

    def live(self, what=None):
        return [p for p in self.spawned(what) if alive(p, self.marker(p))]

    def cleanup(self):
        for p in self.spawned():
            kill_pid(p, self.marker(p))


@pytest.fixture
def fake_runsc(workdir, netns, nsbox):
    f = FakeRunsc(workdir, netns, nsbox)
    try:
        yield f
    finally:
        f.cleanup()
        f.reset()


# ---------------------------------------------------------------- runsc replaced


def cli_exporter(start_exporter, nsbox, fake_runsc):
    """An exporter that reads SN through --runsc.path only (its socket is unreachable)."""
    return start_exporter(f"--runsc.root={nsbox.root}", "--runsc.root-parent=", "--cri.endpoint=",
                          f"--runsc.path={fake_runsc.path}", f"--runsc.cli-timeout={CLI_TIMEOUT_S}s",
                          "--control.timeout=300ms", "--poll.interval=300ms")


@pytest.mark.parametrize("mode,reason", [("hang", "timeout"), ("garbage", "parse"),
                                         ("exit", "remote_error")])
def test_runsc_version_misbehaving_at_start(mode, reason, nsbox, fake_runsc, start_exporter):
    """`runsc --version` runs once, before the HTTP server starts: a hang delays
    the start by --runsc.cli-timeout, never more, and leaves nothing behind."""
    fake_runsc.set("version", mode)
    t0 = time.monotonic()
    e = cli_exporter(start_exporter, nsbox, fake_runsc)
    started = time.monotonic() - t0
    w = Watched(e)
    if mode == "hang":
        assert CLI_TIMEOUT_S <= started < CLI_TIMEOUT_S + 10, started
    s = w.polls(2)
    # Exactly one error: the version is read once; the CLI fallback itself works.
    assert errs(s, "cli", reason) == 1, s.select("gvisor_exporter_errors_total")
    assert errs(s, "cli") == 1, s.select("gvisor_exporter_errors_total")
    assert s.value("gvisor_runsc_info", version="") == 1
    assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=SN, path="cli") == 1
    assert s.value("gvisor_sandbox_memory_total_bytes", sandbox_id=SN) > 0
    assert "runsc --version" in e.logs()
    (version_pid,) = fake_runsc.spawned(mode)
    assert not alive(version_pid, fake_runsc.path), "the `runsc --version` child was left running"
    # By design the version is not re-read (runsc is not upgraded under a
    # running DaemonSet): "recovery" is the next start, checked by the other tests.
    s = w.polls(2)
    assert errs(s, "cli") == 1
    w.no_fd_leak()


CLI_FAULTS = [("hang", "timeout"), ("hang_grandchild", "timeout"), ("garbage", "parse"),
              ("exit", "remote_error"), ("gone", "not_found"), ("deep", "too_large"),
              ("huge", "too_large")]


def test_runsc_cli_fallback_misbehaving(nsbox, fake_runsc, start_exporter):
    e = cli_exporter(start_exporter, nsbox, fake_runsc)
    w = Watched(e)
    s = w.until(lambda s: s.select("gvisor_sandbox_memory_total_bytes", sandbox_id=SN),
                "the CLI path to work")
    assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=SN, path="cli") == 1
    assert errs(s, "control_socket", "unavailable") >= 1
    for mode, reason in CLI_FAULTS:
        fake_runsc.set("stats", mode)
        before = errs(w.scrape(), "cli", reason)
        max_live = 0
        def counted(s):
            nonlocal max_live
            max_live = max(max_live, len(fake_runsc.live()))
            return errs(s, "cli", reason) >= before + 2
        # Two polls in a row met the fault; every scrape meanwhile was prompt.
        s = w.until(counted, f"{mode}: two cli/{reason} errors")
        assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=SN, path="none") == 1, mode
        assert not s.select("gvisor_sandbox_memory_total_bytes", sandbox_id=SN), mode
        # The host side does not depend on runsc.
        assert s.value("gvisor_sandbox_info", sandbox_id=SN) == 1
        assert s.value("gvisor_sandbox_host_processes", sandbox_id=SN, role="sentry") == 1
        assert s.select("gvisor_sandbox_host_memory_pss_bytes", sandbox_id=SN)
        if reason != "not_found":  # "does not exist" is churn, not a failing source
            assert s.value("gvisor_exporter_collector_success", collector="cli") == 0, mode
        # One sandbox, one runsc call at a time (with its own child, if any):
        # hung ones never pile up from poll to poll.
        assert max_live <= (2 if mode == "hang_grandchild" else 1), \
            (mode, [(p, cmdline(p)) for p in fake_runsc.live()])

        fake_runsc.set("stats", "real")
        s = w.until(lambda s: s.select("gvisor_sandbox_memory_total_bytes", sandbox_id=SN)
                    and s.select("gvisor_sandbox_stats_path_info", sandbox_id=SN, path="cli"),
                    f"recovery after {mode}")
        settled = errs(w.polls(2), "cli")
        s = w.polls(2)
        assert errs(s, "cli") == settled, (mode, s.select("gvisor_exporter_errors_total"))
        assert s.value("gvisor_exporter_collector_success", collector="cli") == 1
        # Every fake of this mode, and whatever it started, is gone: the
        # exporter killed the hung ones at the deadline.
        for p in fake_runsc.spawned():
            assert wait_gone(p, fake_runsc.marker(p), timeout=1), \
                f"{mode}: pid {p} ({cmdline(p)!r}) outlived its runsc call"
        # A fake the next poll has just started in "real" mode is still the fake
        # for a few ms before it execs the real runsc: only one that stays the
        # fake is a leftover.
        left = [c for c in children(w.pid) if fake_runsc.path in cmdline(c)]
        assert [c for c in left if not wait_gone(c, fake_runsc.path, timeout=1)] == [], \
            (mode, [(c, cmdline(c)) for c in left])
    assert "the sandbox exploded" in e.logs()
    assert "\x1b" not in e.logs(), "runsc's stderr reached the log unsanitized"
    w.no_fd_leak()


# ---------------------------------------------------------------- state files


def host_exporter(start_exporter, parent, *extra):
    return start_exporter(f"--runsc.root-parent={parent}", "--cri.endpoint=", "--poll.interval=300ms",
                          "--control.timeout=1s", f"--runsc.cli-timeout={CLI_TIMEOUT_S}s", *extra)


def state_path(runsc, sid, cid=None):
    return os.path.join(runsc.root, f"{cid or sid}_sandbox:{sid}.state")


def assert_host_pair(s, runsc):
    """SH and SH2 are exported, with their labels, from the real root."""
    for sid, pod in ((SH, "web"), (SH2, "db")):
        (labels, _), = s.select("gvisor_sandbox_info", sandbox_id=sid)
        assert (labels["pod"], labels["namespace"], labels["root"]) == (pod, "shop", runsc.root)
        assert s.select("gvisor_sandbox_memory_total_bytes", sandbox_id=sid), sid


def test_huge_deep_special_and_symlinked_entries(host, nsbox, parent, workdir, start_exporter):
    big, deep, fifo, dev, dird = (f"gvn{k}{N}" for k in ("big", "deep", "fifo", "dev", "dir"))
    planted = [os.path.join(host.root, f"{i}_sandbox:{i}.state") for i in (big, deep, fifo, dev, dird)]
    link = os.path.join(parent, f"gvnlink{N}")
    try:
        # 64 MiB (sparse): 16x the 4 MiB limit; reading it whole would show in the poll time.
        with open(planted[0], "wb") as f:
            f.truncate(64 << 20)
        # Small (10 KB) but 5000 levels deep inside an otherwise valid "sandbox".
        nested = "[" * 5000 + "]" * 5000
        with open(planted[1], "w") as f:
            f.write(f'{{"id":"{deep}","status":"running","sandbox":{{"id":"{deep}","pid":1,'
                    f'"x":{nested}}}}}')
        os.mkfifo(planted[2])  # opening it for reading would block a naive reader
        os.mknod(planted[3], 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: endless
        os.mkdir(planted[4])
        # A root entry pointing out of the parent, at a live root (SN's).
        os.symlink(nsbox.root, link)

        e = host_exporter(start_exporter, parent)
        w = Watched(e)
        b = w.scrape()
        s = w.until(lambda s: errs(s, "runsc_state", "too_large") >= errs(b, "runsc_state", "too_large") + 4
                    and errs(s, "runsc_state", "invalid") >= errs(b, "runsc_state", "invalid") + 8,
                    "two polls of too_large x2 and invalid x4")
        s = w.polls(1)
        assert sandbox_ids(s) == {SH, SH2}, "nothing planted, and nothing behind the symlink, shows"
        assert_host_pair(s, host)
        assert {l["root"] for l, _ in s.select("gvisor_sandboxes")} == {host.root}
        # Per-file problems skip the file only; the scan is not slowed by them.
        assert s.value("gvisor_exporter_collector_success", collector="runsc_state") == 1
        assert s.value("gvisor_exporter_collector_duration_seconds", collector="runsc_state") < 1
        assert errs(s, "runsc_state", "parse") == 0
        logs = e.logs()
        for name in (big, deep, fifo, dev, dird, f"gvnlink{N}"):
            assert name in logs, name
        w.no_fd_leak()
    finally:
        for p in planted:
            if os.path.isdir(p) and not os.path.islink(p):
                os.rmdir(p)
            elif os.path.lexists(p):
                os.unlink(p)
        if os.path.lexists(link):
            os.unlink(link)
    # Recovery: the files gone, the errors stop.
    w.polls(2)
    settled = w.scrape()
    s = w.polls(2)
    assert errs(s, "runsc_state") == errs(settled, "runsc_state")
    assert sandbox_ids(s) == {SH, SH2}


# runsc's own protocol: an exclusive flock on <name>.lock around the rewrite of
# <name>.state (truncate, then write). Commands on stdin step it.
WRITER = r'''
import fcntl, os, sys
lock_path, state_path, full_path = sys.argv[1:4]
with open(full_path, "rb") as f:
    full = f.read()
lock = open(lock_path, "rb")
state = open(state_path, "r+b")
def put(data):
    state.seek(0)
    state.truncate(0)
    state.write(data)
    state.flush()
    os.fsync(state.fileno())
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "lock":
        fcntl.flock(lock, fcntl.LOCK_EX)
    elif cmd == "half":
        put(full[: len(full) // 2])
    elif cmd == "full":
        put(full)
    elif cmd == "unlock":
        fcntl.flock(lock, fcntl.LOCK_UN)
    print(cmd, flush=True)
'''


class Writer:
    def __init__(self, workdir, runsc, sid, original):
        script = os.path.join(workdir, "writer.py")
        with open(script, "w") as f:
            f.write(WRITER)
        full = os.path.join(workdir, f"full-{sid}.json")
        with open(full, "wb") as f:
            f.write(original)
        self.proc = subprocess.Popen(
            [sys.executable, script, state_path(runsc, sid)[:-len(".state")] + ".lock",
             state_path(runsc, sid), full],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def do(self, *cmds):
        for c in cmds:
            self.proc.stdin.write(c + "\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == c

    def crash(self):
        self.proc.kill()  # by its pid; the kernel drops its flock
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.crash()


def test_state_file_half_written_under_runsc_lock(host, parent, workdir, start_exporter):
    path = state_path(host, SH)
    with open(path, "rb") as f:
        original = f.read()
    writer = Writer(workdir, host, SH, original)
    try:
        e = host_exporter(start_exporter, parent)
        w = Watched(e)
        assert_host_pair(w.polls(1), host)
        b = w.scrape()

        # 1. runsc is mid-write and holds the lock: the exporter does not wait
        #    for the lock (it reads without it after a few ms), sees half a
        #    JSON, retries, and counts a parse error; the sandbox is left out of
        #    the poll rather than exported from a broken file.
        writer.do("lock", "half")
        s = w.until(lambda s: errs(s, "runsc_state", "parse") >= errs(b, "runsc_state", "parse") + 2,
                    "parse errors on the half-written file")
        s = w.polls(1)
        assert SH not in sandbox_ids(s)
        assert not [l for n, l, _ in s.samples if l.get("sandbox_id") == SH]
        assert SH2 in sandbox_ids(s)
        assert s.value("gvisor_exporter_collector_duration_seconds", collector="runsc_state") < 1
        assert s.value("gvisor_exporter_poll_duration_seconds") < 2

        # 2. The write completes, the lock is still held (runsc stalled): the
        #    complete file read without the lock is fine, no error.
        writer.do("full")
        s = w.until(lambda s: SH in sandbox_ids(s), "the sandbox back from its complete file")
        settled = errs(w.polls(1), "runsc_state", "parse")
        s = w.polls(2)
        assert errs(s, "runsc_state", "parse") == settled
        assert_host_pair(s, host)
        writer.do("unlock")

        # 3. The writer dies mid-write: the kernel drops its lock, the file
        #    stays truncated. Read under the lock now: parse error at once.
        b = w.scrape()
        writer.do("lock", "half")
        writer.crash()
        s = w.until(lambda s: errs(s, "runsc_state", "parse") >= errs(b, "runsc_state", "parse") + 2
                    and SH not in sandbox_ids(s), "parse errors on the abandoned half file")
        assert SH2 in sandbox_ids(s)
        assert s.value("gvisor_sandbox_info", sandbox_id=SH2) == 1

        # 4. runsc rewrites it (under its lock): back, without a restart.
        writer = Writer(workdir, host, SH, original)
        writer.do("lock", "full", "unlock")
        s = w.until(lambda s: SH in sandbox_ids(s), "the sandbox back after the rewrite")
        settled = errs(w.polls(1), "runsc_state")
        s = w.polls(2)
        assert errs(s, "runsc_state") == settled
        assert_host_pair(s, host)
        w.no_fd_leak()
    finally:
        writer.stop()
        with open(path, "wb") as f:  # whatever happened, runsc gets its file back
            f.write(original)


# ---------------------------------------------------------------- roots


@pytest.mark.parametrize("how", ["root-parent", "root"])
def test_root_deleted_replaced_and_recreated(how, host, parent, workdir, start_exporter):
    root = host.root
    away = os.path.join(workdir, f"away-{how}")
    if how == "root-parent":
        e = host_exporter(start_exporter, parent)
    else:
        e = start_exporter(f"--runsc.root={root}", "--runsc.root-parent=", "--cri.endpoint=",
                           "--poll.interval=300ms", "--control.timeout=1s")
    w = Watched(e)
    try:
        s = w.polls(1)
        assert_host_pair(s, host)
        assert s.value("gvisor_sandboxes", root=root) == 2
        b = s

        # Deleted (moved away: the sandboxes keep running, the exporter holds no fd across polls).
        os.rename(root, away)
        s = w.until(lambda s: not sandbox_ids(s), "the root's sandboxes to vanish")
        s = w.polls(2)
        assert not sandbox_ids(s) and not s.select("gvisor_sandboxes", root=root)
        if how == "root-parent":
            os.rmdir(parent)  # the parent goes too
            s = w.polls(2)
        # A missing root or parent is normal on a node (nothing started yet): no error.
        assert errs(s, "runsc_state") == errs(b, "runsc_state")
        assert s.value("gvisor_exporter_collector_success", collector="runsc_state") == 1

        # Recreated as something else: a regular file (invalid), then a
        # symlink (not followed below a parent; a flag's own path is trusted
        # configuration, so there it is followed).
        b = s
        bad = parent if how == "root-parent" else root
        with open(bad, "w") as f:
            f.write("not a directory\n")
        s = w.until(lambda s: errs(s, "runsc_state", "invalid") >= errs(b, "runsc_state", "invalid") + 2,
                    "invalid: root is a file")
        assert s.value("gvisor_exporter_collector_success", collector="runsc_state") == 0
        assert not sandbox_ids(s)
        os.unlink(bad)
        if how == "root-parent":
            os.mkdir(parent)
            os.symlink(away, root)
            b = w.scrape()
            s = w.until(lambda s: errs(s, "runsc_state", "invalid") >= errs(b, "runsc_state", "invalid") + 2,
                        "invalid: root is a symlink")
            assert not sandbox_ids(s)
            os.unlink(root)
        # Recreated empty: scanned, zero sandboxes.
        os.mkdir(root)
        s = w.until(lambda s: s.select("gvisor_sandboxes", root=root), "the empty root")
        assert s.value("gvisor_sandboxes", root=root) == 0
        os.rmdir(root)
        # And the real one back: the series return, the errors stop.
        os.rename(away, root)
        s = w.until(lambda s: sandbox_ids(s) == {SH, SH2}, "the sandboxes back")
        s = w.polls(1)
        assert_host_pair(s, host)
        assert s.value("gvisor_sandboxes", root=root) == 2
        assert s.value("gvisor_exporter_collector_success", collector="runsc_state") == 1
        settled = errs(s, "runsc_state")
        assert errs(w.polls(2), "runsc_state") == settled
        w.no_fd_leak()
    finally:
        # Put the real root back whatever step failed.
        if os.path.exists(away):
            if os.path.isfile(parent) or os.path.islink(parent):
                os.unlink(parent)
            os.makedirs(parent, exist_ok=True)
            if os.path.islink(root) or os.path.isfile(root):
                os.unlink(root)
            elif os.path.isdir(root):
                os.rmdir(root)
            os.rename(away, root)


# ---------------------------------------------------------------- killed mid-poll

# A sandbox whose control socket accepts and never answers, and says so in a
# file at every connection: while it is being read, the poll is known to be in
# progress, and everything sorted after it is still to be read.
SLOW_SENTRY = r'''
import socket, sys
notify, sid = sys.argv[1], sys.argv[-1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b"\0runsc-sandbox." + sid.encode() + b"\0")
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    if len(held) > 16:
        held.pop(0).close()
    with open(notify, "a") as f:
        f.write("accepted\n")
'''


def start_slow_sentry(runsc, workdir, sid):
    link = os.path.join(workdir, "runsc-sandbox")  # argv[0] of a sentry, as the exporter checks
    if not os.path.lexists(link):
        os.symlink(sys.executable, link)
    script = os.path.join(workdir, "slow_sentry.py")
    with open(script, "w") as f:
        f.write(SLOW_SENTRY)
    notify = os.path.join(workdir, f"notify-{sid}")
    open(notify, "w").close()
    proc = subprocess.Popen([link, script, notify, "boot", sid], stdin=subprocess.DEVNULL)
    state = {"id": sid, "status": "running", "spec": {"annotations": {
        "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": sid,
        "io.kubernetes.cri.sandbox-name": "slow", "io.kubernetes.cri.sandbox-namespace": "faults"}},
        "sandbox": {"id": sid, "pid": proc.pid, "cgroup": {"cgroupunknown": None}}}
    with open(state_path(runsc, sid), "w") as f:
        json.dump(state, f)
    return proc, notify


def accepted(notify):
    with open(notify) as f:
        return sum(1 for _ in f)


def kill_sandbox(runsc, sid):
    """SIGKILL behind runsc's back (sentry and gofer, by pid): the state file stays."""
    sentry, gofer = runsc.pids_of(sid)
    for pid, marker in ((sentry, "runsc-sandbox"), (gofer, "runsc-gofer")):
        if pid:
            kill_pid(pid, marker)
    return sentry


def test_sandbox_killed_mid_poll(host, parent, workdir, start_exporter):
    fid, v1, v2 = f"gvnf{N}", f"gvnv{N}a", f"gvnv{N}b"  # read in this order, SH/SH2 between
    host.run_sandbox(v1, pod="victim-1", namespace="shop", uid="uid-v1")
    host.run_sandbox(v2, pod="victim-2", namespace="shop", uid="uid-v2")
    fake, notify = start_slow_sentry(host, workdir, fid)
    try:
        # One worker: sandboxes are read one after the other, in id order.
        e = host_exporter(start_exporter, parent, "--poll.concurrency=1")
        w = Watched(e)
        w.until(lambda s: {fid, SH, SH2, v1, v2} <= sandbox_ids(s), "all five sandboxes")

        # 1. Deterministic: the poll is waiting on the slow sandbox (1 s control
        #    timeout, then its CLI fallback); v1, read later in the same poll,
        #    is killed now. Discovery already listed it as alive.
        n0 = accepted(notify)
        deadline = time.monotonic() + 15
        while accepted(notify) == n0:
            assert time.monotonic() < deadline, "the poller never reached the slow sandbox"
            time.sleep(0.01)
        p0 = w.scrape().value("gvisor_exporter_polls_total")
        b = w.scrape()
        kill_sandbox(host, v1)
        s = w.until(lambda s: s.value("gvisor_exporter_polls_total") >= p0 + 1, "the poll in progress")
        assert not [l for n, l, _ in s.samples if l.get("sandbox_id") == v1], \
            "a sandbox that died mid-poll was exported from that poll"
        assert {fid, SH, SH2, v2} <= sandbox_ids(s)
        for sid in (SH, SH2, v2):
            assert s.select("gvisor_sandbox_memory_total_bytes", sandbox_id=sid), sid
        assert errs(s, "procfs", "not_found") > errs(b, "procfs", "not_found"), \
            s.select("gvisor_exporter_errors_total")
        # From the next poll on it is a stale state file, counted as such.
        s = w.until(lambda s: errs(s, "runsc_state", "not_found") > errs(b, "runsc_state", "not_found"),
                    "the stale state file counted")
        assert v1 not in sandbox_ids(s)

        # 2. Killed while the poll is stuck on the sandbox itself: its sentry
        #    is stopped (the control call and `runsc events` wait for their
        #    deadlines), then SIGKILLed at a random point of that wait.
        fake.kill()
        fake.wait()
        os.unlink(state_path(host, fid))
        sentry_v2 = host.pids_of(v2)[0]
        b = w.scrape()
        os.kill(sentry_v2, signal.SIGSTOP)
        w.until(lambda s: errs(s, "control_socket", "timeout") > errs(b, "control_socket", "timeout"),
                "a control call stuck on the stopped sentry")
        time.sleep(random.uniform(0, 1.5))
        kill_sandbox(host, v2)
        s = w.until(lambda s: v2 not in sandbox_ids(s), "the killed sandbox to vanish", timeout=10)
        assert not [l for n, l, _ in s.samples if l.get("sandbox_id") == v2]
        assert {SH, SH2} <= sandbox_ids(s)
        s = w.polls(2)
        assert_host_pair(s, host)
        # Its fallback `runsc events` hung on the stopped sentry too: cut at its
        # deadline (timeout) or ended by the kill (remote_error), by chance.
        assert errs(s, "cli") > errs(b, "cli"), s.select("gvisor_exporter_errors_total")
        # The `runsc events` stuck on the stopped sentry was killed at its deadline.
        assert [c for c in children(w.pid) if v2 in cmdline(c) or fid in cmdline(c)] == []

        # 3. runsc cleans up: the stale files go, the errors stop.
        host.delete(v1)
        host.delete(v2)
        w.polls(2)
        settled = w.scrape()
        s = w.polls(2)
        assert errs(s, "runsc_state") == errs(settled, "runsc_state")
        assert sandbox_ids(s) == {SH, SH2}
        w.no_fd_leak()
    finally:
        if fake.poll() is None:
            fake.kill()
            fake.wait()
        if os.path.exists(state_path(host, fid)):
            os.unlink(state_path(host, fid))
        for sid in (v1, v2):
            try:
                os.kill(host.pids_of(sid)[0], signal.SIGCONT)
            except (OSError, FileNotFoundError, TypeError):
                pass
            host.delete(sid)
