"""svc-ipvs-stale: IPVS on worker-1 still balances web:http to a pod that was replaced (SVC-006).

kube-proxy runs in IPVS mode. The web Deployment rolled out 12 minutes ago:
its pods are now 10.244.1.10 (worker-1) and 10.244.2.10 (worker-2), and the
Endpoints say so, but worker-1's virtual server for 10.96.118.43:80 still has
the old pod 10.244.2.7 as a real server (weight 1) and lacks 10.244.2.10 —
the kube-proxy on worker-1 stopped syncing after the rollout. Its conntrack
table still holds a connection DNATed to 10.244.2.7 (SVC-007).

The node part (``hosts/node_worker-1/``) is **hand-written**, not recorded:
this sandbox's kernel has no IPVS, so neither the lab nor a test can produce
``ipvsadm -Ln`` output. The texts follow what the tools print — ipvsadm
1.31's ``-Ln`` layout (as in tests/fixtures/cmd/ipvsadm--recorded-upstream.out),
``iptables-save -c`` of kube-proxy's IPVS mode (ipset matches
``KUBE-CLUSTER-IP``, chains ``KUBE-NODE-PORT`` / ``KUBE-LOAD-BALANCER``, no
KUBE-SVC chains) and ``conntrack -L`` lines. ``tools/build_scenarios.py``
keeps them; ``tools/record_scenarios.py`` leaves this recipe alone (no RECORD).
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.objects import DAY, MIN
from scenariokit.workloads import healthy_deployment

SCENARIO = {
    "description": "IPVS mode: worker-1's virtual server for web:http still lists the replaced pod 10.244.2.7 "
                   "and lacks 10.244.2.10",
    "runbook": "service-routing", "namespace": "default",
    "expected_codes": ["SVC-006", "SVC-007"],
    "absent_codes": ["SVC-001", "SVC-002", "SVC-003", "SVC-004", "SVC-005"]}


def build() -> Cluster:
    c = base_cluster("svc-ipvs-stale")
    healthy_deployment(c, "default", "web", "registry.example.com/shop/web:1.9.0", "1.9.0",
                       ["worker-1", "worker-2"], started_ago=12 * MIN, service=False)
    c.service("default", "web", {"app": "web"}, [("http", 80, "http")], created_ago=20 * DAY,
              cluster_ip="10.96.118.43")
    return c
