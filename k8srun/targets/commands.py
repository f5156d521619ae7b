"""The named node commands k8srun runs, one catalogue for capture and runbooks.

A command id names one argv everywhere, so a bundle captured today replays
in a runbook tomorrow (a replay checks that the argv matches). Each entry
says which parser of :mod:`k8srun.parsers` reads its output.

==================  ==========================================  ================
command id          argv                                        parser
==================  ==========================================  ================
iptables-save       iptables-save -c                            iptables-save
ip-route            ip -j route show table all                  ip-json-route
ip-link             ip -j -d link show                          ip-json-link
ip-addr             ip -j addr show                             ip-json-addr
sysctl-a            sysctl -a                                   sysctl
conntrack           conntrack -L                                conntrack
resolv-conf         cat /etc/resolv.conf                        resolv-conf
kubelet-journal     journalctl -u kubelet -o short-iso -n 2000  kubelet-journal
                    --no-pager
==================  ==========================================  ================
"""

from __future__ import annotations

#: command id -> argv of the node facts ``k8srun capture --nodes`` gathers
NODE_FACTS: dict[str, tuple[str, ...]] = {
    "iptables-save": ("iptables-save", "-c"),
    "ip-route": ("ip", "-j", "route", "show", "table", "all"),
    "ip-link": ("ip", "-j", "-d", "link", "show"),
    "ip-addr": ("ip", "-j", "addr", "show"),
    "sysctl-a": ("sysctl", "-a"),
    "conntrack": ("conntrack", "-L"),
    "resolv-conf": ("cat", "/etc/resolv.conf"),
    "kubelet-journal": ("journalctl", "-u", "kubelet", "-o", "short-iso", "-n", "2000", "--no-pager"),
}

#: command id -> name of its parser in k8srun.parsers.PARSERS
PARSER_OF: dict[str, str] = {
    "iptables-save": "iptables-save", "ip-route": "ip-json-route", "ip-link": "ip-json-link",
    "ip-addr": "ip-json-addr", "sysctl-a": "sysctl", "conntrack": "conntrack",
    "resolv-conf": "resolv-conf", "kubelet-journal": "kubelet-journal",
}
