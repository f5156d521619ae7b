"""One DNS query's outcome, from the probe's JSON or from ``dig``'s text: ``dns-probe``, ``dig-query``.

Both say the same thing — one query to one server over one transport, and
how it ended — so both give one row with :data:`COLUMNS`::

    [{"server": "10.96.0.10", "transport": "udp" | "tcp" | None, "qname": "web.default.svc.cluster.local." | None,
      "outcome": "answered" | "timeout" | "refused" | "unreachable" | "error",
      "rcode": "NOERROR" | "NXDOMAIN" | "SERVFAIL" | "REFUSED" | ... | None,   # None unless answered
      "answers": ["10.96.0.1"], "truncated": bool, "elapsed_ms": float | None, "detail": str | None}]

``parse_probe(text)``: the JSON line of ``python -m k8srun.probes.dns``
(:mod:`k8srun.probes.dns`).

``parse_dig_query(text)``: ``dig +time=T +tries=1 [+tcp] @SERVER QNAME A``
stdout (dig 9.16+ prints its errors there too, exit 9). An answer is read
with jc's dig parser (:func:`k8srun.parsers.jc_wrappers.parse_dig`); the
failures dig prints instead of an answer are told apart here:

==========================================================================  ===========
dig says                                                                    outcome
==========================================================================  ===========
``;; communications error to S#53: timed out``                              timeout
``;; Connection to S#53(S) for Q failed: timed out.``  (+tcp)                timeout
``;; communications error to S#53: connection refused``                     refused
``;; Connection to S#53(S) for Q failed: connection refused.``  (+tcp)       refused
``;; UDP setup with S#53(S) for Q failed: host unreachable.`` / network ..   unreachable
``;; connection timed out; no servers could be reached`` (dig 9.11)          timeout
==========================================================================  ===========

Empty text gives no row; text that is neither raises ParseError.
"""

from __future__ import annotations

import re

import pandas as pd

from ..errors import ParseError
from .jc_wrappers import parse_dig
from .jsondoc import document

COLUMNS = ["server", "transport", "qname", "outcome", "rcode", "answers", "truncated", "elapsed_ms", "detail"]
OUTCOMES = ("answered", "timeout", "refused", "unreachable", "error")

_FAILURE = re.compile(
    r"^;; (?:communications error to (?P<server1>[0-9A-Fa-f.:]+)#\d+: (?P<why1>[a-z ]+?)\.?$"
    r"|(?P<setup>UDP setup|Connection) (?:with|to) (?P<server2>[0-9A-Fa-f.:]+)#\d+\([^)]*\) for (?P<qname>\S+) "
    r"failed: (?P<why2>[a-z ]+?)\.?$"
    r"|connection timed out; no servers could be reached$)", re.M)
_WHY = {"timed out": "timeout", "connection refused": "refused", "host unreachable": "unreachable",
        "network unreachable": "unreachable", "connection reset": "refused"}
_SERVER = re.compile(r"^(?P<server>[0-9A-Fa-f.:]+)#\d+\([^)]*\)(?: \((?P<transport>UDP|TCP)\))?")


def parse_probe(text: str) -> list[dict]:
    """The probe's JSON object as one row."""
    data = document("dns-probe", text, dict, "not a JSON object")
    if data is None:
        return []
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise ParseError("dns-probe", f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    server, qname = data.get("server"), data.get("qname")
    if not isinstance(server, str) or not isinstance(qname, str):
        raise ParseError("dns-probe", "server and qname must be strings")
    answers = data.get("answers") or []
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise ParseError("dns-probe", "answers must be a list of strings")
    rcode = data.get("rcode")
    if outcome == "answered" and not isinstance(rcode, str):
        raise ParseError("dns-probe", "an answered query needs an rcode")
    elapsed = data.get("elapsed_ms")
    transport = data.get("transport")
    detail = data.get("detail")
    return [{"server": server, "transport": transport if transport in ("udp", "tcp") else None, "qname": qname,
             "outcome": outcome, "rcode": rcode if outcome == "answered" else None, "answers": list(answers),
             "truncated": bool(data.get("truncated")),
             "elapsed_ms": float(elapsed) if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool)
             else None, "detail": str(detail) if detail is not None else None}]


def parse_dig_query(text: str) -> list[dict]:
    """One row for one ``dig`` query: its answer, or why none came."""
    if not text.strip():
        return []
    if ";; Got answer:" in text or "->>HEADER<<-" in text:
        row = parse_dig(text)[0]
        match = _SERVER.match(str(row.get("server") or ""))
        answers = [a["data"] for a in row["answers"] if a.get("type") in ("A", "AAAA", "CNAME")]
        return [{"server": match["server"] if match else row.get("server"),
                 "transport": match["transport"].lower() if match and match["transport"] else None,
                 "qname": row["name"], "outcome": "answered", "rcode": row["status"], "answers": answers,
                 "truncated": "tc" in (row.get("flags") or []),
                 "elapsed_ms": float(row["query_time_ms"]) if row.get("query_time_ms") is not None else None,
                 "detail": None}]
    match = _FAILURE.search(text)
    if match is None:
        raise ParseError("dig-query", "neither an answer nor a dig failure line (is this dig output?)")
    why = match["why1"] or match["why2"] or "timed out"
    outcome = _WHY.get(why.strip(), "error")
    transport = "tcp" if match["setup"] == "Connection" else "udp" if match["setup"] or match["why1"] else None
    return [{"server": match["server1"] or match["server2"], "transport": transport, "qname": match["qname"],
             "outcome": outcome, "rcode": None, "answers": [], "truncated": False, "elapsed_ms": None,
             "detail": match.group(0).lstrip("; ").strip()}]


def frame_probe(text: str) -> pd.DataFrame:
    """``parse_probe`` as a DataFrame with :data:`COLUMNS`."""
    return pd.DataFrame(parse_probe(text), columns=COLUMNS)


def frame_dig_query(text: str) -> pd.DataFrame:
    """``parse_dig_query`` as a DataFrame with :data:`COLUMNS`."""
    return pd.DataFrame(parse_dig_query(text), columns=COLUMNS)
