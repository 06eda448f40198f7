"""End-to-end: control socket unreachable -> CLI fallback, then no path at all.

runsc 20221219's control socket is an abstract unix socket, which exists only in
the host's network namespace. An exporter started in a private network
namespace therefore cannot reach it: a real "dead socket". Its runsc CLI
fallback is pointed at a wrapper that runs the real runsc back in the host
namespace, so the fallback path is exercised for real. From runsc 20230920 the
socket is a file in the root, reachable from any network namespace: it is
hidden (Runsc.hide_control_socket) and the wrapper's runsc sees it through a
private mount namespace.
"""
import os
import shlex

import pytest

from gvisor_env import RUNSC, control_socket_is_file, scrape_with_stable_total

N = os.getpid()
SF = f"gvef{N}"



@pytest.fixture(scope="module")
def fallback_sandbox(runsc, runsc_release):
    runsc.run_sandbox(SF, pod="fallback", namespace="shop", uid="uid-f")
    if control_socket_is_file(runsc_release):
        runsc.hide_control_socket(SF)
    return runsc


@pytest.fixture
def host_runsc(workdir, fallback_sandbox):
    path = os.path.join(workdir, "runsc-in-host-netns")
    # This test process stays in the host network namespace while it runs.
    with open(path, "w") as f:
        reach = shlex.join(fallback_sandbox.reach_argv() + [RUNSC])
        f.write(f'#!/bin/sh\nexec nsenter --net=/proc/{os.getpid()}/ns/net -- {reach} "$@"\n')
    os.chmod(path, 0o755)
    return path


def test_cli_fallback_serves_when_the_socket_is_unreachable(fallback_sandbox, netns, host_runsc,
                                                           start_exporter):
    e = start_exporter(f"--runsc.root={fallback_sandbox.root}", "--runsc.root-parent=",
                       f"--runsc.path={host_runsc}", "--poll.interval=500ms", netns=netns)
    s = e.wait_polls()
    assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=SF, path="cli") == 1
    s, before = scrape_with_stable_total(e, fallback_sandbox, SF)
    assert s.value("gvisor_sandbox_memory_total_bytes", sandbox_id=SF) == before
    assert s.sum("gvisor_exporter_errors_total", source="control_socket") >= 1
    assert s.value("gvisor_exporter_collector_success", collector="control_socket") == 0
    # The CLI has no per-container CPU split: none is invented.
    assert not s.select("gvisor_container_cpu_seconds_total", sandbox_id=SF)
    # Host-side figures do not depend on the socket.
    assert s.value("gvisor_sandbox_host_processes", sandbox_id=SF, role="sentry") == 1


def test_no_path_at_all_still_exports_the_host_side(fallback_sandbox, netns, start_exporter):
    e = start_exporter(f"--runsc.root={fallback_sandbox.root}", "--runsc.root-parent=",
                       "--poll.interval=500ms", netns=netns)
    s = e.wait_polls()
    assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=SF, path="none") == 1
    assert not s.select("gvisor_sandbox_memory_total_bytes", sandbox_id=SF)
    assert s.value("gvisor_sandbox_host_processes", sandbox_id=SF, role="sentry") == 1
    assert s.sum("gvisor_exporter_errors_total", source="cli") >= 1
    assert e.get("/healthz")[0] == 200
