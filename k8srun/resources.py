"""The API resources k8srun knows: where each lives on the Kubernetes REST API.

``CATALOGUE`` maps a resource plural (the lower-case names every source
uses) to an :class:`ApiResource`::

    {"pods": ApiResource(plural="pods", group="", version="v1", kind="Pod",
                         namespaced=True, short_names=("po",), singular="pod"), ...}

``ApiResource.path(namespace, name)`` is the REST path of a list or object,
e.g. ``/apis/apps/v1/namespaces/web/deployments/front``; ``file_stem`` is
the file name a snapshot bundle keeps it under (``replication-controllers``
as kubectl writes it) and ``list_kind`` the kind of its List. The sources,
the read-only server, capture and the scenario builder all use this one table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiResource:
    """One resource type of the Kubernetes API."""

    plural: str
    group: str
    version: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""

    @property
    def group_version(self) -> str:
        """``v1`` for the core group, else ``group/version`` (the objects' apiVersion)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self) -> str:
        """``/api/v1`` or ``/apis/<group>/<version>``."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def file_stem(self) -> str:
        """File name (without extension) in a snapshot bundle, as kubectl names it."""
        return "replication-controllers" if self.plural == "replicationcontrollers" else self.plural

    @property
    def list_kind(self) -> str:
        """Kind of the List object holding these resources (``PodList``)."""
        return f"{self.kind}List"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """REST path of the list (all namespaces when ``namespace`` is None) or of one object."""
        where = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        tail = f"/{name}" if name else ""
        return f"{self.prefix}{where}/{self.plural}{tail}"


def _r(plural, group, version, kind, namespaced, *short_names):
    return ApiResource(plural, group, version, kind, namespaced, tuple(short_names), kind.lower())


CATALOGUE: dict[str, ApiResource] = {r.plural: r for r in (
    _r("namespaces", "", "v1", "Namespace", False, "ns"),
    _r("nodes", "", "v1", "Node", False, "no"),
    _r("persistentvolumes", "", "v1", "PersistentVolume", False, "pv"),
    _r("pods", "", "v1", "Pod", True, "po"),
    _r("events", "", "v1", "Event", True, "ev"),
    _r("services", "", "v1", "Service", True, "svc"),
    _r("endpoints", "", "v1", "Endpoints", True, "ep"),
    _r("replicationcontrollers", "", "v1", "ReplicationController", True, "rc"),
    _r("persistentvolumeclaims", "", "v1", "PersistentVolumeClaim", True, "pvc"),
    _r("configmaps", "", "v1", "ConfigMap", True, "cm"),
    _r("deployments", "apps", "v1", "Deployment", True, "deploy"),
    _r("replicasets", "apps", "v1", "ReplicaSet", True, "rs"),
    _r("daemonsets", "apps", "v1", "DaemonSet", True, "ds"),
    _r("statefulsets", "apps", "v1", "StatefulSet", True, "sts"),
    _r("jobs", "batch", "v1", "Job", True),
    _r("endpointslices", "discovery.k8s.io", "v1", "EndpointSlice", True),
    _r("leases", "coordination.k8s.io", "v1", "Lease", True),
    _r("storageclasses", "storage.k8s.io", "v1", "StorageClass", False, "sc"),
)}


#: the List files of a namespace folder in a bundle (every namespaced resource of the catalogue), in the
#: order the lab and the scenario builder write them (each list takes the next resourceVersion)
NAMESPACE_FILE_STEMS = ("events", "replication-controllers", "services", "daemonsets", "deployments",
                        "replicasets", "pods", "endpoints", "endpointslices", "persistentvolumeclaims",
                        "statefulsets", "jobs", "configmaps", "leases")


@functools.lru_cache(maxsize=1)
def group_versions() -> dict[str, list[ApiResource]]:
    """Resources per group version (``"v1"``, ``"apps/v1"`` ...), in catalogue order (made once: serve
    routes every request through it; do not change what it returns)."""
    out: dict[str, list[ApiResource]] = {}
    for resource in CATALOGUE.values():
        out.setdefault(resource.group_version, []).append(resource)
    return out
