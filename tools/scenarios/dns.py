"""dns: CoreDNS is down in the fault lab (dns-down) — seen from pod-a and from the API (DNS-003, DNS-004, DNS-005).

Recorded from the fault lab with its cluster part the lab itself
(``"cluster": "lab"``): fault ``dns-down`` stops the lab's DNS server (the
CoreDNS pod ``kube-system/coredns-…``, 10.244.2.53), the snapshot marks the
pod not Ready and the kube-dns endpoint notReady, and node-a's kube-proxy
rules REJECT port 53 to the kube-dns ClusterIP 10.96.0.10 as kube-proxy does
for a Service without endpoints. The runbook ran from pod-a
(``netns:k8l-pod-a``, namespace default, search path and nameserver as the
kubelet writes them) asking ``kubernetes.default``.

Why this fault for the runbook's default scenario: it is the one where the
two views must be joined — from the pod, port 53 of the cluster DNS is
*refused* on UDP and TCP (DNS-005: kube-proxy's REJECT for a Service without
endpoints answers ICMP port unreachable, so the resolver fails at once
instead of timing out), and the cluster says why: kube-dns has no ready
endpoint (DNS-003) because its CoreDNS pod is not Ready (DNS-004).
resolv.conf itself is right (DNS-001, DNS-002 checked and clear) and no name
gets an NXDOMAIN (DNS-006 clear: nothing answered).
"""

from scenariokit.lab import lab_cluster

SCENARIO = {
    "description": "CoreDNS down in the fault lab (dns-down): from pod-a the cluster DNS 10.96.0.10 refuses "
                   "udp and tcp 53 (kube-proxy REJECT), kube-dns has no ready endpoint, the CoreDNS pod is not Ready",
    "runbook": "dns", "namespace": "default",
    "expected_codes": ["DNS-003", "DNS-004", "DNS-005"],
    "absent_codes": ["DNS-001", "DNS-002", "DNS-006"]}

RECORD = {"runbook": "dns", "faults": ["dns-down"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-pod-a"}}


def build():
    return lab_cluster(RECORD["faults"])
