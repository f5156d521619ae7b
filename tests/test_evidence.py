"""The evidence layer: node commands run on the target, saved beside the report, replayed from it.

A throw-away runbook (registered through K8SRUN_RUNBOOK_MODULES) declares
three node commands — one real (`ip -j route show table all` from the
shared NODE_FACTS), one whose tool does not exist, one whose output its
parser rejects — and one code per command.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from k8srun.evidence import NODE_FACTS, NodeCommand, manual_command
from k8srun.registry import MODULES_ENV
from k8srun.session import REPORT_DIR_ENV, Session

MODULE = textwrap.dedent('''
    import pandas as pd
    from k8srun.evidence import IP_ROUTE, NodeCommand
    from k8srun.model import finding
    from k8srun.registry import CLUSTER, TARGET, TIMEOUT, Runbook

    RUNBOOK = Runbook(name="evidence-probe", description="test runbook", scenario="healthy",
                      parameters=(*CLUSTER, TARGET, TIMEOUT))
    MISSING = NodeCommand("no-such-tool", lambda p: ("k8srun-no-such-tool", "--version"), None,
                          "a tool that is not installed")
    GARBAGE = NodeCommand("echo-garbage", lambda p: ("echo", "not json"), "ip-json-route", "routes (garbled)")
    REQUIRES = {"ROUTE-002": ["ip-route"], "ROUTE-001": ["no-such-tool"], "SYS-001": ["echo-garbage"]}

    def gather(rb):
        return {"routes": rb.node(IP_ROUTE), "missing": rb.node(MISSING), "garbage": rb.node(GARBAGE)}

    def diagnose(*, routes, missing, garbage):
        found = [finding("ROUTE-002", f"{len(routes)} routes")]
        found += [finding("ROUTE-001", "must not survive: its evidence is missing")]
        return found
''')


@pytest.fixture
def probe_runbook(tmp_path, monkeypatch):
    (tmp_path / "k8srun_test_evidence_probe.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(MODULES_ENV, "k8srun_test_evidence_probe")
    return "evidence-probe"


def test_node_commands_run_save_and_replay(probe_runbook, tmp_path, monkeypatch):
    report = tmp_path / "report"
    monkeypatch.setenv(REPORT_DIR_ENV, str(report))
    rb = Session.start(probe_runbook, source="none", target="local", show=False)
    rb.diagnose()
    table = dict(zip(rb.checks_table()["code"], rb.checks_table()["status"]))
    # the real command worked; the missing tool and the garbled output are NOT CHECKED, never OK
    assert table == {"ROUTE-001": "NOT CHECKED", "ROUTE-002": "FOUND", "SYS-001": "NOT CHECKED"}
    reasons = {u.what: u.reason for u in rb.unavailable}
    assert "not found" in reasons["a tool that is not installed (no-such-tool)"]
    assert "cannot parse" in reasons["routes (garbled) (echo-garbage)"]
    # raw outputs beside the report, in bundle layout, with exit code and duration
    host = next((report / "hosts").iterdir())
    meta = json.loads((host / "ip-route.json").read_text())
    assert meta["argv"] == list(NODE_FACTS["ip-route"].build({})[1]) and meta["exit_code"] == 0
    assert "duration_s" in meta and (host / "ip-route.txt").read_bytes()
    recorded = json.loads((report / "k8srun.json").read_text())["recorded"]
    assert recorded["runbook"] == probe_runbook and recorded["target"] == "local"
    assert recorded["commands"] == ["echo-garbage", "ip-route", "no-such-tool"]
    # the report folder is a source: the same commands answer from the recording
    monkeypatch.delenv(REPORT_DIR_ENV)
    replay = Session.start(probe_runbook, source=str(report), show=False)
    replay.diagnose()
    assert replay.target.spec.startswith("replay:")
    assert [f.detail for f in replay.findings] == [f.detail for f in rb.findings]
    assert dict(zip(replay.checks_table()["code"], replay.checks_table()["status"])) == table


def test_a_bundle_without_node_outputs_is_unavailable_not_healthy(probe_runbook):
    rb = Session.start(probe_runbook, source="scenario:healthy", show=False)
    rb.diagnose()
    assert set(rb.checks_table()["status"]) == {"NOT CHECKED"}
    assert any("no recorded node commands" in u.reason for u in rb.unavailable)


def test_manual_command_names_where_it_runs():
    argv = ("ip", "-j", "route", "get", "10.96.0.1")
    assert manual_command(argv, "local") == "ip -j route get 10.96.0.1"
    assert manual_command(argv, "netns:k8l-pod-a") == "ip netns exec k8l-pod-a ip -j route get 10.96.0.1"
    assert manual_command(argv, "ssh:admin@db-1").startswith("ssh admin@db-1 'ip -j route")


def test_command_ids_are_filled_from_parameters():
    probe = NodeCommand("ping-df-{size}", lambda p: ("ping", "-M", "do", "-s", p["size"], p["dest"]), "ping", "probe")
    assert probe.build({"size": 1472, "dest": "10.0.0.1"}) == ("ping-df-1472", ("ping", "-M", "do", "-s", "1472",
                                                                                 "10.0.0.1"))
    assert probe.name == "ping-df"
