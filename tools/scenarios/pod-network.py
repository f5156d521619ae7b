"""pod-network: node-b's INPUT chain DROPs the VXLAN port (vxlan-blocked) — seen from node-a, both nodes read (NET-002).

Recorded from the fault lab with its cluster part the lab itself
(``"cluster": "lab"``): fault ``vxlan-blocked`` inserts ``-A INPUT -p udp
--dport 8472 -j DROP`` on node-b. The runbook ran on node-a
(``netns:k8l-node-a``) with the peer node-b (192.168.20.2, its commands on
``netns:k8l-node-b``) and the cross-node ping from pod-a
(``netns:k8l-pod-a``, 10.244.1.10) to pod-b (10.244.2.10).

Why this fault for the runbook's default scenario: it shows every join the
runbook makes — node-b answers TCP (a RST from 10250: the underlay is fine,
NET-001 clear), the UDP datagram to 8472 gets no answer (as from any VXLAN
socket), the capture on node-b shows the encapsulated pings *arriving*, and
the DROP rule's counter moves by exactly those packets during the probes
(NET-002, the rule and its delta). The route into the overlay exists (NET-005
clear); NET-003 is not claimed on top of the blocked port; the flannel pods
are Ready (NET-004 clear).
"""

from scenariokit.lab import lab_cluster

SCENARIO = {
    "description": "node-b DROPs udp 8472 (vxlan-blocked): from node-a the peer answers TCP but the encapsulated "
                   "pings reach node-b's capture and die in its INPUT DROP rule, whose counter moved",
    "runbook": "pod-network", "namespace": "default",
    "expected_codes": ["NET-002"],
    "absent_codes": ["NET-001", "NET-003", "NET-004", "NET-005"]}

RECORD = {"runbook": "pod-network", "faults": ["vxlan-blocked"], "cluster": "lab",
          "parameters": {"target": "netns:k8l-node-a", "peer": "192.168.20.2", "peer_target": "netns:k8l-node-b",
                         "pod_target": "netns:k8l-pod-a", "pod_ip": "10.244.1.10", "peer_pod_ip": "10.244.2.10"}}


def build():
    return lab_cluster(RECORD["faults"])
