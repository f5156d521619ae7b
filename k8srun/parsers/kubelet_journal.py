"""``journalctl -u kubelet`` lines → timestamp, host, unit, and the klog header.

Reads the default ``short`` output format (``Nov 20 14:03:12 node1
kubelet[1234]: ...``) and ``-o short-iso`` (``2023-11-20T14:03:12+0000 ...``
or ``+00:00``), and inside the message the klog header
``Lmmdd hh:mm:ss.uuuuuu THREADID file.go:LINE] MESSAGE`` with its
structured form ``"Message" key="value" key2=value2``. Journal marker
lines (``-- Logs begin at ...``, ``-- Boot ... --``, ``-- No entries --``)
are skipped. An indented line after an entry is that entry's next line
(journalctl prints a multi-line message so) and is appended to its
``message``. A message without a klog header (systemd's "Started
kubelet.service", plain stderr) gets ``level`` None and the whole text as
``message``. No kubelet journal exists in this sandbox: the fixtures are
written from real-world kubelet lines (``--recorded-upstream``).

Usage::

    from k8srun.parsers import kubelet_journal
    rows = kubelet_journal.parse(text); df = kubelet_journal.frame(text)

Schema::

    [
      {
        "timestamp":   str,            # as journalctl printed it
        "host":        str,
        "unit":        str,            # syslog identifier: "kubelet", "systemd"
        "pid":         int | None,
        "level":       "I" | "W" | "E" | "F" | None,
        "klog_time":   str | None,     # "1120 14:03:12.345678" (mmdd hh:mm:ss.micro)
        "thread":      int | None,
        "source":      str | None,     # "kubelet.go:2855"
        "message":     str,            # the quoted message unquoted, else the text
        "fields":      {str: str}      # structured key=value pairs, values unquoted
      }
    ]

Example::

    Nov 20 14:03:12 node1 kubelet[1234]: E1120 14:03:12.345678    1234 kubelet.go:2855]
      "Container runtime network not ready" networkReady="NetworkReady=false reason:..."
    → {"timestamp": "Nov 20 14:03:12", "host": "node1", "unit": "kubelet", "pid": 1234,
       "level": "E", "klog_time": "1120 14:03:12.345678", "thread": 1234,
       "source": "kubelet.go:2855", "message": "Container runtime network not ready",
       "fields": {"networkReady": "NetworkReady=false reason:..."}}
"""

from __future__ import annotations

import re

import pandas as pd

from ..errors import ParseError

NAME = "kubelet-journal"
COLUMNS = ["timestamp", "host", "unit", "pid", "level", "klog_time", "thread", "source",
           "message", "fields"]

_PREFIX = re.compile(
    r"(?P<timestamp>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r" (?P<host>\S+) (?P<unit>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<message>.*)")
_KLOG = re.compile(r"(?P<level>[IWEF])(?P<time>\d{4} \d\d:\d\d:\d\d\.\d{6})\s+(?P<thread>\d+)"
                   r" (?P<source>[^\s\]]+:\d+)\] ?(?P<message>.*)")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_PAIR = re.compile(r'\s*([A-Za-z_][\w.\-]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(.)")


def _unquote(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _structured(text: str) -> tuple[str, dict[str, str]]:
    """``"msg" k="v" k2=v2`` → (msg, {k: v}); plain text → (text, {})."""
    m = _QUOTED.match(text)
    if m is None:
        return text, {}
    fields: dict[str, str] = {}
    at = m.end()
    while at < len(text):
        pair = _PAIR.match(text, at)
        if pair is None:
            return text, {}  # not klog structured after all: keep the text whole
        fields[pair.group(1)] = _unquote(pair.group(2)) if pair.group(2) is not None else pair.group(3)
        at = pair.end()
    return _unquote(m.group(1)), fields


def parse(text: str) -> list[dict]:
    """One row per journal line."""
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("-- "):
            continue
        if rows and line[:1] in (" ", "\t"):  # journalctl indents the further lines of a multi-line entry
            rows[-1]["message"] += "\n" + line.strip()
            continue
        m = _PREFIX.fullmatch(line.rstrip())
        if m is None:
            raise ParseError(NAME, f"not a journalctl short/short-iso line: {line[:60]!r}", lineno)
        row = {"timestamp": m.group("timestamp"), "host": m.group("host"), "unit": m.group("unit"),
               "pid": int(m.group("pid")) if m.group("pid") else None, "level": None,
               "klog_time": None, "thread": None, "source": None, "message": m.group("message"),
               "fields": {}}
        klog = _KLOG.fullmatch(m.group("message"))
        if klog is not None:
            message, fields = _structured(klog.group("message"))
            row.update(level=klog.group("level"), klog_time=klog.group("time"),
                       thread=int(klog.group("thread")), source=klog.group("source"),
                       message=message, fields=fields)
        rows.append(row)
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS)
