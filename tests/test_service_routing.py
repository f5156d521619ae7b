"""service-routing: SVC-001..007 on real rules, real conntrack and recorded scenarios.

Where each code is produced from real input, and where healthy input is shown not to produce it:

=======  ==========================================================  =============================================
code     produced by                                                 healthy counterpart
=======  ==========================================================  =============================================
SVC-001  scenario svc-selector-mismatch (selector app=order vs pods   shop/catalog in the same scenario; the lab
         app=orders); svc-target-port (named targetPort unresolved)
SVC-002  scenario svc-target-port (named port 'web' no pod defines:   the lab's web:https (named port only web-b
         error; numeric 9090 nobody declares: warning)                defines: its one backend, not a finding)
SVC-003  lab fault ``svc-no-dnat`` through ``k8srun run``; our own    the healthy lab; our own topology, healthy
         topology (k8v-) with its KUBE-SERVICES rule deleted
SVC-004  lab fault ``svc-stale-endpoint`` through ``k8srun run`` and  the healthy lab; our own topology, healthy
         the default scenario recorded from it; our own topology
         whose Endpoints moved a pod the rules still DNAT to
SVC-005  scenario svc-kube-proxy-down (CrashLoopBackOff on worker-2)  the other kube-proxy pods; the lab's
SVC-006  scenario svc-ipvs-stale: *hand-written* ``ipvsadm -Ln`` —    default/kubernetes:https in the same scenario
         this kernel has no IPVS, so no test can produce it live
SVC-007  lab fault ``svc-stale-endpoint`` after real TCP connects     entries to current backends (same run), the
         from pod-a through node-a's stale DNAT (conntrack read in    healthy lab
         node-a's netns); svc-ipvs-stale
=======  ==========================================================  =============================================

Our own topology (prefix ``k8v-``, built and deleted per test): one network namespace ``k8v-node``
holding kube-proxy-style nat and filter rules for Service shop/cart 10.97.3.30:8443 -> named targetPort
``https`` (9443) on pods 10.250.1.5 and 10.250.2.7, a NodePort 31443, and shop/idle without endpoints
(filter REJECT); chain names are kube-proxy's hashes (:func:`k8srun.lab.topology.chain_hash`). The
cluster part is a snapshot written from tests/factories.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from factories import container, endpoints, k8s_list, meta, node, pod
from k8srun.checks import service as svc
from k8srun.errors import ParameterError
from k8srun.frames import POD_COLUMNS
from k8srun.lab.topology import LAB, chain_hash
from k8srun.parsers import kube_proxy
from k8srun import registry
from k8srun.session import Session, diagnose_runbook
from k8srun.sources.snapshot import SnapshotSource
from k8srun.sources import scenarios_dir

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"
K8SRUN = [sys.executable, "-m", "k8srun.cli"]
ERRORS = {"SVC-001", "SVC-002", "SVC-003", "SVC-004", "SVC-005", "SVC-006"}  # error or critical
NODE = "k8v-node"


def fixture(name: str) -> str:
    return (FIXTURES / f"iptables-save--{name}.out").read_text()


def codes(session) -> set[str]:
    return {f.code for f in session.findings}


def statuses(session) -> dict[str, str]:
    table = session.checks_table()
    return dict(zip(table["code"], table["status"]))


def by_subject(session) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in session.findings:
        out.setdefault(f.subject, set()).add(f.code)
    return out


# -- the kube-proxy view on real iptables-save text ------------------------------------------------------

def test_view_of_the_healthy_lab_node_follows_kube_proxys_chains():
    text = fixture("lab-healthy")
    assert kube_proxy.proxy_mode(text) == "iptables"
    view = kube_proxy.view(text)
    web = view[view["service"] == "default/web:http"]
    assert sorted(web["backend_ip"]) == sorted(LAB.web_http.endpoint_ips)
    assert list(web["share"]) == [0.5, 0.5] and web["service_rule"].all() and (web["status"] == "ok").all()


def test_a_service_chain_without_its_portal_rule_is_kept_with_service_rule_false():
    view = kube_proxy.view(fixture("lab-svc-no-dnat"))  # captured from the lab's svc-no-dnat fault
    orphan = view[~view["service_rule"]]
    assert set(orphan["service"]) == {"default/web:http"} and set(orphan["cluster_ip"]) == {"10.96.0.50"}
    assert sorted(orphan["backend_ip"]) == sorted(LAB.web_http.endpoint_ips)
    assert view[view["service"] == "default/web:https"]["service_rule"].all()


def test_reject_rules_and_modes():
    view = kube_proxy.view(fixture("nft-kube-proxy"))
    assert view.set_index("service").loc["lab/empty:http", "status"] == "no-endpoints"
    ipvs_node = scenarios_dir() / "svc-ipvs-stale" / "hosts" / "node_worker-1" / "iptables-save.txt"
    assert kube_proxy.proxy_mode(ipvs_node.read_text()) == "ipvs"
    assert kube_proxy.proxy_mode("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n") == "none"
    assert kube_proxy.view("").empty and list(kube_proxy.view("").columns) == kube_proxy.VIEW_COLUMNS


@pytest.mark.parametrize("value, cleaned", [("http", "http"), ("8443", "8443"), (80, "80"), ("dns-tcp", "dns-tcp")])
def test_port_parameter(value, cleaned):
    assert svc.port_choice("port", value) == cleaned


@pytest.mark.parametrize("name, value", [("port", "0"), ("port", "70000"), ("port", "http; id"),
                                         ("port", "a-very-long-port-name"), ("service", "Web"), ("port", True)])
def test_bad_parameters_are_one_clear_error(name, value):
    with pytest.raises(ParameterError, match=name):
        svc.RUNBOOK.validate({name: value})


# -- recorded scenarios ------------------------------------------------------------------------------------

def test_default_scenario_recorded_on_the_lab_finds_the_stale_dnat():
    rb = diagnose_runbook("service-routing")
    assert codes(rb) == {"SVC-004"}
    [found] = rb.findings
    assert found.subject == "service default/web:http"
    assert f"stale {LAB.dead_pod_ip}:{LAB.http_port}" in found.detail
    assert f"missing {LAB.pod_b.ip}:{LAB.http_port}" in found.detail
    paths = svc.paths(rb).set_index("backend")
    assert paths.loc[f"{LAB.dead_pod_ip}:{LAB.http_port}", "status"] == "stale"
    assert paths.loc[f"{LAB.pod_a.ip}:{LAB.http_port}", "status"] == "ok"
    # web:https: only web-b names an https port, so web-a is no backend of it, and that is not SVC-002
    assert by_subject(rb).get("service default/web:https") is None
    https = svc.pods_selected(rb).query("subject == 'service default/web:https'").set_index("pod")
    assert https.loc["web-a", "resolves_to"] is None or pd.isna(https.loc["web-a", "resolves_to"])
    assert https.loc["web-b", "resolves_to"] == LAB.tls_port


def test_selector_that_matches_nothing_is_svc_001_only_for_that_service():
    rb = diagnose_runbook("service-routing", source="scenario:svc-selector-mismatch")
    assert by_subject(rb) == {"service shop/orders:http": {"SVC-001"}}
    assert "app=order matches no pod" in rb.findings[0].detail
    assert statuses(rb)["SVC-002"] == "OK" and statuses(rb)["SVC-005"] == "OK"
    assert statuses(rb)["SVC-003"] == "NOT CHECKED"  # no node part recorded: could not look, not healthy


def test_target_port_not_exposed_named_is_an_error_numeric_a_warning():
    rb = diagnose_runbook("service-routing", source="scenario:svc-target-port")
    found = {(f.subject, f.code): f for f in rb.findings}
    named = found[("service shop/search:http", "SVC-002")]
    assert str(named.severity) == "error" and "'web'" in named.detail
    numeric = found[("service shop/search:metrics", "SVC-002")]
    assert str(numeric.severity) == "warning" and "9090" in numeric.detail and "8080" in numeric.detail
    assert ("service shop/search:http", "SVC-001") in found  # no pod resolves the port: no endpoint
    assert ("service shop/search:metrics", "SVC-001") not in found


def test_kube_proxy_crash_loop_is_svc_005_for_that_pod_only():
    rb = diagnose_runbook("service-routing", source="scenario:svc-kube-proxy-down")
    [found] = rb.findings
    assert found.code == "SVC-005" and "worker-2" in found.detail and "CrashLoopBackOff" in found.detail
    assert "Failed to execute iptables-restore" in found.detail  # the first error of its previous run's log
    verdicts = rb.verdicts().set_index("subject")["verdict"]
    proxies = [s for s in verdicts.index if s.startswith("pod kube-system/kube-proxy-")]
    assert len(proxies) == 3 and sum(verdicts[p] == "FOUND" for p in proxies) == 1
    # the target's node without a kube-proxy pod (node:NAME targets); a cluster without kube-proxy pods
    assert svc.proxy_pods(pd.DataFrame(columns=POD_COLUMNS)).empty
    healthy = svc.kube_proxy_pods(rb)
    [lonely] = svc.kube_proxy_not_ready(healthy[healthy["healthy"]], target_node="worker-2")
    assert lonely.subject == "node worker-2" and "no kube-proxy pod runs on node worker-2" in lonely.detail


def test_ipvs_real_servers_that_differ_from_the_endpoints_are_svc_006():
    """Hand-written ipvsadm -Ln: this kernel has no IPVS, no test can produce it live (see the recipe)."""
    rb = diagnose_runbook("service-routing", source="scenario:svc-ipvs-stale")
    assert by_subject(rb) == {"service default/web:http": {"SVC-006", "SVC-007"}}
    detail = next(f.detail for f in rb.findings if f.code == "SVC-006")
    assert "stale 10.244.2.7:8080" in detail and "missing 10.244.2.10:8080" in detail
    assert svc.proxy_mode(rb) == "ipvs" and svc.paths(rb).empty
    flows = svc.conntrack_flows(rb)
    assert set(flows["verdict"]) == {"stale backend", "current"}  # the kubernetes Service's flows are current
    assert statuses(rb)["SVC-003"] == "OK" and statuses(rb)["SVC-004"] == "OK"  # IPVS: do not apply


def test_a_missing_virtual_server_is_svc_006():
    ports = pd.DataFrame([{"subject": "service a/b:http", "namespace": "a", "service": "b", "type": "ClusterIP",
                           "cluster_ip": "10.96.9.9", "port_name": "http", "port": 80, "protocol": "TCP",
                           "target_port": 8080, "selector": {}, "known_from": "API"}])
    ipvs = pd.DataFrame(columns=list(svc.IPVSADM.columns))
    addresses = pd.DataFrame(columns=svc.ADDRESS_COLUMNS)
    [found] = svc.ipvs_differs(ports, ipvs, addresses)
    assert found.code == "SVC-006" and "no IPVS virtual server TCP 10.96.9.9:80" in found.detail


def test_without_a_cluster_source_the_node_checks_still_run(tmp_path):
    """-p source none: cluster sections skipped, node rules read, the codes that need the API NOT CHECKED."""
    recorded = scenarios_dir() / "service-routing"
    rb = diagnose_runbook("service-routing", source="none", namespace="default", service="web",
                          target=f"replay:{recorded}#netns_k8l-node-a")
    assert any(u.reason.startswith("no cluster source") for u in rb.unavailable)
    table = statuses(rb)
    assert table["SVC-003"] == "PARTIAL" and table["SVC-004"] == "NOT CHECKED" and table["SVC-001"] == "NOT CHECKED"
    paths = svc.paths(rb)
    assert set(paths["status"]) == {"unverified"}  # backends read from the node, nothing to compare with
    assert f"{LAB.dead_pod_ip}:{LAB.http_port}" in set(paths["backend"])
    no_dnat = tmp_path / "no-dnat"
    shutil.copytree(recorded / "hosts", no_dnat / "hosts")
    (no_dnat / "hosts" / "netns_k8l-node-a" / "iptables-save.txt").write_text(fixture("lab-svc-no-dnat"))
    rb = diagnose_runbook("service-routing", source="none", namespace="default", service="web",
                          target=f"replay:{no_dnat}#netns_k8l-node-a")
    assert by_subject(rb) == {"service default/web:http": {"SVC-003"}}  # the orphaned chain tells its ClusterIP


def test_a_target_without_kube_proxy_rules_is_not_checked():
    rb = diagnose_runbook("service-routing", source="scenario:svc-selector-mismatch", target="replay:"
                          f"{scenarios_dir() / 'routing-sysctl'}")  # recorded without iptables-save
    table = statuses(rb)
    assert {table[c] for c in ("SVC-003", "SVC-004", "SVC-006", "SVC-007")} == {"NOT CHECKED"}


def test_path_diagram_marks_each_backend():
    rb = diagnose_runbook("service-routing")
    drawn = str(svc.path_diagram(svc.paths(rb)))
    assert drawn.startswith("<svg") and drawn.count("class='svc-path'") == 2  # web:http, web:https
    assert f"data-status='stale' data-backend='{LAB.dead_pod_ip}:{LAB.http_port}'" in drawn
    assert f"data-status='missing' data-backend='{LAB.pod_b.ip}:{LAB.http_port}'" in drawn
    assert f"data-status='ok' data-backend='{LAB.pod_a.ip}:{LAB.http_port}'" in drawn
    empty = str(svc.path_diagram(pd.DataFrame(columns=svc.PATH_COLUMNS)))
    assert "no service port to draw" in empty


# -- our own topology: a namespace with kube-proxy rules the lab did not write ------------------------------

CART_IP, CART_PORT, CART_TARGET, NODE_PORT = "10.97.3.30", 8443, 9443, 31443
CART_PODS = {"cart-0": "10.250.1.5", "cart-1": "10.250.2.7"}
IDLE_IP = "10.97.3.31"


def _rules(backends: list[str], *, portal: bool = True) -> str:
    """nat + filter rules as kube-proxy (iptables mode) writes them for shop/cart:https and shop/idle:http."""
    spn, proto = "shop/cart:https", "tcp"
    svc_chain = "KUBE-SVC-" + chain_hash(spn, proto)
    ext_chain = "KUBE-EXT-" + chain_hash(spn, proto)
    seps = ["KUBE-SEP-" + chain_hash(spn, proto, f"{ip}:{CART_TARGET}") for ip in backends]
    match = f'-d {CART_IP}/32 -p tcp -m comment --comment "{spn} cluster IP" -m tcp --dport {CART_PORT}'
    nat = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
           ":POSTROUTING ACCEPT [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-NODEPORTS - [0:0]",
           ":KUBE-POSTROUTING - [0:0]", ":KUBE-SERVICES - [0:0]", f":{svc_chain} - [0:0]", f":{ext_chain} - [0:0]",
           *(f":{sep} - [0:0]" for sep in seps),
           '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
           '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
           '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
           "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
           f'-A KUBE-NODEPORTS -p tcp -m comment --comment "{spn}" -m tcp --dport {NODE_PORT} -j {ext_chain}',
           "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
           "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
           '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE '
           "--random-fully",
           *([f"-A KUBE-SERVICES {match} -j {svc_chain}"] if portal else []),
           '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule '
           'in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
           f'-A {ext_chain} -m comment --comment "masquerade traffic for {spn} external destinations" '
           "-j KUBE-MARK-MASQ", f"-A {ext_chain} -j {svc_chain}",
           f"-A {svc_chain} ! -s 10.250.0.0/16 {match} -j KUBE-MARK-MASQ"]
    for index, (ip, sep) in enumerate(zip(backends, seps)):
        left = len(backends) - index
        pick = f"-m statistic --mode random --probability {1 / left:.11f} " if left > 1 else ""
        nat.append(f'-A {svc_chain} -m comment --comment "{spn} -> {ip}:{CART_TARGET}" {pick}-j {sep}')
    for ip, sep in zip(backends, seps):
        nat += [f'-A {sep} -s {ip}/32 -m comment --comment "{spn}" -j KUBE-MARK-MASQ',
                f'-A {sep} -p tcp -m comment --comment "{spn}" -m tcp -j DNAT --to-destination {ip}:{CART_TARGET}']
    filter_ = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
               ":KUBE-SERVICES - [0:0]",
               '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" '
               "-j KUBE-SERVICES",
               f'-A KUBE-SERVICES -d {IDLE_IP}/32 -p tcp -m comment --comment "shop/idle:http has no endpoints" '
               "-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable"]
    return "\n".join([*nat, "COMMIT", *filter_, "COMMIT", ""])


def _cart_container() -> dict:
    body = container("cart", ports=(CART_TARGET,))
    body["ports"][0]["name"] = "https"
    return body


def _snapshot(root: Path, endpoint_ips: dict[str, str]) -> Path:
    """A bundle of namespace shop: Services cart (https 8443 -> named https) and idle, pods, Endpoints."""
    def write(rel: str, data) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(data))
    service = {"apiVersion": "v1", "kind": "Service", "metadata": meta("cart", "shop"),
               "spec": {"type": "ClusterIP", "clusterIP": CART_IP, "selector": {"app": "cart"},
                        "ports": [{"name": "https", "port": CART_PORT, "protocol": "TCP", "targetPort": "https",
                                   "nodePort": NODE_PORT}]}}
    idle = {"apiVersion": "v1", "kind": "Service", "metadata": meta("idle", "shop"),
            "spec": {"type": "ClusterIP", "clusterIP": IDLE_IP, "selector": {"app": "idle"},
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}
    pods = [pod(name, "shop", node_name="k8v-node", labels={"app": "cart"}, pod_ip=ip, containers=[_cart_container()])
            for name, ip in endpoint_ips.items()]
    proxy = pod("kube-proxy-k8v", "kube-system", node_name="k8v-node", labels={"k8s-app": "kube-proxy"},
                containers=("kube-proxy",))
    write("k8srun.json", {"captured_at": "2024-05-14T12:00:00Z", "gathered": [], "errors": []})
    write("nodes.json", k8s_list("NodeList", [node("k8v-node")]))
    write("namespaces.json", k8s_list("NamespaceList", [{"metadata": meta(n), "status": {"phase": "Active"}}
                                                        for n in ("shop", "kube-system")]))
    write("shop/services.json", k8s_list("ServiceList", [service, idle]))
    write("shop/pods.json", k8s_list("PodList", pods))
    write("shop/endpoints.json", k8s_list("EndpointsList", [
        endpoints("cart", "shop", ready=list(zip(endpoint_ips.values(), endpoint_ips)), port=CART_TARGET,
                  port_name="https", node_name="k8v-node"),
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("idle", "shop")}]))
    write("kube-system/pods.json", k8s_list("PodList", [proxy]))
    return root


def joined(bundle: Path, **values) -> Session:
    """A run on our bundle's cluster view with node commands live on k8v-node (what ``-p source lab`` does)."""
    spec = registry.get("service-routing")
    cleaned = spec.validate({**spec.defaults(), "target": f"netns:{NODE}", "namespace": "shop", **values})
    rb = Session("service-routing", SnapshotSource(bundle, kind="lab", description="k8v snapshot"), cleaned)
    rb.diagnose()
    return rb


@pytest.fixture
def own_node():
    """Network namespace k8v-node with our kube-proxy rules; deleted afterwards."""
    subprocess.run(["ip", "netns", "del", NODE], capture_output=True)
    subprocess.run(["ip", "netns", "add", NODE], check=True, timeout=10)
    try:
        yield lambda rules: subprocess.run(["ip", "netns", "exec", NODE, "iptables-restore"], input=rules,
                                           text=True, check=True, timeout=10)
    finally:
        subprocess.run(["ip", "netns", "del", NODE], capture_output=True, timeout=10)


@pytest.mark.netns
def test_own_topology_healthy_then_stale_then_without_portal(own_node, tmp_path):
    own_node(_rules(list(CART_PODS.values())))
    live = subprocess.run(["ip", "netns", "exec", NODE, "iptables-save", "-c"], capture_output=True, text=True,
                          check=True, timeout=10).stdout
    view = kube_proxy.view(live)  # real iptables-save output of rules we wrote
    cart = view[view["service"] == "shop/cart:https"]
    assert set(cart["node_port"]) == {NODE_PORT} and sorted(cart["backend_ip"]) == sorted(CART_PODS.values())

    healthy = joined(_snapshot(tmp_path / "ok", CART_PODS), service="cart")
    assert not healthy.findings and set(statuses(healthy).values()) == {"OK"}
    paths = svc.paths(healthy)
    assert set(paths["status"]) == {"ok"} and set(paths["node_port"]) == {NODE_PORT}
    assert sorted(paths["backend"]) == sorted(f"{ip}:{CART_TARGET}" for ip in CART_PODS.values())
    # idle has no pod: SVC-001, and the node's REJECT is kube-proxy's right answer to that (no SVC-003/004)
    idle = joined(tmp_path / "ok", service="idle")
    assert by_subject(idle) == {"service shop/idle:http": {"SVC-001"}}
    assert set(svc.paths(idle)["status"]) == {"rejected"}

    moved = {"cart-0": CART_PODS["cart-0"], "cart-1": "10.250.2.9"}  # cart-1 replaced; the rules were not
    stale = joined(_snapshot(tmp_path / "moved", moved), service="cart")
    [found] = stale.findings
    assert found.code == "SVC-004" and "stale 10.250.2.7:9443" in found.detail and "missing 10.250.2.9:9443" in found.detail

    own_node(_rules(list(CART_PODS.values()), portal=False))
    unportaled = joined(tmp_path / "ok", service="cart", port="8443")
    [found] = unportaled.findings
    assert found.code == "SVC-003" and f"{CART_IP}:{CART_PORT}/tcp" in found.detail and "KUBE-SVC-" in found.detail


# -- the fault lab through the CLI ---------------------------------------------------------------------------

def k8srun(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*K8SRUN, *args], capture_output=True, text=True, timeout=300)


def run_on_node_a(out: Path, *extra: str) -> list[dict]:
    """``k8srun run service-routing -p source lab -p target netns:k8l-node-a -p namespace default ...``."""
    done = k8srun("run", "service-routing", "-p", "source", "lab", "-p", "target", f"netns:{LAB.node_a.netns}",
                  "-p", "namespace", "default", *extra, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((out / "service-routing.findings.json").read_text())
    return data["findings"] if isinstance(data, dict) else data


def stale_flow_seen() -> bool:
    listed = subprocess.run(["ip", "netns", "exec", LAB.node_a.netns, "conntrack", "-L", "-d", LAB.web_http.cluster_ip],
                            capture_output=True, text=True, timeout=10).stdout
    return f"src={LAB.dead_pod_ip} " in listed


@pytest.mark.netns
def test_lab_faults_through_the_cli(fault_lab, tmp_path):
    healthy = run_on_node_a(tmp_path / "healthy")
    assert not {f["code"] for f in healthy} & ERRORS, healthy

    assert k8srun("lab", "break", "svc-no-dnat").returncode == 0
    try:
        found = run_on_node_a(tmp_path / "no-dnat", "-p", "service", "web")
        assert {(f["code"], f["subject"]) for f in found} == {("SVC-003", "service default/web:http")}
    finally:
        assert k8srun("lab", "fix", "svc-no-dnat").returncode == 0

    assert k8srun("lab", "break", "svc-stale-endpoint").returncode == 0
    try:
        found = run_on_node_a(tmp_path / "stale", "-p", "service", "web")
        assert {f["code"] for f in found} == {"SVC-004"}
        for _ in range(24):  # new connections pick a KUBE-SEP at random: half go to the dead pod
            subprocess.run(["ip", "netns", "exec", LAB.pod_a.netns, "nc", "-z", "-w", "1", LAB.web_http.cluster_ip,
                            str(LAB.web_http.port)], capture_output=True, timeout=10)
            if stale_flow_seen():
                break
        assert stale_flow_seen(), "no connection went through the stale DNAT"
        found = run_on_node_a(tmp_path / "after-traffic", "-p", "service", "web", "-p", "port", "http")
        assert {f["code"] for f in found} == {"SVC-004", "SVC-007"}
        flows = next(f for f in found if f["code"] == "SVC-007")
        assert f"{LAB.dead_pod_ip}:{LAB.http_port}" in flows["detail"]
    finally:
        assert k8srun("lab", "fix", "svc-stale-endpoint").returncode == 0


@pytest.mark.parametrize("values", [{"service": "nope"}, {"service": "web", "port": "9999"}, {"namespace": "kube-public"}])
def test_a_service_or_port_that_is_not_there_is_not_checked_not_healthy(values):
    rb = diagnose_runbook("service-routing", **values)
    table = statuses(rb)
    assert {table[c] for c in ("SVC-001", "SVC-002", "SVC-003", "SVC-004", "SVC-006")} == {"NOT CHECKED"}
    reasons = " | ".join(u.reason for u in rb.unavailable)
    assert ("no such Service port" in reasons or "name no service port" in reasons) and not rb.findings


def test_triage_routes_a_service_without_endpoints_here_and_its_parameters_find_it():
    triage = diagnose_runbook("triage")
    [routed] = [f for f in triage.findings if f.evidence.get("runbook") == "service-routing"]
    assert routed.evidence["parameters"] == {"namespace": "default", "service": "checkout", "port": "http"}
    rb = diagnose_runbook("service-routing", source="scenario:triage", **routed.evidence["parameters"])
    assert by_subject(rb) == {"service default/checkout:http": {"SVC-001"}}
    assert svc.RUNBOOK.triage == ("service-without-endpoints", "kube-proxy-pods")


def test_endpoint_addresses_come_from_the_endpointslices_when_there_are_some():
    rb = diagnose_runbook("service-routing")
    web = svc.addresses(rb).query("service == 'web'")
    assert set(web["from"]) == {"EndpointSlice"}  # the lab writes both; kube-proxy reads the slices
    assert sorted(web.query("port_name == 'http'")["ip"]) == sorted(LAB.web_http.endpoint_ips)
    sliced = svc.endpointslices_frame([{
        "metadata": {"namespace": "a", "labels": {"kubernetes.io/service-name": "b"}}, "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.1.0.1"], "conditions": {"ready": False, "terminating": True}},
                      {"addresses": ["10.1.0.2"]}],  # no conditions: ready (the API's meaning of nil)
        "ports": [{"name": "http", "port": 8080}]}])
    assert dict(zip(sliced["ip"], sliced["ready"])) == {"10.1.0.1": False, "10.1.0.2": True}


def test_a_dnat_to_a_not_ready_endpoint_is_svc_004_and_an_empty_service_chain_is_no_backends():
    view = kube_proxy.view(fixture("lab-healthy"))  # node-a's real rules: web:http -> pod-a, pod-b
    ports = svc.ports_from_rules(view, "default", "web", "http")
    addresses = pd.DataFrame([
        {"namespace": "default", "service": "web", "port_name": "http", "ip": pod.ip, "port": LAB.http_port,
         "protocol": "TCP", "ready": ready, "pod": pod.name, "node": pod.node.name, "from": "EndpointSlice"}
        for pod, ready in ((LAB.pod_a, True), (LAB.pod_b, False))], columns=svc.ADDRESS_COLUMNS)
    paths = svc.service_paths(ports, view, addresses)
    assert dict(zip(paths["backend"], paths["status"])) == {f"{LAB.pod_a.ip}:{LAB.http_port}": "ok",
                                                           f"{LAB.pod_b.ip}:{LAB.http_port}": "not-ready"}
    [found] = svc.stale_backends(paths)
    assert found.code == "SVC-004" and "not-ready" in found.detail
    emptied = "\n".join(line for line in fixture("lab-healthy").splitlines()
                        if not line.startswith("-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment"))  # web:http's SEP jumps
    paths = svc.service_paths(ports, kube_proxy.view(emptied), addresses)
    assert list(paths["status"]) == ["missing"] and svc.stale_backends(paths)[0].code == "SVC-004"
    nobody_ready = addresses.assign(ready=False)  # consistent with an empty chain: SVC-001's business, not 004's
    paths = svc.service_paths(ports, kube_proxy.view(emptied), nobody_ready)
    assert list(paths["status"]) == ["no-backends"] and svc.stale_backends(paths) == []
