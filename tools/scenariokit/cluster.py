"""The :class:`Cluster`: every object of one scenario, built up call by call.

A ``Cluster(name)`` starts empty; ``name`` (the scenario name) seeds every
uid, generated name and resourceVersion, so the same calls in the same order
give the same bytes. Recipes usually start from :func:`scenariokit.base.base_cluster`.

Building (each returns the object dict it added, or a :class:`~scenariokit.objects.Workload`):

- :meth:`Cluster.node` a kubeadm Node (4 cpu / 16 GiB; ``lost_ago``: the kubelet
  stopped posting status, ``cordoned_ago``: unschedulable, ``taints``,
  ``labels``, ``extended`` resources); :meth:`Cluster.namespace` a namespace;
- :meth:`Cluster.deployment` a Deployment + its ReplicaSet (a ``Workload``),
  :meth:`Cluster.replica` one pod of a workload, :meth:`Cluster.pod` a pod as
  admitted, its status derived from the :class:`~scenariokit.objects.Run` of
  each container (``node=None``: Pending with the ``unschedulable`` message);
  StatefulSets, Jobs and DaemonSets are in :mod:`scenariokit.workloads`;
- :meth:`Cluster.service` a ClusterIP Service, :meth:`Cluster.configmap`
  (keys only), :meth:`Cluster.storage_class`; anything else:
  ``cluster.add(namespace, stem, {"metadata": cluster.meta(...), ...})``;
- events: :meth:`~scenariokit.events.EventRecorder.event` and friends.

:meth:`Cluster.finish` then derives what controllers would have written
(workload statuses, Endpoints and EndpointSlices of Services, the
kube-root-ca.crt ConfigMap of each namespace); :func:`scenariokit.bundle.render`
calls it, then :meth:`Cluster.namespace_objects`.
"""

from __future__ import annotations

import datetime as dt
import json

from .events import EventRecorder
from .objects import (CAPTURED_AT, CONTAINER_ORDER, CONTROL_PLANE_TAINT, DAY, DEFAULT_TOLERATIONS, K8S_VERSION,
                      POD_SPEC_ORDER, Run, Workload, age_of, condition, digest, image_id, name_suffix,
                      normalized_image, omitempty, ordered, pod_ready, qos_class, stable_hex, stable_uid,
                      tolerates_no_execute, when, when_micro)

#: cluster-scoped objects other than nodes and namespaces, by dump file stem
CLUSTER_OBJECT_FILES = ("persistentvolumes", "storageclasses")


class Cluster(EventRecorder):
    """The objects of one scenario, built up call by call (see the module doc)."""

    def __init__(self, name: str):
        self.name = name
        self._rv = 1000 + int.from_bytes(digest("rv", name)[:2], "big")
        self.nodes: list[dict] = []
        self.namespaces: dict[str, float] = {}
        self.cluster_objects: dict[str, list] = {k: [] for k in CLUSTER_OBJECT_FILES}
        self.objects: dict[tuple[str, str], list] = {}
        self.workloads: list[Workload] = []
        self.services: list[tuple[dict, dict | None]] = []
        self.runs: dict[tuple[str, str], tuple[list, list]] = {}
        self.node_ips: dict[str, str] = {}
        self._next_ip: dict[str, int] = {}
        self.scenario: dict = {}
        self._finished = False

    # -- bookkeeping
    def rv(self) -> str:
        """The next resourceVersion (a stable, increasing counter per cluster)."""
        self._rv += 1 + int.from_bytes(digest("rv", self.name, self._rv)[:1], "big") % 7
        return str(self._rv)

    def meta(self, name: str, namespace: str | None, created_ago: float, *, labels: dict | None = None,
             annotations: dict | None = None, owners: list | None = None, generate_name: str | None = None,
             generation: int | None = None, finalizers: list | None = None) -> dict:
        """ObjectMeta in the API server's field order, with a stable uid and the next resourceVersion."""
        return {"name": name, **omitempty(generateName=generate_name, namespace=namespace),
                "uid": stable_uid(self.name, namespace, name), "resourceVersion": self.rv(),
                **omitempty(generation=generation), "creationTimestamp": when(created_ago),
                **omitempty(labels=labels, annotations=annotations, ownerReferences=owners, finalizers=finalizers)}

    @property
    def latest_rv(self) -> int:
        """The last resourceVersion handed out."""
        return self._rv

    def add(self, namespace: str, stem: str, obj: dict) -> dict:
        """File ``obj`` under ``<namespace>/<stem>.json``; returns ``obj``."""
        self.objects.setdefault((namespace, stem), []).append(obj)
        return obj

    @staticmethod
    def owner_ref(kind: str, api_version: str, obj: dict, *, block: bool = True) -> dict:
        """A controller ownerReference to ``obj``."""
        ref = {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"],
               "uid": obj["metadata"]["uid"], "controller": True}
        if block:
            ref["blockOwnerDeletion"] = True
        return ref

    def namespace(self, name: str, created_ago: float) -> None:
        """Add a namespace (its object and kube-root-ca.crt ConfigMap are made at :meth:`finish`)."""
        self.namespaces[name] = created_ago

    # -- nodes
    def node(self, name: str, ip: str, index: int, *, control_plane: bool = False,
             labels: dict | None = None, taints: list | None = None, ready: bool = True,
             lost_ago: float | None = None, cordoned_ago: float | None = None, created_ago: float = 40 * DAY,
             extended: dict | None = None, zone: str = "zone-a") -> dict:
        """A kubeadm node with 4 cpu / 16 GiB; ``lost_ago``: kubelet stopped posting status."""
        node_labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
                       "kubernetes.io/os": "linux"}
        if control_plane:
            node_labels["node-role.kubernetes.io/control-plane"] = ""
            node_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        node_labels.update({"topology.kubernetes.io/region": "eu-west",
                            "topology.kubernetes.io/zone": zone})
        node_labels.update(labels or {})
        node_taints = [dict(t) for t in (taints or [])]
        if control_plane:
            node_taints.insert(0, dict(CONTROL_PLANE_TAINT))
        spec: dict = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
        if cordoned_ago is not None:
            spec["unschedulable"] = True
            node_taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                                "timeAdded": when(cordoned_ago)})
        if lost_ago is not None:
            node_taints += [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule",
                             "timeAdded": when(lost_ago - 40)},
                            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                             "timeAdded": when(lost_ago - 45)}]
        if node_taints:
            spec["taints"] = node_taints
        capacity = {"cpu": "4", "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0", "memory": "16331456Ki", "pods": "110"}
        allocatable = {"cpu": "4", "ephemeral-storage": "93478772582", "hugepages-1Gi": "0",
                       "hugepages-2Mi": "0", "memory": "16229056Ki", "pods": "110"}
        for key, value in (extended or {}).items():
            capacity[key] = allocatable[key] = value
        capacity = dict(sorted(capacity.items()))
        allocatable = dict(sorted(allocatable.items()))
        heartbeat = lost_ago if lost_ago is not None else 35 + index * 7
        booted = created_ago - 600 if index else created_ago
        if lost_ago is None:
            kinds = (("MemoryPressure", "False", "KubeletHasSufficientMemory",
                      "kubelet has sufficient memory available"),
                     ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                     ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                     ("Ready", "True", "KubeletReady", "kubelet is posting ready status"))
            conditions = [{"type": t, "status": s, "lastHeartbeatTime": when(heartbeat),
                           "lastTransitionTime": when(booted - 60 if t == "Ready" else booted),
                           "reason": r, "message": m} for t, s, r, m in kinds]
        else:
            conditions = [{"type": t, "status": "Unknown", "lastHeartbeatTime": when(heartbeat),
                           "lastTransitionTime": when(lost_ago - 40), "reason": "NodeStatusUnknown",
                           "message": "Kubelet stopped posting node status."}
                          for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
        status = {
            "capacity": capacity, "allocatable": allocatable, "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": stable_hex("machine", name, length=32),
                         "systemUUID": stable_uid("system", name),
                         "bootID": stable_uid("boot", name),
                         "kernelVersion": "6.1.0-26-amd64",
                         "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "containerRuntimeVersion": "containerd://1.7.22",
                         "kubeletVersion": K8S_VERSION, "kubeProxyVersion": K8S_VERSION,
                         "operatingSystem": "linux", "architecture": "amd64"},
        }
        annotations = {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                       "node.alpha.kubernetes.io/ttl": "0",
                       "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        obj = {"metadata": self.meta(name, None, created_ago, labels=node_labels, annotations=annotations),
               "spec": spec, "status": status}
        self.nodes.append(obj)
        # the kubelet renews its node's Lease every 10 s (a lost node: not since it was lost)
        renewed = lost_ago if lost_ago is not None else (3 + index * 3) % 10
        lease_meta = self.meta(name, "kube-node-lease", created_ago,
                               owners=[{"apiVersion": "v1", "kind": "Node", "name": name,
                                        "uid": obj["metadata"]["uid"]}])
        self.add("kube-node-lease", "leases", {"metadata": lease_meta, "spec": {
            "holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": when_micro(renewed, "lease", name)}})
        self.node_ips[name] = ip
        self._next_ip[name] = 10
        return obj

    def node_named(self, name: str) -> dict:
        """The Node object called ``name``."""
        return next(n for n in self.nodes if n["metadata"]["name"] == name)

    def pod_ip(self, node: str) -> str:
        """The next pod IP in ``node``'s podCIDR."""
        index = self.nodes.index(self.node_named(node))
        ip = f"10.244.{self.node_named(node)['spec']['podCIDR'].split('.')[2]}.{self._next_ip[node]}"
        self._next_ip[node] += 3 + index
        return ip

    # -- workloads
    def deployment(self, namespace: str, name: str, containers: list, *, replicas: int = 1,
                   created_ago: float = 20 * DAY, labels: dict | None = None, revision: int = 1,
                   rs_created_ago: float | None = None, **pod_spec) -> Workload:
        """A Deployment and its current ReplicaSet; add pods with :meth:`replica`."""
        labels = labels or {"app": name}
        template = self.template(labels, containers, **pod_spec)
        deploy = {"metadata": self.meta(name, namespace, created_ago, labels=dict(labels), generation=revision,
                                        annotations={"deployment.kubernetes.io/revision": str(revision)}),
                  "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                           "template": template,
                           "strategy": {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                           "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}}
        pod_hash = name_suffix("pod-template-hash", self.name, namespace, name, revision, length=10)
        rs_name = f"{name}-{pod_hash}"
        rs_labels = {**labels, "pod-template-hash": pod_hash}
        rs_template = json.loads(json.dumps(template))
        rs_template["metadata"]["labels"] = dict(rs_labels)
        rs = {"metadata": self.meta(rs_name, namespace, rs_created_ago or created_ago, labels=dict(rs_labels),
                                    annotations={"deployment.kubernetes.io/desired-replicas": str(replicas),
                                                 "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                                 "deployment.kubernetes.io/revision": str(revision)},
                                    owners=[self.owner_ref("Deployment", "apps/v1", deploy)], generation=1),
              "spec": {"replicas": replicas,
                       "selector": {"matchLabels": {**labels, "pod-template-hash": pod_hash}},
                       "template": rs_template}}
        self.add(namespace, "deployments", deploy)
        self.add(namespace, "replicasets", rs)
        work = Workload("Deployment", deploy, rs_template,
                        self.owner_ref("ReplicaSet", "apps/v1", rs), replica_set=rs)
        self.workloads.append(work)
        return work

    def template(self, labels: dict, containers: list, *, init_containers: list | None = None,
                 volumes: list | None = None, node_selector: dict | None = None, affinity: dict | None = None,
                 tolerations: list | None = None, service_account: str | None = None,
                 restart_policy: str = "Always", grace: int = 30, dns_policy: str = "ClusterFirst",
                 priority_class: str | None = None, host_network: bool = False,
                 security: dict | None = None, image_pull_secrets: list | None = None,
                 annotations: dict | None = None) -> dict:
        """A defaulted PodTemplateSpec (what the API server stores in a workload)."""
        spec = {**omitempty(volumes=volumes, initContainers=init_containers), "containers": containers,
                "restartPolicy": restart_policy, "terminationGracePeriodSeconds": grace, "dnsPolicy": dns_policy,
                **omitempty(nodeSelector=node_selector, serviceAccountName=service_account,
                            serviceAccount=service_account, hostNetwork=host_network),
                "securityContext": security or {},
                **omitempty(imagePullSecrets=[{"name": s} for s in image_pull_secrets or []], affinity=affinity),
                "schedulerName": "default-scheduler",
                **omitempty(tolerations=tolerations, priorityClassName=priority_class)}
        meta = {"creationTimestamp": None, "labels": dict(labels), **omitempty(annotations=annotations)}
        return {"metadata": meta, "spec": ordered(spec, POD_SPEC_ORDER)}

    def replica(self, work: Workload, *, node: str | None, runs: dict, created_ago: float,
                init_runs: dict | None = None, name: str | None = None, extra_labels: dict | None = None,
                unschedulable: str | None = None, node_lost_ago: float | None = None) -> dict:
        """One pod of ``work`` (see :meth:`pod`)."""
        if name is None:
            base = work.replica_set["metadata"]["name"] if work.replica_set else work.obj["metadata"]["name"]
            name = f"{base}-{name_suffix('pod', self.name, base, len(work.pods))}"
            generate = f"{base}-"
        else:
            generate = work.obj["metadata"]["name"] + "-" if work.kind == "StatefulSet" else None
        labels = {**work.template["metadata"]["labels"], **(extra_labels or {})}
        pod = self.pod(work.obj["metadata"]["namespace"], name, work.template["spec"], labels=labels,
                       node=node, runs=runs, init_runs=init_runs, created_ago=created_ago,
                       owner=work.pod_owner, generate_name=generate, unschedulable=unschedulable,
                       annotations=work.template["metadata"].get("annotations"),
                       node_lost_ago=node_lost_ago)
        work.pods.append(pod)
        return pod

    def pod(self, namespace: str, name: str, template_spec: dict, *, labels: dict, node: str | None,
            runs: dict, created_ago: float, init_runs: dict | None = None, owner: dict | None = None,
            generate_name: str | None = None, unschedulable: str | None = None,
            annotations: dict | None = None, static: bool = False,
            node_lost_ago: float | None = None) -> dict:
        """A Pod as admitted (defaults, SA token volume, tolerations) with its observed status.

        ``runs``/``init_runs`` map container name -> :class:`Run`; an unscheduled
        pod (``node`` None) carries ``unschedulable`` as its PodScheduled message.
        """
        spec = json.loads(json.dumps(template_spec))
        if not static:
            token_volume = f"kube-api-access-{name_suffix('sa', self.name, namespace, name)}"
            spec.setdefault("volumes", []).append({"name": token_volume, "projected": {
                "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
                "defaultMode": 420}})
            for c in spec.get("initContainers", []) + spec["containers"]:
                mounts = c.get("volumeMounts", []) + [{"name": token_volume, "readOnly": True,
                                                       "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
                c.update(volumeMounts=mounts)
                c_ordered = ordered(c, CONTAINER_ORDER)
                c.clear()
                c.update(c_ordered)
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("serviceAccount", "default")
            spec["tolerations"] = spec.get("tolerations", []) + [
                t for t in DEFAULT_TOLERATIONS if not tolerates_no_execute(spec.get("tolerations", []), t["key"])]
        if node:
            spec["nodeName"] = node
        spec["priority"] = {"system-node-critical": 2000001000,
                                        "system-cluster-critical": 2000000000}.get(spec.get("priorityClassName"), 0)
        spec["enableServiceLinks"] = True
        spec["preemptionPolicy"] = "PreemptLowerPriority"
        spec = ordered(spec, POD_SPEC_ORDER)
        meta = self.meta(name, namespace, created_ago, labels=labels, annotations=annotations,
                         owners=[owner] if owner else None, generate_name=generate_name)
        pod = {"metadata": meta, "spec": spec,
               "status": self.pod_status(meta, spec, node, runs, init_runs or {}, created_ago,
                                         unschedulable, node_lost_ago)}
        self.add(namespace, "pods", pod)
        self.runs[(namespace, name)] = ([(c["name"], (init_runs or {}).get(c["name"]))
                                         for c in spec.get("initContainers", [])],
                                        [(c["name"], runs.get(c["name"])) for c in spec["containers"]])
        return pod

    def pod_status(self, meta: dict, spec: dict, node: str | None, runs: dict, init_runs: dict,
                   created_ago: float, unschedulable: str | None, node_lost_ago: float | None) -> dict:
        """PodStatus (phase, conditions, IPs, container statuses, qosClass) derived from the runs."""
        containers = spec["containers"]
        qos = qos_class(spec.get("initContainers", []) + containers)
        if node is None:
            return {"phase": "Pending",
                    "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                    "lastTransitionTime": when(created_ago - 1),
                                    "reason": "Unschedulable", "message": unschedulable}],
                    "qosClass": qos}
        started = created_ago - 1
        pod_ref = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
        init_statuses = [self.container_status(meta, c, init_runs[c["name"]], pod_ref)
                         for c in spec.get("initContainers", [])]
        statuses = [self.container_status(meta, c, runs[c["name"]], pod_ref) for c in containers]
        init_done = all("terminated" in s["state"] and s["state"]["terminated"]["exitCode"] == 0
                        for s in init_statuses)
        incomplete = [s["name"] for s in init_statuses
                      if not ("terminated" in s["state"] and s["state"]["terminated"]["exitCode"] == 0)]
        unready = [s["name"] for s in statuses if not s["ready"]]
        has_run = any("running" in s["state"] or s.get("lastState", {}).get("terminated") for s in statuses)
        phase = "Running" if init_done and has_run else "Pending"
        # when containers became (un)ready: latest running start or latest failure
        ready_since = min((created_ago - 1,) + tuple(
            (CAPTURED_AT - dt.datetime.fromisoformat(s["state"]["running"]["startedAt"].replace("Z", "+00:00"))
             ).total_seconds() for s in statuses if "running" in s["state"]))
        last_change = ready_since if not unready else min(
            [ready_since] + [(CAPTURED_AT - dt.datetime.fromisoformat(
                s["lastState"]["terminated"]["finishedAt"].replace("Z", "+00:00"))).total_seconds()
                for s in statuses if s.get("lastState", {}).get("terminated")])

        def cond(kind: str, ok: bool, ago: float, reason: str = "", message: str = "") -> dict:
            c = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None,
                 "lastTransitionTime": when(ago)}
            if not ok and reason:
                c.update(reason=reason, message=message)
            return c

        init_msg = f"containers with incomplete status: [{' '.join(incomplete)}]"
        unready_msg = f"containers with unready status: [{' '.join(unready)}]"
        ready_cond = cond("Ready", not unready, last_change, "ContainersNotReady", unready_msg)
        if node_lost_ago is not None:  # node lifecycle controller marks pods NotReady
            ready_cond = {"type": "Ready", "status": "False", "lastProbeTime": None,
                          "lastTransitionTime": when(node_lost_ago - 45)}
        conditions = [
            cond("PodReadyToStartContainers", True, started - 2),
            cond("Initialized", init_done, started - 4 if init_done else started - 1,
                 "ContainersNotInitialized", init_msg),
            ready_cond,
            cond("ContainersReady", not unready, last_change, "ContainersNotReady", unready_msg),
            cond("PodScheduled", True, created_ago - 1),
        ]
        host_ip = self.node_ips[node]
        pod_ip = host_ip if spec.get("hostNetwork") else self.pod_ip(node)
        status: dict = {"phase": phase, "conditions": conditions, "hostIP": host_ip,
                        "hostIPs": [{"ip": host_ip}], "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                        "startTime": when(started)}
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        status["containerStatuses"] = statuses
        status["qosClass"] = qos
        return status

    def container_status(self, meta: dict, spec: dict, run: Run, pod_ref: str) -> dict:
        """A ContainerStatus; fills containerIDs, imageIDs and the CrashLoopBackOff message."""
        key = (self.name, meta["namespace"], meta["name"], spec["name"])
        state = json.loads(json.dumps(run.state))
        waiting = state.get("waiting")
        if waiting and waiting["reason"] == "CrashLoopBackOff" and "message" not in waiting:
            backoff = min(10 * 2 ** max(run.restarts - 1, 0), 300)
            text = f"{backoff // 60}m{backoff % 60}s" if backoff >= 60 else f"{backoff}s"
            waiting["message"] = f"back-off {text} restarting failed container={spec['name']} pod={pod_ref}"
        status: dict = {"name": spec["name"], "state": state}
        last = json.loads(json.dumps(run.last)) if run.last else {}
        if last:
            last["terminated"]["containerID"] = f"containerd://{stable_hex('ctr', *key, run.restarts - 1)}"
            last["terminated"] = ordered(last["terminated"], ("exitCode", "signal", "reason", "message",
                                                               "startedAt", "finishedAt", "containerID"))
        status["lastState"] = last
        status["ready"] = run.ready
        status["restartCount"] = run.restarts
        created = bool(last) or "running" in state or "terminated" in state
        pulled = created or (waiting and waiting["reason"] not in ("ErrImagePull", "ImagePullBackOff"))
        status["image"] = normalized_image(spec["image"]) if pulled else spec["image"]
        status["imageID"] = image_id(spec["image"]) if pulled else ""
        if "running" in state or "terminated" in state:
            cid = f"containerd://{stable_hex('ctr', *key, run.restarts)}"
            if "terminated" in state:
                state["terminated"]["containerID"] = cid
            status["containerID"] = cid
        elif last:
            status["containerID"] = last["terminated"]["containerID"]
        status["started"] = "running" in state
        return status

    # -- services
    def service(self, namespace: str, name: str, selector: dict | None, ports: list, *,
                created_ago: float = 20 * DAY, labels: dict | None = None, cluster_ip: str | None = None,
                headless: bool = False, manual_endpoints: list | None = None) -> dict:
        """A ClusterIP Service; ports are (name, port, targetPort[, protocol]).

        Endpoints/EndpointSlices are derived from the selected pods at write time
        (``manual_endpoints``: (ip, node) pairs for selector-less Services).
        """
        if cluster_ip is None:
            h = digest("clusterip", self.name, namespace, name)
            cluster_ip = f"10.96.{h[0] % 250 + 2}.{h[1] % 250 + 2}"
        if headless:
            cluster_ip = "None"
        spec: dict = {"ports": [{"name": p[0], "protocol": p[3] if len(p) > 3 else "TCP",
                                 "port": p[1], "targetPort": p[2]} for p in ports]}
        if selector:
            spec["selector"] = selector
        spec.update(clusterIP=cluster_ip, clusterIPs=[cluster_ip], type="ClusterIP",
                    sessionAffinity="None", ipFamilies=["IPv4"],
                    ipFamilyPolicy="SingleStack", internalTrafficPolicy="Cluster")
        svc = {"metadata": self.meta(name, namespace, created_ago, labels=labels or dict(selector or {})),
               "spec": spec, "status": {"loadBalancer": {}}}
        self.add(namespace, "services", svc)
        self.services.append((svc, {"manual": manual_endpoints} if manual_endpoints else None))
        return svc

    def configmap(self, namespace: str, name: str, keys: list, *, created_ago: float = 20 * DAY,
                  labels: dict | None = None) -> None:
        """A ConfigMap as captured: keys only, every value replaced by ""."""
        self.add(namespace, "configmaps", {"metadata": self.meta(name, namespace, created_ago, labels=labels),
                                           "data": {k: "" for k in sorted(keys)}})

    def storage_class(self, name: str, provisioner: str, *, default: bool = False,
                      binding: str = "WaitForFirstConsumer") -> None:
        """A StorageClass (``default``: the is-default-class annotation)."""
        annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
        self.cluster_objects["storageclasses"].append({
            "metadata": self.meta(name, None, 40 * DAY, annotations=annotations),
            "provisioner": provisioner, "reclaimPolicy": "Delete", "volumeBindingMode": binding})

    # -- derived objects
    def finish(self) -> None:
        """Derive workload statuses, Endpoints/EndpointSlices and namespace objects (once)."""
        if self._finished:
            return
        self._finished = True
        for work in self.workloads:
            self._workload_status(work)
        for svc, extra in self.services:
            self._endpoints(svc, (extra or {}).get("manual"))
        for ns, age in self.namespaces.items():
            self.configmap(ns, "kube-root-ca.crt", ["ca.crt"], created_ago=age)

    def namespace_objects(self) -> list[dict]:
        """The Namespace objects (new resourceVersions each call: :func:`~scenariokit.bundle.render` calls it)."""
        return [{"metadata": self.meta(ns, None, age, labels={"kubernetes.io/metadata.name": ns}),
                 "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
                for ns, age in self.namespaces.items()]

    def _workload_status(self, work: Workload) -> None:
        pods = work.pods
        ready = sum(1 for p in pods if pod_ready(p))
        total = len(pods)
        obj = work.obj
        if work.kind == "Deployment":
            rs = work.replica_set
            rs["status"] = {"replicas": total, "fullyLabeledReplicas": total}
            if ready:
                rs["status"].update(readyReplicas=ready, availableReplicas=ready)
            rs["status"]["observedGeneration"] = 1
            rs_name = rs["metadata"]["name"]
            available = ready >= obj["spec"]["replicas"] - int(obj["spec"]["replicas"] * 0.25)
            created = obj["metadata"]["creationTimestamp"]
            progressing_since = rs["metadata"]["creationTimestamp"]
            status = {"observedGeneration": obj["metadata"]["generation"], "replicas": total,
                      "updatedReplicas": total}
            if ready:
                status.update(readyReplicas=ready, availableReplicas=ready)
            if total - ready:
                status["unavailableReplicas"] = total - ready
            if available:
                avail = {"type": "Available", "status": "True", "lastUpdateTime": created,
                         "lastTransitionTime": created, "reason": "MinimumReplicasAvailable",
                         "message": "Deployment has minimum availability."}
            else:
                avail = {"type": "Available", "status": "False", "lastUpdateTime": progressing_since,
                         "lastTransitionTime": progressing_since, "reason": "MinimumReplicasUnavailable",
                         "message": "Deployment does not have minimum availability."}
            rs_age = (CAPTURED_AT - dt.datetime.fromisoformat(progressing_since.replace("Z", "+00:00"))
                      ).total_seconds()
            if ready == total:
                prog = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
            elif rs_age > obj["spec"]["progressDeadlineSeconds"]:
                prog = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.')
            else:
                prog = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
            status["conditions"] = [avail, {"type": "Progressing", "status": prog[0],
                                            "lastUpdateTime": progressing_since,
                                            "lastTransitionTime": progressing_since,
                                            "reason": prog[1], "message": prog[2]}]
            obj["status"] = status
        elif work.kind == "StatefulSet":
            revision = work.template["metadata"]["labels"]["controller-revision-hash"]
            status = {"observedGeneration": 1, "replicas": total}
            if ready:
                status["readyReplicas"] = ready
            status.update(currentReplicas=total, updatedReplicas=total, currentRevision=revision,
                          updateRevision=revision, collisionCount=0, availableReplicas=ready)
            obj["status"] = status
        elif work.kind == "DaemonSet":
            obj["status"] = {"currentNumberScheduled": total, "numberMisscheduled": 0,
                             "desiredNumberScheduled": total, "numberReady": ready, "observedGeneration": 1,
                             "updatedNumberScheduled": total, "numberAvailable": ready}
            if total - ready:
                obj["status"]["numberUnavailable"] = total - ready
        elif work.kind == "Job":
            status = {"startTime": obj["metadata"]["creationTimestamp"], "active": total,
                      "uncountedTerminatedPods": {}, "ready": ready}
            obj["status"] = status

    def _endpoints(self, svc: dict, manual: list | None) -> None:
        meta = svc["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        selector = svc["spec"].get("selector")
        targets = []  # (ip, node, pod or None, ready)
        if manual:
            targets = [(ip, node, None, True) for ip, node in manual]
        elif selector:
            for pod in self.objects.get((namespace, "pods"), []):
                labels = pod["metadata"].get("labels", {})
                if all(labels.get(k) == v for k, v in selector.items()) and pod["status"].get("podIP"):
                    targets.append((pod["status"]["podIP"], pod["spec"]["nodeName"], pod, pod_ready(pod)))
        else:
            return
        targets.sort(key=lambda t: tuple(int(x) for x in t[0].split(".")))
        ports = []
        for port in svc["spec"]["ports"]:
            target = port["targetPort"]
            if isinstance(target, str):
                resolved = [p["containerPort"] for _, _, pod, _ in targets if pod
                            for c in pod["spec"]["containers"] for p in c.get("ports", [])
                            if p["name"] == target]
                target = resolved[0] if resolved else None
            if target is not None:
                ports.append({"name": port["name"], "port": target, "protocol": port["protocol"]})
        trigger = {"endpoints.kubernetes.io/last-change-trigger-time": meta["creationTimestamp"]}
        if targets:
            trigger = {"endpoints.kubernetes.io/last-change-trigger-time": max(
                (condition(t[2], "Ready") or {}).get("lastTransitionTime", meta["creationTimestamp"])
                if t[2] else meta["creationTimestamp"] for t in targets)}

        def address(ip, node, pod):
            item = {"ip": ip}
            if node:
                item["nodeName"] = node
            if pod:
                item["targetRef"] = {"kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"],
                                     "uid": pod["metadata"]["uid"]}
            return item

        endpoint_labels = dict(meta.get("labels") or {})
        if manual:  # the apiserver's own endpoints are not mirrored into slices
            endpoint_labels["endpointslice.kubernetes.io/skip-mirror"] = "true"
        endpoints: dict = {"metadata": self.meta(name, namespace, age_of(meta["creationTimestamp"]),
                                                 labels=endpoint_labels or None,
                                                 annotations=None if manual else trigger)}
        endpoints["metadata"]["uid"] = stable_uid(self.name, namespace, "endpoints", name)
        if targets and ports:
            subset: dict = {}
            ready_addrs = [address(ip, n, p) for ip, n, p, ok in targets if ok]
            unready = [address(ip, n, p) for ip, n, p, ok in targets if not ok]
            if ready_addrs:
                subset["addresses"] = ready_addrs
            if unready:
                subset["notReadyAddresses"] = unready
            subset["ports"] = ports
            endpoints["subsets"] = [subset]
        self.add(namespace, "endpoints", endpoints)

        slice_labels = {**(meta.get("labels") or {})}
        if manual:
            slice_name = name
            slice_labels["kubernetes.io/service-name"] = name
            owners, generate, annotations = None, None, None
        else:
            slice_name = f"{name}-{name_suffix('slice', self.name, namespace, name)}"
            slice_labels.update({"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                 "kubernetes.io/service-name": name})
            owners = [self.owner_ref("Service", "v1", svc)]
            generate, annotations = f"{name}-", trigger
        slice_meta = self.meta(slice_name, namespace, age_of(meta["creationTimestamp"]),
                               labels=dict(sorted(slice_labels.items())), annotations=annotations,
                               owners=owners, generate_name=generate, generation=1)
        items = []
        for ip, node, pod, ok in targets:
            item: dict = {"addresses": [ip], "conditions": {"ready": ok, "serving": ok, "terminating": False}}
            if pod:
                item["targetRef"] = {"kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"],
                                     "uid": pod["metadata"]["uid"]}
                item["nodeName"] = node
                item["zone"] = self.node_named(node)["metadata"]["labels"]["topology.kubernetes.io/zone"]
            items.append(item)
        self.add(namespace, "endpointslices", {
            "metadata": slice_meta, "addressType": "IPv4", "endpoints": items or None,
            "ports": [{"name": p["name"], "protocol": p["protocol"], "port": p["port"]} for p in ports] or None})
