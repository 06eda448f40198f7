"""End-to-end: per-interface network counters of a sandbox's network stack
(containerManager.Event's network_interfaces, runsc >= 2023).

Ground truth: `runsc events -stats`, the CLI's own read of the same sentry
figures, taken right after a poll with no traffic in between. On 20240729 a
sandbox without a pod network (--network=none, and --network=host too) lists
only `lo`, whose counters the sentry leaves at 0; nonzero counters need a pod
network (--network=sandbox with the pod's veth), which this suite does not set
up. What is covered: the interface set, every counter equal to the CLI's, and
no series at all on 20221219, whose Event has no network_interfaces.
"""
import json
import os

N = os.getpid()
HOST, NONE = f"gvneth{N}", f"gvnetn{N}"
FIELDS = {  # our metric suffix -> the sentry's field
    "receive_bytes_total": "RxBytes", "receive_packets_total": "RxPackets",
    "receive_errors_total": "RxErrors", "receive_packets_dropped_total": "RxDropped",
    "transmit_bytes_total": "TxBytes", "transmit_packets_total": "TxPackets",
    "transmit_errors_total": "TxErrors", "transmit_packets_dropped_total": "TxDropped",
}


def served(scrape, sid):
    out = {}
    for suffix in FIELDS:
        for labels, v in scrape.select(f"gvisor_sandbox_network_{suffix}", sandbox_id=sid):
            out.setdefault(labels["interface"], {})[suffix] = v
    return out


def test_interface_counters_equal_runsc_events(runsc, start_exporter, runsc_release):
    runsc.run_sandbox(HOST, pod="net-host", namespace="net", uid="uid-nh", network="host")
    runsc.run_sandbox(NONE, pod="net-none", namespace="net", uid="uid-nn", network="none")
    e = start_exporter(f"--runsc.root={runsc.root}", "--runsc.root-parent=", "--poll.interval=300ms")
    s = e.wait_polls(n=2)
    for sid in (HOST, NONE):
        event = json.loads(runsc.cmd("events", "-stats", sid).splitlines()[0])
        cli = event["data"].get("network_interfaces")
        if runsc_release < 20230101:
            assert cli is None, event  # 20221219: nothing reported, nothing guessed
            assert served(s, sid) == {}
            continue
        assert [i["Name"] for i in cli] == ["lo"], cli
        got = served(s, sid)
        assert set(got) == {"lo"}, got
        for suffix, field in FIELDS.items():
            assert got["lo"][suffix] == cli[0].get(field, 0), (sid, suffix)
