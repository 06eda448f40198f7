"""What operators expect of any exporter, on the real binary: process_* metrics
that agree with the kernel's view of the exporter's process.

No sandbox is needed: the exporter runs against an empty runsc root.
"""
import os
import re
import time

import pytest

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def proc_stat(pid):
    """(utime + stime ticks, starttime ticks, vsize, rss pages) of /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state) of proc(5).
    return (int(fields[11]) + int(fields[12]), int(fields[19]), int(fields[20]), int(fields[21]))


def boot_time():
    with open("/proc/stat") as f:
        return int(re.search(r"^btime (\d+)$", f.read(), re.M).group(1))


def soft_limit(pid, name):
    with open(f"/proc/{pid}/limits") as f:
        soft = re.search(rf"^{name}\s+(\S+)", f.read(), re.M).group(1)
    return 2.0 ** 64 - 1 if soft == "unlimited" else float(soft)


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def idle_exporter(start_exporter, workdir):
    # One poll a minute: between polls nothing but the scrape opens a file.
    return start_exporter(f"--runsc.root={workdir}/no-such-root", "--runsc.root-parent=",
                          "--cri.endpoint=", "--poll.interval=60s")


def test_process_metrics_match_proc_of_the_exporter(idle_exporter):
    pid = idle_exporter.proc.pid
    time.sleep(0.5)  # the first poll's workers are done
    for _ in range(20):
        fds_before = open_fds(pid)
        cpu_before, start_ticks, vsize_before, rss_before = proc_stat(pid)
        s = idle_exporter.scrape()
        cpu_after, _, vsize_after, rss_after = proc_stat(pid)
        fds_after = open_fds(pid)
        if fds_before == fds_after:
            break
        time.sleep(0.2)
    assert fds_before == fds_after, "the exporter's fd count never settled"

    # Exact: fixed for the life of the process.
    assert s.value("process_start_time_seconds") == pytest.approx(
        boot_time() + start_ticks / TICKS, abs=1e-6)
    assert s.value("process_max_fds") == soft_limit(pid, "Max open files")
    # The text format carries 16 significant digits (as prometheus-cpp's), so
    # an unlimited 2^64-1 reads back as 1.844674407370955e+19.
    assert s.value("process_virtual_memory_max_bytes") == \
        float(f'{soft_limit(pid, "Max address space"):.16g}')
    # While serving this scrape the exporter holds one more descriptor than when
    # idle: the scrape's own connection.
    assert s.value("process_open_fds") == fds_before + 1
    # Read during the scrape, so between the readings before and after it.
    assert cpu_before / TICKS <= s.value("process_cpu_seconds_total") <= cpu_after / TICKS
    # Memory moves a little while a scrape renders; 1 MiB of slack around the
    # readings taken on either side.
    slack = 1 << 20
    rss = s.value("process_resident_memory_bytes")
    assert min(rss_before, rss_after) * PAGE - slack <= rss <= max(rss_before, rss_after) * PAGE + slack
    vsize = s.value("process_virtual_memory_bytes")
    assert min(vsize_before, vsize_after) - slack <= vsize <= max(vsize_before, vsize_after) + slack

    # Fresh at every scrape: burn CPU in the exporter (scrapes) and see it move.
    first = s.value("process_cpu_seconds_total")
    deadline = time.time() + 30
    while time.time() < deadline:
        value = idle_exporter.scrape().value("process_cpu_seconds_total")
        if value > first:
            break
    assert value > first
    cpu_now = proc_stat(pid)[0] / TICKS
    assert value <= cpu_now


def test_process_metrics_have_client_golang_help_and_types(idle_exporter):
    _, text = idle_exporter.get("/metrics")
    for name, kind, help_text in [
            ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds."),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes."),
            ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes."),
            ("process_virtual_memory_max_bytes", "gauge",
             "Maximum amount of virtual memory available in bytes."),
            ("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds."),
            ("process_open_fds", "gauge", "Number of open file descriptors."),
            ("process_max_fds", "gauge", "Maximum number of open file descriptors.")]:
        assert f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n{name} " in text
