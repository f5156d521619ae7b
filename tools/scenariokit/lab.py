"""Scenarios whose cluster part is the fault lab itself: :func:`lab_cluster`.

A scenario recorded from the fault lab with ``"cluster": "lab"`` in its
``RECORD`` (see ``tools/record_scenarios.py``) gets, as its cluster part,
the lab's API objects with the recorded faults applied — the objects
:func:`k8srun.lab.cluster.cluster_objects` renders and ``k8srun lab up``
writes as ``-p source lab`` — so the cluster sections joined during the
recording and those replayed offline are the same objects::

    from scenariokit.lab import lab_cluster

    RECORD = {"runbook": "dns", "faults": ["dns-down"], "cluster": "lab",
              "parameters": {"target": "netns:k8l-pod-a"}}

    def build():
        return lab_cluster(RECORD["faults"])

Deterministic and without root: nothing of the lab is started; times are
fixed (created a day before :data:`~scenariokit.objects.CAPTURED_AT`,
captured at it) and JSON is printed as kubectl does
(:func:`scenariokit.bundle.go_json`). The scenario's name is filled in by
:func:`scenariokit.recipes.build_cluster`.
"""

from __future__ import annotations

import datetime as dt

import yaml

from k8srun.lab.cluster import snapshot_files
from k8srun.lab.faults import FAULTS
from k8srun.lab.topology import LAB

from .objects import CAPTURED_AT, DAY


class LabCluster:
    """The cluster part of a scenario recorded from the lab: the lab's API objects under ``faults``."""

    def __init__(self, faults: tuple[str, ...], name: str = ""):
        unknown = [fault for fault in faults if fault not in FAULTS]
        if unknown:
            raise ValueError(f"unknown lab fault(s) {', '.join(unknown)} (one of {', '.join(FAULTS)})")
        self.name = name
        self.faults = tuple(faults)
        self.scenario: dict = {}

    def render_files(self) -> dict[str, str]:
        """The bundle's cluster part, {relative path: text}, as :func:`scenariokit.bundle.render` returns it."""
        from .bundle import SCENARIO_FILE, go_json

        files = snapshot_files(LAB, self.faults, created_at=CAPTURED_AT - dt.timedelta(seconds=DAY),
                               captured_at=CAPTURED_AT, dumps=go_json)
        files[SCENARIO_FILE] = yaml.safe_dump(self.scenario, sort_keys=False, width=100, default_flow_style=None)
        return files


def lab_cluster(faults: list[str] | tuple[str, ...] = ()) -> LabCluster:
    """The lab as a cluster with ``faults`` applied (use the recipe's ``RECORD["faults"]``)."""
    return LabCluster(tuple(faults))
