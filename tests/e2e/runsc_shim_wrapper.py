#!/usr/bin/python3
"""runsc behind containerd's runc shim (io.containerd.runc.v2, BinaryName=us).

Debian ships no containerd-shim-runsc-v1, so tests run gVisor pods through the
runc shim, which calls its runtime binary exactly like runc:
  <us> --root R --log B/log.json --log-format json <command> [options] <id>
This wrapper turns those calls into runsc calls and papers over the three
places where runsc does not behave like runc (verified with runsc 20221219):

1. Network: runsc's default --network=sandbox fails here ("cannot run with
   network enabled in root network namespace"). A host-network pod (no network
   namespace in the OCI spec) gets --network=none, a pod with its own netns
   gets --network=host (its netns, used directly).
2. App containers: `runsc start` hands its own stdout/stderr to the app, and
   runsc writes the SANDBOX pid into every container's --pid-file. The shim
   would wait forever for EOF on `start`'s output and never see the app exit.
   So `create` forks a waiter per app container: it keeps the container's
   stdio (the shim's pipes) open, and once the container is started runs
   `runsc wait <id>` and exits with the app's status. The waiter's pid goes
   into the pid file (the shim, a child subreaper, reaps it), and `start`
   runs `runsc start` with the waiter's stdio instead of its own.
3. Error wording: the shim's kill/delete paths look for runc's phrases
   ("container not running", "does not exist"); runsc's differ ("sandbox is
   not running", "cannot signal container ... in state created", "loading
   container: file does not exist"). They are translated here. A created but
   never started app container has no process to signal in runsc: its waiter
   gets the signal instead, which is what runc's kill of a created init does.

Configuration (set by the launcher PrivateContainerd writes):
  GVE_RUNSC        runsc binary (default /usr/bin/runsc)
  GVE_RUNSC_FLAGS  extra global runsc flags, space separated
  GVE_WRAPPER_STATE  dir for per-container records (waiter pids)
  GVE_WRAPPER_LOG  file that gets one line per call (debugging)
"""
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

RUNSC = os.environ.get("GVE_RUNSC", "/usr/bin/runsc")
EXTRA_FLAGS = os.environ.get("GVE_RUNSC_FLAGS", "").split()
STATE_DIR = os.environ.get("GVE_WRAPPER_STATE", "/run/gve-runsc-wrapper")
LOG = os.environ.get("GVE_WRAPPER_LOG", "")

# Global flags (runc's, as go-runc passes them) that take a value.
VALUE_FLAGS = {"--root", "--log", "--log-format", "--criu", "-root", "-log", "-log-format"}
WAITER_MODE = "--gve-waiter"


def log(msg):
    if not LOG:
        return
    with contextlib.suppress(OSError):
        with open(LOG, "a") as f:
            f.write(f"{time.strftime('%H:%M:%S')} [{os.getpid()}] {msg}\n")


def split_argv(argv):
    """-> (global flags, command, command args)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            return argv[:i], a, argv[i + 1:]
        i += 2 if (a in VALUE_FLAGS and "=" not in a) else 1
    return argv, None, []


def global_value(flags, name):
    for i, a in enumerate(flags):
        for form in ("--" + name, "-" + name):
            if a == form and i + 1 < len(flags):
                return flags[i + 1]
            if a.startswith(form + "="):
                return a.split("=", 1)[1]
    return None


def last_positional(args, value_opts=()):
    """The container id: the last argument that is neither an option nor an
    option's value."""
    pos, i = [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("-"):
            i += 2 if (a.lstrip("-") in value_opts and "=" not in a) else 1
            continue
        pos.append(a)
        i += 1
    return pos


def option_value(args, name):
    for i, a in enumerate(args):
        if a in ("--" + name, "-" + name) and i + 1 < len(args):
            return args[i + 1]
        for form in ("--" + name + "=", "-" + name + "="):
            if a.startswith(form):
                return a[len(form):]
    return None


def record_path(cid):
    return os.path.join(STATE_DIR, cid + ".json")


def load_record(cid):
    try:
        with open(record_path(cid)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_atomic(path, text):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def waiter_alive(rec):
    """The recorded waiter, if that very process still runs (pids get reused)."""
    pid = rec.get("waiter") if rec else None
    return pid if pid and start_time(pid) == rec.get("waiter_start") else None


def run_runsc(flags, *args, stdin=None, stdout=None, stderr=None, timeout=120):
    argv = [RUNSC, *flags, *args]
    return subprocess.run(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=stderr if stderr is not None else subprocess.STDOUT,
                          timeout=timeout)


def fail(text, code=1):
    """Exit like runc would: the shim reads our output for the reason."""
    sys.stderr.write(text.rstrip("\n") + "\n")
    log(f"  -> exit {code}: {text.strip()[:300]}")
    sys.exit(code)


def translate(text):
    """runsc's error wording -> the runc phrases the shim looks for."""
    low = text.lower()
    if "does not exist" in low or "no such file" in low or "not found" in low:
        return "container does not exist: " + text.strip()
    if ("not running" in low or "in state stopped" in low or "no such process" in low
            or "already exited" in low or "already finished" in low):
        return "container not running: " + text.strip()
    return text


def network_flag(bundle):
    """--network for a sandbox from its OCI spec (see the module doc, 1.)."""
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    nss = (spec.get("linux") or {}).get("namespaces") or []
    own_netns = any(ns.get("type") == "network" for ns in nss)
    return spec, ("--network=host" if own_netns else "--network=none")


# ---------------------------------------------------------------- commands

def cmd_create(flags, args):
    bundle = option_value(args, "bundle") or os.getcwd()
    pid_file = option_value(args, "pid-file")
    cid = last_positional(args, {"bundle", "b", "pid-file", "console-socket"})[-1]
    spec, net = network_flag(bundle)
    ann = spec.get("annotations") or {}
    runsc_flags = [*flags, net, *EXTRA_FLAGS]
    os.makedirs(STATE_DIR, exist_ok=True)
    if ann.get("io.kubernetes.cri.container-type") != "container":
        # The pod's sandbox (pause) container: runsc's own behaviour is right,
        # the sandbox pid in the pid file is the process that exits with it.
        # Its network flag is remembered: `runsc start` sets up the network.
        write_atomic(record_path(cid), json.dumps({"net": net}))
        log(f"create sandbox {cid}: runsc {' '.join(runsc_flags)} create {' '.join(args)}")
        os.execv(RUNSC, [RUNSC, *runsc_flags, "create", *args])

    # The waiter holds the shim's stdio pipes (our fds 0-2) from now on and
    # waits for SIGUSR1 from `start`; block it before fork so none is lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    waiter = os.fork()
    if waiter == 0:
        os.closerange(3, 65536)
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), WAITER_MODE,
                                  *flags, "--", cid])
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
    rec = {"net": net, "waiter": waiter, "waiter_start": None,
           "sandbox": ann.get("io.kubernetes.cri.sandbox-id")}
    for _ in range(100):  # /proc/<pid>/stat exists right after fork
        rec["waiter_start"] = start_time(waiter)
        if rec["waiter_start"] is not None:
            break
        time.sleep(0.01)
    write_atomic(record_path(cid), json.dumps(rec))

    # runsc's own pid file would name the sandbox: it goes elsewhere.
    own_args = list(args)
    if pid_file:
        idx = [i for i, a in enumerate(own_args) if a.lstrip("-").startswith("pid-file")][0]
        if "=" in own_args[idx]:
            own_args[idx] = "--pid-file=" + pid_file + ".runsc"
        else:
            own_args[idx + 1] = pid_file + ".runsc"
    # runsc create must not keep the container's stdio (a gofer inheriting
    # it would hold the pipes past the container's life).
    r = run_runsc(runsc_flags, "create", *own_args)
    out = r.stdout.decode(errors="replace")
    log(f"create container {cid} (waiter {waiter}): exit {r.returncode} {out.strip()[:300]}")
    if r.returncode != 0:
        os.kill(waiter, signal.SIGKILL)
        os.waitpid(waiter, 0)
        with contextlib.suppress(OSError):
            os.unlink(record_path(cid))
        fail(out or "runsc create failed", r.returncode)
    if pid_file:
        write_atomic(pid_file, str(waiter))
    # Exiting orphans the waiter; the shim, a child subreaper, adopts and
    # reaps it, and reports its exit status as the container's.
    sys.exit(0)


def with_net(flags, cid):
    """Global flags for a call about `cid`: runsc wants the flags the
    container was created with (`start` of a sandbox sets up its network)."""
    rec = load_record(cid)
    return [*flags, *([rec["net"]] if rec and rec.get("net") else []), *EXTRA_FLAGS]


def cmd_start(flags, args):
    cid = last_positional(args)[-1]
    rec = load_record(cid)
    flags = with_net(flags, cid)
    if not rec or not rec.get("waiter"):  # the sandbox container: nothing to fix up
        os.execv(RUNSC, [RUNSC, *flags, "start", *args])
    waiter = waiter_alive(rec)
    if waiter is None:
        fail(f"container {cid}: its waiter process is gone")
    # The app gets the container's stdio, the waiter's fds 0-2 (opening
    # /proc/<pid>/fd/N opens the very same pipe or file).
    stdio = []
    try:
        for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
            stdio.append(os.open(f"/proc/{waiter}/fd/{fd}", mode))
    except OSError as e:
        fail(f"container {cid}: cannot reach its stdio: {e}")
    r = run_runsc(flags, "start", *args, stdin=stdio[0], stdout=stdio[1],
                  stderr=stdio[2])
    for fd in stdio:
        os.close(fd)
    log(f"start container {cid}: exit {r.returncode}")
    if r.returncode != 0:
        fail(f"runsc start {cid} failed (exit {r.returncode}); see the container log",
             r.returncode)
    os.kill(waiter, signal.SIGUSR1)
    sys.exit(0)


def runsc_state(flags, cid):
    r = run_runsc(flags, "state", cid, stderr=subprocess.PIPE)
    if r.returncode != 0:
        return None, (r.stderr or r.stdout).decode(errors="replace")
    try:
        return json.loads(r.stdout), ""
    except ValueError as e:
        return None, str(e)


def cmd_kill(flags, args):
    pos = last_positional(args, {"pid"})
    cid, sig = pos[0], (pos[1] if len(pos) > 1 else "SIGTERM")
    flags = with_net(flags, cid)
    r = run_runsc(flags, "kill", *args)
    out = r.stdout.decode(errors="replace")
    log(f"kill {cid} {sig}: exit {r.returncode} {out.strip()[:200]}")
    if r.returncode == 0:
        sys.exit(0)
    state, _ = runsc_state(flags, cid)
    rec = load_record(cid)
    if state and state.get("status") == "created":
        # runc would signal the created init process; ours is the waiter (app
        # containers) or the sandbox process (the pod's own container).
        signum = int(sig) if sig.isdigit() else int(getattr(signal, sig if sig.startswith(
            "SIG") else "SIG" + sig))
        target = waiter_alive(rec) if rec and rec.get("waiter") else state.get("pid")
        if target and target > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, signum)
            log(f"  created: sent {signum} to {target}")
            sys.exit(0)
    fail(translate(out or "runsc kill failed"), r.returncode or 1)


def cmd_delete(flags, args):
    cid = last_positional(args)[-1]
    flags = with_net(flags, cid)
    r = run_runsc(flags, "delete", *args)
    out = r.stdout.decode(errors="replace")
    log(f"delete {cid}: exit {r.returncode} {out.strip()[:200]}")
    rec = load_record(cid)
    if r.returncode != 0 and rec and rec.get("waiter") and "sandbox is not running" in out.lower():
        # App container of a sandbox that is already gone: runsc refuses, but
        # nothing is left to delete except its state file; --force removes it.
        r = run_runsc(flags, "delete", "--force", cid)
        out = r.stdout.decode(errors="replace")
        log(f"  retried with --force: exit {r.returncode} {out.strip()[:200]}")
    waiter = waiter_alive(rec)
    if waiter:  # only if the app never ran or runsc lost it
        with contextlib.suppress(ProcessLookupError):
            os.kill(waiter, signal.SIGKILL)
    if r.returncode != 0:
        fail(translate(out or "runsc delete failed"), r.returncode)
    with contextlib.suppress(OSError):
        os.unlink(record_path(cid))
    sys.exit(0)


def cmd_state(flags, args):
    cid = last_positional(args)[-1]
    state, err = runsc_state(with_net(flags, cid), cid)
    if state is None:
        fail(translate(err or "runsc state failed"))
    waiter = waiter_alive(load_record(cid))
    if waiter:  # the process the shim knows as the container's init
        state["pid"] = waiter
    sys.stdout.write(json.dumps(state, indent=2))
    sys.exit(0)


def cmd_ps(flags, args):
    """runc prints a JSON list of pids; runsc prints process records."""
    cid = last_positional(args, {"format", "f"})[-1]
    fmt = option_value(args, "format") or option_value(args, "f") or "table"
    if fmt != "json":
        os.execv(RUNSC, [RUNSC, *with_net(flags, cid), "ps", *args])
    r = run_runsc(with_net(flags, cid), "ps", "--format=json", cid, stderr=subprocess.PIPE)
    if r.returncode != 0:
        fail(translate((r.stderr or r.stdout).decode(errors="replace")), r.returncode)
    # runsc 20221219 already prints a list of pids; newer releases may print
    # process records. Either way: pids as the sandbox sees them (gVisor's
    # processes have no host pids).
    procs = json.loads(r.stdout or b"null") or []
    sys.stdout.write(json.dumps([p["PID"] if isinstance(p, dict) else p for p in procs]))
    sys.exit(0)


def waiter_main(argv):
    """Waiter of one app container (see the module doc, 2.)."""
    sep = argv.index("--")
    flags, cid = argv[:sep], argv[sep + 1]
    # SIGUSR1 is blocked (inherited mask) until `start` has succeeded; if the
    # container is never started we are killed instead.
    signal.sigwait({signal.SIGUSR1})
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
    r = subprocess.run([RUNSC, *flags, "wait", cid], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        status = int(json.loads(r.stdout)["exitStatus"])
    except (ValueError, KeyError, TypeError):
        log(f"waiter {cid}: runsc wait exit {r.returncode}: "
            f"{(r.stdout + r.stderr).decode(errors='replace').strip()[:300]}")
        status = 128 + signal.SIGKILL  # what the shim would report for a killed init
    log(f"waiter {cid}: container exited {status}")
    # runsc reports a signal death as 128+signal, like the shim does.
    os._exit(status & 0xff)


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == WAITER_MODE:
        waiter_main(argv[1:])
    flags, command, args = split_argv(argv)
    log(f"{command} {' '.join(args)}")
    handlers = {"create": cmd_create, "start": cmd_start, "kill": cmd_kill,
                "delete": cmd_delete, "state": cmd_state, "ps": cmd_ps}
    if command in handlers:
        handlers[command](flags, args)
    # Everything else (exec, pause, resume, events, update, ...) as is.
    pos = last_positional(args, {"process", "p", "pid-file", "console-socket", "format", "f",
                                 "cwd", "user", "u", "env", "e"})
    if pos:
        flags = with_net(flags, pos[0])
    else:
        flags = [*flags, *EXTRA_FLAGS]
    os.execv(RUNSC, [RUNSC, *flags, *([command] if command else []), *args])


if __name__ == "__main__":
    main()
