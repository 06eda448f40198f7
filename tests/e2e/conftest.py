import os
import shutil
import subprocess
import tempfile

import pytest

import containerd_env
import gvisor_env
from containerd_env import PrivateContainerd, stop_and_list_leftovers
from gvisor_env import Exporter, Runsc


def pytest_addoption(parser):
    parser.addoption("--exporter", required=True, help="path to the built gvisor-exporter binary")
    parser.addoption("--runsc", default="/usr/bin/runsc",
                     help="the runsc binary every test uses (default: the system's /usr/bin/runsc)")


def pytest_configure(config):
    # Before collection imports the test modules (they import gvisor_env.RUNSC).
    path = os.path.abspath(config.getoption("--runsc"))
    if os.geteuid() != 0 or not os.access(path, os.X_OK):
        # Never silently: the suite needs root and runsc, which CI has.
        raise pytest.UsageError(f"end-to-end tests need root and runsc ({path}; run scripts/test.sh)")
    gvisor_env.use_runsc(path)


def pytest_report_header(config):
    return f"runsc: {gvisor_env.RUNSC} ({gvisor_env.RUNSC_VERSION})"


@pytest.fixture(scope="session")
def runsc_release():
    """The release date of the runsc under test (int, e.g. 20221219), read once."""
    return gvisor_env.RUNSC_RELEASE


@pytest.fixture(scope="module")
def workdir():
    d = tempfile.mkdtemp(prefix="gve-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def runsc(workdir):
    r = Runsc(workdir, f"gve-e2e-{os.getpid()}-{os.path.basename(workdir)}")
    yield r
    r.cleanup()


@pytest.fixture(scope="module")
def exporter_bin(request):
    return os.path.abspath(request.config.getoption("--exporter"))


@pytest.fixture(scope="module")
def netns(request):
    """A network namespace of the module's own (loopback up), deleted afterwards:
    abstract sockets (a sandbox's control socket) do not cross it."""
    name = f"gve-{os.getpid()}-{request.module.__name__.rsplit('.', 1)[-1][5:17]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def start_exporter(exporter_bin, workdir):
    started = []

    def start(*args, netns=None, binary=None):
        e = Exporter(binary or exporter_bin, workdir, list(args), netns=netns)
        started.append(e)
        return e

    yield start
    for e in started:
        e.stop()


@pytest.fixture(scope="module")
def cri_tool(exporter_bin):
    """gve-cri-tool, the CRI client the tests drive containerd with (built beside the exporter)."""
    path = os.path.join(os.path.dirname(exporter_bin), "gve-cri-tool")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: it is built with the exporter (target gve-cri-tool)")
    return path


@pytest.fixture(scope="module")
def containerd(cri_tool, request):
    """A private containerd (containerd_env.PrivateContainerd) with the runc and runsc
    handlers, for the module. A module may define `edit_containerd_config(text) -> text`
    to change its config.toml before the start (`.config` is its path, `.original_config`
    the text before). On teardown its pods are removed through CRI, containerd is stopped
    by its PID, and nothing of it may be left (processes, mounts, shim sockets, pod
    cgroups, its dir). Fails, never skips, when containerd is not installed: CI has it."""
    missing = containerd_env.installed()
    if missing is not None:
        pytest.fail(missing)
    c = PrivateContainerd(cri_tool)
    c.config = os.path.join(c.dir, "config.toml")
    with open(c.config) as f:
        c.original_config = f.read()
    edit = getattr(request.module, "edit_containerd_config", None)
    if edit is not None:
        with open(c.config, "w") as f:
            f.write(edit(c.original_config))
    leftovers = {}
    try:
        c.start()
        yield c
    finally:
        leftovers = stop_and_list_leftovers(c)
    assert not any(leftovers.values()), f"cleanup left: {leftovers}"
