"""``conntrack -L`` output → one row per connection-tracking entry.

Reads the default ("conntrack v1.4") line format, e.g. after traffic through
a kube-proxy DNAT::

    tcp      6 119 TIME_WAIT src=10.200.0.2 dst=10.96.0.50 sport=53030 dport=80 \
        src=10.244.1.5 dst=10.244.1.1 sport=8080 dport=21339 [ASSURED] mark=0 use=1

The first ``src= dst= ...`` group is the original direction, the second the
reply; a reply source different from the original destination means the
connection was DNATed (``dnat`` column). The trailing "conntrack v1.4.7
(conntrack-tools): 7 flow entries have been shown." summary goes to
stderr and is skipped if present.

Usage::

    from k8srun.parsers import conntrack
    rows = conntrack.parse(text); df = conntrack.frame(text)

Schema::

    [
      {
        "l3proto":        str | None,   # "ipv4"/"ipv6" when -o extended / -f is used
        "protocol":       str,          # tcp, udp, icmp, unknown ...
        "protocol_number": int,
        "timeout":        int,          # seconds left
        "state":          str | None,   # TCP state: ESTABLISHED, TIME_WAIT, SYN_SENT ...
        "src":            str,          # original tuple
        "dst":            str,
        "sport":          int | None,
        "dport":          int | None,
        "reply_src":      str | None,   # reply tuple
        "reply_dst":      str | None,
        "reply_sport":    int | None,
        "reply_dport":    int | None,
        "flags":          [str],        # ASSURED, UNREPLIED, OFFLOAD, HW_OFFLOAD
        "dnat":           bool,         # reply_src != dst
        "mark":           int | None,
        "zone":           int | None,
        "use":            int | None,
        "extra":          {str: str}    # any other key=value (id, secctx, icmp type/code ...)
      }
    ]
"""

from __future__ import annotations

import pandas as pd

from ..errors import ParseError

NAME = "conntrack"
COLUMNS = ["l3proto", "protocol", "protocol_number", "timeout", "state", "src", "dst", "sport",
           "dport", "reply_src", "reply_dst", "reply_sport", "reply_dport", "flags", "dnat",
           "mark", "zone", "use", "extra"]
_L3 = {"ipv4", "ipv6"}
_INT_KEYS = {"mark", "zone", "use"}


def _int(value: str, what: str, lineno: int) -> int:
    try:
        return int(value, 0) if value.startswith("0x") else int(value)
    except ValueError:
        raise ParseError(NAME, f"{what} is not a number: {value!r}", lineno) from None


def _entry(line: str, lineno: int) -> dict:
    words = line.split()
    i = 0
    l3proto = None
    if words[0] in _L3:
        l3proto = words[0]
        i = 2  # "ipv4 2"
    if len(words) < i + 3:
        raise ParseError(NAME, "too few fields", lineno)
    row = {"l3proto": l3proto, "protocol": words[i],
           "protocol_number": _int(words[i + 1], "protocol number", lineno),
           "timeout": _int(words[i + 2], "timeout", lineno), "state": None,
           "src": None, "dst": None, "sport": None, "dport": None, "reply_src": None,
           "reply_dst": None, "reply_sport": None, "reply_dport": None, "flags": [],
           "dnat": False, "mark": None, "zone": None, "use": None, "extra": {}}
    i += 3
    if i < len(words) and "=" not in words[i] and not words[i].startswith("["):
        row["state"] = words[i]
        i += 1
    reply = False
    for word in words[i:]:
        if word.startswith("[") and word.endswith("]"):
            row["flags"].append(word[1:-1])
            continue
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ParseError(NAME, f"unexpected field {word!r}", lineno)
        if key in ("src", "dst", "sport", "dport"):
            if key == "src" and row["src"] is not None:
                reply = True
            column = "reply_" + key if reply else key
            if row[column] is not None:
                raise ParseError(NAME, f"{key}= appears more than twice", lineno)
            row[column] = _int(value, key, lineno) if key.endswith("port") else value
        elif key in _INT_KEYS:
            row[key] = _int(value, key, lineno)
        else:
            row["extra"][("reply_" if reply else "") + key] = value
    if row["src"] is None or row["dst"] is None:
        raise ParseError(NAME, "entry without src=/dst=", lineno)
    row["dnat"] = row["reply_src"] is not None and row["reply_src"] != row["dst"]
    return row


def parse(text: str) -> list[dict]:
    """One row per conntrack entry."""
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("conntrack v"):
            continue
        rows.append(_entry(line, lineno))
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS)
