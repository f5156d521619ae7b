"""The known causes of a NotReady node in kubelet journal lines (rows of :mod:`.kubelet_journal`).

Each :data:`CAUSES` entry names one failure the kubelet (or systemd about
the kubelet unit) writes in its own words; the patterns were written from
the messages of kubernetes/kubernetes ``pkg/kubelet`` (kubelet.go,
pleg/generic.go, eviction/eviction_manager.go, the node lease controller,
client-go's certificate manager, server.go) in both the structured klog
form of Kubernetes >= 1.21 (``"Skipping pod synchronization" err="PLEG is not
healthy: ..."``) and the older printf form (``skipping pod synchronization -
PLEG is not healthy: ...``). A line is matched on its message and its
``key=value`` fields together, case-insensitively; one line may show two
causes (``err="[container runtime is down, PLEG is not healthy: ...]"``).

========================  ====================================================================
cause                     the kubelet says (any of)
========================  ====================================================================
``runtime-down``          ``container runtime is down``; ``Container runtime not ready``
                          (``RuntimeReady=false``); a CRI call failing with ``rpc error: code =
                          Unavailable|DeadlineExceeded``; ``dial unix ….sock: connect: connection
                          refused`` / ``no such file or directory`` (containerd, CRI-O down)
``pleg``                  ``PLEG is not healthy: pleg was last seen active 3m5s ago; threshold is
                          3m0s`` — not ``pleg has yet to be successful``, which every kubelet
                          start prints once before its first relist
``cni``                   ``Container runtime network not ready`` / ``NetworkReady=false``
                          ``NetworkPluginNotReady``, ``cni plugin not initialized``, ``network
                          plugin is not ready: cni config uninitialized``, ``No networks found in
                          /etc/cni/net.d``
``swap``                  ``running with swap on is not supported`` (the kubelet refuses to start)
``certificate``           ``x509: certificate has expired or is not yet valid``, ``Failed while
                          requesting a signed certificate`` / ``Unable to store the new cert/key
                          pair`` (client certificate rotation failed),
                          ``part of the existing bootstrap client certificate is expired``, ``the
                          currently active client certificate has expired``
``evictions``             ``Eviction manager: attempting to reclaim`` / ``must evict pod(s) to
                          reclaim`` (resource from ``resourceName=`` or the old text: the
                          detail says ``ephemeral-storage``, ``memory``, ``pids`` …)
``lease``                 ``Failed to update lease``, ``failed to ensure (node) lease exists``,
                          ``Error updating node status`` / ``Unable to update node status``: the
                          heartbeat does not reach the API server
``kubelet-exited``        systemd: ``kubelet.service: Main process exited`` (the kubelet process
                          ended; with ``Failed with result``, ``Started``, ``Stopped`` and
                          ``Deactivated successfully`` these lines are the unit's
                          ``lifecycle``: does it run at the journal's end?)
========================  ====================================================================

Times: ``-o short-iso`` stamps carry the zone and are used as they are; the
default ``short`` format (``Nov 20 14:03:12``) has neither year nor zone: it
is read as UTC in the year that puts it at or before ``now`` (plus a day).

Functions (pure, DataFrame in, DataFrame out)::

    occurrences(journal, now=None) -> time, host, unit, level, source, cause, detail, text
    summary(occurrences, active_within=RECENT) -> cause, title, count, first, last, active,
                                                  first_text, last_text, detail
    lifecycle(journal, now=None) -> time, event ("started" | "stopped" | "exited"), text
    frame(text, now=None) -> occurrences of a journal text (journalctl output)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from . import kubelet_journal

NAME = "kubelet-causes"
OCCURRENCE_COLUMNS = ["time", "host", "unit", "level", "source", "cause", "detail", "text"]
SUMMARY_COLUMNS = ["cause", "title", "count", "first", "last", "active", "detail", "first_text", "last_text"]
LIFECYCLE_COLUMNS = ["time", "event", "text"]
#: a cause seen this close to the journal's last line still happens (NODE-002); older ones are history
RECENT = pd.Timedelta(minutes=10)
#: characters of a journal line kept in the tables
TEXT_LIMIT = 300


@dataclass(frozen=True)
class Cause:
    """One known cause: id, title for the reader, the patterns that show it, and what to do."""

    id: str
    title: str
    patterns: tuple[str, ...]
    remedy: str

    def matches(self, text: str) -> bool:
        return any(re.search(p, text, re.I) for p in self.patterns)


CAUSES: tuple[Cause, ...] = (
    Cause("runtime-down", "container runtime down",
          (r"container runtime is down", r"container runtime not ready", r"RuntimeReady=false",
           r"runtime service failed.*rpc error: code = (?:Unavailable|DeadlineExceeded)",
           r"dial unix [^\s\"']*\.sock: connect: (?:connection refused|no such file or directory)"),
          "`systemctl status containerd` (or crio) and `journalctl -u containerd`; restart the runtime, "
          "then the kubelet"),
    Cause("pleg", "PLEG not healthy",
          (r"PLEG is not healthy: pleg was last seen active",),
          "the runtime answers too slowly (`crictl ps` hangs?): too many containers, a stuck shim, "
          "disk I/O; restart containerd, then the kubelet"),
    Cause("cni", "CNI not initialised",
          (r"cni config uninitiali[sz]ed", r"cni plugin not initiali[sz]ed", r"NetworkPluginNotReady",
           r"Container runtime network not ready", r"No networks found in /etc/cni/net\.d"),
          "the CNI DaemonSet pod on this node (flannel, calico, cilium …) must write /etc/cni/net.d: "
          "check it (`kubectl -n kube-system get pods -o wide`), `ls /etc/cni/net.d /opt/cni/bin`"),
    Cause("swap", "swap on",
          (r"running with swap on is not supported",),
          "`swapoff -a` and remove swap from /etc/fstab (or configure failSwapOn: false with "
          "memorySwap), then `systemctl restart kubelet`"),
    Cause("certificate", "certificate expired / rotation failed",
          (r"x509: certificate has expired", r"certificate has expired or is not yet valid",
           r"Failed while requesting a signed certificate", r"client certificate (?:in \S+ )?is expired",
           r"currently active client certificate has expired", r"Unable to store the new cert/key pair"),
          "check /var/lib/kubelet/pki dates (below); approve pending CSRs (`kubectl get csr`) or re-join "
          "the node / regenerate kubelet.conf"),
    Cause("evictions", "evictions (node pressure)",
          (r"eviction manager: attempting to reclaim", r"must evict pod\(s\) to reclaim"),
          "free the resource the eviction manager reclaims (images: `crictl rmi --prune`, logs, "
          "emptyDirs) or add capacity"),
    Cause("lease", "node lease / status updates failing",
          (r"Failed to update lease", r"failed to ensure (?:node )?lease exists",
           r"failed to update node lease", r"Error updating node status", r"Unable to update node status"),
          "the kubelet cannot reach the API server: check the route/firewall to it, its certificate, "
          "and the API server itself"),
    Cause("kubelet-exited", "kubelet process exited",
          (r"kubelet\.service: Main process exited",),
          "the lines just before the exit say why (`journalctl -u kubelet -n 50`); fix it, then "
          "`systemctl restart kubelet`"),
)
BY_ID = {c.id: c for c in CAUSES}

_PLEG_AGE = re.compile(r"last seen active (\S+?) ago", re.I)
_RESOURCE = re.compile(r"resourceName=\"?([A-Za-z][\w.\-]*)")
_RECLAIM = re.compile(r"to reclaim ([A-Za-z][\w.\-]*)")
_STARTED = re.compile(r"^Started (?:kubelet|Kubernetes Kubelet)", re.I)
_STOPPED = re.compile(r"^Stopped (?:kubelet|Kubernetes Kubelet)|^kubelet\.service: Deactivated successfully", re.I)
_SHORT = "%Y %b %d %H:%M:%S"


def timestamp(text: str, now: dt.datetime | None = None) -> pd.Timestamp | None:
    """A journal timestamp as a UTC Timestamp (short format: year from ``now``, UTC); None when unreadable."""
    text = str(text or "").strip()
    if not text:
        return None
    if text[:4].isdigit():
        try:
            stamp = pd.Timestamp(text.replace(",", "."))
        except (ValueError, OverflowError):
            return None
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    now = now or dt.datetime.now(dt.timezone.utc)
    now_ts = pd.Timestamp(now).tz_convert("UTC") if pd.Timestamp(now).tzinfo else pd.Timestamp(now, tz="UTC")
    for year in (now_ts.year, now_ts.year - 1):
        try:
            stamp = pd.Timestamp(dt.datetime.strptime(f"{year} {' '.join(text.split())}", _SHORT), tz="UTC")
        except ValueError:
            return None  # Feb 29 in a year without it, or not a short stamp
        if stamp <= now_ts + pd.Timedelta(days=1):
            return stamp
    return None


def _text(row) -> str:
    fields = row["fields"] if isinstance(row["fields"], dict) else {}
    return " ".join([str(row["message"]), *(f"{k}={v}" for k, v in fields.items())])


def _detail(cause: str, text: str) -> str:
    if cause == "pleg":
        found = _PLEG_AGE.search(text)
        return f"last relist {found.group(1)} ago" if found else ""
    if cause == "evictions":
        found = _RESOURCE.search(text) or _RECLAIM.search(text)
        return found.group(1) if found else ""
    return ""


def _short(text: str, limit: int = TEXT_LIMIT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def line_text(row, limit: int = TEXT_LIMIT) -> str:
    """A journal row's message and ``key=value`` fields as one line of at most ``limit`` characters."""
    return _short(_text(row), limit)


def occurrences(journal: pd.DataFrame, now: dt.datetime | None = None) -> pd.DataFrame:
    """One row per (journal line, cause it shows), oldest first (schema: :data:`OCCURRENCE_COLUMNS`)."""
    rows = []
    if journal is None or journal.empty:
        return pd.DataFrame(columns=OCCURRENCE_COLUMNS)
    for _, line in journal.iterrows():
        text = _text(line)
        for cause in CAUSES:
            if cause.matches(text):
                rows.append({"time": timestamp(line["timestamp"], now), "host": line["host"], "unit": line["unit"],
                             "level": line["level"], "source": line["source"], "cause": cause.id,
                             "detail": _detail(cause.id, text), "text": _short(text)})
    out = pd.DataFrame(rows, columns=OCCURRENCE_COLUMNS)
    if len(out):
        out["time"] = pd.to_datetime(out["time"], utc=True)
    return out


def lifecycle(journal: pd.DataFrame, now: dt.datetime | None = None) -> pd.DataFrame:
    """systemd's lines about the kubelet unit: started / stopped / exited, oldest first."""
    rows = []
    if journal is not None and not journal.empty:
        for _, line in journal.iterrows():
            message = str(line["message"])
            if _STARTED.search(message):
                event = "started"
            elif _STOPPED.search(message):
                event = "stopped"
            elif BY_ID["kubelet-exited"].matches(message) or "kubelet.service: Failed with result" in message:
                event = "exited"
            else:
                continue
            rows.append({"time": timestamp(line["timestamp"], now), "event": event, "text": _short(message)})
    out = pd.DataFrame(rows, columns=LIFECYCLE_COLUMNS)
    if len(out):
        out["time"] = pd.to_datetime(out["time"], utc=True)
    return out


def journal_end(journal: pd.DataFrame, now: dt.datetime | None = None) -> pd.Timestamp | None:
    """The time of the journal's last dated line (what "recent" is measured from)."""
    if journal is None or journal.empty:
        return None
    stamps = [t for t in (timestamp(s, now) for s in journal["timestamp"]) if t is not None]
    return max(stamps) if stamps else None


def summary(found: pd.DataFrame, end: pd.Timestamp | None = None,
            active_within: pd.Timedelta = RECENT) -> pd.DataFrame:
    """One row per cause seen: count, first and last time and line, and whether it is still happening.

    ``active``: its last occurrence is within ``active_within`` of ``end``
    (the journal's last line; default: the last occurrence of any cause).
    """
    if found is None or found.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    dated = found["time"].dropna()
    end = end if end is not None else (dated.max() if len(dated) else None)
    rows = []
    for cause in CAUSES:
        hits = found[found["cause"] == cause.id]
        if hits.empty:
            continue
        times = hits["time"]
        last = times.max() if times.notna().any() else None
        details = [d for d in dict.fromkeys(hits["detail"]) if d]
        if cause.id == "pleg" and details:
            details = [details[-1]]
        rows.append({"cause": cause.id, "title": cause.title, "count": len(hits),
                     "first": times.min() if times.notna().any() else None, "last": last,
                     "active": bool(last is None or end is None or end - last <= active_within),
                     "detail": ", ".join(details), "first_text": hits.iloc[0]["text"],
                     "last_text": hits.iloc[-1]["text"]})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def frame(text: str, now: dt.datetime | None = None) -> pd.DataFrame:
    """The cause occurrences of a journalctl text (ParseError when it is not journalctl output)."""
    return occurrences(kubelet_journal.frame(text), now)


__all__ = ["CAUSES", "Cause", "line_text", "occurrences", "summary", "lifecycle", "journal_end", "timestamp", "frame",
           "OCCURRENCE_COLUMNS", "SUMMARY_COLUMNS", "RECENT"]
