#!/usr/bin/python3
"""Checks deploy/containerd on the real programs: containerd 1.6 and runsc.

1. config.toml: the handlers runsc, runsc-kvm, runsc-ptrace (runtime_type
   io.containerd.runsc.v1, known keys only, ConfigPath naming a runsc*.toml of this
   directory) and the same handlers as the RuntimeClasses of
   deploy/kubernetes/examples/runtimeclasses.yaml.
2. runsc*.toml: the shim's keys only; every [runsc_config] key is a flag of the
   installed runsc (`runsc flags`); platform and network values are valid.
3. A real containerd 1.6 loads the snippet: `containerd --config <merged> config dump`
   of a private base config plus config.toml's tables shows the three runtimes with
   their ConfigPath and keeps the base settings; the same file then STARTS a private
   containerd (own root, state, sockets; stopped by its PID) whose CRI plugin is ok.
   Also shown: with `imports = [config.toml]` instead, containerd 1.6 drops the main
   file's CRI settings (why config.toml says to paste, not import).
4. pod-init.json / pod-init-errors.json: what make-pod-init.py writes; every point is
   one the installed runsc knows (`runsc trace metadata`); a real sandbox started with
   --pod-init-config=<it> starts without a listener (ignore_setup_error) and, with a
   listener on the endpoint, streams raw syscall events (type 6) after the handshake;
   and, when the exporter binary (--exporter, default build/gvisor-exporter) has
   --syscalls.listen, the exporter in listen mode counts the syscalls of sandboxes
   started with either file (errors by errno only with pod-init-errors.json).

Needs root, containerd (Debian package containerd), runsc (runsc) and busybox-static.
Exit 0 when all hold, 1 otherwise. Run: /usr/bin/python3 tests/deploy/check_containerd.py
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tomllib

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(REPO, "deploy", "containerd")
RUNTIMECLASSES = os.path.join(REPO, "deploy", "kubernetes", "examples", "runtimeclasses.yaml")
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

HANDLERS = {"runsc", "runsc-kvm", "runsc-ptrace"}
RUNTIME_KEYS = {"runtime_type", "runtime_path", "runtime_engine", "runtime_root", "pod_annotations",
                "container_annotations", "privileged_without_host_devices", "base_runtime_spec",
                "cni_conf_dir", "cni_max_conf_num", "options", "snapshotter"}
OPTION_KEYS = {"TypeUrl", "ConfigPath"}
SHIM_KEYS = {"binary_name", "root", "log_path", "log_level", "shim_cgroup", "runsc_config"}
PLATFORMS = {"ptrace", "kvm", "systrap"}
NETWORKS = {"sandbox", "host", "none"}
POD_INIT_PATH = "/etc/gvisor-exporter/pod-init.json"

errors = []


def ok(msg):
    print(f"ok   {msg}")


def fail(msg):
    errors.append(msg)
    print(f"FAIL {msg}")


def load_toml(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def runtimes_of(cfg):
    return cfg["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]


# ----------------------------------------------------------------------------- 1, 2 static
def check_config_toml():
    cfg = load_toml(os.path.join(HERE, "config.toml"))
    if cfg.get("version") != 2:
        fail("config.toml: version must be 2 (containerd 1.6 config format)")
    rts = runtimes_of(cfg)
    if set(rts) != HANDLERS:
        fail(f"config.toml: runtimes {sorted(rts)} != {sorted(HANDLERS)}")
    for name, rt in rts.items():
        if rt.get("runtime_type") != "io.containerd.runsc.v1":
            fail(f"config.toml: {name}: runtime_type {rt.get('runtime_type')!r}")
        if set(rt) - RUNTIME_KEYS:
            fail(f"config.toml: {name}: unknown keys {sorted(set(rt) - RUNTIME_KEYS)}")
        opts = rt.get("options", {})
        if set(opts) - OPTION_KEYS or opts.get("TypeUrl") != "io.containerd.runsc.v1.options":
            fail(f"config.toml: {name}: options {opts}")
        cp = opts.get("ConfigPath", "")
        if not cp.startswith("/etc/containerd/") or not os.path.exists(os.path.join(HERE, os.path.basename(cp))):
            fail(f"config.toml: {name}: ConfigPath {cp!r} is not /etc/containerd/<a runsc*.toml of deploy/containerd>")
    with open(RUNTIMECLASSES) as f:
        handlers = {d["handler"] for d in yaml.safe_load_all(f) if d}
    if handlers != set(rts):
        fail(f"RuntimeClass handlers {sorted(handlers)} != config.toml runtimes {sorted(rts)}")
    if not errors:
        ok(f"config.toml: handlers {sorted(rts)}, each with its runsc.toml; RuntimeClasses match")
    return cfg


def runsc_flags():
    r = subprocess.run(["runsc", "flags"], capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr  # runsc prints its flags to stderr
    return {line.split()[0].lstrip("-") for line in out.splitlines() if line.startswith("  -")}


def check_runsc_tomls():
    flags = runsc_flags()
    if len(flags) < 20:
        fail(f"`runsc flags` listed only {len(flags)} flags")
        return
    version = subprocess.run(["runsc", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    names = sorted(n for n in os.listdir(HERE) if n.startswith("runsc") and n.endswith(".toml"))
    for n in names:
        doc = load_toml(os.path.join(HERE, n))
        n0 = len(errors)
        if set(doc) - SHIM_KEYS:
            fail(f"{n}: unknown shim keys {sorted(set(doc) - SHIM_KEYS)}")
        if doc.get("root") != "/run/containerd/runsc":
            fail(f"{n}: root {doc.get('root')!r}: the exporter's DaemonSet reads /run/containerd/runsc")
        rc = doc.get("runsc_config", {})
        unknown = [k for k in rc if k not in flags]
        if unknown:
            fail(f"{n}: [runsc_config] keys that are not runsc flags: {unknown}")
        if rc.get("platform") not in PLATFORMS:
            fail(f"{n}: platform {rc.get('platform')!r}")
        if rc.get("network") not in NETWORKS:
            fail(f"{n}: network {rc.get('network')!r}")
        for k, v in rc.items():
            if not isinstance(v, str):
                fail(f"{n}: [runsc_config] {k} = {v!r}: values must be strings (they become --{k}=<value>)")
        if "pod-init-config" in rc and rc["pod-init-config"] != POD_INIT_PATH:
            fail(f"{n}: pod-init-config {rc['pod-init-config']!r} != {POD_INIT_PATH}")
        if len(errors) == n0:
            note = " (systrap: needs runsc >= 20230417; installed: " + version + ")" \
                if rc.get("platform") == "systrap" and "0.0~2022" in version else ""
            ok(f"{n}: keys are runsc flags; platform={rc.get('platform')} network={rc.get('network')}{note}")
    syscalls = load_toml(os.path.join(HERE, "runsc-syscalls.toml")).get("runsc_config", {})
    if syscalls.get("pod-init-config") != POD_INIT_PATH:
        fail(f"runsc-syscalls.toml must set pod-init-config = {POD_INIT_PATH!r}")
    for n in ("runsc.toml", "runsc-kvm.toml", "runsc-ptrace.toml"):
        with open(os.path.join(HERE, n)) as f:
            if f'# pod-init-config = "{POD_INIT_PATH}"' not in f.read():
                fail(f"{n}: the commented pod-init-config line is missing")


# ----------------------------------------------------------------------------- 3 containerd
BASE = """version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd-ttrpc.sock"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:gve-check"
  restrict_oom_score_adj = true
  disable_apparmor = true
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
"""


def fragment_tables():
    """config.toml without its `version` line: what a user pastes into their config."""
    with open(os.path.join(HERE, "config.toml")) as f:
        return "".join(line for line in f if not line.startswith("version"))


def config_dump(path):
    r = subprocess.run(["containerd", "--config", path, "config", "dump"], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"containerd config dump exited {r.returncode}: {r.stderr[-1000:]}")
    return tomllib.loads(r.stdout)


def check_containerd(d):
    if not shutil.which("containerd"):
        fail("containerd not installed (Debian package containerd)")
        return
    version = subprocess.run(["containerd", "--version"], capture_output=True, text=True).stdout.strip()
    merged = os.path.join(d, "merged.toml")
    with open(merged, "w") as f:
        f.write(BASE.format(d=d) + fragment_tables())
    try:
        dump = config_dump(merged)
    except (RuntimeError, tomllib.TOMLDecodeError) as e:
        fail(f"containerd config dump of base + config.toml: {e}")
        return
    rts = runtimes_of(dump)
    cri = dump["plugins"]["io.containerd.grpc.v1.cri"]
    n0 = len(errors)
    for h in HANDLERS:
        rt = rts.get(h, {})
        if rt.get("runtime_type") != "io.containerd.runsc.v1" or \
                not rt.get("options", {}).get("ConfigPath", "").startswith("/etc/containerd/runsc"):
            fail(f"containerd config dump: runtime {h} missing or incomplete: {rt}")
    if "runc" not in rts or cri.get("sandbox_image") != "localhost/pause:gve-check":
        fail("containerd config dump: the base config's CRI settings were lost")
    if len(errors) == n0:
        ok(f"{version}: `config dump` of base + config.toml has runtimes {sorted(set(rts) & HANDLERS)} + runc")

    # imports: containerd 1.6 replaces the main file's CRI table with the imported one.
    imp = os.path.join(d, "imports.toml")
    with open(imp, "w") as f:
        f.write(BASE.format(d=d).replace("version = 2\n", f'version = 2\nimports = ["{HERE}/config.toml"]\n', 1))
    dump2 = config_dump(imp)
    cri2 = dump2["plugins"]["io.containerd.grpc.v1.cri"]
    lost = "runc" not in runtimes_of(dump2) and cri2.get("sandbox_image") != "localhost/pause:gve-check"
    if lost and HANDLERS <= set(runtimes_of(dump2)):
        ok("with imports = [config.toml], containerd 1.6 drops the main file's CRI settings "
           "(as config.toml warns): paste the tables instead")
    else:
        fail("imports behaviour differs from what config.toml says (main CRI settings kept?): update its comment")

    # A real start with the merged file.
    log = open(os.path.join(d, "containerd.log"), "wb")
    proc = subprocess.Popen(["containerd", "--config", merged], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT)
    sock = os.path.join(d, "containerd.sock")
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            if proc.poll() is not None:
                break
            if subprocess.run(["ctr", "-a", sock, "version"], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        out = subprocess.run(["ctr", "-a", sock, "plugins", "ls"], capture_output=True, text=True, timeout=30).stdout
        cri_line = [line for line in out.splitlines() if line.split()[:2] == ["io.containerd.grpc.v1", "cri"]]
        if cri_line and cri_line[0].split()[-1] == "ok":
            ok(f"a private containerd (pid {proc.pid}) started with base + config.toml: CRI plugin ok")
        else:
            with open(log.name, errors="replace") as f:
                fail(f"containerd with base + config.toml: CRI plugin not ok: {cri_line}\n{f.read()[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


# ----------------------------------------------------------------------------- 4 pod-init
def check_pod_init(d, exporter_bin):
    gen = subprocess.run([sys.executable, os.path.join(HERE, "make-pod-init.py"), "--check"],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        fail(gen.stdout.strip())
    meta = subprocess.run(["runsc", "trace", "metadata"], capture_output=True, text=True, timeout=30).stdout
    # "Name: syscall/sysno/0/enter, optional fields: [...], context fields: [...|container_id|...]"
    known = {}
    for line in meta.splitlines():
        if line.startswith("Name: "):
            name = line[len("Name: "):].split(",", 1)[0]
            known[name] = line.rsplit("context fields: [", 1)[-1].rstrip("]").split("|")
    configs = {}
    for fname, exits in (("pod-init.json", False), ("pod-init-errors.json", True)):
        with open(os.path.join(HERE, fname)) as f:
            configs[fname] = json.load(f)
        ts = configs[fname]["trace_session"]
        want = []
        for n in range(442):
            want.append({"name": f"syscall/sysno/{n}/enter", "context_fields": ["container_id"]})
            if exits:
                want.append({"name": f"syscall/sysno/{n}/exit"})
        if ts["name"] != "Default" or ts["points"] != want or ts["sinks"] != [
                {"name": "remote", "config": {"endpoint": "/run/gvisor-exporter/syscalls.sock", "retries": 0},
                 "ignore_setup_error": True}]:
            fail(f"{fname}: not the Default session of raw syscall points (container_id) to the exporter's socket")
            return
        missing = [p["name"] for p in ts["points"] if p["name"] not in known or
                   any(c not in known[p["name"]] for c in p.get("context_fields", []))]
        if missing:
            fail(f"{fname}: points unknown to the installed runsc: {missing[:5]}...")
        else:
            ok(f"{fname}: {len(ts['points'])} points, all listed by `runsc trace metadata` with their context fields")

    from gvisor_env import Exporter, Runsc  # noqa: E402 - tests/e2e helpers: everything torn down by PID
    r = Runsc(os.path.join(d, "runsc"), f"gve-deploy-check-{os.getpid()}")

    def local_config(fname, endpoint):
        cfg = json.loads(json.dumps(configs[fname]))
        cfg["trace_session"]["sinks"][0]["config"]["endpoint"] = endpoint
        path = os.path.join(d, f"{endpoint.replace('/', '_')}-{fname}")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    sock = os.path.join(d, "syscalls.sock")
    local = local_config("pod-init.json", sock)
    loop = ["/bin/sh", "-c", "while true; do cat /nonexistent 2>/dev/null; sleep 0.2; done"]
    srv = exporter = None
    try:
        sid = f"gvpi{os.getpid()}"
        r.run_sandbox(sid, pod="p", namespace="n", uid="u1", args=loop, flags=[f"--pod-init-config={local}"])
        if r.state(sid)["status"] == "running":
            ok("a sandbox with pod-init.json starts while nothing listens on the endpoint")
        else:
            fail("a sandbox with pod-init.json and no listener is not running")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        srv.bind(sock)
        srv.listen(4)
        srv.settimeout(20)
        got = {"handshake": None, "types": []}

        def serve():
            try:
                c, _ = srv.accept()
                got["handshake"] = c.recv(4096)
                c.send(b"\x08\x01")  # Handshake{version=1}
                c.settimeout(1)
                end = time.time() + 3
                while time.time() < end and len(got["types"]) < 50:
                    try:
                        pkt = c.recv(65536)
                    except socket.timeout:
                        continue
                    if len(pkt) >= 8:
                        got["types"].append(struct.unpack("<HHI", pkt[:8])[1])
                c.close()
            except OSError as e:
                got["error"] = str(e)
        th = threading.Thread(target=serve, daemon=True)
        th.start()
        sid2 = f"gvpj{os.getpid()}"
        r.run_sandbox(sid2, pod="p2", namespace="n", uid="u2", args=loop, flags=[f"--pod-init-config={local}"])
        th.join(25)
        if got["handshake"] == b"\x08\x01" and got["types"] and set(got["types"]) == {6}:
            ok(f"a sandbox with pod-init.json connects to a listener, handshakes and streams raw syscall "
               f"events ({len(got['types'])} received, type 6)")
        else:
            fail(f"pod-init.json with a listener: handshake={got['handshake']!r} types={got['types'][:10]} "
                 f"{got.get('error', '')}")
        if '"Default"' not in r.cmd("trace", "list", sid2):
            fail("runsc trace list shows no Default session")

        # The exporter in listen mode, as the DaemonSet runs it (--syscalls.listen).
        helptext = subprocess.run([exporter_bin, "--help"], capture_output=True, text=True).stdout \
            if exporter_bin else ""
        if "--syscalls.listen" not in helptext:
            print(f"     (listen mode with the exporter not checked: {exporter_bin or 'no exporter binary'} "
                  "has no --syscalls.listen)")
            return
        esock = os.path.join(d, "exporter-syscalls.sock")
        exporter = Exporter(exporter_bin, d, [f"--runsc.root={r.root}", "--runsc.root-parent=", "--poll.interval=1s",
                                              f"--syscalls.listen={esock}",
                                              f"--syscalls.record-file={d}/trace-sessions.json"])
        sids = {}
        for fname in configs:
            s3 = f"gvpk{len(sids)}{os.getpid()}"
            r.run_sandbox(s3, pod=f"listen-{len(sids)}", namespace="n", uid=f"u3{len(sids)}", args=loop,
                          flags=[f"--pod-init-config={local_config(fname, esock)}"])
            sids[fname] = s3
        deadline = time.time() + 30
        while True:
            s = exporter.scrape()
            calls = {f: s.sum("gvisor_container_syscalls_total", sandbox_id=x) for f, x in sids.items()}
            errs = {f: s.sum("gvisor_container_syscall_errors_total", sandbox_id=x) for f, x in sids.items()}
            active = {f: s.select("gvisor_sandbox_syscall_session_state", sandbox_id=x, mode="listen",
                                  state="active") for f, x in sids.items()}
            enoent = s.sum("gvisor_container_syscall_errors_total", sandbox_id=sids["pod-init-errors.json"],
                           errno="ENOENT")
            # Wait for ENOENT itself: the shell's first failing calls (e.g. ECHILD from wait) can be counted
            # one poll before the first `cat /nonexistent` exits.
            if all(calls.values()) and enoent > 0 and all(a and a[0][1] == 1 for a in active.values()):
                break
            if time.time() > deadline:
                fail(f"exporter in listen mode: syscalls={calls} errors={errs} active={active}\n{exporter.logs()}")
                return
            time.sleep(0.5)
        if errs["pod-init.json"] != 0 or enoent <= 0:
            fail(f"errors: enter-only config should give none ({errs['pod-init.json']}); "
                 f"enter+exit config ENOENT ({enoent}) from cat /nonexistent")
        else:
            ok(f"gvisor-exporter --syscalls.listen counts the syscalls of sandboxes started with pod-init.json "
               f"({calls['pod-init.json']:.0f}) and pod-init-errors.json ({calls['pod-init-errors.json']:.0f} "
               f"calls, {enoent:.0f} ENOENT); sessions active in listen mode")
    finally:
        if exporter:
            exporter.stop()
        r.cleanup()
        if srv:
            srv.close()


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exporter", default=os.path.join(REPO, "build", "gvisor-exporter"),
                    help="gvisor-exporter binary for the listen-mode check (default: build/gvisor-exporter)")
    args = ap.parse_args()
    exporter_bin = args.exporter if args.exporter and os.access(args.exporter, os.X_OK) else None
    if os.geteuid() != 0:
        print("check_containerd: needs root (containerd, runsc)")
        return 1
    for tool in ("runsc", "ctr", "containerd"):
        if not shutil.which(tool):
            fail(f"{tool} not installed (Debian packages: runsc, containerd)")
    if errors:
        print("check_containerd: FAILED")
        return 1
    t0 = time.time()
    check_config_toml()
    check_runsc_tomls()
    d = tempfile.mkdtemp(prefix="gve-deploy-ctd-")
    try:
        check_containerd(d)
        check_pod_init(d, exporter_bin)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(f"check_containerd: {'FAILED' if errors else 'passed'} ({len(errors)} errors, {time.time() - t0:.1f}s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
