"""Rendering a :class:`~scenariokit.cluster.Cluster` as a snapshot bundle, and
writing that into a scenario directory without touching its recorded part.

:func:`render` returns the cluster part of a bundle as ``{relative path:
text}`` (SPEC.md "Snapshot bundle"; a ``kubectl cluster-info dump
--output-directory`` tree in JSON plus k8srun's additions)::

    k8srun.json            {"format": 1, "captured_at", "cluster_version", "gathered", "errors"}
    scenario.yaml          {description, runbook, namespace, expected_codes, absent_codes}
    nodes.json namespaces.json persistentvolumes.json storageclasses.json
    <ns>/events.json replication-controllers.json services.json daemonsets.json
    <ns>/deployments.json replicasets.json pods.json
    <ns>/endpoints.json endpointslices.json persistentvolumeclaims.json
    <ns>/statefulsets.json jobs.json configmaps.json (keys only: values are "")
    <ns>/<pod>/logs.txt            one START/END block per container, init first
    <ns>/<pod>/logs-previous.txt   blocks only for containers with a previous run

``gathered`` lists every file above but k8srun.json and scenario.yaml. JSON
is printed as Go's encoding/json and kubectl do (:func:`go_json`).

:func:`write` puts those files into a scenario directory. The directory may
also hold a *recorded* part, made by another tool from a live fault lab:
``hosts/<host>/<command-id>.txt|.json`` and the ``recorded`` key of
``k8srun.json``. :func:`write` never deletes or rewrites ``hosts/``, keeps
``recorded`` as it is, removes the cluster files it no longer writes (those
the old ``gathered`` lists or the layout above matches) and leaves files
whose bytes are already right untouched.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import yaml

from k8srun.resources import CATALOGUE, NAMESPACE_FILE_STEMS

from .cluster import CLUSTER_OBJECT_FILES
from .objects import CAPTURED_AT, K8S_VERSION, Run

if TYPE_CHECKING:
    from .cluster import Cluster

CLUSTER_VERSION = {
    "major": "1", "minor": "30", "gitVersion": K8S_VERSION,
    "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596", "gitTreeState": "clean",
    "buildDate": "2024-08-14T19:29:35Z", "goVersion": "go1.22.5", "compiler": "gc",
    "platform": "linux/amd64",
}

# kubectl's List kinds per dump file stem: (kind, apiVersion)
LIST_KINDS = {r.file_stem: (r.list_kind, r.group_version) for r in CATALOGUE.values()}
NAMESPACE_FILES = NAMESPACE_FILE_STEMS
LOG_FILES = ("logs.txt", "logs-previous.txt")
INFO_FILE, SCENARIO_FILE = "k8srun.json", "scenario.yaml"
#: the recorded part of a scenario directory, never touched by :func:`write`
HOSTS_DIR = "hosts"
PRESERVED_KEYS = ("recorded",)

#: fields whose Go type is a map: encoding/json writes their keys sorted
MAP_FIELDS = frozenset({"labels", "annotations", "nodeSelector", "limits", "requests", "capacity",
                        "allocatable", "data", "matchLabels", "selector"})


def _sorted_maps(value: object, key: str = "") -> object:
    if isinstance(value, dict):
        items = sorted(value.items()) if key in MAP_FIELDS else value.items()
        return {k: _sorted_maps(v, k) for k, v in items}
    if isinstance(value, list):
        return [_sorted_maps(v) for v in value]
    return value


def _go_text(obj: object) -> str:
    text = json.dumps(obj, indent=4, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")) + "\n"


def go_json(obj: object) -> str:
    """JSON as Go's encoding/json + kubectl print it: 4-space indent, sorted maps, HTML-escaped."""
    return _go_text(_sorted_maps(obj))


# ---------------------------------------------------------------- rendering

def render(cluster: Cluster) -> dict[str, str]:
    """The cluster part of ``cluster``'s bundle: {relative path: text} (see the module doc).

    A :class:`~scenariokit.lab.LabCluster` (the fault lab as a cluster) renders itself.
    """
    if hasattr(cluster, "render_files"):
        return cluster.render_files()
    if HOSTS_DIR in cluster.namespaces:
        raise ValueError(f"namespace {HOSTS_DIR!r} would collide with the recorded {HOSTS_DIR}/ folder")
    cluster.finish()
    files: dict[str, str] = {}

    def dump(rel: str, stem: str, items: list) -> None:
        kind, api_version = LIST_KINDS[stem]
        items = sorted(items, key=lambda o: o["metadata"]["name"])
        files[rel] = go_json({"kind": kind, "apiVersion": api_version,
                              "metadata": {"resourceVersion": str(cluster.latest_rv + 1 + len(rel))},
                              "items": items})

    dump("nodes.json", "nodes", cluster.nodes)
    dump("namespaces.json", "namespaces", cluster.namespace_objects())
    for stem in CLUSTER_OBJECT_FILES:
        dump(f"{stem}.json", stem, cluster.cluster_objects[stem])
    for ns in sorted(cluster.namespaces):
        for stem in NAMESPACE_FILES:
            dump(f"{ns}/{stem}.json", stem, cluster.objects.get((ns, stem), []))
        for pod in sorted(cluster.objects.get((ns, "pods"), []), key=lambda p: p["metadata"]["name"]):
            files.update(pod_logs(cluster, pod))
    info = {"format": 1, "captured_at": CAPTURED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cluster_version": CLUSTER_VERSION, "gathered": sorted(files), "errors": []}
    files[INFO_FILE] = go_json(info)
    files[SCENARIO_FILE] = yaml.safe_dump(cluster.scenario, sort_keys=False, width=100, default_flow_style=None)
    return files


def pod_logs(cluster: Cluster, pod: dict) -> dict[str, str]:
    """``<ns>/<pod>/logs.txt`` (and ``logs-previous.txt`` when a container ran before) -> text."""
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    init, main = cluster.runs[(ns, name)]
    statuses = {s["name"]: s for s in pod["status"].get("initContainerStatuses", [])
                + pod["status"].get("containerStatuses", [])}
    current, previous = [], []
    for cname, run in init + main:
        current.append((cname, current_log(pod, cname, run, statuses.get(cname))))
        if run is not None and run.last:
            previous.append((cname, run.previous_log))
    files = {}
    for filename, blocks in zip(LOG_FILES, (current, previous)):
        if blocks:
            files[f"{ns}/{name}/{filename}"] = "".join(
                f"==== START logs for container {c} of pod {ns}/{name} ====\n{log}"
                f"==== END logs for container {c} of pod {ns}/{name} ====\n" for c, log in blocks)
    return files


def current_log(pod: dict, cname: str, run: Run | None, status: dict | None) -> str:
    """What ``kubectl logs`` (no --previous) returns for a container, as cluster-info dump writes it."""
    if run is None or status is None:  # not scheduled: the API server streams nothing
        return ""
    waiting = status["state"].get("waiting")
    if waiting and status.get("lastState", {}).get("terminated"):
        return run.previous_log  # kubelet serves the last terminated container's log
    if waiting:
        phrase = {"ErrImagePull": "image can't be pulled",
                  "ImagePullBackOff": "trying and failing to pull image"}.get(waiting["reason"], waiting["reason"])
        return (f'Request log error: container "{cname}" in pod "{pod["metadata"]["name"]}" '
                f"is waiting to start: {phrase}\n")
    if run.log is not None:
        return run.log
    return ""


# ---------------------------------------------------------------- writing

def write(files: dict[str, str], root: Path) -> None:
    """Make the cluster part of scenario directory ``root`` be ``files`` (from :func:`render`).

    Keeps ``root/hosts/`` and the :data:`PRESERVED_KEYS` of ``root/k8srun.json``;
    removes stale cluster files and the folders they leave empty; rewrites
    only files whose text changes.
    """
    for rel in files:
        if not _owned(rel):
            raise ValueError(f"{rel}: not a cluster file of a bundle")
    root.mkdir(parents=True, exist_ok=True)
    old_info = _read_json(root / INFO_FILE)
    files = dict(files)
    kept = {key: old_info[key] for key in PRESERVED_KEYS if key in old_info}
    if kept:
        info = {**json.loads(files[INFO_FILE]), **kept}
        # unchanged cluster part: leave the file as the recorder wrote it
        files[INFO_FILE] = _read_text(root / INFO_FILE) if info == old_info else _go_text(info)
    gathered = old_info.get("gathered")
    stale = (_layout_files(root) | set(gathered if isinstance(gathered, list) else [])) - set(files)
    for rel in sorted(stale):
        path = root / rel
        if _owned(rel) and path.is_file():
            path.unlink()
            while path.parent != root and not any(path.parent.iterdir()):  # folders it leaves empty
                path = path.parent
                path.rmdir()
    for rel, text in files.items():
        path = root / rel
        if _read_text(path) != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def _owned(rel: str) -> bool:
    """Whether ``rel`` may be a cluster file: relative, inside the bundle, outside ``hosts/``."""
    path = PurePosixPath(rel)
    return bool(path.parts) and not path.is_absolute() and ".." not in path.parts and path.parts[0] != HOSTS_DIR


def _layout_files(root: Path) -> set[str]:
    """Files under ``root`` that the bundle layout says are cluster files (lists and logs)."""
    found = set()
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if not path.is_file() or parts[0] == HOSTS_DIR:
            continue
        is_list = len(parts) <= 2 and path.suffix == ".json" and path.stem in LIST_KINDS
        if is_list or (len(parts) == 3 and parts[2] in LOG_FILES):
            found.add("/".join(parts))
    return found


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(_read_text(path) or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
