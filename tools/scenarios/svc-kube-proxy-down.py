"""svc-kube-proxy-down: kube-proxy crash-loops on worker-2 (SVC-005).

worker-2's kube-proxy pod exits 1 at start (``iptables-restore`` fails, its
previous log says so) and is in CrashLoopBackOff, 23 restarts: that node's Service rules are no longer
kept in sync. The Services of ``default`` (web, kubernetes) have ready
endpoints. Cluster part only: the node codes read NOT CHECKED here.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.objects import DAY, MIN, exited, stuck
from scenariokit.workloads import daemon_pod, healthy_deployment

SCENARIO = {
    "description": "kube-proxy on worker-2 is in CrashLoopBackOff (exit 1, 23 restarts)",
    "runbook": "service-routing", "namespace": "default",
    "expected_codes": ["SVC-005"], "absent_codes": ["SVC-001", "SVC-002"]}


PREVIOUS_LOG = (
    'I1120 14:01:58.102311       1 server_linux.go:69] "Using iptables proxy"\n'
    'I1120 14:01:58.131902       1 server.go:1062] "Successfully retrieved node IP(s)" IPs=["10.0.0.12"]\n'
    'E1120 14:01:58.602114       1 proxier.go:1564] "Failed to execute iptables-restore" err=<\n'
    '\texit status 2: iptables-restore v1.8.9 (nf_tables): line 4 failed\n'
    ' >\n'
    'E1120 14:01:58.602201       1 run.go:74] "command failed" err="failed to sync proxy rules"\n')


def crash_loop_on(c: Cluster, node: str) -> None:
    """Replace ``node``'s kube-proxy pod by one that exits 1 at start and is in CrashLoopBackOff."""
    proxy = next(w for w in c.workloads if w.kind == "DaemonSet" and w.obj["metadata"]["name"] == "kube-proxy")
    pod = next(p for p in proxy.pods if p["spec"]["nodeName"] == node)
    proxy.pods.remove(pod)
    c.objects[("kube-system", "pods")].remove(pod)
    daemon_pod(c, proxy, node, stuck("CrashLoopBackOff", restarts=23, last=exited(1, "Error", 3 * MIN + 2, 3 * MIN),
                                     previous_log=PREVIOUS_LOG), 40 * DAY)


def build() -> Cluster:
    c = base_cluster("svc-kube-proxy-down")
    healthy_deployment(c, "default", "web", "registry.example.com/shop/web:1.8.2", "1.8.2",
                       ["worker-1", "worker-2"], started_ago=2 * DAY)
    crash_loop_on(c, "worker-2")
    return c
