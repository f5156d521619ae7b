"""What the lab looks like now, and whether traffic gets through end to end.

``lab_status()`` returns::

    {
      "ok": true,                       # every check passed
      "faults": ["mtu", ...],           # faults applied
      "snapshot": "/run/k8srun-lab/cluster",  # the API snapshot (`-p source lab`)
      "topology": [                     # one row per interface, lo left out
        {"netns": "k8l-node-a", "interface": "k8l-na-eth0", "kind": "veth",
         "addresses": "192.168.10.2/24", "mtu": 1500, "state": "UP", "master": ""}, ...],
      "processes": [
        {"name": "web-a", "netns": "k8l-pod-a", "pid": 1234, "listens": "tcp/8080",
         "running": true, "command": "python3 -m http.server 8080 ..."}, ...],
      "checks": [
        {"check": "pod-a -> pod-b (cross-node)", "ok": true,
         "evidence": "1 packets transmitted, 1 received, 0% packet loss",
         "command": "ip netns exec k8l-pod-a ping -c 1 -W 1 10.244.2.10"}, ...]
    }

Every probe is a real tool run inside a lab namespace (ping, curl, dig,
openssl s_client) with a bound of a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from . import certs, services
from .cluster import snapshot_path
from .state import LabState, load_state, state_dir
from .system import in_netns, netns_names, run
from .topology import LAB, Lab

PROBE_TIMEOUT_S = 3.0
BACKEND_ATTEMPTS = 12
BACKEND_FAILURES_MAX = 3
BACKEND_BUDGET_S = 5.0


@dataclass(frozen=True)
class Check:
    """One end-to-end check: what, passed or not, the proving output, the command."""

    check: str
    ok: bool
    evidence: str
    command: str


def topology_rows(lab: Lab = LAB) -> list[dict]:
    """One row per interface of every existing lab namespace (IPv4 addresses only)."""
    rows = []
    present = netns_names()
    for netns in lab.namespaces:
        if netns not in present:
            continue
        links = json.loads(run(["ip", "-j", "-d", "-n", netns, "addr", "show"]).stdout or "[]")
        for link in links:
            if link.get("link_type") == "loopback":
                continue
            addresses = [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])
                         if a.get("family") == "inet"]
            rows.append({"netns": netns, "interface": link["ifname"],
                         "kind": link.get("linkinfo", {}).get("info_kind", link.get("link_type", "")),
                         "addresses": " ".join(addresses), "mtu": link.get("mtu"),
                         "state": link.get("operstate", ""), "master": link.get("master", "")})
    return rows


def process_rows(state: LabState | None) -> list[dict]:
    """One row per server the lab started."""
    rows = []
    for name, process in (state.processes.items() if state else ()):
        rows.append({"name": name, "netns": process.netns, "pid": process.pid,
                     "listens": f"{process.proto}/{process.port}", "running": services.server_running(process),
                     "command": " ".join([Path(process.argv[0]).name, *process.argv[1:]])})
    return rows


def _probe(netns: str, argv: list[str], timeout: float = PROBE_TIMEOUT_S) -> tuple[int | None, str, str]:
    """(exit code or None on timeout, combined output, printable command) of a probe in ``netns``."""
    wrapped = in_netns(netns, argv)
    try:
        done = subprocess.run(wrapped, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:g} s", " ".join(wrapped)
    return done.returncode, (done.stdout + done.stderr).strip(), " ".join(wrapped)


def _ping_evidence(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    telling = [line for line in lines if line.startswith("From ") or "error" in line or "nreachable" in line]
    summary = [line for line in lines if "packets transmitted" in line]
    return " | ".join(dict.fromkeys(telling[:2] + summary)) or (lines[-1] if lines else "no output")


def check_ping(name: str, netns: str, dest: str, size: int | None = None) -> Check:
    """Ping ``dest`` once from ``netns``; with ``size``, a don't-fragment probe of that payload."""
    argv = ["ping", "-n", "-c", "1", "-W", "1", *(["-M", "do", "-s", str(size)] if size else []), dest]
    code, output, command = _probe(netns, argv)
    return Check(name, code == 0, _ping_evidence(output), command)


def check_service_backends(lab: Lab = LAB) -> Check:
    """curl the web ClusterIP from pod-a until both backends answered (bounded)."""
    service = lab.web_http
    url = f"http://{service.cluster_ip}:{service.port}/"
    # --noproxy: a proxy from the caller's environment is unreachable from the pod and would fail the check
    argv = ["curl", "-sS", "--noproxy", "*", "--connect-timeout", "1", "--max-time", "2", url]
    expected = {services.backend_banner(pod.name, pod.ip): pod.name for pod in lab.web_pods}
    seen: dict[str, int] = {}
    failures: list[str] = []
    command = ""
    deadline = time.monotonic() + BACKEND_BUDGET_S
    for _ in range(BACKEND_ATTEMPTS):
        code, output, command = _probe(lab.pod_a.netns, argv)
        if code == 0 and output in expected:
            seen[expected[output]] = seen.get(expected[output], 0) + 1
        else:
            failures.append(output.splitlines()[-1] if output else f"exit {code}")
        if len(seen) == len(expected) or len(failures) >= BACKEND_FAILURES_MAX or time.monotonic() > deadline:
            break
    answered = ", ".join(f"{name} x{count}" for name, count in sorted(seen.items())) or "no backend"
    evidence = f"answered: {answered}"
    if failures:
        evidence += f"; {len(failures)} failed: " + " | ".join(dict.fromkeys(failures))
    ok = len(seen) == len(expected) and not failures
    return Check(f"pod-a -> {url} reaches both backends", ok, evidence, command)


def check_dns(name: str, dig_args: list[str], expected_ip: str, lab: Lab = LAB) -> Check:
    """dig from pod-a; passes when the answer holds ``expected_ip``."""
    argv = ["dig", "+time=1", "+tries=1", "+noall", "+answer", "+comments", *dig_args]
    code, output, command = _probe(lab.pod_a.netns, argv)
    answers = [line for line in output.splitlines() if line and not line.startswith(";")]
    ok = code == 0 and any(line.split()[-1] == expected_ip for line in answers)
    if answers:
        evidence = " | ".join(" ".join(line.split()) for line in answers)
    else:
        status = [line.strip(";; ").strip() for line in output.splitlines() if "status:" in line or "error" in line
                  or "timed out" in line or "no servers" in line]
        evidence = " | ".join(status[:2]) or (output.splitlines()[-1] if output else f"exit {code}")
    return Check(name, ok, evidence, command)


def check_tls(lab: Lab = LAB, directory: Path | None = None) -> Check:
    """openssl s_client from pod-a to web:443, verifying chain and hostname against the lab CA."""
    service = lab.web_https
    ca = (directory or state_dir()) / certs.CA_FILE
    argv = ["openssl", "s_client", "-connect", f"{service.cluster_ip}:{service.port}", "-servername", lab.web_fqdn,
            "-verify_hostname", lab.web_fqdn, "-CAfile", str(ca), "-verify_return_error", "-brief"]
    code, output, command = _probe(lab.pod_a.netns, argv)
    telling = [line.strip() for line in output.splitlines()
               if line.startswith(("Verification", "Verified peername", "verify error", "Peer certificate"))
               or "error" in line.lower()]
    evidence = " | ".join(telling[:3]) or (output.splitlines()[-1] if output else f"exit {code}")
    return Check(f"pod-a -> https://{lab.web_fqdn}:{service.port} verifies (lab CA)", code == 0, evidence, command)


def run_checks(lab: Lab = LAB) -> list[Check]:
    """Every end-to-end check, run concurrently, listed in the order a packet meets the faults."""
    node_a, node_b, pod_a, pod_b = lab.node_a, lab.node_b, lab.pod_a, lab.pod_b
    kube_dns = lab.kube_dns.cluster_ip
    probes: list[tuple[Callable[..., Check], tuple]] = [
        (check_ping, (f"node-a -> node-b {node_b.ip} (underlay)", node_a.netns, node_b.ip)),
        (check_ping, (f"node-a -> node-b {node_b.ip} DF {lab.node_mtu} bytes", node_a.netns, node_b.ip,
                      lab.node_mtu - 28)),
        (check_ping, (f"pod-a -> pod-b {pod_b.ip} (cross-node, VXLAN)", pod_a.netns, pod_b.ip)),
        (check_ping, (f"pod-a -> pod-b {pod_b.ip} DF {lab.pod_mtu} bytes", pod_a.netns, pod_b.ip,
                      lab.pod_mtu - 28)),
        (check_service_backends, (lab,)),
        (check_dns, (f"pod-a -> kube-dns {kube_dns}: {lab.web_fqdn}", [f"@{kube_dns}", lab.web_fqdn],
                     lab.web_http.cluster_ip, lab)),
        (check_dns, ("pod-a resolves 'web' via resolv.conf (search, ndots)", ["+search", "web"],
                     lab.web_http.cluster_ip, lab)),
        (check_tls, (lab,)),
    ]
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = [pool.submit(probe, *probe_args) for probe, probe_args in probes]
        return [future.result() for future in futures]


def lab_status(lab: Lab = LAB) -> dict:
    """Topology, processes, applied faults and every check (see the module docstring)."""
    state = load_state()
    checks = run_checks(lab)
    return {"ok": all(check.ok for check in checks), "faults": list(state.faults) if state else [],
            "snapshot": str(snapshot_path(state_dir())), "topology": topology_rows(lab),
            "processes": process_rows(state),
            "checks": [asdict(check) for check in checks]}
