"""Named evidence from a node: a command id, an argv built from validated parameters, a parser.

Cluster state is read through :class:`~k8srun.session.Session` methods
(``rb.pods()``, ``rb.nodes()`` …: resource -> frame); node facts through a
:class:`NodeCommand` declared once — here when more than one runbook (or
``k8srun capture``) asks it, else in the runbook's checks module — and run
by ``rb.node(COMMAND)`` on the run's ``target``::

    PING_DF = NodeCommand(
        "ping-df-{size}", lambda p: ("ping", "-n", "-M", "do", "-s", p["size"] - 28, "-c", "1", p["dest"]),
        parser="ping", title="DF probe", evidence="probes", accept_exit=(0, 1))

    probe = rb.node(PING_DF, size=1400)   # DataFrame, or empty + "evidence unavailable" row

``argv(values)`` receives the session's validated parameters merged with the
keyword arguments of ``rb.node(COMMAND, **extra)`` (e.g. a probe size);
``command_id`` may name them as ``{placeholders}`` so each argv keeps its own
id (``ping-df-{size}``). ``parser`` is a name in :data:`k8srun.parsers.PARSERS`
or a function ``text -> DataFrame`` of stdout; ``None`` returns the raw
result only. ``result_parser``, when set, replaces it: a function
``CommandResult -> DataFrame`` for a command whose answer is more than its
stdout (``ip route get`` exits 2 with the kernel's error on stderr when no
route matches); ``rb.node`` calls :meth:`NodeCommand.parse_result` either way.
``accept_exit``: exit codes that are an answer, not a failure (``ping``
exits 1 when no reply came back: that is a measurement).

One command id names one argv everywhere, so a bundle recorded by one
runbook (or by ``k8srun capture``) replays in another: a command two
runbooks ask is declared once, here, and imported by both. Asking the same
argv again at a *different moment* (after something may have changed it)
is a second declaration whose id is the first one's plus
``-after-<moment>`` (``dataclasses.replace(ROUTE_GET, command_id=
ROUTE_GET.command_id + "-after-probes", ...)``): the two answers differ
and both are recorded. tests/test_evidence.py holds every declaration to this.

Shared commands with parameters (declared below, imported by the runbooks):

===================  ======================  =================================  =========================
command id           argv                    parser                             used by
===================  ======================  =================================  =========================
ip-route-get-{dest}  ip -j route get DEST    ``ip_route_get.frame_result``      routing-sysctl, mtu (mtu
                     (exit 2 = no route: an  (``result_parser``: stdout,        asks it again as
                     answer)                 stderr and exit code)              ``...-after-probes``)
===================  ======================  =================================  =========================

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

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pandas as pd

from . import parsers
from .parsers import ip_route_get

if TYPE_CHECKING:
    from .targets import CommandResult

Parser = Callable[[str], pd.DataFrame]
#: characters a command id cannot hold (see :func:`k8srun.targets.valid_command_id`)
_ID_UNSAFE = re.compile(r"[^a-z0-9._-]")
ResultParser = Callable[["CommandResult"], pd.DataFrame]


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
    result_parser: ResultParser | None = None

    @property
    def name(self) -> str:
        """The evidence name checks use in ``REQUIRES`` (defaults to the command id)."""
        return self.evidence or self.command_id.split("{")[0].rstrip("-")

    def build(self, values: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        """(command id, argv) for these parameter values.

        A value placed in the id is lower-cased and every character a command id
        cannot hold becomes ``_`` (an IPv6 ``fd00::1`` names ``ip-route-get-fd00__1``);
        the argv gets the value itself.
        """
        in_id = {name: _ID_UNSAFE.sub("_", str(value).lower()) for name, value in values.items()}
        return self.command_id.format(**in_id), tuple(str(a) for a in self.argv(values))

    def parse(self, text: str) -> pd.DataFrame:
        """The output as a DataFrame (ParseError when it is not this tool's output)."""
        if self.parser is None:
            return pd.DataFrame({"output": text.splitlines()})
        if isinstance(self.parser, str):
            return parsers.frame(self.parser, text)
        return self.parser(text)

    def parse_result(self, result: CommandResult) -> pd.DataFrame:
        """The whole result as a DataFrame: ``result_parser`` when set, else :meth:`parse` of its stdout."""
        if self.result_parser is not None:
            return self.result_parser(result)
        return self.parse(result.stdout)


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

#: the kernel's own route lookup for ``dest`` (routing-sysctl, mtu): one answer row, "no route" included
ROUTE_GET = NodeCommand("ip-route-get-{dest}", lambda values: ("ip", "-j", "route", "get", values["dest"]), None,
                        "the route the kernel picks for dest (interface, gateway, MTU on the route)",
                        accept_exit=(0, ip_route_get.NO_ROUTE_EXIT), columns=tuple(ip_route_get.COLUMNS),
                        result_parser=ip_route_get.frame_result)


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


__all__ = ["NodeCommand", "NODE_FACTS", "ROUTE_GET", "manual_command"]
