"""firewall-host-unreachable: node-a REJECTs the web port with icmp-host-unreachable — "No route to host" (FW-001, FW-003).

Recorded from the fault lab (``"cluster": "lab"``): fault
``firewall-host-unreachable`` inserts ``-A FORWARD -p tcp --dport 8080 -j
REJECT --reject-with icmp-host-unreachable`` on node-a. The runbook ran from
pod-a (``netns:k8l-pod-a``) to web-b ``10.244.2.10:8080`` with the rules read
on node-a. The connect fails with EHOSTUNREACH ("No route to host") from an
ICMP host unreachable that node-a sends at once, while ``ip route get`` on
pod-a has a route (via 10.244.1.1): the rule is FW-001, and FW-003 warns
that it looks like routing.
"""

from scenariokit.lab import lab_cluster

SCENARIO = {
    "description": "node-a REJECTs tcp 8080 with icmp-host-unreachable (firewall-host-unreachable): pod-a gets "
                   "'No route to host' for web-b although it has a route; the REJECT rule's counter moved",
    "runbook": "firewall", "namespace": "default",
    "expected_codes": ["FW-001", "FW-003"],
    "absent_codes": []}

RECORD = {"runbook": "firewall", "faults": ["firewall-host-unreachable"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-pod-a", "dest": "10.244.2.10", "port": 8080,
                         "rules_target": "netns:k8l-node-a"}}


def build():
    return lab_cluster(RECORD["faults"])
