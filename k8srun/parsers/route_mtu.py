"""``ip -j route get DEST`` → the route to DEST with the MTU the kernel applies to it.

``ip route get`` shows, besides the sending interface, an MTU on the route
when there is one: either configured (``ip route add ... mtu [lock] N``) or
*learned* — the kernel caches a path MTU for DEST after an ICMP "frag
needed" and lets it expire (``expires`` seconds; text form ``cache expires
598sec mtu 1400``). A learned MTU is evidence of a smaller hop on the path.
The JSON form does not say ``lock``; an MTU without ``expires`` is taken as
configured.

Usage (the mtu runbook passes :func:`frame` as its NodeCommand parser)::

    from k8srun.parsers import route_mtu
    route_mtu.parse(text)     route_mtu.frame(text)

Schema (one row per route printed; ``ip route get`` prints one)::

    [
      {
        "dst":        str,          # DEST as the kernel echoes it
        "gateway":    str | None,
        "dev":        str | None,   # the sending interface
        "prefsrc":    str | None,
        "type":       str,          # unicast, local ...
        "mtu":        int | None,   # MTU on the route (configured or learned), None when none
        "learned":    bool,         # the MTU is a cached path MTU (it expires)
        "expires_s":  int | None    # seconds until a learned MTU expires
      }
    ]

Input that is not ``ip -j route`` JSON raises :class:`~k8srun.errors.ParseError`.
"""

from __future__ import annotations

import pandas as pd

from ..errors import ParseError
from .ip_json import _objects, parse_routes

NAME = "ip-route-get-mtu"
COLUMNS = ["dst", "gateway", "dev", "prefsrc", "type", "mtu", "learned", "expires_s"]


def _route_mtu(obj: dict) -> int | None:
    metrics = obj.get("metrics") or []
    if not isinstance(metrics, list):
        raise ParseError(NAME, "metrics should be a list of objects")
    for metric in metrics:
        if not isinstance(metric, dict):
            raise ParseError(NAME, "metrics should be a list of objects")
        mtu = metric.get("mtu")
        if mtu is not None:
            if isinstance(mtu, bool) or not isinstance(mtu, int) or mtu <= 0:
                raise ParseError(NAME, f"route mtu is not a positive integer: {mtu!r}")
            return mtu
    return None


def parse(text: str) -> list[dict]:
    """One row per route of ``ip -j route get`` with its MTU (see module doc)."""
    objects = _objects(text, "ip -j route get")
    rows = []
    for obj, route in zip(objects, parse_routes(text)):
        expires = obj.get("expires")
        if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int)):
            raise ParseError(NAME, f"expires is not a number of seconds: {expires!r}")
        mtu = _route_mtu(obj)
        rows.append({"dst": route["dst"], "gateway": route["gateway"], "dev": route["dev"],
                     "prefsrc": route["prefsrc"], "type": route["type"], "mtu": mtu,
                     "learned": mtu is not None and expires is not None,
                     "expires_s": expires if mtu is not None else None})
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS)
