"""``tcpdump -l -nn [-i any]`` text → one row per packet, VXLAN encapsulation decoded: ``tcpdump``.

Reads what tcpdump prints for IPv4/IPv6 packets with numeric addresses
(``-nn``), with or without the interface and direction that ``-i any``
adds (Linux cooked v2: ``k8l-na-eth0 Out IP ...``). A VXLAN packet is
decoded by tcpdump on two lines — the outer UDP packet (``VXLAN, flags [I]
(0x08), vni 1`` on port 4789, ``OTV, flags [I] (0x08), overlay 0, instance
1`` on 8472, the port flannel and Cilium use, which tcpdump names after
Cisco OTV: the same header, the VNI is the "instance") and the inner
packet on the next line — joined here into one row. tcpdump's own lines
(``listening on ...``, ``N packets captured`` ...) are not packets; they
are read by :func:`capture_summary` (they go to stderr).

Usage::

    from k8srun.parsers import tcpdump
    rows = tcpdump.parse(stdout)            # list[dict]
    df = tcpdump.frame(stdout)              # DataFrame, columns = COLUMNS
    tcpdump.capture_summary(stderr)         # {"listening": True, "captured": 4, ...}

Schema of ``parse``::

    [
      {
        "time":        str,            # "20:38:53.216228" (tcpdump's wall clock)
        "interface":   str | None,     # -i any: the interface
        "direction":   str | None,     # -i any: "In" | "Out" | "B" | "M" | "P"
        "family":      "IP" | "IP6",
        "src":         str,            # outer source address
        "sport":       int | None,
        "dst":         str,
        "dport":       int | None,
        "protocol":    "udp" | "tcp" | "icmp" | "icmp6" | None,
        "vni":         int | None,     # VXLAN network identifier (vni / OTV instance)
        "inner_src":   str | None,     # the encapsulated packet's addresses
        "inner_dst":   str | None,
        "inner":       str | None,     # the inner packet line as tcpdump printed it
        "summary":     str             # the rest of the outer line
      }
    ]

Example::

    20:38:53.216228 k8l-na-eth0 Out IP 192.168.10.2.50831 > 192.168.20.2.8472: OTV, flags [I] (0x08), overlay 0, instance 1
    IP 10.244.1.10 > 10.244.2.10: ICMP echo request, id 17096, seq 2, length 64
    → {"time": "20:38:53.216228", "interface": "k8l-na-eth0", "direction": "Out", "family": "IP",
       "src": "192.168.10.2", "sport": 50831, "dst": "192.168.20.2", "dport": 8472, "protocol": "udp",
       "vni": 1, "inner_src": "10.244.1.10", "inner_dst": "10.244.2.10",
       "inner": "IP 10.244.1.10 > 10.244.2.10: ICMP echo request, id 17096, seq 2, length 64", ...}

Text with a line before the first packet that is neither a packet nor one
of tcpdump's own lines raises ParseError (it is not tcpdump's output);
lines after a packet that do not start with a timestamp belong to it.
"""

from __future__ import annotations

import ipaddress
import re

import pandas as pd

from ..errors import ParseError

NAME = "tcpdump"
COLUMNS = ["time", "interface", "direction", "family", "src", "sport", "dst", "dport", "protocol", "vni",
           "inner_src", "inner_dst", "inner", "summary"]
_PACKET = re.compile(r"^(?P<time>\d{1,2}:\d{2}:\d{2}\.\d{1,9})\s+(?:(?P<ifname>[^\s:]+)\s+(?P<direction>In|Out|B|M|P)\s+)?"
                     r"(?P<family>IP6?)\s+(?P<src>\S+)\s+>\s+(?P<dst>\S+?):\s?(?P<summary>.*)$")
_INNER = re.compile(r"^(?P<family>IP6?)\s+(?P<src>\S+)\s+>\s+(?P<dst>\S+?):\s?(?P<summary>.*)$")
_VNI = re.compile(r"\b(?:vni|instance)\s+(\d{1,8})\b")
_META = re.compile(r"^(?:tcpdump: .*|listening on .*|\d+ packets? (?:captured|received by filter|dropped by kernel)"
                   r"|dropped privs to .*|reading from .*|Warning: .*)$")
_COUNT = re.compile(r"^(\d+) packets? (captured|received by filter|dropped by kernel)$")


def _address(text: str, family: str) -> tuple[str, int | None]:
    """tcpdump's ``addr.port`` (``addr`` alone for ICMP) as (address, port); ParseError when not an address."""
    head, dot, tail = text.rpartition(".")
    candidates = [(head, tail)] if dot and tail.isascii() and tail.isdigit() else []
    candidates.append((text, None))
    for address, port in candidates:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            continue
        if (parsed.version == 6) != (family == "IP6"):
            continue
        if port is not None and (len(port) > 5 or not 0 <= int(port) <= 65535):
            continue
        return str(parsed), None if port is None else int(port)
    raise ParseError(NAME, f"not an {family} address: {text!r}")


def _protocol(summary: str, family: str) -> str | None:
    if summary.startswith("ICMP6"):
        return "icmp6"
    if summary.startswith("ICMP"):
        return "icmp"
    if summary.startswith("Flags ["):
        return "tcp"
    if summary.startswith(("UDP", "OTV", "VXLAN")) or _VNI.search(summary):
        return "udp"
    return None


def parse(text: str) -> list[dict]:
    """One row per packet (see module doc)."""
    rows: list[dict] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        match = _PACKET.match(stripped)
        if match is None:
            if _META.match(stripped):
                continue
            if not rows:
                raise ParseError(NAME, f"line {number} is not a tcpdump packet line: {stripped[:80]!r}")
            inner = _INNER.match(stripped)
            last = rows[-1]
            if inner is not None and last["inner"] is None:
                try:
                    last["inner_src"], _ = _address(inner["src"], inner["family"])
                    last["inner_dst"], _ = _address(inner["dst"], inner["family"])
                except ParseError:
                    last["inner_src"] = last["inner_dst"] = None
                last["inner"] = stripped
            continue
        family, summary = match["family"], match["summary"].strip()
        src, sport = _address(match["src"], family)
        dst, dport = _address(match["dst"], family)
        vni = _VNI.search(summary)
        rows.append({"time": match["time"], "interface": match["ifname"], "direction": match["direction"],
                     "family": family, "src": src, "sport": sport, "dst": dst, "dport": dport,
                     "protocol": _protocol(summary, family), "vni": int(vni.group(1)) if vni else None,
                     "inner_src": None, "inner_dst": None, "inner": None, "summary": summary})
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with ``COLUMNS`` (ports and VNI as nullable integers)."""
    return pd.DataFrame(parse(text), columns=COLUMNS).astype({"sport": "Int64", "dport": "Int64", "vni": "Int64"})


def capture_summary(text: str) -> dict:
    """tcpdump's own lines (stderr): ``listening`` (it was capturing), ``captured``, ``received``, ``dropped``."""
    out: dict = {"listening": False, "captured": None, "received": None, "dropped": None}
    keys = {"captured": "captured", "received by filter": "received", "dropped by kernel": "dropped"}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("listening on "):
            out["listening"] = True
        count = _COUNT.match(line)
        if count and count.group(1).isascii():
            out[keys[count.group(2)]] = int(count.group(1))
    return out


__all__ = ["NAME", "COLUMNS", "parse", "frame", "capture_summary"]
