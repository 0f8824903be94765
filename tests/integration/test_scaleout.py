"""Scale-out across worker hosts (bench/scaleout.py): worker hosts as network namespaces of their own, pulling
from one broker and one PostgreSQL over veth links. Throughput grows with hosts, nothing is processed twice,
and a host that disappears in the middle of its tasks loses nothing. Needs root and iproute2 (CI here runs as
root); skipped elsewhere, where `bench/scaleout.py` is the documented way to run it."""
import os
import shutil

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"), reason="network namespaces need root and iproute2")
def test_worker_hosts_in_namespaces_scale_and_a_vanished_host_loses_nothing(tmp_path):
    from bench.scaleout import run

    results = run(hosts=[1, 2], items=40, delay=0.15, folder=tmp_path)
    for label, check in [*results["checks"].items(), ("vanished", results["host_disappeared"])]:
        assert check["unsettled"] == 0 and check["routed_not_once"] == 0 and check["audit_ok"], (label, results)
    # Two hosts route more items per second than one (their engine calls wait on I/O, as LLM calls do).
    assert results["throughput"][2] > 1.3 * results["throughput"][1], results
    vanished = results["host_disappeared"]
    assert vanished["tasks_cut_off"] >= 1, results  # it really went in the middle of a task
    assert vanished["items"] == 3 * 40
