"""mtu: some requests hang while ping works — path MTU black holes and overlay MTU budgets (MTU-001, MTU-002).

Small packets (ping, TCP handshakes, short answers) pass; full-size ones
vanish somewhere, so requests with large bodies hang. Two questions:

1. *Is the path to ``dest`` narrower than what this host sends?* (MTU-001)
   A search with DF-bit pings finds the largest packet that really arrives,
   and which hop said "frag needed" — or that none did (a black hole).
2. *Does the overlay fit into the node's network?* (MTU-002) VXLAN adds
   ``encap_overhead`` bytes (50 over IPv4) to every pod packet, so the
   overlay device and every pod-facing interface must stay that much below
   the node MTU.

Evidence, all node commands on the run's ``target``:

====================================  ===============================================  ================
command id                            argv                                             evidence name
====================================  ===============================================  ================
``ip-link``                           ``ip -j -d link show`` (shared NODE_FACTS)       ``ip-link``
``ip-addr``                           ``ip -j addr show``, only when a VXLAN device    (sharpens)
                                      names no underlying link (found by its local IP)
``ip-route-get-{dest}``               ``ip -j route get DEST`` (the shared             ``ip-route-get``
                                      :data:`k8srun.evidence.ROUTE_GET`)
``ping-df-{size}``                    ``ping -n -M do -s SIZE-28 -c 1 -W 1 DEST``      ``probes``
``ping-df-{size}-confirm``            the same with ``-c 3 -i 0.2`` (a silent          ``probes``
                                      boundary is probed once more)
``ip-route-get-{dest}-after-probes``  ``ip -j route get DEST`` again: the path MTU     (sharpens)
                                      the kernel learned from the probes
====================================  ===============================================  ================

**No route to dest** (``ip route get`` exits 2: "Network is unreachable",
or a reject route matches) is an answer, shown as a row "no route to DEST"
in the evidence-unavailable table: no probe is sent, and MTU-001 reads NOT
CHECKED — a path that does not exist has no MTU to measure (why there is no
route is the routing-sysctl runbook's question). MTU-002 reads only the
target's interfaces and is decided as usual.

**The search** (:func:`next_probe`) depends only on earlier outcomes, so a
recorded run replays probe for probe. Sizes are whole IP packets (the ping
payload is the size minus 28 bytes of IPv4+ICMP headers, 48 for IPv6). It
starts at the *sending MTU* (the sending interface's MTU, or a smaller MTU
configured on the route), then:

- a "frag needed (mtu = N)" or "message too long, mtu=N" answer means every
  size above N fails: N is probed next;
- otherwise it bisects between the largest size that passed and the
  smallest that failed; when nothing has passed yet it tries 576 bytes, then
  68 (the IPv4 minimum; 1280 for IPv6). When even that gets no answer, the
  path MTU cannot be measured (dest down, or ICMP echo filtered): the probes
  are "evidence unavailable" and MTU-001 reads NOT CHECKED;
- a boundary found only by silence (lost probes, no ICMP) is confirmed once
  with three packets, so a single lost ping does not make a black hole;
- at most :data:`MAX_PROBES` pings (12 for a 1500-byte black hole; a jumbo
  path may end with a range "at least X, below Y").

Each probe is classified (:func:`classify_probe`) as ``passed`` (a reply),
``frag-needed`` (a hop answered ICMP "Frag needed and DF set (mtu = N)": the
hop and N are kept), ``local-too-big`` (the kernel refused to send: "local
error: message too long, mtu=N" — it already knows a smaller path MTU, from
an earlier frag-needed or a route MTU), ``unreachable`` (another ICMP error)
or ``lost`` (silence). A ping that could not run (tool missing, timeout,
usage error, a replay without that output, output that is not ping's) is
evidence unavailable, never an outcome.

**MTU-001** (error): the measured path MTU is below the sending MTU. The
detail names the path MTU and the hop that said so: the frag-needed sender,
or "the kernel's route cache" (learned before this run), or "no hop: a black
hole" when probes above it were silently dropped. An MTU configured on the
route is what the host sends, so a path that carries it is fine.

**MTU-002** (warning): from ``ip -j -d link``: a VXLAN device whose MTU plus
``encap_overhead`` exceeds the MTU of its underlying link (the node MTU),
or a pod-facing interface — a bridge, a bridge port, or a veth whose peer
lives in another namespace, up, not the underlay — whose MTU plus
``encap_overhead`` exceeds the node MTU: pods then send packets the overlay
cannot carry. A target without a VXLAN device (a pod's namespace, a host
without overlay) cannot answer this: MTU-002 reads NOT CHECKED there.

Frames:

- :func:`classify_probe` rows / ``probe_path_mtu(rb)``: ``PROBE_COLUMNS`` =
  probe (1, 2 ...), size (bytes, IP packet), payload (ping -s), kind
  ("search" | "confirm"), outcome, reported_mtu (Int64), hop (who said
  frag needed), said (what ping printed, in short);
- :func:`overlay_budget`: ``BUDGET_COLUMNS`` = interface, kind, role
  ("overlay" | "pod-facing"), mtu, overhead, needs (mtu + overhead),
  node_interface, node_mtu, fits (bool, None when the underlay is unknown);
- :func:`path_summary`: a dict — dest, interface, interface_mtu,
  route_mtu (configured), cached_mtu (learned before the probes),
  sending_mtu, path_mtu, upper (largest size not yet known to fail), exact,
  measured, hop, how ("fits" | "frag-needed" | "route-cache" | "black-hole"
  | "icmp-error" | None).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any, Iterable

import pandas as pd

from .. import params
from ..errors import ParameterError, ParseError
from ..evidence import IP_ADDR, IP_LINK, ROUTE_GET, NodeCommand
from ..model import Finding, finding
from ..parsers import frame as parse_frame
from ..parsers import ip_route_get
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook


def _overhead(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ParameterError(name, value, "must be a number of bytes")
    try:
        number = int(str(value).strip(), 10)
    except ValueError:
        raise ParameterError(name, value, "must be a whole number of bytes (50 for VXLAN over IPv4)") from None
    if not 0 <= number <= 1000:
        raise ParameterError(name, value, "must be between 0 and 1000 bytes")
    return number


RUNBOOK = Runbook(
    name="mtu",
    description="Some requests hang, ping works: path MTU black holes and overlay MTU budgets",
    scenario="mtu",
    parameters=(*CLUSTER, TARGET,
                Parameter("dest", "", "address to search the path MTU to (IPv4 or IPv6)", params.ip_address),
                Parameter("encap_overhead", 50, "bytes the overlay adds per packet (VXLAN over IPv4: 50)",
                          _overhead),
                TIMEOUT),
)

REQUIRES: dict[str, list[str]] = {
    "MTU-001": [IP_LINK.name, ROUTE_GET.name, "probes"],
    "MTU-002": [IP_LINK.name, "overlay"],
}

#: outcomes of one DF probe; the first passes, the others fail at that size
OUTCOMES = ("passed", "frag-needed", "local-too-big", "unreachable", "lost")
#: the search never sends more pings than this (confirmations included)
MAX_PROBES = 13
#: largest IP packet a ping can make
MAX_PACKET = 65535
PROBE_COLUMNS = ["probe", "size", "payload", "kind", "outcome", "reported_mtu", "hop", "said"]
BUDGET_COLUMNS = ["interface", "kind", "role", "mtu", "overhead", "needs", "node_interface", "node_mtu", "fits"]
OVERLAY_KINDS = ("vxlan",)


def header_bytes(dest: str) -> int:
    """IP + ICMP header bytes a ping adds to its payload: 28 (IPv4) or 48 (IPv6)."""
    return 48 if ipaddress.ip_address(dest).version == 6 else 28


def size_limits(dest: str) -> tuple[int, int]:
    """(first fallback size, smallest size) of the search: (576, 68) for IPv4, (1280, 1280) for IPv6."""
    return (1280, 1280) if ipaddress.ip_address(dest).version == 6 else (576, 68)


def _probe_argv(values, *, confirm: bool = False) -> tuple[str, ...]:
    dest = values["dest"]
    size = values["size"]
    if isinstance(size, bool) or not isinstance(size, int) or not size_limits(dest)[1] <= size <= MAX_PACKET:
        raise ParameterError("size", size, f"a probe is a whole IP packet of {size_limits(dest)[1]}..{MAX_PACKET} bytes")
    count = ("-c", "3", "-i", "0.2") if confirm else ("-c", "1")
    return ("ping", "-n", "-M", "do", "-s", str(size - header_bytes(dest)), *count, "-W", "1", dest)


# ROUTE_GET (k8srun.evidence) asked again after the probes: the same argv at a different moment (the kernel
# may have learned a path MTU since), so its own id — one id names one recorded answer. Its own evidence
# name too: it only sharpens MTU-001, so a failed re-read must not make MTU-001 NOT CHECKED.
ROUTE_AFTER = dataclasses.replace(ROUTE_GET, command_id=f"{ROUTE_GET.command_id}-after-probes",
                                  title="route to dest after the probes (path MTU the kernel learned)",
                                  evidence="ip-route-get-after-probes")
PING_DF = NodeCommand("ping-df-{size}", _probe_argv, None, "DF probe", evidence="probes", accept_exit=(0, 1))
PING_DF_CONFIRM = NodeCommand("ping-df-{size}-confirm", lambda p: _probe_argv(p, confirm=True), None,
                              "DF probe, confirmation", evidence="probes", accept_exit=(0, 1))


# ------------------------------------------------------------------ helpers

def _value(value: Any) -> Any:
    """None for pandas' missing values (NaN, NA), the value otherwise."""
    if value is None or (not isinstance(value, (list, tuple, dict, str)) and pd.isna(value)):
        return None
    return value


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return [{k: _value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _int(value: Any) -> int | None:
    value = _value(value)
    return None if value is None else int(value)


# --------------------------------------------------------------- the search

def classify_probe(number: int, size: int, ping: dict, *, kind: str = "search", headers: int = 28) -> dict:
    """One probe row (``PROBE_COLUMNS``) from the parsed ping output (a ``parsers`` "ping" row)."""
    received = _int(ping.get("received")) or 0
    frag_mtu, local_mtu = _int(ping.get("frag_needed_mtu")), _int(ping.get("local_mtu"))
    hop, errors = _value(ping.get("frag_needed_from")), _int(ping.get("errors")) or 0
    reported = None
    if received > 0:
        outcome, said = "passed", f"{received} repl{'y' if received == 1 else 'ies'}"
    elif frag_mtu is not None:
        outcome, reported, said = "frag-needed", frag_mtu, f"From {hop}: Frag needed and DF set (mtu = {frag_mtu})"
    elif local_mtu is not None:
        outcome, reported, said = "local-too-big", local_mtu, f"local error: message too long, mtu={local_mtu}"
        hop = None
    elif errors:
        outcome, said = "unreachable", f"{errors} ICMP error(s), no reply"
    else:
        outcome, said = "lost", "no reply, no ICMP error"
    return {"probe": number, "size": size, "payload": size - headers, "kind": kind, "outcome": outcome,
            "reported_mtu": reported, "hop": hop if outcome == "frag-needed" else None, "said": said}


def _failing_bound(row: dict, minimum: int) -> int:
    """The smallest size this failed probe proves to fail: N+1 when a hop or the kernel said mtu=N."""
    reported = _int(row.get("reported_mtu"))
    if row["outcome"] in ("frag-needed", "local-too-big") and reported is not None and minimum <= reported < row["size"]:
        return reported + 1
    return row["size"]


def search_bounds(probes: Iterable[dict] | pd.DataFrame, minimum: int = 68) -> tuple[int | None, int | None, dict | None]:
    """(largest size that passed, smallest size known to fail, the probe that proves it) — None when unknown.

    A size confirmed to pass overrides an earlier silent failure at that size.
    """
    rows = _records(probes) if isinstance(probes, pd.DataFrame) else list(probes)
    passed = [r["size"] for r in rows if r["outcome"] == "passed"]
    failing = [(_failing_bound(r, minimum), r) for r in rows
               if r["outcome"] != "passed" and r["size"] not in passed]
    low = max(passed, default=None)
    if not failing:
        return low, None, None
    high, proof = min(failing, key=lambda pair: pair[0])
    return low, high, proof


def next_probe(probes: Iterable[dict] | pd.DataFrame, ceiling: int, *, fallback: int = 576, minimum: int = 68,
               max_probes: int = MAX_PROBES) -> tuple[int, str] | None:
    """The next (size, kind) to probe after ``probes`` (in order sent), or None when the search is done.

    Deterministic in the earlier outcomes (see the module doc for the rules).
    """
    rows = _records(probes) if isinstance(probes, pd.DataFrame) else list(probes)
    if not rows:
        return ceiling, "search"
    if len(rows) >= max_probes:
        return None
    probed = {r["size"] for r in rows}
    low, high, proof = search_bounds(rows, minimum)
    if high is None or (low is not None and low >= high):
        return None
    if proof["outcome"] in ("frag-needed", "local-too-big") and high - 1 not in probed \
            and (low is None or high - 1 > low):
        return high - 1, "search"
    if low is None:
        for size in (fallback, minimum):
            if size < high and size not in probed:
                return size, "search"
        return None
    if high - low > 1:
        return (low + high) // 2, "search"
    confirmed = any(r["kind"] == "confirm" and r["size"] == high for r in rows)
    if proof["outcome"] in ("lost", "unreachable") and not confirmed:
        return high, "confirm"
    return None


# ---------------------------------------------------------- interfaces, route

def with_addresses(links: pd.DataFrame, addrs: pd.DataFrame | None) -> pd.DataFrame:
    """``links`` with the ``addresses`` of ``ip -j addr`` filled in (by interface name)."""
    if addrs is None or addrs.empty or links.empty:
        return links
    by_name = dict(zip(addrs["ifname"], addrs["addresses"]))
    out = links.copy()
    out["addresses"] = [by_name.get(name, []) for name in out["ifname"]]
    return out


def no_route(route: pd.DataFrame) -> dict | None:
    """The kernel's "no route" answer (a row of :mod:`k8srun.parsers.ip_route_get`), None when routed or unknown."""
    rows = _records(route)
    return rows[0] if rows and rows[0].get("routed") is False else None


def sending_interface(links: pd.DataFrame, route: pd.DataFrame) -> dict | None:
    """The interface the route to dest uses, its MTU and the MTU the host sends with; None when unknown."""
    routes = _records(route)
    if not routes or links is None or links.empty or no_route(route) is not None:
        return None
    chosen = routes[0]
    found = links[links["ifname"] == chosen["dev"]]
    if found.empty or _value(found.iloc[0]["mtu"]) is None:
        return None
    interface_mtu = int(found.iloc[0]["mtu"])
    route_mtu_value = _int(chosen.get("mtu"))
    learned = bool(chosen.get("learned"))
    configured = route_mtu_value if route_mtu_value is not None and not learned else None
    sending = min(interface_mtu, configured) if configured else interface_mtu
    return {"interface": chosen["dev"], "kind": _value(found.iloc[0]["kind"]), "interface_mtu": interface_mtu,
            "gateway": chosen.get("gateway"), "route_mtu": configured,
            "cached_mtu": route_mtu_value if learned else None, "cached_expires_s": _int(chosen.get("expires_s")),
            "sending_mtu": min(sending, MAX_PACKET)}


def path_summary(links: pd.DataFrame, route: pd.DataFrame, probes: pd.DataFrame, dest: str = "") -> dict:
    """What the probes measured against what the host sends (schema: module doc)."""
    sending = sending_interface(links, route) or {}
    rows = _records(probes)
    minimum = size_limits(dest)[1] if dest else 68
    low, high, proof = search_bounds(rows, minimum)
    summary = {"dest": dest, "interface": sending.get("interface"), "interface_mtu": sending.get("interface_mtu"),
               "route_mtu": sending.get("route_mtu"), "cached_mtu": sending.get("cached_mtu"),
               "sending_mtu": sending.get("sending_mtu"), "path_mtu": low,
               "upper": None if high is None else high - 1, "exact": False, "measured": low is not None,
               "hop": None, "how": None}
    if low is None:
        return summary
    summary["exact"] = high is None or high - low <= 1
    if high is None:
        summary["how"] = "fits"
        return summary
    if proof["outcome"] == "frag-needed":
        summary.update(hop=proof["hop"], how="frag-needed")
    elif proof["outcome"] == "local-too-big":
        told = [r for r in rows if r["outcome"] == "frag-needed" and _int(r["reported_mtu"]) == _int(proof["reported_mtu"])]
        summary.update(hop=told[0]["hop"] if told else None, how="frag-needed" if told else "route-cache")
    else:
        summary["how"] = "black-hole" if proof["outcome"] == "lost" else "icmp-error"
    return summary


# --------------------------------------------------------------- the overlay

def _underlay(overlay: dict, by_name: dict[str, dict]) -> dict | None:
    name = overlay.get("vxlan_dev")
    if name and name in by_name:
        return by_name[name]
    local = overlay.get("vxlan_local")
    if local:
        for row in by_name.values():
            if any(str(a).split("/")[0] == local for a in row.get("addresses") or []):
                return row
    return None


def _pod_facing(row: dict, bridges: set[str], excluded: set[str]) -> bool:
    if row["ifname"] in excluded or not row.get("up") or row.get("operstate") == "DOWN":
        return False
    return (row.get("kind") == "bridge" or row.get("master") in bridges
            or (row.get("kind") == "veth" and row.get("link_netnsid") is not None))


def overlay_budget(links: pd.DataFrame, encap_overhead: int = 50) -> pd.DataFrame:
    """Overlay devices and pod-facing interfaces against the node MTU (``BUDGET_COLUMNS``); empty without overlay."""
    rows = _records(links)
    by_name = {r["ifname"]: r for r in rows}
    overlays = [r for r in rows if r.get("kind") in OVERLAY_KINDS]
    budget, node_mtus, excluded = [], [], {r["ifname"] for r in overlays}
    for overlay in overlays:
        under = _underlay(overlay, by_name)
        node_mtu = _int(under["mtu"]) if under else None
        if under:
            excluded.add(under["ifname"])
            node_mtus.append((node_mtu, under["ifname"]))
        needs = int(overlay["mtu"]) + encap_overhead
        budget.append({"interface": overlay["ifname"], "kind": overlay["kind"], "role": "overlay",
                       "mtu": int(overlay["mtu"]), "overhead": encap_overhead, "needs": needs,
                       "node_interface": under["ifname"] if under else None, "node_mtu": node_mtu,
                       "fits": None if node_mtu is None else needs <= node_mtu})
    if node_mtus:
        node_mtu, node_interface = min(node_mtus)
        bridges = {r["ifname"] for r in rows if r.get("kind") == "bridge"}
        for row in rows:
            if _pod_facing(row, bridges, excluded):
                needs = int(row["mtu"]) + encap_overhead
                budget.append({"interface": row["ifname"], "kind": row.get("kind"), "role": "pod-facing",
                               "mtu": int(row["mtu"]), "overhead": encap_overhead, "needs": needs,
                               "node_interface": node_interface, "node_mtu": node_mtu, "fits": needs <= node_mtu})
    return pd.DataFrame(budget, columns=BUDGET_COLUMNS)


# ------------------------------------------------------------------ checks

def _how_said(summary: dict, sending: dict) -> str:
    path, how = summary["path_mtu"], summary["how"]
    if how == "frag-needed":
        return f"{summary['hop']} answered 'Frag needed and DF set (mtu = {path})'"
    if how == "route-cache":
        expires = sending.get("cached_expires_s")
        learned = f" (route cache, expires in {expires} s)" if expires is not None else ""
        return (f"the kernel had already learned path MTU {path} from an earlier ICMP frag-needed{learned} and "
                "refused larger packets ('message too long'); the hop is not kept in the cache: "
                "`ip route flush cache` and run again to see which hop says so")
    if how == "black-hole":
        return (f"no hop said so: packets above {path} bytes are dropped without an ICMP frag-needed "
                f"(a black hole; the {summary['upper'] + 1}-byte probe was lost, also when sent again)")
    return "no hop said 'frag needed': larger probes got another ICMP error"


def path_mtu_below_interface(links: pd.DataFrame, route: pd.DataFrame, probes: pd.DataFrame, dest: str = "",
                             route_after: pd.DataFrame | None = None, encap_overhead: int = 50) -> list[Finding]:
    """MTU-001: the measured path MTU to ``dest`` is below the MTU this host sends with."""
    summary = path_summary(links, route, probes, dest)
    sending = sending_interface(links, route)
    if sending is None or not summary["measured"] or summary["upper"] is None \
            or summary["path_mtu"] >= sending["sending_mtu"]:
        return []
    path = summary["path_mtu"]
    measured = (f"{path} bytes" if summary["exact"]
                else f"at least {path} and at most {summary['upper']} bytes (probe budget spent)")
    via = f" via {sending['gateway']}" if sending.get("gateway") else ""
    detail = (f"path MTU to {dest} is {measured}, below the {sending['sending_mtu']} bytes {sending['interface']} "
              f"sends{via}: {_how_said(summary, sending)}.")
    overlays = overlay_budget(links, encap_overhead)
    carried = overlays[(overlays["role"] == "overlay") & (overlays["node_interface"] == sending["interface"])]
    for row in carried.itertuples():
        if row.needs > path:
            detail += (f" Overlay {row.interface} (MTU {row.mtu} + {row.overhead}) sends {row.needs}-byte packets on "
                       f"{row.node_interface}: pod traffic crossing this hop needs an overlay MTU of at most "
                       f"{path - row.overhead}.")
    after = _records(route_after)
    evidence = {"dest": dest, "path_mtu": path, "hop": summary["hop"], "how": summary["how"],
                "sending_interface": sending, "route": _records(route),
                "probes": _records(probes)}
    if after and after[0].get("mtu") is not None:
        evidence["route_after_probes"] = after
    return [finding("MTU-001", detail, evidence)]


def _role_text(row: dict, links: pd.DataFrame) -> str:
    found = links[links["ifname"] == row["interface"]]
    master = _value(found.iloc[0]["master"]) if not found.empty else None
    kind = row["kind"] or "interface"
    return f"{kind}, port of bridge {master}" if master else kind


def overlay_exceeds_node_mtu(links: pd.DataFrame, encap_overhead: int = 50) -> list[Finding]:
    """MTU-002: an overlay device or pod-facing interface whose MTU + overhead exceeds the node MTU."""
    budget = overlay_budget(links, encap_overhead)
    too_big = budget[budget["fits"] == False]  # noqa: E712  (None means unknown, not too big)
    if too_big.empty:
        return []
    parts = []
    for row in _records(too_big):
        parts.append(f"{row['interface']} ({_role_text(row, links)}) MTU {row['mtu']} + {row['overhead']} = "
                     f"{row['needs']} > node MTU {row['node_mtu']} of {row['node_interface']}")
    overlay = next(r for r in _records(budget) if r["role"] == "overlay" and r["node_mtu"] is not None)
    detail = ("; ".join(parts) + f". Over {overlay['node_interface']} the overlay {overlay['interface']} can carry "
              f"pod packets of at most {overlay['node_mtu'] - overlay['overhead']} bytes: larger ones need "
              "fragmenting or an ICMP frag-needed, and where that ICMP is lost connections hang after the handshake.")
    return [finding("MTU-002", detail, {"too_big": _records(too_big), "budget": _records(budget)})]


def diagnose(*, links: pd.DataFrame, route: pd.DataFrame, probes: pd.DataFrame, dest: str = "",
             route_after: pd.DataFrame | None = None, encap_overhead: int = 50) -> list[Finding]:
    """Every MTU finding from the gathered frames (see :func:`gather`)."""
    return (path_mtu_below_interface(links, route, probes, dest, route_after, encap_overhead)
            + overlay_exceeds_node_mtu(links, encap_overhead))


# ------------------------------------------------------------------ gather

def _unavailable_once(rb, evidence: str, what: str, reason: str, where: str | None = None) -> None:
    """Mark ``evidence`` missing and show why, once per run (gather runs again for the diagnosis)."""
    rb.missing_evidence.add(evidence)
    where = where or str(rb.parameters.get("target") or "target")
    if not any(u.what == what and u.reason == reason for u in rb.unavailable):
        rb.note_unavailable(what, reason, where=where)


def interfaces(rb) -> pd.DataFrame:
    """``ip -j -d link`` on the target; ``ip -j addr`` joined in when a VXLAN device names no underlying link."""
    links = rb.node(IP_LINK)
    vxlans = links[links["kind"].isin(OVERLAY_KINDS)] if not links.empty else links
    if not vxlans.empty and vxlans["vxlan_dev"].isna().any():
        links = with_addresses(links, rb.node(IP_ADDR))
    return links


def route(rb) -> pd.DataFrame:
    """``ip -j route get DEST``: the sending interface and any MTU on the route.

    No route to dest is an answer, not a failure: the row is returned as
    it is, and a visible row says there is no route (MTU-001 NOT CHECKED).
    """
    dest = rb.parameters.get("dest")
    if not dest:
        _unavailable_once(rb, ROUTE_GET.name, ROUTE_GET.title, "no dest given: run with -p dest IP")
        return pd.DataFrame(columns=ip_route_get.COLUMNS)
    answer = rb.node(ROUTE_GET)
    refused = no_route(answer)
    if refused is not None:
        _unavailable_once(rb, ROUTE_GET.name, f"route to {dest}",
                          f"no route to {dest}: {refused['error']} — {refused['meaning']}; no path whose MTU "
                          "could be measured (the routing-sysctl runbook says why)",
                          where=rb.node_result(ROUTE_GET).target)
    return answer


def _ping_row(result) -> dict | None:
    """The parsed ping output of a finished probe, or None when the probe could not run."""
    if result is None or result.exit_code not in PING_DF.accept_exit:
        return None
    rows = parse_frame("ping", result.stdout + "\n" + result.stderr)
    return _records(rows)[0] if len(rows) else None


def probe_path_mtu(rb) -> pd.DataFrame:
    """The DF-bit search for the path MTU to dest, one row per ping (``PROBE_COLUMNS``)."""
    dest = rb.parameters.get("dest")
    empty = pd.DataFrame(columns=PROBE_COLUMNS)
    if not dest:
        _unavailable_once(rb, PING_DF.name, "DF probes", "no dest given: run with -p dest IP")
        return empty
    to_dest = route(rb)
    if no_route(to_dest) is not None:  # nothing to probe; route() already shows why
        rb.missing_evidence.add(PING_DF.name)
        return empty
    sending = sending_interface(interfaces(rb), to_dest)
    if sending is None:
        _unavailable_once(rb, PING_DF.name, "DF probes", "the sending interface and its MTU are unknown "
                          "(route or interfaces unavailable, see above)")
        return empty
    fallback, minimum = size_limits(dest)
    headers, rows = header_bytes(dest), []
    while (step := next_probe(rows, sending["sending_mtu"], fallback=fallback, minimum=minimum)) is not None:
        size, kind = step
        command = PING_DF_CONFIRM if kind == "confirm" else PING_DF
        result = rb.node_result(command, size=size)
        try:
            ping = _ping_row(result)
        except ParseError as exc:
            ping, reason = None, str(exc)
        else:
            reason = (result.error if result is not None else None) or "no output"
        if ping is None:
            if result is not None:
                _unavailable_once(rb, PING_DF.name, f"DF probe of {size} bytes ({result.command_id})", reason,
                                  where=result.target)
            rb.missing_evidence.add(PING_DF.name)
            break
        rows.append(classify_probe(len(rows) + 1, size, ping, kind=kind, headers=headers))
    probes = pd.DataFrame(rows, columns=PROBE_COLUMNS).astype({"reported_mtu": "Int64"})
    if rows and not (probes["outcome"] == "passed").any() and PING_DF.name not in rb.missing_evidence:
        _unavailable_once(rb, PING_DF.name, "path MTU", f"no probe to {dest} was answered, not even "
                          f"{int(probes['size'].min())} bytes: dest down or ICMP echo filtered")
    return probes


def route_after_probes(rb) -> pd.DataFrame:
    """``ip -j route get DEST`` again after the probes: the path MTU the kernel learned (sharpens MTU-001)."""
    if not rb.parameters.get("dest") or probe_path_mtu(rb).empty:
        return pd.DataFrame(columns=ip_route_get.COLUMNS)
    return rb.node(ROUTE_AFTER)


def overlay(rb) -> pd.DataFrame:
    """The overlay MTU budget of the target; without a VXLAN device MTU-002 cannot be decided there."""
    links = interfaces(rb)
    budget = overlay_budget(links, rb.parameters.get("encap_overhead", 50))
    if links.empty:
        return budget
    if not (budget["role"] == "overlay").any():
        kinds = sorted({str(k) for k in links["kind"].dropna()}) or ["none"]
        _unavailable_once(rb, "overlay", "overlay MTU budget",
                          f"no VXLAN device on this target (interface kinds: {', '.join(kinds)}): "
                          "run against a node to check the overlay")
    elif budget[budget["role"] == "overlay"]["fits"].isna().all():
        _unavailable_once(rb, "overlay", "overlay MTU budget",
                          "the VXLAN device's underlying link is unknown (no link and no local address match)")
    return budget


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb`` (cached there)."""
    overlay(rb)
    probes = probe_path_mtu(rb)
    return {"links": interfaces(rb), "route": route(rb), "probes": probes, "route_after": route_after_probes(rb),
            "dest": rb.parameters.get("dest") or "", "encap_overhead": rb.parameters.get("encap_overhead", 50)}


__all__ = ["RUNBOOK", "REQUIRES", "gather", "diagnose", "classify_probe", "next_probe", "search_bounds",
           "path_summary", "sending_interface", "overlay_budget", "path_mtu_below_interface",
           "overlay_exceeds_node_mtu"]
