"""The ONE base cluster every scenario starts from: :func:`base_cluster`.

``base_cluster(name)`` returns a :class:`~scenariokit.cluster.Cluster` holding:

- nodes (:func:`add_nodes`): ``cp-1`` (10.0.0.10, control plane, tainted
  ``node-role.kubernetes.io/control-plane:NoSchedule``), ``worker-1``
  (10.0.0.11, zone-a) and ``worker-2`` (10.0.0.12, zone-b); kubeadm, Debian 12,
  containerd 1.7, Kubernetes v1.30.4, 4 cpu / 16 GiB each, all Ready;
- ``default`` (:func:`default_namespace`): the ``kubernetes`` Service whose
  endpoints are the apiserver on cp-1;
- ``kube-system`` (:func:`kube_system`): static etcd, kube-apiserver,
  kube-controller-manager and kube-scheduler pods on cp-1, coredns x2 on cp-1
  with the ``kube-dns`` Service, a kube-proxy pod per node, their ConfigMaps;
  ``kube-public`` (cluster-info) and ``kube-node-lease``;
- StorageClass ``standard`` (rancher.io/local-path, the default).

A scenario changes the base only through ``workers`` (node changes that
kube-system must follow, e.g. a lost node's kube-proxy is NotReady) and then
adds its own namespaces and objects.
"""

from __future__ import annotations

import re

from .cluster import Cluster
from .objects import DAY, HOUR, K8S_VERSION, container, env_field, http_probe, stable_hex, up, when, when_micro
from .storage import LOCAL_PATH
from .workloads import daemon_pod, daemonset

WORKERS = ("worker-1", "worker-2")


def base_cluster(name: str, *, workers: dict[str, dict] | None = None) -> Cluster:
    """The base cluster of scenario ``name`` (see the module doc).

    ``workers`` maps a worker name to :meth:`Cluster.node <scenariokit.cluster.Cluster.node>`
    keyword arguments: it changes ``worker-1``/``worker-2`` (``{"worker-2":
    {"cordoned_ago": 35 * MIN}}``) or adds ``worker-3``, ``worker-4``, ... A
    worker given ``lost_ago`` (its kubelet stopped posting status) gets its
    kube-proxy pod marked NotReady at the same time.
    """
    workers = workers or {}
    cluster = Cluster(name)
    add_nodes(cluster, workers)
    default_namespace(cluster)
    kube_system(cluster, lost={node: kwargs["lost_ago"] for node, kwargs in workers.items()
                               if kwargs.get("lost_ago") is not None})
    cluster.storage_class("standard", LOCAL_PATH, default=True)
    return cluster


def add_nodes(cluster: Cluster, workers: dict[str, dict]) -> None:
    """cp-1, then worker-1, worker-2 and any other ``worker-N`` of ``workers``, changed by its kwargs.

    ``worker-N`` has address 10.0.0.(10+N), podCIDR 10.244.N.0/24 and zone-a
    for odd N, zone-b for even N unless its kwargs say otherwise.
    """
    indexes = {}
    for node in {*WORKERS, *workers}:
        match = re.fullmatch(r"worker-([1-9][0-9]?)", node)
        if not match:
            raise ValueError(f"worker names are worker-1 .. worker-99, not {node!r}")
        indexes[node] = int(match[1])
    cluster.node("cp-1", "10.0.0.10", 0, control_plane=True)
    for node in sorted(indexes, key=indexes.get):
        index = indexes[node]
        kwargs = {"zone": "zone-a" if index % 2 else "zone-b", **workers.get(node, {})}
        cluster.node(node, f"10.0.0.{10 + index}", index, **kwargs)


def default_namespace(cluster: Cluster) -> None:
    """Namespace default with the ``kubernetes`` Service (endpoints: the apiserver)."""
    cluster.namespace("default", 40 * DAY)
    cluster.service("default", "kubernetes", None, [("https", 443, 6443)], cluster_ip="10.96.0.1",
                    created_ago=40 * DAY, labels={"component": "apiserver", "provider": "kubernetes"},
                    manual_endpoints=[(cluster.node_ips["cp-1"], None)])


# ---------------------------------------------------------------- kube-system

CP_IMAGES = {"etcd": "registry.k8s.io/etcd:3.5.15-0",
             "kube-apiserver": f"registry.k8s.io/kube-apiserver:{K8S_VERSION}",
             "kube-controller-manager": f"registry.k8s.io/kube-controller-manager:{K8S_VERSION}",
             "kube-scheduler": f"registry.k8s.io/kube-scheduler:{K8S_VERSION}"}


def kube_system(cluster: Cluster, *, lost: dict | None = None, booted_ago: float = 40 * DAY) -> None:
    """Healthy control plane on cp-1, coredns x2, kube-proxy per node (``lost``: node -> lost_ago)."""
    lost = lost or {}
    ns = "kube-system"
    cluster.namespace(ns, booted_ago)
    cp_ip = cluster.node_ips["cp-1"]
    cp_node = cluster.node_named("cp-1")
    started = 6 * DAY + 3 * HOUR
    static = {
        "etcd": (["etcd", f"--advertise-client-urls=https://{cp_ip}:2379", "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
                  "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--experimental-initial-corrupt-check=true",
                  f"--initial-advertise-peer-urls=https://{cp_ip}:2380", f"--initial-cluster=cp-1=https://{cp_ip}:2380",
                  "--key-file=/etc/kubernetes/pki/etcd/server.key",
                  f"--listen-client-urls=https://127.0.0.1:2379,https://{cp_ip}:2379",
                  "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{cp_ip}:2380",
                  "--name=cp-1", "--snapshot-count=10000", "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt"],
                 {"cpu": "100m", "memory": "100Mi"}, ("/health?exclude=NOSPACE&serializable=true", 2381, "127.0.0.1", "HTTP"),
                 {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{cp_ip}:2379"}),
        "kube-apiserver": (["kube-apiserver", f"--advertise-address={cp_ip}", "--allow-privileged=true",
                            "--authorization-mode=Node,RBAC", "--client-ca-file=/etc/kubernetes/pki/ca.crt",
                            "--enable-admission-plugins=NodeRestriction", "--etcd-servers=https://127.0.0.1:2379",
                            "--secure-port=6443", "--service-cluster-ip-range=10.96.0.0/12",
                            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
                            "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key"],
                           {"cpu": "250m"}, ("/livez", 6443, cp_ip, "HTTPS"),
                           {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{cp_ip}:6443"}),
        "kube-controller-manager": (["kube-controller-manager", "--allocate-node-cidrs=true",
                                     "--bind-address=127.0.0.1", "--cluster-cidr=10.244.0.0/16",
                                     "--cluster-name=kubernetes", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
                                     "--leader-elect=true", "--service-cluster-ip-range=10.96.0.0/12",
                                     "--use-service-account-credentials=true"],
                                    {"cpu": "200m"}, ("/healthz", 10257, "127.0.0.1", "HTTPS"), {}),
        "kube-scheduler": (["kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
                            "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
                            "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"],
                           {"cpu": "100m"}, ("/healthz", 10259, "127.0.0.1", "HTTPS"), {}),
    }
    static_logs = {
        "etcd": '{"level":"info","ts":"%s","caller":"etcdserver/server.go:2068","msg":"published local member to cluster through raft","local-member-id":"8e9e05c52164694d","cluster-id":"cdf818194e3a8c32"}\n'
                '{"level":"info","ts":"%s","caller":"etcdserver/server.go:2616","msg":"cluster version is updated","cluster-version":"3.5"}\n'
                '{"level":"info","ts":"%s","caller":"mvcc/kvstore_compaction.go:68","msg":"finished scheduled compaction","compact-revision":1183021,"took":"9.871234ms"}\n',
        "kube-apiserver": 'I1114 11:02:04.512387       1 options.go:221] external host was not specified, using %s\n'
                          'I1114 11:02:06.118903       1 secure_serving.go:213] Serving securely on [::]:6443\n'
                          'I1114 11:02:07.004411       1 controller.go:615] quota admission added evaluator for: endpoints\n',
        "kube-controller-manager": 'I1114 11:02:08.302118       1 serving.go:380] Generated self-signed cert in-memory\n'
                                   'I1114 11:02:26.771402       1 leaderelection.go:260] successfully acquired lease kube-system/kube-controller-manager\n',
        "kube-scheduler": 'I1114 11:02:08.918273       1 serving.go:380] Generated self-signed cert in-memory\n'
                          'I1114 11:02:27.114052       1 leaderelection.go:260] successfully acquired lease kube-system/kube-scheduler\n',
    }
    for component, (command, requests, (path, port, host, scheme), extra) in static.items():
        name = f"{component}-cp-1"
        probe = http_probe(path, port, host=host, scheme=scheme, initial=10, timeout=15, failure=8)
        spec_container = container(component, CP_IMAGES[component], command=command, requests=requests,
                                   liveness=probe, startup=http_probe(path, port, host=host, scheme=scheme,
                                                                      initial=10, timeout=15, failure=24),
                                   readiness=(http_probe("/readyz", port, host=host, scheme=scheme, timeout=15,
                                                         period=1, failure=3)
                                              if component == "kube-apiserver" else None),
                                   mounts=[{"name": "k8s-certs", "readOnly": True, "mountPath": "/etc/kubernetes/pki"}])
        spec = cluster.template({}, [spec_container], volumes=[{"name": "k8s-certs", "hostPath": {
            "path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"}}], host_network=True,
            priority_class="system-node-critical",
            security={"seccompProfile": {"type": "RuntimeDefault"}},
            tolerations=[{"operator": "Exists", "effect": "NoExecute"}])["spec"]
        config_hash = stable_hex("config", component, length=32)
        annotations = {**extra, "kubernetes.io/config.hash": config_hash, "kubernetes.io/config.mirror": config_hash,
                       "kubernetes.io/config.seen": when(started + 5).replace("Z", ".000000000Z"),
                       "kubernetes.io/config.source": "file"}
        text = static_logs[component]
        text = text % ((when_micro(started - 2, component),) * 3) if component == "etcd" else (
            text % cp_ip if "%s" in text else text)
        cluster.pod(ns, name, spec, labels={"component": component, "tier": "control-plane"}, node="cp-1",
                    runs={component: up(started, log=text)}, created_ago=booted_ago,
                    owner=Cluster.owner_ref("Node", "v1", cp_node, block=False), annotations=annotations,
                    static=True)
    # coredns
    coredns = cluster.deployment(
        ns, "coredns",
        [container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", args=["-conf", "/etc/coredns/Corefile"],
                   ports=(("dns", 53, "UDP"), ("dns-tcp", 53), ("metrics", 9153)),
                   limits={"memory": "170Mi"}, requests={"cpu": "100m", "memory": "70Mi"},
                   liveness=http_probe("/health", 8080, initial=60, timeout=5, failure=5),
                   readiness=http_probe("/ready", 8181),
                   mounts=[{"name": "config-volume", "readOnly": True, "mountPath": "/etc/coredns"}],
                   security={"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                             "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False})],
        replicas=2, labels={"k8s-app": "kube-dns"}, created_ago=booted_ago,
        volumes=[{"name": "config-volume", "configMap": {"name": "coredns", "items": [
            {"key": "Corefile", "path": "Corefile"}], "defaultMode": 420}}],
        node_selector={"kubernetes.io/os": "linux"}, service_account="coredns", dns_policy="Default",
        priority_class="system-cluster-critical",
        affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
            "podAffinityTerm": {"labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In",
                                                                          "values": ["kube-dns"]}]},
                                "topologyKey": "kubernetes.io/hostname"}}]}},
        tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"},
                     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    coredns_log = (".:53\n[INFO] plugin/reload: Running configuration SHA512 = "
                   f"{stable_hex('corefile', length=128)}\nCoreDNS-1.11.1\nlinux/amd64, go1.20.7, ae2bbc2\n")
    for _ in range(2):
        cluster.replica(coredns, node="cp-1", runs={"coredns": up(started - 20, log=coredns_log)},
                        created_ago=started + 10)
    cluster.service(ns, "kube-dns", {"k8s-app": "kube-dns"},
                    [("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53), ("metrics", 9153, 9153)],
                    cluster_ip="10.96.0.10", created_ago=booted_ago,
                    labels={"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                            "kubernetes.io/name": "CoreDNS"})
    # kube-proxy
    proxy = daemonset(
        cluster, ns, "kube-proxy",
        [container("kube-proxy", f"registry.k8s.io/kube-proxy:{K8S_VERSION}",
                   command=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                            "--hostname-override=$(NODE_NAME)"],
                   env=[env_field("NODE_NAME", "spec.nodeName")],
                   mounts=[{"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
                           {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                           {"name": "lib-modules", "readOnly": True, "mountPath": "/lib/modules"}],
                   security={"privileged": True})],
        labels={"k8s-app": "kube-proxy"}, created_ago=booted_ago,
        volumes=[{"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                 {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                 {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
        node_selector={"kubernetes.io/os": "linux"}, service_account="kube-proxy", host_network=True,
        priority_class="system-node-critical", tolerations=[{"operator": "Exists"}])
    for node in cluster.nodes:
        node_name = node["metadata"]["name"]
        ip = cluster.node_ips[node_name]
        log = (f'I1114 11:03:{10 + cluster.nodes.index(node):02d}.402118       1 server_linux.go:69] "Using iptables proxy"\n'
               f'I1114 11:03:{10 + cluster.nodes.index(node):02d}.431902       1 server.go:1062] "Successfully retrieved node IP(s)" IPs=["{ip}"]\n'
               f'I1114 11:03:{10 + cluster.nodes.index(node):02d}.502114       1 server_linux.go:165] "Using iptables Proxier"\n'
               f'I1114 11:03:{11 + cluster.nodes.index(node):02d}.118042       1 shared_informer.go:320] Caches are synced for service config\n')
        daemon_pod(cluster, proxy, node_name, up(started - 30, log=log), started + 5,
                   node_lost_ago=lost.get(node_name))
    cluster.configmap(ns, "coredns", ["Corefile"], created_ago=booted_ago)
    cluster.configmap(ns, "kube-proxy", ["config.conf", "kubeconfig.conf"], created_ago=booted_ago,
                      labels={"app": "kube-proxy"})
    cluster.configmap(ns, "kubeadm-config", ["ClusterConfiguration"], created_ago=booted_ago)
    cluster.configmap(ns, "kubelet-config", ["kubelet"], created_ago=booted_ago)
    cluster.configmap(ns, "extension-apiserver-authentication",
                      ["client-ca-file", "requestheader-allowed-names", "requestheader-client-ca-file",
                       "requestheader-extra-headers-prefix", "requestheader-group-headers",
                       "requestheader-username-headers"], created_ago=booted_ago)
    for extra_ns in ("kube-public", "kube-node-lease"):
        cluster.namespace(extra_ns, booted_ago)
    cluster.configmap("kube-public", "cluster-info", ["jws-kubeconfig-abcdef", "kubeconfig"], created_ago=booted_ago)


def default_namespace(cluster: Cluster) -> None:
    """Namespace default with the ``kubernetes`` Service (endpoints: the apiserver)."""
    cluster.namespace("default", 40 * DAY)
    cluster.service("default", "kubernetes", None, [("https", 443, 6443)], cluster_ip="10.96.0.1",
                    created_ago=40 * DAY, labels={"component": "apiserver", "provider": "kubernetes"},
                    manual_endpoints=[(cluster.node_ips["cp-1"], None)])
