"""firewall: node-a's FORWARD chain REJECTs the web port (firewall-reject) — seen from pod-a (FW-001).

Recorded from the fault lab with its cluster part the lab itself
(``"cluster": "lab"``): fault ``firewall-reject`` inserts
``-A FORWARD -p tcp --dport 8080 -j REJECT --reject-with icmp-port-unreachable``
on node-a. The runbook ran from pod-a (``netns:k8l-pod-a``) against the web
Service's ClusterIP 10.96.0.50:80 with ``url`` http://web.default/ and read
the rules on pod-a's node (``rules_target`` ``netns:k8l-node-a``).

Why this fault for the runbook's default scenario: it is the case the
runbook exists for and shows every join it makes — the probe's
``Connection refused`` comes with the ICMP port unreachable and who sent it
(node-a, not the web pods: nothing there refused), the ClusterIP is
followed through kube-proxy's DNAT (KUBE-SVC → KUBE-SEP) to the backends'
port 8080 that the FORWARD rule matches, and that rule's counter moves
during the one probe (FW-001). The route exists and the answer is a port
unreachable, not "No route to host" (FW-003 checked and clear); the L4
connect failed, so no request was sent (FW-002 NOT CHECKED, said so).
"""

from scenariokit.lab import lab_cluster

SCENARIO = {
    "description": "node-a's FORWARD chain REJECTs tcp 8080 (firewall-reject): from pod-a the web ClusterIP "
                   "10.96.0.50:80 is refused with ICMP port unreachable from node-a; the REJECT rule's counter moved",
    "runbook": "firewall", "namespace": "default",
    "expected_codes": ["FW-001"],
    "absent_codes": ["FW-003"]}

RECORD = {"runbook": "firewall", "faults": ["firewall-reject"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-pod-a", "dest": "10.96.0.50", "port": 80,
                         "url": "http://web.default/", "rules_target": "netns:k8l-node-a"}}


def build():
    return lab_cluster(RECORD["faults"])
