"""Bring the lab up and down, break and fix faults; the state survives between commands.

``up()`` returns False when the lab was already up (idempotent); ``down()``
removes everything the lab made and is idempotent; ``break_fault(name)`` /
``fix_fault(name)`` return False when there was nothing to do.

``up()`` also writes the lab as the API would describe it
(:mod:`k8srun.lab.cluster`) to :func:`snapshot_dir` (``<state dir>/cluster``,
what ``-p source lab`` opens); every ``break``/``fix`` rewrites it from the
applied faults.

Tests that need a real lab use :func:`lab_session`, which serialises lab
users on the machine (pytest-xdist workers included)::

    with lab_session() as lab:
        ...  # lab is k8srun.lab.topology.LAB, up and healthy
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Iterator

from . import certs, cluster, controlplane, services, topology
from .faults import FAULTS, FaultContext, conflicting
from .state import LabState, load_state, prepare_state_dir, remove_state_dir, save_state, state_dir
from .system import (REQUIRED_TOOLS, LabError, kill_pid, machine_lock, netns_names, netns_pids,
                     require_lab_support)
from .topology import LAB, Lab


def is_up(lab: Lab = LAB) -> bool:
    """Whether the lab is up: its state file and every namespace exist."""
    return load_state() is not None and set(lab.namespaces) <= netns_names()


def snapshot_dir() -> Path:
    """The lab's API snapshot (a bundle folder): ``<state dir>/cluster``."""
    return cluster.snapshot_path(state_dir())


def write_snapshot(state: LabState, lab: Lab = LAB) -> Path:
    """(Re)write the API snapshot from the applied faults; returns its folder."""
    up_at = dt.datetime.fromisoformat(state.up_at.replace("Z", "+00:00")) if state.up_at else None
    return cluster.write_snapshot(snapshot_dir(), lab, state.faults, created_at=up_at)


def up(lab: Lab = LAB) -> bool:
    """Build the topology, kube-proxy rules, resolv.confs, certificates and servers; False if already up."""
    require_lab_support(tuple(REQUIRED_TOOLS))
    directory = state_dir()
    state = load_state(directory)
    present = sorted(set(lab.namespaces) & netns_names())
    if state is not None and len(present) == len(lab.namespaces):
        return False
    if state is not None or present:
        raise LabError(f"a partial lab exists ({', '.join(present) or directory}): run `k8srun lab down` first")
    prepare_state_dir(directory)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    state = LabState(created_etc_netns=not topology.ETC_NETNS.exists(), up_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    save_state(state, directory)
    try:
        topology.create_namespaces(lab)
        topology.create_links(lab)
        for node in lab.nodes:
            topology.load_kube_proxy_rules(node, topology.kube_proxy_rules(lab), topology.kube_proxy_filter_rules(lab))
            topology.ensure_filter_jumps(node)
        for pod in lab.web_pods:
            topology.write_resolv_conf(pod, topology.resolv_conf(lab))
        certs.create_ca(directory)
        certs.issue_server_cert(directory, "valid", lab)
        for name in services.SERVICE_NAMES:
            state.processes[name] = services.start_server(name, directory, lab)
            save_state(state, directory)
        write_snapshot(state, lab)
    except BaseException:
        down(lab)
        raise
    return True


def down(lab: Lab = LAB) -> list[str]:
    """Stop the servers, delete namespaces, /etc/netns entries and the state dir, and the control plane
    (:mod:`k8srun.lab.controlplane`); what was removed."""
    require_lab_support()
    removed: list[str] = controlplane.down()
    try:
        state = load_state()
    except LabError:
        state = None
    for name, process in (state.processes.items() if state else ()):
        services.stop_server(process)
        removed.append(f"process {name} (pid {process.pid})")
    present = netns_names()
    for netns in lab.namespaces:
        if netns not in present:
            continue
        for pid in netns_pids(netns):
            kill_pid(pid)
            removed.append(f"process {pid} left in {netns}")
        removed.append(f"namespace {netns}")
    topology.delete_namespaces(lab)
    for pod in lab.pods:
        if topology.resolv_conf_path(pod).parent.exists():
            removed.append(str(topology.resolv_conf_path(pod).parent))
    topology.remove_etc_netns(lab)
    if state and state.created_etc_netns and topology.ETC_NETNS.is_dir() and not any(topology.ETC_NETNS.iterdir()):
        topology.ETC_NETNS.rmdir()
    if state_dir().exists():
        removed.append(str(state_dir()))
    remove_state_dir()
    return removed


@contextlib.contextmanager
def lab_session(lab: Lab = LAB, *, wait_s: float = 600.0) -> Iterator[Lab]:
    """Hold the machine-wide lab lock, bring a fresh lab up, yield ``lab``, always take it down."""
    with machine_lock("k8srun-fault-lab", wait_s):
        if not up(lab):
            raise LabError("a lab is already up: run `k8srun lab down` first (a session needs a fresh lab)")
        try:
            yield lab
        finally:
            down(lab)


def _require_state() -> LabState:
    require_lab_support()
    state = load_state()
    if state is None:
        raise LabError("the lab is not up: run `k8srun lab up` first")
    return state


def break_fault(name: str, lab: Lab = LAB) -> bool:
    """Apply fault ``name``; False if it was already applied."""
    fault = _fault(name)
    state = _require_state()
    if name in state.faults:
        return False
    other = conflicting(name, state.faults)
    if other:
        raise LabError(f"{name} and {other} replace the same thing: run `k8srun lab fix {other}` first")
    state.faults.append(name)
    try:
        fault.apply(FaultContext(lab, state_dir(), state))
    except BaseException:
        state.faults.remove(name)
        raise
    finally:
        save_state(state)
        write_snapshot(state, lab)
    return True


def fix_fault(name: str, lab: Lab = LAB) -> bool:
    """Revert fault ``name``; False if it was not applied."""
    fault = _fault(name)
    state = _require_state()
    if name not in state.faults:
        return False
    state.faults.remove(name)
    try:
        fault.revert(FaultContext(lab, state_dir(), state))
    except BaseException:
        state.faults.append(name)
        raise
    finally:
        save_state(state)
        write_snapshot(state, lab)
    return True


def _fault(name: str):
    try:
        return FAULTS[name]
    except KeyError:
        raise LabError(f"unknown fault {name!r}: one of {', '.join(FAULTS)}") from None
