"""tls-incomplete-chain: web's server sends its leaf without the intermediate that signed it (TLS-003).

Recorded from the fault lab (``"cluster": "lab"``): fault
``tls-incomplete-chain`` re-issues web-b's certificate (10.244.2.10:8443)
from ``k8srun lab intermediate CA`` (itself signed by the lab CA) and
serves the leaf alone. pod-a trusts the lab CA, the root: OpenSSL cannot
build the chain (``unable to get local issuer certificate``), and the leaf
names where its issuer is published (AIA caIssuers), so the runbook says
"chain incomplete: intermediate missing", not "unknown authority". Dates,
name and handshake are fine.
"""

from scenariokit.lab import lab_cluster

from k8srun.lab.certs import CA_FILE
from k8srun.lab.state import state_dir

SCENARIO = {
    "description": "web's HTTPS server (10.244.2.10:8443) sends its leaf without the intermediate CA that signed it: "
                   "from pod-a, which trusts only the root, the chain cannot be built",
    "runbook": "tls", "namespace": "default",
    "expected_codes": ["TLS-003"],
    "absent_codes": ["TLS-001", "TLS-002", "TLS-004", "TLS-005", "TLS-006"]}

RECORD = {"runbook": "tls", "faults": ["tls-incomplete-chain"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-pod-a", "endpoint": "10.244.2.10:8443",
                         "server_name": "web.default.svc.cluster.local", "ca_bundle": str(state_dir() / CA_FILE)}}


def build():
    return lab_cluster(RECORD["faults"])
