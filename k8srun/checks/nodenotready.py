"""node-notready: a node is NotReady / Unknown — conditions, the kubelet's own words, its certificates (NODE-001..004).

An on-call engineer asks, in this order: *which* nodes, *since when* and
*what does the Node say* (cluster side); then, on the node itself, *what
does the kubelet say* (its journal) and *can it still authenticate* (its
certificates). Evidence:

======================  ============================================  ====================  ================
evidence name           where from                                    read for              codes
======================  ============================================  ====================  ================
``nodes``               the source: Node objects (``rb.nodes()``,      conditions, their     NODE-001,
                        ``rb.node_conditions()``)                     transitions and       NODE-003
                                                                      heartbeats
``kubelet-journal``     ``journalctl -u kubelet -o short-iso -n 2000  known causes          NODE-002
                        --no-pager`` on the target (the shared        (:mod:`k8srun.parsers.
                        :data:`k8srun.evidence.KUBELET_JOURNAL`, so   kubelet_causes`)
                        ``k8srun capture --nodes`` replays here), or
                        the file given as ``journal``
``kubelet-certs``       ``openssl x509 -in PKI_DIR/F`` on the target  notBefore/notAfter    NODE-004
                        for F in kubelet-client-current.pem,
                        kubelet-server-current.pem, kubelet.crt
                        (ids ``kubelet-cert-client-current``,
                        ``-server-current``, ``-kubelet-crt``;
                        :mod:`k8srun.parsers.kubelet_certs`)
======================  ============================================  ====================  ================

**Which nodes are looked at.** ``node`` given: that node (absent from the
source: an "evidence unavailable" row, NODE-001/003 NOT CHECKED). Empty:
every node whose Ready condition is not True, plus every node under
Memory/Disk/PID pressure (pressure does not make a node NotReady, but it is
the same question: why does this node not take pods?). The node whose
journal and certificates were read is looked at too. Each gets a verdict
(:func:`subjects`, ``node/NAME``).

**Whose journal.** Node commands run on ``target`` (a NotReady node seldom
runs a debug pod: use ``ssh:NODE``, or give the journal as a file). The
journal and certificates are the node named by ``node``; else the node
whose name is the journal's host name (or its short form); else, when one
node is looked at, that one; else they are reported against the target.

How each code decides:

- **NODE-001** (critical): a looked-at node's Ready condition is False or
  Unknown (a node without a Ready condition counts as Unknown). The detail
  gives the status, reason and message (``KubeletNotReady`` "container
  runtime is down, PLEG is not healthy …" is the kubelet saying why;
  ``NodeStatusUnknown`` "Kubelet stopped posting node status" is the node
  controller saying it heard nothing), since when (lastTransitionTime) and
  the age of the last heartbeat (lastHeartbeatTime; the kubelet posts status
  every 10 s when something changes and at least every 5 min otherwise, so
  on a Ready node up to 5 min is normal). Ages are measured from the
  source's "now" (the capture time of a bundle). The node's Lease
  (``kube-node-lease``, renewed every 10 s) would be the sharper heartbeat:
  it is read when the resource catalogue (:mod:`k8srun.resources`) knows
  ``leases`` — it does not yet, so the table says "lease: not read".
- **NODE-003** (warning): a looked-at node has MemoryPressure, DiskPressure
  or PIDPressure True (one finding per node, naming each pressure with its
  since-when and the kubelet's message). NetworkUnavailable True (set by
  some cloud routes controllers / CNIs) is shown in the table and the
  NODE-001 detail, not a code of its own.
- **NODE-002** (error): the kubelet journal shows a known cause
  (:data:`k8srun.parsers.kubelet_causes.CAUSES`: container runtime down,
  PLEG not healthy, CNI not initialised, swap on, certificate expired /
  rotation failed, evictions, node lease / status updates failing, the
  kubelet process exiting) *still happening*: its last occurrence is within
  10 minutes of the journal's last line (the journal's end, not the
  reader's clock: a journal read hours after the kubelet died still ends
  with its cause). One finding per active cause, with its first and last
  time, count and first line; causes that stopped earlier are listed in the
  table as history, not reported. Also NODE-002: systemd's last word about
  the unit is an exit or a stop (``kubelet.service: Main process exited``,
  ``Stopped kubelet``): the kubelet is not running. An empty journal (``--
  No entries --``: no kubelet unit, or journald keeps no log) or no
  ``journalctl`` is "evidence unavailable" and NODE-002 NOT CHECKED, never
  "healthy".
- **NODE-004** (error): a certificate the kubelet uses is expired or not
  yet valid at "now"; *warning* when less than 10 % of its lifetime is left:
  the kubelet rotates a certificate at a random point between 70 % and 90 %
  of its lifetime, so a certificate in its last 10 % has missed its
  rotation (a pending CSR, rotation disabled). ``kubelet.crt`` is judged only
  when ``kubelet-server-current.pem`` does not exist (with serving rotation
  the old self-signed file stays on disk unused). No certificate file at
  all under ``pki_dir`` (or no ``openssl``): NODE-004 NOT CHECKED.

**A journal file** (``journal``) is read on the machine running the notebook,
once per run; it is not copied into the report folder, so a replay of that
folder needs the same ``-p journal FILE`` (the parameter is recorded).
journalctl's own complaint (``No journal files were found``, insufficient
permissions) is quoted in the "evidence unavailable" row of an empty journal.

**No private key is ever read.** ``openssl x509 -in F`` prints only the
certificate, never the key that ``kubelet-client-current.pem`` also holds;
the parser drops any ``PRIVATE KEY`` block before parsing anyway
(:func:`k8srun.parsers.kubelet_certs.strip_private_keys`), and the report
shows subject, issuer, SANs and dates only.

Tables for the notebook (pure functions): :func:`readiness_table` (node,
ready, reason, since, for, heartbeat age, pressure, lease), :func:`conditions_table`
(node, type, status, reason, message, last_transition, last_heartbeat),
:func:`journal_errors` (the W/E/F lines), :data:`causes <k8srun.parsers.kubelet_causes.summary>`,
:func:`certificate_table` (file, role, subject, not_after, days_left,
lifetime_left, state), and the chart :func:`timeline`.
"""

from __future__ import annotations

import math
import weakref
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from .. import params
from ..charts import Scale, Svg, document, marker, text
from ..errors import ParameterError, ParseError
from ..evidence import KUBELET_JOURNAL, NodeCommand
from ..model import Finding, about, finding
from ..parsers import kubelet_causes, kubelet_certs, kubelet_journal
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook
from ..resources import CATALOGUE

#: the largest journal file read from ``journal`` (journalctl -n 2000 is ~0.5 MB)
MAX_JOURNAL_BYTES = 20 * 1024 * 1024
PKI_DIR = "/var/lib/kubelet/pki"
CERT_FILES = ("kubelet-client-current.pem", "kubelet-server-current.pem", "kubelet.crt")
PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")
CONDITION_TYPES = ("Ready", *PRESSURES, "NetworkUnavailable")
#: a certificate with less than this share of its lifetime left has missed its rotation (70-90 %)
ROTATION_LEFT = 0.10
READINESS_COLUMNS = ["node", "ready", "reason", "message", "since", "duration", "heartbeat_age", "pressure",
                     "lease_renewed"]
CONDITION_COLUMNS = ["node", "type", "status", "reason", "message", "last_transition", "last_heartbeat"]
CERT_TABLE_COLUMNS = ["file", "role", "subject", "issuer", "not_before", "not_after", "days_left",
                      "lifetime_left", "state"]
JOURNAL_COLUMNS = ["time", "level", "source", "message"]


def journal_file(name: str, value: Any) -> str:
    """An existing, readable text file on the machine running the notebook (journalctl output)."""
    if not isinstance(value, str) or not value.strip() or "\0" in value or "\n" in value:
        raise ParameterError(name, value, "must be the path of a file holding `journalctl -u kubelet` output")
    path = Path(value).expanduser()
    try:
        if not path.is_file():
            raise ParameterError(name, value, "no such file (on the machine running the notebook)")
        if path.stat().st_size > MAX_JOURNAL_BYTES:
            raise ParameterError(name, value, f"larger than {MAX_JOURNAL_BYTES} bytes: cut it with "
                                 "`journalctl -u kubelet -o short-iso -n 2000 --no-pager`")
    except OSError as exc:
        raise ParameterError(name, value, f"unreadable: {exc.strerror or exc}") from None
    return str(path)


def pki_directory(name: str, value: Any) -> str:
    """An absolute directory path without ``..`` (read on the target)."""
    text = str(value).strip()
    if not text.startswith("/") or "\0" in text or "\n" in text or ".." in Path(text).parts:
        raise ParameterError(name, value, "must be an absolute path without '..'")
    return text.rstrip("/") or "/"


RUNBOOK = Runbook(
    name="node-notready",
    description="Node NotReady: conditions and heartbeats, the kubelet journal's causes, kubelet certificates",
    scenario="node-notready",
    parameters=(*CLUSTER, TARGET,
                Parameter("node", "", "node to look at; empty means every NotReady/Unknown node (and any under "
                          "pressure)", lambda n, v: params.dns1123_subdomain(n, v, allow_empty=True)),
                Parameter("journal", "", "a file holding `journalctl -u kubelet` output to read instead of "
                          "running journalctl on the target", journal_file, path=True),
                Parameter("pki_dir", PKI_DIR, "the kubelet's certificate folder on the target", pki_directory),
                TIMEOUT),
    triage=("node-not-ready",),
)

REQUIRES: dict[str, list[str]] = {
    "NODE-001": ["nodes"],
    "NODE-002": [KUBELET_JOURNAL.name],
    "NODE-003": ["nodes"],
    "NODE-004": ["kubelet-certs"],
}



def _cert_command(command_id: str, file: str) -> NodeCommand:
    """``openssl x509 -in PKI_DIR/FILE``: the certificate only, never the key (module doc)."""
    return NodeCommand(command_id, lambda v: ("openssl", "x509", "-in",
                                              f"{(v.get('pki_dir') or PKI_DIR).rstrip('/')}/{file}"),
                       None, f"kubelet certificate {file} (no key is printed)", evidence="kubelet-certs",
                       accept_exit=(0, 1), columns=tuple(kubelet_certs.COLUMNS),
                       result_parser=kubelet_certs.frame_result)


CLIENT_CERT = _cert_command("kubelet-cert-client-current", "kubelet-client-current.pem")
SERVING_CERT = _cert_command("kubelet-cert-server-current", "kubelet-server-current.pem")
SELF_SIGNED_CERT = _cert_command("kubelet-cert-kubelet-crt", "kubelet.crt")
#: the certificate reads, in CERT_FILES order
CERT_COMMANDS = (CLIENT_CERT, SERVING_CERT, SELF_SIGNED_CERT)


# ------------------------------------------------------------------ time

def _utc(value: Any) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def age(since: Any, now: Any) -> str:
    """``since`` → ``now`` as ``3d4h``, ``1h2m``, ``42m``, ``7m40s``, ``12s`` (empty when either is unknown)."""
    start, end = _utc(since), _utc(now)
    if start is None or end is None:
        return ""
    seconds = int((end - start).total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours}h"
    if hours:
        return f"{sign}{hours}h{minutes}m"
    if minutes >= 10:
        return f"{sign}{minutes}m"
    return f"{sign}{minutes}m{secs}s" if minutes else f"{sign}{secs}s"


def _iso(value: Any) -> str:
    stamp = _utc(value)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ") if stamp is not None else "unknown"


# ------------------------------------------------------------ conditions

def conditions_table(conditions: pd.DataFrame, nodes: list[str] | None = None) -> pd.DataFrame:
    """The five conditions of each node (``nodes``: only these), Ready first."""
    if conditions is None or conditions.empty:
        return pd.DataFrame(columns=CONDITION_COLUMNS)
    table = conditions.rename(columns={"last_transition": "last_transition", "last_heartbeat": "last_heartbeat"})
    if nodes is not None:
        table = table[table["node"].isin(nodes)]
    order = {t: i for i, t in enumerate(CONDITION_TYPES)}
    table = table.assign(_o=table["type"].map(lambda t: order.get(t, len(order))))
    return table.sort_values(["node", "_o"])[CONDITION_COLUMNS].reset_index(drop=True)


def _condition(conditions: pd.DataFrame, node: str, kind: str) -> dict | None:
    if conditions is None or conditions.empty:
        return None
    rows = conditions[(conditions["node"] == node) & (conditions["type"] == kind)]
    return rows.iloc[0].to_dict() if len(rows) else None


def not_ready(nodes: pd.DataFrame) -> list[str]:
    """Nodes whose Ready condition is not True (False, Unknown, or missing)."""
    if nodes is None or nodes.empty:
        return []
    return sorted(nodes.loc[nodes["ready"] != "True", "name"])


def under_pressure(conditions: pd.DataFrame) -> list[str]:
    """Nodes with a Memory/Disk/PID pressure condition True."""
    if conditions is None or conditions.empty:
        return []
    rows = conditions[conditions["type"].isin(PRESSURES) & (conditions["status"] == "True")]
    return sorted(set(rows["node"]))


def looked_at(nodes: pd.DataFrame, conditions: pd.DataFrame, node: str = "") -> list[str]:
    """The nodes this run is about (module doc): ``node``, else the NotReady ones and those under pressure."""
    if node:
        return [node] if nodes is not None and (nodes["name"] == node).any() else []
    return sorted(set(not_ready(nodes)) | set(under_pressure(conditions)))


def lease_renewals(leases: list[dict] | None) -> dict[str, pd.Timestamp | None]:
    """node -> spec.renewTime of its Lease in kube-node-lease (empty when leases were not read)."""
    out = {}
    for lease in leases or []:
        name = (lease.get("metadata") or {}).get("name")
        if name:
            out[name] = _utc((lease.get("spec") or {}).get("renewTime"))
    return out


def readiness_table(nodes: pd.DataFrame, conditions: pd.DataFrame, names: list[str], now: Any,
                    leases: list[dict] | None = None) -> pd.DataFrame:
    """One row per node in ``names``: Ready status, reason, since when, heartbeat and lease ages, pressures."""
    renewals = lease_renewals(leases)
    rows = []
    for name in names:
        ready = _condition(conditions, name, "Ready") or {}
        pressure = [t for t in (*PRESSURES, "NetworkUnavailable")
                    if (_condition(conditions, name, t) or {}).get("status") == "True"]
        lease = renewals.get(name)
        rows.append({"node": name, "ready": ready.get("status", "Unknown"), "reason": ready.get("reason", ""),
                     "message": ready.get("message", ""), "since": _utc(ready.get("last_transition")),
                     "duration": age(ready.get("last_transition"), now),
                     "heartbeat_age": age(ready.get("last_heartbeat"), now),
                     "pressure": ", ".join(pressure) or "none",
                     "lease_renewed": (f"{age(lease, now)} ago" if lease is not None
                                       else "not read" if leases is None else "no lease")})
    return pd.DataFrame(rows, columns=READINESS_COLUMNS)


def node_not_ready(nodes: pd.DataFrame, conditions: pd.DataFrame, names: list[str], now: Any,
                   leases: list[dict] | None = None) -> list[Finding]:
    """NODE-001 for each node in ``names`` whose Ready condition is not True."""
    found = []
    table = readiness_table(nodes, conditions, names, now, leases)
    for row in table.itertuples(index=False):
        if row.ready == "True":
            continue
        state = "NotReady" if row.ready == "False" else "Unknown"
        detail = (f"node {row.node} {state} (Ready={row.ready}, {row.reason or 'no reason'}"
                  + (f": {row.message}" if row.message else "") + ")")
        detail += f" for {row.duration} (since {_iso(row.since)})" if row.since is not None else ""
        detail += f"; last heartbeat {row.heartbeat_age} ago" if row.heartbeat_age else "; no heartbeat recorded"
        if row.lease_renewed not in ("not read",):
            detail += f"; lease renewed {row.lease_renewed}"
        if "NetworkUnavailable" in row.pressure:
            detail += "; NetworkUnavailable=True (the node's pod network routes are not set up)"
        found += about(f"node/{row.node}", [finding("NODE-001", detail, {"readiness": row._asdict(),
                                                                       "conditions": conditions_table(conditions, [row.node])})])
    return found


def node_pressure(conditions: pd.DataFrame, names: list[str], now: Any) -> list[Finding]:
    """NODE-003 for each node in ``names`` with Memory/Disk/PID pressure True."""
    found = []
    for name in names:
        hits = [c for c in (_condition(conditions, name, t) for t in PRESSURES) if c and c.get("status") == "True"]
        if not hits:
            continue
        parts = [f"{c['type']} since {_iso(c['last_transition'])} ({age(c['last_transition'], now)}): "
                 f"{c.get('reason') or ''} {c.get('message') or ''}".strip() for c in hits]
        found += about(f"node/{name}", [finding("NODE-003", f"node {name}: " + "; ".join(parts),
                                                {"conditions": conditions_table(conditions, [name])})])
    return found


# --------------------------------------------------------------- journal

def journal_errors(journal: pd.DataFrame, limit: int = 25) -> pd.DataFrame:
    """The journal's warning/error/fatal lines (the last ``limit``; message and fields as one text, cut at 240
    characters), for reading beside the causes."""
    if journal is None or journal.empty:
        return pd.DataFrame(columns=JOURNAL_COLUMNS)
    bad = journal[journal["level"].isin(["W", "E", "F"])].tail(limit)
    texts = [kubelet_causes.line_text(row, 240) for _, row in bad.iterrows()]
    return pd.DataFrame({"time": bad["timestamp"].values, "level": bad["level"].values,
                         "source": bad["source"].values, "message": texts}, columns=JOURNAL_COLUMNS)


def journal_owner(journal: pd.DataFrame, nodes: pd.DataFrame, node: str = "", names: list[str] | None = None,
                  target: str = "") -> str:
    """The node the journal and certificates belong to (module doc), or ``target`` when none can be told."""
    if node:
        return node
    known = list(nodes["name"]) if nodes is not None and not nodes.empty else []
    hosts = [h for h in dict.fromkeys(journal["host"]) if isinstance(h, str)] if journal is not None and len(journal) else []
    for host in hosts:
        for name in known:
            if host == name or host.split(".")[0] == name.split(".")[0]:
                return name
    if names and len(names) == 1:
        return names[0]
    if target.startswith("node:"):
        return target.split(":", 1)[1]
    return hosts[0] if len(hosts) == 1 else (target or "target")


def kubelet_state(journal: pd.DataFrame, now: Any = None) -> dict:
    """Whether the kubelet runs at the journal's end, from systemd's lines: running / not running / unknown."""
    events = kubelet_causes.lifecycle(journal, _utc(now))
    if events.empty:
        return {"state": "unknown", "event": None}
    last = events.iloc[-1]
    state = "running" if last["event"] == "started" else "not running"
    return {"state": state, "event": last.to_dict(), "exits": int((events["event"] == "exited").sum())}


def journal_causes(journal: pd.DataFrame, now: Any = None) -> pd.DataFrame:
    """The known causes in the journal: count, first/last time and line, still active (kubelet_causes.summary)."""
    when = _utc(now)
    found = kubelet_causes.occurrences(journal, when)
    return kubelet_causes.summary(found, kubelet_causes.journal_end(journal, when))


def kubelet_failing(journal: pd.DataFrame, owner: str, now: Any = None) -> list[Finding]:
    """NODE-002: each cause still active at the journal's end, and a kubelet that is not running."""
    causes = journal_causes(journal, now)
    state = kubelet_state(journal, now)
    found = []
    if state["state"] == "not running":
        event = state["event"]
        found.append(finding("NODE-002", f"kubelet on {owner} is not running: systemd's last word at "
                             f"{_iso(event['time'])} is \"{event['text']}\" ({state['exits']} exit(s) in the journal)",
                             {"kubelet": event}))
    for row in causes[causes["active"]].itertuples(index=False) if len(causes) else []:
        if row.cause == "kubelet-exited":
            continue  # not running: told above; started again since: history, the other causes say why
        cause = kubelet_causes.BY_ID[row.cause]
        what = f"{row.title}" + (f" ({row.detail})" if row.detail else "")
        detail = (f"kubelet journal on {owner}: {what} — {row.count} line(s) from {_iso(row.first)} "
                  f"to {_iso(row.last)}; first: {row.first_text}")
        found.append(finding("NODE-002", detail, {"cause": row.cause, "count": row.count, "first": row.first,
                                                  "last": row.last, "first_line": row.first_text,
                                                  "last_line": row.last_text},
                             remedy=f"{cause.remedy[0].upper()}{cause.remedy[1:]}."))
    return about(f"node/{owner}", found)


# ----------------------------------------------------------- certificates

def certificate_table(certs: pd.DataFrame, now: Any) -> pd.DataFrame:
    """One row per certificate file found: dates, days left, share of lifetime left, and its state."""
    if certs is None or certs.empty:
        return pd.DataFrame(columns=CERT_TABLE_COLUMNS)
    rotated_serving = bool(((certs["file"].str.endswith("kubelet-server-current.pem")) & certs["present"]
                            & certs["error"].isna()).any())
    when = _utc(now)
    rows = []
    for cert in certs.itertuples(index=False):
        if not cert.present:
            continue
        row = {c: getattr(cert, c, None) for c in CERT_TABLE_COLUMNS if hasattr(cert, c)}
        if isinstance(cert.error, str):
            rows.append({**row, "days_left": None, "lifetime_left": None, "state": f"unreadable: {cert.error}"})
            continue
        start, end = _utc(cert.not_before), _utc(cert.not_after)
        left = (end - when).total_seconds()
        lifetime = max((end - start).total_seconds(), 1.0)
        share = left / lifetime
        if cert.file.endswith("/kubelet.crt") and rotated_serving:
            state = "not in use (kubelet-server-current.pem serves)"
        elif when < start:
            state = "not yet valid"
        elif left <= 0:
            state = "expired"
        elif share < ROTATION_LEFT:
            state = "expiring (rotation missed)"
        else:
            state = "valid"
        rows.append({**row, "days_left": round(left / 86400, 1), "lifetime_left": f"{max(share, 0):.0%}",
                     "state": state})
    return pd.DataFrame(rows, columns=CERT_TABLE_COLUMNS)


def certificate_problems(certs: pd.DataFrame, owner: str, now: Any) -> list[Finding]:
    """NODE-004: expired / not yet valid (error) or in its last 10 % of lifetime (warning)."""
    found = []
    for row in certificate_table(certs, now).itertuples(index=False):
        if row.state not in ("expired", "not yet valid", "expiring (rotation missed)"):
            continue
        evidence = {"file": row.file, "subject": row.subject, "issuer": row.issuer, "not_before": row.not_before,
                    "not_after": row.not_after}
        if row.state == "expired":
            detail = f"{row.file} ({row.role}, {row.subject}) expired {_iso(row.not_after)}, {-row.days_left:g} days ago"
            found.append(finding("NODE-004", f"on {owner}: {detail}", evidence))
        elif row.state == "not yet valid":
            found.append(finding("NODE-004", f"on {owner}: {row.file} ({row.role}) is not valid before "
                                 f"{_iso(row.not_before)}: the node's clock or the issuer's is wrong", evidence))
        else:
            found.append(finding("NODE-004", f"on {owner}: {row.file} ({row.role}, {row.subject}) expires "
                                 f"{_iso(row.not_after)} ({row.days_left:g} days, {row.lifetime_left} of its "
                                 "lifetime left): past the kubelet's rotation point (70-90 %), rotation is failing",
                                 evidence, severity="warning",
                                 remedy="Check `kubectl get csr` for a pending request from this node (approve it), "
                                        "and that rotateCertificates is true in /var/lib/kubelet/config.yaml."))
    return about(f"node/{owner}", found)


# ------------------------------------------------------------------ chart

def _bad(kind: str, status: str) -> bool:
    """Whether a condition's status is the unhealthy one (Ready not True; a pressure True)."""
    return (kind == "Ready") != (status == "True")


def _colour(kind: str, status: str) -> str:
    return "#868e96" if status == "Unknown" else "#b00020" if _bad(kind, status) else "#2b8a3e"


def timeline(conditions: pd.DataFrame, causes: pd.DataFrame, names: list[str], now: Any, *,
             title: str = "Conditions and kubelet causes over time (what came first?)") -> Svg:
    """One time axis: each looked-at node's condition transitions (Ready, and any condition in a bad
    state) as diamonds (red: unhealthy, green: healthy, grey: Unknown), each journal cause as a bar from
    its first to its last occurrence (in the order they began; the circle grows with the count), and "now"."""
    width, left, right, top, lane_h = 760, 230, 730, 30, 22
    lanes: list[tuple[str, str, list]] = []  # (css, label, [(start, end, status/count, tooltip)])
    table = conditions_table(conditions, names)
    for row in table.itertuples(index=False):
        if row.type != "Ready" and not _bad(row.type, row.status):
            continue
        stamp = _utc(row.last_transition)
        if stamp is not None:
            lanes.append(("condition", f"{row.node} {row.type}={row.status}",
                          [(stamp, None, _colour(row.type, row.status),
                            f"{row.type}={row.status} since {_iso(stamp)}: {row.reason} {row.message}")]))
    ordered = causes.sort_values("first", kind="stable") if causes is not None and len(causes) else None
    for row in (ordered.itertuples(index=False) if ordered is not None else []):
        first, last = _utc(row.first), _utc(row.last)
        if first is not None:
            lanes.append(("cause", f"{row.title} ({row.count})",
                          [(first, last, row.count, f"{row.count}x from {_iso(first)} to {_iso(last)}: "
                                                    f"{row.first_text}")]))
    if not lanes:
        body = [text(8, 16, title, extra=" font-weight='bold'"),
                text(width / 2, 50, "no dated transition or journal cause", anchor="middle", css="empty")]
        return document(width, 80, title, "nothing dated to draw", body)
    stamps = [s for _, _, marks in lanes for m in marks for s in (m[0], m[1]) if s is not None]
    when = _utc(now)
    if when is not None:
        stamps.append(when)
    low, high = min(stamps), max(stamps)
    if high == low:
        low, high = low - pd.Timedelta(minutes=5), high + pd.Timedelta(minutes=5)
    x = Scale(low.value, high.value, left, right)
    height = top + lane_h * len(lanes) + 42
    bottom = height - 34
    body = [text(8, 16, title, extra=" font-weight='bold'"),
            f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#adb5bd'/>"]
    from ..charts import _time_ticks  # the events timeline's axis, shared

    for tick in _time_ticks(low, high):
        body.append(f"<line x1='{x(tick.value)}' y1='{top - 4}' x2='{x(tick.value)}' y2='{bottom + 4}' "
                    f"stroke='#e9ecef'/>" + text(x(tick.value), bottom + 16, tick.strftime("%m-%d %H:%M"),
                                                  anchor="middle", css="tick"))
    biggest = max([m[2] for css, _, marks in lanes if css == "cause" for m in marks] or [1])
    for lane, (css, label, marks) in enumerate(lanes):
        y = top + lane_h * lane + lane_h / 2
        parts = [text(left - 8, y + 4, label, anchor="end")]
        for start, end, value, tip in marks:
            tooltip = f"<title>{escape(tip[:300], quote=False)}</title>"
            if css == "condition":
                colour = value
                parts.append(f"<line x1='{x(start.value)}' y1='{y}' x2='{right}' y2='{y}' stroke='{colour}' "
                             f"stroke-width='3' stroke-opacity='0.35'/>")
                parts.append(marker("diamond", x(start.value), y, colour).replace("/>", f">{tooltip}</polygon>", 1))
            else:
                radius = 3 + 5 * math.sqrt(max(float(value), 1.0) / max(float(biggest), 1.0))
                parts.append(f"<line x1='{x(start.value)}' y1='{y}' x2='{x((end or start).value)}' y2='{y}' "
                             f"stroke='#f08c00' stroke-width='3' stroke-opacity='0.6'/>"
                             f"<circle cx='{x((end or start).value)}' cy='{y}' r='{radius:.1f}' fill='#d9480f' "
                             f"fill-opacity='0.75'>{tooltip}</circle>")
        body.append(f"<g class='lane {css}' data-label='{escape(label, quote=True)}'>" + "".join(parts) + "</g>")
    if when is not None:
        body.append(f"<g class='now'><line x1='{x(when.value)}' y1='{top - 6}' x2='{x(when.value)}' y2='{bottom}' "
                    f"stroke='#1c7ed6' stroke-dasharray='4 3'/>" + text(x(when.value), top - 8, "now", anchor="middle")
                    + "</g>")
    description = "; ".join(label for _, label, _ in lanes)
    return document(width, height, title, description, body)


# ----------------------------------------------------------------- checks

def diagnose(*, nodes: pd.DataFrame, conditions: pd.DataFrame, journal: pd.DataFrame, certs: pd.DataFrame,
             node: str = "", owner: str = "", now: Any = None, leases: list[dict] | None = None) -> list[Finding]:
    """Every NODE finding from the frames (empty frames give no finding; see the module doc)."""
    names = looked_at(nodes, conditions, node)
    owner = owner or journal_owner(journal, nodes, node, names)
    return [*node_not_ready(nodes, conditions, names, now, leases), *node_pressure(conditions, names, now),
            *kubelet_failing(journal, owner, now), *certificate_problems(certs, owner, now)]


def subjects(*, nodes: pd.DataFrame, conditions: pd.DataFrame, journal: pd.DataFrame, certs: pd.DataFrame,
             node: str = "", owner: str = "", now: Any = None, leases: list[dict] | None = None) -> list[str]:
    """Every node looked at, and the node whose journal/certificates were read."""
    names = looked_at(nodes, conditions, node)
    read_on_node = (journal is not None and len(journal)) or (certs is not None and len(certs)
                                                               and bool(certs["present"].any()))
    if owner and read_on_node and owner not in names:
        names = [*names, owner]
    return [f"node/{name}" for name in names]


# ----------------------------------------------------------------- gather

def _note_once(rb, what: str, reason: str, where: str | None = None) -> None:
    """Show an "evidence unavailable" row once per run (the notebook gathers, then diagnose gathers again)."""
    if not any(u.what == what and u.reason == reason for u in rb.unavailable):
        rb.note_unavailable(what, reason, where=where or str(rb.parameters.get("target") or "target"))


def _unavailable_once(rb, evidence: str, what: str, reason: str, where: str | None = None) -> None:
    """Mark ``evidence`` missing (its codes NOT CHECKED) and show why, once per run."""
    rb.missing_evidence.add(evidence)
    _note_once(rb, what, reason, where)


def now(rb) -> pd.Timestamp:
    """The run's reference time: the source's now (a bundle's capture time)."""
    return _utc(rb.source.now())


def leases(rb) -> list[dict] | None:
    """The Lease objects of kube-node-lease, or None when the platform cannot read them (module doc)."""
    if "leases" not in CATALOGUE:
        return None
    return rb.objects("leases", "kube-node-lease", required=False)


#: session -> {journal file path: its frame} (read once per run; the notebook reads, then diagnose gathers)
_JOURNAL_FILES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def read_journal(rb) -> pd.DataFrame:
    """The kubelet journal: the ``journal`` file, else journalctl on the target; empty = unavailable (shown)."""
    path = rb.parameters.get("journal") or ""
    said = ""
    if path:
        read = _JOURNAL_FILES.setdefault(rb, {})
        if path not in read:
            try:
                read[path] = kubelet_journal.frame(Path(path).read_text(encoding="utf-8", errors="replace"))
            except (OSError, ParseError) as exc:
                read[path] = pd.DataFrame(columns=kubelet_journal.COLUMNS)
                _unavailable_once(rb, KUBELET_JOURNAL.name, f"kubelet journal file {path}", str(exc), where="local")
        journal, where = read[path], f"file {path}"
    else:
        journal = rb.node(KUBELET_JOURNAL)
        result = rb.node_result(KUBELET_JOURNAL)
        where = result.target if result is not None else str(rb.parameters.get("target") or "target")
        said = next((line.strip() for line in (result.stderr if result is not None else "").splitlines()
                     if line.strip()), "")
    if journal.empty and KUBELET_JOURNAL.name not in rb.missing_evidence:
        _unavailable_once(rb, KUBELET_JOURNAL.name, f"{KUBELET_JOURNAL.title} ({KUBELET_JOURNAL.command_id})",
                          "no entries for the kubelet unit (no kubelet here, or journald keeps no log"
                          + (f"; journalctl said: {said[:160]}" if said else "") + "): run on the node "
                          "(-p target ssh:NODE) or give the journal (-p journal FILE)", where=where)
    return journal


def read_certificates(rb) -> pd.DataFrame:
    """``openssl x509`` of each kubelet certificate file on the target, one row per file (see module doc)."""
    frames = [rb.node(command) for command in CERT_COMMANDS]
    frames = [f for f in frames if len(f)]
    certs = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=kubelet_certs.COLUMNS))
    if "kubelet-certs" in rb.missing_evidence:
        return certs
    pki = rb.parameters.get("pki_dir") or PKI_DIR
    for row in certs[certs["error"].notna()].itertuples(index=False) if len(certs) else []:
        _note_once(rb, f"kubelet certificate {row.file}", row.error)  # the others are still judged
    judged = certs[certs["present"] & certs["error"].isna()] if len(certs) else certs
    if judged.empty:
        _unavailable_once(rb, "kubelet-certs", f"kubelet certificates in {pki}",
                          f"none of {', '.join(CERT_FILES)} could be read there (not a node, or another "
                          "pki_dir: `ls -l` it and pass -p pki_dir DIR)")
    return certs


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb`` (cached there)."""
    nodes, conditions = rb.nodes(), rb.node_conditions()
    journal = read_journal(rb)
    certs = read_certificates(rb)
    node = rb.parameters.get("node") or ""
    if node and "nodes" not in rb.missing_evidence and not (nodes["name"] == node).any():
        _unavailable_once(rb, "nodes", f"node {node}", "no such node in the source (check `kubectl get nodes`)",
                          where=rb.source.description)
    names = looked_at(nodes, conditions, node)
    owner = journal_owner(journal, nodes, node, names, str(rb.parameters.get("target") or ""))
    return {"nodes": nodes, "conditions": conditions, "journal": journal, "certs": certs, "node": node,
            "owner": owner, "now": now(rb), "leases": leases(rb)}


__all__ = ["RUNBOOK", "REQUIRES", "CERT_COMMANDS", "gather", "diagnose", "subjects", "readiness_table",
           "conditions_table", "journal_errors", "journal_causes", "certificate_table", "timeline", "looked_at"]
