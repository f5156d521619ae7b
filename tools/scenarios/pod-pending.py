"""pod-pending: PEND-001..005, five Pending pods in shop, one per cause.

worker-2 is a GPU node (label accelerator=nvidia-t4, taint dedicated=gpu:NoSchedule,
2 nvidia.com/gpu) running ml/llm-inference; shop's healthy services fill
worker-1's cpu. Pending: a Job asking for 3500m cpu (PEND-001), a GPU pod
that does not tolerate the taint (PEND-002), nodeSelector disktype=ssd
(PEND-003), a StatefulSet claim on a missing StorageClass (PEND-004); cart
and billing are scheduled but their images cannot be pulled (PEND-005).
"""

from scenariokit.apps import cart_missing_image
from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.events import (NODE_AFFINITY_REASON, UNAUTHORIZED, UNBOUND_PVC, fit_error,
                                image_pull_events, pending_events, pull_error, rollout_events, taint_reason)
from scenariokit.objects import (DAY, MIN, POD_SPEC_ORDER, container, env_secret, env_value, http_probe,
                                 log_lines, ordered, stuck, up, web_container)
from scenariokit.storage import pending_claim
from scenariokit.workloads import healthy_deployment, job, pending_deployment, statefulset

SCENARIO = {
    "description": "Five Pending pods in shop, one per cause: no cpu, untolerated GPU taint, "
                   "nodeSelector disktype=ssd, PVC on a missing StorageClass, image pull failures",
    "runbook": "pod-pending", "namespace": "shop",
    "expected_codes": ["PEND-001", "PEND-002", "PEND-003", "PEND-004", "PEND-005"],
    "absent_codes": ["PEND-006"]}


GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def build() -> Cluster:
    c = base_cluster("pod-pending", workers={"worker-2": {
        "labels": {"accelerator": "nvidia-t4", "nvidia.com/gpu.present": "true"},
        "taints": [GPU_TAINT], "extended": {"nvidia.com/gpu": "2"}}})
    c.namespace("shop", 30 * DAY)
    c.namespace("ml", 25 * DAY)

    # healthy shop services, all on worker-1 (worker-2 is the dedicated GPU node)
    healthy_deployment(c, "shop", "web", "registry.example.com/shop/web:1.8.2", "1.8.2", ["worker-1", "worker-1"],
                       started_ago=3 * DAY, cpu="500m", memory="256Mi", memory_limit="512Mi")
    healthy_deployment(c, "shop", "catalog", "registry.example.com/shop/catalog:4.2.0", "4.2.0", ["worker-1"],
                       started_ago=3 * DAY, cpu="1", memory="1Gi")
    healthy_deployment(c, "shop", "search", "registry.example.com/shop/search:2.0.7", "2.0.7", ["worker-1"],
                       started_ago=3 * DAY, cpu="1", memory="2Gi", memory_limit="3Gi")
    c.configmap("shop", "web-config", ["FEATURE_FLAGS", "LOG_LEVEL"])

    # the GPU node runs an inference server that tolerates its taint
    inference = c.deployment(
        "ml", "llm-inference",
        [container("server", "registry.example.com/ml/llm-inference:0.6.1", ports=(("http", 8000),),
                   requests={"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": "1"},
                   limits={"memory": "14Gi", "nvidia.com/gpu": "1"},
                   readiness=http_probe("/health", "http", period=10))],
        created_ago=25 * DAY, rs_created_ago=9 * DAY, node_selector={"accelerator": "nvidia-t4"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}])
    c.replica(inference, node="worker-2", created_ago=9 * DAY,
              runs={"server": up(9 * DAY - 40, log=log_lines(9 * DAY - 40, (0, "INFO: loading weights (4 shards)"),
                                                            (52, "INFO: Uvicorn running on http://0.0.0.0:8000")))})
    c.service("ml", "llm-inference", {"app": "llm-inference"}, [("http", 80, "http")], created_ago=25 * DAY)

    cp_taint = taint_reason("node-role.kubernetes.io/control-plane")
    gpu_taint = taint_reason("dedicated", "gpu")

    # PEND-001: a Job asking for 3500m cpu; no node has that much free
    reindex = job(c, "shop", "nightly-reindex",
                  [container("reindex", "registry.example.com/shop/search-indexer:2.0.7",
                             args=["--full", "--parallel=8"], requests={"cpu": "3500m", "memory": "4Gi"},
                             limits={"cpu": "3500m", "memory": "4Gi"})], created_ago=25 * MIN)
    pod = c.replica(reindex, node=None, runs={}, created_ago=25 * MIN,
                    unschedulable=fit_error([cp_taint, "Insufficient cpu", gpu_taint]))
    pod["metadata"]["finalizers"] = ["batch.kubernetes.io/job-tracking"]
    c.event("Job", reindex.obj, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
            component="job-controller", first_ago=25 * MIN, api_version="batch/v1")
    pending_events(c, pod, pod["status"]["conditions"][0]["message"], first_ago=25 * MIN - 1,
                   last_ago=2 * MIN + 13, count=9)

    # PEND-002: wants the GPU node (nodeSelector) but does not tolerate dedicated=gpu:NoSchedule
    no_match = fit_error([cp_taint, NODE_AFFINITY_REASON, gpu_taint])
    pending_deployment(c, "shop", "image-tagger",
                       [container("tagger", "registry.example.com/shop/image-tagger:1.1.0",
                                  requests={"cpu": "500m", "memory": "2Gi", "nvidia.com/gpu": "1"},
                                  limits={"memory": "2Gi", "nvidia.com/gpu": "1"})],
                       node_selector={"accelerator": "nvidia-t4"}, created_ago=40 * MIN, message=no_match,
                       last_ago=4 * MIN + 2, count=11)

    # PEND-003: nodeSelector disktype=ssd, a label no node has
    pending_deployment(c, "shop", "inventory-cache",
                       [container("redis", "redis:7.2.5", ports=(("redis", 6379),),
                                  requests={"cpu": "200m", "memory": "512Mi"}, limits={"memory": "512Mi"})],
                       node_selector={"disktype": "ssd"}, created_ago=18 * MIN, message=no_match,
                       last_ago=3 * MIN + 40, count=7)
    c.service("shop", "inventory-cache", {"app": "inventory-cache"}, [("redis", 6379, "redis")],
              created_ago=18 * MIN)

    # PEND-004: StatefulSet whose claim asks for a StorageClass that does not exist
    db = statefulset(c, "shop", "orders-db",
                     [container("postgres", "postgres:16.4", ports=(("postgres", 5432),),
                                env=[env_value("PGDATA", "/var/lib/postgresql/data/pgdata"),
                                     env_secret("POSTGRES_PASSWORD", "orders-db", "password")],
                                requests={"cpu": "250m", "memory": "512Mi"}, limits={"memory": "1Gi"},
                                mounts=[{"name": "data", "mountPath": "/var/lib/postgresql/data"}])],
                     service="orders-db", claims=[("data", "fast-ssd", "20Gi")], created_ago=16 * MIN)
    pod = c.replica(db, node=None, runs={}, created_ago=16 * MIN, name="orders-db-0",
                    extra_labels={"apps.kubernetes.io/pod-index": "0",
                                  "statefulset.kubernetes.io/pod-name": "orders-db-0"},
                    unschedulable=fit_error(["-"] * 3, prefilter=UNBOUND_PVC))
    pod["spec"]["volumes"].insert(0, {"name": "data", "persistentVolumeClaim": {"claimName": "data-orders-db-0"}})
    pod["spec"].update(hostname="orders-db-0", subdomain="orders-db")
    pod["spec"] = ordered(pod["spec"], POD_SPEC_ORDER)
    pvc = pending_claim(c, "shop", "data-orders-db-0", "20Gi", "fast-ssd", created_ago=16 * MIN,
                        labels={"app": "orders-db"})
    c.event("StatefulSet", db.obj, "SuccessfulCreate", "create Claim data-orders-db-0 Pod orders-db-0 in "
            "StatefulSet orders-db success", component="statefulset-controller", first_ago=16 * MIN,
            api_version="apps/v1")
    c.event("StatefulSet", db.obj, "SuccessfulCreate", "create Pod orders-db-0 in StatefulSet orders-db successful",
            component="statefulset-controller", first_ago=16 * MIN - 0.1, api_version="apps/v1")
    c.event("PersistentVolumeClaim", pvc, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found',
            component="persistentvolume-controller", type_="Warning", first_ago=16 * MIN, last_ago=11, count=64)
    pending_events(c, pod, pod["status"]["conditions"][0]["message"], first_ago=16 * MIN - 1,
                   last_ago=1 * MIN + 51, count=8)
    c.service("shop", "orders-db", {"app": "orders-db"}, [("postgres", 5432, "postgres")], headless=True,
              created_ago=16 * MIN)

    # PEND-005: scheduled, but the image cannot be pulled (tag not found / registry says 401)
    cart_missing_image(c, node="worker-1", rolled_out_ago=14 * MIN, last_pull_ago=2 * MIN + 30, pulls=7,
                       backoffs=58, last_backoff_ago=9)

    billing_image = "registry.example.com/private/billing:1.4.0"
    billing = c.deployment("shop", "billing", [web_container("billing", billing_image, cpu="250m", memory="256Mi")],
                           created_ago=9 * MIN)
    error = pull_error(UNAUTHORIZED, billing_image)
    pod = c.replica(billing, node="worker-1", created_ago=9 * MIN, runs={"billing": stuck("ErrImagePull", error)})
    rollout_events(c, billing, pod, 9 * MIN)
    image_pull_events(c, pod, "billing", error, first_ago=9 * MIN - 2, last_ago=6, pulls=6, backoffs=33,
                      last_backoff_ago=21)
    c.service("shop", "billing", {"app": "billing"}, [("http", 80, "http")], created_ago=9 * MIN)

    return c

