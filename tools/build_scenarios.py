#!/usr/bin/env python3
"""Generate the built-in recorded scenarios (snapshot bundles) of k8srun.

Usage::

    python tools/build_scenarios.py [--out DIR] [NAME ...]

Regenerates every scenario (or the NAMEs given) into ``DIR/<name>/``
(default DIR: k8srun/scenarios), deterministically: the committed output is
reproducible byte for byte.

Each scenario is a recipe ``tools/scenarios/<name>.py`` (a ``SCENARIO``
contract and a ``build()`` returning a Cluster that starts from the shared
base cluster); the library that builds, renders and writes them is
``tools/scenariokit/`` (see its package doc). Regenerating rewrites only the
cluster part of a scenario folder: a recorded ``hosts/`` folder and the
``recorded`` key of ``k8srun.json`` are kept as they are.

Adding a scenario:

1. write ``tools/scenarios/<name>.py``: a docstring saying what is broken,
   ``SCENARIO = {"description", "runbook", "namespace", "expected_codes",
   "absent_codes"}`` and ``def build() -> Cluster`` that starts with
   ``c = base_cluster("<name>")`` (``workers={...}`` to change a node), adds
   its namespaces and objects (``scenariokit.workloads``, ``.apps``,
   ``.events``, ``.storage``) and returns ``c``;
2. ``python tools/build_scenarios.py <name>`` writes ``k8srun/scenarios/<name>/``;
3. run ``pytest tests/test_scenarios.py`` and commit the recipe with the folder.

Other tools import ``build_scenario(name, out_dir)`` and ``recipe_names()``
from ``scenariokit`` (with ``tools/`` on ``sys.path``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenariokit import DEFAULT_OUT, build, recipe_names  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder to write the scenario folders into (default: {DEFAULT_OUT})")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"scenarios to regenerate (default: all of {', '.join(recipe_names())})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(recipe_names()))
    if unknown:
        parser.error(f"no recipe for {', '.join(unknown)} in tools/scenarios/ (known: {', '.join(recipe_names())})")
    for path in build(args.out, args.names):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
