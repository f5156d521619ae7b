"""Scenario recipes: one file per scenario in ``tools/scenarios/``, found by glob.

A recipe ``tools/scenarios/<scenario-name>.py`` defines::

    SCENARIO = {"description": "...", "runbook": "...", "namespace": "...",
                "expected_codes": [...], "absent_codes": [...]}   # -> scenario.yaml

    def build() -> Cluster:
        c = base_cluster("<scenario-name>", ...)   # the shared base (scenariokit.base)
        ...                                        # the scenario's own objects
        return c

- :func:`recipe_names` -> the scenario names (recipe file stems, sorted;
  files starting with ``_`` are not recipes);
- :func:`build_cluster` (name) -> the recipe's :class:`~scenariokit.cluster.Cluster`
  with its ``scenario`` contract set (or a :class:`~scenariokit.lab.LabCluster`
  from :func:`scenariokit.lab.lab_cluster`: the recipe's ``RECORD`` must then
  say ``"cluster": "lab"`` and its faults be the cluster's);
- :func:`build_scenario` (name, out_dir) -> ``out_dir/<name>``, written with
  :func:`scenariokit.bundle.write` (the recorded ``hosts/`` part and
  ``recorded`` key survive);
- :func:`build` (out_dir, names) -> the scenario directories written.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from . import bundle
from .cluster import Cluster
from .lab import LabCluster

TOOLS = Path(__file__).resolve().parent.parent
RECIPES_DIR = TOOLS / "scenarios"
DEFAULT_OUT = TOOLS.parent / "k8srun" / "scenarios"
#: the keys of SCENARIO, in the order scenario.yaml lists them
SCENARIO_KEYS = ("description", "runbook", "namespace", "expected_codes", "absent_codes")


def recipe_names() -> list[str]:
    """The names of every scenario that has a recipe, sorted."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.py") if not p.name.startswith("_"))


def load_recipe(name: str) -> ModuleType:
    """The recipe module of scenario ``name``; ValueError when there is none or it lacks SCENARIO/build."""
    path = RECIPES_DIR / f"{name}.py"
    if name.startswith("_") or not path.is_file():
        raise ValueError(f"no scenario recipe {name!r} (known: {', '.join(recipe_names())})")
    module_name = f"scenariokit_recipe_{name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    scenario = getattr(module, "SCENARIO", None)
    if not isinstance(scenario, dict) or set(scenario) != set(SCENARIO_KEYS):
        raise ValueError(f"{path}: SCENARIO must be a dict with the keys {', '.join(SCENARIO_KEYS)}")
    if not callable(getattr(module, "build", None)):
        raise ValueError(f"{path}: no build() function")
    return module


def build_cluster(name: str) -> Cluster:
    """Run the recipe of ``name``: its cluster, with ``scenario`` set from SCENARIO."""
    recipe = load_recipe(name)
    cluster = recipe.build()
    if isinstance(cluster, LabCluster):
        record = getattr(recipe, "RECORD", None) or {}
        if record.get("cluster") != "lab" or tuple(record.get("faults", ())) != cluster.faults:
            raise ValueError(f"recipe {name}.py builds the lab as its cluster: its RECORD must say "
                             f'"cluster": "lab" with the same faults ({", ".join(cluster.faults) or "none"})')
        cluster.name = cluster.name or name
    elif (getattr(recipe, "RECORD", None) or {}).get("cluster") == "lab":
        raise ValueError(f'recipe {name}.py records with "cluster": "lab": build() must return '
                         "scenariokit.lab.lab_cluster(RECORD[\"faults\"])")
    if cluster.name != name:
        raise ValueError(f"recipe {name}.py built a cluster named {cluster.name!r}: pass {name!r} to base_cluster")
    cluster.scenario = {key: recipe.SCENARIO[key] for key in SCENARIO_KEYS}
    return cluster


def build_scenario(name: str, out_dir: Path | str = DEFAULT_OUT) -> Path:
    """(Re)write the cluster part of scenario ``name`` into ``out_dir/<name>``; returns that folder."""
    root = Path(out_dir) / name
    bundle.write(bundle.render(build_cluster(name)), root)
    return root


def build(out_dir: Path | str = DEFAULT_OUT, names: list[str] | None = None) -> list[Path]:
    """Build the scenarios ``names`` (default: every recipe) into ``out_dir``; returns their folders."""
    names = recipe_names() if not names else names
    for name in names:  # fail before writing anything
        if name not in recipe_names():
            raise ValueError(f"no scenario recipe {name!r} (known: {', '.join(recipe_names())})")
    return [build_scenario(name, out_dir) for name in names]
