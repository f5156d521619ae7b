"""firewall-l7: node-b's FORWARD resets requests for /admin (xt_string) — L4 connects, L7 is reset (FW-002).

Recorded from the fault lab (``"cluster": "lab"``): fault ``firewall-l7``
inserts ``-A FORWARD -p tcp --dport 8080 -m string --string "GET /admin"
--algo bm -j REJECT --reject-with tcp-reset`` on node-b, on the way to
web-b. The runbook ran from pod-a (``netns:k8l-pod-a``) to web-b
``10.244.2.10:8080`` with ``url`` http://10.244.2.10:8080/admin and the
rules read on node-b (``rules_target`` ``netns:k8l-node-b``): the handshake
passes, the request is answered with a RST, and the string rule's counter
moved (FW-002). No L4 rule took the SYN (FW-001 clear), no "No route to
host" (FW-003 clear).
"""

from scenariokit.lab import lab_cluster

SCENARIO = {
    "description": "node-b's FORWARD resets 'GET /admin' (firewall-l7): from pod-a the TCP connect to web-b "
                   "succeeds and the request is reset; the string-match rule's counter moved",
    "runbook": "firewall", "namespace": "default",
    "expected_codes": ["FW-002"],
    "absent_codes": ["FW-001", "FW-003"]}

RECORD = {"runbook": "firewall", "faults": ["firewall-l7"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-pod-a", "dest": "10.244.2.10", "port": 8080,
                         "url": "http://10.244.2.10:8080/admin", "rules_target": "netns:k8l-node-b"}}


def build():
    return lab_cluster(RECORD["faults"])
