"""service-routing: node-a's kube-proxy rules DNAT web:http to a pod that is gone (SVC-004).

Recorded from the fault lab with its API snapshot as the cluster part
(``"cluster": "lab"``): fault ``svc-stale-endpoint`` leaves node-a's
KUBE-SEP chain for pod-b (10.244.2.10) DNATing to 10.244.2.99, an address no
pod has, while the API's Endpoints and EndpointSlice list web-a and web-b —
half of the new connections to 10.96.0.50:80 from node-a go nowhere. The
runbook ran on node-a (``netns:k8l-node-a``) for Service default/web:
``iptables-save -c`` and ``conntrack -L -d 10.96.0.50`` are the recorded
node part. Selector, targetPort (web-a declares no https port: the https
port's only backend is web-b, by design) and kube-proxy pods are healthy.
"""

from scenariokit.lab import lab_cluster

SCENARIO = {
    "description": "node-a DNATs half of web:http to 10.244.2.99, a pod that is gone (fault lab, "
                   "svc-stale-endpoint): its rules differ from the Endpoints",
    "runbook": "service-routing", "namespace": "default",
    "expected_codes": ["SVC-004"],
    "absent_codes": ["SVC-001", "SVC-002", "SVC-003", "SVC-005"]}

RECORD = {"runbook": "service-routing", "faults": ["svc-stale-endpoint"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-node-a", "namespace": "default", "service": "web"}}


def build():
    return lab_cluster(RECORD["faults"])
