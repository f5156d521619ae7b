"""The servers that run inside the lab's pods, started and stopped by PID.

==========  ===========  =================================================  ==========
name        namespace    command                                            listens
==========  ===========  =================================================  ==========
``web-a``   k8l-pod-a    ``python3 -m http.server 8080`` (serves its name)  tcp 8080
``web-b``   k8l-pod-b    same, in the other pod                             tcp 8080
``dns``     k8l-dns      ``dnsmasq --no-resolv`` (no upstream), answers     udp+tcp 53
                         ``web``, ``kube-dns`` and ``kubernetes``
                         ``.<ns>.svc.cluster.local`` -> their ClusterIPs
``tls``     k8l-pod-b    ``openssl s_server -www`` with ``server.pem``      tcp 8443
                         (``-Verify 1`` under fault tls-client-cert-required)
==========  ===========  =================================================  ==========

Each HTTP backend serves ``/`` as one line, ``<pod name> <pod ip>``, so a
client can tell which backend answered through the ClusterIP, and
``LAB.l7_blocked_path`` (``/admin``) as ``admin <pod name> <pod ip>`` (the
page fault ``firewall-l7`` filters).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from . import certs
from .state import LabProcess
from .system import LabError, listening, process_alive, spawn_in_netns, stop_process
from .topology import LAB, Lab

SERVICE_NAMES = ("web-a", "web-b", "dns", "tls")
READY_TIMEOUT_S = 3.0


def backend_banner(pod_name: str, pod_ip: str) -> str:
    """What an HTTP backend answers on ``/``."""
    return f"{pod_name} {pod_ip}"


def _command(name: str, state_dir: Path, lab: Lab, require_client_cert: bool = False,
             ) -> tuple[str, list[str], str, int]:
    """(namespace, argv, proto, port) of server ``name``."""
    if name in ("web-a", "web-b"):
        pod = lab.pod_a if name == "web-a" else lab.pod_b
        docroot = state_dir / f"www-{pod.name}"
        docroot.mkdir(exist_ok=True)
        (docroot / "index.html").write_text(backend_banner(pod.name, pod.ip) + "\n")
        # a page the layer-7 fault (firewall-l7) filters: 200 on the healthy lab
        (docroot / lab.l7_blocked_path.strip("/")).write_text(f"admin {backend_banner(pod.name, pod.ip)}\n")
        return pod.netns, [sys.executable, "-m", "http.server", str(lab.http_port), "--bind", "0.0.0.0",
                           "--directory", str(docroot)], "tcp", lab.http_port
    if name == "dns":
        kube_dns, api = lab.kube_dns, lab.service("kubernetes", "https")
        return lab.dns_pod.netns, [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--pid-file", "--bind-interfaces", f"--listen-address={lab.dns_pod.ip}", "--port=53",
            f"--local=/{lab.cluster_domain}/",
            f"--host-record={lab.web_fqdn},{lab.web_http.cluster_ip}",
            f"--host-record={kube_dns.name}.{kube_dns.namespace}.svc.{lab.cluster_domain},{kube_dns.cluster_ip}",
            f"--host-record={api.name}.{api.namespace}.svc.{lab.cluster_domain},{api.cluster_ip}",
            "--log-queries", "--log-facility=-",
        ], "udp", 53
    if name == "tls":
        return lab.pod_b.netns, [
            "openssl", "s_server", "-accept", str(lab.tls_port), "-www", "-quiet",
            "-cert", str(state_dir / certs.CERT_FILE), "-key", str(state_dir / certs.KEY_FILE),
            *(["-Verify", "1"] if require_client_cert else []),
        ], "tcp", lab.tls_port
    raise LabError(f"unknown lab server {name!r} (one of {', '.join(SERVICE_NAMES)})")


def start_server(name: str, state_dir: Path, lab: Lab = LAB, *, require_client_cert: bool = False) -> LabProcess:
    """Start server ``name`` and wait (≤ 3 s) until it listens; raise with its log if it does not.

    ``require_client_cert``: the ``tls`` server demands a client certificate (``-Verify 1``)."""
    netns, argv, proto, port = _command(name, state_dir, lab, require_client_cert)
    log = state_dir / f"{name}.log"
    pid = spawn_in_netns(netns, argv, log)
    process = LabProcess(netns=netns, pid=pid, argv=argv, proto=proto, port=port, log=str(log))
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline and process_alive(pid, argv):
        if listening(pid, proto, port):
            return process
        time.sleep(0.03)
    stop_process(pid, argv)
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
    raise LabError(f"lab server {name} ({argv[0]}) did not listen on {proto}/{port} in {netns}: "
                   f"{tail[0] if tail else 'no output'}", command=argv)


def stop_server(process: LabProcess) -> None:
    """Stop a server the lab started (by PID, only if it still runs the same command)."""
    stop_process(process.pid, process.argv)


def server_running(process: LabProcess) -> bool:
    """Whether the server still runs and listens on its port."""
    return process_alive(process.pid, process.argv) and listening(process.pid, process.proto, process.port)
