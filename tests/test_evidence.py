"""The evidence layer: node commands run on the target, saved beside the report, replayed from it.

A throw-away runbook (registered through K8SRUN_RUNBOOK_MODULES) declares
three node commands — one real (`ip -j route show table all` from the
shared NODE_FACTS), one whose tool does not exist, one whose output its
parser rejects — and one code per command.
"""

from __future__ import annotations

import json
import textwrap

import pandas as pd
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


# -- one declaration per command: a recording of one runbook replays in another -------------------------

#: values for the placeholders of parameterised commands
SAMPLE = {"dest": "192.0.2.10", "size": 1400, "dev": "vxlan0", "other": "192.0.2.20", "vxlan_port": 8472,
          "peer_pod_ip": "10.244.2.10", "pod_pid": 4242}


def _declared_commands() -> list[tuple[str, NodeCommand]]:
    """(where, command) for every NodeCommand of the evidence module and of every registered checks module."""
    from k8srun import evidence, registry

    found = [("k8srun.evidence", c) for c in vars(evidence).values() if isinstance(c, NodeCommand)]
    for book in registry.all_runbooks():
        found += [(book.name, c) for c in vars(book.checks).values() if isinstance(c, NodeCommand)]
    return found


def test_one_command_id_names_one_argv_and_one_argv_one_declaration():
    """The rule of k8srun.evidence: the same id never names two argv, and the same argv is declared once —
    except a re-read at another moment, whose id is the first read's plus ``-after-<moment>`` (mtu's probes)."""
    by_id: dict[str, set[tuple[str, ...]]] = {}
    by_argv: dict[tuple[str, ...], set[str]] = {}
    for where, command in _declared_commands():
        command_id, argv = command.build(SAMPLE)
        by_id.setdefault(command_id, set()).add(argv)
        by_argv.setdefault(argv, set()).add(command_id)
    assert {cid: argvs for cid, argvs in by_id.items() if len(argvs) > 1} == {}
    for argv, ids in by_argv.items():
        first = min(ids, key=len)
        assert all(cid == first or cid.startswith(first + "-after-") for cid in ids), (argv, ids)


def test_ip_route_get_is_declared_once_for_both_runbooks():
    from k8srun.checks import mtu, routing
    from k8srun.evidence import ROUTE_GET

    assert routing.ROUTE_GET is ROUTE_GET and mtu.ROUTE_GET is ROUTE_GET
    assert ROUTE_GET.build(SAMPLE) == ("ip-route-get-192.0.2.10", ("ip", "-j", "route", "get", "192.0.2.10"))
    assert mtu.ROUTE_AFTER.build(SAMPLE) == ("ip-route-get-192.0.2.10-after-probes", ROUTE_GET.build(SAMPLE)[1])
    assert mtu.ROUTE_AFTER.name != ROUTE_GET.name  # a failed re-read does not unmake the first read


def test_a_result_parser_reads_stderr_and_the_exit_code(tmp_path, monkeypatch):
    monkeypatch.delenv(REPORT_DIR_ENV, raising=False)
    said = NodeCommand("said-on-stderr", lambda p: ("sh", "-c", "echo answer >&2; exit 2"), None, "stderr answer",
                       accept_exit=(0, 2), columns=("said", "exit_code"),
                       result_parser=lambda r: pd.DataFrame([{"said": r.stderr.strip(), "exit_code": r.exit_code}]))
    rb = Session.start("routing-sysctl", source="none", target="local", show=False)
    assert rb.node(said).to_dict("records") == [{"said": "answer", "exit_code": 2}]
    assert said.name not in rb.missing_evidence and rb.unavailable == []
    # without one, the parser sees stdout only (as before)
    plain = NodeCommand("echo-route", lambda p: ("echo", "[]"), "ip-json-route", "routes")
    assert rb.node(plain).empty and plain.name not in rb.missing_evidence


def test_an_ipv6_destination_makes_a_valid_command_id_and_keeps_its_address_in_the_argv():
    from k8srun.evidence import ROUTE_GET
    from k8srun.targets import valid_command_id

    command_id, argv = ROUTE_GET.build({"dest": "FD00::1"})
    assert valid_command_id(command_id) == "ip-route-get-fd00__1"
    assert argv == ("ip", "-j", "route", "get", "FD00::1")
    assert ROUTE_GET.build({"dest": "10.0.0.1"})[0] == "ip-route-get-10.0.0.1"  # recorded ids unchanged
