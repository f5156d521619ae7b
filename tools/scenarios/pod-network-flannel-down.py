"""pod-network-flannel-down: node-b's flannel pod crash-loops — its node has no podCIDR (NET-004); cluster part only.

The lab as a cluster (``scenariokit.lab.lab_cluster``), with node-b re-joined
after a ``kubeadm reset``: the controller manager has not (yet) given it a
``podCIDR`` (``spec.podCIDR`` absent), so flanneld on node-b cannot acquire
its subnet lease and exits at start — the message flannel prints for this
(main.go, "Error registering network: failed to acquire lease: node ... pod
cidr not assigned"). Its pod ``kube-flannel-ds-…`` on node-b is in
CrashLoopBackOff (14 restarts, last exit 1), the DaemonSet counts one ready
pod of two, and node-b's kubelet reports ``Ready=False`` with the runtime's
"cni plugin not initialized" (no ``/run/flannel/subnet.env``, so the CNI
plugin cannot give pods addresses).

Cluster part only: the node commands of the runbook are not in this
scenario (they read NOT CHECKED, said so) — the scenario exists for the API
side of the runbook, the check that names the agent pod and the log line.
"""

from __future__ import annotations

import datetime as dt
import json

from scenariokit.bundle import go_json
from scenariokit.lab import LabCluster
from scenariokit.objects import CAPTURED_AT, MIN

from k8srun.lab.topology import LAB

SCENARIO = {
    "description": "flannel on node-b crash-loops: 'Error registering network: failed to acquire lease: node "
                   "\"node-b\" pod cidr not assigned' (node-b re-joined without a podCIDR)",
    "runbook": "pod-network", "namespace": "kube-flannel",
    "expected_codes": ["NET-004"],
    "absent_codes": []}

RESTARTS = 14
NODE = LAB.node_b.name


def _klog(at: dt.datetime, level: str, where: str, message: str) -> str:
    return f"{level}{at:%m%d %H:%M:%S}.{at.microsecond:06d}       1 {where}] {message}\n"


def flannel_log(start: dt.datetime) -> str:
    """One run of flanneld v0.25 on a node without podCIDR, from start to exit."""
    lines = [
        (0.011, "I", "main.go:212", "CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 "
                                    "etcdPrefix:/coreos.com/network kubeSubnetMgr:true ipMasq:true}"),
        (0.012, "W", "client_config.go:618", "Neither --kubeconfig nor --master was specified.  Using the "
                                             "inClusterConfig.  This might not work."),
        (0.031, "I", "kube.go:139", "Waiting 10m0s for node controller to sync"),
        (0.031, "I", "kube.go:469", "Starting kube subnet manager"),
        (1.032, "I", "kube.go:146", "Node controller sync successful"),
        (1.032, "I", "main.go:232", f"Created subnet manager: Kubernetes Subnet Manager - {NODE}"),
        (1.032, "I", "main.go:235", "Installing signal handlers"),
        (1.033, "I", "main.go:469", "Found network config - Backend type: vxlan"),
        (1.034, "E", "main.go:335", f'Error registering network: failed to acquire lease: node "{NODE}" pod cidr '
                                    "not assigned"),
        (1.034, "I", "main.go:449", "Stopping shutdownHandler..."),
    ]
    return "".join(_klog(start + dt.timedelta(seconds=s), level, where, msg) for s, level, where, msg in lines)


class FlannelDown:
    """The lab's objects (no lab fault) with node-b's podCIDR gone and its flannel pod crash-looping.

    Not a LabCluster: nothing of it is recorded from the lab (the lab cannot
    un-assign a podCIDR); it renders the lab's files and edits them.
    """

    def __init__(self, name: str):
        self.name = name
        self.scenario: dict = {}

    def render_files(self) -> dict[str, str]:
        lab = LabCluster(())
        lab.scenario = self.scenario
        files = lab.render_files()
        at = (CAPTURED_AT - dt.timedelta(minutes=47)).strftime("%Y-%m-%dT%H:%M:%SZ")
        nodes = json.loads(files["nodes.json"])
        for node in nodes["items"]:
            if node["metadata"]["name"] == NODE:
                node["spec"].pop("podCIDR", None)
                node["spec"].pop("podCIDRs", None)
                for cond in node["status"]["conditions"]:
                    if cond["type"] == "Ready":
                        cond.update(status="False", reason="KubeletNotReady", lastTransitionTime=at,
                                    message="container runtime network not ready: NetworkReady=false "
                                            "reason:NetworkPluginNotReady message:Network plugin returns error: "
                                            "cni plugin not initialized")
        files["nodes.json"] = go_json(nodes)
        pods = json.loads(files["kube-flannel/pods.json"])
        last_start = CAPTURED_AT - dt.timedelta(seconds=3 * MIN + 12)
        for pod in pods["items"]:
            if pod["spec"]["nodeName"] != NODE:
                continue
            name = pod["metadata"]["name"]
            for cond in pod["status"]["conditions"]:
                if cond["type"] in ("Ready", "ContainersReady"):
                    cond.update(status="False", reason="ContainersNotReady", lastTransitionTime=at,
                                message="containers with unready status: [kube-flannel]")
            [status] = pod["status"]["containerStatuses"]
            finished = (last_start + dt.timedelta(seconds=1.2)).strftime("%Y-%m-%dT%H:%M:%SZ")
            status.update(ready=False, started=False, restartCount=RESTARTS,
                          state={"waiting": {"reason": "CrashLoopBackOff",
                                             "message": f"back-off 5m0s restarting failed container=kube-flannel "
                                                        f"pod={name}_kube-flannel({pod['metadata']['uid']})"}},
                          lastState={"terminated": {"exitCode": 1, "reason": "Error",
                                                    "startedAt": last_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                    "finishedAt": finished,
                                                    "containerID": status.get("containerID", "")}})
            log = flannel_log(last_start)
            framed = (f"==== START logs for container kube-flannel of pod kube-flannel/{name} ====\n{log}"
                      f"==== END logs for container kube-flannel of pod kube-flannel/{name} ====\n")
            files[f"kube-flannel/{name}/logs.txt"] = framed      # the kubelet serves the last run's log
            files[f"kube-flannel/{name}/logs-previous.txt"] = framed
        files["kube-flannel/pods.json"] = go_json(pods)
        daemonsets = json.loads(files["kube-flannel/daemonsets.json"])
        for ds in daemonsets["items"]:
            ds["status"].update(numberReady=1, numberAvailable=1, numberUnavailable=1)
        files["kube-flannel/daemonsets.json"] = go_json(daemonsets)
        info = json.loads(files["k8srun.json"])
        info["gathered"] = sorted(set(info["gathered"]) | {k for k in files if k.endswith("/logs-previous.txt")})
        files["k8srun.json"] = go_json(info)
        return files


def build():
    return FlannelDown("pod-network-flannel-down")
