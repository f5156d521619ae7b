"""Diagnosis: DataFrames (from :mod:`k8srun.frames`) -> list of :class:`~k8srun.model.Finding`.

One module per runbook (``pending``, ``crashloop``, ``triage``). Checks are
pure functions of DataFrames and plain values: they never run commands or
read a source. Each module exposes

- ``diagnose(**frames) -> list[Finding]``, built from finer per-code functions
  that tests and notebooks can call one at a time;
- ``REQUIRES: dict[code, list[str]]`` — the evidence (frame names such as
  ``"pods"``, ``"nodes"``, ``"pvcs"``, ``"logs"``) each code needs, so that
  :func:`checks_table` can tell "not checked: evidence unavailable" from "OK".

``checks_table(requires, findings, unavailable)`` returns one row per code:
code, title, status ("finding" / "OK" / "not checked"), findings (count),
reason (for "not checked": the missing evidence).
"""

from __future__ import annotations

import math
from typing import Iterable

import pandas as pd

from ..model import Finding, code_info

CHECKS_COLUMNS = ["code", "title", "status", "findings", "reason"]


def checks_table(requires: dict[str, list[str]], findings: Iterable[Finding],
                 unavailable: Iterable[str] = ()) -> pd.DataFrame:
    """One row per code of a runbook: did it fire, was it fine, or could it not be checked."""
    missing = set(unavailable)
    counts: dict[str, int] = {}
    for item in findings:
        counts[item.code] = counts.get(item.code, 0) + 1
    rows = []
    for code, needs in requires.items():
        lacking = [name for name in needs if name in missing]
        if counts.get(code):
            status, reason = "finding", ""
        elif lacking:
            status, reason = "not checked", "evidence unavailable: " + ", ".join(lacking)
        else:
            status, reason = "OK", ""
        rows.append({"code": code, "title": code_info(code).title, "status": status,
                     "findings": counts.get(code, 0), "reason": reason})
    return pd.DataFrame(rows, columns=CHECKS_COLUMNS)


def format_cpu(cores: float) -> str:
    """CPU cores as Kubernetes writes them: 2, 1.5, 250m."""
    if cores is None or (isinstance(cores, float) and math.isnan(cores)):
        return "?"
    if cores >= 1 and abs(cores * 1000 - round(cores * 1000)) < 1e-6 and round(cores * 1000) % 1000 == 0:
        return str(int(round(cores)))
    if cores >= 1:
        return f"{cores:g}"
    return f"{int(round(cores * 1000))}m"


def format_bytes(amount: float) -> str:
    """Bytes in the largest binary unit that keeps the number readable: 128Mi, 1.5Gi."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "?"
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if abs(amount) >= size:
            return f"{amount / size:.4g}{unit}"
    return f"{int(amount)}"


def events_about(events: pd.DataFrame | None, namespace: str, kind: str, name: str) -> pd.DataFrame:
    """Events whose involved object is ``kind/name`` in ``namespace`` (oldest first)."""
    if events is None or events.empty:
        return pd.DataFrame(columns=getattr(events, "columns", []))
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
