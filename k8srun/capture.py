"""``k8srun capture``: save a snapshot bundle from a live cluster, read-only.

``k8srun capture [--out BUNDLE] [--namespaces ns1,ns2 | -A] [--kubeconfig K]
[--context C] [--timeout S]`` writes the SPEC "Snapshot bundle" layout, which
:class:`~k8srun.sources.snapshot.SnapshotSource` (and ``k8srun serve``) read::

    nodes.json, namespaces.json, persistentvolumes.json, storageclasses.json
    <ns>/events.json, replication-controllers.json, services.json,
    <ns>/daemonsets.json, deployments.json, replicasets.json, pods.json   (kubectl's dump)
    <ns>/endpoints.json, endpointslices.json, persistentvolumeclaims.json,
    <ns>/statefulsets.json, jobs.json, configmaps.json                    (k8srun additions)
    <ns>/<pod>/logs.txt            one "==== START logs for container C of pod NS/P ====" block
                                   per container that has a status, init containers first
    <ns>/<pod>/logs-previous.txt   the same, for containers with restarts (``--previous``)
    k8srun.json                    {"captured_at", "cluster_version" ({"gitVersion", ...} as
                                    /version answers), "server", "context",
                                    "namespaces", "gathered": [resource, ...], "counts": {...},
                                    "redacted": [...], "redaction": {"status", "counts": {rule: n}},
                                    "errors": [{"what", "error"}, ...]}

Every file is a ``<Kind>List``. Secrets are never read; ConfigMaps keep their
keys with values blanked (and lose the last-applied annotation that copies
them); every object of every kind goes through
:func:`k8srun.redact.redact_bundle_object`, log text, node command outputs and
error reasons through :func:`k8srun.redact.redact_text` (``redaction.counts``
says how many values each rule redacted during this capture). A failing
read (403, timeout) is recorded in ``errors`` and its file left out, so the
bundle says "not gathered" rather than "empty". ``--out X.tar.gz`` writes a
gzip tarball of one folder. ``--nodes`` runs the node-facts command set of
:mod:`k8srun.targets.commands` on each target and saves the raw outputs
(redacted) as ``hosts/<host>/<command-id>.txt|.json``; a command that fails
there is recorded in ``errors`` and its output kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from . import __version__, params
from .errors import ParameterError, SourceError
from .redact import (default_redactor, redact_bundle_object, redact_command_result, redact_object, redact_text,
                     redaction_status)
from .resources import CATALOGUE
from .sources import Source

CLUSTER_RESOURCES = ["nodes", "namespaces", "persistentvolumes", "storageclasses"]
NAMESPACED_RESOURCES = ["events", "replicationcontrollers", "services", "daemonsets", "deployments",
                        "replicasets", "pods", "endpoints", "endpointslices", "persistentvolumeclaims",
                        "statefulsets", "jobs", "configmaps", "leases"]


def _list_document(resource: str, items: list[dict]) -> dict:
    api = CATALOGUE[resource]
    return {"kind": api.list_kind, "apiVersion": api.group_version, "metadata": {}, "items": items}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _log_block(namespace: str, pod: str, container: str, text: str) -> str:
    return (f"==== START logs for container {container} of pod {namespace}/{pod} ====\n{text}"
            f"==== END logs for container {container} of pod {namespace}/{pod} ====\n")


class _Capture:
    """One capture run: writes files under ``root`` and keeps the record for k8srun.json."""

    def __init__(self, source: Source, root: Path, progress):
        self.source, self.root, self.progress = source, root, progress
        self.gathered: list[str] = []
        self.counts: dict[str, int] = {}
        self.errors: list[dict] = []

    def error(self, what: str, exc: Exception) -> None:
        self.errors.append({"what": what, "error": redact_text(str(exc))})

    def cluster_resource(self, resource: str) -> list[dict]:
        self.progress.set_postfix_str(resource)
        try:
            items = self.source.list(resource)
        except SourceError as exc:
            self.error(resource, exc)
            return []
        finally:
            self.progress.update()
        items = [redact_bundle_object(resource, obj) for obj in items]
        _write_json(self.root / f"{CATALOGUE[resource].file_stem}.json", _list_document(resource, items))
        self.gathered.append(resource)
        self.counts[resource] = len(items)
        return items

    def namespaced_resource(self, resource: str, namespaces: list[str], all_namespaces: bool) -> list[dict]:
        self.progress.set_postfix_str(resource)
        by_namespace: dict[str, list[dict]] = {}
        if all_namespaces:
            try:
                for obj in self.source.list(resource):
                    by_namespace.setdefault(obj["metadata"].get("namespace", ""), []).append(obj)
                by_namespace = {ns: by_namespace.get(ns, []) for ns in namespaces}
            except SourceError as exc:
                self.error(f"{resource} in all namespaces", exc)
        else:
            for ns in namespaces:
                try:
                    by_namespace[ns] = self.source.list(resource, ns)
                except SourceError as exc:
                    self.error(f"{resource} in namespace {ns}", exc)
        self.progress.update()
        stem = CATALOGUE[resource].file_stem
        for ns, items in by_namespace.items():
            items = [redact_bundle_object(resource, obj) for obj in items]
            _write_json(self.root / ns / f"{stem}.json", _list_document(resource, items))
        if by_namespace:
            self.gathered.append(resource)
            self.counts[resource] = sum(len(items) for items in by_namespace.values())
        return [obj for items in by_namespace.values() for obj in items]

    def pod_logs(self, pod: dict) -> None:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        statuses = {s["name"]: s for s in (status.get("initContainerStatuses") or []) +
                    (status.get("containerStatuses") or [])}
        containers = [c["name"] for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
                      if c["name"] in statuses]
        for previous, file_name in ((False, "logs.txt"), (True, "logs-previous.txt")):
            blocks = []
            for container in containers:
                if previous and not statuses[container].get("restartCount"):
                    continue
                try:
                    text = self.source.logs(ns, name, container, previous=previous)
                except SourceError as exc:
                    self.error(f"{'previous ' if previous else ''}logs of {ns}/{name}/{container}", exc)
                    continue
                blocks.append(_log_block(ns, name, container, redact_text(text)))
            if blocks:
                (self.root / ns / name).mkdir(parents=True, exist_ok=True)
                (self.root / ns / name / file_name).write_text("".join(blocks), encoding="utf-8")
                key = "previous_logs" if previous else "logs"
                self.counts[key] = self.counts.get(key, 0) + len(blocks)
        self.progress.update()


def node_targets(text: str | None, *, timeout_s: float = 10, kubeconfig: str | None = None,
                 context: str | None = None) -> list | None:
    """``--nodes`` -> targets: a bare name is ``node:NAME``; ``local``, ``netns:``, ``ssh:`` as given."""
    from .targets import parse_target_spec

    if text is None:
        return None
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not specs:
        raise ParameterError("--nodes", text, "give at least one node or target")
    return [parse_target_spec(s if ":" in s or s == "local" else f"node:{s}", timeout_s=timeout_s,
                              kubeconfig=kubeconfig, context=context) for s in specs]


def _node_facts(run: "_Capture", target, root: Path) -> None:
    """Run the node-facts command set on one target; save raw outputs (redacted) under hosts/."""
    from .targets import save_results
    from .targets.commands import NODE_FACTS

    results = target.run_many(NODE_FACTS)
    save_results([redact_command_result(r) for r in results.values()], root)
    for command_id, result in results.items():
        if result.error:
            run.error(f"{command_id} on {target.spec}", SourceError(result.error))
    run.gathered.append(f"hosts/{target.host}")
    run.counts["node_commands"] = run.counts.get("node_commands", 0) + len(results)


def check_out(out: str | Path) -> Path:
    """``--out``: a new path (or an empty folder) that can be written; else a one-line ParameterError."""
    from .outdir import check_writable

    if not str(out).strip():
        raise ParameterError("--out", str(out), "must not be empty")
    out = Path(out).expanduser()
    check_writable(out, "--out")
    tarball = out.name.endswith((".tar.gz", ".tgz"))
    reusable_empty_dir = out.is_dir() and not tarball and not any(out.iterdir())
    if (out.exists() or out.is_symlink()) and not reusable_empty_dir:
        raise ParameterError("--out", str(out), "already exists; choose a new path (capture never overwrites)")
    return out


def capture_bundle(source: Source, out: str | Path, *, namespaces: list[str] | None = None,
                   nodes: list | None = None, progress: bool | None = None) -> dict:
    """Write a snapshot bundle of ``source`` to ``out`` (dir or .tar.gz); returns its k8srun.json record."""
    from tqdm.auto import tqdm

    out = check_out(out)
    tarball = out.name.endswith((".tar.gz", ".tgz"))
    captured_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    redactor = default_redactor()  # an invalid K8SRUN_REDACT_PATTERNS file stops here, before any file
    counts_before = dict(redactor.counts)
    work = Path(tempfile.mkdtemp(prefix="k8srun-capture-")) if tarball else None
    root = (work / out.name.removesuffix(".tar.gz").removesuffix(".tgz")) if work else out
    root.mkdir(parents=True, exist_ok=True)
    try:
        all_namespaces = namespaces is None
        if all_namespaces:
            try:
                namespaces = source.namespaces()
            except SourceError as exc:
                raise SourceError(f"cannot list namespaces ({exc}); pass --namespaces ns1,ns2") from None
        with tqdm(total=len(CLUSTER_RESOURCES) + len(NAMESPACED_RESOURCES), desc="capture", unit="step",
                  disable=(None if progress is None else not progress)) as bar:
            run = _Capture(source, root, bar)
            for resource in CLUSTER_RESOURCES:
                items = run.cluster_resource(resource)
                if resource == "namespaces" and not all_namespaces and "namespaces" in run.gathered:
                    wanted = set(namespaces)
                    _write_json(root / "namespaces.json", _list_document(
                        "namespaces", [n for n in items if n["metadata"]["name"] in wanted]))
            pods = []
            for resource in NAMESPACED_RESOURCES:
                objects = run.namespaced_resource(resource, namespaces, all_namespaces)
                if resource == "pods":
                    pods = objects
            bar.total += len(pods)
            bar.set_postfix_str("logs")
            for pod in pods:
                run.pod_logs(pod)
        for target in nodes or []:
            _node_facts(run, target, root)
        meta = source.meta()
        record = {
            "captured_at": captured_at.isoformat().replace("+00:00", "Z"),
            "cluster_version": meta.get("cluster_version") or {},
            "server": meta.get("server", ""), "context": meta.get("context", ""),
            "source": meta.get("description", ""), "k8srun_version": __version__,
            "namespaces": namespaces, "gathered": run.gathered, "counts": run.counts,
            "redacted": ["configmap values", "secrets (never read)", "last-applied-configuration annotations",
                         "tokens, passwords and keys (k8srun.redact) in every object of every kind, log, node "
                         "command output and error"],
            "redaction": {"status": redaction_status(),
                          "counts": {rule: n - counts_before.get(rule, 0) for rule, n in redactor.counts.items()
                                     if n > counts_before.get(rule, 0)}},
            "errors": run.errors,
        }
        if meta.get("version_error"):
            record["errors"].append({"what": "cluster version", "error": meta["version_error"]})
        record = {**redact_object({k: v for k, v in record.items() if k != "redaction"}),
                  "redaction": record["redaction"]}
        _write_json(root / "k8srun.json", record)
        if tarball:
            out.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(out, "w:gz") as archive:
                archive.add(root, arcname=root.name)
        return record
    except BaseException:
        if not tarball:
            shutil.rmtree(root, ignore_errors=True)
        raise
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``k8srun capture``."""
    parser.add_argument("--out", help="bundle directory, or a path ending in .tar.gz "
                        "(default: k8srun-snapshot-<UTC time>)")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--namespaces", help="comma-separated namespaces to capture (default: all)")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="capture every namespace (default)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    parser.add_argument("--context", help="kubeconfig context (default: current)")
    parser.add_argument("--nodes", help="comma-separated nodes whose facts to gather (iptables-save, routes, "
                        "links, sysctls, conntrack, resolv.conf, kubelet journal): a node name (via `kubectl "
                        "debug node`, the pod is deleted afterwards), or a target: local, netns:NAME, ssh:HOST")
    parser.add_argument("--timeout", default="10", help="seconds per API call (default 10)")
    parser.add_argument("--max-time", default="1800", metavar="SECONDS",
                        help="seconds for the whole capture (default 1800): what is not read by then is "
                             "recorded as not gathered, and the bundle still written")


def _names(param: str, text: str | None, validate) -> list[str] | None:
    if text is None:
        return None
    names = [validate(param, n.strip()) for n in text.split(",") if n.strip()]
    if not names:
        raise ParameterError(param, text, "give at least one name")
    return names


def main(args: argparse.Namespace) -> int:
    """Capture a bundle from the live cluster and print where it went."""
    from .sources.live import LiveSource

    namespaces = _names("--namespaces", args.namespaces, params.dns1123_label)
    timeout_s = params.timeout_seconds("--timeout", args.timeout)
    max_time = params.positive_number("--max-time", args.max_time, maximum=24 * 3600)
    nodes = node_targets(args.nodes, timeout_s=timeout_s, kubeconfig=args.kubeconfig, context=args.context)
    out = args.out if args.out is not None else f"k8srun-snapshot-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}"
    check_out(out)  # before the cluster is contacted
    with LiveSource(args.kubeconfig, args.context, timeout_s=timeout_s, budget_s=max_time) as source:
        record = capture_bundle(source, out, namespaces=namespaces, nodes=nodes)
    total = sum(v for k, v in record["counts"].items() if k not in ("logs", "previous_logs"))
    print(f"wrote {out}: {total} objects in {len(record['namespaces'])} namespaces, "
          f"{record['counts'].get('logs', 0)} container logs, "
          f"{record['counts'].get('previous_logs', 0)} previous logs, {len(record['errors'])} errors")
    for error in record["errors"]:
        print(f"  not gathered: {error['what']}: {error['error']}", file=sys.stderr)
    return 0
