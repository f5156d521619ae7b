"""control-plane: etcd's disk is slow and its leader keeps changing (ETCD-004, ETCD-003).

The cluster part is the base cluster (its kube-system holds the kubeadm
static pods of etcd and kube-apiserver, shown with their last log lines);
the evidence is recorded from the fault lab's control plane (``RECORD``,
``k8srun lab up --control-plane``): three real etcd members on loopback and
the HTTPS API-server stand-in, asked with the control plane's kubeconfig
(``KUBECONFIG``, as after ``lab up --control-plane``). Faults: ``etcd-slow-disk`` throttles the
loop device under etcd-3's data dir to 40 write IOPS (fio's fdatasync p99
far above 10 ms: ETCD-004), and ``etcd-leader-churn`` kills the leader and
restarts it every ~1.5 s (``etcd_server_leader_changes_seen_total`` climbs
between the two reads: ETCD-003). The kubeconfig, the API server's answers
(/livez, /readyz, listing pods), the member count and the db size are
healthy, so CP-001..005, ETCD-002 and ETCD-005 are checked and clear; an
endpoint may be caught restarting (ETCD-001), so that code is left free.
"""

from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster

SCENARIO = {
    "description": "etcd-3's disk is slow (fio fdatasync p99 far above 10 ms) and the etcd leader keeps changing "
                   "(fault lab control plane: etcd-slow-disk, etcd-leader-churn)",
    "runbook": "control-plane", "namespace": "kube-system",
    "expected_codes": ["ETCD-003", "ETCD-004"],
    "absent_codes": ["CP-001", "CP-002", "CP-003", "CP-004", "ETCD-002", "ETCD-005"]}

RECORD = {"runbook": "control-plane", "faults": ["etcd-slow-disk", "etcd-leader-churn"],
          "parameters": {"target": "local",
                         "etcd_endpoints": ["http://127.0.10.1:2379", "http://127.0.10.2:2379",
                                            "http://127.0.10.3:2379"],
                         "etcd_data_dir": "/run/k8srun-lab-control-plane/disk/etcd-3",
                         "fio_size": "64k", "leader_window_s": 5}}


def build() -> Cluster:
    return base_cluster("control-plane")
