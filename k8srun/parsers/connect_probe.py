"""One connection's outcome from ``python -m k8srun.probes.connect`` (its JSON line): ``connect-probe``.

Usage::

    from k8srun.parsers import connect_probe
    rows = connect_probe.parse(text)      # [] for empty text, else one row
    df = connect_probe.frame(text)        # DataFrame, columns = COLUMNS

One row with :data:`COLUMNS` (the probe's fields, :mod:`k8srun.probes.connect`)::

    [{"dest": "10.96.0.50", "address": "10.96.0.50" | None, "port": 80, "protocol": "tcp" | "udp",
      "outcome": "open" | "refused" | "unreachable" | "no-route" | "timeout" | "no-reply" | "error",
      "errno": "ECONNREFUSED" | None, "detail": str | None,
      "icmp": "host-unreachable" | ... | None, "icmp_type": Int | None, "icmp_code": Int | None,
      "icmp_from": "192.168.10.2" | None, "connect_ms": float | None,
      "url": str | None, "request": str | None,
      "l7": "http" | "reset" | "timeout" | "closed" | "error" | None, "l7_errno": str | None,
      "http_status": int | None, "http_reason": str | None, "http_server": str | None,
      "http_body": str | None, "l7_detail": str | None, "elapsed_ms": float | None}]

Text that is not one JSON object with a known ``outcome`` (and ``l7``, when
present), a ``dest`` string and a port in 1..65535 raises ParseError.
"""

from __future__ import annotations

import pandas as pd

from ..errors import ParseError
from .jsondoc import document, float_or_none, int_or_none

NAME = "connect-probe"
COLUMNS = ["dest", "address", "port", "protocol", "outcome", "errno", "detail", "icmp", "icmp_type", "icmp_code",
           "icmp_from", "connect_ms", "url", "request", "l7", "l7_errno", "http_status", "http_reason",
           "http_server", "http_body", "l7_detail", "elapsed_ms"]
OUTCOMES = ("open", "refused", "unreachable", "no-route", "timeout", "no-reply", "error")
L7_OUTCOMES = ("http", "reset", "timeout", "closed", "error")
_TEXT = ("address", "errno", "detail", "icmp", "icmp_from", "url", "request", "l7_errno", "http_reason",
         "http_server", "http_body", "l7_detail")


def parse(text: str) -> list[dict]:
    """The probe's JSON object as one row (see module doc)."""
    data = document(NAME, text, dict, "not a JSON object")
    if data is None:
        return []
    if data.get("outcome") not in OUTCOMES:
        raise ParseError(NAME, f"outcome {data.get('outcome')!r} is not one of {', '.join(OUTCOMES)}")
    if data.get("l7") is not None and data.get("l7") not in L7_OUTCOMES:
        raise ParseError(NAME, f"l7 {data.get('l7')!r} is not one of {', '.join(L7_OUTCOMES)}")
    port = int_or_none(data.get("port"))
    if not isinstance(data.get("dest"), str) or port is None or not 1 <= port <= 65535:
        raise ParseError(NAME, "dest must be a string and port a number in 1..65535")
    if data.get("protocol") not in ("tcp", "udp"):
        raise ParseError(NAME, f"protocol {data.get('protocol')!r} is not tcp or udp")
    row = {column: None for column in COLUMNS}
    row.update(dest=data["dest"], port=port, protocol=data["protocol"], outcome=data["outcome"], l7=data.get("l7"))
    for key in _TEXT:
        value = data.get(key)
        row[key] = value if isinstance(value, str) else None
    for key in ("icmp_type", "icmp_code", "http_status"):
        row[key] = int_or_none(data.get(key))
    for key in ("connect_ms", "elapsed_ms"):
        row[key] = float_or_none(data.get(key))
    return [row]


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with :data:`COLUMNS` (ICMP type/code and HTTP status as Int64)."""
    out = pd.DataFrame(parse(text), columns=COLUMNS)
    return out.astype({"icmp_type": "Int64", "icmp_code": "Int64", "http_status": "Int64", "port": "Int64"})
