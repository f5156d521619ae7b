#!/usr/bin/env python3
"""Regenerate every built-in scenario, recording node outputs from the real fault lab (root, Linux).

Usage::

    sudo .venv/bin/python tools/record_scenarios.py [--out DIR] [NAME ...]

For each scenario (default: every recipe in ``tools/scenarios/``):

1. its cluster part is rebuilt (``tools/build_scenarios.py``, deterministic);
2. when its recipe declares ``RECORD`` — ::

       RECORD = {"runbook": "mtu", "faults": ["mtu"],
                 "parameters": {"target": "netns:k8l-node-a", "dest": "192.168.20.2"}}

   — the lab is brought up (``lab_session``: machine-wide lock, always torn
   down), the faults are applied, the runbook runs live exactly as a user
   would run it (``k8srun run RUNBOOK -p source none -p NAME VALUE ...``), and
   the report folder's ``hosts/`` (raw outputs, exit codes, durations) replaces
   the scenario's ``hosts/``; the ``recorded`` section of the run's
   ``k8srun.json`` (runbook, parameters, target, command ids) goes into the
   scenario's ``k8srun.json`` with the faults, the lab and the time it was
   recorded.

   A runbook that joins the cluster's view with the node's adds
   ``"cluster": "lab"``::

       RECORD = {"runbook": "dns", "faults": ["dns-down"], "cluster": "lab",
                 "parameters": {"target": "netns:k8l-pod-a"}}

       def build():
           return lab_cluster(RECORD["faults"])      # from scenariokit.lab

   — the recording then runs with ``-p source lab`` (the lab's API snapshot,
   which ``lab up``/``break`` keep true; node commands still run live on the
   target) instead of ``-p source none``, so the cluster sections are joined
   while recording, and the scenario's cluster part is the same lab objects
   (``k8srun.lab.cluster``, deterministic, no root), so replaying joins them
   again. ``build()`` must return ``lab_cluster`` of exactly the RECORD's
   faults (checked); without ``"cluster"`` the cluster part is the recipe's own.

   Faults of the lab's control plane (``k8srun.lab.controlplane.FAULTS``, e.g.
   ``etcd-slow-disk``) are applied to a control plane brought up alone
   (``control_plane_session``, the same machine-wide lock), and the run gets its
   kubeconfig as ``KUBECONFIG`` (the ``kubeconfig`` parameter is not recorded).

Replaying the scenario (``k8srun run RUNBOOK`` with no parameters) then asks
the same commands and gets the recorded answers. ``tools/build_scenarios.py``
(no root needed) rebuilds only cluster parts and keeps what was recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenariokit import DEFAULT_OUT, build_scenario, recipe_names  # noqa: E402
from scenariokit.bundle import go_json  # noqa: E402
from scenariokit.recipes import load_recipe  # noqa: E402

_RECORD_KEYS = {"runbook", "faults", "parameters"}
_OPTIONAL_KEYS = {"cluster"}


def record_spec(name: str) -> dict | None:
    """The recipe's RECORD (validated), or None when its scenario has no node outputs."""
    record = getattr(load_recipe(name), "RECORD", None)
    if record is None:
        return None
    if not isinstance(record, dict) or not _RECORD_KEYS <= set(record) <= _RECORD_KEYS | _OPTIONAL_KEYS:
        raise ValueError(f"tools/scenarios/{name}.py: RECORD needs the keys {sorted(_RECORD_KEYS)} "
                         f"(and may have {sorted(_OPTIONAL_KEYS)})")
    if record.get("cluster", "lab") != "lab":
        raise ValueError(f'tools/scenarios/{name}.py: RECORD "cluster" can only be "lab"')
    return record


def recording_source(spec: dict) -> str:
    """The ``source`` the recording runs with: ``lab`` for ``"cluster": "lab"``, else ``none``."""
    return "lab" if spec.get("cluster") == "lab" else "none"


def record(name: str, out_dir: Path, *, progress: bool = True) -> Path:
    """Rebuild scenario ``name`` and record its node outputs from the lab; returns its folder."""
    from k8srun.lab import control, controlplane
    from k8srun.report import run_runbook

    spec = record_spec(name)
    root = build_scenario(name, out_dir)
    if spec is None:
        return root
    with tempfile.TemporaryDirectory(prefix=f"k8srun-record-{name}-") as tmp:
        report = Path(tmp) / "report"
        on_control_plane = any(fault in controlplane.FAULTS for fault in spec["faults"])
        with controlplane.control_plane_session() if on_control_plane else control.lab_session():
            for fault in spec["faults"]:
                (controlplane if on_control_plane else control).break_fault(fault)
            if on_control_plane:  # kubectl's way to name the control plane's kubeconfig (not a recorded parameter)
                os.environ["KUBECONFIG"] = str(controlplane.kubeconfig_path())
            result = run_runbook(spec["runbook"], {"source": recording_source(spec), **spec["parameters"]},
                                 report, progress=progress)
        if result.error:
            raise RuntimeError(f"{name}: the runbook stopped early while recording: {result.error}")
        recorded = json.loads((report / "k8srun.json").read_text(encoding="utf-8"))["recorded"]
        shutil.rmtree(root / "hosts", ignore_errors=True)
        shutil.copytree(report / "hosts", root / "hosts")
    info_path = root / "k8srun.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["recorded"] = {**recorded, "faults": list(spec["faults"]), "from": "k8srun fault lab",
                        **({"cluster": "lab"} if spec.get("cluster") == "lab" else {}),
                        "recorded_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                        "findings": sorted({f.code for f in result.findings})}
    info_path.write_text(go_json(info), encoding="utf-8")  # formatted as the builder writes it
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("names", nargs="*", metavar="NAME", help="default: every scenario")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(recipe_names()))
    if unknown:
        parser.error(f"no recipe for {', '.join(unknown)} (known: {', '.join(recipe_names())})")
    for name in args.names or recipe_names():
        try:
            path = record(name, args.out, progress=not args.no_progress)
        except Exception as exc:  # one line, not a traceback: which scenario and why
            print(f"record_scenarios: {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
