"""dns-coredns-loop: CoreDNS crash-loops on a forwarding loop (DNS-004), so kube-dns has no ready endpoint (DNS-003).

Both CoreDNS replicas of the base cluster exit 1 right after start: their
Corefile forwards ``.`` to the node's resolv.conf, which names 127.0.0.53
(systemd-resolved's stub), i.e. CoreDNS itself — the loop plugin sends its
HINFO probe, sees it come back and stops the process with

    [FATAL] plugin/loop: Loop (127.0.0.1:47371 -> :53) detected for zone ".", see
    https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."

(the message format of CoreDNS's plugin/loop). They are in CrashLoopBackOff
(31 and 29 restarts), so the kube-dns Endpoints list both only as
notReadyAddresses. The node part is recorded from the fault lab under
``dns-down`` — from pod-a, whose kube-dns ClusterIP is the same 10.96.0.10,
port 53 does not answer (DNS-005: unreachable, see tools/scenarios/dns.py) — with the pod's namespace given (``pod_namespace=default``), since
the base cluster has no pod with pod-a's address.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.objects import MIN, exited, stable_hex, stuck, when

SCENARIO = {
    "description": "Both CoreDNS pods crash-loop with '[FATAL] plugin/loop: Loop (127.0.0.1:47371 -> :53) "
                   "detected'; kube-dns has no ready endpoint",
    "runbook": "dns", "namespace": "default",
    "expected_codes": ["DNS-003", "DNS-004"],
    "absent_codes": []}

LOOP_LOG = (".:53\n[INFO] plugin/reload: Running configuration SHA512 = "
            f"{stable_hex('corefile', length=128)}\nCoreDNS-1.11.1\nlinux/amd64, go1.20.7, ae2bbc2\n"
            '[FATAL] plugin/loop: Loop (127.0.0.1:47371 -> :53) detected for zone ".", see '
            'https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."\n')


def _crash_loop(cluster: Cluster, pod: dict, restarts: int) -> None:
    """A running CoreDNS pod turned into one crash-looping on the loop plugin since 2 hours."""
    status = pod["status"]
    for condition in status["conditions"]:
        if condition["type"] in ("Ready", "ContainersReady"):
            condition.update(status="False", reason="ContainersNotReady", lastTransitionTime=when(120 * MIN),
                             message="containers with unready status: [coredns]")
    [container] = status["containerStatuses"]
    last = exited(1, "Error", 2 * MIN + 9, 2 * MIN + 7)
    last["terminated"]["containerID"] = container.get("containerID", "")
    container.update(ready=False, started=False, restartCount=restarts,
                     state={"waiting": {"reason": "CrashLoopBackOff",
                                        "message": "back-off 5m0s restarting failed container=coredns "
                                                   f"pod={pod['metadata']['name']}_kube-system"
                                                   f"({pod['metadata']['uid']})"}},
                     lastState=last)
    key = ("kube-system", pod["metadata"]["name"])
    inits, _ = cluster.runs[key]
    cluster.runs[key] = (inits, [("coredns", stuck("CrashLoopBackOff", restarts=restarts, last=last,
                                                   previous_log=LOOP_LOG))])


def build() -> Cluster:
    c = base_cluster("dns-coredns-loop")
    coredns = [p for p in c.objects[("kube-system", "pods")] if p["metadata"]["name"].startswith("coredns-")]
    for pod, restarts in zip(coredns, (31, 29)):
        _crash_loop(c, pod, restarts)
    return c
