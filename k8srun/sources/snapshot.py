"""Snapshot bundles: a ``kubectl cluster-info dump --output-directory`` tree.

Layout read (SPEC.md "Snapshot bundle")::

    nodes.json                     a NodeList (kubectl writes ``.yaml`` with -o yaml)
    <ns>/events.json               EventList
    <ns>/replication-controllers.json, services.json, daemonsets.json,
    <ns>/deployments.json, replicasets.json, pods.json
    <ns>/<pod>/logs.txt            "==== START logs for container C of pod NS/P ===="
                                   ... "==== END logs for container C of pod NS/P ===="
                                   one block per container, init containers first
    -- what k8srun adds (absent from a plain dump; asking for it raises BundleError) --
    k8srun.json                    {"captured_at", "cluster_version" (the /version object),
                                    "gathered", "errors"}
    namespaces.json, persistentvolumes.json, storageclasses.json
    <ns>/endpoints.json, endpointslices.json, persistentvolumeclaims.json,
    <ns>/statefulsets.json, jobs.json, configmaps.json (keys only)
    <ns>/<pod>/logs-previous.txt   same framing, ``kubectl logs --previous``
    hosts/<host>/<command-id>.txt  raw node command outputs (see k8srun.targets)

The bundle may be a directory or a ``.tar.gz``/``.tgz`` of one (extracted to
a private temp dir with tarfile's "data" filter); JSON and YAML files both load.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tarfile
import tempfile
from pathlib import Path

import yaml

from ..errors import BundleError
from ..resources import CATALOGUE
from . import RESOURCES, Source

try:  # the C loader is ~10x faster on large dumps
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on libyaml
    _YamlLoader = yaml.SafeLoader

_MARKER_FILES = ("nodes.json", "nodes.yaml", "k8srun.json")
_START = re.compile(r"==== START logs for container (?P<container>[^ ]+) of pod "
                    r"(?P<namespace>[^/ ]+)/(?P<pod>[^ ]+) ====\n")


def parse_logs_file(text: str) -> dict[str, str]:
    """``logs.txt`` text -> {container: log text}, in file order.

    kubectl writes the log bytes verbatim between the markers, so a log
    without a trailing newline has the END marker on its last line.
    """
    logs: dict[str, str] = {}
    pos = 0
    while True:
        start = _START.search(text, pos)
        if not start:
            break
        end_marker = (f"==== END logs for container {start['container']} of pod "
                      f"{start['namespace']}/{start['pod']} ====")
        end = text.find(end_marker, start.end())
        if end < 0:
            raise BundleError(f"logs of container {start['container']} of pod "
                              f"{start['namespace']}/{start['pod']} have no END marker (truncated file?)")
        logs[start["container"]] = text[start.end():end]
        pos = end + len(end_marker)
    return logs


def _tail(text: str, tail_lines: int | None) -> str:
    if not tail_lines:
        return text
    lines = text.splitlines(keepends=True)
    return "".join(lines[-tail_lines:])


def _find_root(path: Path) -> Path:
    """The directory holding nodes.json (a tarball may wrap it in one folder)."""
    if any((path / m).exists() for m in _MARKER_FILES):
        return path
    children = [c for c in path.iterdir() if c.is_dir()]
    if len(children) == 1 and any((children[0] / m).exists() for m in _MARKER_FILES):
        return children[0]
    raise BundleError(f"{path} is not a snapshot bundle: no nodes.json/nodes.yaml or k8srun.json "
                      "(expected a `kubectl cluster-info dump --output-directory` tree)", path=path)


class SnapshotSource(Source):
    """Read-only :class:`Source` over a snapshot bundle (directory or .tar.gz)."""

    kind = "snapshot"

    def __init__(self, path: str | Path, *, kind: str = "snapshot", description: str | None = None):
        path = Path(path).expanduser()
        self.kind = kind
        self.description = description or str(path)
        self._tmp: str | None = None
        if path.is_file():
            if not path.name.endswith((".tar.gz", ".tgz")):
                raise BundleError(f"{path}: a bundle is a directory or a .tar.gz of one", path=path)
            self._tmp = tempfile.mkdtemp(prefix="k8srun-bundle-")
            try:
                with tarfile.open(path, "r:gz") as archive:
                    archive.extractall(self._tmp, filter="data")
            except (tarfile.TarError, OSError, EOFError) as exc:
                self.close()
                raise BundleError(f"{path}: cannot extract bundle: {exc}", path=path) from None
            path = Path(self._tmp)
        elif not path.is_dir():
            raise BundleError(f"{path}: no such bundle", path=path)
        self._cache: dict[Path, list[dict]] = {}
        try:
            self.root = _find_root(path)
            self._info = self._load_info()
        except BundleError:
            self.close()
            raise

    # ------------------------------------------------------------ files
    def _load_info(self) -> dict:
        info_path = self.root / "k8srun.json"
        if not info_path.exists():
            return {}
        try:
            return json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BundleError(f"{info_path}: unreadable: {exc}", path=info_path) from None

    def _file(self, directory: Path, resource: str) -> Path | None:
        stem = CATALOGUE[resource].file_stem
        for ext in (".json", ".yaml", ".yml"):
            candidate = directory / (stem + ext)
            if candidate.exists():
                return candidate
        return None

    def _items(self, path: Path) -> list[dict]:
        if path not in self._cache:
            try:
                text = path.read_text(encoding="utf-8")
                data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YamlLoader)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                raise BundleError(f"{path.relative_to(self.root)}: unreadable: "
                                  f"{str(exc).splitlines()[0]}", path=path) from None
            if isinstance(data, dict) and isinstance(data.get("items"), list):
                items = data["items"]
            elif data is None:
                items = []
            else:
                raise BundleError(f"{path.relative_to(self.root)}: not a Kubernetes List (no items)", path=path)
            self._cache[path] = [i for i in items if isinstance(i, dict)]
        return self._cache[path]

    def _namespace_dirs(self) -> list[str]:
        names = []
        for child in sorted(self.root.iterdir()):
            if child.is_dir() and child.name != "hosts" and \
                    any(self._file(child, r) for r in ("pods", "events", "services")):
                names.append(child.name)
        return names

    # ------------------------------------------------------- interface
    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        if resource not in RESOURCES:
            raise BundleError(f"unknown resource {resource!r}", path=self.root)
        if not RESOURCES[resource]:
            if resource == "namespaces" and not self._file(self.root, "namespaces"):
                return [{"metadata": {"name": ns}} for ns in self._namespace_dirs()]
            path = self._file(self.root, resource)
            if path is None:
                raise BundleError(f"{resource} not in this bundle (a plain kubectl cluster-info dump "
                                  "has only nodes; `k8srun capture` gathers more)", path=self.root)
            return list(self._items(path))
        namespaces = [namespace] if namespace else self._namespace_dirs()
        found, objects = False, []
        for ns in namespaces:
            directory = self.root / ns
            if not directory.is_dir():
                raise BundleError(f"namespace {ns!r} not in this bundle "
                                  f"(have: {', '.join(self._namespace_dirs()) or 'none'})", path=self.root)
            path = self._file(directory, resource)
            if path is None:
                continue
            found = True
            for obj in self._items(path):
                obj.setdefault("metadata", {}).setdefault("namespace", ns)
                objects.append(obj)
        if not found:
            where = f"namespace {namespace}" if namespace else "any namespace"
            raise BundleError(f"{resource} not in this bundle for {where} "
                              "(not gathered; a plain kubectl cluster-info dump lacks it)", path=self.root)
        return objects

    def namespaces(self) -> list[str]:
        return sorted(o["metadata"]["name"] for o in self.list("namespaces"))

    def gaps(self, resource: str, namespace: str | None = None) -> list[tuple[str, str]]:
        """The capture errors k8srun.json recorded for this resource (and namespace)."""
        errors = self._info.get("errors")
        if not isinstance(errors, list):
            return []
        wanted = {resource, f"{resource} in all namespaces"}
        wanted |= ({f"{resource} in namespace {namespace}"} if namespace else
                   {e.get("what") for e in errors if isinstance(e, dict)
                    and str(e.get("what", "")).startswith(f"{resource} in namespace ")})
        return [(str(e["what"]), f"not captured: {e.get('error', 'unknown error')}")
                for e in errors if isinstance(e, dict) and e.get("what") in wanted]

    def logs(self, namespace: str, pod: str, container: str, *, previous: bool = False,
             tail_lines: int | None = None) -> str:
        name = "logs-previous.txt" if previous else "logs.txt"
        path = self.root / namespace / pod / name
        what = f"{'previous ' if previous else ''}logs of container {container} of pod {namespace}/{pod}"
        if not path.exists():
            if previous:
                raise BundleError(f"no {what} in this bundle (not restarted, or not captured)", path=path)
            raise BundleError(f"no {what} in this bundle", path=path)
        try:
            blocks = parse_logs_file(path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise BundleError(f"{what}: unreadable: {exc}", path=path) from None
        if container not in blocks:
            raise BundleError(f"no {what} in this bundle (have: {', '.join(blocks) or 'none'})", path=path)
        return _tail(blocks[container], tail_lines)

    def default_namespace(self) -> str:
        """A scenario's own namespace (scenario.yaml), else ``default``."""
        scenario = self.root / "scenario.yaml"
        if scenario.exists():
            data = yaml.safe_load(scenario.read_text(encoding="utf-8")) or {}
            if data.get("namespace"):
                return str(data["namespace"])
        return "default"

    def now(self) -> dt.datetime:
        captured = self._info.get("captured_at")
        if captured:
            return dt.datetime.fromisoformat(captured.replace("Z", "+00:00"))
        # A plain dump: the newest node heartbeat is the best clock we have.
        beats = []
        try:
            for node in self.list("nodes"):
                for cond in (node.get("status") or {}).get("conditions") or []:
                    if cond.get("lastHeartbeatTime"):
                        beats.append(cond["lastHeartbeatTime"])
        except BundleError:
            pass
        if beats:
            return dt.datetime.fromisoformat(max(beats).replace("Z", "+00:00"))
        stamp = (self.root / "nodes.json") if (self.root / "nodes.json").exists() else self.root
        return dt.datetime.fromtimestamp(stamp.stat().st_mtime, dt.timezone.utc)

    def meta(self) -> dict:
        """Source facts plus k8srun.json; ``cluster_version`` is a /version object (``{"gitVersion": ...}``)."""
        meta = {"kind": self.kind, "description": self.description, "path": str(self.root),
                "format": "k8srun bundle" if self._info else "kubectl cluster-info dump",
                "captured_at": self.now().isoformat(), **{k: v for k, v in self._info.items()
                                                           if k not in ("captured_at",)}}
        if isinstance(meta.get("cluster_version"), str):  # recorded by an early `k8srun capture`
            meta["cluster_version"] = {"gitVersion": meta["cluster_version"]}
        return meta

    @property
    def hosts_dir(self) -> Path:
        """Folder of recorded node command outputs (``hosts/<host>/``)."""
        return self.root / "hosts"

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
