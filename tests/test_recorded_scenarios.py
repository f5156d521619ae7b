"""Scenarios recorded from the fault lab: what tools/record_scenarios.py wrote is what its recipe asks, and replays.

For every recipe in ``tools/scenarios/`` that declares ``RECORD``, the
scenario's ``k8srun.json`` ``recorded`` section must name the same runbook,
faults and parameters; every command id it lists must have its raw output
(``hosts/<host>/<id>.txt`` + ``.json``) and nothing else may lie there (other
than the outputs of another place the run read, a ``*_target`` parameter); and
replaying it must ask exactly those commands and give exactly the recorded
findings. A recording made before a command id changed fails here, not in
a user's report. The netns test records ``routing-sysctl`` afresh from the
real lab and checks the new recording replays to the committed findings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from k8srun import registry
from k8srun.session import diagnose_runbook
from k8srun.sources import scenarios_dir
from k8srun.targets import host_dir

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _record_scenarios():
    """tools/record_scenarios.py as a module (tools/ on sys.path, as test_registry imports new_runbook)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    import record_scenarios

    return record_scenarios


def _recipes_with_record() -> dict[str, dict]:
    tool = _record_scenarios()
    return {name: spec for name in tool.recipe_names() if (spec := tool.record_spec(name)) is not None}


RECORDS = _recipes_with_record()


def recorded_section(folder: Path) -> dict:
    return json.loads((folder / "k8srun.json").read_text(encoding="utf-8"))["recorded"]


def recorded_hosts(recorded: dict) -> dict[str, str]:
    """host folder -> target spec: the run's target, and any other place it read (a ``*_target`` parameter such as
    the firewall runbook's ``rules_target``, whose commands run in a second session on that target)."""
    specs = [recorded["target"], *(value for name, value in recorded["parameters"].items()
                                   if name.endswith("_target") and value)]
    return {host_dir(spec): spec for spec in specs}


def replayed_codes(runbook: str, source: str) -> tuple[list[str], list[str]]:
    """(sorted finding codes, sorted command ids asked) of a replay."""
    rb = diagnose_runbook(runbook, source=source)
    return sorted({f.code for f in rb.findings}), sorted({r.command_id for r in rb.target.results})


def test_the_node_runbooks_record_their_scenarios():
    assert {"mtu", "routing-sysctl"} <= set(RECORDS)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_recorded_section_matches_the_recipe(name):
    spec, recorded = RECORDS[name], recorded_section(scenarios_dir() / name)
    assert (recorded["runbook"], recorded["faults"]) == (spec["runbook"], spec["faults"])
    assert recorded["target"] == spec["parameters"]["target"]
    # RECORD's parameters as given; the rest are the runbook's defaults, as the run validated them
    book = registry.get(spec["runbook"])
    assert recorded["parameters"] == {**{k: v for k, v in book.defaults().items() if k in recorded["parameters"]},
                                      **book.validate(spec["parameters"])}
    assert set(spec["parameters"]) <= set(recorded["parameters"])
    assert recorded["findings"] == sorted(set(recorded["findings"]))


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_every_recorded_command_has_its_output_and_nothing_else_lies_there(name):
    folder, recorded = scenarios_dir() / name, recorded_section(scenarios_dir() / name)
    hosts = folder / "hosts"
    others = recorded_hosts(recorded)
    assert sorted(p.name for p in hosts.iterdir()) == sorted(others)
    others.pop(host_dir(recorded["target"]))
    for name_, spec in others.items():  # another place read: each output with its argv, run there
        files = sorted((hosts / name_).iterdir())
        assert files and sorted({p.stem for p in files}) == sorted({p.stem for p in files if p.suffix == ".json"})
        assert all(json.loads(p.read_text(encoding="utf-8"))["target"] == spec for p in files if p.suffix == ".json")
    host = hosts / host_dir(recorded["target"])
    for command_id in recorded["commands"]:
        assert (host / f"{command_id}.txt").is_file(), command_id
        meta = json.loads((host / f"{command_id}.json").read_text(encoding="utf-8"))
        assert meta["target"] == recorded["target"] and meta["argv"], command_id
    assert sorted(p.name for p in host.iterdir()) == sorted(f"{cid}{suffix}" for cid in recorded["commands"]
                                                            for suffix in (".json", ".txt"))


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_replaying_a_recorded_scenario_gives_the_recorded_findings(name):
    recorded = recorded_section(scenarios_dir() / name)
    codes, asked = replayed_codes(RECORDS[name]["runbook"], f"scenario:{name}")
    assert codes == recorded["findings"]
    assert asked == recorded["commands"]  # the replay asks exactly what was recorded: no id drifted


@pytest.mark.netns
@pytest.mark.slow
def test_a_fresh_recording_from_the_lab_replays_like_the_committed_one(tmp_path, monkeypatch):
    """tools/record_scenarios.py's record() for routing-sysctl, into a temp folder (the lab under its lock)."""
    name = "routing-sysctl"
    monkeypatch.setenv("K8SRUN_LAB_DIR", str(tmp_path / "lab-state"))
    fresh = _record_scenarios().record(name, tmp_path / "scenarios", progress=False)
    committed = recorded_section(scenarios_dir() / name)
    new = recorded_section(fresh)
    for key in ("runbook", "parameters", "target", "faults", "commands", "findings"):
        assert new[key] == committed[key], key
    runbook = RECORDS[name]["runbook"]
    assert replayed_codes(runbook, str(fresh)) == replayed_codes(runbook, f"scenario:{name}") \
        == (committed["findings"], committed["commands"])
