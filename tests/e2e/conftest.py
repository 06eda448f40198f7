import os
import shutil
import subprocess
import tempfile

import pytest

import gvisor_env
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

    def start(*args, netns=None):
        e = Exporter(exporter_bin, workdir, list(args), netns=netns)
        started.append(e)
        return e

    yield start
    for e in started:
        e.stop()
