"""The fault lab on real namespaces: up, all green, every fault really breaks and heals, down leaves nothing.

Every symptom is observed with the tool an engineer would use (ping, nc,
curl, dig, getent, openssl s_client, iptables-save), each bounded to a few
seconds, and each symptom probe is also run on the healthy lab, where it
must not fire.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from k8srun.lab import control, status, topology
from k8srun.lab.faults import FAULTS
from k8srun.lab.state import load_state
from k8srun.lab.system import LabError, process_cmdline
from k8srun.lab.topology import LAB
from k8srun.model import code_info

PROBE_TIMEOUT_S = 3


def probe(netns: str, *argv: str) -> tuple[int | None, str]:
    """(exit code or None on timeout, stdout+stderr) of ``argv`` run inside ``netns``."""
    try:
        done = subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return done.returncode, done.stdout + done.stderr


def k8srun(*args: str) -> subprocess.CompletedProcess:
    """The real command line, in a subprocess (inherits K8SRUN_LAB_DIR)."""
    return subprocess.run([sys.executable, "-m", "k8srun.cli", *args], capture_output=True, text=True, timeout=60)


def nat_rules(node: topology.Node) -> str:
    return subprocess.run(["ip", "netns", "exec", node.netns, "iptables-save", "-t", "nat"],
                          capture_output=True, text=True, check=True, timeout=PROBE_TIMEOUT_S).stdout


def curl_web(attempts: int) -> tuple[dict[str, int], list[str]]:
    """Backends seen and failures over up to ``attempts`` requests to the web ClusterIP from pod-a."""
    seen: dict[str, int] = {}
    failures: list[str] = []
    for _ in range(attempts):
        code, output = probe(LAB.pod_a.netns, "curl", "-sS", "--noproxy", "*", "--connect-timeout", "1", "--max-time", "2",
                             f"http://{LAB.web_http.cluster_ip}/")
        if code == 0:
            name = output.split()[0]
            seen[name] = seen.get(name, 0) + 1
        else:
            failures.append(output.strip())
            break
        if len(seen) == 2:
            break
    return seen, failures


def tls_verify() -> tuple[int | None, str]:
    return probe(LAB.pod_a.netns, "openssl", "s_client", "-connect", f"{LAB.web_https.cluster_ip}:443",
                 "-servername", LAB.web_fqdn, "-verify_hostname", LAB.web_fqdn,
                 "-CAfile", str(Path(os.environ["K8SRUN_LAB_DIR"]) / "ca.pem"), "-verify_return_error", "-brief")


# -- one symptom probe per fault: returns (fault present?, evidence) -------------------------------------

def mtu_symptom():
    """node-a is told 'frag needed'; pod-a's full-size DF packets vanish, 1350-byte ones pass (1400 - VXLAN 50)."""
    code, out = probe(LAB.node_a.netns, "ping", "-n", "-c", "1", "-W", "1", "-M", "do", "-s", "1472", LAB.node_b.ip)
    full_code, full = probe(LAB.pod_a.netns, "ping", "-n", "-c", "1", "-W", "1", "-M", "do", "-s", "1422", LAB.pod_b.ip)
    fits_code, _ = probe(LAB.pod_a.netns, "ping", "-n", "-c", "1", "-W", "1", "-M", "do", "-s", "1322", LAB.pod_b.ip)
    told = code != 0 and "Frag needed and DF set (mtu = 1400)" in out
    return told and full_code != 0 and fits_code == 0, out + full


def pod_mtu_symptom():
    """pod-a sends 1500-byte DF packets (its MTU is 1500) and node-a answers 'frag needed' with the overlay's 1450."""
    code, out = probe(LAB.pod_a.netns, "ping", "-n", "-c", "1", "-W", "1", "-M", "do", "-s", "1472", LAB.pod_b.ip)
    told = f"From {LAB.node_a.bridge_ip} icmp_seq=1 Frag needed and DF set (mtu = {LAB.pod_mtu})" in out
    return code != 0 and told, out


def ip_forward_symptom():
    _, forward = probe(LAB.router, "sysctl", "-n", "net.ipv4.ip_forward")
    code, out = probe(LAB.node_a.netns, "ping", "-n", "-c", "1", "-W", "1", LAB.node_b.ip)
    return forward.strip() == "0" and code != 0 and " 0 received" in out, forward + out


def no_route_symptom():
    route_code, route = probe(LAB.node_a.netns, "ip", "route", "get", LAB.pod_b.ip)
    code, out = probe(LAB.pod_a.netns, "ping", "-n", "-c", "1", "-W", "1", LAB.pod_b.ip)
    return (route_code != 0 and "Network is unreachable" in route and code != 0), route + out


def firewall_reject_symptom():
    code, out = probe(LAB.pod_a.netns, "nc", "-vz", "-w", "1", LAB.web_http.cluster_ip, "80")
    return code != 0 and "Connection refused" in out, out


def firewall_drop_symptom():
    code, out = probe(LAB.pod_a.netns, "nc", "-vz", "-w", "1", LAB.web_http.cluster_ip, "80")
    return code != 0 and "timed out" in out, out


def dns_down_symptom():
    code, out = probe(LAB.pod_a.netns, "dig", "+time=1", "+tries=1", f"@{LAB.kube_dns.cluster_ip}", LAB.web_fqdn)
    return code == 9 and "no servers could be reached" in out, out


def dns_search_symptom():
    short_code, short = probe(LAB.pod_a.netns, "getent", "hosts", "web")
    fqdn_code, fqdn = probe(LAB.pod_a.netns, "getent", "hosts", LAB.web_fqdn)
    return short_code == 2 and fqdn_code == 0 and LAB.web_http.cluster_ip in fqdn, short + fqdn


def dns_nameserver_symptom():
    code, out = probe(LAB.pod_a.netns, "dig", "+search", "+time=1", "+tries=1", "web")
    return code == 9 and f"{LAB.pod_b.ip}#53: connection refused" in out, out


def svc_no_dnat_symptom():
    rules = nat_rules(LAB.node_a)
    code, out = probe(LAB.pod_a.netns, "curl", "-sS", "--noproxy", "*", "--connect-timeout", "1", f"http://{LAB.web_http.cluster_ip}/")
    missing = f'--comment "{LAB.web_http.service_port_name} cluster IP" -m tcp --dport 80 -j KUBE-SVC-' not in rules
    return missing and code != 0, out


def svc_stale_endpoint_symptom():
    rules = nat_rules(LAB.node_a)
    seen, failures = curl_web(attempts=12)
    stale = f"--to-destination {LAB.dead_pod_ip}:8080" in rules
    return stale and bool(failures) and "web-b" not in seen, f"{seen} {failures}"


def vxlan_blocked_symptom():
    node_code, _ = probe(LAB.node_a.netns, "ping", "-n", "-c", "1", "-W", "1", LAB.node_b.ip)
    pod_code, out = probe(LAB.pod_a.netns, "ping", "-n", "-c", "1", "-W", "1", LAB.pod_b.ip)
    _, counters = probe(LAB.node_b.netns, "iptables", "-w", "2", "-nvxL", "INPUT")
    dropped = [line for line in counters.splitlines() if "udp dpt:8472" in line and "DROP" in line]
    return node_code == 0 and pod_code != 0 and bool(dropped) and int(dropped[0].split()[0]) > 0, out + counters


def firewall_host_unreachable_symptom():
    code, out = probe(LAB.pod_a.netns, "nc", "-vz", "-w", "1", LAB.web_http.cluster_ip, "80")
    route_code, route = probe(LAB.pod_a.netns, "ip", "route", "get", LAB.pod_b.ip)
    return code != 0 and "No route to host" in out and route_code == 0, out + route


def firewall_l7_symptom():
    url = f"http://{LAB.pod_b.ip}:{LAB.http_port}"  # web-b, behind node-b's filter
    curl = ("curl", "-sS", "--noproxy", "*", "--connect-timeout", "1", "--max-time", "2")
    root_code, root = probe(LAB.pod_a.netns, *curl, f"{url}/")
    admin_code, admin = probe(LAB.pod_a.netns, *curl, f"{url}{LAB.l7_blocked_path}")
    return root_code == 0 and admin_code == 56 and "Connection reset by peer" in admin, root + admin


def node_unreachable_symptom():
    ping_code, ping = probe(LAB.node_a.netns, "ping", "-n", "-c", "1", "-W", "1", LAB.node_b.ip)
    tcp_code, tcp = probe(LAB.node_a.netns, "nc", "-vz", "-w", "1", LAB.node_b.ip, "10250")
    # healthy: nothing listens on node-b's 10250, so the node answers with a RST (refused)
    return ping_code != 0 and " 0 received" in ping and tcp_code != 0 and "timed out" in tcp, ping + tcp


def vxlan_fdb_missing_symptom():
    node_code, _ = probe(LAB.node_a.netns, "ping", "-n", "-c", "1", "-W", "1", LAB.node_b.ip)
    pod_code, out = probe(LAB.pod_a.netns, "ping", "-n", "-c", "1", "-W", "1", LAB.pod_b.ip)
    _, fdb = probe(LAB.node_a.netns, "bridge", "fdb", "show", "dev", LAB.node_a.vxlan)
    return node_code == 0 and pod_code != 0 and LAB.node_b.vxlan_mac not in fdb, out + fdb


def tls_symptom(reason: str):
    def tls_fault():
        code, out = tls_verify()
        return code != 0 and reason in out, out
    return tls_fault


def tls_expiring_soon_symptom():
    """Verification passes; the certificate served expires within 30 days."""
    from cryptography import x509

    code, out = tls_verify()
    cert = x509.load_pem_x509_certificate((Path(os.environ["K8SRUN_LAB_DIR"]) / "server.pem").read_bytes())
    left = cert.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)
    return code == 0 and "Verification: OK" in out and dt.timedelta(0) < left < dt.timedelta(days=30), out


def tls_client_cert_required_symptom():
    """Over TLS 1.2 (the alert comes inside the handshake) the server asks for a client certificate and
    ends the handshake without one."""
    code, out = probe(LAB.pod_a.netns, "openssl", "s_client", "-connect", f"{LAB.web_https.cluster_ip}:443",
                      "-servername", LAB.web_fqdn, "-tls1_2")
    return code != 0 and "Client Certificate Types" in out and "alert handshake failure" in out, out


SYMPTOMS = {
    "mtu": mtu_symptom,
    "ip-forward": ip_forward_symptom,
    "no-route": no_route_symptom,
    "firewall-reject": firewall_reject_symptom,
    "firewall-drop": firewall_drop_symptom,
    "dns-down": dns_down_symptom,
    "dns-search": dns_search_symptom,
    "dns-nameserver": dns_nameserver_symptom,
    "svc-no-dnat": svc_no_dnat_symptom,
    "svc-stale-endpoint": svc_stale_endpoint_symptom,
    "vxlan-blocked": vxlan_blocked_symptom,
    "tls-expired": tls_symptom("certificate has expired"),
    "tls-wrong-san": tls_symptom("hostname mismatch"),
    "tls-unknown-ca": tls_symptom("unable to get local issuer certificate"),
    "tls-not-yet-valid": tls_symptom("certificate is not yet valid"),
    "tls-expiring-soon": tls_expiring_soon_symptom,
    "tls-incomplete-chain": tls_symptom("unable to get local issuer certificate"),
    "tls-client-cert-required": tls_client_cert_required_symptom,
    "pod-mtu": pod_mtu_symptom,
    "firewall-host-unreachable": firewall_host_unreachable_symptom,
    "firewall-l7": firewall_l7_symptom,
    "node-unreachable": node_unreachable_symptom,
    "vxlan-fdb-missing": vxlan_fdb_missing_symptom,
}


# -- tests that need no namespace ------------------------------------------------------------------------

def test_every_fault_has_a_symptom_probe():
    assert set(SYMPTOMS) == set(FAULTS)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_names_a_catalogued_finding(fault):
    assert code_info(FAULTS[fault].finding).code == FAULTS[fault].finding


def test_chain_names_are_kube_proxys():
    """The hashes every cluster shows for kube-dns (KUBE-SVC-TCOU7JCQXEZGVUNU / ERIFXISQEP7F7OF4)."""
    assert topology.svc_chain(LAB.kube_dns) == "KUBE-SVC-TCOU7JCQXEZGVUNU"
    assert topology.svc_chain(LAB.service("kube-dns", "dns-tcp")) == "KUBE-SVC-ERIFXISQEP7F7OF4"


def test_kube_proxy_rules_fault_variants():
    healthy = topology.kube_proxy_rules()
    assert ("-m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-" in healthy)
    assert "--to-destination 10.244.1.10:8080" in healthy and "--to-destination 10.244.2.10:8080" in healthy
    no_dnat = topology.kube_proxy_rules(without_service=LAB.web_http)
    assert '"default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-' not in no_dnat
    assert '"default/web:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-' in no_dnat
    stale = topology.kube_proxy_rules(stale_endpoint=(LAB.web_http, LAB.pod_b.ip, LAB.dead_pod_ip))
    assert f"--to-destination {LAB.dead_pod_ip}:8080" in stale
    assert "--to-destination 10.244.2.10:8443" in stale  # https keeps its live endpoint


def test_link_names_fit_the_kernel_limit():
    names = [n for node in LAB.nodes for n in (node.uplink, node.router_link, node.bridge, node.vxlan)]
    names += [n for pod in LAB.pods for n in (pod.ifname, pod.host_link)]
    assert all(name.startswith(topology.PREFIX) and len(name) <= 15 for name in names + list(LAB.namespaces))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges to nobody")
def test_refuses_without_root_in_one_line():
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-m", "k8srun.cli", "lab", "status"],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert done.returncode == 2
    assert done.stderr.strip() == "k8srun lab: the fault lab needs root: run it as root (e.g. sudo k8srun lab ...)"


@pytest.mark.skipif(os.geteuid() != 0, reason="the root check comes first")
def test_refuses_without_ip_in_one_line():
    env = dict(os.environ, PATH="/nonexistent")
    done = subprocess.run([sys.executable, "-m", "k8srun.cli", "lab", "up"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "missing tools ip" in done.stderr


# -- the real lab ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lab(fault_lab):
    return fault_lab


@pytest.mark.netns
def test_status_all_green(lab):
    done = k8srun("lab", "status", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, [c for c in report["checks"] if not c["ok"]]
    assert report["ok"] and report["faults"] == []
    assert {row["netns"] for row in report["topology"]} == set(lab.namespaces)
    mtus = {row["interface"]: row["mtu"] for row in report["topology"]}
    assert mtus[lab.node_b.router_link] == 1500 and mtus[lab.node_a.vxlan] == 1450
    assert {p["name"]: p["running"] for p in report["processes"]} == {
        "web-a": True, "web-b": True, "dns": True, "tls": True}
    both = next(c for c in report["checks"] if "both backends" in c["check"])
    assert "web-a x" in both["evidence"] and "web-b x" in both["evidence"]


@pytest.mark.netns
def test_status_table(lab):
    done = k8srun("lab", "status")
    assert done.returncode == 0, done.stdout
    assert "TOPOLOGY" in done.stdout and "PROCESSES" in done.stdout and "CHECKS" in done.stdout
    assert re.search(r"k8l-node-b\s+k8l-nb-vxlan\s+vxlan\s+10\.244\.2\.0/32\s+1450", done.stdout)
    results = re.findall(r"^\s*(OK|FAIL) ", done.stdout, flags=re.MULTILINE)
    assert results == ["OK"] * 8


@pytest.mark.netns
def test_service_check_ignores_a_proxy_in_the_environment(lab, monkeypatch):
    """CI machines often export http_proxy; from inside a pod it is unreachable and must not be used."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    check = status.check_service_backends(lab)
    assert check.ok, check.evidence


@pytest.mark.netns
def test_up_again_is_idempotent(lab):
    done = k8srun("lab", "up")
    assert done.returncode == 0 and "already up" in done.stdout


@pytest.mark.netns
def test_installed_nat_table_is_what_kube_proxy_writes(lab):
    """iptables-save prints back exactly the rules we load (so they are in kube-proxy's own format)."""
    installed = nat_rules(lab.node_b).splitlines()
    for rule in topology.kube_proxy_rules(lab).splitlines():
        if rule.startswith("-A "):
            assert rule in installed


@pytest.mark.netns
def test_vxlan_device_carries_pod_traffic(lab):
    _, link = probe(lab.node_a.netns, "ip", "-d", "link", "show", lab.node_a.vxlan)
    assert "vxlan id 1" in link and "dstport 8472" in link
    _, route = probe(lab.node_a.netns, "ip", "route", "get", lab.pod_b.ip)
    assert f"dev {lab.node_a.vxlan}" in route


@pytest.mark.netns
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_breaks_and_heals(lab, fault):
    symptom = SYMPTOMS[fault]
    present, evidence = symptom()
    assert not present, f"{fault} symptom on the healthy lab: {evidence}"
    assert control.break_fault(fault)
    try:
        assert load_state().faults == [fault]
        present, evidence = symptom()
        assert present, f"{fault} applied but its symptom is missing: {evidence}"
    finally:
        assert control.fix_fault(fault)
    present, evidence = symptom()
    assert not present, f"{fault} still there after fix: {evidence}"
    failing = [c for c in status.run_checks() if not c.ok]
    assert not failing, failing


@pytest.mark.netns
def test_break_and_fix_bookkeeping(lab):
    assert control.break_fault("tls-expired")
    try:
        assert not control.break_fault("tls-expired")
        with pytest.raises(LabError, match="fix tls-expired"):
            control.break_fault("tls-unknown-ca")
    finally:
        assert control.fix_fault("tls-expired")
    assert not control.fix_fault("tls-expired")


@pytest.mark.netns
def test_cli_break_status_fix(lab):
    broke = k8srun("lab", "break", "dns-down")
    assert broke.returncode == 0 and "expect DNS-005" in broke.stdout
    try:
        done = k8srun("lab", "status", "--json")
        report = json.loads(done.stdout)
        assert done.returncode == 1 and report["faults"] == ["dns-down"]
        assert {p["name"]: p["running"] for p in report["processes"]}["dns"] is False
        failed = {c["check"] for c in report["checks"] if not c["ok"]}
        assert failed == {f"pod-a -> kube-dns {lab.kube_dns.cluster_ip}: {lab.web_fqdn}",
                          "pod-a resolves 'web' via resolv.conf (search, ndots)"}
    finally:
        fixed = k8srun("lab", "fix", "dns-down")
    assert fixed.returncode == 0 and "fixed dns-down" in fixed.stdout
    assert all(c.ok for c in status.run_checks())


@pytest.mark.netns
def test_down_leaves_nothing(lab):
    """Last test of the module: `lab down` removes namespaces, links, /etc/netns, processes, state."""
    pids = [process.pid for process in load_state().processes.values()]
    state_dir = Path(os.environ["K8SRUN_LAB_DIR"])
    done = k8srun("lab", "down")
    assert done.returncode == 0 and "namespace k8l-router" in done.stdout
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    assert "k8l-" not in netns and "k8l-" not in links
    assert not list(Path("/etc/netns").glob("k8l-*"))
    assert not [pid for pid in pids if process_cmdline(pid) is not None]
    assert not state_dir.exists()
    again = k8srun("lab", "down")
    assert again.returncode == 0 and "already down" in again.stdout


def test_remove_etc_netns_removes_nested_files_of_lab_namespaces_only(monkeypatch, tmp_path):
    monkeypatch.setattr(topology, "ETC_NETNS", tmp_path)
    ours, other = tmp_path / topology.LAB.namespaces[0], tmp_path / "someone-else"
    (ours / "sub").mkdir(parents=True)
    (ours / "sub" / "hosts").write_text("x")
    (ours / "resolv.conf").write_text("nameserver 10.96.0.10\n")
    other.mkdir()
    topology.remove_etc_netns()
    assert not ours.exists() and other.exists()
