"""Benchmark: parse a kube-proxy ``iptables-save`` dump and build the service table.

Generates a synthetic dump in the format kube-proxy (iptables mode, v1.28+)
leaves behind as ``iptables-save`` (iptables 1.8.9) prints it — filter and nat
tables, ``KUBE-SERVICES`` → ``KUBE-SVC-*`` (statistic random probabilities,
``KUBE-MARK-MASQ``) → ``KUBE-SEP-*`` (``DNAT --to-destination``), every
tenth service a NodePort (``KUBE-NODEPORTS`` → ``KUBE-EXT-*``) and every
hundredth service without endpoints (filter-table ``REJECT``) — then times,
in the same run, on the same file:

* ``iptables_save.kube_proxy_services(text)`` (parse + service→backend table),
* ``iptables_save.parse(text)`` (every rule, fully structured) for reference,
* ``grep -c KUBE-SEP FILE`` as a subprocess.

Run: ``.venv/bin/python benchmarks/iptables_save.py [--services 10000] [--endpoints 10]``.
Target: parse + table ≤ 1.5 s for 10,000 services × 10 endpoints on 2 cores.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from k8srun.parsers import iptables_save  # noqa: E402

CLUSTER_CIDR = "10.244.0.0/16"


def chain_name(prefix: str, *parts: str) -> str:
    """kube-proxy's chain name: prefix + 16 base32 chars of a SHA-256."""
    digest = hashlib.sha256("".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:16]


def _comment(text: str) -> str:
    """The ``--comment`` argument as iptables 1.8.9 prints it (quoted when needed)."""
    if any(c in text for c in ' "\\\'') or not text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _probability(p: float) -> str:
    """A statistic probability as iptables prints it (kernel keeps it as a 31-bit fraction)."""
    return "%.11f" % (round(p * 0x80000000) / 0x80000000)


def kube_proxy_dump(services: int, endpoints: int) -> str:
    """A synthetic ``iptables-save`` dump of kube-proxy rules for ``services`` × ``endpoints``."""
    filter_rules: list[str] = []
    nat_chains: list[str] = ["KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-SERVICES"]
    nat_rules: dict[str, list[str]] = {c: [] for c in nat_chains}
    nat_rules["KUBE-MARK-MASQ"].append("-j MARK --set-xmark 0x4000/0x4000")
    nat_rules["KUBE-POSTROUTING"] += [
        "-m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-j MARK --set-xmark 0x4000/0x0",
        '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ]
    for s in range(services):
        namespace, name, port_name = f"ns{s % 97}", f"svc{s}", "http"
        service = f"{namespace}/{name}:{port_name}"
        cluster_ip = f"10.96.{s // 250}.{s % 250 + 1}"
        port, target_port = 80 + s % 3, 8080
        node_port = 30000 + s if s % 10 == 0 else None
        if s % 100 == 99:
            filter_rules.append(
                f"-A KUBE-SERVICES -d {cluster_ip}/32 -p tcp -m comment --comment "
                f"{_comment(service + ' has no endpoints')} -m tcp --dport {port} "
                "-j REJECT --reject-with icmp-port-unreachable")
            if node_port:
                filter_rules.append(
                    f"-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "
                    f"{_comment(service + ' has no endpoints')} -m addrtype --dst-type LOCAL "
                    f"-m tcp --dport {node_port} -j REJECT --reject-with icmp-port-unreachable")
            continue
        svc = chain_name("KUBE-SVC-", service, "tcp")
        nat_chains.append(svc)
        svc_rules = nat_rules.setdefault(svc, [])
        nat_rules["KUBE-SERVICES"].append(
            f"-d {cluster_ip}/32 -p tcp -m comment --comment {_comment(service + ' cluster IP')} "
            f"-m tcp --dport {port} -j {svc}")
        svc_rules.append(
            f"! -s {CLUSTER_CIDR} -d {cluster_ip}/32 -p tcp -m comment --comment "
            f"{_comment(service + ' cluster IP')} -m tcp --dport {port} -j KUBE-MARK-MASQ")
        if node_port:
            ext = chain_name("KUBE-EXT-", service, "tcp")
            nat_chains.append(ext)
            nat_rules["KUBE-NODEPORTS"].append(
                f"-p tcp -m comment --comment {_comment(service)} -m tcp --dport {node_port} -j {ext}")
            nat_rules[ext] = [
                f"-m comment --comment {_comment('masquerade traffic for ' + service + ' external destinations')} "
                "-j KUBE-MARK-MASQ",
                f"-j {svc}",
            ]
        for e in range(endpoints):
            ip = f"10.244.{(s * endpoints + e) // 250 % 256}.{(s * endpoints + e) % 250 + 1}"
            backend = f"{ip}:{target_port}"
            sep = chain_name("KUBE-SEP-", service, "tcp", backend)
            nat_chains.append(sep)
            nat_rules[sep] = [
                f"-s {ip}/32 -m comment --comment {_comment(service)} -j KUBE-MARK-MASQ",
                f"-p tcp -m comment --comment {_comment(service)} -m tcp -j DNAT --to-destination {backend}",
            ]
            left = endpoints - e
            statistic = (f" -m statistic --mode random --probability {_probability(1 / left)}"
                         if left > 1 else "")
            svc_rules.append(f"-m comment --comment {_comment(service + ' -> ' + backend)}{statistic} -j {sep}")
    nat_rules["KUBE-SERVICES"].append(
        '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule '
        'in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    stamp = "Thu Nov 26 06:33:04 2026"
    out = [f"# Generated by iptables-save v1.8.9 (nf_tables) on {stamp}", "*filter",
           ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
           ":KUBE-EXTERNAL-SERVICES - [0:0]", ":KUBE-SERVICES - [0:0]",
           '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible '
           'service portals" -j KUBE-EXTERNAL-SERVICES',
           '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" '
           "-j KUBE-SERVICES",
           *filter_rules, "COMMIT", f"# Completed on {stamp}",
           f"# Generated by iptables-save v1.8.9 (nf_tables) on {stamp}", "*nat",
           ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
           ":POSTROUTING ACCEPT [0:0]"]
    out += [f":{chain} - [0:0]" for chain in nat_chains]
    out += ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
            '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
            '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING']
    for chain in nat_chains:
        out += [f"-A {chain} {rule}" for rule in nat_rules[chain]]
    out += ["COMMIT", f"# Completed on {stamp}"]
    return "\n".join(out) + "\n"


def main() -> None:
    """Generate the dump, time the parser and grep, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    args = parser.parse_args()
    text = kube_proxy_dump(args.services, args.endpoints)
    lines = text.count("\n")
    with tempfile.TemporaryDirectory(prefix="k8p-bench-") as tmp:
        path = Path(tmp) / "iptables-save.txt"
        path.write_text(text)

        started = time.perf_counter()
        table = iptables_save.kube_proxy_services(path.read_text())
        table_s = time.perf_counter() - started

        started = time.perf_counter()
        rows = iptables_save.parse(path.read_text())
        parse_s = time.perf_counter() - started

        started = time.perf_counter()
        grep = subprocess.run(["grep", "-c", "KUBE-SEP", str(path)], capture_output=True,
                              text=True, check=True)
        grep_s = time.perf_counter() - started

    print(f"dump: {args.services} services x {args.endpoints} endpoints, {lines} lines, "
          f"{len(text) / 1e6:.1f} MB")
    print(f"kube_proxy_services (read + parse + table): {table_s:.3f} s, "
          f"{lines / table_s:,.0f} lines/s, {len(table)} rows "
          f"[target <= 1.5 s: {'OK' if table_s <= 1.5 else 'MISSED'}]")
    print(f"parse (every rule fully structured):        {parse_s:.3f} s, "
          f"{lines / parse_s:,.0f} lines/s, {len(rows)} rows")
    print(f"grep -c KUBE-SEP:                           {grep_s:.3f} s, "
          f"{lines / grep_s:,.0f} lines/s, count {grep.stdout.strip()}")
    print(f"ratio kube_proxy_services / grep: {table_s / grep_s:.1f}x; "
          f"parse / grep: {parse_s / grep_s:.1f}x")


if __name__ == "__main__":
    main()
