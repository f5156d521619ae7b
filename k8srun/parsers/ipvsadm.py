"""``ipvsadm -Ln`` and ``ipvsadm -Ln --stats`` output → virtual and real server rows.

kube-proxy in IPVS mode programs one virtual server per ClusterIP:port
(scheduler ``rr`` by default) with one real server per endpoint. This
sandbox's kernel has no IPVS, so the parser is tested on recorded text in
the format of ipvsadm 1.31 (fixtures named ``--recorded-upstream``), not on
a live run.

Usage::

    from k8srun.parsers import ipvsadm
    rows = ipvsadm.parse(text); df = ipvsadm.frame(text)

Schema — one ``virtual`` row per virtual server followed by one ``real``
row per real server (which repeats its virtual server's protocol/vip/vport)::

    [
      {
        "kind":           "virtual" | "real",
        "protocol":       "TCP" | "UDP" | "SCTP" | "FWM",
        "vip":            str,          # virtual address ("100" = firewall mark for FWM)
        "vport":          int | None,
        "scheduler":      str | None,   # rr, wrr, lc, sh ... (-Ln only)
        "persistent_s":   int | None,   # "persistent 10800" timeout
        "flags":          [str],        # other words after the scheduler (e.g. "ops", "mask", ...)
        "real_ip":        str | None,
        "real_port":      int | None,
        "forward":        str | None,   # Masq, Route, Tunnel, Local
        "weight":         int | None,
        "active_conns":   int | None,
        "inactive_conns": int | None,
        "conns":          int | None,   # --stats (K/M/G suffixes expanded, ×1000)
        "in_pkts":        int | None,
        "out_pkts":       int | None,
        "in_bytes":       int | None,
        "out_bytes":      int | None
      }
    ]

Example::

    TCP  10.96.0.10:53 rr
      -> 10.244.0.2:53                Masq    1      0          0
    → {"kind": "virtual", "protocol": "TCP", "vip": "10.96.0.10", "vport": 53, "scheduler": "rr", ...}
      {"kind": "real", "protocol": "TCP", "vip": "10.96.0.10", "vport": 53,
       "real_ip": "10.244.0.2", "real_port": 53, "forward": "Masq", "weight": 1,
       "active_conns": 0, "inactive_conns": 0, ...}
"""

from __future__ import annotations

import pandas as pd

from ..errors import ParseError

NAME = "ipvsadm"
COLUMNS = ["kind", "protocol", "vip", "vport", "scheduler", "persistent_s", "flags", "real_ip",
           "real_port", "forward", "weight", "active_conns", "inactive_conns", "conns",
           "in_pkts", "out_pkts", "in_bytes", "out_bytes"]
_PROTOCOLS = {"TCP", "UDP", "SCTP", "FWM"}
_STATS = ["conns", "in_pkts", "out_pkts", "in_bytes", "out_bytes"]
_SUFFIX = {"K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}


def _number(word: str, lineno: int) -> int:
    multiplier = _SUFFIX.get(word[-1:], 1)
    digits = word[:-1] if multiplier != 1 else word
    if not (digits.isascii() and digits.isdigit()):
        raise ParseError(NAME, f"not a number: {word!r}", lineno)
    return int(digits) * multiplier


def _address(text: str, lineno: int) -> tuple[str, int | None]:
    """``10.0.0.1:80`` / ``[fd00::1]:80`` → (ip, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()):
        raise ParseError(NAME, f"not an address:port: {text!r}", lineno)
    return host.strip("[]"), int(port)


def _empty(kind: str) -> dict:
    row = dict.fromkeys(COLUMNS)
    row["kind"] = kind
    row["flags"] = []
    return row


def parse(text: str) -> list[dict]:
    """Rows for every virtual server and real server listed."""
    rows: list[dict] = []
    stats = False
    virtual: dict | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if words[0] == "IP" and line.startswith("IP Virtual Server"):
            continue
        if words[0] == "Prot":
            stats = "Conns" in words
            continue
        if words[0] == "->":
            if len(words) < 2:
                raise ParseError(NAME, "'->' without a real server address", lineno)
            if words[1] == "RemoteAddress:Port":
                continue
            if virtual is None:
                raise ParseError(NAME, "real server before any virtual server", lineno)
            row = _empty("real")
            row.update(protocol=virtual["protocol"], vip=virtual["vip"], vport=virtual["vport"])
            row["real_ip"], row["real_port"] = _address(words[1], lineno)
            if stats:
                if len(words) != 7:
                    raise ParseError(NAME, "a --stats real server line needs 5 counters", lineno)
                row.update(zip(_STATS, (_number(w, lineno) for w in words[2:])))
            else:
                if len(words) != 6:
                    raise ParseError(NAME, "a real server line needs forward, weight, active, inactive", lineno)
                row["forward"] = words[2]
                row["weight"], row["active_conns"], row["inactive_conns"] = (
                    _number(w, lineno) for w in words[3:])
            rows.append(row)
            continue
        if words[0] not in _PROTOCOLS or len(words) < 2:
            raise ParseError(NAME, f"not an ipvsadm line: {line.strip()[:60]!r}", lineno)
        virtual = _empty("virtual")
        virtual["protocol"] = words[0]
        if words[0] == "FWM":
            if not (words[1].isascii() and words[1].isdigit()):
                raise ParseError(NAME, f"firewall mark is not a number: {words[1]!r}", lineno)
            virtual["vip"] = words[1]
        else:
            virtual["vip"], virtual["vport"] = _address(words[1], lineno)
        rest = words[2:]
        if stats:
            if len(rest) != 5:
                raise ParseError(NAME, "a --stats virtual server line needs 5 counters", lineno)
            virtual.update(zip(_STATS, (_number(w, lineno) for w in rest)))
        elif rest:
            virtual["scheduler"] = rest[0]
            flags = rest[1:]
            if "persistent" in flags:
                at = flags.index("persistent")
                if at + 1 >= len(flags) or not (flags[at + 1].isascii() and flags[at + 1].isdigit()):
                    raise ParseError(NAME, "persistent without a timeout", lineno)
                virtual["persistent_s"] = int(flags[at + 1])
                del flags[at:at + 2]
            virtual["flags"] = flags
        rows.append(virtual)
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS)
