"""Named evidence from a node: a command id, an argv built from validated parameters, a parser.

Cluster state is read through :class:`~k8srun.session.Session` methods
(``rb.pods()``, ``rb.nodes()`` …: resource -> frame); node facts through a
:class:`NodeCommand` declared once in the runbook's checks module and run by
``rb.node(COMMAND)`` on the run's ``target``::

    ROUTE_GET = NodeCommand(
        "ip-route-get", lambda p: ("ip", "-j", "route", "get", p["dest"]),
        parser="ip-json-route", title="route the kernel picks for dest", evidence="route_get")

    routes = rb.node(ROUTE_GET)        # DataFrame, or empty + "evidence unavailable" row

``argv(values)`` receives the session's validated parameters merged with the
keyword arguments of ``rb.node(COMMAND, **extra)`` (e.g. a probe size);
``command_id`` may name them as ``{placeholders}`` so each argv keeps its own
id (``ping-df-{size}``). ``parser`` is a name in :data:`k8srun.parsers.PARSERS`
or a function ``text -> DataFrame``; ``None`` returns the raw result only.
``accept_exit``: exit codes that are an answer, not a failure (``ping``
exits 1 when no reply came back: that is a measurement).

:data:`NODE_FACTS` are the parameter-free commands every node answers the
same way; ``k8srun capture --nodes`` records exactly these, and a runbook
that needs one uses the same declaration, so a captured bundle replays in
the runbook (one command id names one argv everywhere):

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

import shlex
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from . import parsers

Parser = Callable[[str], pd.DataFrame]


@dataclass(frozen=True)
class NodeCommand:
    """One node command as evidence (see module doc)."""

    command_id: str
    argv: Callable[[Mapping[str, Any]], Sequence[str]]
    parser: str | Parser | None
    title: str
    evidence: str = ""
    accept_exit: tuple[int, ...] = (0,)
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The evidence name checks use in ``REQUIRES`` (defaults to the command id)."""
        return self.evidence or self.command_id.split("{")[0].rstrip("-")

    def build(self, values: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        """(command id, argv) for these parameter values."""
        return self.command_id.format(**values), tuple(str(a) for a in self.argv(values))

    def parse(self, text: str) -> pd.DataFrame:
        """The output as a DataFrame (ParseError when it is not this tool's output)."""
        if self.parser is None:
            return pd.DataFrame({"output": text.splitlines()})
        if isinstance(self.parser, str):
            return parsers.frame(self.parser, text)
        return self.parser(text)


def _fixed(*argv: str) -> Callable[[Mapping[str, Any]], Sequence[str]]:
    return lambda values: argv


IPTABLES_SAVE = NodeCommand("iptables-save", _fixed("iptables-save", "-c"), "iptables-save",
                            "iptables rules with packet counters")
IP_ROUTE = NodeCommand("ip-route", _fixed("ip", "-j", "route", "show", "table", "all"), "ip-json-route",
                       "routes of every table")
IP_LINK = NodeCommand("ip-link", _fixed("ip", "-j", "-d", "link", "show"), "ip-json-link",
                      "interfaces with MTU and details (VXLAN, veth, bridge)")
IP_ADDR = NodeCommand("ip-addr", _fixed("ip", "-j", "addr", "show"), "ip-json-addr", "interface addresses")
SYSCTL_ALL = NodeCommand("sysctl-a", _fixed("sysctl", "-a"), "sysctl", "kernel parameters")
CONNTRACK = NodeCommand("conntrack", _fixed("conntrack", "-L"), "conntrack", "connection tracking table")
RESOLV_CONF = NodeCommand("resolv-conf", _fixed("cat", "/etc/resolv.conf"), "resolv-conf", "resolver configuration")
KUBELET_JOURNAL = NodeCommand("kubelet-journal", _fixed("journalctl", "-u", "kubelet", "-o", "short-iso", "-n", "2000",
                                                        "--no-pager"), "kubelet-journal", "kubelet journal")

#: command id -> the node facts every capture records (see module doc)
NODE_FACTS: dict[str, NodeCommand] = {c.command_id: c for c in (
    IPTABLES_SAVE, IP_ROUTE, IP_LINK, IP_ADDR, SYSCTL_ALL, CONNTRACK, RESOLV_CONF, KUBELET_JOURNAL)}


def manual_command(argv: Sequence[str], target_spec: str) -> str:
    """The command a reader would type, with where it runs (``ip netns exec`` for netns targets)."""
    line = shlex.join(argv)
    kind, _, rest = target_spec.partition(":")
    if kind == "netns":
        return f"ip netns exec {shlex.quote(rest)} {line}"
    if kind == "ssh":
        return f"ssh {shlex.quote(rest)} {shlex.quote(line)}"
    if kind == "node":
        return f"kubectl debug node/{rest} -it --profile=sysadmin --image=nicolaka/netshoot -- chroot /host {line}"
    return line


__all__ = ["NodeCommand", "NODE_FACTS", "manual_command"]
