"""Objects of a snapshot bundle served by index: one object decoded per GET, never a whole list.

``k8srun serve`` on a 150,000-pod bundle cannot rebuild (or hold) a
namespace's object list per request. :class:`ObjectStore` indexes each JSON
List file of the bundle once, when first asked: msgspec splits the file into
its items without decoding them (``msgspec.Raw`` views: each item's byte
offset and length) and decodes only the keys requests select on —
``metadata.name``, and for events ``involvedObject.kind/name/namespace/uid``.
The index (offsets, positions by name) stays; the bytes do not. Then

- ``get(plural, ns, name)``: one ``pread`` of the item's bytes, decoded;
- ``page(plural, ns, offset, limit, ...)``: the items of one page, files
  walked in namespace order, each indexed only when the page reaches it;
- a field selector naming ``metadata.name`` or ``involvedObject.name``
  narrows to the indexed positions before any object is decoded.

A file that is not JSON, whose items msgspec cannot split, or with an item
without a name is not indexed:
the server then falls back to the source's ``list`` (which says what is
wrong). Objects leave redacted (the caller redacts each one it returns).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import msgspec
import numpy as np


class _RawList(msgspec.Struct):
    items: list[msgspec.Raw] | None = None


class _Meta(msgspec.Struct):
    name: Any = None


class _Involved(msgspec.Struct):
    kind: Any = None
    name: Any = None
    namespace: Any = None
    uid: Any = None


class _Keys(msgspec.Struct):
    metadata: _Meta | None = None
    involvedObject: _Involved | None = None
    regarding: _Involved | None = None


class _KeysList(msgspec.Struct):
    items: list[_Keys] | None = None


_RAW = msgspec.json.Decoder(_RawList)
_KEYS = msgspec.json.Decoder(_KeysList)

#: field selector paths answered from the index: path -> the key of :class:`FileIndex.fields`
INDEXED_FIELDS = {"metadata.name": "name", "involvedObject.name": "involved_name"}


@dataclass
class FileIndex:
    """One List file: where each item is, and the keys requests select on."""

    path: Path
    namespace: str | None
    offsets: np.ndarray
    lengths: np.ndarray
    count: int
    fields: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.count

    def read(self, positions: list[int] | range) -> list[dict]:
        """The items at ``positions`` (in that order), decoded; the namespace filled in as list() does."""
        out = []
        with open(self.path, "rb") as handle:
            for position in positions:
                handle.seek(int(self.offsets[position]))
                obj = json.loads(handle.read(int(self.lengths[position])))
                if self.namespace is not None and isinstance(obj, dict):
                    meta = obj.setdefault("metadata", {})
                    if isinstance(meta, dict):
                        meta.setdefault("namespace", self.namespace)
                out.append(obj)
        return out


def _frozen(positions: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
    """Positions as tuples of ints: the collector stops tracking those (and then their dict) after one
    pass, where lists of a 150,000-pod index cost every full collection ~90 ms (a pause of every request)."""
    return {key: tuple(value) for key, value in positions.items()}


def index_file(path: Path, namespace: str | None, data: bytes) -> FileIndex | None:
    """The :class:`FileIndex` of a JSON List's bytes, or None when msgspec cannot split it."""
    try:
        raw = _RAW.decode(data).items or []
        keys = _KEYS.decode(data).items or []
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(raw) != len(keys):
        return None
    buffer = np.frombuffer(data, dtype=np.uint8)
    base = buffer.__array_interface__["data"][0] if len(buffer) else 0
    offsets = np.fromiter((np.frombuffer(item, dtype=np.uint8).__array_interface__["data"][0] - base
                           for item in raw), dtype=np.int64, count=len(raw))
    lengths = np.fromiter((len(item) for item in raw), dtype=np.int64, count=len(raw))
    names = [k.metadata.name if k.metadata is not None and isinstance(k.metadata.name, str) else "" for k in keys]
    if "" in names:  # an object without a name: served through the source's list, which says what is wrong
        return None
    by_name: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        by_name.setdefault(name, []).append(position)
    fields = {"name": _frozen(by_name)}
    involved = [k.involvedObject or k.regarding for k in keys]
    if any(i is not None for i in involved):
        by_involved: dict[str, list[int]] = {}
        for position, obj in enumerate(involved):
            if obj is not None and isinstance(obj.name, str):
                by_involved.setdefault(obj.name, []).append(position)
        fields["involved_name"] = _frozen(by_involved)
    return FileIndex(path, namespace, offsets, lengths, len(names), fields)


def narrowing(field_selector: str | None) -> list[tuple[str, str]]:
    """(index key, value) of the equality terms of a field selector the index answers."""
    out = []
    for term in (field_selector or "").split(","):
        path, op, value = term.partition("==") if "==" in term else term.partition("=")
        path = path.strip()
        if op and not path.endswith("!") and path in INDEXED_FIELDS and "\\" not in value:
            out.append((INDEXED_FIELDS[path], value))
    return out


class ObjectStore:
    """Indexes of a bundle's List files, built when first asked (thread-safe)."""

    def __init__(self, files: Callable[[str, str | None], list[tuple[Path, str | None]] | None],
                 read_bytes: Callable[[Path], bytes]):
        self._files = files
        self._read_bytes = read_bytes
        self._indexes: dict[Path, FileIndex | None] = {}
        self._lock = threading.Lock()
        self._file_locks: dict[Path, threading.Lock] = {}
        #: (plural, namespace) -> its files: a snapshot's files do not change while it is served (the
        #: indexes' offsets assume as much), so they are looked up (stat) once, not on every request
        self._listed: dict[tuple[str, str | None], list[tuple[Path, str | None]] | None] = {}

    @classmethod
    def of(cls, source: Any) -> "ObjectStore | None":
        """The store of a snapshot source, None for any other (served through ``list``)."""
        files, read_bytes = getattr(source, "bundle_files", None), getattr(source, "read_bytes", None)
        if files is None or read_bytes is None:
            return None
        return cls(files, read_bytes)

    def _files_of(self, plural: str, namespace: str | None) -> list[tuple[Path, str | None]] | None:
        key = (plural, namespace)
        if key not in self._listed:
            self._listed[key] = self._files(plural, namespace)  # what it raises is raised again next time
        return self._listed[key]

    def _index(self, path: Path, namespace: str | None) -> FileIndex | None:
        if path in self._indexes:
            return self._indexes[path]
        with self._lock:
            lock = self._file_locks.setdefault(path, threading.Lock())
        with lock:  # one thread indexes a file; the others wait for it
            if path not in self._indexes:
                index = None
                if path.suffix == ".json":
                    index = index_file(path, namespace, self._read_bytes(path))
                self._indexes[path] = index
        return self._indexes[path]

    def indexes(self, plural: str, namespace: str | None) -> Iterator[FileIndex | None] | None:
        """The file indexes of ``plural`` (in ``namespace``), each built when the walk reaches it; None for
        synthesised namespaces. The walk yields None for a file that cannot be indexed (the caller then
        lists through the source); raises what the source raises for a missing resource."""
        files = self._files_of(plural, namespace)
        if files is None:
            return None
        return (self._index(path, ns) for path, ns in files)

    def get(self, plural: str, namespace: str | None, name: str) -> Any:
        """One object by name, None when there is none; NotImplemented when the store cannot answer."""
        walk = self.indexes(plural, namespace)
        if walk is None:
            return NotImplemented
        for index in walk:
            if index is None:
                return NotImplemented
            positions = index.fields["name"].get(name)
            if positions:
                return index.read(positions[:1])[0]
        return None

    def select(self, plural: str, namespace: str | None, matches: Callable[[dict], bool] | None,
               field_selector: str | None, offset: int, limit: int) -> tuple[list[dict], bool, int | None] | None:
        """(the page of objects from ``offset``, more after it?, how many follow it or None when unknown),
        or None (use the source).

        ``matches`` None: no selector, the page is read by position (files
        before the offset are skipped whole). Otherwise objects are decoded
        — only those the index narrows to, when it can — and matched.
        ``limit`` 0: every object.
        """
        walk = self.indexes(plural, namespace)
        if walk is None:
            return None
        terms = narrowing(field_selector) if matches is not None else []
        want = limit + 1 if limit else None  # one more than the page: is there a next one?
        page: list[dict] = []
        seen = 0
        for index in walk:
            if index is None:
                return None
            if matches is None:
                if seen + len(index) <= offset:
                    seen += len(index)
                    continue
                start = max(0, offset - seen)
                stop = len(index) if want is None else min(len(index), start + want - len(page))
                page.extend(index.read(range(start, stop)))
                seen += len(index)
            else:
                positions: list[int] | range = range(len(index))
                if terms:
                    chosen: set[int] | None = None
                    for key, value in terms:
                        found = set(index.fields.get(key, {}).get(value, ()))
                        chosen = found if chosen is None else chosen & found
                    positions = sorted(chosen or ())
                for obj in index.read(positions):
                    if matches(obj):
                        if seen >= offset:
                            page.append(obj)
                        seen += 1
                        if want is not None and len(page) >= want:
                            break
            if want is not None and len(page) >= want:
                break
        if want is None or len(page) < want:
            return page, False, 0
        page = page[:limit]
        remaining = None
        if matches is None:  # known when every file is indexed
            files = self._files_of(plural, namespace) or []
            if all(self._indexes.get(path) is not None for path, _ in files):
                total = sum(len(self._indexes[path]) for path, _ in files)
                remaining = total - offset - len(page)
        return page, True, remaining
