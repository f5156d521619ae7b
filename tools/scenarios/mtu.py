"""mtu: the router's link to node-b carries only 1400 bytes (MTU-001; MTU-002 checked and clear).

The cluster part is the base cluster; the evidence is node commands recorded
from the fault lab (``RECORD``) by ``tools/record_scenarios.py``: fault
``mtu`` lowers the router → node-b link to MTU 1400, and the runbook searched
the path MTU from node-a (``netns:k8l-node-a``, uplink MTU 1500) to node-b,
192.168.20.2. The 1500-byte DF probe gets "Frag needed and DF set (mtu =
1400)" from the router, 192.168.10.1; the 1400-byte probe passes (MTU-001
names 1400 and the router). node-a's VXLAN device (1450) plus 50 bytes fits
its 1500-byte uplink and its pod-facing bridge and veth are 1450, so MTU-002
is checked and clear — yet pod traffic to node-b now needs an overlay MTU of
at most 1350, which MTU-001's detail says.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster

SCENARIO = {
    "description": "The router's link to node-b has MTU 1400 (fault lab, mtu): from node-a, 1500-byte DF "
                   "packets to node-b get 'frag needed (mtu = 1400)' from the router",
    "runbook": "mtu", "namespace": "default",
    "expected_codes": ["MTU-001"],
    "absent_codes": ["MTU-002"]}

RECORD = {"runbook": "mtu", "faults": ["mtu"],
          "parameters": {"target": "netns:k8l-node-a", "dest": "192.168.20.2"}}


def build() -> Cluster:
    return base_cluster("mtu")
