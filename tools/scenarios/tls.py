"""tls: web's HTTPS certificate expired yesterday — pod-a's client refuses it (TLS-001).

Recorded from the fault lab (``"cluster": "lab"``): fault ``tls-expired``
re-issues the certificate ``openssl s_server`` presents on web-b
(10.244.2.10:8443, behind Service web:https) with notAfter one day in the
past. The runbook ran from pod-a (``netns:k8l-pod-a``) with SNI
``web.default.svc.cluster.local`` against the lab CA: the chain is trusted
(TLS-003 clear), the name is in the SANs (TLS-004 clear), the handshake
completes (TLS-006 clear) and the leaf expired (TLS-001); the target's
clock agrees with the host's (the netns shares it), so the dates are
judged as they were when recorded.
"""

from scenariokit.lab import lab_cluster

from k8srun.lab.certs import CA_FILE
from k8srun.lab.state import state_dir

SCENARIO = {
    "description": "web's HTTPS certificate (10.244.2.10:8443) expired yesterday: from pod-a the chain is trusted "
                   "and the name matches, but notAfter is in the past",
    "runbook": "tls", "namespace": "default",
    "expected_codes": ["TLS-001"],
    "absent_codes": ["TLS-002", "TLS-003", "TLS-004", "TLS-005", "TLS-006"]}

RECORD = {"runbook": "tls", "faults": ["tls-expired"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-pod-a", "endpoint": "10.244.2.10:8443",
                         "server_name": "web.default.svc.cluster.local", "ca_bundle": str(state_dir() / CA_FILE)}}


def build():
    return lab_cluster(RECORD["faults"])
