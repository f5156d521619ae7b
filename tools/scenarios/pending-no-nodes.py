"""pending-no-nodes: PEND-006, no node can take a new pod.

worker-1 stopped reporting (NotReady, unreachable taints) 4m10s ago,
worker-2 was cordoned 35m ago, cp-1 keeps its control-plane taint. web's
two pods (evicted from worker-2 by the drain) sit on the silent worker-1;
the new api pod is Pending.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.events import UNSCHEDULABLE_REASON, fit_error, taint_reason
from scenariokit.objects import DAY, MIN, app_log, up, web_container
from scenariokit.workloads import pending_deployment

SCENARIO = {
    "description": "A new pod cannot schedule: worker-1 NotReady (unreachable), worker-2 cordoned, "
                   "cp-1 keeps its control-plane taint",
    "runbook": "pod-pending", "namespace": "default",
    "expected_codes": ["PEND-006"],
    "absent_codes": ["PEND-001", "PEND-002", "PEND-003", "PEND-004", "PEND-005"]}


def build() -> Cluster:
    lost = 4 * MIN + 10
    c = base_cluster("pending-no-nodes",
                     workers={"worker-1": {"lost_ago": lost}, "worker-2": {"cordoned_ago": 35 * MIN}})

    # web was evicted from worker-2 by the drain and now runs on worker-1, which went silent
    web = c.deployment("default", "web", [web_container("web", "registry.example.com/shop/web:1.8.2",
                                                        cpu="250m", memory="256Mi")],
                       replicas=2, created_ago=20 * DAY, rs_created_ago=6 * DAY)
    for _ in range(2):
        pod = c.replica(web, node="worker-1", created_ago=35 * MIN - 2, node_lost_ago=lost,
                        runs={"web": up(35 * MIN - 6, log=app_log(35 * MIN - 6, "web", "1.8.2", 8080))})
        c.started_events(pod, ago=35 * MIN - 6)
        c.event("Pod", pod, "NodeNotReady", "Node is not ready", component="node-controller", type_="Warning",
                first_ago=lost - 45)
    c.service("default", "web", {"app": "web"}, [("http", 80, "http")])

    message = fit_error([taint_reason("node-role.kubernetes.io/control-plane"),
                         taint_reason("node.kubernetes.io/unreachable"), UNSCHEDULABLE_REASON])
    pending_deployment(c, "default", "api", [web_container("api", "registry.example.com/shop/api:2.4.0",
                                                           cpu="250m", memory="256Mi")],
                       created_ago=3 * MIN, message=message, last_ago=38, count=3)
    c.service("default", "api", {"app": "api"}, [("http", 80, "http")], created_ago=3 * MIN)

    c.event("Node", c.node_named("worker-2"), "NodeNotSchedulable", "Node worker-2 status is now: NodeNotSchedulable",
            component="kubelet", host="worker-2", first_ago=35 * MIN)
    c.event("Node", c.node_named("worker-1"), "NodeNotReady", "Node worker-1 status is now: NodeNotReady",
            component="node-controller", first_ago=lost - 40)
    return c

