"""routing-sysctl: node-a lost its route to node-b's pod CIDR (ROUTE-001, ROUTE-002).

The cluster part is the base cluster; the evidence is node commands recorded
from the fault lab (``RECORD``) by ``tools/record_scenarios.py``: fault
``no-route`` deletes node-a's route to 10.244.2.0/24, and the runbook asked
node-a (``netns:k8l-node-a``) for the route to pod-b, 10.244.2.10. The
kernel answers "Network is unreachable" (ROUTE-001); the lab's nodes have no
default route by design (ROUTE-002). node-a forwards (uplink, pod bridge,
VXLAN) with ``ip_forward = 1``, br_netfilter on with pods on its bridge and
rp_filter off, so SYS-001..003 are checked and clear.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster

SCENARIO = {
    "description": "node-a has no route to node-b's pod CIDR (fault lab, no-route): ip route get 10.244.2.10 "
                   "says Network is unreachable",
    "runbook": "routing-sysctl", "namespace": "default",
    "expected_codes": ["ROUTE-001", "ROUTE-002"],
    "absent_codes": ["SYS-001", "SYS-002", "SYS-003"]}

RECORD = {"runbook": "routing-sysctl", "faults": ["no-route"],
          "parameters": {"target": "netns:k8l-node-a", "dest": "10.244.2.10"}}


def build() -> Cluster:
    return base_cluster("routing-sysctl")
