"""Object shapes and stable values: times, uids, names, containers, probes, runs.

Everything here is a pure function of its arguments (no cluster state), so
two builds give the same bytes:

- times: :data:`CAPTURED_AT` (2026-11-20T14:05:00Z) is "now"; :func:`when`
  (``ago`` seconds -> RFC 3339) and :func:`when_micro` (MicroTime) place
  things before it; :data:`MIN`, :data:`HOUR`, :data:`DAY` are seconds;
- ids: :func:`stable_hex` (container ids, digests), :func:`stable_uid` (a
  UUID v4 shape), :func:`name_suffix` (``-x2k4q`` in the API server's
  alphabet), all derived from sha256 of their parts;
- spec: :func:`container` / :func:`web_container` return a defaulted
  core/v1 Container dict, :func:`http_probe` a Probe, ``env_*`` EnvVars;
- runs: a :class:`Run` is the observed status of one container (state,
  lastState, readiness, restarts, current and previous log text); make one
  with :func:`up` (running), :func:`stuck` (waiting) and :func:`exited`
  (a terminated ``lastState``); :func:`log_lines` / :func:`app_log` write
  timestamped log text;
- :class:`Workload` ties a workload object to the pod template and owner
  reference its pods get (see :mod:`scenariokit.cluster`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

CAPTURED_AT = dt.datetime(2026, 11, 20, 14, 5, 0, tzinfo=dt.timezone.utc)
MIN, HOUR, DAY = 60, 3600, 86400
K8S_VERSION = "v1.30.4"

# Go struct field order, so the JSON reads like kubectl's output
POD_SPEC_ORDER = (
    "volumes", "initContainers", "containers", "restartPolicy", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount",
    "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "securityContext",
    "imagePullSecrets", "hostname", "subdomain", "affinity", "schedulerName", "tolerations",
    "priorityClassName", "priority", "dnsConfig", "enableServiceLinks", "preemptionPolicy")
CONTAINER_ORDER = (
    "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources",
    "volumeMounts", "livenessProbe", "readinessProbe", "startupProbe", "terminationMessagePath",
    "terminationMessagePolicy", "imagePullPolicy", "securityContext")

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery rand.String alphabet


# ---------------------------------------------------------------- stable values

def digest(*parts: object) -> bytes:
    """sha256 of ``parts`` joined by a unit separator: the seed of every stable value."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def stable_hex(*parts: object, length: int = 64) -> str:
    """Hex string derived from ``parts`` (container ids, image digests)."""
    out = ""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(digest(counter, *parts)).hexdigest()
        counter += 1
    return out[:length]


def stable_uid(*parts: object) -> str:
    """A version-4-shaped UUID derived from ``parts``."""
    h = stable_hex("uid", *parts, length=32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


def name_suffix(*parts: object, length: int = 5) -> str:
    """A generated-name suffix (``-x2k4q``) in the API server's alphabet."""
    return "".join(SUFFIX_ALPHABET[b % len(SUFFIX_ALPHABET)] for b in digest("suffix", *parts)[:length])


def when(ago_s: float) -> str:
    """RFC 3339 time ``ago_s`` seconds before capture (metav1.Time, seconds)."""
    return (CAPTURED_AT - dt.timedelta(seconds=ago_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def when_micro(ago_s: float, *parts: object) -> str:
    """metav1.MicroTime ``ago_s`` before capture, with stable microseconds."""
    micros = int.from_bytes(digest("micro", ago_s, *parts)[:4], "big") % 1_000_000
    moment = CAPTURED_AT - dt.timedelta(seconds=ago_s) + dt.timedelta(microseconds=micros)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def omitempty(**fields: object) -> dict:
    """``fields`` in order, without the empty ones (None, False, 0, "", [], {}): Go's ``omitempty``."""
    return {key: value for key, value in fields.items() if value}


def ordered(mapping: dict, order: tuple[str, ...]) -> dict:
    """``mapping`` with keys in ``order`` (unknown keys last, in insertion order)."""
    out = {k: mapping[k] for k in order if k in mapping}
    out.update((k, v) for k, v in mapping.items() if k not in out)
    return out


def normalized_image(image: str) -> str:
    """``busybox:1.36`` -> ``docker.io/library/busybox:1.36`` (what containerd reports)."""
    first = image.split("/", 1)[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{image}"
    return image


def image_id(image: str) -> str:
    """``repo@sha256:...`` as containerd reports imageID."""
    repo = normalized_image(image).rsplit(":", 1)[0]
    return f"{repo}@sha256:{stable_hex('image', image)}"


# ---------------------------------------------------------------- spec helpers

def http_probe(path: str, port: int | str, *, initial: int = 0, period: int = 10, timeout: int = 1,
               failure: int = 3, host: str | None = None, scheme: str = "HTTP") -> dict:
    """A Probe with httpGet, defaults filled in as the API server does."""
    get = {"path": path, "port": port}
    if host:
        get["host"] = host
    get["scheme"] = scheme
    probe = {"httpGet": get}
    if initial:
        probe["initialDelaySeconds"] = initial
    probe.update(timeoutSeconds=timeout, periodSeconds=period, successThreshold=1,
                 failureThreshold=failure)
    return probe


def container(name: str, image: str, *, ports: tuple = (), requests: dict | None = None,
              limits: dict | None = None, command: list | None = None, args: list | None = None,
              env: list | None = None, env_from: list | None = None, liveness: dict | None = None,
              readiness: dict | None = None, startup: dict | None = None, mounts: list | None = None,
              security: dict | None = None, pull_policy: str | None = None) -> dict:
    """A defaulted core/v1 Container; ``ports`` are (name, port[, protocol]) tuples."""
    ports = [{"name": p[0], "containerPort": p[1], "protocol": p[2] if len(p) > 2 else "TCP"} for p in ports]
    return {"name": name, "image": image,
            **omitempty(command=command, args=args, ports=ports, envFrom=env_from, env=env),
            "resources": omitempty(limits=limits, requests=requests),
            **omitempty(volumeMounts=mounts, livenessProbe=liveness, readinessProbe=readiness, startupProbe=startup),
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "imagePullPolicy": pull_policy or ("Always" if image.endswith(":latest") else "IfNotPresent"),
            **omitempty(securityContext=security)}


def web_container(name: str, image: str, *, port: int = 8080, cpu: str = "100m", memory: str = "128Mi",
                  memory_limit: str | None = None, **extra) -> dict:
    """A typical HTTP service container with readiness and liveness probes."""
    extra.setdefault("readiness", http_probe("/ready", "http", period=5))
    extra.setdefault("liveness", http_probe("/healthz", "http", initial=15))
    return container(name, image, ports=(("http", port),), requests={"cpu": cpu, "memory": memory},
                     limits={"memory": memory_limit or memory}, **extra)


def env_value(name: str, value: str) -> dict:
    """An EnvVar with a literal value."""
    return {"name": name, "value": value}


def env_secret(name: str, secret: str, key: str) -> dict:
    """An EnvVar from a Secret key (the value itself is never in a bundle)."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def env_field(name: str, path: str) -> dict:
    """An EnvVar from the downward API (``fieldRef``)."""
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
]
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


# ---------------------------------------------------------------- container runs

@dataclass
class Run:
    """The observed status of one container: state, previous state, readiness."""

    state: dict
    last: dict | None = None
    ready: bool = False
    restarts: int = 0
    log: str | None = None           # current log text (None: derived from the state)
    previous_log: str = ""           # ``kubectl logs --previous`` text when ``last`` is set


def up(started_ago: float, *, ready: bool = True, restarts: int = 0, last: dict | None = None,
       log: str | None = None, previous_log: str = "") -> Run:
    """A running container."""
    return Run({"running": {"startedAt": when(started_ago)}}, last, ready, restarts, log, previous_log)


def stuck(reason: str, message: str | None = None, *, restarts: int = 0, last: dict | None = None,
          previous_log: str = "") -> Run:
    """A waiting container (``message`` None for CrashLoopBackOff: filled in per pod)."""
    waiting = {"reason": reason}
    if message:
        waiting["message"] = message
    return Run({"waiting": waiting}, last, False, restarts, None, previous_log)


def exited(code: int, reason: str, started_ago: float | None, finished_ago: float,
           message: str | None = None) -> dict:
    """A terminated state (used as ``lastState``); ``started_ago`` None: never started (epoch)."""
    term = {"exitCode": code, "reason": reason}
    if message:
        term["message"] = message
    term.update(startedAt=when(started_ago) if started_ago is not None else "1970-01-01T00:00:00Z",
                finishedAt=when(finished_ago))
    return {"terminated": term}


def log_lines(start_ago: float, *lines: tuple[float, str], fmt: str = "iso") -> str:
    """Log text: (seconds after ``start_ago``, message) pairs with timestamps."""
    out = []
    for offset, text in lines:
        moment = CAPTURED_AT - dt.timedelta(seconds=start_ago - offset)
        stamp = {"iso": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(offset * 1000) % 1000:03d}Z",
                 "py": moment.strftime("%Y-%m-%d %H:%M:%S") + f",{int(offset * 1000) % 1000:03d}",
                 "none": ""}[fmt]
        out.append(f"{stamp} {text}" if stamp else text)
    return "\n".join(out) + "\n"

def app_log(start_ago: float, name: str, version: str, port: int, *extra: tuple[float, str]) -> str:
    """A few JSON-ish startup lines of a healthy service."""
    return log_lines(start_ago, (0.0, f"INFO  starting {name} version={version}"),
                     (0.4, "INFO  config loaded from environment"),
                     (0.9, f"INFO  listening on :{port}"), *extra)


# ---------------------------------------------------------------- workloads and pods

@dataclass
class Workload:
    """A Deployment/StatefulSet/Job/DaemonSet and the pod template its pods come from."""

    kind: str
    obj: dict
    template: dict
    pod_owner: dict
    replica_set: dict | None = None
    pods: list = field(default_factory=list)


def tolerates_no_execute(tolerations: list, key: str) -> bool:
    """Whether DefaultTolerationSeconds admission sees ``key``:NoExecute as already tolerated."""
    return any((t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
               and t.get("effect", "") in ("NoExecute", "") for t in tolerations)


def qos_class(containers: list) -> str:
    """The pod QoS class (BestEffort, Burstable, Guaranteed) of its ``containers``."""
    resources = [c.get("resources", {}) for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        all(r.get("limits", {}).get(k) and r.get("limits", {}).get(k) == r.get("requests", r.get("limits", {})).get(k)
            for k in ("cpu", "memory")) for r in resources)
    return "Guaranteed" if guaranteed else "Burstable"


def condition(pod: dict, kind: str) -> dict | None:
    """The pod's status condition of type ``kind``, or None."""
    return next((c for c in pod["status"].get("conditions", []) if c["type"] == kind), None)


def pod_ready(pod: dict) -> bool:
    """Whether the pod's Ready condition is True."""
    cond = condition(pod, "Ready")
    return bool(cond and cond["status"] == "True")


def age_of(timestamp: str) -> float:
    """Seconds between an RFC 3339 ``timestamp`` and the capture time."""
    return (CAPTURED_AT - dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))).total_seconds()
