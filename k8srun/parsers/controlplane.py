"""Control-plane outputs -> DataFrames: kubeconfig view, API-server answers, /readyz, etcdctl, /metrics.

Pure functions of text (or of a whole command result where stderr and the
exit code are part of the answer); every one raises
:class:`k8srun.errors.ParseError` on input that is not its tool's output and
gives an empty frame with its fixed columns on empty input.

================================  ===============================================  =====================
function                          input                                            rows
================================  ===============================================  =====================
``kubeconfig_view(text)``         ``python -m k8srun.probes.kubeconfig``           one: VIEW_COLUMNS
``apiserver_answer(text)``        ``python -m k8srun.probes.apiserver``            one: ANSWER_COLUMNS
``health_checks(body)``           ``/livez?verbose`` / ``/readyz?verbose`` body    CHECK_COLUMNS
``status_object(body)``           a ``metav1.Status`` JSON body (401, 403)         dict (reason, message)
``etcd_health(result)``           ``etcdctl endpoint health -w json`` (+stderr)    HEALTH_COLUMNS
``etcd_status(result)``           ``etcdctl endpoint status -w json`` (+stderr)    STATUS_COLUMNS
``etcd_members(text)``            ``etcdctl member list -w json``                  MEMBER_COLUMNS
``prometheus_samples(text)``      Prometheus text exposition                       SAMPLE_COLUMNS
``etcd_metrics(text)``            ``python -m k8srun.probes.etcd_metrics``         METRIC_COLUMNS
================================  ===============================================  =====================

Schemas (types as in the frames):

- VIEW_COLUMNS: the probe's keys (``file``, ``exists``, ``error``, ``context``,
  ``cluster``, ``user``, ``server``, ``scheme``, ``host``, ``port``,
  ``server_error``, ``ca``, ``auth``, ``auth_detail``, ``client_cert_*`` ...);
  ``contexts`` joined with ", ".
- ANSWER_COLUMNS: ``server, path, auth, outcome, stage, reason, x509, status (int or None),
  content_type, body, elapsed_ms, status_reason, status_message`` — the last
  two from a Status JSON body (``Unauthorized``, ``Forbidden`` and its message).
- CHECK_COLUMNS: ``check`` (``etcd``, ``poststarthook/...``), ``ok`` (bool),
  ``detail`` (``ok``, ``failed: reason withheld``, ``excluded: ok``).
  ``[+]name ok`` / ``[-]name failed: reason`` lines; the closing ``readyz check
  passed|failed`` line and ``warn:`` lines are not checks.
- HEALTH_COLUMNS: ``endpoint, health (bool), took, error``; an endpoint the
  command could not reach with nothing on stdout gets ``health`` False and
  the last stderr line as ``error``.
- STATUS_COLUMNS: ``endpoint, member_id, leader_id`` (hex strings, as etcdctl's
  table shows them), ``is_leader, version, db_size, db_size_in_use, raft_term,
  raft_index, raft_applied_index, error``. etcdctl prints ``[]`` and "Failed to
  get the status of endpoint E (reason)" on stderr for a dead endpoint: one
  row with ``error`` set and the numbers empty.
- MEMBER_COLUMNS: ``member_id`` (hex), ``name, peer_urls, client_urls``
  (comma-joined), ``is_learner`` (bool), ``started`` (False: added, never
  started: no name yet).
- SAMPLE_COLUMNS: ``name, labels`` (``{"le": "0.1"}`` as a sorted ``k=v,k=v``
  string), ``value`` (float; ``+Inf``/``NaN`` as floats).
- METRIC_COLUMNS: ``endpoint, read`` (1 or 2), ``at, error, name, labels, value``;
  an endpoint not read gives one row with ``error`` and no sample.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ParseError

if TYPE_CHECKING:
    from ..targets import CommandResult

VIEW_COLUMNS = ["file", "exists", "error", "current_context", "context", "contexts", "cluster", "user", "namespace",
                "server", "scheme", "host", "port", "server_error", "ca", "ca_file_exists", "ca_subject",
                "ca_not_after", "auth", "auth_detail", "client_cert_subject", "client_cert_not_after",
                "client_cert_expired", "client_cert_error"]
ANSWER_COLUMNS = ["server", "path", "auth", "outcome", "stage", "reason", "x509", "status", "content_type", "body",
                  "elapsed_ms", "status_reason", "status_message"]
OUTCOMES = ("answered", "no-config", "dns-failure", "refused", "timeout", "unreachable", "tls-error",
            "connection-error")
CHECK_COLUMNS = ["check", "ok", "detail"]
HEALTH_COLUMNS = ["endpoint", "health", "took", "error"]
STATUS_COLUMNS = ["endpoint", "member_id", "leader_id", "is_leader", "version", "db_size", "db_size_in_use",
                  "raft_term", "raft_index", "raft_applied_index", "error"]
MEMBER_COLUMNS = ["member_id", "name", "peer_urls", "client_urls", "is_learner", "started"]
SAMPLE_COLUMNS = ["name", "labels", "value"]
METRIC_COLUMNS = ["endpoint", "read", "at", "error", "name", "labels", "value"]

_CHECK_LINE = re.compile(r"^\[([+-])\](\S+) (.*)$")
_HEALTH_END = re.compile(r"^(livez|readyz|healthz) check (passed|failed)$")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_STATUS_FAIL = re.compile(r"Failed to get the status of endpoint (\S+) \((.*)\)\s*$")


def _json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(name, f"invalid JSON: {str(exc)[:120]}") from None


def _object(name: str, text: str) -> dict:
    document = _json(name, text)
    if not isinstance(document, dict):
        raise ParseError(name, "expected a JSON object")
    return document


def _objects_under(name: str, text: str, key: str) -> list[dict]:
    """The list of objects at ``key`` of a JSON object (ParseError when it is not there)."""
    items = _object(name, text).get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ParseError(name, f"no {key!r} list of objects")
    return items


def _last_line(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else None


# ------------------------------------------------------------------ kubeconfig / API server

def kubeconfig_view(text: str) -> pd.DataFrame:
    """The kubeconfig probe's JSON as one row."""
    if not text.strip():
        return pd.DataFrame(columns=VIEW_COLUMNS)
    view = _object("kubeconfig-view", text)
    if "file" not in view or "auth" not in view:
        raise ParseError("kubeconfig-view", "not the kubeconfig probe's output (no file/auth keys)")
    row = {column: view.get(column) for column in VIEW_COLUMNS}
    contexts = view.get("contexts") if isinstance(view.get("contexts"), list) else []
    row["contexts"] = ", ".join(str(c) for c in contexts)
    return pd.DataFrame([row], columns=VIEW_COLUMNS)


def status_object(body: object) -> dict:
    """``{"reason", "message"}`` of a ``metav1.Status`` body; empty when the body is not one."""
    if not isinstance(body, str) or not body.lstrip().startswith("{"):
        return {}
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(document, dict) or document.get("kind") != "Status":
        return {}
    return {"reason": str(document.get("reason") or ""), "message": str(document.get("message") or "")}


def apiserver_answer(text: str) -> pd.DataFrame:
    """The API-server probe's JSON as one row (with the Status body's reason and message)."""
    if not text.strip():
        return pd.DataFrame(columns=ANSWER_COLUMNS)
    answer = _object("apiserver-probe", text)
    if answer.get("outcome") not in OUTCOMES:
        raise ParseError("apiserver-probe", f"unknown outcome {answer.get('outcome')!r}")
    row = {column: answer.get(column) for column in ANSWER_COLUMNS}
    status = status_object(answer.get("body"))
    row["status_reason"], row["status_message"] = status.get("reason"), status.get("message")
    if row["status"] is not None and not isinstance(row["status"], int):
        raise ParseError("apiserver-probe", f"status is not a number: {row['status']!r}")
    return pd.DataFrame([row], columns=ANSWER_COLUMNS, dtype=object)


def health_checks(body: str) -> pd.DataFrame:
    """The ``[+]name ok`` / ``[-]name failed: ...`` lines of a verbose /livez or /readyz body."""
    rows = []
    for line in (body or "").splitlines():
        line = line.rstrip("\r")
        found = _CHECK_LINE.match(line)
        if found:
            rows.append({"check": found.group(2), "ok": found.group(1) == "+", "detail": found.group(3)})
        elif line.strip() and not _HEALTH_END.match(line.strip()) and not line.startswith("warn:") \
                and line.strip() != "ok":
            raise ParseError("health-checks", f"not a health check line: {line[:80]!r}")
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


# ------------------------------------------------------------------ etcdctl

def _hex(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return format(value, "x")


def _list(name: str, text: str) -> list:
    document = _json(name, text)
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise ParseError(name, "expected a JSON list of objects")
    return document


def etcd_health_text(text: str, stderr: str = "", endpoint: str = "") -> pd.DataFrame:
    """``endpoint health -w json`` rows; nothing on stdout: one unhealthy row with stderr's reason."""
    if not text.strip():
        if not stderr.strip():
            return pd.DataFrame(columns=HEALTH_COLUMNS)
        return pd.DataFrame([{"endpoint": endpoint or None, "health": False, "took": None,
                              "error": _last_line(stderr)}], columns=HEALTH_COLUMNS)
    rows = []
    for item in _list("etcd-health", text):
        health = item.get("health")
        if not isinstance(health, bool):
            raise ParseError("etcd-health", f"health is not true/false: {health!r}")
        rows.append({"endpoint": item.get("endpoint"), "health": health, "took": item.get("took"),
                     "error": item.get("error")})
    return pd.DataFrame(rows, columns=HEALTH_COLUMNS)


def etcd_health(result: "CommandResult") -> pd.DataFrame:
    """:func:`etcd_health_text` of a command result (its stdout, stderr and the endpoint in its argv)."""
    return etcd_health_text(result.stdout, result.stderr, _endpoint_of(result.argv))


def _endpoint_of(argv: tuple[str, ...]) -> str:
    for arg in argv:
        if arg.startswith("--endpoints="):
            return arg.split("=", 1)[1]
    return ""


def etcd_status_text(text: str, stderr: str = "", endpoint: str = "") -> pd.DataFrame:
    """``endpoint status -w json`` rows; a dead endpoint ('Failed to get the status ...') as an error row."""
    rows = []
    for item in (_list("etcd-status", text) if text.strip() else []):
        status = item.get("Status")
        if not isinstance(status, dict):
            raise ParseError("etcd-status", "an entry has no Status object")
        header = status.get("header") if isinstance(status.get("header"), dict) else {}
        member, leader = _hex(header.get("member_id")), _hex(status.get("leader"))
        numbers = {}
        for key, column in (("dbSize", "db_size"), ("dbSizeInUse", "db_size_in_use"), ("raftTerm", "raft_term"),
                            ("raftIndex", "raft_index"), ("raftAppliedIndex", "raft_applied_index")):
            value = status.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ParseError("etcd-status", f"{key} is not a number: {value!r}")
            numbers[column] = value
        rows.append({"endpoint": item.get("Endpoint"), "member_id": member, "leader_id": leader,
                     "is_leader": member is not None and member == leader, "version": status.get("version"),
                     **numbers, "error": None})
    for line in stderr.splitlines():
        failed = _STATUS_FAIL.search(line)
        if failed:
            rows.append({"endpoint": failed.group(1), "error": failed.group(2)})
    if not rows and stderr.strip():
        rows.append({"endpoint": endpoint or None, "error": _last_line(stderr)})
    frame = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    for column in ("db_size", "db_size_in_use", "raft_term", "raft_index", "raft_applied_index"):
        frame[column] = frame[column].astype("Int64") if len(frame) else frame[column]
    return frame


def etcd_status(result: "CommandResult") -> pd.DataFrame:
    """:func:`etcd_status_text` of a command result."""
    return etcd_status_text(result.stdout, result.stderr, _endpoint_of(result.argv))


def etcd_members(text: str) -> pd.DataFrame:
    """``member list -w json`` rows (IDs in hex)."""
    if not text.strip():
        return pd.DataFrame(columns=MEMBER_COLUMNS)
    rows = []
    for member in _objects_under("etcd-members", text, "members"):
        peers = member.get("peerURLs") if isinstance(member.get("peerURLs"), list) else []
        clients = member.get("clientURLs") if isinstance(member.get("clientURLs"), list) else []
        rows.append({"member_id": _hex(member.get("ID")), "name": str(member.get("name") or ""),
                     "peer_urls": ",".join(map(str, peers)), "client_urls": ",".join(map(str, clients)),
                     "is_learner": bool(member.get("isLearner")), "started": bool(member.get("name"))})
    return pd.DataFrame(rows, columns=MEMBER_COLUMNS)


# ------------------------------------------------------------------ Prometheus

def _value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ParseError("prometheus", f"not a sample value: {text[:40]!r}") from None


def prometheus_samples(text: str) -> pd.DataFrame:
    """Every sample of a Prometheus text exposition (comments skipped)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found = _SAMPLE.match(line)
        if not found:
            raise ParseError("prometheus", f"not a sample line: {line[:80]!r}")
        labels = {}
        if found.group(3):
            rest = found.group(3)
            position = 0
            while position < len(rest):
                label = _LABEL.match(rest, position)
                if not label or label.end() == position:
                    raise ParseError("prometheus", f"bad labels: {found.group(3)[:80]!r}")
                labels[label.group(1)] = label.group(2)
                position = label.end()
        rows.append({"name": found.group(1), "labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
                     "value": _value(found.group(4))})
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)


def etcd_metrics(text: str) -> pd.DataFrame:
    """The metrics probe's two reads per endpoint as sample rows."""
    if not text.strip():
        return pd.DataFrame(columns=METRIC_COLUMNS)
    rows = []
    for read in _objects_under("etcd-metrics", text, "reads"):
        base = {"endpoint": read.get("endpoint"), "read": read.get("read"), "at": read.get("at"),
                "error": read.get("error")}
        if read.get("read") not in (1, 2):
            raise ParseError("etcd-metrics", f"read is 1 or 2, not {read.get('read')!r}")
        metrics = read.get("metrics") if isinstance(read.get("metrics"), str) else ""
        samples = prometheus_samples(metrics)
        if samples.empty:
            rows.append({**base, "name": None, "labels": None, "value": math.nan})
        for sample in samples.itertuples(index=False):
            rows.append({**base, "name": sample.name, "labels": sample.labels, "value": sample.value})
    frame = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    frame.attrs["window_s"] = _object("etcd-metrics", text).get("window_s")
    return frame
