"""Where cluster state comes from: one interface, four kinds of source.

``open_source(spec)`` turns the runbooks' ``source`` parameter into a
:class:`Source`:

==================  ==========================================================
``scenario:NAME``   a built-in recorded snapshot (``k8srun/scenarios/NAME``)
``PATH``            a snapshot bundle: a ``kubectl cluster-info dump
                    --output-directory`` tree (JSON or YAML), or a ``.tar.gz``
``live``            the cluster of a kubeconfig/context, or in-cluster config
``lab``             the fault lab's API snapshot (``k8srun lab up`` writes it,
                    ``break``/``fix`` keep it true; :mod:`k8srun.lab.cluster`):
                    a bundle whose node commands run *live* on the target
                    (``-p target netns:k8l-node-a``), not replayed; a folder
                    really named ``lab`` is ``./lab``
``none``            no cluster at all: cluster sections are skipped
==================  ==========================================================

Every source returns Kubernetes objects as plain dicts in the API's JSON
form (camelCase keys, exactly what ``kubectl get -o json`` prints);
:mod:`k8srun.frames` turns them into DataFrames. Resource names are the
API's lower-case plurals (``pods``, ``events``, ``persistentvolumeclaims``).
"""

from __future__ import annotations

import abc
import datetime as dt
import re
from pathlib import Path

from ..errors import NoClusterSource, ParameterError
from ..errors import SourceUnavailable  # noqa: F401 - re-exported (k8srun.sources.SourceUnavailable)
from ..resources import CATALOGUE

#: resource plural -> namespaced?
RESOURCES: dict[str, bool] = {plural: r.namespaced for plural, r in CATALOGUE.items()}

#: bytes of one container's log a read returns at most (``limitBytes`` on a live cluster)
LOG_LIMIT_BYTES = 8 * 2**20


class Source(abc.ABC):
    """Read-only access to cluster state. Implementations never write."""

    #: "scenario", "snapshot", "lab" (a snapshot of the live fault lab), "live" or "none"
    kind: str = ""

    #: human description for report headers, e.g. "scenario:pod-pending"
    description: str = ""

    @abc.abstractmethod
    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        """Objects of ``resource``; ``namespace=None`` means all namespaces."""

    def get(self, resource: str, namespace: str | None, name: str) -> dict | None:
        """One object by name, or ``None`` when it does not exist."""
        for obj in self.list(resource, namespace):
            if obj.get("metadata", {}).get("name") == name:
                return obj
        return None

    def events_for(self, namespace: str, kind: str, name: str) -> list[dict]:
        """Events whose involvedObject is ``kind/name`` in ``namespace``."""
        out = []
        for ev in self.list("events", namespace):
            inv = ev.get("involvedObject") or ev.get("regarding") or {}
            if inv.get("kind") == kind and inv.get("name") == name:
                out.append(ev)
        return out

    @abc.abstractmethod
    def logs(self, namespace: str, pod: str, container: str, *, previous: bool = False,
             tail_lines: int | None = None, limit_bytes: int | None = LOG_LIMIT_BYTES) -> str:
        """Log text of one container (``previous``: the last terminated run), at most ``limit_bytes``."""

    def gaps(self, resource: str, namespace: str | None = None) -> list[tuple[str, str]]:
        """(what, why) of parts of ``list(resource, namespace)`` known to be missing.

        A snapshot records what its capture could not read (a 403 on one
        namespace, a timeout): the listed objects are then incomplete, and
        that must be shown, not read as "there are none".
        """
        return []

    def namespaces(self) -> list[str]:
        """Names of the namespaces this source knows."""
        return sorted(o["metadata"]["name"] for o in self.list("namespaces"))

    def default_namespace(self) -> str:
        """The namespace a runbook looks at when none is given."""
        return "default"

    def now(self) -> dt.datetime:
        """Reference time for ages ("since when"): capture time for snapshots."""
        return dt.datetime.now(dt.timezone.utc)

    def meta(self) -> dict:
        """What is known about the source: captured_at, cluster version, errors."""
        return {"kind": self.kind, "description": self.description}

    def close(self) -> None:
        """Release what the source holds (temp dirs, connections)."""

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class NoSource(Source):
    """``source: none`` — no cluster; every question raises :class:`NoClusterSource`."""

    kind = "none"
    description = "none (no cluster)"

    def list(self, resource, namespace=None):
        raise NoClusterSource()

    def logs(self, namespace, pod, container, *, previous=False, tail_lines=None, limit_bytes=None):
        raise NoClusterSource()

    def namespaces(self):
        return []


_SCENARIO_RE = re.compile(r"^scenario:([a-z0-9][a-z0-9-]*)$")


def scenarios_dir() -> Path:
    """Folder of the built-in recorded scenarios."""
    return Path(__file__).resolve().parent.parent / "scenarios"


def scenario_names() -> list[str]:
    """Names usable as ``scenario:NAME``."""
    root = scenarios_dir()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


LAB_DESCRIPTION = "lab (fault lab snapshot)"


def require_lab_target(parameter_names: list[str], values: dict) -> None:
    """ParameterError when a runbook that runs node commands is given ``-p source lab`` and no
    ``-p target``: the lab's pods and nodes are network namespaces, and this machine is none of them
    (its commands would describe the host, not the lab)."""
    if str(values.get("source") or "").strip() != "lab" or "target" not in parameter_names \
            or str(values.get("target") or "").strip():
        return
    from ..lab.topology import LAB

    places = ", ".join(f"netns:{place.netns}" for place in (LAB.pod_a, LAB.node_a, LAB.node_b))
    raise ParameterError("target", "", f"with -p source lab, say where node commands run: {places} "
                         "(or local, where the control-plane lab's etcd and API server run)")


def lab_snapshot_dir() -> Path:
    """The fault lab's API snapshot folder; ParameterError (one line) when no lab is up."""
    from ..lab.cluster import snapshot_path
    from ..lab.state import STATE_FILE, state_dir

    directory = state_dir()
    try:
        up = (directory / STATE_FILE).is_file() and snapshot_path(directory).is_dir()
    except OSError:  # e.g. the root-only state dir read by another user
        up = False
    if not up:
        raise ParameterError("source", "lab", "the fault lab is not up: run `k8srun lab up` first "
                             "(or use scenario:NAME)")
    return snapshot_path(directory)


def resolve_source_spec(spec: object) -> tuple[str, str | Path]:
    """Validate a ``source`` value: ("none"|"live", "") or ("scenario"|"snapshot", path)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError("source", spec, "must be scenario:NAME, a bundle path, 'lab', 'live' or 'none'")
    spec = spec.strip()
    if spec in ("none", "live"):
        return spec, ""
    if spec == "lab":
        return "snapshot", lab_snapshot_dir()
    match = _SCENARIO_RE.match(spec)
    if match:
        path = scenarios_dir() / match.group(1)
        if not path.is_dir():
            raise ParameterError("source", spec, f"no built-in scenario {match.group(1)!r} "
                                 f"(have: {', '.join(scenario_names())})")
        return "scenario", path
    if spec.startswith("scenario:"):
        raise ParameterError("source", spec, "scenario names are lower-case letters, digits and '-'")
    path = Path(spec).expanduser()
    if not path.exists():
        raise ParameterError("source", spec, "no such snapshot bundle (directory or .tar.gz); "
                             "use scenario:NAME, 'lab', 'live' or 'none'")
    return "snapshot", path


def open_source(spec: str, *, kubeconfig: str | None = None, context: str | None = None,
                timeout_s: float = 10) -> Source:
    """The :class:`Source` named by the ``source`` parameter (see module doc)."""
    kind, path = resolve_source_spec(spec)
    if kind == "none":
        return NoSource()
    if kind == "live":
        from .live import LiveSource

        return LiveSource(kubeconfig=kubeconfig, context=context, timeout_s=timeout_s)
    from .snapshot import SnapshotSource

    if kind == "scenario":
        return SnapshotSource(path, kind="scenario", description=spec.strip())
    if spec.strip() == "lab":  # the cluster from the snapshot, node commands live (not replayed)
        return SnapshotSource(path, kind="lab", description=LAB_DESCRIPTION)
    return SnapshotSource(path)


def check_source(spec: str, *, kubeconfig: str | None = None, context: str | None = None,
                 timeout_s: float = 10, namespace: str | None = None, pod: str | None = None,
                 container: str | None = None) -> None:
    """Can a runbook use this source? Raises a one-line error naming what cannot be used.

    Run before a kernel starts (``k8srun run``): a bundle is opened (a
    ``.tar.gz`` extracted within its caps, then removed), and ``namespace``,
    ``pod`` and ``container``, when given, must be in it; a live cluster's
    kubeconfig, context and exec credential plugin must load and its API
    server answer ``/version`` within ``timeout_s`` (unreachable, credentials
    rejected or not the Kubernetes API: :class:`~k8srun.errors.SourceError`).
    A live cluster's namespaces are not looked up here: a runbook shows what
    it cannot read as "evidence unavailable".
    """
    with open_source(spec, kubeconfig=kubeconfig, context=context, timeout_s=timeout_s) as source:
        if source.kind == "live":
            source.version()
        elif source.kind in ("snapshot", "scenario", "lab"):
            _check_in_bundle(source, namespace, pod, container)


def _check_in_bundle(source: Source, namespace: str | None, pod: str | None, container: str | None) -> None:
    from ..errors import SourceError

    if not (namespace or pod or container):
        return
    try:
        known = source.namespaces()
    except SourceError:
        return  # the runbook says what it could not read
    if namespace and namespace not in known:
        raise ParameterError("namespace", namespace, f"no such namespace in {source.description} "
                             f"(has: {', '.join(known[:20]) or 'none'})")
    if not pod:
        return
    try:
        found = source.get("pods", namespace, pod)  # no namespace: the pod in any namespace
    except SourceError:
        return
    where = f"namespace {namespace}" if namespace else "any namespace"
    if found is None:
        raise ParameterError("pod", pod, f"no such pod in {where} of {source.description}")
    spec = found.get("spec") if isinstance(found.get("spec"), dict) else {}
    names = [c.get("name") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
             if isinstance(c, dict)]
    if container and container not in names:
        raise ParameterError("container", container, f"pod {pod} has no such container "
                             f"(has: {', '.join(str(n) for n in names) or 'none'})")
