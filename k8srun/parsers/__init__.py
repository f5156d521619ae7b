"""Parsers: text of node commands → rows (``parse``) → DataFrame (``frame``).

One module per command (jc style): each module's docstring documents its
usage and output schema; parse functions return flat rows with static
lower-case keys, frame functions the same rows with fixed columns (an
empty input gives an empty frame with those columns). Input that is not
the expected tool output raises :class:`k8srun.errors.ParseError`, never
anything else.

``PARSERS`` maps a command name to its :class:`Parser`; ``parse(name,
text)`` and ``frame(name, text)`` dispatch by that name:

==================  =============================================  ==========================
name                command                                        module
==================  =============================================  ==========================
iptables-save       ``iptables-save [-c]``, ``iptables-legacy-save``  :mod:`.iptables_save`
conntrack           ``conntrack -L``                               :mod:`.conntrack`
ipvsadm             ``ipvsadm -Ln [--stats]``                      :mod:`.ipvsadm`
ip-json-link        ``ip -j [-d] link``                            :mod:`.ip_json`
ip-json-addr        ``ip -j addr``                                 :mod:`.ip_json`
ip-json-route       ``ip -j route``                                :mod:`.ip_json`
fio                 ``fio --output-format=json`` (etcd disk test)  :mod:`.fio`
kubelet-journal     ``journalctl -u kubelet [-o short-iso]``       :mod:`.kubelet_journal`
openssl-s-client    ``openssl s_client -showcerts`` (+ summary)    :mod:`.openssl_s_client`
ip-route            ``ip route``                                   :mod:`.jc_wrappers`
ping                ``ping [-M do -s N]``                          :mod:`.jc_wrappers`
dig                 ``dig``                                        :mod:`.jc_wrappers`
sysctl              ``sysctl -a``                                  :mod:`.jc_wrappers`
resolv-conf         ``cat /etc/resolv.conf``                       :mod:`.jc_wrappers`
ss                  ``ss -tuan[p]``                                :mod:`.jc_wrappers`
dns-probe           ``python -m k8srun.probes.dns`` (one query)    :mod:`.dns_query`
dig-query           ``dig +tries=1 [+tcp] @S NAME A`` (one query,  :mod:`.dns_query`
                    its failures too)
connect-probe       ``python -m k8srun.probes.connect`` (one TCP/  :mod:`.connect_probe`
                    UDP connection, its L7 request)
tcpdump             ``tcpdump -l -nn [-i any]`` (packets, VXLAN    :mod:`.tcpdump`
                    decoded: VNI and the inner packet)
bridge-fdb          ``bridge -j fdb show [dev DEV]``               :mod:`.bridge_fdb`
==================  =============================================  ==========================

Not in ``PARSERS`` either: :mod:`.kube_proxy`, a *view* of ``iptables-save``
text rather than a command's rows — kube-proxy's proxy mode and its service
paths (KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT, orphaned service chains
included), read by the service-routing runbook.

Not in ``PARSERS``: :mod:`.ip_route_get` (``ip -j route get DEST``). Its
answer is stdout, stderr and exit code together — exit 2 with the kernel's
"Network is unreachable" on stderr and nothing on stdout means *no route*,
while empty output of a run that exited 0 is no answer at all — so it does
not fit ``text -> rows`` with "empty text, no rows". It takes the whole
command result instead (:data:`k8srun.evidence.ROUTE_GET`, ``result_parser``).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import pandas as pd

from ..errors import ParseError
from . import bridge_fdb, connect_probe, conntrack, dns_query, fio, ip_json, ipvsadm, iptables_save, jc_wrappers, kubelet_journal, openssl_s_client, tcpdump


class Parser(NamedTuple):
    """The two entry points of one command's parser."""

    parse: Callable[[str], list[dict]]
    frame: Callable[[str], pd.DataFrame]


PARSERS: dict[str, Parser] = {
    "iptables-save": Parser(iptables_save.parse, iptables_save.frame),
    "conntrack": Parser(conntrack.parse, conntrack.frame),
    "ipvsadm": Parser(ipvsadm.parse, ipvsadm.frame),
    "ip-json-link": Parser(ip_json.parse_links, ip_json.frame_links),
    "ip-json-addr": Parser(ip_json.parse_links, ip_json.frame_links),
    "ip-json-route": Parser(ip_json.parse_routes, ip_json.frame_routes),
    "fio": Parser(fio.parse, fio.frame),
    "kubelet-journal": Parser(kubelet_journal.parse, kubelet_journal.frame),
    "openssl-s-client": Parser(openssl_s_client.parse, openssl_s_client.frame),
    "ip-route": Parser(jc_wrappers.parse_ip_route, jc_wrappers.frame_ip_route),
    "ping": Parser(jc_wrappers.parse_ping, jc_wrappers.frame_ping),
    "dig": Parser(jc_wrappers.parse_dig, jc_wrappers.frame_dig),
    "sysctl": Parser(jc_wrappers.parse_sysctl, jc_wrappers.frame_sysctl),
    "resolv-conf": Parser(jc_wrappers.parse_resolv_conf, jc_wrappers.frame_resolv_conf),
    "ss": Parser(jc_wrappers.parse_ss, jc_wrappers.frame_ss),
    "dns-probe": Parser(dns_query.parse_probe, dns_query.frame_probe),
    "dig-query": Parser(dns_query.parse_dig_query, dns_query.frame_dig_query),
    "connect-probe": Parser(connect_probe.parse, connect_probe.frame),
    "tcpdump": Parser(tcpdump.parse, tcpdump.frame),
    "bridge-fdb": Parser(bridge_fdb.parse, bridge_fdb.frame),
}


def _parser(name: str) -> Parser:
    try:
        return PARSERS[name]
    except KeyError:
        raise ParseError(name, f"no parser for this command (known: {', '.join(sorted(PARSERS))})") from None


def parse(name: str, text: str) -> list[dict]:
    """Rows of ``text`` parsed as the output of command ``name``."""
    return _parser(name).parse(text)


def frame(name: str, text: str) -> pd.DataFrame:
    """``parse(name, text)`` as a DataFrame with that parser's fixed columns."""
    return _parser(name).frame(text)
