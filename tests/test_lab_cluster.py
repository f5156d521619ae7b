"""The lab as a cluster: the API objects of :mod:`k8srun.lab.cluster`, its snapshot and ``-p source lab``.

The pure function is checked against what a controller would derive and
against ``LAB.services`` (the backends kube-proxy's rules carry); one live
lab session (module-scoped ``fault_lab``) checks that ``lab up`` writes the
snapshot, ``break dns-down`` rewrites it and loads kube-proxy's REJECT rule,
and ``source lab`` opens it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from k8srun import frames
from k8srun.errors import ParameterError
from k8srun.lab import cluster, topology
from k8srun.lab.topology import LAB
from k8srun.registry import absolute_path
from k8srun.sources import open_source, resolve_source_spec
from k8srun.sources.snapshot import SnapshotSource

CREATED = dt.datetime(2026, 11, 29, 20, 0, tzinfo=dt.timezone.utc)


def objects(*faults: str) -> dict[str, list[dict]]:
    return cluster.cluster_objects(LAB, faults, created_at=CREATED)


def named(items: list[dict], namespace: str, name: str) -> dict:
    return next(o for o in items if (o["metadata"].get("namespace"), o["metadata"]["name"]) == (namespace, name))


def selected(pods: list[dict], service: dict) -> list[dict]:
    selector = service["spec"].get("selector") or {}
    return [p for p in pods if p["metadata"]["namespace"] == service["metadata"]["namespace"] and selector
            and all(p["metadata"]["labels"].get(k) == v for k, v in selector.items())]


def container_port(pod: dict, name: str) -> int | None:
    ports = [p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", []) if p["name"] == name]
    return ports[0] if ports else None


def endpoint_rows(endpoints: dict) -> set[tuple]:
    """(ip, port name, port, ready) of an Endpoints object."""
    return {(a["ip"], p["name"], p["port"], ready) for s in endpoints.get("subsets", [])
            for ready, key in ((True, "addresses"), (False, "notReadyAddresses"))
            for a in s.get(key, []) for p in s["ports"]}


def slice_rows(slices: list[dict], service: str) -> set[tuple]:
    return {(ip, p["name"], p["port"], e["conditions"]["ready"]) for s in slices
            if s["metadata"]["labels"]["kubernetes.io/service-name"] == service
            for e in s["endpoints"] or [] for ip in e["addresses"] for p in s["ports"] or []}


# --- the pure function -----------------------------------------------------

def test_healthy_every_service_selects_its_pods_and_endpoints_agree_with_the_node_rules():
    objs = objects()
    for service in objs["services"]:
        ns, name = service["metadata"]["namespace"], service["metadata"]["name"]
        endpoints = named(objs["endpoints"], ns, name)
        rows = endpoint_rows(endpoints)
        assert all(ready for *_, ready in rows), name
        pods = selected(objs["pods"], service)
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            backends = {ip for ip, port_name, _, _ in rows if port_name == port["name"]}
            if service["spec"].get("selector"):
                # the Endpoints controller: every selected pod that has the (named) target port
                expected = {p["status"]["podIP"] for p in pods if isinstance(target, int) or container_port(p, target)}
                assert backends == expected, (name, port["name"])
                for ip, port_name, number, _ in rows:
                    if port_name == port["name"] and isinstance(target, str):
                        pod = next(p for p in pods if p["status"]["podIP"] == ip)
                        assert number == container_port(pod, target)
            # ... and kube-proxy's rules in the lab carry exactly these backends
            lab_port = LAB.service(name, port["name"])
            assert backends == set(lab_port.endpoint_ips), (name, port["name"])
            assert (service["spec"]["clusterIP"], port["port"]) == (lab_port.cluster_ip, lab_port.port)
        assert slice_rows(objs["endpointslices"], name) == rows, name


def test_web_uses_named_target_ports_and_https_only_reaches_the_tls_pod():
    objs = objects()
    web = named(objs["services"], "default", "web")
    assert {p["name"]: p["targetPort"] for p in web["spec"]["ports"]} == {"http": "http", "https": "https"}
    rows = endpoint_rows(named(objs["endpoints"], "default", "web"))
    assert {(ip, name, port) for ip, name, port, _ in rows} == {
        (LAB.pod_a.ip, "http", LAB.http_port), (LAB.pod_b.ip, "http", LAB.http_port),
        (LAB.pod_b.ip, "https", LAB.tls_port)}
    pods = {p["metadata"]["name"]: p for p in objs["pods"]}
    assert pods[LAB.pod_a.name]["spec"]["nodeName"] == LAB.pod_a.node.name
    assert pods[LAB.pod_b.name]["status"]["podIP"] == LAB.pod_b.ip


def test_nodes_namespaces_and_agents():
    objs = objects()
    nodes = frames.nodes_frame(objs["nodes"])
    assert nodes[["name", "ready", "internal_ip", "pod_cidr"]].values.tolist() == [
        [n.name, "True", n.ip, n.pod_cidr] for n in LAB.nodes]
    assert [n["metadata"]["name"] for n in objs["namespaces"]] == ["default", "kube-system", "kube-flannel", "kube-node-lease"]
    pods = frames.pods_frame(objs["pods"])
    assert (pods.status == "Running").all() and (pods.ready == "1/1").all()
    for app, namespace in (("kube-proxy", "kube-system"), ("flannel", "kube-flannel")):
        agents = [p for p in objs["pods"] if p["metadata"]["namespace"] == namespace
                  and app in p["metadata"]["labels"].values()]
        assert sorted(p["spec"]["nodeName"] for p in agents) == [n.name for n in LAB.nodes]
        assert all(p["spec"]["hostNetwork"] and p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
                   for p in agents)
    kubernetes = endpoint_rows(named(objs["endpoints"], "default", "kubernetes"))
    assert kubernetes == {(LAB.node_a.ip, "https", 6443, True)}


def test_dns_down_leaves_kube_dns_without_a_ready_address():
    healthy, broken = objects(), objects("dns-down")
    assert all(ready for *_, ready in endpoint_rows(named(healthy["endpoints"], "kube-system", "kube-dns")))
    rows = endpoint_rows(named(broken["endpoints"], "kube-system", "kube-dns"))
    assert rows and not any(ready for *_, ready in rows)
    assert {ip for ip, *_ in rows} == {LAB.dns_pod.ip}
    assert slice_rows(broken["endpointslices"], "kube-dns") == rows
    coredns = named(broken["pods"], "kube-system", cluster.coredns_pod_name(LAB))
    assert frames.pods_frame([coredns]).ready.tolist() == ["0/1"]
    events = frames.events_frame(broken["events"])
    assert events[["type", "reason", "name", "message"]].values.tolist() == [
        ["Warning", "Unhealthy", coredns["metadata"]["name"], cluster.READINESS_503]]
    assert healthy["events"] == []


@pytest.mark.parametrize("fault", ["svc-stale-endpoint", "svc-no-dnat", "dns-search", "dns-nameserver", "mtu"])
def test_faults_of_the_nodes_leave_the_api_unchanged(fault):
    assert objects(fault) == objects()


def test_the_pure_function_is_deterministic():
    assert cluster.snapshot_files(LAB, ["dns-down"], created_at=CREATED) == \
        cluster.snapshot_files(LAB, ["dns-down"], created_at=CREATED)


# --- kube-proxy's filter rules ---------------------------------------------

def test_filter_rules_reject_a_service_without_endpoints():
    dns = tuple(s for s in LAB.services if s.name == "kube-dns")
    assert "REJECT" not in topology.kube_proxy_filter_rules(LAB)
    text = topology.kube_proxy_filter_rules(LAB, no_endpoints=dns)
    assert ('-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns has no '
            'endpoints" -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable') in text.splitlines()
    nat = topology.kube_proxy_rules(LAB, no_endpoints=dns)
    assert "kube-dns" not in nat and "default/web:http" in nat


# --- the snapshot and `source lab` -----------------------------------------

def test_snapshot_opens_as_a_bundle(tmp_path):
    folder = cluster.write_snapshot(tmp_path / "cluster", LAB, ["dns-down"], CREATED)
    assert folder.is_symlink()
    with SnapshotSource(folder) as source:
        assert source.namespaces() == ["default", "kube-flannel", "kube-node-lease", "kube-system"]
        assert source.meta()["lab"]["faults"] == ["dns-down"]
        assert source.now() == CREATED
        services = frames.services_frame(source.list("services"))
        assert set(services.name) == {"web", "kube-dns", "kubernetes"}
        endpoints = frames.endpoints_frame(source.list("endpoints", "kube-system"))
        assert endpoints.ready.tolist() == [False, False]
        assert len(source.list("endpointslices")) == 4
        assert "CoreDNS-1.11.1" in source.logs("kube-system", cluster.coredns_pod_name(LAB), "coredns")
    first = Path(folder).resolve()
    cluster.write_snapshot(tmp_path / "cluster", LAB, [], CREATED)
    assert not first.exists() and Path(folder).resolve() != first  # swapped, the old copy removed
    assert json.loads((folder / "k8srun.json").read_text())["lab"]["faults"] == []


def test_source_lab_without_a_lab_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("K8SRUN_LAB_DIR", str(tmp_path / "nothing"))
    with pytest.raises(ParameterError, match=r"the fault lab is not up: run `k8srun lab up` first") as caught:
        resolve_source_spec("lab")
    assert "\n" not in str(caught.value)


def test_source_lab_is_not_a_path_but_dot_slash_lab_is(tmp_path, monkeypatch):
    assert absolute_path("lab", tmp_path) == "lab"
    assert absolute_path("./lab", tmp_path) == str(tmp_path / "lab")
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text("{}")
    cluster.write_snapshot(cluster.snapshot_path(state), LAB, [], CREATED)
    monkeypatch.setenv("K8SRUN_LAB_DIR", str(state))
    assert resolve_source_spec("lab") == ("snapshot", state / "cluster")
    with open_source("lab") as source:
        assert (source.kind, source.description) == ("lab", "lab (fault lab snapshot)")
    monkeypatch.chdir(tmp_path)
    cluster.write_snapshot(tmp_path / "lab", LAB, [], CREATED)
    with open_source("./lab") as source:
        assert source.kind == "snapshot"


# --- the live lab ----------------------------------------------------------

@pytest.mark.netns
@pytest.mark.slow
def test_live_lab_writes_and_rewrites_its_snapshot(fault_lab):
    from k8srun.lab import control
    from k8srun.targets import open_target

    lab = fault_lab
    with open_source("lab") as source:
        assert source.kind == "lab"
        pods = frames.pods_frame(source.list("pods"))
        assert set(pods.name) >= {p.name for p in lab.web_pods} and (pods.ready == "1/1").all()
        assert frames.endpoints_frame(source.list("endpoints", "kube-system")).ready.all()
    node_a = open_target(f"netns:{lab.node_a.netns}", timeout_s=5)
    dump = node_a.run("iptables-save-filter", ["iptables-save", "-t", "filter"])
    assert dump.ok and '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" ' \
                       "-j KUBE-SERVICES" in dump.stdout and "REJECT" not in dump.stdout

    assert control.break_fault("dns-down", lab)
    with open_source("lab") as source:
        assert source.meta()["lab"]["faults"] == ["dns-down"]
        dns = frames.endpoints_frame(source.list("endpoints", "kube-system"))
        assert not dns.ready.any() and set(dns.ip) == {lab.dns_pod.ip}
        assert "Unhealthy" in set(frames.events_frame(source.list("events", "kube-system")).reason)
    pod_a = open_target(f"netns:{lab.pod_a.netns}", timeout_s=5)
    dig = pod_a.run("dig-tcp", ["dig", "+tcp", "+time=1", "+tries=1", f"@{lab.kube_dns.cluster_ip}", lab.web_fqdn])
    assert "connection refused" in dig.stdout  # the REJECT answered, not a timeout or "no route"
    dump = node_a.run("iptables-save-filter", ["iptables-save", "-t", "filter"])
    reject = [line for line in dump.stdout.splitlines() if "has no endpoints" in line]
    assert reject == [
        f'-A KUBE-SERVICES -d {s.cluster_ip}/32 -p {s.protocol} -m comment --comment '
        f'"{s.service_port_name} has no endpoints" -m {s.protocol} --dport {s.port} '
        "-j REJECT --reject-with icmp-port-unreachable" for s in lab.services if s.name == "kube-dns"]

    assert control.fix_fault("dns-down", lab)
    with open_source("lab") as source:
        assert frames.endpoints_frame(source.list("endpoints", "kube-system")).ready.all()
    assert "REJECT" not in node_a.run("iptables-save-filter", ["iptables-save", "-t", "filter"]).stdout


# --- scenarios recorded with "cluster": "lab" ------------------------------

LAB_RECIPE = '''"""lab-mtu: a test recipe whose cluster part is the lab."""
from scenariokit.lab import lab_cluster

SCENARIO = {"description": "test", "runbook": "mtu", "namespace": "default",
            "expected_codes": ["MTU-001"], "absent_codes": []}
RECORD = {"runbook": "mtu", "faults": [%s], "cluster": "lab",
          "parameters": {"target": "netns:k8l-node-a", "dest": "192.168.20.2"}}


def build():
    return lab_cluster([%s])
'''


@pytest.fixture
def recipes(tmp_path, monkeypatch):
    """tools/record_scenarios.py as a module, its recipes read from a temp folder."""
    tools = Path(__file__).resolve().parents[1] / "tools"
    monkeypatch.syspath_prepend(str(tools))
    import record_scenarios
    from scenariokit import recipes as kit

    folder = tmp_path / "recipes"
    folder.mkdir()
    monkeypatch.setattr(kit, "RECIPES_DIR", folder)
    return folder, record_scenarios


def test_a_recipe_with_cluster_lab_builds_the_lab_and_records_with_source_lab(recipes, tmp_path):
    folder, tool = recipes
    (folder / "lab-mtu.py").write_text(LAB_RECIPE % ('"mtu", "dns-down"', '"mtu", "dns-down"'))
    spec = tool.record_spec("lab-mtu")
    assert tool.recording_source(spec) == "lab"
    assert tool.recording_source({**spec, "cluster": None}) == "none"
    root = tool.build_scenario("lab-mtu", tmp_path / "out")
    with SnapshotSource(root, kind="scenario") as source:
        assert source.meta()["lab"]["faults"] == ["mtu", "dns-down"]
        assert source.default_namespace() == "default"
        ours = cluster.cluster_objects(LAB, ["mtu", "dns-down"])
        assert sorted(o["metadata"]["name"] for o in source.list("pods")) == sorted(
            o["metadata"]["name"] for o in ours["pods"])
        assert not frames.endpoints_frame(source.list("endpoints", "kube-system")).ready.any()
    assert tool.build_scenario("lab-mtu", tmp_path / "again").joinpath("k8srun.json").read_bytes() == \
        root.joinpath("k8srun.json").read_bytes()  # deterministic


def test_a_lab_cluster_must_carry_the_recorded_faults(recipes, tmp_path):
    folder, tool = recipes
    (folder / "lab-mtu.py").write_text(LAB_RECIPE % ('"mtu"', '"dns-down"'))
    with pytest.raises(ValueError, match='"cluster": "lab" with the same faults'):
        tool.build_scenario("lab-mtu", tmp_path / "out")
    (folder / "lab-mtu.py").write_text((LAB_RECIPE % ('"mtu"', '"mtu"')).replace('"cluster": "lab"', '"cluster": "x"'))
    with pytest.raises(ValueError, match='"cluster" can only be "lab"'):
        tool.record_spec("lab-mtu")


def test_each_kubelet_renews_its_node_lease_and_a_lost_node_stops():
    """kube-node-lease holds one Lease per node; node-unreachable leaves node-b's renewTime where it was lost."""
    healthy = {l["metadata"]["name"]: l["spec"]["renewTime"] for l in cluster.cluster_objects(LAB)["leases"]}
    lost = {l["metadata"]["name"]: l["spec"]["renewTime"]
            for l in cluster.cluster_objects(LAB, ("node-unreachable",))["leases"]}
    assert set(healthy) == {node.name for node in LAB.nodes}
    assert lost[LAB.node_a.name] == healthy[LAB.node_a.name] and lost[LAB.node_b.name] < healthy[LAB.node_b.name]


def test_a_namespace_folder_has_a_file_for_every_namespaced_resource_of_the_catalogue():
    from k8srun.resources import CATALOGUE, NAMESPACE_FILE_STEMS

    assert sorted(NAMESPACE_FILE_STEMS) == sorted(r.file_stem for r in CATALOGUE.values() if r.namespaced)
