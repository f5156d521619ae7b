"""``ip -j link`` / ``ip -j -d link`` / ``ip -j addr`` and ``ip -j route`` → interface and route rows.

iproute2 prints JSON with ``-j``; this flattens it into the columns the
network runbooks use (MTU checks, overlay devices, pod CIDR routes).
``-d`` adds ``linkinfo`` (the link kind: veth, bridge, vxlan … and the
vxlan id/port/local); ``addr`` adds ``addr_info``.

Usage::

    from k8srun.parsers import ip_json
    ip_json.parse_links(text)   ip_json.frame_links(text)     # ip -j [-d] link | addr
    ip_json.parse_routes(text)  ip_json.frame_routes(text)    # ip -j route

Schema of ``parse_links``::

    [
      {
        "ifindex":     int,
        "ifname":      str,
        "link":        str | None,   # peer/lower device when in the same netns ("eth0@if5")
        "flags":       [str],        # UP, LOWER_UP, BROADCAST ...
        "up":          bool,         # "UP" in flags
        "mtu":         int | None,
        "operstate":   str | None,   # UP, DOWN, UNKNOWN, LOWERLAYERDOWN
        "link_type":   str | None,   # ether, loopback, none
        "mac":         str | None,
        "kind":        str | None,   # linkinfo.info_kind (needs -d): veth, bridge, vxlan ...
        "slave_kind":  str | None,   # linkinfo.info_slave_kind: bridge (port of a bridge)
        "master":      str | None,   # the bridge/bond it is enslaved to
        "link_netnsid": int | None,  # the peer lives in another netns
        "vxlan_id":    int | None,   # vxlan only (-d)
        "vxlan_port":  int | None,
        "vxlan_local": str | None,
        "vxlan_dev":   str | None,
        "addresses":   [str]         # "10.244.1.1/24", "fe80::1/64" (ip -j addr)
      }
    ]

Schema of ``parse_routes``::

    [
      {
        "dst":       str,            # "default" or prefix
        "gateway":   str | None,
        "dev":       str | None,
        "protocol":  str | None,     # kernel, static, boot, dhcp, bird ...
        "scope":     str | None,
        "prefsrc":   str | None,
        "metric":    int | None,
        "type":      str,            # unicast, blackhole, unreachable, local ...
        "table":     str | None,
        "flags":     [str]           # onlink, linkdown ...
      }
    ]
"""

from __future__ import annotations

import json

import pandas as pd

from ..errors import ParseError

NAME = "ip-json"
LINK_COLUMNS = ["ifindex", "ifname", "link", "flags", "up", "mtu", "operstate", "link_type", "mac",
                "kind", "slave_kind", "master", "link_netnsid", "vxlan_id", "vxlan_port",
                "vxlan_local", "vxlan_dev", "addresses"]
ROUTE_COLUMNS = ["dst", "gateway", "dev", "protocol", "scope", "prefsrc", "metric", "type",
                 "table", "flags"]


def _objects(text: str, what: str) -> list[dict]:
    """The JSON array of objects ``ip -j`` printed."""
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(NAME, f"invalid JSON from {what}: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(o, dict) for o in data):
        raise ParseError(NAME, f"{what} should print a JSON array of objects")
    return data


def _typed(value, kind, what: str):
    if value is None:
        return None
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ParseError(NAME, f"{what} has the wrong type: {value!r}")
    return value


def _strings(value, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ParseError(NAME, f"{what} should be a list of strings")
    return value


def parse_links(text: str) -> list[dict]:
    """One row per interface of ``ip -j [-d] link`` or ``ip -j addr``."""
    rows = []
    for obj in _objects(text, "ip -j link"):
        ifname = _typed(obj.get("ifname"), str, "ifname")
        if ifname is None:
            raise ParseError(NAME, "an interface without 'ifname' (is this ip -j link?)")
        info = obj.get("linkinfo") or {}
        if not isinstance(info, dict):
            raise ParseError(NAME, f"{ifname}: linkinfo is not an object")
        data = info.get("info_data") if info.get("info_kind") == "vxlan" else None
        data = data if isinstance(data, dict) else {}
        addresses = []
        for addr in obj.get("addr_info") or []:
            if isinstance(addr, dict) and isinstance(addr.get("local"), str):
                addresses.append(f"{addr['local']}/{addr.get('prefixlen', '')}".rstrip("/"))
        flags = _strings(obj.get("flags"), f"{ifname}: flags")
        rows.append({
            "ifindex": _typed(obj.get("ifindex"), int, "ifindex"), "ifname": ifname,
            "link": _typed(obj.get("link"), str, "link"), "flags": flags, "up": "UP" in flags,
            "mtu": _typed(obj.get("mtu"), int, "mtu"),
            "operstate": _typed(obj.get("operstate"), str, "operstate"),
            "link_type": _typed(obj.get("link_type"), str, "link_type"),
            "mac": _typed(obj.get("address"), str, "address"),
            "kind": _typed(info.get("info_kind"), str, "info_kind"),
            "slave_kind": _typed(info.get("info_slave_kind"), str, "info_slave_kind"),
            "master": _typed(obj.get("master"), str, "master"),
            "link_netnsid": _typed(obj.get("link_netnsid"), int, "link_netnsid"),
            "vxlan_id": _typed(data.get("id"), int, "vxlan id"),
            "vxlan_port": _typed(data.get("port"), int, "vxlan port"),
            "vxlan_local": _typed(data.get("local"), str, "vxlan local"),
            "vxlan_dev": _typed(data.get("link"), str, "vxlan link"),
            "addresses": addresses,
        })
    return rows


def frame_links(text: str) -> pd.DataFrame:
    """``parse_links`` as a DataFrame with the fixed columns ``LINK_COLUMNS``."""
    return pd.DataFrame(parse_links(text), columns=LINK_COLUMNS)


def parse_routes(text: str) -> list[dict]:
    """One row per route of ``ip -j route``."""
    rows = []
    for obj in _objects(text, "ip -j route"):
        dst = _typed(obj.get("dst"), str, "dst")
        if dst is None:
            raise ParseError(NAME, "a route without 'dst' (is this ip -j route?)")
        table = obj.get("table")
        rows.append({
            "dst": dst, "gateway": _typed(obj.get("gateway"), str, "gateway"),
            "dev": _typed(obj.get("dev"), str, "dev"),
            "protocol": _typed(obj.get("protocol"), str, "protocol"),
            "scope": _typed(obj.get("scope"), str, "scope"),
            "prefsrc": _typed(obj.get("prefsrc"), str, "prefsrc"),
            "metric": _typed(obj.get("metric"), int, "metric"),
            "type": _typed(obj.get("type"), str, "type") or "unicast",
            "table": None if table is None else str(table),
            "flags": _strings(obj.get("flags"), f"{dst}: flags"),
        })
    return rows


def frame_routes(text: str) -> pd.DataFrame:
    """``parse_routes`` as a DataFrame with the fixed columns ``ROUTE_COLUMNS``."""
    return pd.DataFrame(parse_routes(text), columns=ROUTE_COLUMNS)
