"""triage: TRIAGE-001, a cluster-wide incident mix.

worker-3 (zone-b) stopped reporting 4m10s ago with a web pod on it;
payments/api is OOMKilled in a loop, shop/cart cannot pull its image,
shop/recommender asks for more memory than any node has free, and Service
default/checkout selects no pod (app=checkout vs the pods'
app.kubernetes.io/name=checkout).
"""

from scenariokit.apps import cart_missing_image, oom_killed_api
from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.events import fit_error, rollout_events, taint_reason
from scenariokit.objects import DAY, MIN, app_log, up, web_container
from scenariokit.workloads import healthy_deployment, pending_deployment

SCENARIO = {
    "description": "Incident mix: worker-3 NotReady, payments/api CrashLoopBackOff (OOMKilled), "
                   "shop/cart ImagePullBackOff, shop/recommender Pending (memory), Service "
                   "default/checkout without endpoints",
    "runbook": "triage", "namespace": "default",
    "expected_codes": ["TRIAGE-001"], "absent_codes": []}


def build() -> Cluster:
    lost = 4 * MIN + 10
    c = base_cluster("triage", workers={"worker-3": {"lost_ago": lost, "zone": "zone-b"}})
    c.namespace("shop", 30 * DAY)
    c.namespace("payments", 60 * DAY)

    # default: web (one replica on the lost node), checkout whose Service selects nothing
    web = c.deployment("default", "web", [web_container("web", "registry.example.com/shop/web:1.8.2",
                                                        cpu="250m", memory="256Mi")],
                       replicas=2, created_ago=20 * DAY, rs_created_ago=58 * MIN, revision=9)
    for node in ("worker-1", "worker-3"):
        started = 57 * MIN
        pod = c.replica(web, node=node, created_ago=58 * MIN, node_lost_ago=lost if node == "worker-3" else None,
                        runs={"web": up(started, log=app_log(started, "web", "1.8.2", 8080))})
        if node == "worker-1":
            rollout_events(c, web, pod, 58 * MIN)
        c.started_events(pod, ago=started)
        ip = pod["status"]["podIP"]
        c.event("Pod", pod, "Unhealthy", f'Readiness probe failed: Get "http://{ip}:8080/ready": dial tcp '
                f"{ip}:8080: connect: connection refused", component="kubelet", host=node, type_="Warning",
                first_ago=started - 1, last_ago=started - 6, count=2, field_path="spec.containers{web}")
        if node == "worker-3":
            c.event("Pod", pod, "NodeNotReady", "Node is not ready", component="node-controller",
                    type_="Warning", first_ago=lost - 45)
    c.service("default", "web", {"app": "web"}, [("http", 80, "http")])
    checkout = c.deployment("default", "checkout",
                            [web_container("checkout", "registry.example.com/shop/checkout:3.0.0", cpu="250m",
                                           memory="256Mi")],
                            replicas=2, labels={"app.kubernetes.io/name": "checkout"}, created_ago=2 * DAY)
    for node in ("worker-1", "worker-2"):
        c.replica(checkout, node=node, created_ago=2 * DAY,
                  runs={"checkout": up(2 * DAY - 5, log=app_log(2 * DAY - 5, "checkout", "3.0.0", 8080))})
    c.service("default", "checkout", {"app": "checkout"}, [("http", 80, "http")], created_ago=40 * MIN,
              labels={"app.kubernetes.io/name": "checkout"})

    # shop: an image that does not exist, and a pod asking for 12Gi of memory
    for name, nodes, memory in (("catalog", ["worker-1", "worker-2"], "2Gi"), ("search", ["worker-1", "worker-2"], "4Gi")):
        healthy_deployment(c, "shop", name, f"registry.example.com/shop/{name}:2.0.7", "2.0.7", nodes,
                           started_ago=3 * DAY, cpu="250m", memory=memory)
    cart_missing_image(c, node="worker-2", rolled_out_ago=22 * MIN, last_pull_ago=1 * MIN + 30, pulls=9,
                       backoffs=94, last_backoff_ago=10)
    message = fit_error([taint_reason("node-role.kubernetes.io/control-plane"), "Insufficient memory",
                         "Insufficient memory", taint_reason("node.kubernetes.io/unreachable")])
    pending_deployment(c, "shop", "recommender", [web_container(
        "recommender", "registry.example.com/shop/recommender:1.3.0", cpu="500m", memory="12Gi")],
        created_ago=35 * MIN, message=message, last_ago=1 * MIN + 5, count=12)
    c.service("shop", "recommender", {"app": "recommender"}, [("http", 80, "http")], created_ago=35 * MIN)

    # payments: api OOMKilled in a loop
    healthy_deployment(c, "payments", "gateway", "registry.example.com/payments/gateway:2.2.0", "2.2.0",
                       ["worker-1", "worker-2"], started_ago=2 * DAY, cpu="200m", memory="256Mi")
    oom_killed_api(c, node="worker-2", rolled_out_ago=50 * MIN, run_start=2 * MIN + 50, backoffs=201,
                   backoff_last_ago=20, pid=51877)

    c.event("Node", c.node_named("worker-3"), "NodeNotReady", "Node worker-3 status is now: NodeNotReady",
            component="node-controller", first_ago=lost - 40)
    return c

