"""The dns runbook (DNS-001..006): pure parts, recorded scenarios, our own namespaces, the fault lab.

- pure: glibc's search expansion, query status, parameters, CoreDNS log lines, command shapes;
- offline: the default scenario (recorded from the lab under dns-down, cluster part the lab's snapshot),
  dns-coredns-loop (CoreDNS CrashLoopBackOff on the loop plugin), a replay from "another machine";
- live, our own topology (k8d- namespaces, our dnsmasq, our resolv.conf, a snapshot from the factories);
- live, the fault lab through the CLI (one lab for the module, tests/conftest.py ``fault_lab``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8srun.checks import dns
from k8srun.errors import ParameterError
from k8srun.session import diagnose_runbook
from k8srun.sources import scenarios_dir

ERRORS = ("error", "critical")


def status(rb) -> dict[str, str]:
    return dict(zip(rb.checks_table()["code"], rb.checks_table()["status"]))


def codes(rb) -> list[str]:
    return sorted({f.code for f in rb.findings})


# ------------------------------------------------------------------ the expansion (pure)

def test_short_names_try_the_search_list_first_and_the_name_as_it_is_last():
    search = ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert [q["qname"] for q in dns.expand("web", search, 5)] == [
        "web.shop.svc.cluster.local.", "web.svc.cluster.local.", "web.cluster.local.", "web."]
    assert [q["qname"] for q in dns.expand("Web.Default", search, 5)][1] == "web.default.svc.cluster.local."


def test_names_with_ndots_dots_go_as_they_are_first_and_absolute_names_only_so():
    search = ["shop.svc.cluster.local", "svc.cluster.local"]
    assert [q["qname"] for q in dns.expand("api.example.com", search, 2)] == [
        "api.example.com.", "api.example.com.shop.svc.cluster.local.", "api.example.com.svc.cluster.local."]
    assert [q["qname"] for q in dns.expand("kubernetes.default.svc.cluster.local.", search, 5)] == [
        "kubernetes.default.svc.cluster.local."]
    assert dns.expand("web", [], 1)[0]["why"].startswith("as it is last")  # no search: only the name
    assert len(dns.expand("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", ["x"], 99)) == 2  # ndots capped at 15: as-is first


@settings(max_examples=200, deadline=None)
@given(name=st.from_regex(r"[a-z][a-z0-9-]{0,8}(\.[a-z][a-z0-9-]{0,8}){0,4}\.?", fullmatch=True),
       search=st.lists(st.from_regex(r"[a-z]{1,6}(\.[a-z]{1,6}){0,3}", fullmatch=True), max_size=6),
       ndots=st.integers(0, 20))
def test_expansion_properties(name, search, ndots):
    queries = [q["qname"] for q in dns.expand(name, search, ndots)]
    assert all(q.endswith(".") for q in queries)
    if name.endswith("."):
        assert queries == [name]
        return
    assert len(queries) == len(search) + 1 and f"{name}." in queries
    as_is_first = name.count(".") >= min(ndots, 15)
    assert (queries[0] == f"{name}.") == as_is_first or (not search)


def test_query_status_from_attempts():
    answered = {"outcome": "answered", "rcode": "NOERROR", "answers": ["10.96.0.1"]}
    assert dns.query_status([]) == "not-sent"
    assert dns.query_status([{"outcome": "timeout"}, {"outcome": "refused"}]) == "no-answer"
    assert dns.query_status([{"outcome": "timeout"}, answered]) == "resolved"
    assert dns.query_status([{**answered, "answers": []}]) == "nodata"
    assert dns.query_status([{**answered, "answers": ["web.other."]}]) == "nodata"  # a CNAME alone: no address
    assert dns.query_status([{**answered, "rcode": "NXDOMAIN", "answers": []}]) == "nxdomain"
    assert dns.query_status([{**answered, "rcode": "SERVFAIL", "answers": []}]) == "servfail"


# ------------------------------------------------------------------ parameters and commands

@pytest.mark.parametrize("bad", ["", "web..default", "-web", "a" * 64, "web default", "wéb", "web/x", ["x"] * 11, []])
def test_bad_names_are_refused(bad):
    with pytest.raises(ParameterError):
        dns.names_list("names", bad)


def test_good_parameters_are_cleaned():
    assert dns.names_list("names", "web.default.") == ["web.default."]
    assert dns.names_list("names", ["kubernetes.default", "_sip._tcp.example.com"])[1] == "_sip._tcp.example.com"
    assert dns.service_ref("dns_service", "kube-system/kube-dns") == "kube-system/kube-dns"
    for bad in ("kube-dns", "a/b/c", "Kube/x"):
        with pytest.raises(ParameterError):
            dns.service_ref("dns_service", bad)
    for bad in ("etc/resolv.conf", "/etc/../shadow", "/etc/x\n"):
        with pytest.raises(ParameterError):
            dns.file_path("resolv_conf", bad)


def test_command_ids_and_argv():
    probe = dns.query_command("dnspython", "10.96.0.10", "udp", "web.default.svc.cluster.local.", 10,
                              python="/usr/bin/python3")
    assert probe.build({}) == ("dns-udp-10.96.0.10-web.default.svc.cluster.local", (
        "/usr/bin/python3", "-m", "k8srun.probes.dns", "--server", "10.96.0.10", "--transport", "udp",
        "--timeout", "1", "--qname", "web.default.svc.cluster.local."))
    dig = dns.query_command("dig", "fd00::a", "tcp", "web.", 3)
    assert dig.build({}) == ("dig-tcp-fd00__a-web", ("dig", "+time=1", "+tries=1", "+tcp", "@fd00::a", "web.", "A"))
    long_name = ".".join(["a" * 60] * 4) + "."
    command_id, _ = dns.query_command("dnspython", "10.96.0.10", "tcp", long_name, 10).build({})
    assert len(command_id) <= 100 and command_id != dns.query_command(
        "dnspython", "10.96.0.10", "tcp", long_name.replace("a", "b", 1), 10).build({})[0]
    assert dns.timeouts(1) == (0.3, 1) and dns.timeouts(100) == (2.0, 2)


def test_coredns_log_lines_are_classified():
    log = ('.:53\n[INFO] plugin/reload: Running configuration SHA512 = 3b4f\nCoreDNS-1.11.1\n'
           '[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone ".", see '
           'https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."\n'
           '[ERROR] plugin/errors: 2 example.com. A: read udp 10.244.0.3:50112->10.0.0.2:53: i/o timeout\n'
           '[INFO] 10.244.1.10:52127 - 40442 "A IN example.com. udp 29 false 512" SERVFAIL qr,rd 29 0.0021s\n'
           '[ERROR] plugin/errors: 2 web.shop. AAAA: plugin/forward: no healthy upstreams\n'
           '[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go: Failed to watch *v1.Service: connection refused\n'
           '[INFO] 10.244.1.10:40322 - 3 "A IN web.shop.svc.cluster.local. udp 44 false 512" NOERROR qr,aa,rd 94 0.0001s\n')
    assert [kind for kind, _ in dns.classify_log(log)] == [
        "loop detected", "i/o timeout", "upstream SERVFAIL", "upstream SERVFAIL", "error"]
    assert dns.classify_log(None) == [] and dns.classify_log("[INFO] plugin/reload: ok\n") == []


def test_resolution_chart_marks_the_winner():
    rows = pd.DataFrame([
        {"name": "web", "step": 1, "qname": "web.shop.svc.cluster.local.", "why": "search", "server": "10.96.0.10",
         "transport": "udp", "outcome": "answered", "rcode": "NXDOMAIN", "answers": [], "status": "nxdomain",
         "won": False, "sent": True},
        {"name": "web", "step": 2, "qname": "web.svc.cluster.local.", "why": "search", "server": "10.96.0.10",
         "transport": "udp", "outcome": "answered", "rcode": "NOERROR", "answers": ["10.96.0.50"],
         "status": "resolved", "won": True, "sent": True},
        {"name": "web", "step": 3, "qname": "web.", "why": "last", "server": None, "transport": None,
         "outcome": None, "rcode": None, "answers": [], "status": "not-sent", "won": False, "sent": False}],
        columns=dns.RESOLUTION_COLUMNS)
    svg = str(dns.resolution_chart(rows))
    assert svg.count("class='dns-query'") == 3 and "data-resolved='true'" in svg
    assert "data-qname='web.svc.cluster.local.' data-status='resolved' data-won='true'" in svg
    assert "data-qname='web.' data-status='not-sent' data-won='false' data-sent='false'" in svg
    assert "✔ won: 10.96.0.50" in svg
    assert "<svg" in str(dns.resolution_chart(pd.DataFrame(columns=dns.RESOLUTION_COLUMNS)))


# ------------------------------------------------------------------ recorded scenarios

def test_default_scenario_joins_the_pods_view_with_the_clusters():
    """Recorded from the lab under dns-down from pod-a, cluster part the lab's own snapshot."""
    rb = diagnose_runbook("dns")
    assert codes(rb) == ["DNS-003", "DNS-004", "DNS-005"]
    assert status(rb) == {"DNS-001": "OK", "DNS-002": "OK", "DNS-003": "FOUND", "DNS-004": "FOUND",
                          "DNS-005": "FOUND", "DNS-006": "OK"}
    (reach,) = [f for f in rb.findings if f.code == "DNS-005"]
    assert reach.subject == "nameserver 10.96.0.10" and "udp/53 refused" in reach.detail and "tcp/53 refused" in reach.detail
    (down,) = [f for f in rb.findings if f.code == "DNS-004"]
    assert down.subject.startswith("pod kube-system/coredns-") and "not Ready" in down.detail
    verdicts = rb.verdicts().set_index("subject")["verdict"].to_dict()
    assert verdicts["name kubernetes.default"] == "NO CAUSE FOUND" and verdicts["nameserver 10.96.0.10"] == "FOUND"
    resolution = rb._evidence["resolution"]
    assert list(resolution["status"]) == ["no-answer", "not-sent", "not-sent", "not-sent"]  # glibc gives up


def test_coredns_crash_looping_on_a_forwarding_loop():
    rb = diagnose_runbook("dns", source="scenario:dns-coredns-loop")
    assert codes(rb) == ["DNS-003", "DNS-004"]
    loops = [f for f in rb.findings if f.code == "DNS-004"]
    assert len(loops) == 2 and all("CrashLoopBackOff" in f.detail and "last exit 1 (Error)" in f.detail
                                   and 'plugin/loop: Loop (127.0.0.1:47371 -> :53) detected for zone "."' in f.detail
                                   for f in loops)
    (no_endpoints,) = [f for f in rb.findings if f.code == "DNS-003"]
    assert "has no ready endpoint: 10.244.0.10, 10.244.0.13 not ready" in no_endpoints.detail
    # no node recording: the node checks are not checked, not OK
    assert {c: s for c, s in status(rb).items() if c in ("DNS-001", "DNS-005", "DNS-006")} == dict.fromkeys(
        ("DNS-001", "DNS-005", "DNS-006"), "NOT CHECKED")


def test_healthy_cluster_part_gives_no_cluster_codes():
    rb = diagnose_runbook("dns", source="scenario:mtu", target="netns:k8l-node-a")
    assert not {"DNS-003", "DNS-004"} & set(codes(rb))
    assert status(rb)["DNS-003"] == "OK" and status(rb)["DNS-004"] == "OK"


def test_a_recording_made_with_another_python_replays(tmp_path):
    """The probe's argv starts with the recording machine's interpreter: a replay takes it from the recording."""
    copy = tmp_path / "dns"
    shutil.copytree(scenarios_dir() / "dns", copy)
    for meta_path in (copy / "hosts").glob("*/dns-*.json"):
        meta = json.loads(meta_path.read_text())
        meta["argv"][0] = "/opt/elsewhere/venv/bin/python3"
        meta_path.write_text(json.dumps(meta))
    rb = diagnose_runbook("dns", source=str(copy))
    assert codes(rb) == ["DNS-003", "DNS-004", "DNS-005"]
    assert not [u for u in rb.unavailable if "different argv" in u.reason]
    # anything else in the argv that differs is not taken: the qname is part of the command
    meta_path = next((copy / "hosts").glob("*/dns-udp-*.json"))
    meta = json.loads(meta_path.read_text())
    meta["argv"][-1] = "other.name."
    meta_path.write_text(json.dumps(meta))
    changed = diagnose_runbook("dns", source=str(copy))
    assert status(changed)["DNS-005"] == "NOT CHECKED"


# ------------------------------------------------------------------ live: our own namespaces

def sh(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=10)


def write_snapshot(root: Path, *, dns_ip: str, client_ip: str) -> Path:
    """A factories bundle: kube-dns with ClusterIP = our dnsmasq's address, a pod in shop with the client's IP."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bundles import write_bundle
    from factories import endpoints, k8s_list, pod, service

    write_bundle(root)
    (root / "kube-system" / "services.json").write_text(json.dumps(k8s_list("ServiceList", [
        service("kube-dns", "kube-system", selector={"k8s-app": "kube-dns"}, port=53, target_port=53,
                cluster_ip=dns_ip)])))
    (root / "kube-system" / "endpoints.json").write_text(json.dumps(k8s_list("EndpointsList", [
        endpoints("kube-dns", "kube-system", ready=[(dns_ip, "coredns-abc")], port=53)])))
    (root / "kube-system" / "pods.json").write_text(json.dumps(k8s_list("PodList", [
        pod("coredns-abc", "kube-system", node_name="node-a", labels={"k8s-app": "kube-dns"}, pod_ip=dns_ip)])))
    (root / "shop" / "pods.json").write_text(json.dumps(k8s_list("PodList", [
        pod("cart-0", "shop", node_name="node-a", pod_ip=client_ip)])))
    return root


def joined(snapshot: str, **values):
    """A dns run on a factories snapshot with node commands live on the target.

    A bundle path as ``source`` replays node commands from the bundle; the
    lab's snapshot (``-p source lab``) is the one snapshot joined with live
    node commands, so the session is opened here the way ``source lab`` opens
    it: the same SnapshotSource of kind "lab", on our own bundle.
    """
    from k8srun import registry
    from k8srun.session import Session
    from k8srun.sources.snapshot import SnapshotSource

    book = registry.get("dns")
    parameters = {**book.defaults(), **book.validate(values), "source": snapshot}
    rb = Session("dns", SnapshotSource(snapshot, kind="lab", description=f"factories snapshot {snapshot}"), parameters)
    rb.diagnose()
    return rb


@pytest.fixture(scope="module")
def own_dns(tmp_path_factory):
    """client ── dns in two namespaces of our own (k8d-), dnsmasq on 10.57.0.53, the client's resolv.conf."""
    suffix = os.getpid()
    client, server = f"k8d-client-{suffix}", f"k8d-dns-{suffix}"
    made, pid = [], None
    etc = Path("/etc/netns") / client
    try:
        for ns in (client, server):
            sh("ip", "netns", "add", ns)
            made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", client, "link", "add", "k8d-c0", "type", "veth", "peer", "name", "k8d-s0", "netns", server)
        for ns, dev, address in ((client, "k8d-c0", "10.57.0.10/24"), (server, "k8d-s0", "10.57.0.53/24")):
            sh("ip", "-n", ns, "addr", "add", address, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        etc.mkdir(parents=True, exist_ok=True)
        resolv = etc / "resolv.conf"
        resolv.write_text("search shop.svc.cluster.local svc.cluster.local cluster.local\n"
                          "nameserver 10.57.0.53\noptions ndots:5\n")
        proc = subprocess.Popen(["ip", "netns", "exec", server, "dnsmasq", "--keep-in-foreground",
                                 "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file",
                                 "--bind-interfaces", "--listen-address=10.57.0.53", "--port=53",
                                 "--local=/cluster.local/", "--host-record=kubernetes.default.svc.cluster.local,10.96.0.1",
                                 "--host-record=cart.shop.svc.cluster.local,10.96.7.7"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid = proc.pid
        for _ in range(50):  # until it answers (bounded: 50 probes of 0.1 s)
            out = subprocess.run(["ip", "netns", "exec", client, sys.executable, "-m", "k8srun.probes.dns",
                                  "--server", "10.57.0.53", "--timeout", "0.1", "--qname", "cart.shop.svc.cluster.local."],
                                 capture_output=True, text=True, timeout=10).stdout
            if '"answered"' in out:
                break
        snapshot = write_snapshot(tmp_path_factory.mktemp("k8d") / "bundle", dns_ip="10.57.0.53",
                                  client_ip="10.57.0.10")
        yield {"client": client, "server": server, "resolv": resolv, "snapshot": str(snapshot)}
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            proc.wait(timeout=10)
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        shutil.rmtree(etc, ignore_errors=True)


@pytest.mark.netns
def test_own_topology_healthy_then_dropped_then_rejected(own_dns):
    target, snapshot = f"netns:{own_dns['client']}", own_dns["snapshot"]
    healthy = joined(snapshot, target=target, names=["cart", "kubernetes.default"])
    assert healthy.findings == []
    assert set(status(healthy).values()) == {"OK"}  # every check ran: the pod's namespace found by its IP
    won = healthy._evidence["resolution"].query("won")
    assert list(won["qname"]) == ["cart.shop.svc.cluster.local.", "kubernetes.default.svc.cluster.local."]
    server = own_dns["server"]
    rule = ["INPUT", "-p", "udp", "--dport", "53", "-j"]
    try:
        sh("ip", "netns", "exec", server, "iptables", "-w", "2", "-I", *rule, "DROP")
        dropped = joined(snapshot, target=target, timeout_s=3)
        (f,) = dropped.findings
        assert f.code == "DNS-005" and "udp/53 timeout" in f.detail and "tcp" not in f.detail.split(":", 1)[1]
        sh("ip", "netns", "exec", server, "iptables", "-w", "2", "-D", *rule, "DROP")
        sh("ip", "netns", "exec", server, "iptables", "-w", "2", "-I", *rule, "REJECT")
        rejected = joined(snapshot, target=target)
        (f,) = rejected.findings
        assert f.code == "DNS-005" and "udp/53 refused" in f.detail
    finally:
        subprocess.run(["ip", "netns", "exec", server, "iptables", "-w", "2", "-F", "INPUT"], capture_output=True,
                       timeout=10)


@pytest.mark.netns
def test_own_topology_search_path_of_another_namespace_and_a_missing_name(own_dns):
    target, snapshot, resolv = f"netns:{own_dns['client']}", own_dns["snapshot"], own_dns["resolv"]
    good = resolv.read_text()
    try:
        resolv.write_text("search prod.svc.cluster.local svc.cluster.local\nnameserver 10.57.0.53\noptions ndots:5\n")
        rb = joined(snapshot, target=target, names=["cart", "nosuch.shop"])
        assert codes(rb) == ["DNS-002", "DNS-006"]
        (search,) = [f for f in rb.findings if f.code == "DNS-002"]
        assert "lacks shop.svc.cluster.local cluster.local" in search.detail
        assert {f.subject for f in rb.findings if f.code == "DNS-006"} == {"name cart", "name nosuch.shop"}
    finally:
        resolv.write_text(good)


@pytest.mark.netns
def test_own_topology_without_a_cluster_source_and_with_dig(own_dns, monkeypatch):
    target = f"netns:{own_dns['client']}"
    rb = diagnose_runbook("dns", source="none", target=target, names=["cart", "nosuch"])
    assert status(rb)["DNS-003"] == status(rb)["DNS-004"] == "NOT CHECKED"
    assert status(rb)["DNS-001"] == "NOT CHECKED" and status(rb)["DNS-002"] == "NOT CHECKED"  # nothing to compare to
    assert codes(rb) == ["DNS-006"] and status(rb)["DNS-005"] == "OK"  # the node checks ran
    assert {u.what for u in rb.unavailable} >= {"services in namespace kube-system", "pods in namespace kube-system"}
    given = diagnose_runbook("dns", source="none", target=target, cluster_dns="10.57.0.10", pod_namespace="shop")
    assert codes(given) == ["DNS-001"]  # told which address pods must use: checked against it
    monkeypatch.setenv(dns.CLIENT_ENV, "dig")
    dug = diagnose_runbook("dns", source="none", target=target, names=["cart", "nosuch"])
    assert codes(dug) == ["DNS-006"] and all(r.command_id.startswith(("dig-", "resolv-conf"))
                                             for r in dug.target.results)
    pd.testing.assert_frame_equal(dug._evidence["resolution"].drop(columns=["answers"]),
                                  rb._evidence["resolution"].drop(columns=["answers"]))


# ------------------------------------------------------------------ live: the fault lab, through the CLI

def k8srun(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "k8srun.cli", *args], capture_output=True, text=True, timeout=300)


def run_lab(report: Path, *extra: str) -> list[dict]:
    done = k8srun("run", "dns", "-p", "source", "lab", "-p", "target", "netns:k8l-pod-a", *extra,
                  "--out", str(report), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((report / "dns.findings.json").read_text())["findings"]


@pytest.mark.netns
def test_lab_healthy_has_no_dns_errors_and_a_missing_name_is_dns_006(fault_lab, tmp_path):
    found = run_lab(tmp_path / "healthy")
    assert [f for f in found if f["severity"] in ERRORS] == []
    report = json.loads((tmp_path / "healthy" / "dns.findings.json").read_text())
    assert report["not_checked"] == []
    missing = run_lab(tmp_path / "missing", "-p", "names", "[kubernetes.default, nosuch.default.svc.cluster.local]")
    assert [(f["code"], f["subject"]) for f in missing] == [("DNS-006", "name nosuch.default.svc.cluster.local")]
    assert "nosuch.default.svc.cluster.local. NXDOMAIN" in missing[0]["detail"]
    no_place = k8srun("run", "dns", "-p", "source", "lab", "--out", str(tmp_path / "no-target"), "--no-progress")
    assert no_place.returncode == 2 and not (tmp_path / "no-target").exists()
    assert no_place.stderr.strip().splitlines() == [
        "k8srun run: parameter 'target': with -p source lab, say where node commands run: netns:k8l-pod-a, "
        "netns:k8l-node-a, netns:k8l-node-b (or local, where the control-plane lab's etcd and API server run) "
        "(got '')"], no_place.stderr
    rb = diagnose_runbook("dns", source="lab", target="netns:k8l-pod-a", names=["kubernetes.default", "web"])
    resolution = rb._evidence["resolution"]
    assert list(resolution.query("won")["qname"]) == ["kubernetes.default.svc.cluster.local.",
                                                      "web.default.svc.cluster.local."]
    assert list(resolution[resolution["name"] == "kubernetes.default"]["status"]) == [
        "nxdomain", "resolved", "not-sent", "not-sent"]  # the search path tried in order, stopped at the winner
    assert set(status(rb).values()) == {"OK"}


@pytest.mark.netns
@pytest.mark.parametrize("name, expected", [("dns-nameserver", "DNS-001"), ("dns-search", "DNS-002"),
                                            ("dns-down", "DNS-005")])
def test_lab_dns_faults_through_the_cli(fault_lab, tmp_path, name, expected):
    from k8srun.lab import control

    control.break_fault(name, fault_lab)
    try:
        found = run_lab(tmp_path)
    finally:
        control.fix_fault(name, fault_lab)
    assert expected in {f["code"] for f in found}
    if name == "dns-nameserver":
        (wrong,) = [f for f in found if f["code"] == "DNS-001"]
        assert "lists nameserver 10.244.2.10, not the cluster DNS 10.96.0.10" in wrong["detail"]
    if name == "dns-down":  # the cluster's side says why
        assert {"DNS-003", "DNS-004"} <= {f["code"] for f in found}
    if name == "dns-search":
        assert not {"DNS-005", "DNS-006"} & {f["code"] for f in found}  # the FQDN form still wins


def test_ndots_that_sends_a_name_as_it_is_first_into_a_silent_server_is_dns_002():
    conf = {"nameservers": ["10.96.0.10"], "search": ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"],
            "ndots": 1, "ndots_set": True, "options": ["ndots:1"], "read": True}
    rows = [{"name": "web.shop", "step": i + 1, "qname": q["qname"], "why": q["why"], "server": "10.96.0.10",
             "transport": "udp", "outcome": "timeout" if i == 0 else None, "rcode": None, "answers": [],
             "status": "no-answer" if i == 0 else "not-sent", "won": False, "sent": i == 0}
            for i, q in enumerate(dns.expand("web.shop", conf["search"], 1))]
    resolution = pd.DataFrame(rows, columns=dns.RESOLUTION_COLUMNS)
    (f,) = dns.bad_search_path(conf, dns.expected_search("shop", "cluster.local"), resolution)
    assert f.code == "DNS-002" and "ndots:1 makes the resolver ask 'web.shop' as it is first (web.shop.)" in f.detail
    with_ndots_5 = pd.DataFrame([{**r, "why": q["why"]} for r, q in zip(rows, dns.expand("web.shop", conf["search"], 5))],
                                columns=dns.RESOLUTION_COLUMNS)
    assert dns.bad_search_path({**conf, "ndots": 5}, dns.expected_search("shop", "cluster.local"), with_ndots_5) == []


def test_the_probe_refuses_bad_arguments_and_answers_a_closed_port(capsys):
    from k8srun.probes import dns as probe

    for bad in (["--server", "not-an-ip", "--qname", "a."], ["--server", "127.0.0.1", "--qname", "a..b"],
                ["--server", "127.0.0.1", "--qname", "a.", "--timeout", "0"]):
        with pytest.raises(SystemExit) as exited:
            probe.main(bad)
        assert exited.value.code == 2
    capsys.readouterr()
    assert probe.main(["--server", "127.0.0.1", "--port", "9", "--qname", "a.", "--timeout", "0.5"]) == 0
    (row,) = dns.dns_query.parse_probe(capsys.readouterr().out)
    assert row["outcome"] == "refused" and row["transport"] == "udp"


@pytest.mark.slow
def test_k8srun_run_dns_with_no_parameters_works_offline(tmp_path):
    done = k8srun("run", "dns", "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "dns.findings.json").read_text())
    assert sorted({f["code"] for f in report["findings"]}) == ["DNS-003", "DNS-004", "DNS-005"]
    assert report["not_checked"] == []
    assert "dns-query" in json.dumps(json.loads((tmp_path / "dns.ipynb").read_text()))  # the picture is drawn
