"""healthy: everything Running and Ready, Normal events only, every Service with endpoints.

The base cluster plus namespace shop; web in default and catalog, cart,
search in shop, all healthy (web and cart recently rolled out: their
Scheduled/Pulled/Created/Started events are there).
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.objects import DAY, MIN
from scenariokit.workloads import healthy_deployment

SCENARIO = {
    "description": "A healthy 3-node cluster: every pod Running and Ready, Normal events only, "
                   "every Service with endpoints",
    "runbook": "triage", "namespace": "default", "expected_codes": [],
    "absent_codes": ["CRASH-001", "CRASH-002", "CRASH-003", "CRASH-004", "CRASH-005", "CRASH-006", "CRASH-007",
                     "PEND-001", "PEND-002", "PEND-003", "PEND-004", "PEND-005", "PEND-006", "TRIAGE-001"]}


def build() -> Cluster:
    c = base_cluster("healthy")
    c.namespace("shop", 30 * DAY)
    healthy_deployment(c, "default", "web", "registry.example.com/shop/web:1.8.2", "1.8.2",
                       ["worker-1", "worker-2"], started_ago=25 * MIN, cpu="250m", memory="256Mi", with_events=True)
    healthy_deployment(c, "shop", "catalog", "registry.example.com/shop/catalog:4.2.0", "4.2.0",
                       ["worker-1", "worker-2"], started_ago=3 * DAY, cpu="500m", memory="1Gi")
    healthy_deployment(c, "shop", "cart", "registry.example.com/shop/cart:2.3.0", "2.3.0",
                       ["worker-2"], started_ago=41 * MIN, cpu="250m", memory="256Mi", with_events=True)
    healthy_deployment(c, "shop", "search", "registry.example.com/shop/search:2.0.7", "2.0.7",
                       ["worker-1"], started_ago=3 * DAY, cpu="1", memory="2Gi", memory_limit="3Gi")
    c.configmap("shop", "web-config", ["FEATURE_FLAGS", "LOG_LEVEL"])
    return c
