"""control-plane: every kubectl command fails — kubeconfig, API server, etcd and the disk under it.

Codes CP-001..005 and ETCD-001..005 (RUNBOOKS.md). The guide's first
symptom is "every kubectl command fails" (``Error from server
(InternalError)``, ``etcdserver: leader changed``); this runbook walks the
chain kubectl walks, from the machine it runs on (the ``target``: local, or
a control-plane node by ssh/``node:``), every step a node command whose raw
output is kept with the report (so a report folder, or the recorded
scenario, replays it offline):

=====================  ===========================================================  =================
evidence name          command (on the target)                                       parser
=====================  ===========================================================  =================
``kubeconfig-view``    ``python -m k8srun.probes.kubeconfig --kubeconfig F``         kubeconfig_view
                       (``kubectl config view --minify``, no secret printed)
``apiserver``          ``python -m k8srun.probes.apiserver --path P`` for            apiserver_answer
                       ``/livez?verbose``, ``/readyz?verbose`` and
                       ``/api/v1/namespaces/kube-system/pods?limit=1``
``etcd-health``        ``etcdctl --endpoints=E --dial-timeout=1s                     etcd_health
                       --command-timeout=2s endpoint health -w json`` per endpoint
``etcd-status``        ``... endpoint status -w json`` per endpoint                  etcd_status
``etcd-members``       ``... member list -w json`` (all endpoints)                   etcd_members
``etcd-metrics``       ``python -m k8srun.probes.etcd_metrics`` (/metrics of every   etcd_metrics
                       endpoint, read twice ``leader_window_s`` apart)
``fio``                ``fio --rw=write --ioengine=sync --fdatasync=1                fio
                       --directory=DIR --size=SIZE --bs=2300 --name=k8srun-etcd-
                       fsync --output-format=json``, then ``rm -f DIR/k8srun-etcd-
                       fsync.0.0`` (always, also after a timeout or kill)
``static-pods``        the source's kube-system pods named kube-apiserver-* / etcd-*  (cluster source)
=====================  ===========================================================  =================

Parsers: :mod:`k8srun.parsers.controlplane` and :mod:`k8srun.parsers.fio`.
Where etcd is: ``etcd_endpoints``, else the static pods in the source (the
etcd pods' ``--advertise-client-urls``, else the API server's
``--etcd-servers``); ``etcd_data_dir`` likewise from the etcd pod's
``--data-dir``. Nothing found: the etcd evidence is a "skipped" row and the
ETCD codes say NOT CHECKED — never OK.

How each code decides:

- **CP-001** (error): the kubeconfig is unusable — the file is missing or not
  YAML, the context (given, or current-context) does not exist, or its
  cluster or user entry does not; the server URL is missing or unparsable, or
  ``http://`` (the API server serves only TLS; the insecure port is gone since
  1.20); the CA file/data named cannot be read.
- **CP-002** (critical): a probe of the server could not get an HTTP answer:
  DNS failure, connection refused, timeout, host/network unreachable, or a
  TLS handshake failure (the x509 reason in the detail: ``certificate has
  expired``, ``unable to get local issuer certificate`` ...). Skipped when
  CP-001 already says there is no usable server (the API server is then not
  asked at all: CP-002..005 NOT CHECKED).
- **CP-003** (error): an answer 401 (the ``Unauthorized`` Status), or the
  kubeconfig's client certificate has expired (the server would answer 401).
- **CP-004** (error): an answer 403 (the ``Forbidden`` Status; its message
  names the user and the verb) — listing kube-system pods is what the probe asks.
- **CP-005** (error): ``/readyz?verbose`` (or ``/livez``) answered but not 200,
  or lists a ``[-]`` check; the detail names the failing checks (``etcd``,
  ``etcd-readiness`` ...). Not judged on a 401/403 answer (CP-003/004 say why).
- **ETCD-001** (critical): an endpoint whose ``endpoint health`` is false or
  whose ``endpoint status`` failed (unreachable), or a member of the member
  list never started (added but not running).
- **ETCD-002** (warning): the member list holds an even number of voting
  members (learners are not counted): 4 members tolerate one failure, as 3 do.
- **ETCD-003** (error): a member's ``etcd_server_leader_changes_seen_total``
  rose by more than ``leader_change_threshold`` between the two reads (an
  endpoint without the counter in its second read: PARTIAL; none: NOT
  CHECKED). A
  member restarted in between (``process_start_time_seconds`` changed, or the
  counter fell) counts its second value (what it has seen since it started),
  as Prometheus' ``increase()`` does.
- **ETCD-004** (error): fio's fdatasync 99th percentile > 10 ms (etcd's
  hardware guidance); the detail gives p99, p99.9 and the fsync count.
- **ETCD-005** (warning): a member's db size (``endpoint status`` dbSize) is
  at or above :data:`QUOTA_NEAR` (80 %) of its quota
  (``etcd_server_quota_backend_bytes`` from its /metrics; etcd's default
  2 GiB when the metrics could not be read: PARTIAL).

Tables for the notebook (pure): ``kubeconfig_table``, ``apiserver_table``,
``health_table``, ``etcd_members_table`` (one row per endpoint: health,
leader, raft term/index, db size vs quota, leader changes in the window),
``fsync_table`` (the percentile rows), and :func:`fsync_chart` (the fsync
latency distribution with the 10 ms line; :mod:`k8srun.charts` building blocks).

Decisions (as an on-call SRE would take them):

- Everything is asked *from the target*, as node commands, so the raw answers
  are kept with the report and a report folder (or the recorded scenario)
  replays offline; on replay the recorded argv is used (a probe's interpreter
  and the kubeconfig path are the recording machine's). The API probes and
  the metrics reader are k8srun's own Python (:mod:`k8srun.probes`), so an
  ``ssh:`` target needs k8srun installed there, as the dns runbook's probe does.
- The kubeconfig is the parameter, else ``$KUBECONFIG``'s first file, else
  ``~/.kube/config`` — what kubectl reads. With ``source live`` the platform
  checks the API answers before the notebook starts, so when kubectl fails run
  it with ``-p source none`` (the examples in ``parameters/control-plane/``).
- A TLS failure is CP-002 (kubectl cannot reach the API securely, whichever
  side is wrong), with the x509 reason and a remedy that names both sides.
- CP-003 is also raised from the kubeconfig alone when its client
  certificate has expired: the server would answer 401.
- Defaults: ``leader_window_s`` 5 s (short enough for an incident, long
  enough to see a churning leader), ``leader_change_threshold`` 1 (one change
  in 5 s can be a planned restart; two is churn), ``QUOTA_NEAR`` 80 % (etcd
  raises NOSPACE at 100 % and the cluster turns read-only), ``fio_size`` the
  guide's 22m (a test run on a production disk writes that much; the file is
  removed).

Limits: exec / auth-provider credential plugins are not run by the probe
(the request then goes without credentials: a 401/403 follows; the view
says so); etcd over
TLS takes ``etcd_pki``, a directory on the target laid out as kubeadm's
``/etc/kubernetes/pki/etcd`` (``ca.crt``, ``healthcheck-client.crt``/``.key``).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from .. import charts, params
from ..errors import K8srunError, ParameterError
from ..evidence import NodeCommand
from ..model import Finding, finding
from ..parsers import controlplane as cpp
from ..parsers import fio as fio_parser
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook

FSYNC_P99_LIMIT_MS = 10.0
QUOTA_NEAR = 0.8
DEFAULT_QUOTA = 2 * 1024 ** 3
FIO_JOB = "k8srun-etcd-fsync"
API_PATHS = {"livez": "/livez?verbose", "readyz": "/readyz?verbose",
             "pods": "/api/v1/namespaces/kube-system/pods?limit=1"}
ETCD_TIMEOUTS = ("--dial-timeout=1s", "--command-timeout=2s")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_SIZE = re.compile(r"^([1-9][0-9]{0,9})([kmg]?)$")


# ------------------------------------------------------------------ parameters

def etcd_endpoint_list(name: str, value: Any) -> list[str]:
    """etcd client URLs (``http(s)://HOST:PORT``), a list or comma-separated text."""
    items = value if isinstance(value, list) else str(value).split(",")
    out = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise ParameterError(name, item, "not a URL (http(s)://HOST:PORT)") from None
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not port or parts.path not in ("", "/") or parts.query \
                or parts.username or parts.password or not (_HOST.match(host) or _is_ip(host)):
            raise ParameterError(name, item, "must be http(s)://HOST:PORT (an etcd client URL)")
        out.append(f"{parts.scheme}://{parts.netloc}")
    if len(out) > 9:
        raise ParameterError(name, value, "at most 9 endpoints")
    return out


def _is_ip(host: str) -> bool:
    try:
        params.ip_address("host", host)
        return True
    except ParameterError:
        return False


def absolute_path(name: str, value: Any) -> str:
    """An absolute path without ``..`` (a directory or file on the target)."""
    text = str(value)
    if not text.startswith("/") or "\0" in text or "\n" in text or ".." in Path(text).parts:
        raise ParameterError(name, value, "must be an absolute path without '..'")
    return text


def fio_size(name: str, value: Any) -> str:
    """fio ``--size``: a number with an optional k/m/g suffix, at most 1g."""
    text = str(value).strip().lower()
    found = _SIZE.match(text)
    if not found:
        raise ParameterError(name, value, "must be a size such as 22m, 64k or 1g")
    number = int(found.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[found.group(2)]
    if not 4096 <= number <= 1024 ** 3:
        raise ParameterError(name, value, "must be between 4k and 1g")
    return text


def threshold(name: str, value: Any) -> int:
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ParameterError(name, value, "must be a whole number >= 0")
    return int(str(value).strip())


def window(name: str, value: Any) -> float:
    if isinstance(value, (int, float, str)) and str(value).strip() in ("0", "0.0"):
        return 0.0
    return float(params.positive_number(name, value, maximum=60))


RUNBOOK = Runbook(
    name="control-plane",
    description="kubectl fails: kubeconfig, API server reachability/auth/readyz, etcd members, leader churn, fsync latency",
    scenario="control-plane",
    parameters=(*CLUSTER, TARGET,
                Parameter("etcd_endpoints", [], "etcd client URLs; empty means from the etcd static pods in "
                          "the source", etcd_endpoint_list),
                Parameter("etcd_data_dir", "", "directory fio writes its test file in (etcd's disk); empty "
                          "means the etcd pod's --data-dir, else no fio", absolute_path),
                Parameter("fio_size", "22m", "fio --size (the guide: 22m)", fio_size),
                Parameter("leader_change_threshold", 1, "ETCD-003 when leader changes in the window exceed it",
                          threshold),
                Parameter("leader_window_s", 5, "seconds between the two /metrics reads", window),
                Parameter("etcd_pki", "", "etcd client TLS: dir on the target with kubeadm's ca.crt, "
                          "healthcheck-client.crt/.key (/etc/kubernetes/pki/etcd)", absolute_path),
                TIMEOUT),
    triage=("control-plane-pods",),
    namespace_default="source",
)

KUBECONFIG_VIEW, APISERVER, ETCD_HEALTH, ETCD_STATUS = "kubeconfig-view", "apiserver", "etcd-health", "etcd-status"
ETCD_MEMBERS, ETCD_METRICS, FIO = "etcd-members", "etcd-metrics", "fio"

REQUIRES: dict[str, list[str]] = {
    "CP-001": [KUBECONFIG_VIEW],
    "CP-002": [KUBECONFIG_VIEW, APISERVER],
    "CP-003": [KUBECONFIG_VIEW, APISERVER],
    "CP-004": [APISERVER],
    "CP-005": [APISERVER],
    "ETCD-001": [ETCD_HEALTH, ETCD_STATUS],
    "ETCD-002": [ETCD_MEMBERS],
    "ETCD-003": [ETCD_METRICS],
    "ETCD-004": [FIO],
    "ETCD-005": [ETCD_STATUS],
}
PARTIAL: dict[str, list[str]] = {"ETCD-005": [ETCD_METRICS]}


# ------------------------------------------------------------------ commands

def _probe(module: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", f"k8srun.probes.{module}", *args)


def _id(endpoint: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "_", urlsplit(endpoint).netloc.lower())


#: etcdctl / probe flag -> the file kubeadm keeps for it in /etc/kubernetes/pki/etcd
PKI_FILES = {"cacert": "ca.crt", "cert": "healthcheck-client.crt", "key": "healthcheck-client.key"}


def _tls(values: dict) -> tuple[str, ...]:
    pki = values.get("etcd_pki")
    return tuple(f"--{flag}={pki.rstrip('/')}/{name}" for flag, name in PKI_FILES.items()) if pki else ()


def kubeconfig_file(values: dict) -> str:
    """The kubeconfig kubectl would read: the parameter, else $KUBECONFIG's first file, else ~/.kube/config."""
    if values.get("kubeconfig"):
        return str(values["kubeconfig"])
    env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return env or os.path.expanduser("~/.kube/config")


def _context_args(values: dict) -> tuple[str, ...]:
    return ("--context", values["context"]) if values.get("context") else ()


KUBECONFIG_CMD = NodeCommand(
    "kubeconfig-view", lambda v: _probe("kubeconfig", "--kubeconfig", kubeconfig_file(v), *_context_args(v)),
    cpp.kubeconfig_view, "kubeconfig (kubectl config view --minify, secrets left out)", evidence=KUBECONFIG_VIEW,
    columns=tuple(cpp.VIEW_COLUMNS))


def _fixed(command_id: str, argv: tuple[str, ...], parser, title: str, evidence: str, **kw: Any) -> NodeCommand:
    return NodeCommand(command_id, lambda _values: argv, parser, title, evidence=evidence, **kw)


def apiserver_command(values: dict, probe: str) -> NodeCommand:
    """GET ``API_PATHS[probe]`` through the probe (id ``apiserver-<probe>``)."""
    argv = _probe("apiserver", "--kubeconfig", kubeconfig_file(values), *_context_args(values), "--path",
                  API_PATHS[probe], "--timeout", f"{min(float(values.get('timeout_s') or 10), 30):g}")
    return _fixed(f"apiserver-{probe}", argv, cpp.apiserver_answer, f"API server answer to {API_PATHS[probe]}",
                  APISERVER, columns=tuple(cpp.ANSWER_COLUMNS))


def _etcdctl(values: dict, endpoints: list[str], *args: str) -> tuple[str, ...]:
    return ("etcdctl", f"--endpoints={','.join(endpoints)}", *ETCD_TIMEOUTS, *_tls(values), *args)


def etcd_health_command(values: dict, endpoint: str) -> NodeCommand:
    """``etcdctl endpoint health -w json`` of one endpoint (exit 1 = unhealthy: an answer)."""
    return _fixed(f"etcd-health-{_id(endpoint)}", _etcdctl(values, [endpoint], "endpoint", "health", "-w", "json"),
                  None, f"etcd endpoint health {endpoint}", ETCD_HEALTH, accept_exit=(0, 1),
                  columns=tuple(cpp.HEALTH_COLUMNS), result_parser=cpp.etcd_health)


def etcd_status_command(values: dict, endpoint: str) -> NodeCommand:
    """``etcdctl endpoint status -w json`` of one endpoint (exit 1 = unreachable: an answer)."""
    return _fixed(f"etcd-status-{_id(endpoint)}", _etcdctl(values, [endpoint], "endpoint", "status", "-w", "json"),
                  None, f"etcd endpoint status {endpoint}", ETCD_STATUS, accept_exit=(0, 1),
                  columns=tuple(cpp.STATUS_COLUMNS), result_parser=cpp.etcd_status)


def etcd_members_command(values: dict, endpoints: list[str]) -> NodeCommand:
    return _fixed("etcd-member-list", _etcdctl(values, endpoints, "member", "list", "-w", "json"), cpp.etcd_members,
                  "etcd member list", ETCD_MEMBERS, columns=tuple(cpp.MEMBER_COLUMNS))


def etcd_metrics_command(values: dict, endpoints: list[str]) -> NodeCommand:
    argv = _probe("etcd_metrics", *(a for e in endpoints for a in ("--endpoint", e)),
                  "--window", f"{float(values.get('leader_window_s', 5)):g}", "--timeout", "2", *_tls(values))
    return _fixed("etcd-metrics", argv, cpp.etcd_metrics, "etcd /metrics, read twice", ETCD_METRICS,
                  columns=tuple(cpp.METRIC_COLUMNS))


def fio_command(values: dict, directory: str) -> NodeCommand:
    """The guide's fio fdatasync test in ``directory``."""
    argv = ("fio", "--rw=write", "--ioengine=sync", "--fdatasync=1", f"--directory={directory}",
            f"--size={values.get('fio_size') or '22m'}", "--bs=2300", f"--name={FIO_JOB}", "--output-format=json")
    return _fixed("fio-etcd-fsync", argv, "fio", "fio fdatasync latency in etcd's data dir", FIO,
                  columns=tuple(fio_parser.COLUMNS))


def fio_cleanup_command(directory: str) -> NodeCommand:
    """``rm -f`` of fio's test file (``<job>.0.0``)."""
    return _fixed("fio-etcd-fsync-cleanup", ("rm", "-f", "--", f"{directory.rstrip('/')}/{FIO_JOB}.0.0"), None,
                  "remove fio's test file", "fio-cleanup")


# ------------------------------------------------------------------ gather

def _recorded(rb, command: NodeCommand) -> NodeCommand:
    """On a replay target, ``command`` with the argv recorded under its id (a probe's interpreter and the
    kubeconfig path of the recording), so a report folder replays whatever this machine's paths are."""
    try:
        folder = getattr(rb.target, "folder", None)
    except K8srunError:
        return command
    if folder is None:
        return command
    command_id = command.command_id.format(**rb.parameters)
    try:
        argv = json.loads((Path(folder) / f"{command_id}.json").read_text(encoding="utf-8"))["argv"]
    except (OSError, ValueError, KeyError, TypeError):
        return command
    recorded = tuple(str(a) for a in argv)
    return NodeCommand(command.command_id, lambda _values: recorded, command.parser, command.title, command.evidence,
                       command.accept_exit, command.columns, command.result_parser)


def _run(rb, command: NodeCommand) -> pd.DataFrame:
    return rb.node(_recorded(rb, command))


def _skip(rb, names: tuple[str, ...], what: str, why: str) -> None:
    for name in names:
        if name not in rb.missing_evidence:
            rb.missing_evidence.add(name)
    rb.note_unavailable(what, why, skipped=True)


def static_pods(rb) -> list[dict]:
    """The source's kube-system pods of kube-apiserver and etcd (raw objects); [] without a cluster source
    (a "skipped" row) or when they cannot be listed (an "evidence unavailable" row)."""
    objects = rb.objects("pods", "kube-system", required=False)
    return [o for o in objects or [] if _component(o) in ("kube-apiserver", "etcd")]


def _component(pod: dict) -> str | None:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    name = (pod.get("metadata") or {}).get("name") or ""
    if labels.get("component") in ("kube-apiserver", "etcd"):
        return labels["component"]
    for prefix in ("kube-apiserver", "etcd"):
        if name.startswith(prefix + "-"):
            return prefix
    return None


def _flag(pod: dict, flag: str) -> str | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for arg in [*(container.get("command") or []), *(container.get("args") or [])]:
            if isinstance(arg, str) and arg.startswith(f"--{flag}="):
                return arg.split("=", 1)[1]
    return None


def endpoints_from_pods(pods: list[dict]) -> list[str]:
    """etcd client URLs named by the static pods: etcd's --advertise-client-urls, else the API server's --etcd-servers."""
    found: list[str] = []
    for component, flag in (("etcd", "advertise-client-urls"), ("kube-apiserver", "etcd-servers")):
        for pod in pods:
            value = _flag(pod, flag) if _component(pod) == component else None
            for url in (value or "").split(","):
                if url.strip() and url.strip() not in found:
                    found.append(url.strip())
        if found:
            break
    try:
        return etcd_endpoint_list("etcd_endpoints", found)
    except ParameterError:
        return []


def static_pod_table(rb, pods: list[dict]) -> pd.DataFrame:
    """kube-apiserver / etcd pods: node, phase, ready, restarts, last log lines (``docker ps`` / ``docker logs``)."""
    rows = []
    for pod in pods:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        for container in status.get("containerStatuses") or []:
            state = next(iter(container.get("state") or {}), "unknown")
            text = rb.logs(meta.get("name"), container.get("name"), tail_lines=5, namespace=meta.get("namespace"))
            rows.append({"pod": meta.get("name"), "node": (pod.get("spec") or {}).get("nodeName"),
                         "phase": status.get("phase"), "container": container.get("name"), "state": state,
                         "ready": container.get("ready"), "restarts": container.get("restartCount"),
                         "last_log_lines": "\n".join((text or "").splitlines()[-5:])})
    return pd.DataFrame(rows, columns=["pod", "node", "phase", "container", "state", "ready", "restarts",
                                       "last_log_lines"])


def etcd_endpoints(rb, pods: list[dict] | None = None) -> list[str]:
    """The endpoints to ask: the parameter, else the static pods'."""
    given = rb.parameters.get("etcd_endpoints") or []
    return list(given) if given else endpoints_from_pods(pods if pods is not None else static_pods(rb))


def gather_kubeconfig(rb) -> pd.DataFrame:
    return _run(rb, KUBECONFIG_CMD)


def gather_apiserver(rb) -> pd.DataFrame:
    """The three API probes as one frame (``probe`` column: livez, readyz, pods).

    Not asked when the kubeconfig names no usable server (CP-001 says why): the
    API evidence is then missing, so CP-002..005 say NOT CHECKED, not OK.
    """
    view = gather_kubeconfig(rb)
    if not _server_usable(view):
        if APISERVER not in rb.missing_evidence:
            why = "the kubeconfig could not be read" if view.empty else "the kubeconfig names no usable server (CP-001)"
            _skip(rb, (APISERVER,), "API server", f"not asked: {why}")
        return pd.DataFrame(columns=["probe", *cpp.ANSWER_COLUMNS])
    frames = []
    for probe in API_PATHS:
        answer = _run(rb, apiserver_command(rb.parameters, probe))
        if len(answer):
            frames.append(answer.assign(probe=probe))
    if not frames:
        return pd.DataFrame(columns=["probe", *cpp.ANSWER_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["probe", *cpp.ANSWER_COLUMNS]]


def gather_etcd(rb, endpoints: list[str]) -> dict[str, pd.DataFrame]:
    """health, status (per endpoint), members, metrics; skipped rows when there is no endpoint."""
    if not endpoints:
        _skip(rb, (ETCD_HEALTH, ETCD_STATUS, ETCD_MEMBERS, ETCD_METRICS), "etcd",
              "no etcd endpoint: give -p etcd_endpoints URL[,URL] (no etcd static pod in the source names one)")
        return {"health": pd.DataFrame(columns=cpp.HEALTH_COLUMNS), "status": pd.DataFrame(columns=cpp.STATUS_COLUMNS),
                "members": pd.DataFrame(columns=cpp.MEMBER_COLUMNS), "metrics": pd.DataFrame(columns=cpp.METRIC_COLUMNS)}
    health, status = [], []
    for endpoint in endpoints:
        health.append(_run(rb, etcd_health_command(rb.parameters, endpoint)))
        status.append(_run(rb, etcd_status_command(rb.parameters, endpoint)))
    metrics = _run(rb, etcd_metrics_command(rb.parameters, endpoints))
    if ETCD_METRICS not in rb.missing_evidence:
        counted = leader_changes(metrics).dropna(subset=["changes"])
        unread = [e for e in endpoints if e not in set(counted["endpoint"])]
        if unread:
            (rb.missing_evidence if len(unread) == len(endpoints) else rb.incomplete_evidence).add(ETCD_METRICS)
            rb.note_unavailable("etcd leader changes", f"no etcd_server_leader_changes_seen_total in the second "
                                f"/metrics read of {', '.join(unread)}")
    return {"health": _concat(health, cpp.HEALTH_COLUMNS), "status": _concat(status, cpp.STATUS_COLUMNS),
            "members": _run(rb, etcd_members_command(rb.parameters, endpoints)), "metrics": metrics}


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    kept = [f for f in frames if len(f)]
    return pd.concat(kept, ignore_index=True)[columns] if kept else pd.DataFrame(columns=columns)


def data_dir(rb, pods: list[dict] | None = None) -> str:
    given = rb.parameters.get("etcd_data_dir")
    if given:
        return given
    for pod in pods or []:
        if _component(pod) == "etcd" and _flag(pod, "data-dir"):
            return _flag(pod, "data-dir") or ""
    return ""


def gather_fio(rb, directory: str) -> pd.DataFrame:
    """fio in ``directory``, then its test file removed (a second command, run whatever fio did)."""
    if not directory:
        _skip(rb, (FIO,), "fio fdatasync test", "no etcd data dir: give -p etcd_data_dir DIR (on the target)")
        return pd.DataFrame(columns=fio_parser.COLUMNS)
    try:
        return _run(rb, fio_command(rb.parameters, directory))
    finally:
        _run(rb, fio_cleanup_command(directory))


def fio_summary(rb, directory: str) -> dict:
    """fio's summary (p99, p99.9, count) of the run :func:`gather_fio` made; {} when none."""
    if not directory:
        return {}
    if FIO in rb.missing_evidence:
        return {}
    result = rb.node_result(_recorded(rb, fio_command(rb.parameters, directory)))
    try:
        return fio_parser.summary(result.stdout) if result is not None else {}
    except K8srunError as exc:  # ran, but printed no fdatasync latency: not measured is not fast
        rb.missing_evidence.add(FIO)
        rb.note_unavailable("fio fdatasync latency", str(exc))
        return {}


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes (cached in the session)."""
    pods = static_pods(rb)
    directory = data_dir(rb, pods)
    fsync = gather_fio(rb, directory)
    return {"view": gather_kubeconfig(rb), "answers": gather_apiserver(rb),
            **gather_etcd(rb, etcd_endpoints(rb, pods)), "fsync": fsync,
            "fsync_summary": fio_summary(rb, directory),
            "threshold": int(rb.parameters.get("leader_change_threshold", 1))}


# ------------------------------------------------------------------ tables

def kubeconfig_table(view: pd.DataFrame) -> pd.DataFrame:
    """field / value of the kubeconfig view (what kubectl will use)."""
    if view.empty:
        return pd.DataFrame(columns=["field", "value"])
    row = view.iloc[0]
    fields = ["file", "error", "current_context", "context", "contexts", "cluster", "user", "namespace", "server",
              "server_error", "ca", "ca_subject", "ca_not_after", "auth", "auth_detail", "client_cert_subject",
              "client_cert_not_after", "client_cert_expired", "client_cert_error"]
    return pd.DataFrame([{"field": f, "value": row[f]} for f in fields if row[f] is not None and row[f] == row[f]],
                        columns=["field", "value"])


def apiserver_table(answers: pd.DataFrame) -> pd.DataFrame:
    """probe, path, outcome, status, reason (the Status reason/message or the x509 reason)."""
    if answers.empty:
        return pd.DataFrame(columns=["probe", "path", "outcome", "status", "reason"])
    rows = []
    for a in answers.itertuples(index=False):
        reason = _text(a.status_message) or _text(a.x509) or _text(a.reason)
        rows.append({"probe": a.probe, "path": a.path, "outcome": a.outcome, "status": a.status, "reason": reason})
    return pd.DataFrame(rows)


def health_table(answers: pd.DataFrame) -> pd.DataFrame:
    """endpoint (livez/readyz), check, ok, detail — every check line of the verbose answers."""
    frames = []
    for a in answers.itertuples(index=False):
        if a.probe in ("livez", "readyz") and a.outcome == "answered" and a.status not in (401, 403):
            try:
                frames.append(cpp.health_checks(a.body or "").assign(endpoint=a.probe))
            except K8srunError:
                continue
    if not frames:
        return pd.DataFrame(columns=["endpoint", *cpp.CHECK_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["endpoint", *cpp.CHECK_COLUMNS]]


def leader_changes(metrics: pd.DataFrame) -> pd.DataFrame:
    """endpoint, first, second, restarted, changes (increase of the counter over the window)."""
    columns = ["endpoint", "first", "second", "restarted", "changes"]
    if metrics.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for endpoint, group in metrics.groupby("endpoint", sort=False):
        def value(name: str, read: int) -> float | None:
            found = group[(group["name"] == name) & (group["read"] == read)]["value"]
            return float(found.iloc[0]) if len(found) else None
        first = value("etcd_server_leader_changes_seen_total", 1)
        second = value("etcd_server_leader_changes_seen_total", 2)
        start1, start2 = value("process_start_time_seconds", 1), value("process_start_time_seconds", 2)
        restarted = (start1 is not None and start2 is not None and start1 != start2) or \
            (first is not None and second is not None and second < first)
        if second is None:
            changes = None
        elif first is None or restarted:  # what it has seen since it (re)started
            changes = second
        else:
            changes = second - first
        rows.append({"endpoint": endpoint, "first": first, "second": second, "restarted": bool(restarted),
                     "changes": changes})
    return pd.DataFrame(rows, columns=columns)


def quotas(metrics: pd.DataFrame) -> dict[str, float]:
    """endpoint -> etcd_server_quota_backend_bytes (the latest read)."""
    if metrics.empty:
        return {}
    found = metrics[metrics["name"] == "etcd_server_quota_backend_bytes"].sort_values("read")
    return {row.endpoint: float(row.value) for row in found.itertuples(index=False)}


def etcd_members_table(health: pd.DataFrame, status: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per endpoint: healthy, leader, raft term/index, db size, quota, used %, leader changes."""
    columns = ["endpoint", "healthy", "error", "member_id", "is_leader", "raft_term", "raft_index", "db_size",
               "quota", "used_pct", "leader_changes"]
    endpoints = list(dict.fromkeys([*health.get("endpoint", []), *status.get("endpoint", [])]))
    changes = leader_changes(metrics).set_index("endpoint")["changes"].to_dict() if len(metrics) else {}
    quota = quotas(metrics)
    rows = []
    for endpoint in endpoints:
        h = health[health["endpoint"] == endpoint]
        s = status[status["endpoint"] == endpoint]
        s_row = s.iloc[0] if len(s) else None
        db = s_row["db_size"] if s_row is not None else None
        limit = quota.get(endpoint)
        used = None if db is None or pd.isna(db) or not limit else round(100 * float(db) / limit, 1)
        errors = [e for e in [*(h["error"] if len(h) else []), *(s["error"] if len(s) else [])]
                  if isinstance(e, str) and e]
        rows.append({"endpoint": endpoint, "healthy": bool(len(h) and h["health"].all()),
                     "error": "; ".join(dict.fromkeys(errors)) or None,
                     "member_id": s_row["member_id"] if s_row is not None else None,
                     "is_leader": s_row["is_leader"] if s_row is not None else None,
                     "raft_term": s_row["raft_term"] if s_row is not None else None,
                     "raft_index": s_row["raft_index"] if s_row is not None else None,
                     "db_size": db, "quota": limit, "used_pct": used, "leader_changes": changes.get(endpoint)})
    return pd.DataFrame(rows, columns=columns)


def fsync_table(fsync: pd.DataFrame) -> pd.DataFrame:
    """The fdatasync percentiles of fio (ms), the 99th marked against the 10 ms limit."""
    if fsync.empty:
        return pd.DataFrame(columns=["percentile", "fsync_ms", "over_10ms"])
    rows = fsync.dropna(subset=["sync_ms"])
    return pd.DataFrame({"percentile": rows["percentile"], "fsync_ms": rows["sync_ms"].round(3),
                         "over_10ms": rows["sync_ms"] > FSYNC_P99_LIMIT_MS}).reset_index(drop=True)


def fsync_chart(fsync: pd.DataFrame, *, limit_ms: float = FSYNC_P99_LIMIT_MS) -> charts.Svg:
    """fdatasync latency by percentile (log scale), a dashed line at ``limit_ms``, the p99 marked."""
    table = fsync_table(fsync)
    width, height, left, right, top, bottom = 640, 280, 60, 20, 30, 40
    values = [v for v in table["fsync_ms"] if v and v > 0] or [limit_ms]
    low = 10 ** math.floor(math.log10(min(min(values), limit_ms)))
    high = 10 ** math.ceil(math.log10(max(max(values), limit_ms) * 1.01))
    y = charts.Scale(math.log10(low), math.log10(high), height - bottom, top)
    x = charts.Scale(0, max(len(table) - 1, 1), left, width - right)
    body = [charts.text(left, 16, "fio fdatasync latency by percentile (ms, log scale)", font_size=12)]
    decade = low
    while decade <= high * 1.0001:
        body.append(f"<line x1='{left}' x2='{width - right}' y1='{y(math.log10(decade))}' "
                    f"y2='{y(math.log10(decade))}' stroke='#eee'/>")
        body.append(charts.text(left - 6, y(math.log10(decade)) + 4, f"{decade:g}", anchor="end"))
        decade *= 10
    points = []
    for index, row in enumerate(table.itertuples(index=False)):
        value = max(row.fsync_ms, low)
        colour = "#d9480f" if row.over_10ms else "#2b8a3e"
        points.append(f"{x(index)},{y(math.log10(value))}")
        body.append(f"<g class='percentile' data-percentile='{row.percentile:g}' data-ms='{row.fsync_ms:g}'>"
                    + charts.marker("circle", x(index), y(math.log10(value)), colour, 3.5) + "</g>")
        if row.percentile in (50.0, 90.0, 99.0, 99.9) or index == len(table) - 1:
            body.append(charts.text(x(index), height - bottom + 14, f"p{row.percentile:g}", anchor="middle"))
    if points:
        body.insert(1, f"<polyline points='{' '.join(points)}' fill='none' stroke='#adb5bd'/>")
    limit_y = y(math.log10(limit_ms))
    body.append(f"<line class='limit' data-ms='{limit_ms:g}' x1='{left}' x2='{width - right}' y1='{limit_y}' "
                f"y2='{limit_y}' stroke='#b00020' stroke-dasharray='6 4'/>")
    body.append(charts.text(width - right, limit_y - 4, f"p99 limit {limit_ms:g} ms", anchor="end",
                            css="limit-label"))
    p99 = table[table["percentile"] == 99.0]
    if len(p99):
        value = float(p99["fsync_ms"].iloc[0])
        body.append(f"<g class='p99' data-ms='{value:g}'>"
                    + charts.text(x(int(p99.index[0])), y(math.log10(max(value, low))) - 8, f"p99 {value:g} ms",
                                  anchor="middle") + "</g>")
    return charts.document(width, height, "etcd disk: fdatasync latency",
                           "fio fdatasync latency percentiles with etcd's 10 ms p99 limit", body)


# ------------------------------------------------------------------ checks

def kubeconfig_unusable(view: pd.DataFrame) -> list[Finding]:
    """CP-001."""
    if view.empty:
        return []
    row = view.iloc[0]
    problem = _text(row["error"]) or _text(row["server_error"])
    if not problem:
        return []
    return [finding("CP-001", f"kubeconfig {row['file']}: {problem}",
                    {"file": row["file"], "context": row["context"], "contexts": row["contexts"],
                     "server": row["server"]})]


def _text(value: Any) -> str:
    """A cell as text; None / NaN / NA as ""."""
    if value is None or (not isinstance(value, (str, bool)) and pd.isna(value)):
        return ""
    return str(value)


def _server_usable(view: pd.DataFrame) -> bool:
    return not view.empty and not _text(view.iloc[0]["error"]) and not _text(view.iloc[0]["server_error"])


def apiserver_unreachable(view: pd.DataFrame, answers: pd.DataFrame) -> list[Finding]:
    """CP-002: the first probe that got no HTTP answer (not when CP-001 says there is no usable server)."""
    if answers.empty or not _server_usable(view):
        return []
    failed = answers[~answers["outcome"].isin(["answered", "no-config"])]
    if failed.empty:
        return []
    a = failed.iloc[0]
    kinds = {"dns-failure": "DNS lookup failed", "refused": "connection refused (nothing listens there)",
             "timeout": "timed out", "unreachable": "no route to the server", "tls-error": "TLS handshake failed",
             "connection-error": "connection failed"}
    detail = f"{a['server']}: {kinds.get(a['outcome'], a['outcome'])} — {a['reason']}"
    remedy = None
    if a["outcome"] == "tls-error":
        remedy = ("Check the kubeconfig's certificate-authority against the API server's serving certificate "
                  "(`openssl s_client -connect HOST:PORT -showcerts`), its expiry and SANs (`kubeadm certs check-expiration`).")
    return [finding("CP-002", detail, {"probes": answers[["probe", "outcome", "reason", "x509"]]}, remedy=remedy)]


def authentication_failed(view: pd.DataFrame, answers: pd.DataFrame) -> list[Finding]:
    """CP-003: a 401 answer, or an expired client certificate in the kubeconfig."""
    found = answers[answers["status"] == 401] if len(answers) else answers
    row = view.iloc[0] if len(view) else None
    expired = row is not None and _text(row["client_cert_expired"]) == "True"
    if found.empty and not expired:
        return []
    parts = []
    if len(found):
        a = found.iloc[0]
        parts.append(f"{a['server']} answered 401 {a['status_reason'] or 'Unauthorized'} to {a['path']} "
                     f"(auth {a['auth']})")
    if expired:
        parts.append(f"the kubeconfig's client certificate ({row['client_cert_subject']}) expired at "
                     f"{row['client_cert_not_after']}")
    return [finding("CP-003", "; ".join(parts), {"auth": row["auth"] if row is not None else None,
                                                 "client_cert_not_after": row["client_cert_not_after"] if row is not None else None,
                                                 "answers": found[["probe", "status", "status_reason"]] if len(found) else []})]


def forbidden(answers: pd.DataFrame) -> list[Finding]:
    """CP-004: a 403 answer (the Status message names user and verb)."""
    found = answers[answers["status"] == 403] if len(answers) else answers
    if found.empty:
        return []
    a = found.iloc[0]
    return [finding("CP-004", f"{a['path']}: 403 {a['status_message'] or a['status_reason'] or 'Forbidden'}",
                    {"answers": found[["probe", "status", "status_reason", "status_message"]]})]


def not_ready(answers: pd.DataFrame) -> list[Finding]:
    """CP-005: /readyz or /livez answered not-200 or with [-] checks; names the failing checks."""
    if answers.empty:
        return []
    checks = health_table(answers)
    failing = checks[~checks["ok"]] if len(checks) else checks
    judged = answers[answers["probe"].isin(["livez", "readyz"]) & (answers["outcome"] == "answered")
                     & ~answers["status"].isin([401, 403])]
    bad = judged[judged["status"] != 200]
    if failing.empty and bad.empty:
        return []
    names = list(dict.fromkeys(failing["check"])) if len(failing) else []
    endpoints = ", ".join(f"/{r.probe} {r.status}" for r in bad.itertuples(index=False)) or "answered 200"
    detail = (f"{endpoints}; failing checks: {', '.join(names)}" if names
              else f"{endpoints} without naming a failing check")
    remedy = None
    if any(n.startswith("etcd") for n in names):
        remedy = "The API server cannot use etcd: check the etcd members below (ETCD-001), its --etcd-servers and etcd client certificates."
    return [finding("CP-005", detail, {"failing": failing, "status": bad[["probe", "status"]]}, remedy=remedy)]


def member_down(health: pd.DataFrame, status: pd.DataFrame, members: pd.DataFrame) -> list[Finding]:
    """ETCD-001: unhealthy / unreachable endpoints, members never started."""
    table = etcd_members_table(health, status, pd.DataFrame(columns=cpp.METRIC_COLUMNS))
    bad = table[~table["healthy"] | table["error"].notna()] if len(table) else table
    unstarted = members[~members["started"]] if len(members) else members
    if bad.empty and unstarted.empty:
        return []
    parts = [f"{r.endpoint}: {r.error or 'unhealthy'}" for r in bad.itertuples(index=False)]
    parts += [f"member {r.member_id} ({r.peer_urls}) added but never started" for r in unstarted.itertuples(index=False)]
    return [finding("ETCD-001", "; ".join(parts), {"members": bad[["endpoint", "healthy", "error"]],
                                                   "unstarted": unstarted})]


def even_members(members: pd.DataFrame) -> list[Finding]:
    """ETCD-002: an even number of voting members."""
    voting = members[~members["is_learner"]] if len(members) else members
    if voting.empty or len(voting) % 2:
        return []
    count = len(voting)
    return [finding("ETCD-002", f"{count} voting members: quorum is {count // 2 + 1}, so the cluster survives "
                    f"{(count - 1) // 2} failure(s) — as many as {count - 1} members would",
                    {"members": voting[["member_id", "name", "peer_urls"]]})]


def leader_churn(metrics: pd.DataFrame, threshold: int = 1) -> list[Finding]:
    """ETCD-003: leader changes seen in the window above ``threshold`` (most of any member)."""
    changes = leader_changes(metrics).dropna(subset=["changes"])
    if changes.empty:
        return []
    worst = changes.sort_values("changes", ascending=False).iloc[0]
    if worst["changes"] <= threshold:
        return []
    window_s = metrics.attrs.get("window_s")
    restarted = list(changes[changes["restarted"]]["endpoint"])
    detail = (f"{worst['endpoint']} saw {worst['changes']:g} leader change(s) in {window_s:g} s "
              f"(threshold {threshold})" if isinstance(window_s, (int, float)) else
              f"{worst['endpoint']} saw {worst['changes']:g} leader change(s) (threshold {threshold})")
    if restarted:
        detail += f"; restarted during the window: {', '.join(restarted)}"
    return [finding("ETCD-003", detail, {"leader_changes": changes})]


def slow_disk(summary: dict) -> list[Finding]:
    """ETCD-004: fio fdatasync p99 above 10 ms."""
    p99 = summary.get("fsync_p99_ms")
    if p99 is None or p99 <= FSYNC_P99_LIMIT_MS:
        return []
    return [finding("ETCD-004", f"fdatasync p99 {p99:.2f} ms > {FSYNC_P99_LIMIT_MS:g} ms "
                    f"(p99.9 {summary.get('fsync_p99_9_ms') or 0:.2f} ms over {summary.get('fsyncs')} fsyncs)",
                    {k: summary.get(k) for k in ("fsync_p99_ms", "fsync_p99_9_ms", "fsync_max_ms", "fsyncs")})]


def db_near_quota(status: pd.DataFrame, metrics: pd.DataFrame) -> list[Finding]:
    """ETCD-005: db size at or above QUOTA_NEAR of the member's quota."""
    if status.empty:
        return []
    quota = quotas(metrics)
    rows = []
    for s in status.dropna(subset=["db_size"]).itertuples(index=False):
        limit = quota.get(s.endpoint, DEFAULT_QUOTA)
        if limit > 0 and int(s.db_size) >= QUOTA_NEAR * limit:
            rows.append({"endpoint": s.endpoint, "db_size": int(s.db_size), "quota": int(limit),
                         "used_pct": round(100 * int(s.db_size) / limit, 1),
                         "quota_from": "metrics" if s.endpoint in quota else "etcd default"})
    if not rows:
        return []
    detail = "; ".join(f"{r['endpoint']}: db {r['db_size'] / 2**20:.1f} MiB = {r['used_pct']}% of its "
                       f"{r['quota'] / 2**20:.0f} MiB quota" for r in rows)
    return [finding("ETCD-005", detail, {"members": rows})]


def diagnose(*, view: pd.DataFrame, answers: pd.DataFrame, health: pd.DataFrame, status: pd.DataFrame,
             members: pd.DataFrame, metrics: pd.DataFrame, fsync: pd.DataFrame, fsync_summary: dict,
             threshold: int = 1) -> list[Finding]:
    """Every CP/ETCD finding (empty frames give none; the session drops codes whose evidence is missing)."""
    return [*kubeconfig_unusable(view), *apiserver_unreachable(view, answers), *authentication_failed(view, answers),
            *forbidden(answers), *not_ready(answers), *member_down(health, status, members), *even_members(members),
            *leader_churn(metrics, threshold), *slow_disk(fsync_summary), *db_near_quota(status, metrics)]
