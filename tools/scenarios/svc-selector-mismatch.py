"""svc-selector-mismatch: Service shop/orders selects no pod (SVC-001).

The orders Deployment labels its pods ``app=orders``; the Service was
written with ``app=order``. Its Endpoints and EndpointSlice are empty, so
every request to the ClusterIP is refused. Cluster part only (no node
recording): the node codes read NOT CHECKED in this scenario — the lab
scenarios cover them.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.objects import DAY, MIN
from scenariokit.workloads import healthy_deployment

SCENARIO = {
    "description": "Service shop/orders has selector app=order, its pods are labelled app=orders: no endpoint",
    "runbook": "service-routing", "namespace": "shop",
    "expected_codes": ["SVC-001"], "absent_codes": ["SVC-002", "SVC-005"]}


def build() -> Cluster:
    c = base_cluster("svc-selector-mismatch")
    c.namespace("shop", 30 * DAY)
    healthy_deployment(c, "shop", "orders", "registry.example.com/shop/orders:4.1.0", "4.1.0",
                       ["worker-1", "worker-2"], started_ago=2 * DAY, service=False)
    c.service("shop", "orders", {"app": "order"}, [("http", 80, "http")], created_ago=25 * MIN,
              labels={"app": "orders"})
    healthy_deployment(c, "shop", "catalog", "registry.example.com/shop/catalog:2.0.7", "2.0.7",
                       ["worker-1", "worker-2"], started_ago=3 * DAY)
    return c
