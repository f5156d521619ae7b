"""pod-crashloop: why a container restarts, errors or stays not Ready (CRASH-001..007).

Inputs are :mod:`k8srun.frames` DataFrames plus logs as
``{(pod, container): text or None}`` for the current and the previous run.

One container gets one "why it restarts" finding, decided in this order:
CRASH-005 (config error: it never starts), CRASH-001 (OOMKilled), CRASH-007
or CRASH-003 (killed by the liveness probe), CRASH-002 (exits non-zero by
itself). CRASH-002 is added beside CRASH-005/003/007 only when a recorded
exit was not a kubelet kill (0, 137, 143): then the app also failed on its own. Liveness kills are CRASH-007 when the container has no
startupProbe and was killed *during start* — the killed run lasted no longer
than the liveness budget (initialDelaySeconds + failureThreshold ×
periodSeconds) plus two periods, or the logs say start takes longer than
that budget — and CRASH-003 otherwise (it ran, then stopped answering).
CRASH-001/002 of an earlier run of a container that is running and Ready
now are warnings (a risk), not errors. CRASH-004 is only reported for a
container that is running but not Ready
(readiness failures of a crash-looping container are a symptom). Init
containers only give CRASH-006 (or CRASH-005).

``restart_table(containers)`` returns one row per container of interest:
namespace, pod, container, init, state, reason, exit_code, last_reason,
last_exit_code, restarts, ready, memory_limit, last_run_s.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import params
from ..frames import format_bytes
from ..model import Finding, about, finding
from ..registry import CLUSTER, NAMESPACE, POD, TIMEOUT, Parameter, Runbook
from . import event_rows, events_about, log_tail, read_events

RUNBOOK = Runbook(
    name="pod-crashloop",
    description="CrashLoopBackOff / Error / not Ready: OOM, exit codes, probes, config refs, init containers",
    scenario="pod-crashloop",
    parameters=(*CLUSTER, NAMESPACE, POD,
                Parameter("container", "", "empty means every container of those pods",
                          lambda n, v: params.dns1123_label(n, v, allow_empty=True)),
                Parameter("tail_lines", 200, "log lines to read per container",
                          params.line_count),
                TIMEOUT),
    triage=("pods-crashing",),
    namespace_default="all-but-scenario",
)

REQUIRES: dict[str, list[str]] = {
    "CRASH-001": ["pods"],
    "CRASH-002": ["pods"],
    "CRASH-003": ["pods", "events"],
    "CRASH-004": ["pods", "events"],
    "CRASH-005": ["pods"],
    "CRASH-006": ["pods"],
    "CRASH-007": ["pods", "events"],
}

LOG_TAIL_LINES = 20
EXIT_MEANINGS = {
    1: "application error", 2: "misuse of shell builtin / bad arguments",
    126: "command not executable (permission or not a binary)",
    127: "command not found (check command/args and the image)",
    128: "the runtime could not start the process", 137: "killed by SIGKILL",
    139: "segmentation fault (SIGSEGV)", 143: "terminated by SIGTERM",
}
_CONFIG_MISSING = re.compile(r'(?P<kind>configmap|secret) "(?P<name>[^"]+)" not found', re.I)
_KEY_MISSING = re.compile(r"couldn't find key (?P<key>\S+) in (?P<kind>ConfigMap|Secret) (?:(?P<ns>[^/\s]+)/)?(?P<name>\S+)")
_KILLING_LIVENESS = re.compile(r"Container (?P<container>\S+) failed liveness probe")
_START_TIME_IN_LOG = re.compile(
    r"(?:start(?:ed|ing|up)?|ready|warm(?:ed|ing)?(?: up)?|initiali[sz](?:ed|ation)|load(?:ed|ing))"
    r"\D{0,40}?(?:in|takes?|took|needs?|about|~)\s*~?(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|sec|secs|seconds|m|min|minutes)\b",
    re.I)


# ------------------------------------------------------------ which pods

#: pod STATUS values that are not, by themselves, a sign of a crash (pod-pending covers the waits)
_QUIET_STATUSES = {"Running", "Completed", "Succeeded", "Pending", "ContainerCreating", "PodInitializing",
                   "Terminating"}


def pods_of_interest(pods: pd.DataFrame, pod: str = "") -> pd.DataFrame:
    """The pod named ``pod``, or every pod with restarts, a waiting/terminated reason, a failed init container or not Ready."""
    if pod:
        return pods[pods["name"] == pod]
    initializing = pods["status"].str.match(r"^Init:\d+/\d+$")
    failing = ~pods["status"].isin(_QUIET_STATUSES) & ~initializing & (pods["phase"] != "Succeeded")
    not_ready = (pods["phase"] == "Running") & (pods["ready_count"] < pods["container_count"])
    return pods[(pods["restarts"] > 0) | failing | not_ready]


def _containers_of(containers: pd.DataFrame, pods: pd.DataFrame) -> pd.DataFrame:
    keys = set(zip(pods["namespace"], pods["name"]))
    mask = [key in keys for key in zip(containers["namespace"], containers["pod"])]
    return containers[pd.Series(mask, index=containers.index, dtype=bool)]


def _last_run_s(row: pd.Series) -> float | None:
    if pd.isna(row["last_started_at"]) or pd.isna(row["last_finished_at"]):
        return None
    return (row["last_finished_at"] - row["last_started_at"]).total_seconds()


def restart_table(containers: pd.DataFrame) -> pd.DataFrame:
    """Restart-relevant columns of the containers, plus the length of the last terminated run."""
    table = containers[["namespace", "pod", "container", "init", "state", "reason", "exit_code",
                        "last_reason", "last_exit_code", "restarts", "ready", "memory_limit"]].copy()
    table["last_run_s"] = [_last_run_s(r) for _, r in containers.iterrows()]
    return table


def _name(row: pd.Series) -> str:
    return f"container {row['container']} of {row['namespace']}/{row['pod']}"


def _status_row(row: pd.Series) -> dict:
    keep = ("container", "state", "reason", "message", "exit_code", "last_state", "last_reason",
            "last_exit_code", "last_started_at", "last_finished_at", "restarts", "ready")
    return {k: (None if not isinstance(row[k], (list, dict)) and pd.isna(row[k]) else row[k]) for k in keep}


def _terminations(row: pd.Series) -> list[tuple[str, int, str]]:
    """(reason, exit code, message) of the current and last terminated state."""
    out = []
    if row["state"] == "terminated" and not pd.isna(row["exit_code"]):
        out.append((row["reason"], int(row["exit_code"]), row["message"]))
    if row["last_state"] == "terminated" and not pd.isna(row["last_exit_code"]):
        out.append((row["last_reason"], int(row["last_exit_code"]), row["last_message"]))
    return out


def _past_severity(row: pd.Series) -> str | None:
    """A crash of an earlier run of a container that is now running and Ready is a risk, not the failure."""
    return "warning" if row["state"] == "running" and row["ready"] else None


def _recovered(row: pd.Series) -> str:
    return " (an earlier run; it is running and Ready now)" if _past_severity(row) else ""


def _logs(logs: dict | None, row: pd.Series) -> str | None:
    return (logs or {}).get((row["pod"], row["container"]))


# ------------------------------------------------------------ CRASH-001

def oom_killed(row: pd.Series, previous_logs: dict | None = None) -> list[Finding]:
    """CRASH-001: the container (last) terminated with reason OOMKilled."""
    ooms = [t for t in _terminations(row) if t[0] == "OOMKilled"]
    if row["init"] or not ooms:
        return []
    limit = format_bytes(row["memory_limit"]) if not pd.isna(row["memory_limit"]) else "none (node memory)"
    detail = (f"{_name(row)} OOMKilled (exit {ooms[0][1]}) with memory limit {limit}; "
              f"{row['restarts']} restarts")
    evidence = {"container_status": _status_row(row), "memory_limit_bytes": row["memory_limit"],
                "previous_log_tail": log_tail(_logs(previous_logs, row), 5)}
    return [finding("CRASH-001", detail + _recovered(row), evidence, severity=_past_severity(row))]


# ------------------------------------------------------------ CRASH-002

def nonzero_exit(row: pd.Series, previous_logs: dict | None = None, current_logs: dict | None = None) -> list[Finding]:
    """CRASH-002: the container exits non-zero by itself (incl. StartError/ContainerCannotRun/RunContainerError)."""
    if row["init"]:
        return []
    failures = [t for t in _terminations(row) if t[1] != 0 and t[0] != "OOMKilled"]
    if row["state"] == "waiting" and row["reason"] == "RunContainerError":
        failures.append(("RunContainerError", 128, row["message"]))
    if not failures:
        return []
    reason, code, message = failures[0]
    meaning = EXIT_MEANINGS.get(code, "")
    logs = _logs(previous_logs, row) or (_logs(current_logs, row) if row["state"] == "terminated" else None)
    tail = log_tail(logs, LOG_TAIL_LINES)
    detail = f"{_name(row)} exits with code {code} ({reason or 'Error'}"
    detail += f": {meaning})" if meaning else ")"
    detail += f"; {row['restarts']} restarts"
    if message and message.strip():
        detail += f"; runtime says: {message.strip().splitlines()[-1][:200]}"
    elif tail:
        detail += f"; last log line: {tail[-1][:200]}"
    evidence = {"container_status": _status_row(row), "previous_log_tail": tail}
    return [finding("CRASH-002", detail + _recovered(row), evidence, severity=_past_severity(row))]


# ------------------------------------------------------- probes (003/004/007)

def _probe_events(events: pd.DataFrame | None, row: pd.Series, containers_with_probe: list[str],
                  probe: str) -> pd.DataFrame:
    """Unhealthy "<probe> probe failed" events of the pod attributable to this container."""
    pod_events = events_about(events, row["namespace"], "Pod", row["pod"])
    if pod_events.empty or row["container"] not in containers_with_probe:
        return pod_events.iloc[0:0] if not pod_events.empty else pod_events
    unhealthy = pod_events[(pod_events["reason"] == "Unhealthy")
                           & pod_events["message"].str.startswith(f"{probe} probe failed")]
    if len(containers_with_probe) > 1 and probe == "Liveness":
        killed = _liveness_kills(events, row)
        if killed.empty:
            return unhealthy.iloc[0:0]
    return unhealthy


def _liveness_kills(events: pd.DataFrame | None, row: pd.Series) -> pd.DataFrame:
    pod_events = events_about(events, row["namespace"], "Pod", row["pod"])
    if pod_events.empty:
        return pod_events
    names = pod_events["message"].str.extract(_KILLING_LIVENESS)["container"]
    return pod_events[(pod_events["reason"] == "Killing") & (names == row["container"])]


def liveness_budget_s(probe: dict) -> float:
    """Seconds a container has before liveness can kill it: initialDelay + failureThreshold × period."""
    return (float(probe.get("initialDelaySeconds") or 0)
            + float(probe.get("failureThreshold") or 3) * float(probe.get("periodSeconds") or 10))


def startup_time_in_logs(text: str | None) -> float | None:
    """The largest start-up duration the logs state ("warming cache, takes ~90s"), in seconds."""
    found = []
    for match in _START_TIME_IN_LOG.finditer(text or ""):
        value = float(match["n"])
        found.append(value * 60 if match["unit"].lower().startswith("m") else value)
    return max(found) if found else None


def _liveness_killed(row: pd.Series, events: pd.DataFrame | None, siblings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    with_liveness = siblings[siblings["liveness"].apply(bool)]["container"].tolist()
    unhealthy = _probe_events(events, row, with_liveness, "Liveness")
    kills = _liveness_kills(events, row)
    if unhealthy.empty or (kills.empty and row["restarts"] == 0):
        return unhealthy.iloc[0:0], kills
    return unhealthy, kills


def _killed_during_start(row: pd.Series, previous_logs: dict | None, current_logs: dict | None) -> tuple[bool, str]:
    """(True, why) when a liveness-killed container never got through start-up in time."""
    if row["startup"]:
        return False, ""
    probe = row["liveness"] or {}
    budget = liveness_budget_s(probe)
    period = float(probe.get("periodSeconds") or 10)
    needs = startup_time_in_logs((_logs(previous_logs, row) or "") + "\n" + (_logs(current_logs, row) or ""))
    if needs is not None and needs > budget:
        return True, f"the logs say start-up takes {needs:g}s but liveness allows {budget:g}s"
    run = _last_run_s(row)
    if run is not None and run <= budget + 2 * period:
        return True, (f"the last run lasted {run:g}s, killed as soon as liveness allows "
                      f"({budget:g}s = initialDelaySeconds + failureThreshold × periodSeconds)")
    return False, ""


def liveness_failures(row: pd.Series, events: pd.DataFrame | None, siblings: pd.DataFrame,
                      previous_logs: dict | None = None, current_logs: dict | None = None) -> list[Finding]:
    """CRASH-003 / CRASH-007: Unhealthy "Liveness probe failed" + restarts (see module doc for which)."""
    if row["init"] or not row["liveness"]:
        return []
    unhealthy, kills = _liveness_killed(row, events, siblings)
    if unhealthy.empty:
        return []
    failures = int(unhealthy["count"].sum())
    probe_said = unhealthy.iloc[-1]["message"].split(":", 1)[-1].strip()
    during_start, why = _killed_during_start(row, previous_logs, current_logs)
    evidence = {"container_status": _status_row(row), "liveness_probe": row["liveness"],
                "startup_probe": row["startup"], "events": event_rows(pd.concat([unhealthy, kills])
                                                                      .sort_values("last_seen"), 3),
                "previous_log_tail": log_tail(_logs(previous_logs, row), 5)}
    if during_start:
        detail = (f"{_name(row)} is killed by its liveness probe while starting: {why}; "
                  f"no startupProbe; {row['restarts']} restarts, {failures} liveness failures ({probe_said})")
        return [finding("CRASH-007", detail, evidence)]
    detail = (f"{_name(row)} liveness probe failed {failures} times ({probe_said}); "
              f"kubelet restarted it, {row['restarts']} restarts")
    return [finding("CRASH-003", detail, evidence)]


def readiness_failures(row: pd.Series, events: pd.DataFrame | None, siblings: pd.DataFrame,
                       endpoints: pd.DataFrame | None = None) -> list[Finding]:
    """CRASH-004: a running container is not Ready and its readiness probe fails."""
    if row["init"] or not row["readiness"] or row["ready"] or row["state"] != "running":
        return []
    with_readiness = siblings[siblings["readiness"].apply(bool)]["container"].tolist()
    unhealthy = _probe_events(events, row, with_readiness, "Readiness")
    if unhealthy.empty:
        return []
    failures = int(unhealthy["count"].sum())
    probe_said = unhealthy.iloc[-1]["message"].split(":", 1)[-1].strip()
    detail = (f"{_name(row)} is not Ready: readiness probe failed {failures} times ({probe_said}); "
              f"the pod is out of its Services' ready endpoints")
    evidence = {"container_status": _status_row(row), "readiness_probe": row["readiness"],
                "events": event_rows(unhealthy, 2)}
    if endpoints is not None and not endpoints.empty:
        mine = endpoints[(endpoints["namespace"] == row["namespace"]) & (endpoints["target_name"] == row["pod"])]
        if not mine.empty:
            evidence["endpoints"] = mine[["service", "ip", "port", "ready"]]
            services = sorted(set(mine["service"]))
            detail = detail.replace("its Services' ready endpoints", f"the ready endpoints of {', '.join(services)}")
    return [finding("CRASH-004", detail, evidence)]


# ------------------------------------------------------------ CRASH-005

def config_errors(row: pd.Series, events: pd.DataFrame | None = None) -> list[Finding]:
    """CRASH-005: CreateContainerConfigError, naming the missing ConfigMap/Secret or key."""
    if row["state"] != "waiting" or row["reason"] != "CreateContainerConfigError":
        return []
    pod_events = events_about(events, row["namespace"], "Pod", row["pod"])
    failed = pod_events[(pod_events["reason"] == "Failed") & (pod_events["type"] == "Warning")] \
        if not pod_events.empty else pod_events
    text = row["message"] or (failed.iloc[-1]["message"] if not failed.empty else "")
    refs = list(row["config_refs"] or [])
    key = _KEY_MISSING.search(text)
    missing = _CONFIG_MISSING.search(text)
    if key:
        what = f"key {key['key']} of {key['kind']} {key['name']}"
        used = [r for r in refs if r["kind"] == key["kind"] and r["name"] == key["name"] and r["key"] == key["key"]]
    elif missing:
        kind = "ConfigMap" if missing["kind"].lower() == "configmap" else "Secret"
        what = f"{kind} {missing['name']}"
        used = [r for r in refs if r["kind"] == kind and r["name"] == missing["name"]]
    else:
        what, used = "a referenced ConfigMap/Secret", []
    via = f" (referenced by {', '.join(r['via'] for r in used)})" if used else ""
    which = "init container" if row["init"] else "container"
    detail = (f"{which} {row['container']} of {row['namespace']}/{row['pod']} cannot be created: "
              f"{what} is missing{via} — \"{text}\"")
    evidence = {"container_status": _status_row(row), "config_refs": used or refs}
    if not failed.empty:
        evidence["events"] = event_rows(failed, 1)
    return [finding("CRASH-005", detail, evidence)]


# ------------------------------------------------------------ CRASH-006

def init_failures(row: pd.Series, previous_logs: dict | None = None, current_logs: dict | None = None,
                  app_containers: list[str] | None = None) -> list[Finding]:
    """CRASH-006: an init container exits non-zero (or crash-loops), so app containers never start."""
    if not row["init"]:
        return []
    failures = [t for t in _terminations(row) if t[1] != 0]
    backing_off = row["state"] == "waiting" and row["reason"] == "CrashLoopBackOff"
    if not failures and not backing_off:
        return []
    reason, code, _ = failures[0] if failures else ("CrashLoopBackOff", None, "")
    logs = _logs(previous_logs, row) or _logs(current_logs, row)
    tail = log_tail(logs, LOG_TAIL_LINES)
    meaning = EXIT_MEANINGS.get(code, "") if code is not None else ""
    detail = (f"init container {row['container']} of {row['namespace']}/{row['pod']} fails "
              f"(exit {code if code is not None else '?'}, {reason}{': ' + meaning if meaning else ''}; "
              f"{row['restarts']} restarts), so the app containers ({', '.join(app_containers or [])}) never start")
    if tail:
        detail += f"; last log line: {tail[-1][:200]}"
    evidence = {"container_status": _status_row(row), "previous_log_tail": tail}
    return [finding("CRASH-006", detail, evidence)]


# -------------------------------------------------------------- diagnose

def events_of_interest(rb, pod: str = "") -> pd.DataFrame:
    """The named pod's events (field-selected on a live cluster), else the namespace's."""
    return read_events(rb, [("Pod", pod)] if pod else [])


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb`` (cached there)."""
    pod, container = rb.parameters.get("pod", ""), rb.parameters.get("container", "")
    tail = rb.parameters.get("tail_lines")
    suspects = pods_of_interest(rb.pods(), pod)
    containers = rb.containers()
    containers = containers[containers["pod"].isin(suspects["name"])]
    if container:
        containers = containers[containers["container"] == container]
    return {"pods": suspects, "containers": containers, "events": events_of_interest(rb, pod),
            "previous_logs": rb.container_logs(containers, previous=True, tail_lines=tail),
            "current_logs": rb.container_logs(containers, previous=False, tail_lines=tail),
            "endpoints": rb.endpoints(), "pod": pod, "container": container}


def diagnose(*, pods: pd.DataFrame, containers: pd.DataFrame, events: pd.DataFrame | None,
             previous_logs: dict | None, current_logs: dict | None, endpoints: pd.DataFrame | None = None,
             pod: str = "", container: str = "") -> list[Finding]:
    """Every CRASH finding for ``pod``/``container`` (or every pod of interest); one restart cause per container."""
    interesting = pods_of_interest(pods, pod)
    rows = _containers_of(containers, interesting)
    findings: list[Finding] = []
    for (namespace, pod_name), siblings in rows.groupby(["namespace", "pod"], sort=False):
        app = siblings[~siblings["init"]]["container"].tolist()
        for _, row in siblings.iterrows():
            if container and row["container"] != container:
                continue
            if row["init"]:
                found = config_errors(row, events) or init_failures(row, previous_logs, current_logs, app)
            else:
                found = (config_errors(row, events) or oom_killed(row, previous_logs)
                         or liveness_failures(row, events, siblings, previous_logs, current_logs))
                if not found or not _killed_cleanly(row):
                    found += [f for f in nonzero_exit(row, previous_logs, current_logs)
                              if not any(x.code == "CRASH-001" for x in found)]
                found += readiness_failures(row, events, siblings, endpoints)
            findings += about(f"pod {namespace}/{pod_name}", found)
    return findings


def subjects(*, pods: pd.DataFrame, pod: str = "", **_: object) -> list[str]:
    """Every pod this runbook looks at (each gets a verdict in the summary)."""
    looked_at = pods_of_interest(pods, pod)
    return [f"pod {ns}/{name}" for ns, name in zip(looked_at["namespace"], looked_at["name"])]


def _killed_cleanly(row: pd.Series) -> bool:
    """Whether the last exit looks like a kubelet kill (0, 137 SIGKILL, 143 SIGTERM) rather than a crash."""
    codes = {t[1] for t in _terminations(row)}
    return codes <= {0, 137, 143}
