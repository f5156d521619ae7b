"""svc-target-port: Service shop/search points at ports its pods do not expose (SVC-002, SVC-001).

The search pods name their one container port ``http`` (8080). The
Service's ``http`` port has ``targetPort: web`` — a name no container
defines, so the endpoints controller leaves every pod out of that port
(SVC-002 error, and SVC-001: the port has no ready endpoint) — and its
``metrics`` port targets 9090, a number no container declares while they
declare 8080 (SVC-002 at warning severity: containerPort is informational).
Cluster part only: the node codes read NOT CHECKED here.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.objects import DAY, MIN
from scenariokit.workloads import healthy_deployment

SCENARIO = {
    "description": "Service shop/search: targetPort 'web' is no port name of its pods (they name 8080 'http'), "
                   "targetPort 9090 is declared by no container",
    "runbook": "service-routing", "namespace": "shop",
    "expected_codes": ["SVC-001", "SVC-002"], "absent_codes": ["SVC-005"]}


def build() -> Cluster:
    c = base_cluster("svc-target-port")
    c.namespace("shop", 30 * DAY)
    healthy_deployment(c, "shop", "search", "registry.example.com/shop/search:3.2.1", "3.2.1",
                       ["worker-1", "worker-2"], started_ago=1 * DAY, service=False)
    c.service("shop", "search", {"app": "search"}, [("http", 80, "web"), ("metrics", 9090, 9090)],
              created_ago=40 * MIN)
    return c
