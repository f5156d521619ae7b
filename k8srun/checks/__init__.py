"""Diagnosis: DataFrames (from :mod:`k8srun.frames`) -> list of :class:`~k8srun.model.Finding`.

One module per runbook (``pending``, ``crashloop``, ``triage``). Checks are
pure functions of DataFrames and plain values: they never run commands or
read a source. Each module exposes

- ``diagnose(**frames) -> list[Finding]``, built from finer per-code functions
  that tests and notebooks can call one at a time;
- ``REQUIRES: dict[code, list[str]]`` — the evidence (``"pods"``, ``"nodes"``,
  ``"events"``, ``"pvcs"``, ``"services"``, ``"endpoints"``, the names
  :class:`k8srun.session.Session` records as missing) without which a code
  cannot be decided, so the report tells "not checked: evidence unavailable"
  from "OK". Evidence that only sharpens a finding (logs, events for
  computed checks) is not listed;
- optionally ``PARTIAL: dict[code, list[str]]`` — evidence a code can do
  without, in part: when some is missing the code reads PARTIAL (when all
  of it is missing, NOT CHECKED), and ``gather`` passes ``None`` for it so
  ``diagnose`` skips what depends on it (triage on a plain dump without
  Endpoints still ranks pods, nodes and events).

Helpers shared by the modules: events of one object,
small event rows and log tails for evidence, and :func:`read_events` (the
only helper that reads: ``gather`` functions and notebooks call it).
"""

from __future__ import annotations

import weakref
from typing import Iterable

import pandas as pd


def read_events(rb, objects: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    """Events of the ``(kind, name)`` objects, read one object at a time through the session ``rb``
    (a field-selected read on a live cluster); every event of the namespace when none is named."""
    wanted = list(objects)
    if not wanted:
        return rb.events()
    return pd.concat([rb.events_for(kind, name) for kind, name in wanted], ignore_index=True) \
        .sort_values("last_seen", kind="stable", na_position="first").reset_index(drop=True)


#: events frames at least this long are joined through an index by involved object, not a mask per call
EVENT_INDEX_ROWS = 1000
_EVENT_INDEXES: list[tuple[weakref.ref, dict]] = []


def _event_index(events: pd.DataFrame) -> dict:
    """{(namespace, kind, name) and (None, kind, name): positions} of an events frame, built once per frame."""
    for ref, index in _EVENT_INDEXES:
        if ref() is events:
            return index
    index: dict[tuple, list[int]] = {}
    for position, (ns, kind, name) in enumerate(zip(events["namespace"], events["kind"], events["name"])):
        index.setdefault((ns, kind, name), []).append(position)
        index.setdefault((None, kind, name), []).append(position)
    _EVENT_INDEXES[:] = [(weakref.ref(events), index)] + [e for e in _EVENT_INDEXES[:3] if e[0]() is not None]
    return index


def events_about(events: pd.DataFrame | None, namespace: str, kind: str, name: str) -> pd.DataFrame:
    """Events whose involved object is ``kind/name`` in ``namespace`` (oldest first).

    A large frame is joined through an index by involved object (built once
    per frame), never scanned per object.
    """
    if events is None or events.empty:
        return pd.DataFrame(columns=getattr(events, "columns", []))
    if len(events) >= EVENT_INDEX_ROWS:
        return events.iloc[_event_index(events).get((namespace or None, kind, name), [])]
    mask = (events["kind"] == kind) & (events["name"] == name)
    if namespace:
        mask &= events["namespace"] == namespace
    return events[mask]


def event_rows(events: pd.DataFrame, limit: int = 3) -> list[dict]:
    """The newest ``limit`` events as small dicts (last_seen, type, reason, count, message)."""
    rows = []
    for _, ev in events.tail(limit).iterrows():
        seen = ev["last_seen"]
        rows.append({"last_seen": None if pd.isna(seen) else seen.isoformat(), "type": ev["type"],
                     "reason": ev["reason"], "object": f"{ev['kind']}/{ev['name']}",
                     "count": int(ev["count"]), "message": ev["message"]})
    return rows


def log_tail(text: str | None, lines: int = 20) -> list[str]:
    """The last ``lines`` non-empty lines of a log text ([] when there is none)."""
    if not text:
        return []
    kept = [line for line in text.splitlines() if line.strip()]
    return kept[-lines:]
