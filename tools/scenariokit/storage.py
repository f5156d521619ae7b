"""PersistentVolumeClaims and the volumes behind them.

- :func:`pending_claim`: a claim nothing provisions (e.g. its StorageClass
  does not exist); returns the PVC dict, phase Pending;
- :func:`bound_local_claim`: a claim the base cluster's ``standard`` class
  (rancher.io/local-path) provisioned on one node; adds the PVC and its
  hostPath PersistentVolume (with node affinity) and returns the PVC dict.
"""

from __future__ import annotations

from .cluster import Cluster
from .objects import stable_uid, when

LOCAL_PATH = "rancher.io/local-path"


def pending_claim(c: Cluster, namespace: str, name: str, size: str, storage_class: str, *, created_ago: float,
                  labels: dict | None = None) -> dict:
    """A ReadWriteOnce claim of ``size`` on ``storage_class``, still Pending."""
    return c.add(namespace, "persistentvolumeclaims", {
        "metadata": c.meta(name, namespace, created_ago, labels=labels, finalizers=["kubernetes.io/pvc-protection"]),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                 "storageClassName": storage_class, "volumeMode": "Filesystem"},
        "status": {"phase": "Pending"}})


def bound_local_claim(c: Cluster, namespace: str, name: str, size: str, *, node: str, created_ago: float) -> dict:
    """A ReadWriteOnce claim of ``size`` bound to a local-path volume on ``node`` (class ``standard``)."""
    volume = "pvc-" + stable_uid(c.name, "pv", name)
    pvc = c.add(namespace, "persistentvolumeclaims", {
        "metadata": c.meta(name, namespace, created_ago, finalizers=["kubernetes.io/pvc-protection"],
                           annotations={"pv.kubernetes.io/bind-completed": "yes",
                                        "pv.kubernetes.io/bound-by-controller": "yes",
                                        "volume.beta.kubernetes.io/storage-provisioner": LOCAL_PATH,
                                        "volume.kubernetes.io/selected-node": node,
                                        "volume.kubernetes.io/storage-provisioner": LOCAL_PATH}),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                 "volumeName": volume, "storageClassName": "standard", "volumeMode": "Filesystem"},
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}}})
    c.cluster_objects["persistentvolumes"].append({
        "metadata": c.meta(volume, None, created_ago,
                           annotations={"local.path.provisioner/selected-node": node,
                                        "pv.kubernetes.io/provisioned-by": LOCAL_PATH},
                           finalizers=["kubernetes.io/pv-protection"]),
        "spec": {"capacity": {"storage": size},
                 "hostPath": {"path": f"/opt/local-path-provisioner/{volume}_{namespace}_{name}",
                              "type": "DirectoryOrCreate"},
                 "accessModes": ["ReadWriteOnce"],
                 "claimRef": {"kind": "PersistentVolumeClaim", "namespace": namespace, "name": name,
                              "uid": pvc["metadata"]["uid"], "apiVersion": "v1",
                              "resourceVersion": pvc["metadata"]["resourceVersion"]},
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "standard",
                 "volumeMode": "Filesystem",
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}},
        "status": {"phase": "Bound", "lastPhaseTransitionTime": when(created_ago)}})
    return pvc
