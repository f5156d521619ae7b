"""Each bundle file parsed once: its DataFrames cached on disk, columnar, keyed by the file.

A large bundle (150,000 pods, 2–3 GB of JSON) costs half a minute to parse and
several GB as Python dicts. :class:`FrameCache` turns one bundle file into the
:mod:`k8srun.frames` DataFrame a runbook asks for (``pods_frame`` of
``team-a/pods.json``), keeps it in memory for the process, and writes it to a
cache folder so the next run — another runbook, ``k8srun serve``, a re-run —
reads the small columnar copy instead of the JSON.

What is read: a frame builder may declare the fields it needs
(:data:`LITE_SCHEMAS`, msgspec Structs mirroring the API's JSON): the file is
then decoded into just those fields, skipping the rest (``managedFields``,
env, probes, images) at C speed, and the builder sees the same camelCase dicts,
only smaller. Node usage needs six fields of every pod, not whole objects.

Where: ``$K8SRUN_CACHE_DIR``, else ``$XDG_CACHE_HOME/k8srun``, else
``~/.cache/k8srun``; under it ``bundles/<sha256 of the bundle's path>/`` (a
``.tar.gz`` bundle is keyed by the archive's path, not its temporary
extraction), one file per (bundle file, frame), created private (0700/0600).
``K8SRUN_CACHE=off`` turns the disk cache off; files smaller than
``K8SRUN_CACHE_MIN_BYTES`` (default 128 KiB) are not written to disk (they parse
faster than a cache is opened).

Invalidation: every cache file records the key it was built from — the
bundle file's size and modification time (ns), the frame's name, and a digest
of the code that builds frames (``frames.py`` and this module). A cache file
whose key differs from the bundle file's current one is rebuilt; so is one
that does not decode. Editing a bundle file (even to the same size) changes
its mtime; a copy of a bundle that keeps mtimes (``cp -p``, ``tar``) keeps its
cache only where it lives at the same path.

Format: msgpack (msgspec) of ``{"key", "columns": [[name, kind, dtype, data]]}``;
numbers, booleans and times as raw little-endian arrays, everything else as
msgpack values (strings, dicts, lists). No pickle: a cache file is data, never
code.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import msgspec
import numpy as np
import pandas as pd

CACHE_ENV = "K8SRUN_CACHE_DIR"
CACHE_SWITCH_ENV = "K8SRUN_CACHE"
MIN_BYTES_ENV = "K8SRUN_CACHE_MIN_BYTES"
MIN_BYTES = 128 * 2**10
_FORMAT = 1


# ------------------------------------------------------------------ what is read


class _Lite(msgspec.Struct, omit_defaults=True):
    """Fields absent from the JSON stay absent in the dicts the builders see."""


class _Meta(_Lite):
    name: Any = None
    namespace: Any = None
    labels: Any = None
    ownerReferences: Any = None
    creationTimestamp: Any = None
    deletionTimestamp: Any = None


class _Container(_Lite):
    name: Any = None
    resources: Any = None
    restartPolicy: Any = None


class _Volume(_Lite):
    name: Any = None
    persistentVolumeClaim: Any = None


class _PodSpec(_Lite):
    nodeName: Any = None
    hostNetwork: Any = None
    nodeSelector: Any = None
    affinity: Any = None
    tolerations: Any = None
    containers: list[_Container] | None = None
    initContainers: list[_Container] | None = None
    overhead: Any = None
    volumes: list[_Volume] | None = None
    imagePullSecrets: Any = None


class _ContainerStatus(_Lite):
    name: Any = None
    restartCount: Any = None
    state: Any = None
    lastState: Any = None
    ready: Any = None
    started: Any = None


class _PodStatus(_Lite):
    phase: Any = None
    reason: Any = None
    podIP: Any = None
    qosClass: Any = None
    conditions: Any = None
    containerStatuses: list[_ContainerStatus] | None = None
    initContainerStatuses: list[_ContainerStatus] | None = None


class _Pod(_Lite):
    kind: Any = None
    metadata: _Meta | None = None
    spec: _PodSpec | None = None
    status: _PodStatus | None = None


class _UsageMeta(_Lite):
    name: Any = None
    namespace: Any = None


class _UsageSpec(_Lite):
    nodeName: Any = None
    containers: list[_Container] | None = None
    initContainers: list[_Container] | None = None
    overhead: Any = None


class _UsageStatus(_Lite):
    phase: Any = None


class _UsagePod(_Lite):
    kind: Any = None
    metadata: _UsageMeta | None = None
    spec: _UsageSpec | None = None
    status: _UsageStatus | None = None


class _PodList(_Lite):
    kind: Any = None
    items: list[_Pod] | None = None


class _UsagePodList(_Lite):
    kind: Any = None
    items: list[_UsagePod] | None = None


#: frame builder name -> the msgspec List type its file is decoded into (only those fields)
LITE_SCHEMAS: dict[str, type] = {"pods_frame": _PodList, "pod_usage_frame": _UsagePodList}
_DECODERS = {name: msgspec.json.Decoder(schema) for name, schema in LITE_SCHEMAS.items()}


def decode_lite(builder_name: str, data: bytes) -> tuple[Any, list[dict]] | None:
    """(list kind, items as trimmed dicts) of a JSON List for ``builder_name``; None: no schema, or the
    file does not fit it (the caller reads it whole and reports what is wrong)."""
    decoder = _DECODERS.get(builder_name)
    if decoder is None:
        return None
    try:
        decoded = decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return decoded.kind, msgspec.to_builtins(decoded.items or [])


# ------------------------------------------------------------ frames <-> bytes

def _code_digest() -> str:
    here = Path(__file__).resolve()
    digest = hashlib.sha256()
    for path in (here, here.parent.parent / "frames.py"):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(str(path).encode())
    return digest.hexdigest()[:16]


_CODE = _code_digest()


def encode_frame(frame: pd.DataFrame, key: dict) -> bytes:
    """A DataFrame (the column kinds :mod:`k8srun.frames` makes) as msgpack bytes, with its cache key."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
            columns.append([name, "time", values.dtype.str, values.view("i8").tobytes()])
        elif isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            columns.append([name, "array", dtype.str, np.ascontiguousarray(series.to_numpy()).tobytes()])
        elif isinstance(dtype, pd.Int64Dtype):
            mask = series.isna().to_numpy()
            values = series.fillna(0).astype("int64").to_numpy()
            columns.append([name, "Int64", "i8", [values.tobytes(), mask.tobytes()]])
        else:
            values = [None if _missing(v) else v for v in series.tolist()]
            columns.append([name, "values", str(dtype), values])
    return msgspec.msgpack.encode({"format": _FORMAT, "key": key, "rows": len(frame), "columns": columns})


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA or value is pd.NaT


def decode_frame(data: bytes, key: dict) -> pd.DataFrame | None:
    """The DataFrame of :func:`encode_frame` bytes, or None when they are not for ``key`` (or unreadable)."""
    try:
        payload = msgspec.msgpack.decode(data)
        if payload.get("format") != _FORMAT or payload.get("key") != key:
            return None
        rows = payload["rows"]
        out: dict[str, Any] = {}
        for name, kind, dtype, values in payload["columns"]:
            if kind == "time":
                stamps = np.frombuffer(values, dtype="i8").view(np.dtype(dtype))
                out[name] = pd.Series(stamps).dt.tz_localize("UTC")
            elif kind == "array":
                out[name] = pd.Series(np.frombuffer(values, dtype=np.dtype(dtype)).copy())
            elif kind == "Int64":
                array = pd.arrays.IntegerArray(np.frombuffer(values[0], dtype="i8").copy(),
                                               np.frombuffer(values[1], dtype=bool).copy())
                out[name] = pd.Series(array)
            else:
                out[name] = pd.Series(values, dtype=object if dtype == "object" else dtype)
            if len(out[name]) != rows:
                return None
        return pd.DataFrame(out, index=pd.RangeIndex(rows)) if out else pd.DataFrame(index=pd.RangeIndex(rows))
    except (msgspec.DecodeError, ValueError, TypeError, KeyError, AttributeError):
        return None


# ------------------------------------------------------------------ the cache

def cache_root() -> Path | None:
    """The folder caches go to, or None when the disk cache is off."""
    if os.environ.get(CACHE_SWITCH_ENV, "").lower() in ("off", "0", "no", "false"):
        return None
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "k8srun"


def _min_bytes() -> int:
    value = os.environ.get(MIN_BYTES_ENV, "")
    return int(value) if value.isdigit() else MIN_BYTES


class FrameCache:
    """Frames of one bundle's files: built once per process, kept on disk between processes."""

    def __init__(self, bundle_id: str):
        self.bundle_id = bundle_id
        self._memory: dict[tuple[str, str], pd.DataFrame] = {}
        root = cache_root()
        self.folder = (root / "bundles" / hashlib.sha256(bundle_id.encode()).hexdigest()[:24]) if root else None
        #: counts of what happened, for benchmarks and tests: built, loaded, written, derived
        self.stats = {"built": 0, "loaded": 0, "written": 0, "derived": 0}

    def _path(self, relative: str, builder: str) -> Path | None:
        if self.folder is None:
            return None
        safe = relative.replace("/", "__")
        return self.folder / f"{safe}.{builder}.msgpack"

    def _key(self, path: Path, relative: str, builder: str) -> tuple[dict, Path | None]:
        stat = path.stat()
        key = {"file": relative, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "builder": builder,
               "code": _CODE, "bundle": self.bundle_id}
        return key, (self._path(relative, builder) if stat.st_size >= _min_bytes() else None)

    def cached(self, path: Path, relative: str, builder: str, *, keep: bool = True) -> pd.DataFrame | None:
        """The ``builder`` frame of ``path`` when it is in memory or on disk (and current), else None;
        ``keep``: hold it in memory for the next ask."""
        memo = (relative, builder)
        if memo in self._memory:
            return self._memory[memo]
        key, cached = self._key(path, relative, builder)
        if cached is None or not cached.exists():
            return None
        try:
            frame = decode_frame(cached.read_bytes(), key)
        except OSError:
            return None
        if frame is not None:
            self.stats["loaded"] += 1
            if keep:
                self._memory[memo] = frame
        return frame

    def frame(self, path: Path, relative: str, builder: str, build: Callable[[], pd.DataFrame],
              derive: tuple[str, Callable[[pd.DataFrame], pd.DataFrame]] | None = None) -> pd.DataFrame:
        """The ``builder`` frame of bundle file ``path`` (``relative`` to the bundle): memory, disk, or built.

        ``derive``: (another builder, function) — when that builder's frame of the file is cached, this
        one is derived from it instead of reading the file (node usage from the pods frame triage made).
        """
        memo = (relative, builder)
        frame = self.cached(path, relative, builder)
        if frame is not None:
            return frame
        key, cached = self._key(path, relative, builder)
        if derive is not None:
            source = self.cached(path, relative, derive[0], keep=False)
            if source is not None:
                frame = derive[1](source)
                self.stats["derived"] += 1
                self._memory[memo] = frame
                return frame
        frame = build()
        self.stats["built"] += 1
        if cached is not None:
            self._write(cached, encode_frame(frame, key))
        self._memory[memo] = frame
        return frame

    def _write(self, path: Path, data: bytes) -> None:
        """Atomically (rename), privately; a cache that cannot be written is only slower, never an error."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
            self.stats["written"] += 1
        except OSError:
            pass
