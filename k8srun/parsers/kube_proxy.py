"""kube-proxy's view of a node from one ``iptables-save`` text: proxy mode and service paths.

Built on :func:`k8srun.parsers.iptables_save.kube_proxy_services` (the fast
string path: give it the text, not parsed rows, for big dumps) and adds what
the service-routing runbook needs on top:

- :func:`proxy_mode` — which kube-proxy wrote the rules: ``"ipvs"`` (its
  iptables part matches the ipset ``KUBE-CLUSTER-IP`` or has the chains
  ``KUBE-NODE-PORT`` / ``KUBE-LOAD-BALANCER``; the services themselves are IPVS
  virtual servers, read with ``ipvsadm -Ln``), ``"iptables"`` (a nat
  ``KUBE-SERVICES`` chain or any ``KUBE-SVC-*`` chain), ``"none"`` (no
  kube-proxy chain at all: not a node, kube-proxy never synced, or a
  kube-proxy in nftables mode or a replacement such as Cilium, which
  ``iptables-save`` does not show);
- :func:`view` — the ``kube_proxy_services`` rows (``SERVICE_COLUMNS``) plus the
  ``KUBE-SVC-*`` / ``KUBE-SVL-*`` chains that *no* ``KUBE-SERVICES`` rule jumps
  to. kube-proxy writes a service chain's first rule as ``! -s CLUSTER_CIDR
  -d CLUSTER_IP -p PROTO -m comment --comment "ns/name:port cluster IP" -m
  PROTO --dport PORT -j KUBE-MARK-MASQ``, so the chain still tells its
  ClusterIP:port even when the portal rule is gone — a half-applied sync.
  Those rows have ``service_rule = False`` (the ClusterIP is not DNATed on
  this node); all others ``True``.

Usage::

    from k8srun.parsers import kube_proxy
    kube_proxy.proxy_mode(text)          # "iptables" | "ipvs" | "none"
    kube_proxy.view(text)                # DataFrame, columns VIEW_COLUMNS

Schema of ``view``: ``iptables_save.SERVICE_COLUMNS`` (service, cluster_ip,
port, protocol, node_port, svc_chain, masquerade, sep_chain, probability,
share, backend_ip, backend_port, local, status) + ``service_rule`` (bool).
Like ``kube_proxy_services`` it skips rules it does not recognise and raises
ParseError only for a ``--probability`` that is not a number.
"""

from __future__ import annotations

import pandas as pd

from .iptables_save import SERVICE_COLUMNS, _kube_lines_from_text, _split_comment, _value, kube_proxy_services

VIEW_COLUMNS = [*SERVICE_COLUMNS, "service_rule"]
MODES = ("iptables", "ipvs", "none")
_IPVS_MARKERS = ("KUBE-CLUSTER-IP", ":KUBE-NODE-PORT ", ":KUBE-LOAD-BALANCER ", "-A KUBE-NODE-PORT ",
                 "-A KUBE-LOAD-BALANCER ")
_IPTABLES_MARKERS = (":KUBE-SVC-", ":KUBE-SVL-", "-A KUBE-SVC-", "-A KUBE-SVL-")


def proxy_mode(text: str) -> str:
    """``"ipvs"``, ``"iptables"`` or ``"none"`` (see module doc)."""
    if any(marker in text for marker in _IPVS_MARKERS):
        return "ipvs"
    if any(marker in text for marker in _IPTABLES_MARKERS):
        return "iptables"
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif table == "nat" and (line.startswith(":KUBE-SERVICES ") or line.startswith("-A KUBE-SERVICES ")):
            return "iptables"
    return "none"


def _orphans(text: str) -> list[str]:
    """``-A KUBE-SERVICES`` lines for the service chains no portal rule jumps to (with their own match)."""
    portals: set[str] = set()
    described: dict[str, str] = {}
    for table, chain, body in _kube_lines_from_text(text):
        if table != "nat":
            continue
        if chain == "KUBE-SERVICES":
            target = _value(body, "-j ")
            if target:
                portals.add(target)
        elif chain[5:9] in ("SVC-", "SVL-") and chain not in described and "KUBE-MARK-MASQ" in body:
            comment, rest = _split_comment(body)
            if comment is None or not comment.endswith(" cluster IP") or _value(rest, "-d ") is None:
                continue
            destination, proto, port = _value(rest, "-d "), _value(rest, "-p "), _value(rest, "--dport ")
            if not (proto and port):
                continue
            quoted = comment.replace("\\", "\\\\").replace('"', '\\"')
            described[chain] = (f'-A KUBE-SERVICES -d {destination} -p {proto} -m comment --comment "{quoted}" '
                                f"-m {proto} --dport {port} -j {chain}")
    return [line for chain, line in described.items() if chain not in portals]


def view(text: str) -> pd.DataFrame:
    """Every service path kube-proxy wrote (``VIEW_COLUMNS``), orphaned service chains included."""
    services = kube_proxy_services(text)
    services["service_rule"] = True
    orphans = _orphans(text)
    if orphans:
        kept = "\n".join(line for line in text.splitlines() if line.startswith("-A KUBE-S")
                         or line.startswith("[") and "] -A KUBE-S" in line)
        lone = kube_proxy_services("*nat\n" + kept + "\n" + "\n".join(orphans) + "\nCOMMIT\n")
        chains = {line.rsplit(" ", 1)[1] for line in orphans}
        lone = lone[lone["svc_chain"].isin(chains)].copy()
        lone["service_rule"] = False
        services = pd.concat([services, lone], ignore_index=True) if len(services) else lone
    services = services.reset_index(drop=True).reindex(columns=VIEW_COLUMNS)
    services["service_rule"] = services["service_rule"].astype(bool)
    return services


__all__ = ["VIEW_COLUMNS", "MODES", "proxy_mode", "view"]
