"""`k8srun run` end to end: papermill executes the runbook, the report and findings.json appear."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from k8srun.cli import main as cli_main
from k8srun import registry
from k8srun.registry import MODULES_ENV
from k8srun.report import EXIT_CANNOT_RUN, EXIT_CELL_FAILED, EXIT_FAIL_ON, EXIT_OK, load_parameters
from k8srun.sources import scenarios_dir
from throwaway import write_runbook

pytestmark = pytest.mark.slow

K8SRUN = [sys.executable, "-m", "k8srun.cli"]
# Files `kubectl cluster-info dump --output-directory` writes; everything else is k8srun's addition.
KUBECTL_FILES = {"nodes", "events", "replication-controllers", "services", "daemonsets",
                 "deployments", "replicasets", "pods"}


def run(*args, cwd=None):
    return subprocess.run([*K8SRUN, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def codes(path: Path) -> set[str]:
    return {f["code"] for f in json.loads(path.read_text())["findings"]}


def scenario(name: str) -> dict:
    return yaml.safe_load((scenarios_dir() / name / "scenario.yaml").read_text())


def plain_dump(scenario_name: str, dest: Path, fmt: str = "json") -> Path:
    """Copy a scenario down to exactly what `kubectl cluster-info dump` writes (in json or yaml)."""
    src = scenarios_dir() / scenario_name
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if path.is_dir():
            continue
        if path.name == "logs.txt":
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest / rel)
        elif path.suffix == ".json" and path.stem in KUBECTL_FILES and (len(rel.parts) == 2 or rel.stem == "nodes"):
            out = (dest / rel).with_suffix("." + fmt)
            out.parent.mkdir(parents=True, exist_ok=True)
            data = json.loads(path.read_text())
            out.write_text(json.dumps(data) if fmt == "json" else yaml.safe_dump(data))
    return dest


@pytest.mark.parametrize("runbook", registry.names())
def test_every_runbook_runs_on_its_scenario_and_reports_its_codes(runbook, tmp_path):
    result = run("run", runbook, "--out", str(tmp_path), "--no-progress")
    assert result.returncode == EXIT_OK, result.stderr
    own = scenario(registry.get(runbook).scenario)
    expected = set(own["expected_codes"])
    found = codes(tmp_path / f"{runbook}.findings.json")
    assert expected <= found, f"missing {expected - found}"
    assert not found & set(own.get("absent_codes") or [])
    html = (tmp_path / f"{runbook}.html").read_text()
    executed = nbformat.read(tmp_path / f"{runbook}.ipynb", as_version=4)
    first_section = next(c.source for c in executed.cells
                         if c.cell_type == "markdown" and c.source.startswith("## "))
    heading = first_section.splitlines()[0][3:].strip()
    # the findings table comes before the first evidence section; code is hidden
    assert html.index("k8srun-findings") < html.index(heading)
    assert "Session.start(" not in html
    assert f"report: {tmp_path / (runbook + '.html')}" in result.stdout


def test_findings_json_matches_the_spec_shape(tmp_path):
    assert run("run", "pod-pending", "--out", str(tmp_path), "--no-progress").returncode == 0
    document = json.loads((tmp_path / "pod-pending.findings.json").read_text())
    assert set(document) == {"runbook", "source", "parameters", "captured_at", "k8srun_version", "findings",
                             "not_checked", "verdicts", "redaction", "unavailable", "error"}
    assert document["redaction"]["status"].startswith("on") and isinstance(document["redaction"]["counts"], dict)
    assert {v["verdict"] for v in document["verdicts"]} == {"FOUND"}  # every waiting pod of the scenario explained
    assert document["runbook"] == "pod-pending" and document["source"] == "scenario:pod-pending"
    assert document["parameters"]["namespace"] == "shop" and document["not_checked"] == []
    assert document["captured_at"].startswith("2026-11-20") and document["error"] is None
    findings = document["findings"]
    assert findings and all(
        set(f) >= {"code", "severity", "title", "detail", "evidence", "remedy", "runbook"} for f in findings)
    severities = [f["severity"] for f in findings]
    order = ["critical", "error", "warning", "info"]
    assert severities == sorted(severities, key=order.index)


def test_pod_pending_on_a_plain_kubectl_dump_in_json_and_yaml(tmp_path):
    for fmt in ("json", "yaml"):
        dump = plain_dump("pod-pending", tmp_path / f"dump-{fmt}", fmt)
        out = tmp_path / f"report-{fmt}"
        result = run("run", "pod-pending", "-p", "source", str(dump), "-p", "namespace", "shop",
                     "--out", str(out), "--no-progress")
        assert result.returncode == 0, result.stderr
        found = codes(out / "pod-pending.findings.json")
        # PVCs are not in a plain dump: PEND-004 comes from the scheduler's message and the claim's
        # ProvisioningFailed event, and the report says the PVC objects were missing
        assert {"PEND-001", "PEND-002", "PEND-003", "PEND-004", "PEND-005"} <= found
        assert "persistentvolumeclaims not in this bundle" in (out / "pod-pending.html").read_text()
        partly = {r["code"]: r for r in json.loads((out / "pod-pending.findings.json").read_text())["not_checked"]}
        assert partly["PEND-004"]["partly"] and "pvcs" in partly["PEND-004"]["reason"]


def test_triage_on_a_plain_dump_ranks_what_it_has_and_says_what_it_could_not_check(tmp_path):
    dump = plain_dump("triage", tmp_path / "dump")
    result = run("run", "triage", "-p", "source", str(dump), "--out", str(tmp_path / "out"), "--no-progress")
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "triage.findings.json").read_text())
    assert any("NotReady" in f["detail"] for f in document["findings"])  # nodes and pods are in a plain dump
    partly = {row["code"]: row for row in document["not_checked"]}
    assert partly["TRIAGE-001"]["partly"] and "endpoints" in partly["TRIAGE-001"]["reason"]
    assert "1 check(s) ran only in part: TRIAGE-001" in result.stdout


def test_relative_source_and_kubeconfig_resolve_against_the_callers_folder(tmp_path):
    """papermill runs the kernel elsewhere; `-p source ./dump` and KUBECONFIG=kc.yaml still mean the caller's files."""
    plain_dump("pod-pending", tmp_path / "dump")
    result = run("run", "pod-pending", "-p", "source", "./dump", "-p", "namespace", "shop",
                 "--out", "out", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "PEND-001" in codes(tmp_path / "out" / "pod-pending.findings.json")
    (tmp_path / "kc.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}]}))
    env = {**os.environ, "KUBECONFIG": "kc.yaml"}
    live = subprocess.run([*K8SRUN, "run", "pod-pending", "-p", "source", "live", "-p", "timeout_s", "2",
                           "--out", "live", "--no-progress"], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)
    # the relative KUBECONFIG was found and read: the one-line error names its server, not a missing file
    assert live.returncode == 2 and "https://127.0.0.1:9 unreachable" in live.stderr, live.stderr


def test_bad_source_exits_non_zero_with_one_line_naming_the_parameter(tmp_path):
    result = run("run", "pod-crashloop", "-p", "source", "/nonexistent", "--out", str(tmp_path))
    assert result.returncode == EXIT_CANNOT_RUN
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "parameter 'source'" in lines[0] and "/nonexistent" in lines[0]
    assert not (tmp_path / "pod-crashloop.ipynb").exists()


def test_injection_in_namespace_is_rejected_before_anything_runs(tmp_path):
    result = run("run", "pod-crashloop", "-p", "namespace", "x;rm -rf /", "--out", str(tmp_path))
    assert result.returncode == EXIT_CANNOT_RUN
    assert "parameter 'namespace': not a valid DNS-1123 label" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_parameter_and_unknown_runbook(tmp_path):
    result = run("run", "pod-pending", "-p", "nmespace", "shop", "--out", str(tmp_path))
    assert result.returncode == EXIT_CANNOT_RUN and "has no such parameter" in result.stderr
    result = run("run", "no-such-runbook", "--out", str(tmp_path))
    assert result.returncode == EXIT_CANNOT_RUN and "no runbook 'no-such-runbook'" in result.stderr


def test_fail_on_exits_3_only_at_or_above_the_severity(tmp_path):
    assert run("run", "pod-pending", "--fail-on", "error", "--out", str(tmp_path / "a"),
               "--no-progress").returncode == EXIT_FAIL_ON
    assert run("run", "pod-pending", "--fail-on", "critical", "--out", str(tmp_path / "b"),
               "--no-progress").returncode == EXIT_OK


def test_list_names_the_pod_runbooks():
    result = run("list")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"pod-pending", "pod-crashloop", "triage"} <= set(names)


def test_parameters_file_and_yaml_values(tmp_path):
    params_file = tmp_path / "p.yaml"
    params_file.write_text("namespace: shop\ntimeout_s: 5\n")
    merged = load_parameters([str(params_file)], [["timeout_s", "7"], ["names", "[a, b]"], ["pod", ""]])
    assert merged == {"namespace": "shop", "timeout_s": 7, "names": ["a", "b"], "pod": ""}


def test_source_none_runs_and_says_cluster_sections_were_skipped(tmp_path):
    result = run("run", "pod-pending", "-p", "source", "none", "--out", str(tmp_path), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "skipped" in (tmp_path / "pod-pending.html").read_text()
    # no cluster means nothing was looked at: no finding may come from the empty tables ...
    assert codes(tmp_path / "pod-pending.findings.json") == set()
    # ... and every check says it could not run, in findings.json and on the last lines
    document = json.loads((tmp_path / "pod-pending.findings.json").read_text())
    assert {row["code"] for row in document["not_checked"]} == {f"PEND-00{i}" for i in range(1, 7)}
    assert all("evidence unavailable" in row["reason"] for row in document["not_checked"])
    assert "6 check(s) could not run" in result.stdout
    strict = run("run", "pod-pending", "-p", "source", "none", "--fail-on-unchecked", "--out", str(tmp_path / "s"),
                 "--no-progress")
    assert strict.returncode == EXIT_FAIL_ON, strict.stdout + strict.stderr
    healthy = run("run", "pod-pending", "-p", "source", "scenario:healthy", "--fail-on-unchecked",
                  "--out", str(tmp_path / "h"), "--no-progress")
    assert healthy.returncode == EXIT_OK, healthy.stdout + healthy.stderr


def _write_runbook(books: Path, name: str, *cells: str, monkeypatch) -> None:
    """A throw-away runbook: notebook plus a registry module (K8SRUN_RUNBOOK_MODULES) importable from books."""
    module = write_runbook(books, name, *cells)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(books), os.environ.get("PYTHONPATH", "")])))
    monkeypatch.setenv(MODULES_ENV, ",".join(filter(None, [os.environ.get(MODULES_ENV, ""), module])))
    monkeypatch.syspath_prepend(str(books))


def test_a_dead_kernel_still_writes_a_report_with_what_was_found(tmp_path, monkeypatch):
    books = tmp_path / "books"
    books.mkdir()
    _write_runbook(books, "dies",
                   "from k8srun.session import Session\nfrom k8srun.model import finding\n"
                   "rb = Session.start('dies', source=source)\n"
                   "rb.add([finding('PEND-006', 'found before the kernel died')])",
                   "import os\nos._exit(1)", monkeypatch=monkeypatch)
    monkeypatch.setenv("K8SRUN_RUNBOOKS_DIR", str(books))
    out = tmp_path / "out"
    assert cli_main(["run", "dies", "--out", str(out), "--no-progress"]) == EXIT_CELL_FAILED
    assert codes(out / "dies.findings.json") == {"PEND-006"}
    assert "stopped early" in (out / "dies.html").read_text()


def test_a_failing_cell_still_writes_a_report_that_shows_where(tmp_path, monkeypatch):
    books = tmp_path / "books"
    books.mkdir()
    _write_runbook(books, "broken",
                   "from k8srun.session import Session\nfrom k8srun.model import finding\n"
                   "rb = Session.start('broken', source=source)\n"
                   "rb.add([finding('PEND-006', 'found before the failure')])",
                   "raise RuntimeError('gatherer exploded')", monkeypatch=monkeypatch)
    monkeypatch.setenv("K8SRUN_RUNBOOKS_DIR", str(books))
    out = tmp_path / "out"
    assert cli_main(["run", "broken", "--out", str(out), "--no-progress"]) == EXIT_CELL_FAILED
    assert codes(out / "broken.findings.json") == {"PEND-006"}
    html = (out / "broken.html").read_text()
    assert "stopped early" in html and "gatherer exploded" in html


def test_parameters_file_runs_the_no_ready_nodes_scenario(tmp_path):
    root = Path(__file__).resolve().parents[1]
    result = run("run", "pod-pending", "-f", str(root / "parameters" / "pod-pending" / "no-ready-nodes.yaml"),
                 "--out", str(tmp_path), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert codes(tmp_path / "pod-pending.findings.json") == set(scenario("pending-no-nodes")["expected_codes"])


@pytest.mark.parametrize("runbook", registry.names())
def test_the_healthy_cluster_gives_no_error_in_any_runbook(runbook, tmp_path):
    result = run("run", runbook, "-p", "source", "scenario:healthy",
                 "--fail-on", "warning", "--out", str(tmp_path), "--no-progress")
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    assert not codes(tmp_path / f"{runbook}.findings.json") & set(scenario("healthy")["absent_codes"])


def test_findings_json_says_how_many_values_each_redaction_rule_hid(tmp_path):
    from bundles import write_bundle

    root = write_bundle(tmp_path / "b")
    log = root / "default" / "api-7f9c" / "logs.txt"
    log.write_text(log.read_text().replace("==== END logs for container app",
                                           "connecting with password=Hunter2Secret99\n==== END logs for container app", 1))
    result = run("run", "pod-crashloop", "-p", "source", str(root), "-p", "namespace", "default",
                 "--out", str(tmp_path / "out"), "--no-progress")
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "pod-crashloop.findings.json").read_text())
    assert sum(document["redaction"]["counts"].values()) >= 1, document["redaction"]
    assert "Hunter2Secret99" not in (tmp_path / "out" / "pod-crashloop.html").read_text()


@pytest.mark.parametrize("runbook", ["pod-crashloop", "pod-pending"])
def test_capture_then_replay_without_a_namespace_finds_what_the_scenario_shows(runbook, tmp_path):
    """The README's flow: capture a cluster (here: `k8srun serve` of the scenario), run on the capture with no
    -p namespace. Every namespace is looked at, so the findings are the scenario's, not "0 findings"."""
    from k8srun.capture import capture_bundle
    from k8srun.serve import serving
    from k8srun.sources.live import LiveSource
    from k8srun.sources.snapshot import SnapshotSource

    scenario_name = registry.get(runbook).scenario
    with SnapshotSource(scenarios_dir() / scenario_name) as original, serving(original) as (_, kubeconfig), \
            LiveSource(kubeconfig) as live:
        capture_bundle(live, tmp_path / "captured", progress=False)
    on_scenario = run("run", runbook, "--out", str(tmp_path / "a"), "--no-progress")
    on_capture = run("run", runbook, "-p", "source", str(tmp_path / "captured"), "--out", str(tmp_path / "b"),
                     "--no-progress")
    assert on_scenario.returncode == 0 and on_capture.returncode == 0, on_capture.stderr
    expected = json.loads((tmp_path / "a" / f"{runbook}.findings.json").read_text())["findings"]
    found = json.loads((tmp_path / "b" / f"{runbook}.findings.json").read_text())["findings"]
    assert [(f["code"], f["subject"]) for f in found] == [(f["code"], f["subject"]) for f in expected]
    assert json.loads((tmp_path / "b" / f"{runbook}.findings.json").read_text())["parameters"]["namespace"] is None
