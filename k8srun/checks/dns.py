"""dns: names don't resolve — resolv.conf, the search-path expansion, port 53, kube-dns and CoreDNS (DNS-001..006).

Two views, joined. The **node view** is read on the run's ``target`` — run
it where the failing pod's network is (``netns:<pod netns>``, or
``node:``/``ssh:`` for a host): its resolv.conf, then every query the
resolver would send for each name in ``names``, asked from there. The
**cluster view** comes from the source: the ``dns_service`` Service (default
``kube-system/kube-dns``), its Endpoints, the CoreDNS pods it selects and
their logs. With ``-p source none`` the cluster sections say "skipped: no
cluster source" and the node checks still run.

Evidence
========

=============================  ===========================================  =================  ===================
command id                     argv                                         parser             evidence name
=============================  ===========================================  =================  ===================
``resolv-conf``                ``cat /etc/resolv.conf`` (shared NODE_FACT)  resolv-conf        ``resolv-conf``
``resolv-conf-custom``         ``cat -- PATH`` (``resolv_conf`` elsewhere)  resolv-conf        ``resolv-conf``
``ip-addr``                    ``ip -j addr show`` (shared NODE_FACT)       ip-json-addr       ``ip-addr`` (which
                                                                                               pod the target is)
``dns-{udp,tcp}-S-Q``          ``PYTHON -m k8srun.probes.dns --server S``   dns-probe          ``dns-queries``
                               ``--transport udp|tcp --timeout T --qname
                               Q`` (local, netns targets)
``dig-{udp,tcp}-S-Q``          ``dig +time=T +tries=1 [+tcp] @S Q A``       dig-query          ``dns-queries``
                               (ssh:, node: targets; exit 9 = no answer)
=============================  ===========================================  =================  ===================

``S`` is the server's address and ``Q`` the query name (lower case, the
trailing dot dropped, ``:`` as ``_``; a name that would make the id longer
than 100 characters ends in a hash of itself instead). One command per query
and server, so a recorded run replays query for query.

*Who asks* (environment variable ``K8SRUN_DNS_CLIENT``: ``auto``, the
default, ``dnspython`` or ``dig``): ``auto`` uses the probe
(:mod:`k8srun.probes.dns`, dnspython on our own socket) where k8srun's own
Python runs at the target's network position — ``local`` and ``netns:``
(``ip netns exec`` keeps this machine's filesystem, so the venv's
interpreter runs inside the namespace) — and ``dig`` on ``ssh:`` and
``node:`` targets, whose hosts have no k8srun. A replay uses what was
recorded (any ``dig-*`` command recorded: dig). *Replaying from another
machine*: the probe's argv starts with this machine's ``sys.executable``,
which differs between machines, so for a recorded source the interpreter is
taken from the recorded argv of that command id when the rest of the argv
matches (:func:`interpreter`); everything else in the argv must match as
usual.

*Bounded*: every query gets ``T = clamp(timeout_s / 10, 0.3, 2)`` seconds
(dig: whole seconds, at least 1); a server that did not answer once
(timeout / refused / unreachable) is not asked again in this run, so with
every packet dropped the run sends one UDP and one TCP query per server and
finishes in about 2 T per server.

The resolver's search expansion (:func:`expand`)
================================================

glibc's ``res_nsearch``, which the check reproduces for each name (A
queries; glibc asks A and AAAA in parallel, their search order is the same):

- a name ending in ``.`` is absolute: it is asked as it is, and only so;
- a name with at least ``ndots`` dots (``options ndots:N``, default 1, capped
  at 15) is asked as it is *first*, then with each search domain appended;
- a name with fewer dots is asked with each search domain appended, in the
  order of the ``search`` line, and as it is *last*.

Per query, the servers are asked in resolv.conf order (glibc asks the next
nameserver after a timeout, a refusal, SERVFAIL or REFUSED; NOERROR and
NXDOMAIN are final). The search then goes on after NXDOMAIN, NODATA
(NOERROR without an A record) and SERVFAIL, and *stops* at the first
answer with an address — the query that **won** — or when no server
answered at all (glibc gives up the whole search on a timeout: a dropped
query to the first search domain fails a name whose FQDN would resolve).
Queries after the stop are listed as not sent.

musl (Alpine) differs: it asks all nameservers in parallel and takes the
first reply, it does not fall back to TCP before 1.2.4, and any answer
other than NXDOMAIN/NODATA (e.g. SERVFAIL) ends the search instead of
trying the next domain. The expansion order is the same; the picture is
glibc's.

How each code decides
=====================

- **DNS-001** (error): the cluster DNS address is ``cluster_dns`` when given,
  else the ClusterIP of ``dns_service`` from the source. Found when
  resolv.conf names no nameserver (glibc then asks 127.0.0.1), or the
  cluster DNS address is not the *first* nameserver (the first is asked
  first; a cluster DNS listed later is only reached after a timeout). With no
  cluster DNS address (no source and no ``cluster_dns``) it is NOT CHECKED
  (evidence ``cluster-dns-ip``). A pod with NodeLocal DNSCache uses
  169.254.20.10: pass it as ``cluster_dns``.
- **DNS-002** (warning): the expected search path is
  ``<ns>.svc.<domain> svc.<domain> <domain>`` (``domain`` =
  ``cluster_domain``, ``ns`` = the pod's namespace: ``pod_namespace``, else
  the namespace of the source's pod whose IP is an address of the target,
  else NOT CHECKED — evidence ``pod-namespace``). Found when the search line
  does not start with those three in that order (missing, another
  namespace's, or reordered; more domains after them are normal). Also found
  for a name that did not resolve because ``ndots`` made the resolver ask it
  as it is first and that query ended the search (no server answered) before
  any search domain was tried.
- **DNS-003** (critical): the ``dns_service`` Service does not exist, or its
  Endpoints hold no ready address (the ClusterIP then leads nowhere:
  kube-proxy REJECTs it).
- **DNS-004** (error): one finding per pod selected by the Service's selector
  (``k8s-app=kube-dns`` when there is no Service): the pod is not Running
  and Ready (container state, reason, restarts, last exit), or its current or
  previous log (last 200 lines) has error lines — ``Loop (...) detected``
  (plugin/loop, fatal), ``i/o timeout`` (an upstream or the API not
  answering), upstream ``SERVFAIL`` / ``no healthy upstream``, other
  ``[ERROR] plugin/errors`` and ``[FATAL]`` lines. No pod selected at all is
  a finding about the Service. Logs only sharpen it (``PARTIAL``): without
  them the pod states are still checked.
- **DNS-005** (critical): a nameserver from resolv.conf did not answer a DNS
  query on UDP or TCP port 53: ``timeout`` (dropped — a firewall, a DROP
  rule, a dead path), ``refused`` (ICMP port unreachable / TCP RST — nothing
  listens, or a REJECT rule such as kube-proxy's for a Service without
  endpoints) or ``unreachable`` (no route, host unreachable). Any DNS reply,
  whatever its rcode, counts as answered.
- **DNS-006** (error): a name in ``names`` did not resolve although a server
  answered some of its queries: each query's rcode (NXDOMAIN, NODATA,
  SERVFAIL, REFUSED) is in the detail. A name no server answered at all is
  DNS-005's, not this.

Every name, every nameserver, the resolv.conf, the Service and each CoreDNS
pod gets a verdict (:func:`subjects`).

Decisions and limits
====================

- The target is judged as a *pod* with ``dnsPolicy: ClusterFirst``: a node's
  own resolv.conf (or a hostNetwork pod's) is not meant to name the cluster
  DNS, so DNS-001/002 there are expected; run it from the pod's namespace.
- With ``-p source none`` the cluster sections are skipped (DNS-003/004 NOT
  CHECKED) and the node checks run; DNS-001 and DNS-002 need something to
  compare with — ``cluster_dns`` and ``pod_namespace`` — else they read NOT
  CHECKED rather than guessing from the file they judge.
- Only A queries are asked (glibc's AAAA runs alongside with the same
  expansion). A truncated UDP answer is taken as it is (glibc would repeat it
  over TCP); the TCP column of DNS-005 tells whether that would work.
- A server that did not answer once is not asked again in the run (bounded
  time); its later rows say "not asked again", with the first outcome.
- ``dig`` on ``ssh:``/``node:`` targets must exist on that host (``node:``
  runs it chrooted into the node's filesystem).

Frames (pure functions, for the notebook): :func:`resolv_conf_table`,
:func:`expand`, the resolution (``RESOLUTION_COLUMNS``: one row per expanded
query — name, step, qname, why, server, outcome, rcode, answers, status,
won, sent), the attempts (every query sent, ``ATTEMPT_COLUMNS``), the
reachability (``REACH_COLUMNS``: server, udp, tcp, verdict), the CoreDNS pods
and their classified log lines (``LOG_COLUMNS``). :func:`resolution_chart`
draws name → each expanded query → rcode/answer, the winner highlighted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import sys
from html import escape
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .. import charts, params
from ..errors import K8srunError, ParameterError
from ..evidence import IP_ADDR, RESOLV_CONF, NodeCommand
from ..model import Finding, about, finding
from ..parsers import dns_query
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook

#: environment variable forcing who asks (auto, dnspython, dig): dig from a local/netns target, e.g. in tests
CLIENT_ENV = "K8SRUN_DNS_CLIENT"
MAX_NAMES = 10
MAX_NDOTS = 15
CLIENTS = ("auto", "dnspython", "dig")
DEFAULT_SELECTOR = {"k8s-app": "kube-dns"}
LOG_TAIL = 200
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


# --------------------------------------------------------------- parameters

def dns_name(param: str, value: Any) -> str:
    """A DNS name: labels of letters, digits, '-' and '_' (1..63 each), at most 253 characters, optional final dot."""
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(param, value, "must be a DNS name such as web.default or web.default.svc.cluster.local.")
    text = value.strip()
    bare = text[:-1] if text.endswith(".") else text
    if not bare or len(bare) > 253 or not all(_LABEL.match(label) for label in bare.split(".")):
        raise ParameterError(param, value, "must be a DNS name: dot-separated labels of letters, digits, '-' "
                             "and '_' (1-63 characters each, 253 in all), optionally ending in '.'")
    return text


def names_list(param: str, value: Any) -> list[str]:
    """One name or a list of 1..10 names, each a :func:`dns_name`."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not values or len(values) > MAX_NAMES:
        raise ParameterError(param, value, f"must be a name or a list of 1 to {MAX_NAMES} names")
    return [dns_name(param, v) for v in values]


def service_ref(param: str, value: Any) -> str:
    """``namespace/name`` of a Service."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise ParameterError(param, value, "must be NAMESPACE/NAME, e.g. kube-system/kube-dns")
    namespace, name = value.strip().split("/")
    return f"{params.dns1123_label(param, namespace)}/{params.dns1123_label(param, name)}"


def file_path(param: str, value: Any) -> str:
    """An absolute path without '..', NUL or newlines (it becomes an argv word of ``cat --``)."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 4096 \
            or any(c in value for c in "\0\n\r") or ".." in value.split("/"):
        raise ParameterError(param, value, "must be an absolute path without '..', e.g. /etc/resolv.conf")
    return value


def domain(param: str, value: Any) -> str:
    """A cluster domain: a DNS name without the final dot."""
    return dns_name(param, value).rstrip(".").lower()


def client_choice(param: str, value: Any) -> str:
    """auto, dnspython or dig (the ``K8SRUN_DNS_CLIENT`` environment variable)."""
    text = str(value).strip().lower()
    if text not in CLIENTS:
        raise ParameterError(param, value, "must be auto, dnspython or dig")
    return text


RUNBOOK = Runbook(
    name="dns",
    description="Names don't resolve: resolv.conf, search-path expansion, port 53 reachability, kube-dns and CoreDNS",
    scenario="dns",
    parameters=(*CLUSTER, TARGET,
                Parameter("names", ["kubernetes.default"], "names to resolve as the pod would (one or a list)",
                          names_list),
                Parameter("dns_service", "kube-system/kube-dns", "the cluster DNS Service, NAMESPACE/NAME",
                          service_ref),
                Parameter("resolv_conf", "/etc/resolv.conf", "resolv.conf path on the target", file_path),
                Parameter("pod_namespace", "", "namespace of the pod the target is (expected search path); "
                          "empty means found by the target's IP in the source",
                          lambda n, v: params.dns1123_label(n, v, allow_empty=True)),
                Parameter("cluster_domain", "cluster.local", "the cluster's DNS domain", domain),
                Parameter("cluster_dns", "", "the address pods must use as nameserver; empty means the "
                          "dns_service ClusterIP from the source", params.ip_address),
                TIMEOUT),
    triage=("cluster-dns-down", "dns-pods"),
)

#: evidence names of this runbook (besides the shared commands' and the source's)
QUERIES = "dns-queries"
CLUSTER_DNS_IP = "cluster-dns-ip"
POD_NAMESPACE = "pod-namespace"

REQUIRES: dict[str, list[str]] = {
    "DNS-001": [RESOLV_CONF.name, CLUSTER_DNS_IP],
    "DNS-002": [RESOLV_CONF.name, POD_NAMESPACE],
    "DNS-003": ["services", "endpoints"],
    "DNS-004": ["pods"],
    "DNS-005": [RESOLV_CONF.name, QUERIES],
    "DNS-006": [RESOLV_CONF.name, QUERIES],
}
PARTIAL: dict[str, list[str]] = {"DNS-004": ["logs"]}

#: ``cat -- PATH`` for a resolv.conf elsewhere than /etc/resolv.conf (``--``: not the shared command's argv)
RESOLV_CONF_CUSTOM = NodeCommand("resolv-conf-custom",
                                 lambda values: ("cat", "--", values.get("resolv_conf") or "/etc/resolv.conf"),
                                 "resolv-conf", "resolver configuration (resolv_conf)", evidence=RESOLV_CONF.name)

RESOLV_COLUMNS = ["setting", "value", "expected", "ok", "note"]
RESOLUTION_COLUMNS = ["name", "step", "qname", "why", "server", "transport", "outcome", "rcode", "answers",
                      "status", "won", "sent"]
ATTEMPT_COLUMNS = ["name", "step", *dns_query.COLUMNS, "asked"]
REACH_COLUMNS = ["server", "cluster_dns", "udp", "udp_detail", "tcp", "tcp_detail", "verdict"]
POD_COLUMNS = ["pod", "node", "status", "phase", "ready", "state", "reason", "restarts", "last_reason", "last_exit_code",
               "errors"]
LOG_COLUMNS = ["pod", "container", "previous", "kind", "line"]
#: statuses of an expanded query after which glibc goes on to the next one
SEARCH_GOES_ON = ("nxdomain", "nodata", "servfail", "refused", "rcode")


# ------------------------------------------------------------- resolv.conf

def conf_of(resolv: pd.DataFrame) -> dict:
    """nameservers, search, ndots (glibc default 1, capped at 15), options of a parsed resolv.conf."""
    if resolv is None or resolv.empty:
        return {"nameservers": [], "search": [], "ndots": 1, "ndots_set": False, "options": [], "read": False}
    row = resolv.iloc[0]
    ndots = row["ndots"]
    given = ndots is not None and not pd.isna(ndots)
    return {"nameservers": list(row["nameservers"] or []),
            "search": [str(d).rstrip(".").lower() for d in row["search"] or []],
            "ndots": min(int(ndots), MAX_NDOTS) if given else 1, "ndots_set": bool(given),
            "options": list(row["options"] or []), "read": True}


def expected_search(namespace: str, cluster_domain: str) -> list[str]:
    """What the kubelet writes for a ClusterFirst pod in ``namespace``."""
    return [f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]


def resolv_conf_table(conf: dict, cluster_dns: str | None, search: list[str] | None) -> pd.DataFrame:
    """resolv.conf as setting / value / expected / ok / note rows."""
    servers = conf["nameservers"]
    first_ok = bool(servers) and cluster_dns is not None and servers[0] == cluster_dns
    rows = [{"setting": "nameserver", "value": " ".join(servers) or "(none: glibc asks 127.0.0.1)",
             "expected": cluster_dns or "unknown (no cluster source, no cluster_dns)",
             "ok": None if cluster_dns is None else first_ok,
             "note": "the first nameserver is asked first" if len(servers) > 1 else ""},
            {"setting": "search", "value": " ".join(conf["search"]) or "(none)",
             "expected": " ".join(search) if search else "unknown (pod namespace not known)",
             "ok": None if search is None else conf["search"][:3] == search, "note": ""},
            {"setting": "ndots", "value": conf["ndots"] if conf["ndots_set"] else "1 (not set: glibc default)",
             "expected": 5, "ok": None,
             "note": f"names with fewer than {conf['ndots']} dots try the search list first"},
            {"setting": "options", "value": " ".join(conf["options"]) or "(none)", "expected": "", "ok": None,
             "note": ""}]
    return pd.DataFrame(rows, columns=RESOLV_COLUMNS)


# ----------------------------------------------------------- the expansion

def expand(name: str, search: Iterable[str], ndots: int = 1) -> list[dict]:
    """The queries glibc sends for ``name``, in order: ``[{"qname": "a.b.", "why": "..."}]`` (module doc)."""
    if name.endswith("."):
        return [{"qname": name.lower(), "why": "absolute (ends with '.'): only as it is"}]
    ndots = min(max(int(ndots), 0), MAX_NDOTS)
    dots = name.count(".")
    lower = name.lower()
    searched = [{"qname": f"{lower}.{d.rstrip('.').lower()}.", "why": f"search domain {d.rstrip('.')}"}
                for d in search if d.strip(".")]
    if dots >= ndots:
        return [{"qname": f"{lower}.", "why": f"as it is first: {dots} dot(s) >= ndots {ndots}"}, *searched]
    return [*searched, {"qname": f"{lower}.", "why": f"as it is last: {dots} dot(s) < ndots {ndots}"}]


def query_status(attempts: list[dict]) -> str:
    """One expanded query's result from its attempts (in the order sent): resolved, nxdomain, nodata,
    servfail, refused, rcode (another rcode), no-answer (no server answered) or not-sent (no attempt)."""
    answered = [a for a in attempts if a.get("outcome") == "answered"]
    if not attempts:
        return "not-sent"
    if not answered:
        return "no-answer"
    last = answered[-1]
    rcode = last.get("rcode")
    if rcode == "NOERROR":
        return "resolved" if any(_is_address(a) for a in last.get("answers") or []) else "nodata"
    return {"NXDOMAIN": "nxdomain", "SERVFAIL": "servfail", "REFUSED": "refused"}.get(rcode, "rcode")


def final_answer(row: dict) -> bool:
    """Whether glibc stops asking servers for this query after this attempt (NOERROR, NXDOMAIN)."""
    return row.get("outcome") == "answered" and row.get("rcode") in ("NOERROR", "NXDOMAIN")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------- command shape

def timeouts(timeout_s: float) -> tuple[float, int]:
    """(probe seconds, dig seconds) per query from the run's ``timeout_s``."""
    per = min(2.0, max(0.3, float(timeout_s) / 10))
    return round(per, 2), max(1, int(round(per)))


def id_part(text: str, room: int) -> str:
    """``text`` as a command-id part of at most ``room`` characters (lower case, ':' -> '_', final '.' dropped)."""
    part = re.sub(r"[^a-z0-9._-]", "_", text.lower().rstrip("."))
    if len(part) <= room:
        return part
    digest = hashlib.sha256(part.encode()).hexdigest()[:12]
    return part[:room - 13] + "-" + digest


def query_command(client: str, server: str, transport: str, qname: str, timeout_s: float,
                  python: str | None = None) -> NodeCommand:
    """The node command asking ``server`` for ``qname`` over ``transport`` (see the evidence table)."""
    per, whole = timeouts(timeout_s)
    prefix = "dig" if client == "dig" else "dns"
    head = f"{prefix}-{transport}-{id_part(server, 39)}-"
    command_id = head + id_part(qname, 100 - len(head))
    if client == "dig":
        argv = ("dig", f"+time={whole}", "+tries=1", *(("+tcp",) if transport == "tcp" else ()), f"@{server}",
                qname, "A")
        return NodeCommand(command_id, lambda _: argv, "dig-query", f"dig {qname} @{server} ({transport})",
                           evidence=QUERIES, accept_exit=(0, 9), columns=tuple(dns_query.COLUMNS))
    argv = (python or sys.executable, "-m", "k8srun.probes.dns", "--server", server, "--transport", transport,
            "--timeout", f"{per:g}", "--qname", qname)
    return NodeCommand(command_id, lambda _: argv, "dns-probe", f"DNS query {qname} to {server} ({transport})",
                       evidence=QUERIES, columns=tuple(dns_query.COLUMNS))


def _replay_folder(rb) -> Path | None:
    """The recorded host folder when the target replays, else None (also when the target cannot be opened:
    running the command then says why, as an "evidence unavailable" row)."""
    try:
        folder = getattr(rb.target, "folder", None)
    except K8srunError:
        return None
    return Path(folder) if folder is not None else None


def interpreter(rb, command: NodeCommand) -> str:
    """The Python to put first in a probe's argv: this one, or the recorded one when replaying (module doc)."""
    folder = _replay_folder(rb)
    if folder is None:
        return sys.executable
    command_id, argv = command.build({})
    meta = folder / f"{command_id}.json"
    try:
        recorded = json.loads(meta.read_text(encoding="utf-8"))["argv"]
    except (OSError, ValueError, KeyError, TypeError):
        return sys.executable
    if isinstance(recorded, list) and recorded and tuple(recorded[1:]) == argv[1:] \
            and Path(str(recorded[0])).name.startswith("python"):
        return str(recorded[0])
    return sys.executable


def client_of(rb) -> str:
    """dnspython or dig: ``K8SRUN_DNS_CLIENT`` when set, else what a replay recorded, else by the target kind."""
    chosen = client_choice(CLIENT_ENV, os.environ.get(CLIENT_ENV) or "auto")
    if chosen != "auto":
        return chosen
    folder = _replay_folder(rb)
    if folder is not None:
        return "dig" if any(folder.glob("dig-*.json")) else "dnspython"
    kind = str(rb.parameters.get("target") or "local").partition(":")[0]
    return "dnspython" if kind in ("local", "netns") else "dig"


# ------------------------------------------------------------ node gather

def read_resolv_conf(rb) -> pd.DataFrame:
    """The target's resolv.conf (``resolv_conf``; the shared NODE_FACT for /etc/resolv.conf)."""
    path = rb.parameters.get("resolv_conf") or "/etc/resolv.conf"
    return rb.node(RESOLV_CONF if path == "/etc/resolv.conf" else RESOLV_CONF_CUSTOM)


def ask(rb, client: str, server: str, transport: str, qname: str) -> dict | None:
    """One query through a node command; its row (server/transport/qname filled in), None when unavailable."""
    timeout_s = rb.parameters.get("timeout_s", 10)
    command = query_command(client, server, transport, qname, timeout_s)
    if client != "dig":
        command = query_command(client, server, transport, qname, timeout_s, python=interpreter(rb, command))
    frame = rb.node(command)
    if frame.empty:
        return None
    row = _plain(frame.iloc[0].to_dict())
    row.update(server=server, transport=transport, qname=qname)
    return row


def _plain(row: dict) -> dict:
    """A frame row with pandas' missing values (NaN, NA) as None."""
    return {k: (None if not isinstance(v, (list, str, bool)) and pd.isna(v) else v) for k, v in row.items()}


def _skipped(server: str, transport: str, qname: str, earlier: dict) -> dict:
    return {"server": server, "transport": transport, "qname": qname, "outcome": earlier["outcome"], "rcode": None,
            "answers": [], "truncated": False, "elapsed_ms": None,
            "detail": f"not asked again: {earlier['outcome']} on {earlier['qname']} earlier", "asked": False}


def resolve(rb, conf: dict, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(resolution, attempts): every name's expansion asked as glibc would (module doc), from the target."""
    client = client_of(rb)
    servers = conf["nameservers"] or ["127.0.0.1"]
    dead: dict[str, dict] = {}
    resolution, attempts = [], []
    for name in names:
        stop = None
        for step, planned in enumerate(expand(name, conf["search"], conf["ndots"]), 1):
            qname = planned["qname"]
            tried: list[dict] = []
            if stop is None:
                for server in servers:
                    if server in dead:
                        tried.append(_skipped(server, "udp", qname, dead[server]))
                        continue
                    row = ask(rb, client, server, "udp", qname)
                    if row is None:
                        return (pd.DataFrame(resolution, columns=RESOLUTION_COLUMNS),
                                pd.DataFrame(attempts, columns=ATTEMPT_COLUMNS))
                    row["asked"] = True
                    tried.append(row)
                    if row["outcome"] != "answered":
                        dead[server] = row
                        continue
                    if final_answer(row):
                        break
            status = query_status(tried) if stop is None else "not-sent"
            last = next((t for t in reversed(tried) if t["outcome"] == "answered"), tried[-1] if tried else {})
            resolution.append({"name": name, "step": step, "qname": qname, "why": planned["why"],
                               "server": last.get("server"), "transport": last.get("transport"),
                               "outcome": last.get("outcome"), "rcode": last.get("rcode"),
                               "answers": list(last.get("answers") or []), "status": status,
                               "won": status == "resolved", "sent": stop is None})
            attempts += [{"name": name, "step": step, **t} for t in tried]
            if stop is None and status == "resolved":
                stop = "resolved"
            elif stop is None and status == "no-answer":
                stop = "no server answered"
    return pd.DataFrame(resolution, columns=RESOLUTION_COLUMNS), pd.DataFrame(attempts, columns=ATTEMPT_COLUMNS)


def reachability(rb, conf: dict, attempts: pd.DataFrame, cluster_dns: str | None, names: list[str]) -> pd.DataFrame:
    """UDP and TCP 53 of every nameserver: the first UDP query it was sent (or one more), and one TCP query."""
    client = client_of(rb)
    servers = conf["nameservers"] or ["127.0.0.1"]
    first = expand(names[0], conf["search"], conf["ndots"])[0]["qname"] if names else f"{rb.parameters.get('cluster_domain', 'cluster.local')}."
    rows = []
    for server in servers:
        sent = attempts[(attempts["server"] == server) & attempts["asked"].fillna(False).astype(bool)] \
            if not attempts.empty else attempts
        udp = _plain(sent.iloc[0].to_dict()) if len(sent) else ask(rb, client, server, "udp", first)
        qname = udp["qname"] if udp else first
        tcp = ask(rb, client, server, "tcp", qname)
        if udp is None or tcp is None:
            break
        answered = udp["outcome"] == "answered" and tcp["outcome"] == "answered"
        verdict = "answers on udp and tcp" if answered else "; ".join(
            f"{proto} {row['outcome']}" for proto, row in (("udp", udp), ("tcp", tcp)) if row["outcome"] != "answered")
        rows.append({"server": server, "cluster_dns": cluster_dns is not None and server == cluster_dns,
                     "udp": udp["outcome"] + (f" {udp['rcode']}" if udp.get("rcode") else ""),
                     "udp_detail": udp.get("detail") or "", "tcp": tcp["outcome"] + (
                         f" {tcp['rcode']}" if tcp.get("rcode") else ""),
                     "tcp_detail": tcp.get("detail") or "", "verdict": verdict})
    return pd.DataFrame(rows, columns=REACH_COLUMNS)


# ----------------------------------------------------------- cluster view

def split_service(ref: str) -> tuple[str, str]:
    namespace, _, name = (ref or "kube-system/kube-dns").partition("/")
    return namespace, name


def service_row(services: pd.DataFrame, name: str) -> dict | None:
    if services is None or services.empty:
        return None
    found = services[services["name"] == name]
    return found.iloc[0].to_dict() if len(found) else None


def service_endpoints(endpoints: pd.DataFrame, name: str) -> pd.DataFrame:
    if endpoints is None or endpoints.empty:
        return pd.DataFrame(columns=getattr(endpoints, "columns", []))
    return endpoints[endpoints["service"] == name]


def selects(labels: Any, selector: dict) -> bool:
    return isinstance(labels, dict) and bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def dns_pods(pods: pd.DataFrame, service: dict | None) -> pd.DataFrame:
    """The pods the Service selects (``k8s-app=kube-dns`` without a Service or selector)."""
    if pods is None or pods.empty:
        return pd.DataFrame(columns=getattr(pods, "columns", []))
    selector = (service or {}).get("selector") or DEFAULT_SELECTOR
    if not isinstance(selector, dict):
        selector = DEFAULT_SELECTOR
    return pods[pods["labels"].apply(lambda labels: selects(labels, selector))]


#: (kind, pattern) in the order a line is classified (the first that matches)
LOG_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("loop detected", re.compile(r"plugin/loop: Loop \(.*\) detected|loop detected", re.I)),
    ("i/o timeout", re.compile(r"i/o timeout")),
    ("upstream SERVFAIL", re.compile(r"\bSERVFAIL\b|no healthy upstream")),
    ("plugin/errors", re.compile(r"\[ERROR\] plugin/errors")),
    ("error", re.compile(r"^\s*(?:\S+\s+)?\[(?:ERROR|FATAL)\]")),
)


def classify_log(text: str | None) -> list[tuple[str, str]]:
    """(kind, line) of every error line of a CoreDNS log (:data:`LOG_PATTERNS`)."""
    found = []
    for line in (text or "").splitlines():
        for kind, pattern in LOG_PATTERNS:
            if pattern.search(line):
                found.append((kind, line.strip()))
                break
    return found


def pod_table(pods: pd.DataFrame, containers: pd.DataFrame, log_lines: pd.DataFrame) -> pd.DataFrame:
    """One row per CoreDNS pod: phase, ready, its (first) container's state and the count of error log lines."""
    rows = []
    for pod in pods.itertuples(index=False):
        mine = containers[(containers["pod"] == pod.name) & ~containers["init"].fillna(False).astype(bool)] \
            if not containers.empty else containers
        main = mine.iloc[0].to_dict() if len(mine) else {}
        errors = int((log_lines["pod"] == pod.name).sum()) if not log_lines.empty else 0
        ready = bool(pod.container_count) and pod.ready_count == pod.container_count
        rows.append({"pod": pod.name, "node": pod.node, "status": pod.status, "phase": pod.phase, "ready": ready,
                     "state": main.get("state"), "reason": main.get("reason"), "restarts": int(pod.restarts or 0),
                     "last_reason": main.get("last_reason"), "last_exit_code": main.get("last_exit_code"),
                     "errors": errors})
    return pd.DataFrame(rows, columns=POD_COLUMNS)


def read_logs(rb, namespace: str, pods: pd.DataFrame, containers: pd.DataFrame) -> pd.DataFrame:
    """Classified error lines of the CoreDNS containers' current and previous logs (last 200 lines)."""
    rows = []
    if pods.empty or containers.empty:
        return pd.DataFrame(rows, columns=LOG_COLUMNS)
    mine = containers[containers["pod"].isin(set(pods["name"])) & ~containers["init"].fillna(False).astype(bool)]
    for row in mine.itertuples(index=False):
        runs = [False] + ([True] if (row.restarts or row.last_state == "terminated") else [])
        for previous in runs:
            if not previous and row.state not in ("running", "terminated"):
                continue
            text = rb.logs(row.pod, row.container, previous=previous, tail_lines=LOG_TAIL, namespace=namespace)
            rows += [{"pod": row.pod, "container": row.container, "previous": previous, "kind": kind, "line": line}
                     for kind, line in classify_log(text)]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


# --------------------------------------------------------------- findings

def wrong_nameserver(conf: dict, cluster_dns: str | None, path: str = "/etc/resolv.conf") -> list[Finding]:
    """DNS-001: no nameserver, or the cluster DNS address is not the first one."""
    if cluster_dns is None:
        return []
    servers = conf["nameservers"]
    if servers and servers[0] == cluster_dns:
        return []
    if not servers:
        detail = f"{path} names no nameserver: glibc asks 127.0.0.1, not the cluster DNS {cluster_dns}"
    elif cluster_dns in servers:
        detail = (f"{path} lists nameserver {' '.join(servers)}: the cluster DNS {cluster_dns} is number "
                  f"{servers.index(cluster_dns) + 1}, so every query goes to {servers[0]} first and reaches "
                  f"{cluster_dns} only after a timeout")
    else:
        detail = f"{path} lists nameserver {' '.join(servers)}, not the cluster DNS {cluster_dns}"
    return about(f"resolv.conf {path}", [finding("DNS-001", detail, {"nameservers": servers,
                                                                    "cluster_dns": cluster_dns})])


def bad_search_path(conf: dict, search: list[str] | None, resolution: pd.DataFrame,
                    path: str = "/etc/resolv.conf") -> list[Finding]:
    """DNS-002: the search line does not start with the expected three domains; or ndots ended a search."""
    found = []
    if search is not None and conf["search"][:3] != search:
        missing = [d for d in search if d not in conf["search"]]
        what = (f"lacks {' '.join(missing)}" if missing else "has them in another order")
        found.append(finding("DNS-002", f"{path} search is '{' '.join(conf['search']) or '(none)'}': it {what} "
                             f"(expected to start with '{' '.join(search)}'), so short names such as "
                             f"'web' or 'web.{search[0].split('.')[0]}' expand to the wrong names",
                             {"search": conf["search"], "expected": search, "ndots": conf["ndots"]}))
    for name, rows in (resolution.groupby("name", sort=False) if not resolution.empty else []):
        sent = rows[rows["sent"]]
        if rows["won"].any() or sent.empty or name.endswith("."):
            continue
        first = sent.iloc[0]
        if first["why"].startswith("as it is first") and first["status"] == "no-answer" and len(rows) > 1:
            found.append(finding("DNS-002", f"ndots:{conf['ndots']} makes the resolver ask '{name}' as it is "
                                 f"first ({first['qname']}); no server answered that query, which ends the "
                                 "search before any search domain is tried",
                                 {"name": name, "ndots": conf["ndots"], "first_query": first["qname"]}))
    return about(f"resolv.conf {path}", found)


def service_without_endpoints(service: dict | None, endpoints: pd.DataFrame, ref: str) -> list[Finding]:
    """DNS-003: the DNS Service is missing or has no ready endpoint."""
    subject = f"service {ref}"
    if service is None:
        return about(subject, [finding("DNS-003", f"Service {ref} does not exist: the cluster DNS ClusterIP "
                                       "has nothing behind it", {"service": ref})])
    ready = endpoints[endpoints["ready"].fillna(False).astype(bool)] if not endpoints.empty else endpoints
    if len(ready):
        return []
    not_ready = sorted(set(endpoints["ip"].dropna())) if not endpoints.empty else []
    detail = (f"Service {ref} ({service.get('cluster_ip')}) has no ready endpoint"
              + (f": {', '.join(not_ready)} not ready" if not_ready else ": its Endpoints list no address")
              + " — queries to the ClusterIP are rejected or dropped")
    return about(subject, [finding("DNS-003", detail, {"service": ref, "cluster_ip": service.get("cluster_ip"),
                                                       "not_ready": not_ready})])


def unhealthy_coredns(pods: pd.DataFrame, log_lines: pd.DataFrame, service: dict | None, ref: str,
                      namespace: str) -> list[Finding]:
    """DNS-004: a CoreDNS pod not Running/Ready, or error lines in its logs; no pod at all."""
    if pods.empty:
        selector = (service or {}).get("selector") or DEFAULT_SELECTOR
        return about(f"service {ref}", [finding("DNS-004", f"no pod in {namespace} matches the DNS selector "
                                                f"{selector}: no CoreDNS runs", {"selector": selector})])
    found = []
    for pod in pods.to_dict("records"):
        lines = log_lines[log_lines["pod"] == pod["pod"]] if not log_lines.empty else log_lines
        problems = []
        if pod["phase"] != "Running" or not pod["ready"]:
            last = (f", last exit {int(pod['last_exit_code'])} ({pod['last_reason']})"
                    if pod["last_exit_code"] is not None and not pd.isna(pod["last_exit_code"]) else "")
            if pod["state"] == "running" and not pod["reason"]:
                text = f"{pod['phase']} but not Ready (the container runs; its readiness probe fails)"
            else:
                text = f"{pod['phase']}, not Ready: {pod['reason'] or pod['status'] or pod['state']}"
            problems.append(f"{text}, {pod['restarts']} restarts{last}")
        if len(lines):
            counts = lines["kind"].value_counts()
            problems.append("log: " + ", ".join(f"{n}× {kind}" for kind, n in counts.items()))
        if not problems:
            continue
        detail = f"CoreDNS pod {namespace}/{pod['pod']}: " + "; ".join(problems)
        if len(lines):
            detail += f" — e.g. {lines.iloc[0]['line'][:300]}"
        found += about(f"pod {namespace}/{pod['pod']}", [finding("DNS-004", detail, {
            "pod": pod, "log_lines": lines.head(10)})])
    return found


def unreachable_servers(reach: pd.DataFrame) -> list[Finding]:
    """DNS-005: a nameserver that did not answer on UDP or TCP 53 (timeout / refused / unreachable)."""
    found = []
    for row in reach.to_dict("records"):
        if row["verdict"] == "answers on udp and tcp":
            continue
        meaning = []
        for proto in ("udp", "tcp"):
            outcome = row[proto].split()[0]
            if outcome != "answered":
                meaning.append(f"{proto}/53 {outcome} ({_MEANING.get(outcome, row[proto + '_detail'])})")
        role = "the cluster DNS" if row["cluster_dns"] else "a nameserver of resolv.conf"
        found += about(f"nameserver {row['server']}", [finding(
            "DNS-005", f"{row['server']} ({role}) does not answer DNS: " + "; ".join(meaning), {"reach": row})])
    return found


_MEANING = {"timeout": "no reply: dropped on the way or by a firewall",
            "refused": "ICMP port unreachable / TCP reset: nothing listens there, or a REJECT rule "
                       "(kube-proxy rejects a Service without endpoints)",
            "unreachable": "no route / host unreachable",
            "error": "the query could not be sent"}


def names_not_resolved(resolution: pd.DataFrame) -> list[Finding]:
    """DNS-006: a name without a winner although some of its queries were answered."""
    found = []
    for name, rows in (resolution.groupby("name", sort=False) if not resolution.empty else []):
        if rows["won"].any():
            continue
        answered = rows[rows["outcome"] == "answered"]
        if answered.empty:
            continue
        said = "; ".join(f"{r.qname} {r.rcode if r.status != 'nodata' else 'NOERROR without address (NODATA)'}"
                         for r in answered.itertuples())
        found += about(f"name {name}", [finding("DNS-006", f"'{name}' does not resolve: {said}",
                                                {"name": name, "queries": rows})])
    return found


def diagnose(*, conf: dict, resolution: pd.DataFrame, reach: pd.DataFrame, cluster_dns: str | None,
             search: list[str] | None, service: dict | None, endpoints: pd.DataFrame, pods: pd.DataFrame,
             log_lines: pd.DataFrame, dns_service: str = "kube-system/kube-dns",
             resolv_conf: str = "/etc/resolv.conf", **_: Any) -> list[Finding]:
    """Every DNS finding from the gathered evidence (see :func:`gather`)."""
    namespace, _name = split_service(dns_service)
    return [*wrong_nameserver(conf, cluster_dns, resolv_conf), *bad_search_path(conf, search, resolution, resolv_conf),
            *service_without_endpoints(service, endpoints, dns_service),
            *unhealthy_coredns(pods, log_lines, service, dns_service, namespace),
            *unreachable_servers(reach), *names_not_resolved(resolution)]


def subjects(*, conf: dict, names: list[str], pods: pd.DataFrame, dns_service: str = "kube-system/kube-dns",
             resolv_conf: str = "/etc/resolv.conf", cluster_read: bool = True, **_: Any) -> list[str]:
    """Every name, nameserver, the resolv.conf, and (with a cluster source) the Service and its pods."""
    namespace, _name = split_service(dns_service)
    servers = (conf["nameservers"] or ["127.0.0.1"]) if conf.get("read") else []
    out = [f"resolv.conf {resolv_conf}", *(f"nameserver {s}" for s in servers), *(f"name {n}" for n in names)]
    if cluster_read:
        out += [f"service {dns_service}", *(f"pod {namespace}/{p}" for p in pods.get("pod", []))]
    return out


# ------------------------------------------------------------------ gather

def _missing_once(rb, evidence: str, what: str, reason: str, *, skipped: bool = False) -> None:
    rb.missing_evidence.add(evidence)
    if not any(u.what == what for u in rb.unavailable):
        rb.note_unavailable(what, reason, where=str(rb.parameters.get("target") or "target"), skipped=skipped)


def cluster_view(rb) -> dict:
    """The Service, its endpoints, the CoreDNS pods (table) and their classified log lines."""
    ref = rb.parameters.get("dns_service") or "kube-system/kube-dns"
    namespace, name = split_service(ref)
    services = rb.services(namespace)
    service = service_row(services, name)
    endpoints = service_endpoints(rb.endpoints(namespace), name)
    pods = dns_pods(rb.pods(namespace), service)
    containers = rb.containers(namespace) if len(pods) else pd.DataFrame(columns=["pod", "init"])
    log_lines = read_logs(rb, namespace, pods, containers)
    return {"service": service, "endpoints": endpoints, "pods": pod_table(pods, containers, log_lines),
            "log_lines": log_lines, "cluster_read": "services" not in rb.missing_evidence}


def cluster_dns_ip(rb, service: dict | None) -> str | None:
    """``cluster_dns``, else the Service's ClusterIP; None (and evidence ``cluster-dns-ip`` missing) when neither."""
    given = rb.parameters.get("cluster_dns")
    if given:
        return given
    ip = (service or {}).get("cluster_ip")
    if ip and ip != "None":
        return str(ip)
    _missing_once(rb, CLUSTER_DNS_IP, "cluster DNS address", "no dns_service ClusterIP in the source "
                  "(no cluster source, or the Service is missing/headless): pass -p cluster_dns IP")
    return None


def pod_namespace(rb) -> str | None:
    """``pod_namespace``, else the namespace of the source's pod whose IP is an address of the target."""
    given = rb.parameters.get("pod_namespace")
    if given:
        return given
    pods = rb.pods(None, required=False) if rb.source.kind != "none" else pd.DataFrame()
    addresses = rb.node(IP_ADDR) if not pods.empty else pd.DataFrame()
    mine = {str(a).split("/")[0] for row in addresses.get("addresses", []) for a in (row or [])}
    if mine:
        own = pods[pods["pod_ip"].isin(mine) & (pods["pod_ip"] != "") & ~pods["host_network"].astype(bool)]
        if not own.empty:
            return own["namespace"].iloc[0]
    _missing_once(rb, POD_NAMESPACE, "pod namespace (expected search path)",
                  "no pod of the source has an address of the target"
                  + ("" if not pods.empty else " (no cluster source)") + ": pass -p pod_namespace NS")
    return None


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb`` (cached there)."""
    names = list(rb.parameters.get("names") or ["kubernetes.default"])
    cluster = cluster_view(rb)
    resolv = read_resolv_conf(rb)
    conf = conf_of(resolv)
    if RESOLV_CONF.name in rb.missing_evidence:
        empty = pd.DataFrame(columns=RESOLUTION_COLUMNS)
        resolution, attempts, reach = empty, pd.DataFrame(columns=ATTEMPT_COLUMNS), pd.DataFrame(columns=REACH_COLUMNS)
    else:
        resolution, attempts = resolve(rb, conf, names)
        reach = reachability(rb, conf, attempts, None, names) if QUERIES not in rb.missing_evidence \
            else pd.DataFrame(columns=REACH_COLUMNS)
    cluster_dns = cluster_dns_ip(rb, cluster["service"])
    if not reach.empty:
        reach["cluster_dns"] = reach["server"] == cluster_dns
    namespace = pod_namespace(rb)
    domain_ = rb.parameters.get("cluster_domain") or "cluster.local"
    search = expected_search(namespace, domain_) if namespace else None
    return {"conf": conf, "resolution": resolution, "attempts": attempts, "reach": reach,
            "cluster_dns": cluster_dns, "search": search, "names": names,
            "dns_service": rb.parameters.get("dns_service") or "kube-system/kube-dns",
            "resolv_conf": rb.parameters.get("resolv_conf") or "/etc/resolv.conf", **cluster}


# ------------------------------------------------------------------ picture

_STATUS_STYLE = {"resolved": ("#2b8a3e", "answer"), "nxdomain": ("#d9480f", "NXDOMAIN"),
                 "nodata": ("#b08900", "NODATA"), "servfail": ("#b00020", "SERVFAIL"),
                 "refused": ("#862e9c", "REFUSED"), "rcode": ("#862e9c", "other rcode"),
                 "no-answer": ("#495057", "no answer"), "not-sent": ("#adb5bd", "not sent")}


def resolution_chart(resolution: pd.DataFrame, *, title: str = "How each name resolves") -> charts.Svg:
    """name → each expanded query (in order) → rcode / answer; the query that won is drawn thick and green."""
    row_h, left, mid, right = 26, 10, 200, 560
    groups = list(resolution.groupby("name", sort=False)) if not resolution.empty else []
    height = 40 + sum(len(rows) * row_h + 16 for _, rows in groups) + 24
    width = 820
    body, y = [], 30
    for name, rows in groups:
        top = y
        name_y = top + len(rows) * row_h / 2
        won = rows["won"].any()
        body.append(f"<g class='dns-name' data-name='{escape(name, quote=True)}' data-resolved='{str(won).lower()}'>"
                    f"<rect x='{left}' y='{name_y - 12}' width='170' height='24' rx='4' fill='#f1f3f5' "
                    f"stroke='{'#2b8a3e' if won else '#b00020'}'/>"
                    + charts.text(left + 8, name_y + 4, name if len(name) <= 26 else name[:25] + "…",
                                  font_size=12) + "</g>")
        for r in rows.itertuples():
            qy = y + row_h / 2
            colour, label = _STATUS_STYLE.get(r.status, ("#495057", r.status))
            dash = "" if r.sent else " stroke-dasharray='4 3'"
            stroke = 3 if r.won else 1
            answer = ", ".join(r.answers) if r.status == "resolved" else label
            if r.status == "no-answer" and r.outcome:
                answer = f"no answer ({r.outcome})"
            body.append(
                f"<g class='dns-query' data-qname='{escape(r.qname, quote=True)}' data-status='{r.status}' "
                f"data-won='{str(bool(r.won)).lower()}' data-sent='{str(bool(r.sent)).lower()}'>"
                f"<line x1='{left + 170}' y1='{name_y}' x2='{mid}' y2='{qy}' stroke='{colour}' stroke-width='{stroke}'{dash}/>"
                f"<rect x='{mid}' y='{qy - 10}' width='{right - mid - 10}' height='20' rx='3' fill='white' "
                f"stroke='{colour}' stroke-width='{stroke}'{dash}/>"
                + charts.text(mid + 6, qy + 4, f"{r.step}. {r.qname}"[:58], font_size=11)
                + charts.text(right, qy + 4, ("✔ won: " if r.won else "") + answer[:40],
                              extra=f" fill='{colour}'" + (" font-weight='bold'" if r.won else ""))
                + "</g>")
            y += row_h
        y += 16
    items = [("square", c, l) for s, (c, l) in _STATUS_STYLE.items() if s not in ("rcode",)]
    body.append(charts.legend(items, left, height - 8))
    return charts.document(width, height, title, "Each name, the queries the resolver sends for it in order "
                           "(search path and ndots), and what each got; the winner is thick and green.", body)


__all__ = ["RUNBOOK", "REQUIRES", "PARTIAL", "gather", "diagnose", "subjects", "expand", "query_status",
           "resolution_chart", "resolv_conf_table", "query_command", "classify_log"]
