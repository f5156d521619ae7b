"""Kubernetes API objects for tests, in the JSON form ``kubectl get -o json`` prints (camelCase).

Every builder takes keyword arguments with defaults that describe one small healthy
cluster: pod ``web-0`` (label ``app=web``, container ``app`` listening on 8080) in
namespace ``shop`` on node ``worker-1``, Service ``web`` selecting it, its Endpoints,
all observed at :data:`NOW`. Pass only what a test is about. Every call returns a
fresh object (arguments are copied), so a test may edit what it gets.

``pod`` derives what the API server and kubelet would add (container statuses from
``phase``/``state``, conditions, qosClass, podIP, the default not-ready/unreachable
tolerations); pass ``statuses=``, ``conditions=`` or ``tolerations=`` to say them yourself.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib

CREATED = "2024-05-14T09:00:00Z"  #: default creationTimestamp
STARTED = "2024-05-14T09:58:00Z"  #: default startedAt of a running container
NOW = "2024-05-14T10:00:00Z"  #: default lastTimestamp of events and node heartbeat
LAST_RUN = ("2024-05-14T09:55:00Z", "2024-05-14T09:56:10Z")  #: default startedAt/finishedAt of a terminated run
REQUESTS = {"cpu": "100m", "memory": "128Mi"}  #: default resources.requests of a container
POD_IP = "10.244.1.7"  #: default podIP, and the ready address of the default Endpoints

_CLUSTER_SCOPED = {"Node", "Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding"}
_API_VERSION = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
                "Job": "batch/v1", "CronJob": "batch/v1"}
_DEFAULT_TOLERATIONS = [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 300} for taint in ("not-ready", "unreachable")]


def _hex(*parts: object, length: int = 64) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:length]


def _uid(namespace: str | None, name: str) -> str:
    return f"uid-{namespace or 'cluster'}-{name}"


def _image(container_name: str) -> str:
    return f"registry.example.com/{container_name}:1.4.2"


def _micro(stamp: str) -> str:
    return stamp if "." in stamp else stamp.replace("Z", ".000000Z")


def _copy(value):
    return copy.deepcopy(value) if value is not None else None


def meta(name: str, namespace: str | None = None, *, labels: dict | None = None, uid: str | None = None,
         created: str = CREATED) -> dict:
    """metadata: name, namespace (None: cluster-scoped), uid, resourceVersion, creationTimestamp, labels."""
    body = {"name": name}
    if namespace:
        body["namespace"] = namespace
    body.update(uid=uid or _uid(namespace, name), resourceVersion="100", creationTimestamp=created)
    if labels:
        body["labels"] = dict(labels)
    return body


def k8s_list(kind: str, items: list[dict], api_version: str = "v1") -> dict:
    """A typed list (``PodList``...) as the API server returns it: its items carry no kind/apiVersion."""
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "100"},
            "items": [{k: v for k, v in copy.deepcopy(item).items() if k not in ("kind", "apiVersion")}
                      for item in items]}


# ----------------------------------------------------------------- containers

def running(started: str = STARTED) -> dict:
    """A container state: running since ``started``."""
    return {"running": {"startedAt": started}}


def waiting(reason: str = "ContainerCreating", message: str = "") -> dict:
    """A container state: waiting, with kubelet's reason (CrashLoopBackOff, ImagePullBackOff...) and message."""
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


def terminated(exit_code: int = 0, reason: str | None = None, *, message: str | None = None,
               started: str = LAST_RUN[0], finished: str = LAST_RUN[1]) -> dict:
    """A container state: terminated; reason defaults to Completed (exit 0) or Error, "" leaves it out."""
    if reason is None:
        reason = "Completed" if exit_code == 0 else "Error"
    body = {"exitCode": exit_code, **({"reason": reason} if reason else {})}
    if message is not None:
        body["message"] = message
    body.update(startedAt=started, finishedAt=finished, containerID=f"containerd://{_hex(exit_code, started)}")
    return {"terminated": body}


def backoff(container: str = "app", pod: str = "web-0", namespace: str = "shop") -> dict:
    """A container state: waiting in CrashLoopBackOff with kubelet's back-off message."""
    return waiting("CrashLoopBackOff", f"back-off 5m0s restarting failed container={container} "
                                       f"pod={pod}_{namespace}({_uid(namespace, pod)})")


def container(name: str = "app", *, image: str | None = None, requests: dict | None = REQUESTS,
              limits: dict | None = None, ports: tuple[int, ...] = (8080,), liveness: dict | None = None,
              readiness: dict | None = None, startup: dict | None = None, env: list | None = None,
              env_from: list | None = None, command: list | None = None, restart_policy: str | None = None,
              pull_policy: str = "IfNotPresent") -> dict:
    """A container of a pod spec: requests/limits are {resource: quantity} (None: none), probes as in the API."""
    body = {"name": name, "image": image or _image(name), "imagePullPolicy": pull_policy}
    optional = {"command": command, "env": env, "envFrom": env_from, "livenessProbe": liveness,
                "readinessProbe": readiness, "startupProbe": startup, "restartPolicy": restart_policy,
                "ports": [{"containerPort": port, "protocol": "TCP"} for port in ports]}
    body.update({key: _copy(value) for key, value in optional.items() if value})
    body["resources"] = {key: dict(value) for key, value in (("requests", requests), ("limits", limits)) if value}
    body.update(terminationMessagePath="/dev/termination-log", terminationMessagePolicy="File")
    return body


def container_status(name: str = "app", state: dict | None = None, *, ready: bool | None = None,
                     started: bool | None = None, restarts: int = 0, last: dict | None = None,
                     image: str | None = None) -> dict:
    """A containerStatuses entry: state (default running()), lastState; ready/started default to "is running"."""
    state = _copy(state) if state is not None else running()
    is_running = "running" in state
    image = image or _image(name)
    body = {"name": name, "image": image, "imageID": "", "ready": is_running if ready is None else ready,
            "restartCount": restarts, "started": is_running if started is None else started,
            "state": state, "lastState": _copy(last) or {}}
    if "waiting" not in state:
        body["imageID"] = f"{image.rsplit(':', 1)[0]}@sha256:{_hex(image)}"
        body["containerID"] = f"containerd://{_hex(name, image)}"
    return body


# ----------------------------------------------------------------------- pods

def _condition(kind: str, ok: bool, created: str, reason: str = "", message: str = "") -> dict:
    body = {"type": kind, "status": str(ok), "lastProbeTime": None, "lastTransitionTime": created}
    if not ok and reason:
        body.update(reason=reason, **({"message": message} if message else {}))
    return body


def _init_done(status: dict, sidecars: set[str]) -> bool:
    state = status.get("state") or {}
    if status["name"] in sidecars:
        return bool(status.get("started"))
    return (state.get("terminated") or {}).get("exitCode") == 0


def _pod_conditions(spec: dict, status: dict, created: str) -> list[dict]:
    inits = spec.get("initContainers") or []
    sidecars = {c["name"] for c in inits if c.get("restartPolicy") == "Always"}
    done = {s["name"] for s in status.get("initContainerStatuses") or [] if _init_done(s, sidecars)}
    waiting_for = [c["name"] for c in inits if c["name"] not in done]
    ready = {s["name"] for s in status.get("containerStatuses") or [] if s["ready"]}
    unready = [c["name"] for c in spec["containers"] if c["name"] not in ready]
    why = ("PodCompleted", "") if status["phase"] == "Succeeded" else \
        ("ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]")
    return [_condition("Initialized", not waiting_for, created, "ContainersNotInitialized",
                       f"containers with incomplete status: [{' '.join(waiting_for)}]"),
            _condition("Ready", not unready, created, *why),
            _condition("ContainersReady", not unready, created, *why),
            _condition("PodScheduled", True, created)]


def _qos(containers: list[dict]) -> str:
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all((r.get("limits") or {}).get(k) and (r.get("requests") or {}).get(k, r["limits"][k])
                     == r["limits"][k] for r in resources for k in ("cpu", "memory"))
    return "Guaranteed" if guaranteed else "Burstable"


def _derived_statuses(containers: list[dict], phase: str, state: dict | None, ready: bool | None,
                      restarts: int) -> list[dict]:
    if state is None:
        state = {"Running": running(), "Succeeded": terminated(0), "Failed": terminated(1)}.get(phase)
    if state is None:
        return []
    last = terminated(1) if restarts else None
    return [container_status(c["name"], state, ready=ready, restarts=restarts, last=last, image=c["image"])
            for c in containers]


def pod(name: str = "web-0", namespace: str = "shop", *, phase: str = "Running", node_name: str | None = "worker-1",
        containers=("app",), init_containers=(), image: str | None = None, requests: dict | None = REQUESTS,
        limits: dict | None = None, state: dict | None = None, ready: bool | None = None, restarts: int = 0,
        statuses: list[dict] | None = None, init_statuses: list[dict] | None = None,
        conditions: list[dict] | None = None, scheduled_message: str = "", labels: dict | None = None,
        uid: str | None = None, created: str = CREATED, deleting: bool = False, node_selector: dict | None = None,
        affinity: dict | None = None, tolerations: list[dict] | None = None, claims=(), volumes=(),
        pull_secrets=(), pod_ip: str = POD_IP) -> dict:
    """A Pod: containers are names (built with image/requests/limits) or container() dicts; statuses follow phase."""
    def build(item, **defaults):
        return _copy(item) if isinstance(item, dict) else container(item, image=image, requests=requests,
                                                                    limits=limits, **defaults)
    spec = {"containers": [build(c) for c in containers]}
    if init_containers:
        spec["initContainers"] = [build(c, ports=()) for c in init_containers]
    spec.update(restartPolicy="Always", terminationGracePeriodSeconds=30, dnsPolicy="ClusterFirst",
                serviceAccountName="default", schedulerName="default-scheduler",
                tolerations=_copy(_DEFAULT_TOLERATIONS if tolerations is None else tolerations))
    optional = {"nodeName": node_name, "nodeSelector": node_selector, "affinity": affinity,
                "imagePullSecrets": [{"name": secret} for secret in pull_secrets],
                "volumes": [*volumes, *({"name": claim, "persistentVolumeClaim": {"claimName": claim}}
                                        for claim in claims)]}
    spec.update({key: _copy(value) for key, value in optional.items() if value})

    if statuses is None:
        statuses = _derived_statuses(spec["containers"], phase, state, ready, restarts)
    if init_statuses is None:  # initialization is over once app containers have a status
        init_statuses = [container_status(c["name"], None if c.get("restartPolicy") == "Always" else terminated(0),
                                          ready=True, image=c["image"])
                         for c in spec.get("initContainers", [])] if statuses else []
    status = {"phase": phase}
    if node_name:
        status.update(hostIP="172.18.0.3", startTime=created)
        if pod_ip and (phase != "Pending" or statuses):
            status.update(podIP=pod_ip, podIPs=[{"ip": pod_ip}])
    if init_statuses:
        status["initContainerStatuses"] = _copy(init_statuses)
    if statuses:
        status["containerStatuses"] = _copy(statuses)
    status["qosClass"] = _qos(spec["containers"] + spec.get("initContainers", []))
    if conditions is None:
        if scheduled_message:
            conditions = [_condition("PodScheduled", False, created, "Unschedulable", scheduled_message)]
        else:
            conditions = _pod_conditions(spec, status, created) if node_name else []
    status["conditions"] = _copy(conditions)

    metadata = meta(name, namespace, labels={"app": name.split("-")[0]} if labels is None else labels,
                    uid=uid, created=created)
    if deleting:
        metadata.update(deletionTimestamp=NOW, deletionGracePeriodSeconds=30)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def unscheduled(name: str = "web-0", namespace: str = "shop", **kwargs) -> dict:
    """A pod() not bound to a node yet: Pending, no nodeName, no statuses (scheduled_message= says why)."""
    return pod(name, namespace, phase="Pending", node_name=None, **kwargs)


# ---------------------------------------------------------------------- nodes

_PRESSURE = {  # condition: (reason, message) when False, when True
    "MemoryPressure": (("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                       ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available")),
    "DiskPressure": (("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                     ("KubeletHasDiskPressure", "kubelet has disk pressure")),
    "PIDPressure": (("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"))}
_READY = {"True": ("KubeletReady", "kubelet is posting ready status"),
          "False": ("KubeletNotReady", "container runtime network not ready: NetworkReady=false "
                                       "reason:NetworkPluginNotReady message:cni plugin not initialized"),
          "Unknown": ("NodeStatusUnknown", "Kubelet stopped posting node status.")}


def node(name: str = "worker-1", *, ready: str = "True", reason: str | None = None, message: str | None = None,
         since: str = CREATED, heartbeat: str = NOW, pressure=(), taints=(), unschedulable: bool = False,
         cpu: str = "4", memory: str = "8Gi", pods: str = "110", labels: dict | None = None, roles=(),
         kubelet_version: str = "v1.29.2", internal_ip: str = "172.18.0.3", pod_cidr: str = "10.244.1.0/24",
         created: str = CREATED) -> dict:
    """A Node: Ready condition (reason/message follow ready), the conditions named in pressure True, taints, roles."""
    conditions = []
    for kind, (fine, bad) in _PRESSURE.items():
        status, (why, text) = ("True", bad) if kind in pressure else ("False", fine)
        if ready == "Unknown":  # the node controller marks every condition Unknown
            status, (why, text) = "Unknown", _READY["Unknown"]
        conditions.append({"type": kind, "status": status, "lastHeartbeatTime": heartbeat,
                           "lastTransitionTime": since, "reason": why, "message": text})
    ready_reason, ready_message = _READY[ready]
    conditions.append({"type": "Ready", "status": ready, "lastHeartbeatTime": heartbeat, "lastTransitionTime": since,
                       "reason": reason or ready_reason, "message": message or ready_message})
    spec = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
    if taints:
        spec["taints"] = _copy(list(taints))
    if unschedulable:
        spec["unschedulable"] = True
    resources = {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "95Gi"}
    labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              **{f"node-role.kubernetes.io/{role}": "" for role in roles}, **(labels or {})}
    info = {"architecture": "amd64", "bootID": _hex("boot", name, length=32), "containerRuntimeVersion":
            "containerd://1.7.13", "kernelVersion": "6.1.0-18-amd64", "kubeProxyVersion": kubelet_version,
            "kubeletVersion": kubelet_version, "machineID": _hex("machine", name, length=32),
            "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)",
            "systemUUID": _hex("system", name, length=32)}
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta(name, labels=labels, created=created), "spec": spec,
            "status": {"addresses": [{"type": "InternalIP", "address": internal_ip},
                                     {"type": "Hostname", "address": name}],
                       "allocatable": resources, "capacity": {**resources, "ephemeral-storage": "100Gi"},
                       "conditions": conditions, "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                       "nodeInfo": info}}


# --------------------------------------------------------------------- events

def _first_seen(last: str | None, count: int | None) -> str | None:
    if last is None or not count or count <= 1:
        return last
    return (dt.datetime.fromisoformat(last.replace("Z", "+00:00")) - dt.timedelta(hours=1)) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def event(name: str = "web-0", reason: str = "BackOff", message: str = "Back-off restarting failed container",
          *, kind: str = "Pod", namespace: str = "shop", type_: str = "Warning", count: int | None = 1,
          first: str | None = None, last: str | None = NOW, component: str = "kubelet", host: str | None = None,
          uid: str | None = None, field_path: str | None = None, created: str | None = None,
          api_version: str = "v1", event_time: str | None = None, series: dict | None = None) -> dict:
    """An Event on kind/name: core/v1; event_time/series: events.k8s.io through core/v1; or events.k8s.io/v1."""
    # first defaults to last (count 1) or an hour before it; None leaves count/first/last out
    first = first or _first_seen(last, count)
    scope = None if kind in _CLUSTER_SCOPED else namespace
    ref = {"apiVersion": _API_VERSION.get(kind, "v1"), "kind": kind, "name": name,
           **({"namespace": scope} if scope else {}), "uid": uid or _uid(scope, name),
           **({"fieldPath": field_path} if field_path else {})}
    body = {"metadata": meta(f"{name}.{_hex(kind, name, reason, message, last, length=16)}", namespace,
                             created=created or first or last or CREATED),
            "reason": reason, "type": type_, "reportingInstance": host or ""}
    new_style = api_version != "v1" or event_time is not None or series is not None
    if new_style:
        body["eventTime"] = _micro(event_time or first or last or CREATED)
        if series is not None:
            body["series"] = dict(series)
    if api_version != "v1":
        return {"apiVersion": api_version, "kind": "Event", **body, "regarding": ref, "note": message,
                "reportingController": component}
    body.update(involvedObject=ref, message=message, reportingComponent=component,
                source={"component": component, **({"host": host} if host else {})})
    if not new_style:
        optional = {"count": count, "firstTimestamp": first, "lastTimestamp": last}
        body.update({key: value for key, value in optional.items() if value is not None})
    return {"apiVersion": "v1", "kind": "Event", **body}


# ------------------------------------------------ services, endpoints, storage

def service(name: str = "web", namespace: str = "shop", *, selector: dict | None = None, port: int = 80,
            target_port: int | str = 8080, cluster_ip: str = "10.96.12.7", type_: str = "ClusterIP") -> dict:
    """A Service: selector defaults to {app: name} ({} leaves it out), one TCP port -> target_port."""
    spec = {"type": type_, "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
            "ports": [{"port": port, "protocol": "TCP", "targetPort": target_port}]}
    selector = {"app": name} if selector is None else selector
    if selector:
        spec["selector"] = dict(selector)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, namespace), "spec": spec,
            "status": {"loadBalancer": {}}}


def endpoints(name: str = "web", namespace: str = "shop", *, ready=None, not_ready=(), port: int = 8080,
              port_name: str = "", node_name: str | None = "worker-1") -> dict:
    """core/v1 Endpoints of Service name: ready/not_ready are (ip, pod name or None); default one ready {name}-0."""
    if ready is None:
        ready = () if not_ready else [(POD_IP, f"{name}-0")]

    def address(ip, pod_name):
        body = {"ip": ip, **({"nodeName": node_name} if node_name else {})}
        if pod_name:
            body["targetRef"] = {"kind": "Pod", "name": pod_name, "namespace": namespace,
                                 "uid": _uid(namespace, pod_name)}
        return body
    subset = {key: [address(*pair) for pair in pairs]
              for key, pairs in (("addresses", ready), ("notReadyAddresses", not_ready)) if pairs}
    subset["ports"] = [{"port": port, "protocol": "TCP", **({"name": port_name} if port_name else {})}]
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta(name, namespace), "subsets": [subset]}


def pvc(name: str = "data-web-0", namespace: str = "shop", *, phase: str = "Bound", storage_class: str = "standard",
        size: str = "10Gi", access_modes=("ReadWriteOnce",), volume_name: str | None = None,
        created: str = CREATED) -> dict:
    """A PersistentVolumeClaim requesting size of storage_class; Bound ones name their volume and capacity."""
    spec = {"accessModes": list(access_modes), "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class, "volumeMode": "Filesystem"}
    status = {"phase": phase}
    if phase == "Bound":
        spec["volumeName"] = volume_name or f"pvc-{_hex(namespace, name, length=8)}"
        status.update(accessModes=list(access_modes), capacity={"storage": size})
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta(name, namespace, created=created),
            "spec": spec, "status": status}
