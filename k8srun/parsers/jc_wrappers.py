"""Commands jc already parses — ``ip route``, ``ping``, ``dig``, ``sysctl -a``,
``/etc/resolv.conf``, ``ss`` — normalised into our columns.

Each ``parse_<command>(text)`` calls ``jc.parse(..., quiet=True)``, turns any
jc exception into :class:`k8srun.errors.ParseError`, rejects what jc lets
through although it is not the command's output, and adds what jc misses;
``frame_<command>(text)`` returns the fixed columns below.

Usage::

    from k8srun.parsers import jc_wrappers
    jc_wrappers.parse_ping(text)     jc_wrappers.frame_ping(text)   # likewise for the others

``parse_ip_route`` (``ip route``; columns = ``ip_json.ROUTE_COLUMNS``)::

    [{"dst": "default" | prefix, "gateway", "dev", "protocol", "scope", "prefsrc",
      "metric": int | None, "type": "unicast" | "blackhole" | "unreachable" | ...,
      "table": None, "flags": ["linkdown", ...]}]

    jc reads a route type word ("blackhole 10.1.0.0/16") as the destination
    and drops next-hop flags ("onlink"): both are taken off before jc sees
    the line.

``parse_ping`` — one row per ``ping`` run (DF probes included)::

    [{"destination": str, "data_bytes": int | None, "transmitted": int | None,
      "received": int | None, "errors": int | None, "packet_loss_percent": float | None,
      "rtt_avg_ms": float | None,
      "frag_needed_from": str | None,   # "From 10.200.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)"
      "frag_needed_mtu": int | None,
      "local_mtu": int | None}]         # "ping: local error: message too long, mtu=1400"

    jc drops the "Frag needed" replies and fails on the "local error" lines
    that ``ping -M do -s N`` prints; both are read here.

``parse_dig`` — one row per query::

    [{"name": str, "query_type": str, "status": "NOERROR" | "NXDOMAIN" | "SERVFAIL" | ...,
      "flags": [str], "answers": [{"name", "type", "ttl", "data"}], "addresses": [str],
      "server": str | None, "query_time_ms": int | None}]

``parse_sysctl`` — ``[{"key": "net.ipv4.ip_forward", "value": "1"}]`` (values as printed).

``parse_resolv_conf`` — one row::

    [{"nameservers": [str], "search": [str], "options": [str], "ndots": int | None}]

``parse_ss`` (``ss -tuanp`` style, with the Netid column)::

    [{"netid": "tcp" | "udp" | ..., "state": str, "recv_q": int, "send_q": int,
      "local_address": str, "local_port": str, "peer_address": str, "peer_port": str,
      "process": str | None, "pid": int | None}]
"""

from __future__ import annotations

import functools
import ipaddress
import re

import jc
import pandas as pd

from ..errors import ParseError
from .ip_json import ROUTE_COLUMNS

PING_COLUMNS = ["destination", "data_bytes", "transmitted", "received", "errors",
                "packet_loss_percent", "rtt_avg_ms", "frag_needed_from", "frag_needed_mtu",
                "local_mtu"]
DIG_COLUMNS = ["name", "query_type", "status", "flags", "answers", "addresses", "server",
               "query_time_ms"]
SYSCTL_COLUMNS = ["key", "value"]
RESOLV_CONF_COLUMNS = ["nameservers", "search", "options", "ndots"]
SS_COLUMNS = ["netid", "state", "recv_q", "send_q", "local_address", "local_port",
              "peer_address", "peer_port", "process", "pid"]

_ROUTE_TYPES = {"unicast", "local", "broadcast", "multicast", "blackhole", "unreachable",
                "prohibit", "throw", "nat", "anycast"}
_ROUTE_FLAGS = {"onlink", "linkdown", "dead", "pervasive", "offload", "trap", "rt_offload",
                "rt_trap", "notify"}
_FRAG_NEEDED = re.compile(r"From (\S+)(?: icmp_seq=\d+)? Frag needed and DF set \(mtu = (\d+)\)")
_LOCAL_MTU = re.compile(r"local error: message too long, mtu=(\d+)")
_PING_HEADER = re.compile(r"PING (\S+) \(([^)]+)\) (\d+)\(\d+\) bytes of data")
_SYSCTL_KEY = re.compile(r"[\w.\-/*:@]+")


def _jc(parser: str, text: str):
    """``jc.parse`` with jc's exceptions turned into ParseError."""
    try:
        return jc.parse(parser, text, quiet=True)
    except Exception as exc:  # jc raises IndexError, KeyError, ValueError ... on bad input
        raise ParseError(parser.replace("_", "-"), f"jc could not parse it ({type(exc).__name__}: {exc})") from None


def _jc_result_checked(parser: str):
    """Decorator: surprises in the shape of jc's result (garbled input jc let through) → ParseError."""
    def wrap(parse_function):
        @functools.wraps(parse_function)
        def checked(text: str) -> list[dict]:
            try:
                return parse_function(text)
            except ParseError:
                raise
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                raise ParseError(parser, f"unexpected fields in jc's result "
                                         f"({type(exc).__name__}: {exc})") from None
        return checked
    return wrap


def _route_destination(value: object) -> str:
    if value == "default":
        return "default"
    try:
        return str(ipaddress.ip_network(str(value), strict=False)) if "/" in str(value) else \
            str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise ParseError("ip-route", f"{value!r} is not a route destination") from None


@_jc_result_checked("ip-route")
def parse_ip_route(text: str) -> list[dict]:
    """Routes of ``ip route`` (text) in the columns of ``ip -j route``."""
    types, flags, lines = [], [], []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        types.append(words.pop(0) if words[0] in _ROUTE_TYPES else "unicast")
        flags.append([w for w in words if w in _ROUTE_FLAGS])
        lines.append(" ".join(w for w in words if w not in _ROUTE_FLAGS))
    if not lines:
        return []
    parsed = _jc("ip_route", "\n".join(lines) + "\n")
    if len(parsed) != len(lines):
        raise ParseError("ip-route", f"{len(lines)} lines gave {len(parsed)} routes")
    rows = []
    for route_type, route_flags, route in zip(types, flags, parsed):
        metric = route.get("metric")
        rows.append({"dst": _route_destination(route.get("ip")), "gateway": route.get("via"),
                     "dev": route.get("dev"), "protocol": route.get("proto"),
                     "scope": route.get("scope"), "prefsrc": route.get("src"),
                     "metric": metric if isinstance(metric, int) else None, "type": route_type,
                     "table": None, "flags": route_flags})
    return rows


def frame_ip_route(text: str) -> pd.DataFrame:
    """``parse_ip_route`` as a DataFrame with ``ip_json.ROUTE_COLUMNS``."""
    return pd.DataFrame(parse_ip_route(text), columns=ROUTE_COLUMNS)


@_jc_result_checked("ping")
def parse_ping(text: str) -> list[dict]:
    """One summary row for a ``ping`` run, with DF-probe errors (frag needed, local mtu)."""
    if not text.strip():
        return []
    header = _PING_HEADER.search(text)
    if header is None:
        raise ParseError("ping", "no 'PING host (ip) N(M) bytes of data' line (is this iputils ping?)")
    frag = _FRAG_NEEDED.findall(text)
    local = _LOCAL_MTU.findall(text)
    kept = "\n".join(line for line in text.splitlines()
                     if not line.startswith("ping: ") and "Frag needed" not in line) + "\n"
    summary = _jc("ping", kept[kept.find("PING "):])
    if not isinstance(summary, dict):
        raise ParseError("ping", "jc returned no summary")
    return [{"destination": header.group(2), "data_bytes": int(header.group(3)),
             "transmitted": summary.get("packets_transmitted"),
             "received": summary.get("packets_received"), "errors": summary.get("errors"),
             "packet_loss_percent": summary.get("packet_loss_percent"),
             "rtt_avg_ms": summary.get("round_trip_ms_avg"),
             "frag_needed_from": frag[0][0] if frag else None,
             "frag_needed_mtu": min(int(mtu) for _, mtu in frag) if frag else None,
             "local_mtu": min(int(mtu) for mtu in local) if local else None}]


def frame_ping(text: str) -> pd.DataFrame:
    """``parse_ping`` as a DataFrame with ``PING_COLUMNS``."""
    return pd.DataFrame(parse_ping(text), columns=PING_COLUMNS)


@_jc_result_checked("dig")
def parse_dig(text: str) -> list[dict]:
    """One row per query answered in ``dig`` output."""
    if not text.strip():
        return []
    rows = []
    for query in _jc("dig", text):
        question = query.get("question")
        if not isinstance(question, dict) or "status" not in query:
            raise ParseError("dig", "a query without a question section or status")
        answers = [{k: a.get(k) for k in ("name", "type", "ttl", "data")}
                   for a in query.get("answer") or [] if isinstance(a, dict)]
        rows.append({"name": question.get("name"), "query_type": question.get("type"),
                     "status": query["status"], "flags": list(query.get("flags") or []),
                     "answers": answers,
                     "addresses": [a["data"] for a in answers if a["type"] in ("A", "AAAA")],
                     "server": query.get("server"), "query_time_ms": query.get("query_time")})
    if not rows:
        raise ParseError("dig", "no query found (is this dig output?)")
    return rows


def frame_dig(text: str) -> pd.DataFrame:
    """``parse_dig`` as a DataFrame with ``DIG_COLUMNS``."""
    return pd.DataFrame(parse_dig(text), columns=DIG_COLUMNS)


@_jc_result_checked("sysctl")
def parse_sysctl(text: str) -> list[dict]:
    """``key = value`` rows of ``sysctl -a`` (values kept as printed)."""
    if not text.strip():
        return []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip() and (" = " not in line and not line.rstrip().endswith(" =")
                             or not _SYSCTL_KEY.fullmatch(line.split(" =", 1)[0])):
            raise ParseError("sysctl", f"not a 'key = value' line: {line[:60]!r}", lineno)
    return [{"key": key, "value": str(value)} for key, value in _jc("sysctl", text).items()]


def frame_sysctl(text: str) -> pd.DataFrame:
    """``parse_sysctl`` as a DataFrame with ``SYSCTL_COLUMNS``."""
    return pd.DataFrame(parse_sysctl(text), columns=SYSCTL_COLUMNS)


@_jc_result_checked("resolv-conf")
def parse_resolv_conf(text: str) -> list[dict]:
    """One row: nameservers, search path, options and ndots of a resolv.conf."""
    if not text.strip():
        return []
    conf = _jc("resolve_conf", text)
    if not isinstance(conf, dict) or not conf:
        raise ParseError("resolv-conf", "no nameserver/search/domain/options line")
    options = [str(o) for o in conf.get("options") or []]
    ndots = next((o.split(":", 1)[1] for o in options if o.startswith("ndots:")), None)
    search = list(conf.get("search") or []) or ([conf["domain"]] if conf.get("domain") else [])
    return [{"nameservers": list(conf.get("nameservers") or []), "search": search,
             "options": options, "ndots": int(ndots) if ndots and ndots.isdigit() else None}]


def frame_resolv_conf(text: str) -> pd.DataFrame:
    """``parse_resolv_conf`` as a DataFrame with ``RESOLV_CONF_COLUMNS``."""
    return pd.DataFrame(parse_resolv_conf(text), columns=RESOLV_CONF_COLUMNS)


@_jc_result_checked("ss")
def parse_ss(text: str) -> list[dict]:
    """One row per socket of ``ss -tuan[p]`` output."""
    if not text.strip():
        return []
    if not text.lstrip().startswith("Netid"):
        raise ParseError("ss", "no 'Netid State ...' header (run ss with -tuan, which prints Netid)")
    rows = []
    for sock in _jc("ss", text):
        process = pid = None
        users = sock.get("process") or sock.get("opts") or {}  # jc names it after the header
        for found_pid, info in (users.get("process_id") or {}).items():
            process, pid = info.get("user"), int(found_pid) if str(found_pid).isdigit() else None
            break
        rows.append({"netid": sock.get("netid"), "state": sock.get("state"),
                     "recv_q": sock.get("recv_q"), "send_q": sock.get("send_q"),
                     "local_address": sock.get("local_address"), "local_port": sock.get("local_port"),
                     "peer_address": sock.get("peer_address"), "peer_port": sock.get("peer_port"),
                     "process": process, "pid": pid})
    return rows


def frame_ss(text: str) -> pd.DataFrame:
    """``parse_ss`` as a DataFrame with ``SS_COLUMNS``."""
    return pd.DataFrame(parse_ss(text), columns=SS_COLUMNS)
