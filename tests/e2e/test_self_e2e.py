"""What operators expect of any exporter, on the real binary: process_* metrics
that agree with the kernel's view of the exporter's process, and structured
logs (--log.format=json: one JSON object per line, fields of their own; the
default logfmt with the same fields).

No sandbox is needed: the exporter runs against an empty runsc root (plus, for
the log tests, one with a bad state file so that an error is logged).
"""
import json
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
    # Counted after each poll (listing fd/ costs ~0.6 us per descriptor and the
    # exporter keeps ~11 per sandbox open): the idle count, without the
    # scrape's own connection.
    assert s.value("process_open_fds") == fds_before
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


# --- logs ---------------------------------------------------------------------

LOGFMT_PAIR = re.compile(r'([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?: |$)')


def parse_logfmt(line):
    out, pos = {}, 0
    while pos < len(line):
        m = LOGFMT_PAIR.match(line, pos)
        assert m, f"not logfmt at {pos}: {line!r}"
        key, value = m.groups()
        if value.startswith('"'):
            out[key] = json.loads(value)
        else:
            try:
                out[key] = json.loads(value)
                if isinstance(out[key], str):
                    out[key] = value
            except ValueError:
                out[key] = value
        pos = m.end()
    return out


def exporter_log_lines(exporter):
    exporter.stop()  # flushes and closes the log
    with open(exporter.log.name, "rb") as f:
        return f.read().decode("utf-8").splitlines()  # strict: must be valid UTF-8


@pytest.fixture
def bad_root(workdir):
    """A root whose name needs quoting (space, quote, backslash) holding a state
    file whose name is not a valid id: one runsc_state error to log."""
    root = os.path.join(workdir, 'root "q\\ x')
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "bad id_sandbox:x.state"), "w") as f:
        f.write("{}")
    return root


def run_and_collect(start_exporter, root, log_format):
    e = start_exporter(f"--runsc.root={root}", "--runsc.root-parent=", "--cri.endpoint=",
                       "--poll.interval=200ms", "--log.level=debug", f"--log.format={log_format}")
    e.wait_polls(2)
    return exporter_log_lines(e)


def error_record(records):
    errors = [r for r in records if r.get("source") == "runsc_state"]
    assert len(errors) == 1, f"rate limit: one line for the repeated error, got {errors}"
    return errors[0]


def test_json_logs_are_one_object_per_line_with_fields(start_exporter, bad_root):
    lines = run_and_collect(start_exporter, bad_root, "json")
    records = [json.loads(line) for line in lines]  # every line, no exceptions
    ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    for r in records:
        assert ts.match(r["ts"]), r
        assert r["level"] in ("debug", "info", "warn", "error"), r
        assert isinstance(r["msg"], str) and r["msg"], r
        assert "=" not in r["msg"].split(" ")[0], f"logfmt inside msg: {r}"
    listening = [r for r in records if r["msg"] == "gvisor-exporter listening"]
    assert len(listening) == 1
    assert listening[0]["level"] == "info"
    assert listening[0]["poll_interval_ms"] == 200  # a number, not a string
    assert listening[0]["caller"].startswith("exporter/app/run.cc:")
    err = error_record(records)
    assert err["level"] == "warn"
    assert err["reason"] == "invalid"
    assert err["subject"] == os.path.join(bad_root, "bad id_sandbox:x.state")
    assert err["msg"] == "invalid id in state file name"


def test_logfmt_logs_carry_the_same_fields(start_exporter, bad_root):
    records = [parse_logfmt(line) for line in run_and_collect(start_exporter, bad_root, "logfmt")]
    for r in records:
        assert list(r)[:4] in (["ts", "caller", "level", "msg"], ["ts", "level", "msg"]), r
    err = error_record(records)
    assert (err["level"], err["reason"], err["msg"]) == ("warn", "invalid",
                                                         "invalid id in state file name")
    assert err["subject"] == os.path.join(bad_root, "bad id_sandbox:x.state")
    listening = [r for r in records if r["msg"] == "gvisor-exporter listening"]
    assert listening and listening[0]["poll_interval_ms"] == 200


def test_log_level_warn_drops_info(start_exporter, bad_root):
    e = start_exporter(f"--runsc.root={bad_root}", "--runsc.root-parent=", "--cri.endpoint=",
                       "--poll.interval=200ms", "--log.level=warn", "--log.format=json")
    e.wait_polls(2)
    records = [json.loads(line) for line in exporter_log_lines(e)]
    assert {r["level"] for r in records} == {"warn"}, records
