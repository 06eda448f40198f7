"""A private containerd (CRI plugin) with a `runc` and a gVisor `runsc` handler.

Everything lives under one temp dir of its own (config, root, state, sockets,
runtime roots, logs). Debian ships no containerd-shim-runsc-v1, so the gVisor
handler is containerd's runc shim with runsc_shim_wrapper.py as its runtime
binary (see that file and /work/shared/reference/containerd-cri.md).

Cleanup is by ownership, never by process name: processes are ours when their
command line names our unique temp dir or our containerd socket (shims carry
`-address <our socket>`), shim sockets are those whose hash derives from our
socket, cgroups are the pod<uid> dirs of the pods we created. A run that died
without cleaning up (pytest killed) is cleaned by the next run: every temp dir
records its creator's pid, and dirs whose creator is gone are swept at start.
"""
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import uuid

from gvisor_env import BUSYBOX, RUNSC, _cgroup_mounts

CONTAINERD = shutil.which("containerd") or "/usr/bin/containerd"
CTR = shutil.which("ctr") or "/usr/bin/ctr"
RUNC = "/usr/sbin/runc"
WRAPPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runsc_shim_wrapper.py")
PAUSE_IMAGE = "localhost/pause:gve-e2e"
BUSYBOX_IMAGE = "localhost/busybox:gve-e2e"
NAMESPACE = "k8s.io"  # containerd namespace of the CRI plugin
PREFIX = "gve-ctrd-"  # temp dirs of this module (the stale-run sweep looks for it)
SHIM_SOCKET_DIR = "/run/containerd/s"
APPLETS = ["sh", "sleep", "cat", "echo", "true", "false", "dd", "head", "ls", "ps", "id", "env",
           "yes", "wc", "mkdir", "rm"]


def installed():
    """Why the CRI e2e tests cannot run here, or None."""
    for path in (CONTAINERD, CTR, RUNC, "/usr/bin/containerd-shim-runc-v2"):
        if not os.access(path, os.X_OK):
            return (f"containerd is not installed ({path} missing): "
                    "scripts/install-deps.sh installs it")
    return None


# ---------------------------------------------------------------- images

def _tar_layer(applets):
    """An uncompressed layer: /bin/busybox plus applet symlinks and the few
    files the runtimes expect. Fixed mtimes keep digests stable across runs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(ti)

        def add_file(name, data, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), mode, 0
            tar.addfile(ti, io.BytesIO(data))

        for d in ("bin", "etc", "tmp", "dev", "proc", "sys", "var", "root"):
            add_dir(d)
        with open(BUSYBOX, "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        for a in applets:
            ti = tarfile.TarInfo("bin/" + a)
            ti.type, ti.linkname, ti.mode, ti.mtime = tarfile.SYMTYPE, "busybox", 0o777, 0
            tar.addfile(ti)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        add_file("etc/group", b"root:x:0:\n")
    return buf.getvalue()


def build_oci_image(path, name, entrypoint, cmd=()):
    """Writes an OCI image layout tarball holding one image called `name`."""
    blobs = {}

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    layer = _tar_layer(APPLETS)
    layer_desc = blob(layer)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/bin"], "Entrypoint": list(entrypoint), "Cmd": list(cmd),
                   "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
    }
    config_desc = blob(json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_desc}],
    }
    manifest_desc = blob(json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
            "platform": {"architecture": "amd64", "os": "linux"},
            # ctr names the imported image after this annotation.
            "annotations": {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]},
        }],
    }
    with tarfile.open(path, "w") as tar:
        def add(name_, data):
            ti = tarfile.TarInfo(name_)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            tar.addfile(ti, io.BytesIO(data))

        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps(index).encode())
        for digest, data in blobs.items():
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    return manifest_desc["digest"]


# ---------------------------------------------------------------- /proc helpers

def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def _pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _start_time(pid):
    """Start time in clock ticks (field 22 of /proc/pid/stat): with the pid it
    names one process, not whoever reuses the pid later."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid, start_time=None):
    st = _start_time(pid)
    return st is not None and (start_time is None or st == start_time)


def _kill(pid, sig=signal.SIGKILL):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _wait_gone(pids, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = [p for p in pids if _alive(p) and not _zombie(p)]
        if not pids:
            return True
        time.sleep(0.05)
    return False


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _mounts_under(path):
    """Mount points at or below `path`, deepest first (/proc/self/mountinfo)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                out.append(mp)
    return sorted(set(out), key=lambda p: -p.count("/"))


# ---------------------------------------------------------------- containerd

CONFIG = """\
version = 2
root = "{d}/root"
state = "{d}/state"
# No `temp`: with containerd's temp dir moved under {d}, runsc sandboxes failed
# to start ("cannot read client sync file: waiting for sandbox to start: EOF").
oom_score = 0
# Plugins that would only print warnings here or keep global state elsewhere.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.tracing.processor.v1.otlp",
                    "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{d}/containerd.sock"

[ttrpc]
  address = "{d}/containerd-ttrpc.sock"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  # This VM lacks CAP_SYS_RESOURCE: without it runc fails with
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_tcp_service = true

  # No network config: the tests use host-network pods, which never call CNI;
  # pods with their own network namespace would fail with "cni plugin not
  # initialized" instead of touching /etc/cni or /var/lib/cni.
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d}/cni-conf"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{runc}"
        Root = "{d}/runc-root"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc.options]
        BinaryName = "{d}/bin/runsc-wrapper"
        Root = "{d}/runsc-root"
"""

LAUNCHER = """\
#!/bin/sh
# The gVisor handler's runtime binary: containerd's runc shim calls this as if
# it were runc. Settings for runsc_shim_wrapper.py travel in the environment.
GVE_WRAPPER_STATE='{d}/wrapper-state' GVE_WRAPPER_LOG='{d}/wrapper.log' \\
GVE_RUNSC='{runsc}' GVE_RUNSC_FLAGS='{flags}' \\
exec {python} '{wrapper}' "$@"
"""


class CriError(RuntimeError):
    pass


class PrivateContainerd:
    """containerd + CRI under a temp dir of its own; see the module doc.

    cri_tool: path of the built gve-cri-tool (CRI calls, pod cleanup).
    runsc_flags: extra runsc flags for every gVisor sandbox (e.g. platform).
    """

    def __init__(self, cri_tool, runsc_flags=(), parent_dir=None):
        sweep_stale_runs(parent_dir)
        self.cri_tool = cri_tool
        self.dir = tempfile.mkdtemp(prefix=PREFIX, dir=parent_dir)
        d = self.dir
        self.sock = os.path.join(d, "containerd.sock")
        self.endpoint = "unix://" + self.sock
        self.runsc_root = os.path.join(d, "runsc-root", NAMESPACE)  # runsc --root of the pods
        self.runc_root = os.path.join(d, "runc-root", NAMESPACE)
        self.log_root = os.path.join(d, "logs")
        self.proc = None
        self.pid = None
        self.pods = {}  # pod id -> config (as given to RunPodSandbox), live pods
        self.all_pod_configs = []  # every pod ever run, removed ones included
        for sub in ("root", "state", "opt", "cni-conf", "bin", "wrapper-state", "logs",
                    "images", "runsc-root", "runc-root", "configs"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        self._write_owner()
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write(CONFIG.format(d=d, pause=PAUSE_IMAGE, runc=RUNC))
        launcher = os.path.join(d, "bin", "runsc-wrapper")
        with open(launcher, "w") as f:
            f.write(LAUNCHER.format(d=d, runsc=RUNSC, flags=" ".join(runsc_flags),
                                    python="/usr/bin/python3",  # Debian's, not a pyenv shim
                                    wrapper=WRAPPER))
        os.chmod(launcher, 0o755)
        # Shared parents: kubepods/ and kubepods/besteffort/ in every cgroup
        # hierarchy, and /run/containerd/s, where containerd 1.6 puts shim
        # sockets whatever its config says. They are removed at the end (rmdir:
        # only when empty) if this run made them, or took them over from a
        # concurrent run of ours that made them and may end first.
        cgroup_parents = [p for m in _cgroup_mounts()
                          for p in (os.path.join(m, "kubepods"),
                                    os.path.join(m, "kubepods", "besteffort"))]
        for kind, paths in (("cgroup-parents", cgroup_parents),
                            ("run-dirs", ["/run/containerd", SHIM_SOCKET_DIR])):
            inherited = _live_runs_record(kind, parent_dir)
            self._record(kind, [p for p in paths if not os.path.exists(p) or p in inherited])

    # -- bookkeeping on disk, so a later run can clean up after a crashed one

    def _write_owner(self):
        me = os.getpid()
        with open(os.path.join(self.dir, "owner.json"), "w") as f:
            json.dump({"pid": me, "start_time": _start_time(me)}, f)

    def _record(self, kind, value):
        with open(os.path.join(self.dir, f"{kind}.json"), "w") as f:
            json.dump(value, f)

    def _record_pod_uid(self, uid):
        with open(os.path.join(self.dir, "pod-uids.txt"), "a") as f:
            f.write(uid + "\n")

    # -- lifecycle

    def start(self, timeout=30):
        """Starts containerd, waits for it, imports the pause and busybox images."""
        self._start_daemon(timeout)
        self._import_images()
        return self

    def _start_daemon(self, timeout):
        log = open(os.path.join(self.dir, "containerd.log"), "ab")
        # Own session: a ^C in the terminal reaches pytest, which then stops
        # containerd in order, instead of killing it mid-cleanup.
        self.proc = subprocess.Popen(
            [CONTAINERD, "--config", os.path.join(self.dir, "config.toml")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.pid = self.proc.pid
        self._record("containerd", {"pid": self.pid, "start_time": _start_time(self.pid)})
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited {self.proc.returncode}: {self.logs()}")
            r = subprocess.run([CTR, "-a", self.sock, "version"], capture_output=True, timeout=10)
            if r.returncode == 0:
                # The CRI service registers after the core; wait for it too.
                if self.cri_tool is None or self.cri("version", check=False).returncode == 0:
                    return
            time.sleep(0.1)
        raise TimeoutError("containerd did not answer: " + self.logs())

    def _import_images(self):
        for name, entry in ((PAUSE_IMAGE, ["/bin/sleep", "infinity"]),
                            (BUSYBOX_IMAGE, ["/bin/sh"])):
            tar = os.path.join(self.dir, "images", name.split("/")[-1].replace(":", "_") + ".tar")
            build_oci_image(tar, name, entry)
            self.ctr("images", "import", "--all-platforms", tar)

    def ctr(self, *args, timeout=60):
        r = subprocess.run([CTR, "-a", self.sock, "-n", NAMESPACE, *args], capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def stop_daemon(self, timeout=15):
        """Stops containerd by its pid, pods and shims untouched (what a crash
        or an upgrade of containerd looks like to the pods)."""
        if self.pid is None:
            return
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.pid = None

    def restart(self, kill=False, timeout=30):
        """containerd down (SIGTERM, or SIGKILL: a crash) and up again on the
        same dirs; pods, shims and sandboxes keep running meanwhile."""
        if kill:
            self.kill_daemon()
        else:
            self.stop_daemon()
        self._start_daemon(timeout)

    def start_daemon(self, timeout=30):
        """Starts containerd again on the same dirs after stop_daemon() or
        kill_daemon() (pods, shims and sandboxes kept running meanwhile)."""
        self._start_daemon(timeout)

    def version(self):
        return self.cri_json("version")

    def stop_pod(self, pod_id):
        """StopPodSandbox only: the pod stays listed, NOTREADY."""
        self.cri("stopp", pod_id, timeout="60s")

    def kill_daemon(self):
        """SIGKILL containerd (by its pid): an unclean crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.pid = None

    def stop(self, keep_dir=False):
        """Removes pods through CRI, stops containerd, then removes everything
        this instance created, whether or not the CRI calls worked."""
        errors = []
        if self.proc is not None and self.proc.poll() is None and self.cri_tool:
            try:
                pods = self.list_pods()
            except Exception as e:  # noqa: BLE001 - cleanup continues regardless
                errors.append(f"ListPodSandbox: {e}")
                pods = []
            for pod in pods:
                for cmd in ("stopp", "rmp"):
                    r = self.cri(cmd, pod["id"], check=False, timeout="30s")
                    if r.returncode != 0:
                        errors.append(r.stderr.strip())
        self.stop_daemon()
        cleanup_dir(self.dir)
        if not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return errors

    def logs(self, name="containerd.log", tail=6000):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return f.read()[-tail:]
        except OSError:
            return ""

    # -- CRI through gve-cri-tool

    def cri(self, *args, check=True, timeout="20s"):
        argv = [self.cri_tool, "--endpoint", self.endpoint, "--timeout", timeout, *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise CriError(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
        return r

    def cri_json(self, *args, **kw):
        return json.loads(self.cri(*args, **kw).stdout)

    def _write_config(self, kind, obj):
        path = os.path.join(self.dir, "configs", f"{kind}-{uuid.uuid4().hex[:12]}.json")
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    def pod_config(self, name, namespace="default", uid=None, labels=None, annotations=None):
        """A kubelet-like config for a host-network pod (CNI is not set up)."""
        uid = uid or str(uuid.uuid4())
        log_dir = os.path.join(self.log_root, f"{namespace}_{name}_{uid}")
        return {
            "metadata": {"name": name, "uid": uid, "namespace": namespace, "attempt": 0},
            "log_directory": log_dir,
            "labels": {"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace,
                       "io.kubernetes.pod.uid": uid, **(labels or {})},
            "annotations": {"kubernetes.io/config.source": "gve-e2e", **(annotations or {})},
            "linux": {
                "cgroup_parent": f"/kubepods/besteffort/pod{uid}",
                "security_context": {"namespace_options": {"network": "NODE", "pid": "CONTAINER",
                                                           "ipc": "POD"}},
            },
        }

    def run_pod(self, config, handler=""):
        """RunPodSandbox; returns the pod id."""
        # The runtimes write pod logs there, and kubelet creates it beforehand.
        os.makedirs(config["log_directory"], exist_ok=True)
        self._record_pod_uid(config["metadata"]["uid"])
        self.all_pod_configs.append(config)
        path = self._write_config("pod", config)
        args = ["runp", path] + (["--runtime-handler", handler] if handler else [])
        pod_id = self.cri(*args, timeout="60s").stdout.strip()
        self.pods[pod_id] = config
        return pod_id

    def container_config(self, name, args=("/bin/sleep", "infinity"), image=BUSYBOX_IMAGE,
                         labels=None, annotations=None, pod_config=None):
        cfg = {
            "metadata": {"name": name, "attempt": 0},
            "image": {"image": image},
            "command": list(args[:1]),
            "args": list(args[1:]),
            "log_path": f"{name}/0.log",
            "labels": {**(labels or {})},
            "annotations": {"io.kubernetes.container.restartCount": "0", **(annotations or {})},
            "linux": {"security_context": {"namespace_options": {"network": "NODE",
                                                                 "pid": "CONTAINER",
                                                                 "ipc": "POD"}}},
        }
        if pod_config:  # the labels kubelet puts on every container
            md = pod_config["metadata"]
            cfg["labels"].update({"io.kubernetes.pod.name": md["name"],
                                  "io.kubernetes.pod.namespace": md["namespace"],
                                  "io.kubernetes.pod.uid": md["uid"],
                                  "io.kubernetes.container.name": name})
        return cfg

    def run_container(self, pod_id, name, args=("/bin/sleep", "infinity"), **kw):
        """CreateContainer + StartContainer; returns the container id."""
        pod_cfg = self.pods[pod_id]
        cfg = self.container_config(name, args, pod_config=pod_cfg, **kw)
        os.makedirs(os.path.join(pod_cfg["log_directory"], name), exist_ok=True)
        cid = self.cri("create", pod_id, self._write_config("ctr", cfg),
                       self._write_config("pod", pod_cfg), timeout="60s").stdout.strip()
        self.cri("start", cid, timeout="60s")
        return cid

    def list_pods(self):
        return self.cri_json("pods")

    def list_containers(self, pod_id=None):
        return self.cri_json("ps", *(["--pod", pod_id] if pod_id else []))

    def inspect_pod(self, pod_id):
        return self.cri_json("inspectp", pod_id)

    def remove_pod(self, pod_id):
        self.cri("stopp", pod_id, timeout="60s")
        self.cri("rmp", pod_id, timeout="60s")
        self.pods.pop(pod_id, None)


# ---------------------------------------------------------------- cleanup

def _read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def _owned_pids(d, sock):
    """Processes of this instance: anything whose command line names our temp
    dir (containerd --config, runsc sandboxes/gofers with --root, waiters) or
    our socket (shims: `-address <sock>`), plus all their descendants."""
    marker = (d.rstrip("/") + "/").encode()
    roots = set()
    children = {}
    for pid in _pids():
        if pid == os.getpid():
            continue
        argv = _cmdline(pid)
        if any(marker in a or a == marker[:-1] for a in argv):
            roots.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(pid)
        except (OSError, IndexError, ValueError):
            pass
    owned, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in owned:
            continue
        owned.add(p)
        todo.extend(children.get(p, []))
    return owned


def _shim_sockets(d, sock):
    """Shim sockets of this instance. containerd 1.6 names them
    /run/containerd/s/sha256(<grpc address>/<namespace>/<id>); each shim also
    writes its address into its bundle dir."""
    found = set()
    task_dir = os.path.join(d, "state", "io.containerd.runtime.v2.task")
    ids = set()
    for ns in (os.listdir(task_dir) if os.path.isdir(task_dir) else []):
        for cid in os.listdir(os.path.join(task_dir, ns)):
            ids.add((ns, cid))
            addr = os.path.join(task_dir, ns, cid, "address")
            with contextlib.suppress(OSError):
                with open(addr) as f:
                    found.add(f.read().strip().removeprefix("unix://"))
    for ns, cid in ids:
        digest = hashlib.sha256(os.path.join(sock, ns, cid).encode()).hexdigest()
        found.add(os.path.join(SHIM_SOCKET_DIR, digest))
    return {p for p in found if p.startswith(SHIM_SOCKET_DIR + "/")}


def cleanup_dir(d):
    """Removes what the containerd under temp dir `d` left on the host (not
    the dir itself): sandboxes, processes, mounts, shim sockets, cgroups."""
    sock = os.path.join(d, "containerd.sock")
    shim_socks = _shim_sockets(d, sock)  # before the task dirs go away
    # containerd itself first, so it does not restart anything we remove.
    info = _read_json(os.path.join(d, "containerd.json"), {})
    if info.get("pid") and _alive(info["pid"], info.get("start_time")):
        _kill(info["pid"], signal.SIGTERM)
        if not _wait_gone([info["pid"]], 10):
            _kill(info["pid"])
            _wait_gone([info["pid"]], 5)
    # runsc sandboxes of our root: the clean way first (destroys the sandbox,
    # its gofers and the cgroups runsc made).
    runsc_root = os.path.join(d, "runsc-root", NAMESPACE)
    if os.path.isdir(runsc_root):
        r = subprocess.run([RUNSC, "--root", runsc_root, "list", "-format=json"],
                           capture_output=True, text=True, timeout=30)
        ids = [c["id"] for c in (json.loads(r.stdout or "null") or [])] if r.returncode == 0 else []
        for cid in ids:
            subprocess.run([RUNSC, "--root", runsc_root, "kill", "-all", cid, "KILL"],
                           capture_output=True, timeout=30)
        for cid in ids:
            subprocess.run([RUNSC, "--root", runsc_root, "delete", "-force", cid],
                           capture_output=True, timeout=30)
    runc_root = os.path.join(d, "runc-root", NAMESPACE)
    if os.path.isdir(runc_root):
        r = subprocess.run([RUNC, "--root", runc_root, "list", "-q"], capture_output=True,
                           text=True, timeout=30)
        for cid in r.stdout.split() if r.returncode == 0 else []:
            subprocess.run([RUNC, "--root", runc_root, "delete", "--force", cid],
                           capture_output=True, timeout=30)
    # Whatever is still running: shims, waiters, leftover sentries/gofers.
    pids = _owned_pids(d, sock)
    for pid in pids:
        _kill(pid)
    _wait_gone(list(pids), 10)
    for path in _mounts_under(d):
        subprocess.run(["umount", "-l", path], capture_output=True)
    for path in shim_socks:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    # Pod cgroups: kubepods/besteffort/pod<uid> of our pods, deepest first.
    uids = []
    with contextlib.suppress(OSError):
        with open(os.path.join(d, "pod-uids.txt")) as f:
            uids = [u.strip() for u in f if u.strip()]
    for m in _cgroup_mounts():
        for uid in uids:
            pod_dir = os.path.join(m, "kubepods", "besteffort", "pod" + uid)
            if not os.path.isdir(pod_dir):
                continue
            for sub, _, _ in sorted(os.walk(pod_dir), key=lambda x: -len(x[0])):
                with contextlib.suppress(OSError):
                    os.rmdir(sub)
    for kind in ("cgroup-parents", "run-dirs"):
        for parent in sorted(_read_json(os.path.join(d, kind + ".json"), []),
                             key=lambda p: -len(p)):
            with contextlib.suppress(OSError):
                os.rmdir(parent)  # only succeeds when empty: nobody else uses it


def _live_runs_record(kind, parent_dir=None):
    """Union of the `kind` records of the other runs of ours still alive."""
    out = set()
    parent = parent_dir or tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for name in os.listdir(parent):
            d = os.path.join(parent, name)
            owner = _read_json(os.path.join(d, "owner.json")) if name.startswith(PREFIX) else None
            if owner and _alive(owner["pid"], owner.get("start_time")):
                out.update(_read_json(os.path.join(d, kind + ".json"), []))
    return out


def stop_and_list_leftovers(c):
    """Stops `c` (its pods through CRI, then containerd by its PID) and returns what
    must be gone afterwards but is not, noted while containerd still knew it:
    processes, mounts, shim sockets, pod cgroups, its dir, and CRI errors."""
    shim_sockets = _shim_sockets(c.dir, c.sock)
    uids = [cfg["metadata"]["uid"] for cfg in c.all_pod_configs]
    errors = c.stop()
    return {
        "processes": sorted(_owned_pids(c.dir, c.sock)),
        "mounts": _mounts_under(c.dir),
        "shim sockets": sorted(p for p in shim_sockets if os.path.exists(p)),
        "cgroups": [p for m in _cgroup_mounts() for u in uids
                    for p in [os.path.join(m, "kubepods", "besteffort", "pod" + u)]
                    if os.path.exists(p)],
        "dir": [c.dir] if os.path.exists(c.dir) else [],
        "CRI errors": errors,
    }


def sweep_stale_runs(parent_dir=None):
    """Cleans temp dirs of earlier runs whose creating process is gone."""
    parent = parent_dir or tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for name in os.listdir(parent):
            d = os.path.join(parent, name)
            if not name.startswith(PREFIX) or not os.path.isdir(d):
                continue
            owner = _read_json(os.path.join(d, "owner.json"))
            if owner is None:
                # Being created right now, or not ours after all: leave it
                # unless it is old.
                if time.time() - os.path.getmtime(d) < 600:
                    continue
            elif _alive(owner["pid"], owner.get("start_time")):
                continue
            cleanup_dir(d)
            shutil.rmtree(d, ignore_errors=True)
