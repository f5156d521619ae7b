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

The bundle may be a directory or a ``.tar.gz``/``.tgz`` of one, extracted to a
private temp dir with tarfile's "data" filter (no absolute paths, no ``..``, no
links out, no devices) within caps: at most :data:`MAX_FILES` members and
:data:`MAX_BYTES` bytes in all (``K8SRUN_BUNDLE_MAX_FILES``/``_MAX_BYTES``
override them), so a gzip bomb stops at the cap. The temp dir goes with
:meth:`SnapshotSource.close`, or at the latest when the process exits.
JSON and YAML files both load.

Nothing in a bundle is trusted: a file that is not valid JSON/YAML, a List of
another kind, an item that is not an object, a symlink leading out of the
bundle or a file over :data:`MAX_FILE_BYTES` raises :class:`BundleError`
naming the file, which a runbook shows as "evidence unavailable". Log reads
keep at most ``limit_bytes`` (default :data:`~k8srun.sources.LOG_LIMIT_BYTES`), the newest.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import re
import shutil
import tarfile
import tempfile
import weakref
import zlib
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from .. import frames as frames_module
from ..errors import BundleError
from ..resources import CATALOGUE
from . import LOG_LIMIT_BYTES, RESOURCES, Source
from .bundlecache import LITE_SCHEMAS, FrameCache, decode_lite

try:  # the C loader is ~10x faster on large dumps
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on libyaml
    _YamlLoader = yaml.SafeLoader

_MARKER_FILES = ("nodes.json", "nodes.yaml", "k8srun.json")

#: extraction caps for a ``.tar.gz`` bundle (environment variables of the same name override)
MAX_FILES = 200_000
MAX_BYTES = 4 * 2**30
#: the largest single file (object list, logs file) read from a bundle
MAX_FILE_BYTES = 1 * 2**30
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


def _tail(text: str, tail_lines: int | None, limit_bytes: int | None = LOG_LIMIT_BYTES) -> str:
    """The last ``tail_lines`` lines, then at most the last ``limit_bytes`` bytes of them."""
    if tail_lines:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-tail_lines:])
    if limit_bytes and len(text) > limit_bytes // 4:  # a character is at most 4 bytes
        data = text.encode("utf-8", errors="replace")
        if len(data) > limit_bytes:
            text = data[-limit_bytes:].decode("utf-8", errors="ignore")
    return text


def _cap(name: str, default: int) -> int:
    """An extraction cap: the environment variable ``K8SRUN_BUNDLE_<NAME>`` or ``default``."""
    text = os.environ.get(f"K8SRUN_BUNDLE_{name}", "")
    return int(text) if text.isdigit() and int(text) > 0 else default


def _require_whole_gzip(archive: Path, max_bytes: int) -> None:
    """Raise EOFError when the gzip stream stops before its end marker (a truncated download or copy).

    tarfile's stream mode takes a cut at a member boundary for the end of the
    archive, so a half-copied bundle would extract "cleanly" with files
    missing. One streaming pass (at most ``max_bytes`` decompressed, 1 MiB at
    a time) checks the end marker first; past the cap the extraction's own
    cap speaks.
    """
    inflate = zlib.decompressobj(wbits=31)
    produced = 0
    with open(archive, "rb") as handle:
        while chunk := handle.read(1 << 20):
            while chunk and not inflate.eof:
                produced += len(inflate.decompress(chunk, 1 << 20))
                if produced > max_bytes:
                    return
                chunk = inflate.unconsumed_tail
            if inflate.eof:
                return
    raise EOFError("the archive is truncated: its gzip stream ends before the end marker")


def extract_bundle(archive: Path, dest: Path) -> None:
    """Extract a ``.tar.gz`` bundle into ``dest``, member by member, within the caps.

    Refuses (BundleError naming the member) what the "data" filter refuses —
    absolute paths, ``..``, links leading out, devices and FIFOs — and stops
    at the first member past :data:`MAX_FILES` or past :data:`MAX_BYTES` in
    all, before writing it, so a gzip bomb costs no more than the cap.
    """
    max_files, max_bytes = _cap("MAX_FILES", MAX_FILES), _cap("MAX_BYTES", MAX_BYTES)
    count = total = 0
    try:
        _require_whole_gzip(archive, max_bytes)
        with tarfile.open(archive, "r|gz") as stream:
            for member in stream:
                count += 1
                total += max(member.size, 0)
                if count > max_files:
                    raise BundleError(f"{archive}: more than {max_files} files; not a bundle k8srun opens "
                                      "(K8SRUN_BUNDLE_MAX_FILES raises the cap)", path=archive)
                if total > max_bytes:
                    raise BundleError(f"{archive}: more than {max_bytes} bytes once extracted (at member "
                                      f"{member.name!r}); not a bundle k8srun opens "
                                      "(K8SRUN_BUNDLE_MAX_BYTES raises the cap)", path=archive)
                if member.name.startswith(("/", "\\")) or (member.issym() and member.linkname.startswith("/")):
                    raise BundleError(f"{archive}: cannot extract bundle: unsafe member refused: {member.name!r} "
                                      "has an absolute path", path=archive)
                if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
                    raise BundleError(f"{archive}: member {member.name!r} is a device or FIFO, "
                                      "which a bundle never holds", path=archive)
                stream.extract(member, dest, filter="data")
    except tarfile.FilterError as exc:  # absolute path, "..", a link out of the bundle
        raise BundleError(f"{archive}: cannot extract bundle: unsafe member refused: {exc}", path=archive) from None
    except (tarfile.TarError, OSError, EOFError, UnicodeError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise BundleError(f"{archive}: cannot extract bundle: {reason}", path=archive) from None


def _find_root(path: Path, shown: Path | None = None) -> Path:
    """The directory holding nodes.json (a tarball may wrap it in one folder); ``shown`` names it in errors."""
    if any((path / m).exists() for m in _MARKER_FILES):
        return path
    children = [c for c in path.iterdir() if c.is_dir()]
    if len(children) == 1 and any((children[0] / m).exists() for m in _MARKER_FILES):
        return children[0]
    shown = shown or path
    raise BundleError(f"{shown} is not a snapshot bundle: no nodes.json/nodes.yaml or k8srun.json "
                      "(expected a `kubectl cluster-info dump --output-directory` tree)", path=shown)


class SnapshotSource(Source):
    """Read-only :class:`Source` over a snapshot bundle (directory or .tar.gz)."""

    kind = "snapshot"

    def __init__(self, path: str | Path, *, kind: str = "snapshot", description: str | None = None):
        path = Path(path).expanduser()
        self.kind = kind
        self.description = description or str(path)
        self._tmp: str | None = None
        self._cleanup: weakref.finalize | None = None
        given = path
        if path.is_file():
            if not path.name.endswith((".tar.gz", ".tgz")):
                raise BundleError(f"{path}: a bundle is a directory or a .tar.gz of one", path=path)
            self._tmp = tempfile.mkdtemp(prefix="k8srun-bundle-")
            # removed by close(), or when this object or the process goes (a kernel that never closes)
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, ignore_errors=True)
            try:
                extract_bundle(path, Path(self._tmp))
            except BundleError:
                self.close()
                raise
            path = Path(self._tmp)
        elif path.exists() and not path.is_dir():
            raise BundleError(f"{path}: not a directory or a regular .tar.gz file", path=path)
        elif not path.is_dir():
            raise BundleError(f"{path}: no such bundle", path=path)
        self._cache: dict[Path, list[dict]] = {}
        # frames of the bundle's files, on disk between runs; a .tar.gz is known by the archive, not its temp copy
        self._frames = FrameCache(str(given.resolve()) if given.exists() else str(given))
        try:
            self.root = _find_root(path, shown=given)
            self._real_root = self.root.resolve()
            self._info = self._load_info()
        except BundleError:
            self.close()
            raise
        except OSError as exc:  # an unreadable directory
            self.close()
            raise BundleError(f"{path}: unreadable: {exc.strerror or exc}", path=path) from None

    # ------------------------------------------------------------ files
    def _load_info(self) -> dict:
        info_path = self.root / "k8srun.json"
        if not info_path.exists():
            return {}
        try:
            info = json.loads(self._read(info_path))
        except ValueError as exc:
            raise BundleError(f"{info_path}: unreadable: {str(exc).splitlines()[0]}", path=info_path) from None
        if not isinstance(info, dict):
            raise BundleError(f"{info_path}: not a k8srun.json object", path=info_path)
        captured = info.get("captured_at")
        if captured is not None and _timestamp(captured) is None:
            raise BundleError(f"{info_path}: captured_at {str(captured)[:40]!r} is not a timestamp", path=info_path)
        return info

    def _read(self, path: Path) -> str:
        """A file of the bundle as text: inside the bundle (symlinks too), regular, at most MAX_FILE_BYTES."""
        real = self._read_checks(path)
        try:
            return real.read_bytes().decode("utf-8", errors="replace")
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
            raise BundleError(f"{shown}: unreadable: {getattr(exc, 'strerror', None) or exc}", path=path) from None

    def _read_checks(self, path: Path) -> Path:
        """The real path of a bundle file that may be read: inside the bundle, regular, within the cap."""
        shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        try:
            real = path.resolve(strict=True)
            if not real.is_relative_to(self._real_root):
                raise BundleError(f"{shown}: a symlink leading out of the bundle (to {real}); refused",
                                  path=path)
            if not real.is_file():
                raise BundleError(f"{shown}: not a regular file", path=path)
            limit = _cap("MAX_FILE_BYTES", MAX_FILE_BYTES)
            if real.stat().st_size > limit:
                raise BundleError(f"{shown}: larger than {limit} bytes; not read", path=path)
            return real
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise BundleError(f"{shown}: unreadable: {getattr(exc, 'strerror', None) or exc}", path=path) from None

    def _file(self, directory: Path, resource: str) -> Path | None:
        stem = CATALOGUE[resource].file_stem
        for ext in (".json", ".yaml", ".yml"):
            candidate = directory / (stem + ext)
            if candidate.exists():
                return candidate
        return None

    def _items(self, path: Path, resource: str) -> list[dict]:
        if path not in self._cache:
            self._cache[path] = self._parse(path, resource)
        return self._cache[path]

    def _parse(self, path: Path, resource: str, data: object = None) -> list[dict]:
        """The items of one List file (``data``: already decoded), each checked to be a ``resource`` object."""
        shown = path.relative_to(self.root)
        if data is None:
            text = self._read(path)
            try:
                data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YamlLoader)
            except (ValueError, RecursionError, yaml.YAMLError) as exc:
                reason = (str(exc).splitlines() or [type(exc).__name__])[0]
                raise BundleError(f"{shown}: unreadable: {reason}", path=path) from None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            items = data["items"]
        elif data is None:
            items = []
        else:
            raise BundleError(f"{shown}: not a Kubernetes List (no items)", path=path)
        expected = CATALOGUE[resource]
        if data and data.get("kind") not in (None, "List", expected.list_kind):
            raise BundleError(f"{shown}: holds a {str(data.get('kind'))[:40]}, expected a "
                              f"{expected.list_kind}", path=path)
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("metadata", {}), dict):
                raise BundleError(f"{shown}: item {index} is not a Kubernetes object", path=path)
            if item.get("kind") not in (None, expected.kind):
                raise BundleError(f"{shown}: item {index} is a {str(item.get('kind'))[:40]}, expected a "
                                  f"{expected.kind}", path=path)
        return items

    def _read_bytes(self, path: Path) -> bytes:
        """A bundle file's bytes, with :meth:`_read`'s checks (inside the bundle, regular, within the cap)."""
        self._read_checks(path)
        try:
            return path.resolve(strict=True).read_bytes()
        except (OSError, RuntimeError) as exc:
            shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
            raise BundleError(f"{shown}: unreadable: {getattr(exc, 'strerror', None) or exc}", path=path) from None

    def _parse_for(self, builder: str, path: Path, resource: str) -> list[dict]:
        """Items of one file for frame ``builder``: only the fields it reads when it declares them
        (:data:`~k8srun.sources.bundlecache.LITE_SCHEMAS`), never kept in memory as whole objects."""
        if path in self._cache:
            return self._cache[path]
        if path.suffix == ".json" and builder in LITE_SCHEMAS:
            lite = decode_lite(builder, self._read_bytes(path))
            if lite is not None:
                kind, items = lite
                return self._parse(path, resource, {"kind": kind, "items": items})
        return self._parse(path, resource)

    def _namespace_dirs(self) -> list[str]:
        names = []
        for child in sorted(self.root.iterdir()):
            if child.is_dir() and child.name != "hosts" and \
                    any(self._file(child, r) for r in ("pods", "events", "services")):
                names.append(child.name)
        return names

    # ------------------------------------------------------- interface
    def _files(self, resource: str, namespace: str | None) -> list[tuple[Path, str | None]] | None:
        """(file, its namespace) holding ``resource`` (in ``namespace``); None: namespaces synthesised."""
        if resource not in RESOURCES:
            raise BundleError(f"unknown resource {resource!r}", path=self.root)
        if not RESOURCES[resource]:
            if resource == "namespaces" and not self._file(self.root, "namespaces"):
                return None
            path = self._file(self.root, resource)
            if path is None:
                raise BundleError(f"{resource} not in this bundle (a plain kubectl cluster-info dump "
                                  "has only nodes; `k8srun capture` gathers more)", path=self.root)
            return [(path, None)]
        namespaces = [namespace] if namespace else self._namespace_dirs()
        found = []
        for ns in namespaces:
            directory = self.root / ns
            if not directory.is_dir():
                raise BundleError(f"namespace {ns!r} not in this bundle "
                                  f"(have: {', '.join(self._namespace_dirs()) or 'none'})", path=self.root)
            path = self._file(directory, resource)
            if path is not None:
                found.append((path, ns))
        if not found:
            where = f"namespace {namespace}" if namespace else "any namespace"
            raise BundleError(f"{resource} not in this bundle for {where} "
                              "(not gathered; a plain kubectl cluster-info dump lacks it)", path=self.root)
        return found

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        files = self._files(resource, namespace)
        if files is None:
            return [{"metadata": {"name": ns}} for ns in self._namespace_dirs()]
        if not RESOURCES[resource]:
            return list(self._items(files[0][0], resource))
        objects = []
        for path, ns in files:
            for obj in self._items(path, resource):
                obj.setdefault("metadata", {}).setdefault("namespace", ns)
                objects.append(obj)
        return objects

    def frame(self, builder: Callable[[list[dict]], pd.DataFrame], resource: str,
              namespace: str | None = None) -> pd.DataFrame:
        """``builder(self.list(resource, namespace))``, built file by file and cached (module doc).

        ``builder`` is a :mod:`k8srun.frames` function of a list of objects.
        Each file is parsed once — only the fields the builder reads, when
        it declares them — and its frame kept on disk, so a bundle's objects
        are never all in memory as dicts. Raises what :meth:`list` raises.
        """
        if type(self).list is not SnapshotSource.list:  # a subclass decides what list() answers: ask it
            return builder(self.list(resource, namespace))
        files = self._files(resource, namespace)
        if files is None:
            return builder(self.list(resource, namespace))
        name = builder.__name__
        # the objects parsed and the frames built are trees, never cycles: the cyclic garbage collector
        # walking them again and again as they pile up cost more than the parse itself (150,000 pods: 3x)
        collecting = gc.isenabled()
        gc.disable()
        try:
            parts = self._frame_parts(builder, name, resource, files)
        finally:
            if collecting:
                gc.enable()
        return frames_module.combine(builder, parts)

    def _frame_parts(self, builder, name: str, resource: str, files: list) -> list[pd.DataFrame]:
        parts = []
        for path, ns in files:
            def build(path=path, ns=ns):
                items = self._parse_for(name, path, resource)
                if ns is not None:
                    for obj in items:
                        obj.setdefault("metadata", {}).setdefault("namespace", ns)
                return builder(items)
            parts.append(self._frames.frame(path, str(path.relative_to(self.root)), name, build,
                                            frames_module.DERIVED.get(name)))
        return parts

    def bundle_files(self, resource: str, namespace: str | None = None) -> list[tuple[Path, str | None]] | None:
        """(file, its namespace) of the List files :meth:`list` reads, in its order; None when the
        objects are synthesised (namespaces of a plain dump). Raises what :meth:`list` raises."""
        if type(self).list is not SnapshotSource.list:
            return None
        return self._files(resource, namespace)

    def read_bytes(self, path: Path) -> bytes:
        """A bundle file's bytes (inside the bundle, regular, within the size cap; else BundleError)."""
        return self._read_bytes(path)

    @property
    def frame_cache(self) -> FrameCache:
        """The cache :meth:`frame` reads (its ``stats``: frames built, loaded from disk, written)."""
        return self._frames

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
             tail_lines: int | None = None, limit_bytes: int | None = LOG_LIMIT_BYTES) -> str:
        name = "logs-previous.txt" if previous else "logs.txt"
        what = f"{'previous ' if previous else ''}logs of container {container} of pod {namespace}/{pod}"
        if any(not isinstance(part, str) or part in ("", ".", "..") or "/" in part for part in (namespace, pod)):
            raise BundleError(f"no {what} in this bundle (not a namespace/pod name)", path=self.root)
        path = self.root / namespace / pod / name
        if not path.exists():
            if previous:
                raise BundleError(f"no {what} in this bundle (not restarted, or not captured)", path=path)
            raise BundleError(f"no {what} in this bundle", path=path)
        blocks = parse_logs_file(self._read(path))
        if container not in blocks:
            raise BundleError(f"no {what} in this bundle (have: {', '.join(blocks) or 'none'})", path=path)
        return _tail(blocks[container], tail_lines, limit_bytes)

    def default_namespace(self) -> str:
        """A scenario's own namespace (scenario.yaml), else ``default``."""
        scenario = self.root / "scenario.yaml"
        if scenario.exists():
            try:
                data = yaml.safe_load(self._read(scenario))
            except yaml.YAMLError as exc:
                raise BundleError(f"scenario.yaml: unreadable: {str(exc).splitlines()[0]}", path=scenario) from None
            if isinstance(data, dict) and isinstance(data.get("namespace"), str) and data["namespace"]:
                return data["namespace"]
        return "default"

    def now(self) -> dt.datetime:
        captured = _timestamp(self._info.get("captured_at"))
        if captured:
            return captured
        # A plain dump: the newest node heartbeat is the best clock we have.
        beats = []
        try:
            for node in self.list("nodes"):
                status = node.get("status") if isinstance(node.get("status"), dict) else {}
                for cond in status.get("conditions") or []:
                    beat = _timestamp(cond.get("lastHeartbeatTime")) if isinstance(cond, dict) else None
                    if beat:
                        beats.append(beat)
        except BundleError:
            pass
        if beats:
            return max(beats)
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
        if self._cleanup is not None:
            self._cleanup()  # removes the extracted copy (once)
        self._tmp = None


def _timestamp(value: object) -> dt.datetime | None:
    """An RFC 3339 time as an aware datetime, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)
