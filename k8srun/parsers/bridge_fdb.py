"""``bridge -j fdb show [dev DEV]`` → one row per forwarding entry: ``bridge-fdb``.

On a VXLAN device the FDB says where (``dst``: the remote VTEP's underlay
address) frames for a MAC are encapsulated to; flannel writes one entry per
peer node (the peer's VTEP MAC, ``dst`` its public IP), and an all-zero MAC
entry is the default destination (flooding / multicast setups). A peer whose
entry is missing gets nothing: the device drops the frame (``nolearning``).

Usage::

    from k8srun.parsers import bridge_fdb
    rows = bridge_fdb.parse(text)      # list[dict]
    df = bridge_fdb.frame(text)        # DataFrame, columns = COLUMNS

Schema::

    [{"mac": "02:6b:38:6c:00:02", "dst": "192.168.20.2" | None, "ifname": str | None,
      "vni": int | None, "port": int | None, "master": str | None, "state": "permanent" | ... | None,
      "flags": ["self"]}]

Text that is not a JSON list of objects each with a string ``mac`` raises
ParseError; empty text is no entry.
"""

from __future__ import annotations

import pandas as pd

from ..errors import ParseError
from .jsondoc import document, int_or_none, text_or_none

NAME = "bridge-fdb"
COLUMNS = ["mac", "dst", "ifname", "vni", "port", "master", "state", "flags"]


def parse(text: str) -> list[dict]:
    """One row per FDB entry (see module doc)."""
    entries = document(NAME, text, list, "not a JSON list (run bridge -j fdb show)")
    if entries is None:
        return []
    rows = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("mac"), str):
            raise ParseError(NAME, f"an entry without a mac: {str(entry)[:80]}")
        flags = entry.get("flags")
        rows.append({"mac": entry["mac"].lower(), "dst": text_or_none(entry.get("dst")),
                     "ifname": text_or_none(entry.get("ifname")),
                     "vni": int_or_none(entry.get("vni")), "port": int_or_none(entry.get("port")),
                     "master": text_or_none(entry.get("master")), "state": text_or_none(entry.get("state")),
                     "flags": [f for f in flags if isinstance(f, str)] if isinstance(flags, list) else []})
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS).astype({"vni": "Int64", "port": "Int64"})


__all__ = ["NAME", "COLUMNS", "parse", "frame"]
