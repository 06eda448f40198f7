#!/usr/bin/python3
"""Builds (optionally) and runs the Containerfile's image the way the DaemonSet runs it.

  check_image.py [--build] [--image localhost/gvisor-exporter:0.1.0]

--build: makes a Debian 12 base image locally (debootstrap --variant=minbase bookworm,
  imported as localhost/gve-debian:bookworm; no registry is reachable) unless it exists,
  then `podman build --build-arg BASE=localhost/gve-debian:bookworm -f Containerfile`
  (about 5 minutes on 2 cores).
Then, with a real gVisor sandbox running, the image's exporter runs with the
DaemonSet's settings -- host PID and network namespaces, uid 0, every capability
dropped except SYS_PTRACE, DAC_OVERRIDE, NET_ADMIN and SYS_NICE, read-only mounts of the runsc root, /proc
(as /host/proc), /sys/fs/cgroup (as /host/sys/fs/cgroup) and the node's runsc -- and
one scrape must show the sandbox with every collector successful, host PSS for the
sentry and the gofer, and no permission errors.

`buildah run` starts it: `podman run` cannot start containers on these machines (its
runtime raises RLIMIT_NOFILE/NPROC, which needs CAP_SYS_RESOURCE the VM lacks).
Everything started is stopped by PID; the working container is removed.
Needs root, podman + buildah (+ debootstrap for --build), runsc, busybox-static.
Exit 0/1. Run: /usr/bin/python3 tests/deploy/check_image.py [--build]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from gvisor_env import Exporter, Runsc  # noqa: E402

BASE = "localhost/gve-debian:bookworm"
# Linux capabilities 0..40. buildah applies --cap-add before --cap-drop, so "drop ALL,
# add two" is spelled as dropping every other capability.
ALL_CAPS = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
            "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
            "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
            "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
            "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
            "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
KEEP = ["SYS_PTRACE", "DAC_OVERRIDE", "NET_ADMIN", "SYS_NICE"]   # the DaemonSet's capabilities.add
CAP_ARGS = " ".join([f"--cap-add CAP_{c}" for c in KEEP] + [f"--cap-drop CAP_{c}" for c in ALL_CAPS if c not in KEEP])
errors = []


def ok(msg):
    print(f"ok   {msg}")


def fail(msg):
    errors.append(msg)
    print(f"FAIL {msg}")


def image_exists(name):
    return subprocess.run(["podman", "image", "exists", name]).returncode == 0


def build(image):
    if not image_exists(BASE):
        d = tempfile.mkdtemp(prefix="gve-debootstrap-", dir="/var/tmp")
        try:
            t0 = time.time()
            subprocess.run(["debootstrap", "--variant=minbase", "bookworm", os.path.join(d, "rootfs"),
                            "http://deb.debian.org/debian"], check=True, stdout=subprocess.DEVNULL)
            tar = subprocess.Popen(["tar", "-C", os.path.join(d, "rootfs"), "-c", "."], stdout=subprocess.PIPE)
            subprocess.run(["podman", "import", "-", BASE], stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL)
            tar.wait()
            ok(f"base image {BASE} made with debootstrap in {time.time() - t0:.0f}s")
        finally:
            shutil.rmtree(d, ignore_errors=True)
    t0 = time.time()
    r = subprocess.run(["podman", "build", "--build-arg", f"BASE={BASE}", "-t", image, "-f",
                        os.path.join(REPO, "Containerfile"), REPO], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"podman build exited {r.returncode}:\n{(r.stdout + r.stderr)[-3000:]}")
        return False
    ok(f"podman build of Containerfile: {image} in {time.time() - t0:.0f}s")
    return True


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
                out += kids
                todo += kids
        except OSError:
            pass
    return out


def run_like_daemonset(image, workdir):
    ctr = f"gve-image-check-{os.getpid()}"
    subprocess.run(["buildah", "from", "--name", ctr, image], check=True, stdout=subprocess.DEVNULL)
    r = Runsc(workdir, f"gve-image-check-{os.getpid()}")
    e = None
    try:
        v = subprocess.run(["buildah", "run", ctr, "--", "/usr/bin/gvisor-exporter", "--version"],
                           capture_output=True, text=True)
        caps = subprocess.run(["buildah", "run", *CAP_ARGS.split(), ctr, "--", "grep", "CapEff", "/proc/self/status"],
                              capture_output=True, text=True).stdout.split()
        want = sum(1 << ALL_CAPS.index(c) for c in KEEP)
        if caps[-1:] != [f"{want:016x}"]:
            fail(f"capabilities in the container: {caps} != {want:016x} ({KEEP})")
            return
        if v.returncode == 0:
            ok(f"image runs: {v.stdout.strip()}")
        else:
            fail(f"image --version: {v.stderr[-500:]}")
            return
        sid = f"gvimg{os.getpid()}"
        r.run_sandbox(sid, pod="imaged", namespace="image-check", uid="u-img")
        runsc_dir = os.path.dirname(os.path.realpath(shutil.which("runsc")))
        wrapper = os.path.join(workdir, "exporter-in-image.sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec buildah run --pid host --network host --user 0:0 "
                    f"{CAP_ARGS} "
                    f"-v {r.root}:{r.root}:ro -v /proc:/host/proc:ro -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro "
                    f"-v {runsc_dir}:/host/runsc-bin:ro {ctr} -- /usr/bin/gvisor-exporter \"$@\"\n")
        os.chmod(wrapper, 0o755)
        e = Exporter(wrapper, workdir, [f"--runsc.root={r.root}", "--runsc.root-parent=",
                                        "--runsc.path=/host/runsc-bin/runsc", "--path.procfs=/host/proc",
                                        "--path.cgroupfs=/host/sys/fs/cgroup", "--poll.interval=1s"])
        s = e.wait_polls(2)
        success = {l["collector"]: v for l, v in s.select("gvisor_exporter_collector_success")}
        pss = {l["role"]: v for l, v in s.select("gvisor_sandbox_host_memory_pss_bytes", sandbox_id=sid)}
        errs = {(l["source"], l["reason"]): v for l, v in s.select("gvisor_exporter_errors_total")}
        path = [l["path"] for l, v in s.select("gvisor_sandbox_stats_path_info", sandbox_id=sid) if v == 1]
        runsc_version = [l["version"] for l, _ in s.select("gvisor_runsc_info")]
        if success and all(v == 1 for v in success.values()) and pss.get("sentry", 0) > 0 \
                and pss.get("gofer", 0) > 0 and not any(r == "permission" for _, r in errs) \
                and path == ["control_socket"] and runsc_version and runsc_version[0]:
            ok(f"exporter in the image with the DaemonSet's privileges (capabilities {'+'.join(KEEP)} only): collectors {sorted(success)} all 1, "
               f"PSS sentry {pss['sentry'] / 2**20:.1f} MiB gofer {pss['gofer'] / 2**20:.1f} MiB, stats via "
               f"{path[0]}, runsc {runsc_version[0]!r}, errors {errs or 'none'}")
        else:
            fail(f"exporter in the image: success={success} pss={pss} errors={errs} path={path} "
                 f"runsc={runsc_version}\n{e.logs()[-1500:]}")
    finally:
        if e:
            kids = descendants(e.proc.pid)
            e.stop()
            for p in kids:  # whatever buildah left of the container process, by its own pid
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        r.cleanup()
        subprocess.run(["buildah", "rm", ctr], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true", help="build the image first (and its base image)")
    ap.add_argument("--image", default="localhost/gvisor-exporter:0.1.0")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("check_image: needs root")
        return 1
    for tool in ("podman", "buildah", "runsc") + (("debootstrap",) if args.build else ()):
        if not shutil.which(tool):
            fail(f"{tool} not installed (Debian package {tool})")
    if errors:
        return 1
    t0 = time.time()
    if args.build and not build(args.image):
        return 1
    if not image_exists(args.image):
        fail(f"image {args.image} not found: run with --build")
        return 1
    d = tempfile.mkdtemp(prefix="gve-image-check-")
    try:
        run_like_daemonset(args.image, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(f"check_image: {'FAILED' if errors else 'passed'} ({len(errors)} errors, {time.time() - t0:.0f}s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
