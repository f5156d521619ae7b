"""``ip -j route get DEST`` → the route the kernel picks for DEST with the MTU on it, or why it has none.

``ip route get`` asks the kernel's own route lookup, so it answers for
policy rules, tables and reject routes alike. When no route matches, ``ip``
prints nothing on stdout, the kernel's error on stderr and exits 2 — that
is an *answer* (no route), not a failed command. The answer therefore
depends on stdout, stderr and the exit code together, which is why this
parser is not in :data:`k8srun.parsers.PARSERS` (``text -> rows``, empty
text = no rows): :data:`k8srun.evidence.ROUTE_GET` hands it the whole
command result (``NodeCommand.result_parser``)::

    from k8srun.parsers import ip_route_get
    ip_route_get.parse(stdout, stderr, exit_code)    ip_route_get.frame(stdout, stderr, exit_code)
    ip_route_get.frame_result(result)                # a CommandResult: its stdout, stderr, exit_code

Besides the sending interface, the route may carry an MTU: configured
(``ip route add ... mtu [lock] N``) or *learned* — the kernel caches a path
MTU for DEST after an ICMP "frag needed" and lets it expire (``expires``
seconds; text form ``cache expires 598sec mtu 1400``). A learned MTU is
evidence of a smaller hop on the path. The JSON form does not say ``lock``;
an MTU without ``expires`` is taken as configured.

Schema (exactly one row)::

    [
      {
        "routed":    bool,        # the kernel has a usable route to DEST
        "dst":       str | None,  # DEST as the kernel echoes it (None when not routed)
        "type":      str,         # unicast, local, broadcast ... or, when not routed:
                                  # "none" (no route matches), "unreachable", "prohibit", "blackhole"
        "gateway":   str | None,
        "dev":       str | None,  # outgoing interface
        "prefsrc":   str | None,  # source address the kernel would use
        "mtu":       int | None,  # MTU on the route (configured or learned); None when none or not routed
        "learned":   bool,        # the MTU is a cached path MTU (it expires)
        "expires_s": int | None,  # seconds until a learned MTU expires
        "error":     str | None,  # what ip printed, e.g. "RTNETLINK answers: Network is unreachable"
        "meaning":   str          # one line for people: "via 10.0.0.1 dev eth0", "no route matches"
      }
    ]

Exit 2 with a message other than the four route-lookup errors below
(a bad argument, a netlink failure), exit 0 without exactly one route
(empty output included: that is no answer, never "no route"), and stdout
that is not ``ip -j`` JSON (or a route whose ``metrics`` / ``expires`` are
malformed) raise :class:`~k8srun.errors.ParseError`: those mean the lookup
was not answered.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from ..errors import ParseError
from .ip_json import _objects, parse_routes

NAME = "ip-route-get"
COLUMNS = ["routed", "dst", "type", "gateway", "dev", "prefsrc", "mtu", "learned", "expires_s", "error", "meaning"]
#: exit code of ``ip`` when the kernel refused the lookup (RTNETLINK error)
NO_ROUTE_EXIT = 2
#: kernel error text -> (route type that matched, meaning); fib lookup errors of ip route get
LOOKUP_ERRORS = {
    "Network is unreachable": ("none", "no route matches (no specific route and no default route)"),
    "No route to host": ("unreachable", "an 'unreachable' route matches: the kernel rejects it"),
    "Permission denied": ("prohibit", "a 'prohibit' route matches: the kernel rejects it"),
    "Invalid argument": ("blackhole", "a 'blackhole' route matches: the kernel drops it"),
}


class Answer(Protocol):
    """What :func:`frame_result` reads of a :class:`~k8srun.targets.CommandResult`."""

    stdout: str
    stderr: str
    exit_code: int | None


def _lookup_error(stderr: str) -> tuple[str, str, str] | None:
    """(line, type, meaning) of the route lookup error ``ip`` printed, or None."""
    for line in stderr.splitlines():
        line = line.strip()
        if line.startswith("RTNETLINK answers: "):
            known = LOOKUP_ERRORS.get(line.removeprefix("RTNETLINK answers: ").strip())
            if known:
                return (line, *known)
    return None


def _meaning(route: dict) -> str:
    if route["type"] == "local":
        return "a local address of this machine"
    via = f"via {route['gateway']} " if route["gateway"] else "directly connected, "
    return f"{via}dev {route['dev']}" if route["dev"] else via.strip(", ")


def _route_mtu(obj: dict) -> int | None:
    """The MTU in the route's ``metrics`` (configured or learned), None when it has none."""
    metrics = obj.get("metrics") or []
    if not isinstance(metrics, list) or not all(isinstance(m, dict) for m in metrics):
        raise ParseError(NAME, "metrics should be a list of objects")
    for metric in metrics:
        mtu = metric.get("mtu")
        if mtu is not None:
            if isinstance(mtu, bool) or not isinstance(mtu, int) or mtu <= 0:
                raise ParseError(NAME, f"route mtu is not a positive integer: {mtu!r}")
            return mtu
    return None


def _expires(obj: dict) -> int | None:
    expires = obj.get("expires")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int)):
        raise ParseError(NAME, f"expires is not a number of seconds: {expires!r}")
    return expires


def parse(stdout: str, stderr: str = "", exit_code: int | None = 0) -> list[dict]:
    """The one answer of ``ip -j route get DEST`` (see module doc)."""
    if exit_code == NO_ROUTE_EXIT and not stdout.strip():
        error = _lookup_error(stderr)
        if error is None:
            said = stderr.strip().splitlines()[0] if stderr.strip() else "nothing"
            raise ParseError(NAME, f"exit {exit_code} without a route lookup answer (ip said: {said})")
        line, kind, meaning = error
        return [{"routed": False, "dst": None, "type": kind, "gateway": None, "dev": None, "prefsrc": None,
                 "mtu": None, "learned": False, "expires_s": None, "error": line, "meaning": meaning}]
    if exit_code != 0:
        raise ParseError(NAME, f"ip exited with code {exit_code}")
    routes = parse_routes(stdout)
    if len(routes) != 1:
        raise ParseError(NAME, f"expected one route, got {len(routes)}")
    [obj], [route] = _objects(stdout, "ip -j route get"), routes
    mtu, expires = _route_mtu(obj), _expires(obj)
    return [{"routed": True, "dst": route["dst"], "type": route["type"], "gateway": route["gateway"],
             "dev": route["dev"], "prefsrc": route["prefsrc"], "mtu": mtu,
             "learned": mtu is not None and expires is not None,
             "expires_s": expires if mtu is not None else None, "error": None, "meaning": _meaning(route)}]


def frame(stdout: str, stderr: str = "", exit_code: int | None = 0) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(stdout, stderr, exit_code), columns=COLUMNS)


def frame_result(result: Answer) -> pd.DataFrame:
    """``frame`` of a command result (the ``result_parser`` of :data:`k8srun.evidence.ROUTE_GET`)."""
    return frame(result.stdout, result.stderr, result.exit_code)
