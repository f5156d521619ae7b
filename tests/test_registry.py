"""The runbook registry: every runbook declared once, and everything that names a runbook agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import papermill
import pytest
import yaml

from k8srun import registry
from k8srun.checks import triage
from k8srun.errors import ParameterError, RunbookError
from k8srun.model import catalogue
from k8srun.sources import open_source, resolve_source_spec, scenarios_dir

ROOT = Path(__file__).resolve().parents[1]
BOOKS = registry.all_runbooks()
TEST_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))


def test_the_registry_is_what_the_checks_modules_declare():
    assert BOOKS, "no runbook registered"
    for book in BOOKS:
        assert book.checks.RUNBOOK is book
        assert callable(book.checks.gather) and callable(book.checks.diagnose)
        assert book.description and len(book.description.splitlines()) == 1


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_notebook_parameters_are_the_registry_parameters(book):
    declared = papermill.inspect_notebook(str(book.notebook))
    assert list(declared) == book.parameter_names
    defaults = {name: yaml.safe_load(p["default"]) for name, p in declared.items()}
    assert defaults == book.defaults()


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_notebook_parameters_cell_is_rendered_from_the_registry(book):
    """One source of truth: `tools/new_runbook.py --print NAME` prints the cell the notebook must hold."""
    import sys

    import nbformat

    sys.path.insert(0, str(ROOT / "tools"))
    from new_runbook import parameters_source

    nb = nbformat.read(book.notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert cell.source == parameters_source(book)


def test_the_template_makes_a_notebook_that_runs(tmp_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setenv("K8SRUN_RUNBOOKS_DIR", str(tmp_path))
    made = subprocess.run([sys.executable, str(ROOT / "tools" / "new_runbook.py"), "pod-pending"],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    executed = papermill.execute_notebook(str(tmp_path / "pod-pending.ipynb"), str(tmp_path / "out.ipynb"),
                                          kernel_name="python3", progress_bar=False)
    assert any("PEND-001" in str(o) for c in executed.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_every_runbook_has_its_scenario(book):
    kind, path = resolve_source_spec(f"scenario:{book.scenario}")
    assert kind == "scenario" and Path(path).is_dir()


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_every_code_of_a_runbook_is_required_and_has_a_producing_test(book):
    codes = {code for code, info in catalogue().items() if info.runbook == book.name}
    assert codes == set(book.requires), "REQUIRES lists exactly the runbook's codes"
    expected_by_scenarios = set()
    for spec_path in scenarios_dir().glob("*/scenario.yaml"):
        expected_by_scenarios |= set((yaml.safe_load(spec_path.read_text()) or {}).get("expected_codes") or [])
    for code in sorted(codes):
        asserted = re.search(rf"[\"']{re.escape(code)}[\"']", TEST_TEXT)
        assert asserted or code in expected_by_scenarios, f"{code}: no test produces it"


def test_triage_routes_only_to_registered_runbooks_with_declared_parameters():
    for book in BOOKS:
        assert set(book.triage) <= set(triage.SUSPECT_KINDS), f"{book.name} routes an unknown suspect kind"
    for kind in triage.SUSPECT_KINDS:
        book = registry.route(kind)
        assert book is None or book.name in registry.names()
    source = open_source("scenario:triage")
    found = triage.diagnose(**{k: v for k, v in _triage_state(source).items()})
    assert found
    for f in found:
        name = f.evidence["runbook"]
        if not name:
            assert "no runbook covers it" in f.detail
            continue
        assert name in registry.names()
        assert set(f.evidence["parameters"]) <= set(registry.get(name).parameter_names)
        registry.get(name).validate(f.evidence["parameters"])


def _triage_state(source) -> dict:
    from k8srun import frames

    return {"pods": frames.pods_frame(source.list("pods")), "nodes": frames.nodes_frame(source.list("nodes")),
            "events": frames.events_frame(source.list("events")),
            "services": frames.services_frame(source.list("services")),
            "endpoints": frames.endpoints_frame(source.list("endpoints")), "now": source.now()}


def test_unknown_runbook_and_parameter_are_one_clear_error():
    with pytest.raises(RunbookError, match="did you mean 'pod-pending'"):
        registry.get("pod-pendin")
    book = registry.get("pod-pending")
    with pytest.raises(ParameterError, match="has no such parameter"):
        book.validate({"nope": 1})
    with pytest.raises(ParameterError, match="DNS-1123"):
        book.validate({"namespace": "x;rm -rf /"})


def test_relative_paths_resolve_against_the_callers_folder(tmp_path):
    (tmp_path / "bundle").mkdir()
    cleaned = registry.get("pod-pending").validate({"source": "./bundle", "kubeconfig": "kc.yaml"}, base=tmp_path)
    assert cleaned == {"source": str(tmp_path / "bundle"), "kubeconfig": str(tmp_path / "kc.yaml")}
    assert registry.get("pod-pending").validate({"source": "live"}, base=tmp_path) == {"source": "live"}


def test_k8srun_list_prints_the_registry(capsys):
    from k8srun.cli import main

    assert main(["list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == registry.names()
