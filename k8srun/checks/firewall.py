"""firewall: a connection is refused, reset or hangs — which REJECT/DROP rule took it (FW-001..003).

One flow — ``protocol`` to ``dest:port`` from the run's ``target`` — is
tried once, classified, and explained by the filter rules of the hop that
filters it. Where the rules are read is ``rules_target`` (default: the
target itself). The filter often sits on another hop than the client: a
pod's packets to another node cross the *node's* FORWARD chain (in the
fault lab, ``netns:k8l-node-a`` filters ``netns:k8l-pod-a``), so run from
the pod and read the rules on its node.

Evidence
========

===============================  ===============================================  ===============  ======================
command id                       argv                                             where            evidence name
===============================  ===============================================  ===============  ======================
``iptables-save``                ``iptables-save -c`` (shared NODE_FACT), before  rules_target     ``iptables-save``
                                 the probe
``connect-P-D-N[-url-H]``        ``PYTHON -m k8srun.probes.connect --dest D``     target           ``probe``
                                 ``--port N --protocol P --timeout T [--url U]``
``iptables-save-after-probe``    ``iptables-save -c`` again, after the probe:     rules_target     ``iptables-save-after-
                                 the counters that moved                                           probe`` (sharpens)
``ip-route-get-{dest}``          ``ip -j route get ADDRESS`` (shared ROUTE_GET)   target           ``ip-route-get``
===============================  ===============================================  ===============  ======================

``D`` is ``dest`` as given (lower case), ``H`` a short hash of the URL
(one id names one argv). The probe (:mod:`k8srun.probes.connect`) is
k8srun's own Python run at the target's network position, so ``target``
must be ``local`` or ``netns:NAME`` (``ip netns exec`` keeps this
machine's filesystem); on ``ssh:``/``node:`` targets the probe is
"evidence unavailable" and every code reads NOT CHECKED. A replay takes the
interpreter from the recorded argv (:func:`k8srun.checks.dns.interpreter`),
so a recording made on another machine replays. ``T = clamp(timeout_s / 5,
0.5, 3)`` seconds per step (the SYN, then the HTTP response): with every
packet dropped a run costs about ``T`` plus four commands.

The rules hop's commands run in a second place of the run on
``rules_target`` (:func:`rules_hop`, :mod:`k8srun.places`) with the same
source and parameters; their outputs are saved in the report's ``hosts/``
beside the target's, so a report folder (or a recorded scenario) replays
both.

How the probe is classified
===========================

See :mod:`k8srun.probes.connect`: ``open`` (SYN-ACK), ``refused`` (a RST —
nothing listens, or ``REJECT --reject-with tcp-reset`` — or an ICMP port
unreachable, told apart by the ICMP message the socket's error queue
holds), ``unreachable`` (an ICMP host / net / admin-prohibited
unreachable, with the address that sent it), ``no-route`` (this host
decided: no route, or no ARP answer), ``timeout`` (silence: dropped), and
for UDP ``no-reply`` (open *or* filtered: UDP cannot tell). With ``url`` the
probe sends one ``GET`` after ``open``: ``http`` with the status, ``reset``
after the request was sent, ``timeout``, ``closed``. An ICMP error about a
DNATed flow names the *ClusterIP* as its sender (conntrack rewrites the
error back to the address the client used), so "from 10.96.0.50" does not
mean the Service answered: the rule whose counter moved says who did.

How rules are matched against the flow (:func:`match_rule`)
===========================================================

Every ``DROP`` and ``REJECT`` rule of every table of the rules hop's
``iptables-save -c`` is judged against the flow as the hop sees it:
protocol, destination address and port, and source address (the target's
source address for ``dest`` from ``ip route get``). A ClusterIP (or any
DNAT) is translated first: the filter table sees the *backends*, so the
flow is also judged as each ``KUBE-SEP`` DNAT backend kube-proxy writes for
``dest:port`` (:func:`k8srun.parsers.iptables_save.kube_proxy_services`)
and each other nat-table DNAT rule that matches it. Each rule gets ``yes``,
``no`` or ``maybe``:

- evaluated: ``-p``, ``-s``/``-d`` (CIDR lists, ``!``), ``--dport`` /
  ``--dports`` / ``--ports`` (single, ranges, lists; ``!``), ``--syn`` /
  ``--tcp-flags`` (the SYN, and the request's ACK/PSH segment),
  ``-f`` (never: the probe's packets are not fragments), conntrack/state
  ``--ctstate``/``--state`` (the flow is NEW for its SYN and ESTABLISHED
  for its request), and the layer-7 ``string`` match (``--string``,
  ``--hex-string``, ``--icase``) against the exact request the probe sends —
  no ``url``, no payload, so a string rule cannot match;
- *not* evaluated, so the rule reads ``maybe`` with what was not
  evaluated named: interfaces (``-i``/``-o``), source ports, ipsets
  (``-m set``), marks and connmarks, ``addrtype``, ``owner``, ``u32``,
  ``bpf``, rate limits and any other match module;
- a rule in a user chain is judged on its own matches only, not on the
  jumps that lead to its chain, nor on ACCEPT rules before it that would
  take the packet first. Chain policies ``DROP`` are listed as ``maybe``.

The **packet counter** settles it: the ``iptables-save -c`` before and
after the probe are joined rule by rule (table, chain, rule text and its
occurrence, so a rule inserted between the reads does not shift the others)
and ``moved`` is the difference. A rule that matches (``yes``/``maybe``)
and whose counter moved during the probe took the flow's packets — on a
busy host other traffic moves counters too, which is why the match is
required as well. (nf_tables-backed ``iptables`` does not count chain
policies: their counters stay 0.)

How each code decides
=====================

- **FW-001** (error): the L4 probe failed (refused, unreachable, no-route,
  timeout, UDP no-reply) and a DROP/REJECT rule on the rules hop matches
  the flow (``yes``/``maybe``) and its counter moved during the probe. The
  finding names the rule (table, chain, position, text), its counters
  before → after, and whether its verdict is what the probe saw (DROP ↔
  timeout, REJECT icmp-port-unreachable/tcp-reset ↔ refused, REJECT
  icmp-host-/net-unreachable, -prohibited ↔ unreachable). Without the
  after-probe read (``PARTIAL``) a ``yes`` rule whose verdict is what the
  probe saw is named, said to be matched by its text only. A failed probe
  with no such rule is no FW-001: the filter is elsewhere, or it is not a
  filter. A probe that connected is never FW-001, whatever rule matches on
  paper. A kube-proxy ``KUBE-*`` REJECT commented "has no endpoints" is
  named as what it is: the Service has no ready endpoint (service-routing
  says why), the filter only carries that out.
- **FW-002** (error): ``url`` given, the L4 connect succeeded, and the
  request failed: a **reset after the request was sent** (a filter that
  reads the request and answers tcp-reset, e.g. an iptables ``string``
  rule, or a proxy that kills it); or **no response** while a DROP/REJECT
  rule with a layer-7 match (string, bpf, u32) moved its counter; or a
  **403/451 from a filtering proxy** — the response's ``Server`` header or
  body names one (Envoy's ``RBAC: access denied``, Squid, an ingress WAF:
  :data:`PROXY_SIGNS`). A plain 403 from the application is the
  application's answer, not a filter: it is shown, not found. Without
  ``url``, or when the L4 connect failed (no request was sent), FW-002
  reads NOT CHECKED (evidence ``l7-request``).
- **FW-003** (warning): the probe got **"No route to host"**
  (``EHOSTUNREACH``) from an **ICMP host-unreachable / host- or
  admin-prohibited** message while ``ip route get`` on the target has a
  route to the address — and either a REJECT rule with such a
  ``--reject-with`` moved its counter on the rules hop, or the ICMP came
  back within 1 s (a REJECT answers at once; a router that gave up on ARP
  for a dead host answers after about 3 s). "No route to host" decided on
  the target itself (no ICMP: ARP failed or a local unreachable route) is
  not FW-003. FW-003 comes with FW-001 when the rule is on the rules hop:
  FW-001 is the rule, FW-003 the warning that it looks like routing.

Every flow probed gets a verdict (:func:`subjects`: ``flow tcp
10.244.1.10 → 10.244.2.10:8080``). With a cluster source the details say
what the address is there (``Service default/web:http``, ``pod
default/web-b``: :func:`dest_names`); no code needs it, so without a source
nothing is missing.

Decisions and limits
====================

- One flow per run, one attempt: no retries (a lossy path is not a
  filter). The rules are read on one hop; on a path of several filtering
  hops run it once per hop with ``rules_target``.
- ``iptables-save`` only: nftables tables that iptables does not show
  (``nft list ruleset``), eBPF policies (Cilium) and cloud security groups
  are not read — a failed probe with no rule found says so.
- IPv4 and IPv6 probes work; ``ip6tables-save`` is not read, so for an
  IPv6 flow FW-001 reads NOT CHECKED (the IPv4 rules cannot match it), and
  so does FW-003: the shared ``ip-route-get-{dest}`` id cannot hold an IPv6
  address (':' is not allowed in command ids).
- ``url`` is ``http://`` only: a filter that reads requests cannot read TLS
  (the tls runbook covers HTTPS); the request goes to ``dest:port`` with the
  URL's host as ``Host:``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from html import escape
from typing import Any

import pandas as pd

from .. import charts, params
from ..errors import ParameterError
from ..evidence import IPTABLES_SAVE, ROUTE_GET, NodeCommand
from ..model import Finding, about, finding
from ..parsers import connect_probe, ip_route_get, iptables_save
from ..places import other_place
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook
from .dns import id_part, interpreter

PROTOCOLS = ("tcp", "udp")


# --------------------------------------------------------------- parameters

def destination(param: str, value: Any) -> str:
    """An IP address or a DNS name (the probe resolves a name at the target)."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    from .dns import dns_name

    return dns_name(param, text).lower()


def protocol(param: str, value: Any) -> str:
    """tcp or udp."""
    text = str(value).strip().lower()
    if text not in PROTOCOLS:
        raise ParameterError(param, value, "must be tcp or udp")
    return text


def http_url(param: str, value: Any) -> str:
    """An ``http://HOST[:PORT]/PATH`` URL (ASCII, no spaces), at most 2000 characters."""
    from ..probes.connect import valid_url

    try:
        return valid_url(str(value)) if isinstance(value, str) else valid_url("")
    except Exception:  # noqa: BLE001 - argparse's ArgumentTypeError
        raise ParameterError(param, value, "must be an http:// URL such as http://web.default/admin (ASCII, "
                             "no spaces; https cannot be filtered by what it says: see the tls runbook)") from None


def rules_target(param: str, value: Any) -> str:
    """A target spec (as ``target``), or empty for the target itself."""
    return "" if value in ("", None) else TARGET.validate(param, value)


RUNBOOK = Runbook(
    name="firewall",
    description="A connection is refused, reset or hangs: which REJECT/DROP rule takes it (L4 and L7), proven by its counter",
    scenario="firewall",
    parameters=(*CLUSTER, TARGET,
                Parameter("dest", "", "address or name to connect to from the target", destination),
                Parameter("port", 80, "port to connect to", params.port),
                Parameter("protocol", "tcp", "tcp or udp (udp: no reply reads open or filtered)", protocol),
                Parameter("url", "", "http:// URL to request after connecting (layer 7); empty: L4 only",
                          http_url),
                Parameter("rules_target", "", "where the filter rules are read (e.g. the pod's node, "
                          "netns:NAME); empty means the target", rules_target),
                TIMEOUT),
)

#: evidence names of this runbook (besides the shared commands')
PROBE = "probe"
AFTER = "iptables-save-after-probe"
L7_REQUEST = "l7-request"

REQUIRES: dict[str, list[str]] = {
    "FW-001": [PROBE, IPTABLES_SAVE.name],
    "FW-002": [PROBE, L7_REQUEST],
    "FW-003": [PROBE, ROUTE_GET.name],
}
PARTIAL: dict[str, list[str]] = {"FW-001": [AFTER]}

#: the same argv as IPTABLES_SAVE at another moment: its own id and evidence name (k8srun.evidence rule)
IPTABLES_AFTER = dataclasses.replace(IPTABLES_SAVE, command_id=f"{IPTABLES_SAVE.command_id}-after-probe",
                                     title="iptables rules with packet counters, after the probe", evidence=AFTER)

RULE_COLUMNS = ["table", "chain", "position", "target", "reject_with", "rule", "match", "why", "not_evaluated",
                "flow", "packets_before", "packets_after", "moved", "fits_outcome"]
FLOW_COLUMNS = ["dest", "port", "protocol", "how"]
#: who answers a 403 as a filter, not as the application: (where, lower-case text)
PROXY_SIGNS = (("body", "rbac: access denied"), ("server", "envoy"), ("server", "squid"),
               ("body", "request blocked"), ("body", "the requested url was rejected"),
               ("body", "access denied by policy"), ("server", "awselb"), ("body", "web application firewall"))
L7_MODULES = ("string", "bpf", "u32")
_FAILED = ("refused", "unreachable", "no-route", "timeout", "no-reply")
_HOST_UNREACH = ("host-unreachable", "host-prohibited", "admin-prohibited", "address-unreachable")


# ------------------------------------------------------------- the probe

def step_timeout(timeout_s: float) -> float:
    """Seconds the probe waits per step (the SYN, then the response): clamp(timeout_s / 5, 0.5, 3)."""
    return round(min(3.0, max(0.5, float(timeout_s) / 5)), 2)


def probe_command(dest: str, port: int, proto: str, url: str, timeout_s: float,
                  python: str | None = None) -> NodeCommand:
    """The node command trying the flow once (see the evidence table)."""
    import sys

    head = f"connect-{proto}-{id_part(dest, 60)}-{port}"
    command_id = head + (f"-url-{hashlib.sha256(url.encode()).hexdigest()[:10]}" if url else "")
    argv = (python or sys.executable, "-m", "k8srun.probes.connect", "--dest", dest, "--port", str(port),
            "--protocol", proto, "--timeout", f"{step_timeout(timeout_s):g}", *(("--url", url) if url else ()))
    return NodeCommand(command_id, lambda _: argv, "connect-probe", f"connect to {dest}:{port}/{proto} from the target",
                       evidence=PROBE, columns=tuple(connect_probe.COLUMNS))


# --------------------------------------------------------- rule matching

def _networks(value: str) -> list:
    out = []
    for part in value.split(","):
        try:
            out.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            return []
    return out


def _in_networks(address: str | None, value: str) -> bool | None:
    if not address:
        return None
    networks = _networks(value)
    if not networks:
        return None
    ip = ipaddress.ip_address(address)
    return any(ip.version == n.version and ip in n for n in networks)


def _in_ports(port: int, value: str) -> bool | None:
    """Whether ``port`` is in an iptables port list: ``80``, ``8000:8100``, ``:1024``, ``22,80,8000:8100``."""
    try:
        for part in value.split(","):
            low, ranged, high = part.strip().partition(":")
            first = int(low) if low else 0
            last = (int(high) if high else 65535) if ranged else first
            if first <= port <= last:
                return True
    except ValueError:
        return None
    return False


def _protocol_matches(flow_proto: str, value: str) -> bool | None:
    value = value.lower()
    if value in ("all", "0"):
        return True
    return {"tcp": "6", "udp": "17"}.get(flow_proto) == value or flow_proto == value


def _hex_string(value: str) -> bytes | None:
    """``--hex-string`` text (``|47 45 54|`` mixed with plain text) as bytes."""
    out, plain = b"", value.split("|")
    try:
        for i, part in enumerate(plain):
            out += bytes.fromhex(part.replace(" ", "")) if i % 2 else part.encode("latin-1")
    except ValueError:
        return None
    return out


def match_rule(rule: dict, flow: dict) -> tuple[str, list[str], list[str]]:
    """(``yes``/``no``/``maybe``, why, not evaluated) for one rule row against ``flow``.

    ``flow``: protocol, dest, dport, source (or None), request (str or None). See the module doc.
    """
    why, unknown, verdicts = [], [], []
    options = {(m["module"], m["option"]) for m in rule.get("matches") or []}
    icase = ("string", "icase") in options
    for m in rule.get("matches") or []:
        module, option, value, negated = m["module"], m["option"], m["value"], m["negated"]
        result: bool | None
        label = f"{'! ' if negated else ''}{option} {value}".strip()
        if module == "" and option in ("p", "protocol"):
            result = _protocol_matches(flow["protocol"], value)
        elif module == "" and option in ("d", "destination"):
            result = _in_networks(flow["dest"], value)
        elif module == "" and option in ("s", "source"):
            result = _in_networks(flow.get("source"), value)
            if result is None:
                unknown.append("source address")
                continue
        elif module == "" and option in ("f", "fragment"):
            result = False
        elif option in ("dport", "destination-port", "dports", "destination-ports", "ports") \
                and module in ("tcp", "udp", "multiport", "sctp", ""):
            result = _in_ports(int(flow["dport"]), value)
        elif module == "tcp" and option in ("syn", "tcp-flags"):
            mask, _, wanted = (value.partition(" ") if option == "tcp-flags" else ("FIN,SYN,RST,ACK", "", "SYN"))
            mask_set = {f.strip().upper() for f in mask.split(",")}
            mask_set = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"} if "ALL" in mask_set else mask_set
            wanted_set = {f.strip().upper() for f in wanted.split(",")} - {"NONE", ""}
            packets = [{"SYN"}] + ([{"ACK", "PSH"}] if flow.get("request") else [])
            result = flow["protocol"] == "tcp" and any(p & mask_set == wanted_set for p in packets)
        elif module in ("conntrack", "state") and option in ("ctstate", "state"):
            states = {s.strip().upper() for s in value.split(",")}
            flow_states = {"NEW"} | ({"ESTABLISHED"} if flow.get("request") else set())
            result = bool(states & flow_states) if not negated else not flow_states <= states
            negated = False
        elif module == "comment" or (module == "string" and option in ("algo", "from", "to", "icase")):
            continue
        elif module == "string" and option in ("string", "hex-string"):
            request = flow.get("request")
            needle = value.encode("latin-1", "replace") if option == "string" else _hex_string(value)
            if needle is None:
                unknown.append("string " + value)
                continue
            if request is None:
                result = False
            else:
                haystack = request.encode("latin-1", "replace")
                result = (needle.lower() in haystack.lower()) if icase else needle in haystack
        else:
            what = {"": {"i": "in-interface", "in-interface": "in-interface", "o": "out-interface",
                         "out-interface": "out-interface"}.get(option, option)}.get(module, f"-m {module}")
            if module in ("tcp", "udp") and option in ("sport", "source-port"):
                what = "source port"
            elif module == "multiport" and option in ("sports", "source-ports"):
                what = "source port"
            unknown.append(what if module != "" else f"{what} {value}")
            continue
        if result is None:
            unknown.append(label)
            continue
        result = (not result) if negated else result
        verdicts.append(result)
        if not result:
            why.append(f"{label} does not match")
        else:
            why.append(label)
    if verdicts and not all(verdicts):
        return "no", [w for w in why if w.endswith("does not match")], sorted(set(unknown))
    return ("maybe" if unknown else "yes"), why, sorted(set(unknown))


def expected_outcomes(target: str, reject_with: str | None) -> tuple[str, ...]:
    """Probe outcomes a rule's verdict produces (DROP: silence; REJECT: per ``--reject-with``)."""
    if target == "DROP" or target == "policy DROP":
        return ("timeout", "no-reply", "l7-timeout")
    kind = (reject_with or "icmp-port-unreachable").replace("icmp6-", "icmp-")
    if kind == "tcp-reset":
        return ("refused", "l7-reset")
    if kind in ("icmp-port-unreachable", "port-unreach"):
        return ("refused",)
    return ("unreachable", "l7-reset")


def flows(address: str, port: int, proto: str, rules: pd.DataFrame) -> pd.DataFrame:
    """The flow as sent, and as each DNAT in the rules' nat table rewrites it (``FLOW_COLUMNS``)."""
    out = [{"dest": address, "port": port, "protocol": proto, "how": "as sent"}]
    if rules is None or rules.empty:
        return pd.DataFrame(out, columns=FLOW_COLUMNS)
    records = [r for r in rules.to_dict("records") if r["kind"] == "rule"]
    services = iptables_save.kube_proxy_services(records)
    mine = services[(services["cluster_ip"] == address) & (services["port"] == port)
                    & (services["protocol"] == proto) & services["backend_ip"].notna()]
    for row in mine.itertuples():
        out.append({"dest": row.backend_ip, "port": int(row.backend_port) if pd.notna(row.backend_port) else port,
                    "protocol": proto, "how": f"DNAT {row.sep_chain} ({row.service})"})
    for rule in records:
        if rule["table"] != "nat" or rule["target"] != "DNAT" or rule["chain"].startswith("KUBE-"):
            continue
        verdict, _why, _unknown = match_rule(rule, {"protocol": proto, "dest": address, "dport": port})
        to = (rule["target_options"] or {}).get("to-destination", "")
        host, _, to_port = to.rpartition(":") if to.count(":") == 1 or to.startswith("[") else (to, "", "")
        if verdict != "no" and host:
            out.append({"dest": host.strip("[]"), "port": int(to_port) if to_port.isdigit() else port,
                        "protocol": proto, "how": f"DNAT {rule['chain']} #{int(rule['position'])}"})
    return pd.DataFrame(out, columns=FLOW_COLUMNS).drop_duplicates(subset=["dest", "port"])


def _keyed(rules: pd.DataFrame) -> dict[tuple, dict]:
    """Rule rows by (table, chain, rule text, occurrence) and chain rows by (table, chain, 'policy', 0)."""
    keyed, seen = {}, {}
    for row in rules.to_dict("records") if rules is not None and not rules.empty else []:
        if row["kind"] == "chain":
            keyed[(row["table"], row["chain"], "policy", 0)] = row
            continue
        base = (row["table"], row["chain"], row["rule"])
        seen[base] = seen.get(base, 0) + 1
        keyed[(*base, seen[base])] = row
    return keyed


def _count(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def rule_table(before: pd.DataFrame, after: pd.DataFrame | None, flow_frame: pd.DataFrame,
               source: str | None, request: str | None) -> pd.DataFrame:
    """Every DROP/REJECT rule (and DROP policy) judged against each flow, with counters (``RULE_COLUMNS``).

    A rule is listed once, with the flows it matches best (yes > maybe > no; every flow at that rank).
    """
    later = _keyed(after) if after is not None else {}
    rows = []
    rank = {"yes": 2, "maybe": 1, "no": 0}
    for key, rule in _keyed(before).items():
        if rule["kind"] == "chain":
            if rule["policy"] != "DROP":
                continue
            target, text = "policy DROP", f":{rule['chain']} DROP (chain policy)"
        elif rule["target"] in ("DROP", "REJECT"):
            target, text = rule["target"], rule["rule"]
        else:
            continue
        best = None
        for flow in flow_frame.to_dict("records"):
            judged = {"protocol": flow["protocol"], "dest": flow["dest"], "dport": flow["port"], "source": source,
                      "request": request}
            if rule["kind"] == "chain":
                verdict, why, unknown = "maybe", ["policy: packets no rule accepted"], ["earlier rules of the chain"]
            else:
                verdict, why, unknown = match_rule(rule, judged)
            named = f"{flow['dest']}:{flow['port']} ({flow['how']})"
            if best is None or rank[verdict] > rank[best[0]]:
                best = (verdict, why, unknown, named)
            elif rank[verdict] == rank[best[0]] and verdict != "no":
                best = (*best[:3], f"{best[3]}, {named}")
        before_n = _count(rule["packets"])
        after_row = later.get(key)
        after_n = _count(after_row["packets"]) if after_row is not None else None
        reject_with = (rule["target_options"] or {}).get("reject-with") if target == "REJECT" else None
        if target == "REJECT" and reject_with is None:
            reject_with = "icmp-port-unreachable"
        rows.append({"table": rule["table"], "chain": rule["chain"], "position": rule["position"],
                     "target": target, "reject_with": reject_with, "rule": text, "match": best[0],
                     "why": "; ".join(best[1]), "not_evaluated": ", ".join(best[2]), "flow": best[3],
                     "packets_before": before_n, "packets_after": after_n,
                     "moved": None if before_n is None or after_n is None else after_n - before_n,
                     "fits_outcome": ", ".join(expected_outcomes(target, reject_with))})
    out = pd.DataFrame(rows, columns=RULE_COLUMNS)
    for column in ("position", "packets_before", "packets_after", "moved"):
        out[column] = out[column].astype("Int64")
    return out


# ------------------------------------------------------------------ checks

def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return [{k: (None if not isinstance(v, (list, dict, str)) and pd.isna(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def flow_name(probe: dict, source: str | None = None) -> str:
    """The subject a flow's findings are about: ``flow tcp 10.244.1.10 → 10.244.2.10:8080``."""
    return f"flow {probe['protocol']} {source or 'target'} → {probe.get('address') or probe['dest']}:{probe['port']}"


def _to(probe: dict) -> str:
    """``address:port``, with what the cluster says the address is when known."""
    label = f" ({probe['dest_is']})" if probe.get("dest_is") else ""
    return f"{probe.get('address') or probe['dest']}:{probe['port']}{label}"


def _said(probe: dict) -> str:
    text = f"{probe['outcome']}: {probe.get('detail') or ''}".strip()
    return text + (f" (after {probe['connect_ms']:g} ms)" if probe.get("connect_ms") is not None else "")


def _moved(rules: pd.DataFrame) -> list[dict]:
    return [r for r in _records(rules) if r["match"] in ("yes", "maybe") and (r["moved"] or 0) > 0]


def _rule_text(r: dict) -> str:
    counters = (f"packets {r['packets_before']} → {r['packets_after']} (+{r['moved']} during the probe)"
                if r.get("moved") is not None else f"packets {r['packets_before']} (not read again after the probe)")
    unknown = f"; not evaluated: {r['not_evaluated']}" if r.get("not_evaluated") else ""
    return (f"{r['table']} {r['chain']} #{r['position']} `-A {r['chain']} {r['rule']}` — matches {r['flow']} "
            f"({r['match']}{unknown}); {counters}")


def rule_matched(probe: dict | None, rules: pd.DataFrame, hop: str, subject: str,
                 counters_read: bool = True) -> list[Finding]:
    """FW-001: the L4 probe failed and a matching DROP/REJECT rule's counter moved (module doc)."""
    if not probe or probe["outcome"] not in _FAILED:
        return []
    took = _moved(rules)
    how = "counter moved during the probe"
    if not took and not counters_read:
        took = [r for r in _records(rules) if r["match"] == "yes" and probe["outcome"] in r["fits_outcome"]]
        how = "matched by its rule text only (the counters were not read after the probe)"
    if not took:
        return []
    best = sorted(took, key=lambda r: (probe["outcome"] not in r["fits_outcome"], r["match"] != "yes"))
    first = best[0]
    fits = probe["outcome"] in first["fits_outcome"]
    detail = (f"{probe['protocol']} to {_to(probe)} {_said(probe)}; on "
              f"{hop} {first['target']}{' ' + first['reject_with'] if first['reject_with'] else ''} rule "
              f"{_rule_text(first)} — {how}"
              + ("" if fits else f"; its verdict would show as {first['fits_outcome']}, not {probe['outcome']}: "
                                 "another rule or hop may answer too")
              + (f". {len(best) - 1} more rule(s) moved: " + "; ".join(_rule_text(r) for r in best[1:4])
                 if len(best) > 1 else ""))
    if "has no endpoints" in (first["rule"] or "") and first["chain"].startswith("KUBE-"):
        detail += (". kube-proxy writes this rule for a Service without ready endpoints: the filter is the "
                   "symptom — the service-routing runbook says why the Service has none")
    return about(subject, [finding("FW-001", detail, {"probe": probe, "rules_target": hop, "rule": first,
                                                      "rules": best})])


def _proxy_sign(probe: dict) -> str | None:
    if probe.get("http_status") not in (403, 451):
        return None
    fields = {"server": (probe.get("http_server") or "").lower(), "body": (probe.get("http_body") or "").lower()}
    for where, sign in PROXY_SIGNS:
        if sign in fields[where]:
            said = probe.get("http_server" if where == "server" else "http_body") or ""
            return f"{where} says '{said[:80]}'"
    return None


def l7_blocked(probe: dict | None, rules: pd.DataFrame, hop: str, subject: str) -> list[Finding]:
    """FW-002: L4 connects, the request is reset / silently dropped by an L7 rule / refused by a filtering proxy."""
    if not probe or probe["outcome"] != "open" or not probe.get("url") or not probe.get("l7"):
        return []
    l7_rules = [r for r in _moved(rules) if any(f"-m {m} " in f" {r['rule']} " for m in L7_MODULES)]
    named = ("; the rule: " + _rule_text(l7_rules[0]) + f" on {hop}") if l7_rules else \
        f"; no layer-7 rule on {hop} moved: a proxy, WAF or mesh policy on the path"
    sign = _proxy_sign(probe)
    if probe["l7"] == "reset":
        what = f"the TCP connection opened ({probe.get('connect_ms')} ms) but was reset after the request was sent"
    elif probe["l7"] == "timeout" and l7_rules:
        what = "the TCP connection opened but the request got no response (dropped by a rule that reads it)"
    elif probe["l7"] == "http" and sign:
        what = f"HTTP {probe['http_status']} {probe.get('http_reason') or ''} from a filtering proxy ({sign})"
        named = ""
    else:
        return []
    first_line = (probe.get("request") or "").split("\r\n", 1)[0]
    detail = f"{probe['url']} via {_to(probe)}: {what} (request `{first_line}`){named}"
    return about(subject, [finding("FW-002", detail, {"probe": probe, "rules_target": hop, "rules": l7_rules})])


def looks_like_routing(probe: dict | None, route: pd.DataFrame, rules: pd.DataFrame, hop: str,
                       subject: str) -> list[Finding]:
    """FW-003: "No route to host" from an ICMP host-unreachable/-prohibited while a route exists."""
    if not probe or probe.get("errno") != "EHOSTUNREACH" or probe.get("icmp") not in _HOST_UNREACH:
        return []
    routes = _records(route)
    if not routes or routes[0].get("routed") is not True:
        return []
    rejecting = [r for r in _moved(rules) if r["target"] == "REJECT"
                 and any(k in (r["reject_with"] or "") for k in ("host-unreach", "host-prohib", "admin-prohib"))]
    fast = probe.get("connect_ms") is not None and probe["connect_ms"] < 1000
    if not rejecting and not fast:
        return []
    why = (f"the REJECT rule {_rule_text(rejecting[0])} on {hop} sends it" if rejecting else
           f"it came back after {probe['connect_ms']:g} ms — a REJECT answers at once, a router that gave up on "
           "ARP for a dead host after about 3 s; no such rule moved on " + hop)
    detail = (f"{probe['protocol']} to {_to(probe)}: 'No route to host' (ICMP "
              f"{probe['icmp']} from {probe.get('icmp_from') or 'unknown'}), yet the target routes "
              f"{routes[0].get('dst') or probe.get('address')} {routes[0].get('meaning')}: {why}")
    return about(subject, [finding("FW-003", detail, {"probe": probe, "route": routes[0], "rules": rejecting})])


def diagnose(*, probe: dict | None, rules: pd.DataFrame, route: pd.DataFrame, rules_target: str = "the target",
             source: str | None = None, counters_read: bool = True, dest_is: list[str] | None = None,
             **_: Any) -> list[Finding]:
    """Every firewall finding from the gathered evidence (see :func:`gather`)."""
    if not probe:
        return []
    subject = flow_name(probe, source)
    if dest_is:
        probe = {**probe, "dest_is": ", ".join(dest_is)}
    return [*rule_matched(probe, rules, rules_target, subject, counters_read),
            *l7_blocked(probe, rules, rules_target, subject),
            *looks_like_routing(probe, route, rules, rules_target, subject)]


def subjects(*, probe: dict | None, source: str | None = None, **_: Any) -> list[str]:
    """The flow probed."""
    return [flow_name(probe, source)] if probe else []


# ------------------------------------------------------------------ gather

def rules_hop(rb):
    """The session whose target is ``rules_target``: ``rb`` itself when it is empty or the target.

    Else a second place of the run (:func:`k8srun.places.other_place`): the same source and parameters on
    ``rules_target``, sharing ``rb``'s unavailable rows and missing evidence, its outputs saved in ``rb``'s
    report folder (``hosts/<that host>/``), so the report replays both places.
    """
    spec = rb.parameters.get("rules_target") or ""
    if not spec or spec == (rb.parameters.get("target") or ""):
        return rb
    return other_place(rb, spec, "rules")


def dest_names(rb, address: str | None, port: int, proto: str) -> list[str]:
    """What ``address`` is in the source's cluster: the Services whose ClusterIP it is (with the port's name),
    the pods whose IP it is; [] without a cluster source (only a label: no code needs it)."""
    if not address or rb.source.kind == "none":
        return []
    out = []
    for service in rb.objects("services", None, required=False) or []:
        spec, meta = service.get("spec") or {}, service.get("metadata") or {}
        if address not in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
            continue
        ports = [p for p in spec.get("ports") or []
                 if p.get("port") == port and str(p.get("protocol") or "TCP").lower() == proto]
        named = f":{ports[0]['name']}" if ports and ports[0].get("name") else ""
        out.append(f"Service {meta.get('namespace')}/{meta.get('name')}{named}"
                   + ("" if ports else f" (which has no port {port}/{proto})"))
    pods = rb.pods(None, required=False)  # the session's frame (cached, a few fields), not every pod whole
    for ns, name in pods.loc[(pods["pod_ip"] == address) & ~pods["host_network"].astype(bool),
                             ["namespace", "name"]].itertuples(index=False):
        out.append(f"pod {ns}/{name}")
    return out


def _missing(rb, evidence: str, what: str, reason: str) -> None:
    rb.missing_evidence.add(evidence)
    if not any(u.what == what for u in rb.unavailable):
        rb.note_unavailable(what, reason, where=str(rb.parameters.get("target") or "target"))


def run_probe(rb) -> dict | None:
    """The probe's row (dict), or None (evidence ``probe`` missing, with why)."""
    dest = rb.parameters.get("dest")
    if not dest:
        _missing(rb, PROBE, "connection probe", "no dest given: run with -p dest ADDRESS -p port N")
        return None
    kind = str(rb.parameters.get("target") or "local").partition(":")[0]
    if kind in ("ssh", "node"):
        _missing(rb, PROBE, "connection probe", f"the probe is k8srun's own Python: it runs on local and netns: "
                 f"targets, not {kind}: (run k8srun there, or curl -v by hand)")
        return None
    args = (dest, int(rb.parameters.get("port") or 80), rb.parameters.get("protocol") or "tcp",
            rb.parameters.get("url") or "", rb.parameters.get("timeout_s", 10))
    command = probe_command(*args)
    frame = rb.node(probe_command(*args, python=interpreter(rb, command)))
    return _records(frame)[0] if len(frame) else None


def route_to(rb, probe: dict | None) -> pd.DataFrame:
    """``ip -j route get ADDRESS`` on the target (the address the probe connected to)."""
    address = (probe or {}).get("address")
    if not address:
        _missing(rb, ROUTE_GET.name, "route to dest", "the probe did not say which address dest is")
        return pd.DataFrame(columns=ip_route_get.COLUMNS)
    if ":" in address:
        # the shared declaration names its id after the address (ip-route-get-{dest}), and ':' is not allowed in ids
        _missing(rb, ROUTE_GET.name, "route to dest", f"ip route get {address}: the shared command id "
                 "ip-route-get-{dest} cannot name an IPv6 address yet (k8srun.evidence.ROUTE_GET); run it by hand")
        return pd.DataFrame(columns=ip_route_get.COLUMNS)
    return rb.node(ROUTE_GET, dest=address)


def gather(rb) -> dict:
    """Rules before, the probe, rules after, the route — in that order (cached in the sessions)."""
    hop = rules_hop(rb)
    where = rb.parameters.get("rules_target") or rb.parameters.get("target") or "the target"
    before = hop.node(IPTABLES_SAVE)
    probe = run_probe(rb)
    after = hop.node(IPTABLES_AFTER) if probe is not None else None
    if probe is None:
        rb.missing_evidence.add(AFTER)
    route = route_to(rb, probe)
    if not rb.parameters.get("url"):
        _missing(rb, L7_REQUEST, "layer-7 request", "no url given: FW-002 needs -p url http://HOST/PATH")
    elif probe is not None and probe["outcome"] != "open":
        _missing(rb, L7_REQUEST, "layer-7 request", f"the L4 connect failed ({probe['outcome']}): no request was sent")
    address = (probe or {}).get("address")
    if address and ipaddress.ip_address(address).version == 6:
        _missing(rb, IPTABLES_SAVE.name, "filter rules for an IPv6 flow", "ip6tables-save is not read: the "
                 "IPv4 rules of iptables-save cannot match an IPv6 flow (read ip6tables-save -c by hand)")
        before = after = pd.DataFrame(columns=iptables_save.COLUMNS)
    counters_read = after is not None and not after.empty and AFTER not in rb.missing_evidence
    source = next(iter(_records(route)), {}).get("prefsrc")
    flow_frame = flows(address, int(rb.parameters.get("port") or 80), rb.parameters.get("protocol") or "tcp",
                       before) if address else pd.DataFrame(columns=FLOW_COLUMNS)
    rules = rule_table(before, after if counters_read else None, flow_frame, source, (probe or {}).get("request"))
    return {"probe": probe, "rules": rules, "route": route, "flows": flow_frame, "rules_target": where,
            "source": source, "counters_read": counters_read, "target": rb.parameters.get("target") or "local",
            "dest_is": dest_names(rb, address, int(rb.parameters.get("port") or 80),
                                  rb.parameters.get("protocol") or "tcp")}


# ------------------------------------------------------------------ picture

_ARROW = "<line x1='{x1}' y1='{y1}' x2='{x2}' y2='{y2}' stroke='{c}' stroke-width='2'{dash} marker-end='url(#fw-arrow-{m})'/>"


def _arrow(x1, y1, x2, y2, colour, *, dashed=False) -> str:
    m = {"#2b8a3e": "ok", "#b00020": "bad", "#495057": "grey"}.get(colour, "grey")
    return _ARROW.format(x1=x1, y1=y1, x2=x2, y2=y2, c=colour, dash=" stroke-dasharray='5 4'" if dashed else "", m=m)


def timeline_chart(probe: dict | None, rules: pd.DataFrame, *, target: str = "target",
                   rules_target: str = "the target", flow_frame: pd.DataFrame | None = None) -> charts.Svg:
    """The probe as a sequence diagram: SYN → what came back (RST / ICMP / nothing), the request → its fate,
    with the rule whose counter moved drawn where it sits (the rules hop)."""
    width, top = 860, 56
    lanes = {"client": 110, "hop": 420, "dest": 700}
    same = rules_target in (target, "the target", "")
    body = ["<defs>" + "".join(f"<marker id='fw-arrow-{m}' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' "
                               f"markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='{c}'/></marker>"
                               for m, c in (("ok", "#2b8a3e"), ("bad", "#b00020"), ("grey", "#495057"))) + "</defs>"]
    dest = f"{(probe or {}).get('address') or (probe or {}).get('dest') or '?'}:{(probe or {}).get('port', '?')}"
    names = {"client": target, "hop": "filter on " + (rules_target if not same else f"{target} (OUTPUT)"),
             "dest": dest}
    steps: list[str] = []
    y = top + 30
    if probe is None:
        body.append(charts.text(20, 40, "no probe result: nothing to draw"))
        return charts.document(width, 80, "Probe timeline", "No probe result.", body)
    moved = _moved(rules)
    rule = moved[0] if moved else None
    rule_label = (f"{rule['target']}{' ' + rule['reject_with'] if rule['reject_with'] else ''} "
                  f"{rule['chain']} #{rule['position']} (+{rule['moved']} pkt)") if rule else None
    outcome = probe["outcome"]
    hit = lanes["hop"] if rule else lanes["dest"]
    syn = "SYN" if probe["protocol"] == "tcp" else "datagram"
    if outcome == "open":
        steps.append(f"<g class='fw-step' data-step='syn' data-outcome='open'>{_arrow(lanes['client'], y, lanes['dest'], y, '#2b8a3e')}"
                     + charts.text(lanes["client"] + 10, y - 6, syn) + "</g>")
        y += 34
        steps.append(f"<g class='fw-step' data-step='answer' data-outcome='open'>{_arrow(lanes['dest'], y, lanes['client'], y, '#2b8a3e')}"
                     + charts.text(lanes["dest"] - 10, y - 6, "SYN-ACK" if probe["protocol"] == "tcp" else "reply",
                                   anchor="end") + "</g>")
    else:
        colour = "#b00020"
        stop = hit
        steps.append(f"<g class='fw-step' data-step='syn' data-outcome='{escape(outcome)}'>"
                     f"{_arrow(lanes['client'], y, stop - 6, y, colour)}" + charts.text(lanes["client"] + 10, y - 6, syn)
                     + (charts.marker("cross", stop, y, colour, 6) if rule else "") + "</g>")
        y += 34
        if outcome in ("timeout", "no-reply"):
            steps.append(f"<g class='fw-step' data-step='answer' data-outcome='{outcome}'>"
                         + charts.text(stop, y, f"nothing back: {outcome} after {probe.get('connect_ms') or 0:g} ms",
                                       anchor="middle", extra=f" fill='{colour}'") + "</g>")
        else:
            said = (f"ICMP {probe['icmp']} from {probe.get('icmp_from')}" if probe.get("icmp")
                    else ("RST" if outcome == "refused" else probe.get("errno") or outcome))
            start = stop if probe.get("icmp") or outcome == "refused" else lanes["client"] + 40
            steps.append(f"<g class='fw-step' data-step='answer' data-outcome='{escape(outcome)}'>"
                         f"{_arrow(start, y, lanes['client'], y, colour, dashed=True)}"
                         + charts.text((start + lanes['client']) / 2, y - 6, f"{said} → {probe.get('errno') or ''}",
                                       anchor="middle", extra=f" fill='{colour}'") + "</g>")
    if probe.get("l7"):
        y += 34
        ok = probe["l7"] == "http"
        colour = "#2b8a3e" if ok else "#b00020"
        first_line = (probe.get("request") or "").split("\r\n", 1)[0]
        l7_stop = lanes["dest"] if ok or not rule else lanes["hop"]
        steps.append(f"<g class='fw-step' data-step='request' data-outcome='{escape(probe['l7'])}'>"
                     f"{_arrow(lanes['client'], y, l7_stop - 6, y, colour)}"
                     + charts.text(lanes["client"] + 10, y - 6, first_line[:60]) + "</g>")
        y += 34
        said = (f"HTTP {probe.get('http_status')} {probe.get('http_reason') or ''}" if ok
                else {"reset": "RST after the request", "timeout": "no response", "closed": "closed, no response"}
                .get(probe["l7"], probe["l7"]))
        steps.append(f"<g class='fw-step' data-step='response' data-outcome='{escape(probe['l7'])}'>"
                     f"{_arrow(l7_stop, y, lanes['client'], y, colour, dashed=not ok)}"
                     + charts.text((l7_stop + lanes['client']) / 2, y - 6, said, anchor="middle",
                                   extra=f" fill='{colour}'") + "</g>")
    height = y + 60
    translated = [f"{r['dest']}:{r['port']}" for r in _records(flow_frame) if r["how"] != "as sent"]
    if translated:
        body.append(charts.text(lanes["dest"], top - 1, ("DNAT → " + ", ".join(translated))[:70], anchor="middle",
                                css="fw-dnat", font_size=10))
    for lane, x in lanes.items():
        body.append(f"<g class='fw-lane' data-lane='{lane}'><line x1='{x}' y1='{top}' x2='{x}' y2='{height - 36}' "
                    f"stroke='#adb5bd' stroke-dasharray='2 3'/>"
                    + charts.text(x, top - 12, names[lane][:48], anchor="middle", font_size=12) + "</g>")
    body += steps
    if rule:
        body.append(f"<g class='fw-rule' data-chain='{escape(rule['chain'], quote=True)}' "
                    f"data-moved='{rule['moved']}'><rect x='{lanes['hop'] - 150}' y='{height - 34}' width='300' "
                    f"height='22' rx='4' fill='#fff5f5' stroke='#b00020'/>"
                    + charts.text(lanes["hop"], height - 19, rule_label, anchor="middle", extra=" fill='#b00020'")
                    + "</g>")
    else:
        body.append(charts.text(lanes["hop"], height - 19, "no DROP/REJECT rule of the rules hop moved",
                                anchor="middle", css="fw-no-rule"))
    return charts.document(width, height, "Probe timeline", f"{syn} to {dest} from {target}: {outcome}"
                           + (f", then {probe['l7']}" if probe.get("l7") else "")
                           + (f"; rule {rule_label}" if rule else ""), body)


def flow_summary(probe: dict | None, dest_is: list[str] | None = None) -> pd.DataFrame:
    """The probe's result as field / value rows for a table (``dest_is``: what the cluster says dest is)."""
    if not probe:
        return pd.DataFrame(columns=["field", "value"])
    probe = {**probe, "in the cluster": ", ".join(dest_is or []) or None}
    keys = ("dest", "address", "in the cluster", "port", "protocol", "outcome", "errno", "detail", "icmp", "icmp_from", "connect_ms",
            "url", "l7", "http_status", "http_server", "l7_detail")
    return pd.DataFrame([{"field": k, "value": probe.get(k)} for k in keys if probe.get(k) is not None],
                        columns=["field", "value"])


__all__ = ["RUNBOOK", "REQUIRES", "PARTIAL", "gather", "diagnose", "subjects", "match_rule", "rule_table", "flows",
           "timeline_chart", "flow_summary", "probe_command", "rules_hop"]
