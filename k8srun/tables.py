"""HTML tables for notebooks and reports: escaped, left-aligned, readable units.

Frames keep numbers (cores, bytes); :func:`html_table` shows them as people
read them (``250m``, ``128Mi``), dicts as ``k=v`` lists, timestamps to the
second, and escapes every cell.
"""

from __future__ import annotations

import html
from typing import Any, Callable, Collection

import pandas as pd

from . import frames

CELL_STYLE = "text-align:left;vertical-align:top;overflow-wrap:break-word"


def _cell_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(_pair(k, v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell_text(v) if isinstance(v, (dict, list, tuple)) else str(v) for v in value)
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _pair(key: Any, value: Any) -> str:
    if value == "":
        return str(key)
    if isinstance(value, (dict, list, tuple)):
        return f"{key}=({_cell_text(value)})"
    return f"{key}={_cell_text(value)}"


def probe_text(probe: Any) -> str:
    """A probe as people read it: ``GET :8080/healthz every 10s, timeout 1s, 3 failures, after 5s``."""
    if not isinstance(probe, dict) or not probe:
        return _cell_text(probe)
    if isinstance(probe.get("httpGet"), dict):
        get = probe["httpGet"]
        scheme = "HTTPS " if str(get.get("scheme", "")).upper() == "HTTPS" else ""
        what = f"{scheme}GET :{get.get('port', '')}{get.get('path', '/')}"
    elif isinstance(probe.get("tcpSocket"), dict):
        what = f"TCP :{probe['tcpSocket'].get('port', '')}"
    elif isinstance(probe.get("grpc"), dict):
        what = f"gRPC :{probe['grpc'].get('port', '')}"
    elif isinstance(probe.get("exec"), dict):
        what = "exec " + " ".join(str(a) for a in probe["exec"].get("command") or [])
    else:
        return _cell_text(probe)
    text = (f"{what} every {probe.get('periodSeconds', 10)}s, timeout {probe.get('timeoutSeconds', 1)}s, "
            f"{probe.get('failureThreshold', 3)} failures")
    if probe.get("initialDelaySeconds"):
        text += f", after {probe['initialDelaySeconds']}s"
    return text


#: columns that hold a container probe
PROBE_COLUMNS = frozenset({"liveness", "readiness", "startup"})


def _formatter(column: str) -> Callable[[Any], str]:
    """Cores as 250m/2, bytes as 128Mi/1.5Gi (frames keep numbers; people read units)."""
    def unit(fmt: Callable[[float], str]) -> Callable[[Any], str]:
        return lambda v: fmt(v) if isinstance(v, (int, float)) and v == v else _cell_text(v)

    if column in PROBE_COLUMNS:
        return probe_text
    if column.startswith("cpu_"):
        return unit(frames.format_cpu)
    if column.startswith("memory_") or column == "requested":
        return unit(frames.format_bytes)
    return _cell_text



def html_table(frame: pd.DataFrame, *, max_rows: int = 500, nowrap: Collection[str] = ()) -> str:
    """A DataFrame as an escaped, left-aligned HTML table; dicts/lists compact, units readable.

    ``nowrap`` names short columns (times, types) that must not break across lines.
    """
    shown = frame.head(max_rows)
    formats = [_formatter(str(c)) for c in shown.columns]
    styles = [CELL_STYLE + (";white-space:nowrap" if c in nowrap else "") for c in shown.columns]
    head = "".join(f"<th style='{CELL_STYLE}'>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = "".join(f"<td style='{style}'>{html.escape(fmt(v))}</td>"
                        for style, fmt, v in zip(styles, formats, row))
        body.append(f"<tr>{cells}</tr>")
    more = (f"<p><em>{len(frame) - max_rows} more rows not shown</em></p>"
            if len(frame) > max_rows else "")
    return (f'<table class="k8srun-table" style="border-collapse:collapse;font-size:90%">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}")
