"""Real gVisor sandboxes and a real exporter process for end-to-end tests.

Everything a test starts is recorded and torn down by PID (never by name):
sandboxes via `runsc kill/delete` and then SIGKILL of their recorded sentry
and gofer pids, cgroups by rmdir, temp dirs by rmtree.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

# The runsc under test. conftest.py sets it from `--runsc=PATH` (default: the
# system's /usr/bin/runsc) before any test module is imported, so a module's
# `from gvisor_env import RUNSC` sees it; never guessed from PATH.
RUNSC = "/usr/bin/runsc"
RUNSC_VERSION = None  # first line of `RUNSC --version`, e.g. "runsc version 0.0~20221219.0"
RUNSC_RELEASE = None  # its release date as an int, e.g. 20221219
BUSYBOX = "/bin/busybox"
PROMETHEUS = "/usr/bin/prometheus"
APPLETS = ["sh", "sleep", "dd", "cat", "echo", "true", "yes", "head", "wget"]


# Recording rules whose inputs exist only with --syscalls.sample: the tests
# that require every rule to return series on a real Prometheus skip them
# (tests/prometheus/rules_test.yml and test_syscalls_e2e.py cover them).
SAMPLING_ONLY_RECORDS = {"namespace_pod_container:gvisor_container_syscalls:estimated_rate5m"}


def use_runsc(path):
    """Selects the runsc binary of this run and reads its version once."""
    global RUNSC, RUNSC_VERSION, RUNSC_RELEASE
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL, check=True).stdout
    RUNSC_VERSION = out.splitlines()[0].strip()
    m = re.search(r"(20\d{6})", RUNSC_VERSION)
    if not m:
        raise ValueError(f"{path} --version: no release date in {RUNSC_VERSION!r}")
    RUNSC, RUNSC_RELEASE = path, int(m.group(1))


def default_platform(release):
    """runsc's default platform: ptrace until release-20230621, then systrap."""
    return "systrap" if release >= 20230621 else "ptrace"


def control_socket_is_file(release):
    """From release-20230920 the control socket is <root>/runsc-<id>.sock;
    before, an abstract socket @runsc-sandbox.<id> (host netns only)."""
    return release >= 20230920


def _cgroup_mounts():
    base = "/sys/fs/cgroup"
    if os.path.exists(os.path.join(base, "cgroup.controllers")):
        return [base]
    return [os.path.join(base, d) for d in os.listdir(base)
            if os.path.isdir(os.path.join(base, d)) and not os.path.islink(os.path.join(base, d))]


class Runsc:
    """A private runsc root with sandboxes started by `runsc run --detach`."""

    def __init__(self, workdir, cgroup_prefix):
        self.workdir = workdir
        self.root = os.path.join(workdir, "root")
        os.makedirs(self.root, exist_ok=True)
        self.rootfs = os.path.join(workdir, "rootfs")
        os.makedirs(os.path.join(self.rootfs, "bin"), exist_ok=True)
        os.makedirs(os.path.join(self.rootfs, "tmp"), exist_ok=True)
        shutil.copy(BUSYBOX, os.path.join(self.rootfs, "bin", "busybox"))
        for a in APPLETS:
            os.symlink("busybox", os.path.join(self.rootfs, "bin", a))
        self.cgroup_prefix = cgroup_prefix
        self.containers = []  # (id, flags) in start order
        self.pids = set()
        self.hidden = {}  # control socket path -> where hide_control_socket moved it

    def hide_control_socket(self, sid):
        """Makes sandbox `sid`'s control socket FILE (runsc >= 20230920; an abstract
        socket is hidden by a network namespace instead) unreachable: it moves out
        of the root and an empty regular file takes its place, so a connect to the
        path fails (ECONNREFUSED) — a dead socket. runsc calls made through
        reach_argv() (this object's cmd() included) still reach it: a private mount
        namespace with the socket bind-mounted back. cleanup() puts it back."""
        path = os.path.join(self.root, f"runsc-{sid}.sock")
        hidden = os.path.join(self.workdir, f"hidden-{sid}.sock")
        os.rename(path, hidden)
        self.hidden[path] = hidden
        open(path, "w").close()

    def reach_argv(self):
        """argv prefix under which a runsc call sees the hidden control sockets."""
        argv = []
        for path, hidden in self.hidden.items():
            argv += ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                     'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", hidden, path]
        return argv

    def restore_control_sockets(self):
        for path, hidden in self.hidden.items():
            if os.path.exists(hidden):
                os.unlink(path)
                os.rename(hidden, path)
        self.hidden = {}

    def cmd(self, *args, flags=(), timeout=30, check=True):
        argv = [*self.reach_argv(), RUNSC, "--root", self.root, *flags, *args]
        # Files, not pipes: `run --detach` hands its stdio to the sandbox, which
        # keeps a pipe open forever.
        with open(os.path.join(self.workdir, "runsc.err"), "ab") as err, \
                tempfile.TemporaryFile(dir=self.workdir) as out:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               timeout=timeout)
            out.seek(0)
            text = out.read().decode()
        if check and r.returncode != 0:
            raise RuntimeError(f"{argv} exited {r.returncode}")
        return text

    def _bundle(self, cid, args, annotations):
        bundle = os.path.join(self.workdir, "bundle-" + cid)
        os.makedirs(bundle)
        subprocess.run([RUNSC, "spec", "--", *args], cwd=bundle, check=True,
                       stdout=subprocess.DEVNULL)
        path = os.path.join(bundle, "config.json")
        with open(path) as f:
            spec = json.load(f)
        spec["process"]["terminal"] = False
        spec["root"] = {"path": self.rootfs, "readonly": True}
        spec["annotations"] = annotations
        spec["linux"]["cgroupsPath"] = f"/{self.cgroup_prefix}/{cid}"
        with open(path, "w") as f:
            json.dump(spec, f)
        return bundle

    def run_sandbox(self, sid, pod, namespace, uid, args=("/bin/sleep", "100000"),
                    network="none", flags=(), annotations=None):
        ann = {
            "io.kubernetes.cri.container-type": "sandbox",
            "io.kubernetes.cri.sandbox-id": sid,
            "io.kubernetes.cri.sandbox-name": pod,
            "io.kubernetes.cri.sandbox-namespace": namespace,
            "io.kubernetes.cri.sandbox-uid": uid,
            **(annotations or {}),
        }
        bundle = self._bundle(sid, list(args), ann)
        allflags = [f"--network={network}", *flags]
        self.containers.append((sid, allflags))
        self.cmd("run", "--detach", "--bundle", bundle, sid, flags=allflags, timeout=60)
        self._record_pids(sid)
        return self.state(sid)

    def add_container(self, sid, cid, name, args=("/bin/sleep", "100000"), network="none"):
        ann = {
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.sandbox-id": sid,
            "io.kubernetes.cri.container-name": name,
            "io.kubernetes.cri.image-name": "localhost/busybox:e2e",
        }
        bundle = self._bundle(cid, list(args), ann)
        flags = [f"--network={network}"]
        self.containers.append((cid, flags))
        self.cmd("create", "--bundle", bundle, cid, flags=flags, timeout=60)
        self.cmd("start", cid, flags=flags, timeout=60)
        self._record_pids(cid)

    def install(self, path, name):
        """Copies a (static) program into the shared rootfs as /bin/<name>."""
        shutil.copy(path, os.path.join(self.rootfs, "bin", name))
        return "/bin/" + name

    def exec(self, cid, *args, timeout=120):
        """Runs a process in a running container (`runsc exec`); returns its stdout."""
        return self.cmd("exec", cid, *args, timeout=timeout)

    def _record_pids(self, cid):
        st = self.state_file(cid)
        for pid in (st.get("goferPid"), st.get("sandbox", {}).get("pid")):
            if pid:
                self.pids.add(int(pid))

    def state(self, cid):
        return json.loads(self.cmd("state", cid))

    def state_file(self, cid):
        for name in os.listdir(self.root):
            if name.startswith(cid + "_sandbox:") and name.endswith(".state"):
                with open(os.path.join(self.root, name)) as f:
                    return json.load(f)
        raise FileNotFoundError(cid)

    def usage(self, cid, full=False):
        return json.loads(self.cmd("usage", *(["-full"] if full else []), cid))

    def list(self):
        return json.loads(self.cmd("list", "-format=json")) or []

    def delete(self, cid):
        self.cmd("kill", cid, "KILL", check=False)
        self.cmd("delete", "-force", cid, check=False)

    def cgroup_dirs(self, cid=None):
        rel = self.cgroup_prefix + ("/" + cid if cid else "")
        return [os.path.join(m, rel) for m in _cgroup_mounts()]

    def cleanup(self):
        self.restore_control_sockets()  # runsc kill/delete talk to the sandbox
        for cid, _ in reversed(self.containers):
            self.cmd("kill", cid, "KILL", check=False, timeout=20)
        for cid, _ in reversed(self.containers):
            self.cmd("delete", "-force", cid, check=False, timeout=20)
        for pid in self.pids:  # anything runsc left behind, by its own pid
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for d in self.cgroup_dirs():
            for sub, dirs, _ in sorted(os.walk(d, topdown=False), key=lambda x: -len(x[0])):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass


def wait_until(predicate, timeout=20, interval=0.05):
    """True as soon as predicate() holds, False once `timeout` seconds passed."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def stop_process(proc, timeout):
    """SIGTERM to a process we started (by its own PID), SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def trace_reader_task(pid):
    """/proc/<pid>/task/<tid> of the exporter's trace reader thread (named gve-trace-read), or
    None."""
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/comm") as f:
            if f.read().strip() == "gve-trace-read":
                return f"/proc/{pid}/task/{t}"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """Returns [(name, {label: value}, float)] from the text format."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"unparseable exposition line: {line!r}"
        labels = {}
        if m.group(3):
            for k, v in _LABEL.findall(m.group(3)):
                labels[k] = v.encode().decode("unicode_escape")
        out.append((m.group(1), labels, float(m.group(4))))
    return out


class Scrape:
    def __init__(self, text):
        self.text = text
        self.samples = parse_exposition(text)

    def select(self, name, **labels):
        return [(l, v) for n, l, v in self.samples
                if n == name and all(l.get(k) == str(val) for k, val in labels.items())]

    def value(self, name, **labels):
        s = self.select(name, **labels)
        assert len(s) == 1, f"{name}{labels}: expected one series, got {s}"
        return s[0][1]

    def sum(self, name, **labels):
        return sum(v for _, v in self.select(name, **labels))


class Exporter:
    """The built exporter binary, started with argv, stopped by its PID."""

    def __init__(self, binary, workdir, args, netns=None):
        """netns: a named network namespace (/run/netns/<name>) to run it in."""
        self.port = free_port()
        self.workdir = workdir
        self.netns = netns
        argv = [binary, f"--web.listen-address=127.0.0.1:{self.port}", *args]
        if not any(a.startswith("--runsc.path") for a in args):
            argv.append(f"--runsc.path={RUNSC}")  # the runsc under test, not PATH's
        if netns:
            argv = ["nsenter", f"--net=/run/netns/{netns}", "--", *argv]
        self.log = open(os.path.join(workdir, f"exporter-{self.port}.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        try:
            self.wait_ready()
        except BaseException:
            self.stop()  # the caller never gets this object to stop it
            raise

    def get(self, path, timeout=5):
        if self.netns:  # loopback of another network namespace: reach it with curl inside it
            r = subprocess.run(["nsenter", f"--net=/run/netns/{self.netns}", "--", "curl", "-s",
                                "-w", "\n%{http_code}", "--max-time", str(timeout), self.url + path],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise OSError(f"curl exited {r.returncode}")
            body, _, code = r.stdout.rpartition("\n")
            return int(code), body
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return r.status, r.read().decode()

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, "exporter exited: " + self.logs()
            try:
                if self.scrape().select("gvisor_exporter_polls_total") and \
                        self.scrape().value("gvisor_exporter_polls_total") >= 1:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError("exporter not ready: " + self.logs())

    def scrape(self):
        status, body = self.get("/metrics")
        assert status == 200
        return Scrape(body)

    def wait_for(self, predicate, what, timeout=20):
        """Scrapes until predicate(scrape) holds and returns that scrape; fails
        with `what` and the exporter's log after `timeout` seconds."""
        deadline = time.time() + timeout
        while True:
            s = self.scrape()
            if predicate(s):
                return s
            assert time.time() < deadline, f"{what}: not within {timeout}s: " + self.logs()
            time.sleep(0.1)

    def polls(self):
        return self.scrape().value("gvisor_exporter_polls_total")

    def wait_polls(self, n=2, timeout=30):
        """Waits until n more polls completed: the last one started after this call."""
        start = self.polls()
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.scrape()
            if s.value("gvisor_exporter_polls_total") >= start + n:
                return s
            time.sleep(0.05)
        raise TimeoutError("no poll completed: " + self.logs())

    def logs(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case a test left it paused
        stop_process(self.proc, timeout=15)
        self.log.close()
        return self.proc.returncode

    def pause(self):
        """SIGSTOP: the whole exporter stops (its trace reader too)."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def crash(self):
        """SIGKILL: no shutdown path runs (what a node-agent crash leaves behind)."""
        self.proc.kill()
        self.proc.wait()


def scrape_with_stable_total(exporter, runsc, sid, attempts=10):
    """Scrapes a poll taken while `runsc usage` Total stood still (read right
    before and right after it); returns (scrape, that Total)."""
    for _ in range(attempts):
        before = runsc.usage(sid)["Total"]
        s = exporter.wait_polls()
        if runsc.usage(sid)["Total"] == before:
            return s, before
    raise AssertionError(f"memory of sandbox {sid} did not settle")


def smaps_pss_bytes(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    raise ValueError(pid)


def cgroup_file(runsc, sid, controller, name):
    """Reads a file of the sandbox's cgroup (v1: under the controller's mount)."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        path = f"/sys/fs/cgroup/{runsc.cgroup_prefix}/{sid}/{name}"
    else:
        path = f"/sys/fs/cgroup/{controller}/{runsc.cgroup_prefix}/{sid}/{name}"
    with open(path) as f:
        return f.read()


def cgroup_procs(runsc, sid):
    return sorted(int(x) for x in cgroup_file(runsc, sid, "memory", "cgroup.procs").split())


class Prometheus:
    """/usr/bin/prometheus on loopback with a temp config and TSDB, stopped by its PID."""

    def __init__(self, target, rule_files, scrape_configs=None, job="gvisor-exporter"):
        """Scrapes `target` with a plain static job named `job`, or runs the given
        `scrape_configs` instead (e.g. operator_scrape's prometheus-operator job)."""
        self.dir = tempfile.mkdtemp(prefix="gve-prometheus-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": rule_files,
            "scrape_configs": scrape_configs or [{"job_name": job, "static_configs": [{"targets": [target]}]}],
        }
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            yaml.safe_dump(config, f)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def logs(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]

    def get(self, path, **params):
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr):
        """[(labels, value)] of an instant query."""
        data = self.get("/api/v1/query", query=expr)
        assert data["resultType"] == "vector", data
        return [(s["metric"], float(s["value"][1])) for s in data["result"]]

    def query_at(self, expr, at):
        """[(labels, value)] of an instant query evaluated at unix time `at`."""
        data = self.get("/api/v1/query", query=expr, time=f"{at:.3f}")
        assert data["resultType"] == "vector", data
        return [(s["metric"], float(s["value"][1])) for s in data["result"]]

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, "prometheus exited: " + self.logs()
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError("prometheus not ready: " + self.logs())

    def stop(self):
        stop_process(self.proc, timeout=20)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
