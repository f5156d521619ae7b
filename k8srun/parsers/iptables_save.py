"""``iptables-save`` output → chain and rule rows, plus a kube-proxy view.

Reads what ``iptables-save`` prints with either backend (``iptables-nft-save``
"(nf_tables)" and ``iptables-legacy-save``), with or without ``-c``
counters (``[pkts:bytes] -A ...``; the ``-c PKTS BYTES`` form that
``iptables -S -v`` prints inside a rule is read too).

Usage::

    from k8srun.parsers import iptables_save
    rows = iptables_save.parse(text)             # list[dict]
    df = iptables_save.frame(text)               # DataFrame, columns = COLUMNS
    services = iptables_save.kube_proxy_services(text)   # or (rows)

Speed: ``kube_proxy_services(text)`` reads only the ``-A KUBE-…`` lines with
plain string operations (about 600k lines/s: a 10,000-service × 10-endpoint
dump of 430k lines in ~0.7 s, see ``benchmarks/iptables_save.py``);
``parse`` builds every match of every rule (about 70k lines/s), so give
``kube_proxy_services`` the text rather than the rows for big dumps. Both
inputs give the same table; it skips rules it does not recognise and raises
ParseError only for a ``--probability`` that is not a number.

Schema of ``parse`` — one row per chain, then its rules in order::

    [
      {
        "kind":           "chain" | "rule",
        "table":          str,            # filter, nat, mangle, raw, security
        "chain":          str,
        "policy":         str | None,     # chain rows of built-in chains: ACCEPT/DROP
        "position":       int | None,     # rule rows: 1-based index in its chain
        "packets":        int | None,     # counters, when the dump has them
        "bytes":          int | None,
        "protocol":       str | None,     # -p; negated values start with "!"
        "source":         str | None,     # -s
        "destination":    str | None,     # -d
        "in_interface":   str | None,     # -i
        "out_interface":  str | None,     # -o
        "comment":        str | None,     # -m comment --comment, unquoted
        "matches":        [               # every match option, in order
          {"module": str,                 # "" for -p/-s/-d/-i/-o/-f, else the -m name
           "option": str,                 # without dashes: "dport", "probability", "s"
           "value": str,                  # "" for flags without a value
           "negated": bool}
        ],
        "target":         str | None,     # -j / -g target
        "goto":           bool,           # True for -g
        "target_options": {str: str},     # {"to-destination": "10.244.1.5:53"}
        "rule":           str | None      # the rule text after "-A CHAIN", counters removed
      }
    ]

Example::

    -A KUBE-SVC-X -m comment --comment "ns/a:http -> 10.244.1.5:80" -m statistic
       --mode random --probability 0.50000000000 -j KUBE-SEP-Y
    → {"kind": "rule", "table": "nat", "chain": "KUBE-SVC-X", "position": 1,
       "comment": "ns/a:http -> 10.244.1.5:80", "target": "KUBE-SEP-Y",
       "matches": [{"module": "comment", "option": "comment", ...},
                   {"module": "statistic", "option": "mode", "value": "random", ...},
                   {"module": "statistic", "option": "probability",
                    "value": "0.50000000000", "negated": False}], ...}

Schema of ``kube_proxy_services`` (columns ``SERVICE_COLUMNS``) — one row per
(service port, backend), following kube-proxy's iptables mode (v1.28+):
``KUBE-SERVICES`` (nat, "ns/name:port cluster IP") → ``KUBE-SVC-*`` (or
``KUBE-SVL-*`` for a Local traffic policy) → ``KUBE-SEP-*`` (statistic random
probabilities) → ``DNAT --to-destination``; ``KUBE-NODEPORTS`` →
``KUBE-EXT-*``/``KUBE-SVC-*`` gives the node port; the ``REJECT`` rules that
kube-proxy writes into the filter table's ``KUBE-SERVICES`` /
``KUBE-EXTERNAL-SERVICES`` for a service with no endpoints give rows with
status ``no-endpoints``::

    service       "ns/name:port" (the port name is absent for unnamed ports)
    cluster_ip    str   (IPv4 or, from ``ip6tables-save``, IPv6; no prefix length)
    port          int
    protocol      "tcp" | "udp" | "sctp"
    node_port     Int64 (NA when not a NodePort)
    svc_chain     KUBE-SVC-… / KUBE-SVL-… that KUBE-SERVICES jumps to (None if no-endpoints)
    masquerade    bool  (the service chain sends off-cluster sources to KUBE-MARK-MASQ)
    sep_chain     KUBE-SEP-… (None when there is no backend)
    probability   float (as written; the last endpoint has no statistic match → 1.0;
                  session-affinity rules, ``-m recent --rcheck``, are not endpoints)
    share         float (the resulting fraction of new connections)
    backend_ip    str | None (from DNAT --to-destination, IPv6 without brackets)
    backend_port  Int64
    local         bool  (the endpoint is in the KUBE-SVL chain: on this node)
    status        "ok" | "no-endpoints" | "no-backends" (chain without KUBE-SEP jumps)
                  | "no-dnat" (KUBE-SEP chain without a DNAT rule)
"""

from __future__ import annotations

import re

import pandas as pd

from ..errors import ParseError

NAME = "iptables-save"

COLUMNS = ["kind", "table", "chain", "policy", "position", "packets", "bytes",
           "protocol", "source", "destination", "in_interface", "out_interface",
           "comment", "matches", "target", "goto", "target_options", "rule"]

SERVICE_COLUMNS = ["service", "cluster_ip", "port", "protocol", "node_port", "svc_chain",
                   "masquerade", "sep_chain", "probability", "share", "backend_ip",
                   "backend_port", "local", "status"]

_SHORT_OPTIONS = {"-p": "protocol", "-s": "source", "-d": "destination",
                  "-i": "in_interface", "-o": "out_interface", "-f": "fragment",
                  "--protocol": "protocol", "--source": "source",
                  "--destination": "destination", "--in-interface": "in_interface",
                  "--out-interface": "out_interface"}
_FLAT = ("protocol", "source", "destination", "in_interface", "out_interface")
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"(?=\s|$)|([^\s"]+)(?=\s|$)|(\S)')
_UNESCAPE = re.compile(r"\\(.)")
_COUNTERS = re.compile(r"\[(\d+):(\d+)\]")
_COMMENT_VALUE = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _tokens(text: str, lineno: int) -> tuple[list[str], set[int]]:
    """Split a rule like iptables-save quotes it; also return the quoted positions."""
    if '"' not in text:
        return text.split(), set()
    tokens: list[str] = []
    quoted: set[int] = set()
    for m in _TOKEN.finditer(text):
        if m.group(3) is not None:
            raise ParseError(NAME, f"unbalanced quote near {text[m.start():m.start() + 20]!r}", lineno)
        if m.group(1) is not None:
            quoted.add(len(tokens))
            tokens.append(_UNESCAPE.sub(r"\1", m.group(1)))
        else:
            tokens.append(m.group(2))
    return tokens, quoted


def _is_count(word: str) -> bool:
    """Whether ``word`` is a plain ASCII number (``str.isdigit`` also accepts "²", which int() refuses)."""
    return word.isascii() and word.isdigit()


def _is_option(token: str, index: int, quoted: set[int]) -> bool:
    return token.startswith("-") and len(token) > 1 and index not in quoted


def _rule(table: str, chain: str, position: int, body: str, counters: tuple[int, int] | None,
          lineno: int) -> dict:
    """One ``-A`` line (without ``-A CHAIN``) as a rule row."""
    tokens, quoted = _tokens(body, lineno)
    row = {"kind": "rule", "table": table, "chain": chain, "policy": None, "position": position,
           "packets": counters[0] if counters else None,
           "bytes": counters[1] if counters else None,
           "protocol": None, "source": None, "destination": None, "in_interface": None,
           "out_interface": None, "comment": None, "matches": [], "target": None,
           "goto": False, "target_options": {}, "rule": body}
    matches = row["matches"]
    module = ""
    negated = False
    n = len(tokens)
    i = 0
    while i < n:
        token = tokens[i]
        if token == "!" and i not in quoted:
            negated = True
            i += 1
            continue
        if not _is_option(token, i, quoted):
            raise ParseError(NAME, f"expected an option, got {token!r}", lineno)
        if token in ("-m", "--match"):
            if i + 1 >= n:
                raise ParseError(NAME, "-m without a module name", lineno)
            module = tokens[i + 1]
            i += 2
            continue
        if token == "-c":
            if i + 2 >= n or not (_is_count(tokens[i + 1]) and _is_count(tokens[i + 2])):
                raise ParseError(NAME, "-c needs two counters", lineno)
            row["packets"], row["bytes"] = int(tokens[i + 1]), int(tokens[i + 2])
            i += 3
            continue
        if token in ("-j", "-g", "--jump", "--goto"):
            if i + 1 >= n:
                raise ParseError(NAME, f"{token} without a target", lineno)
            row["target"] = tokens[i + 1]
            row["goto"] = token in ("-g", "--goto")
            i = _target_options(tokens, quoted, i + 2, row, lineno)
            continue
        j = i + 1
        while j < n:
            following = tokens[j]
            if (following == "!" or following[:1] == "-" and len(following) > 1) and j not in quoted:
                break
            j += 1
        value = " ".join(tokens[i + 1:j])
        short = _SHORT_OPTIONS.get(token)
        if short is not None:
            matches.append({"module": "", "option": token.lstrip("-"), "value": value,
                            "negated": negated})
            if short in _FLAT:
                row[short] = "!" + value if negated else value
        else:
            option = token.lstrip("-")
            matches.append({"module": module, "option": option, "value": value, "negated": negated})
            if option == "comment":
                row["comment"] = value
        negated = False
        i = j
    if negated:
        raise ParseError(NAME, "'!' at the end of a rule", lineno)
    return row


def _target_options(tokens: list[str], quoted: set[int], i: int, row: dict, lineno: int) -> int:
    """Read target options from ``i``; return where the next non-target option starts."""
    options = row["target_options"]
    n = len(tokens)
    while i < n:
        token = tokens[i]
        if token == "-c" and i not in quoted:
            return i
        if not _is_option(token, i, quoted):
            raise ParseError(NAME, f"expected a target option, got {token!r}", lineno)
        j = i + 1
        while j < n and not _is_option(tokens[j], j, quoted):
            j += 1
        options[token.lstrip("-")] = " ".join(tokens[i + 1:j])
        i = j
    return i


def parse(text: str) -> list[dict]:
    """Rows for every chain and rule of an ``iptables-save`` dump."""
    rows: list[dict] = []
    table: str | None = None
    positions: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        counters = None
        if line[0] == "[":
            m = _COUNTERS.match(line)
            if m is None:
                raise ParseError(NAME, "malformed [packets:bytes] counters", lineno)
            counters = (int(m.group(1)), int(m.group(2)))
            line = line[m.end():].lstrip()
        if line.startswith("-A ") or line.startswith("-I "):
            if table is None:
                raise ParseError(NAME, "rule before any *table line", lineno)
            chain, _, body = line[3:].strip().partition(" ")
            if not chain:
                raise ParseError(NAME, "-A without a chain name", lineno)
            position = positions.get(chain, 0) + 1
            positions[chain] = position
            rows.append(_rule(table, chain, position, body.strip(), counters, lineno))
        elif counters is not None:
            raise ParseError(NAME, "counters not followed by a rule", lineno)
        elif line[0] == "*":
            table = line[1:].strip()
            if not table or " " in table:
                raise ParseError(NAME, f"bad table line {line!r}", lineno)
            positions = {}
        elif line[0] == ":":
            if table is None:
                raise ParseError(NAME, "chain before any *table line", lineno)
            parts = line[1:].split()
            if len(parts) < 2 or len(parts) > 3:
                raise ParseError(NAME, f"bad chain line {line!r}", lineno)
            packets = bytes_ = None
            if len(parts) == 3:
                m = _COUNTERS.fullmatch(parts[2])
                if m is None:
                    raise ParseError(NAME, f"bad chain counters {parts[2]!r}", lineno)
                packets, bytes_ = int(m.group(1)), int(m.group(2))
            rows.append({"kind": "chain", "table": table, "chain": parts[0],
                         "policy": None if parts[1] == "-" else parts[1], "position": None,
                         "packets": packets, "bytes": bytes_, "protocol": None, "source": None,
                         "destination": None, "in_interface": None, "out_interface": None,
                         "comment": None, "matches": [], "target": None, "goto": False,
                         "target_options": {}, "rule": None})
        elif line == "COMMIT":
            table = None
        else:
            raise ParseError(NAME, f"not an iptables-save line: {line[:60]!r}", lineno)
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS)


# --- kube-proxy view ------------------------------------------------------

def _kube_lines_from_text(text: str):
    """(table, chain, body) of every ``-A KUBE-…`` rule, with cheap string operations."""
    table = ""
    for line in text.splitlines():
        if not line:
            continue
        first = line[0]
        if first == "[":
            end = line.find("] ")
            if end < 0:
                continue
            line = line[end + 2:]
            first = line[:1]
        if first == "-":
            if line.startswith("-A KUBE-"):
                space = line.find(" ", 3)
                if space > 0:
                    yield table, line[3:space], line[space + 1:]
        elif first == "*":
            table = line[1:].strip()


def _kube_lines_from_rows(rows: list[dict]):
    for row in rows:
        if row["kind"] == "rule" and row["chain"].startswith("KUBE-"):
            yield row["table"], row["chain"], row["rule"] or ""


def _split_comment(body: str) -> tuple[str | None, str]:
    """The ``--comment`` value and the rule text without it."""
    start = body.find("--comment ")
    if start < 0:
        return None, body
    m = _COMMENT_VALUE.match(body, start + 10)
    if m is None:
        return None, body
    comment = m.group(2) if m.group(1) is None else _UNESCAPE.sub(r"\1", m.group(1))
    return comment, body[:start] + body[m.end():]


def _value(body: str, flag: str) -> str | None:
    """The word after ``flag`` (e.g. ``" -j "``) in ``body``, or None."""
    at = body.find(flag)
    if at < 0:
        return None
    start = at + len(flag)
    end = body.find(" ", start)
    return body[start:] if end < 0 else body[start:end]


def _service_name(comment: str | None, suffix: str) -> str | None:
    """``"ns/a:http cluster IP"`` → ``"ns/a:http"`` for ``suffix=" cluster IP"``."""
    if comment is None or not comment.endswith(suffix):
        return None
    name = comment[:-len(suffix)]
    return name[:-1] if name.endswith(":") else name  # older kube-proxy: "ns/a:http: has no endpoints"


def _port(value: str | None) -> int | None:
    return int(value) if value is not None and _is_count(value) else None


def _host_address(value: str | None) -> str:
    """``10.96.0.10/32`` → ``10.96.0.10``, ``fd00::a/128`` → ``fd00::a`` (ip6tables-save)."""
    return (value or "").removesuffix("/32").removesuffix("/128")


def _probability(value: str | None) -> float:
    """``--probability`` as a float; 1.0 when absent (the last endpoint of a service)."""
    if value is None:
        return 1.0
    try:
        return float(value)
    except ValueError:
        raise ParseError(NAME, f"--probability {value!r} is not a number") from None


def kube_proxy_services(rules_or_text: "str | list[dict]") -> pd.DataFrame:
    """Service → KUBE-SVC → KUBE-SEP → DNAT backend table (``SERVICE_COLUMNS``)."""
    if isinstance(rules_or_text, str):
        lines = _kube_lines_from_text(rules_or_text)
    else:
        lines = _kube_lines_from_rows(rules_or_text)
    cluster: list[tuple[str, str, int | None, str, str]] = []   # service, ip, port, proto, chain
    no_endpoints: list[tuple[str, str, int | None, str]] = []
    external_no_endpoints: dict[str, int | None] = {}
    node_ports: dict[str, int | None] = {}                      # chain hash -> node port
    endpoints: dict[str, list[tuple[str, float]]] = {}           # KUBE-SVC/SVL -> [(sep, p)]
    masquerade: set[str] = set()
    dnat: dict[str, str] = {}                                   # KUBE-SEP -> ip:port
    for table, chain, body in lines:
        kind = chain[5:9]
        if kind == "SEP-":
            if "DNAT" in body:
                destination = _value(body, "--to-destination ")
                if destination is not None:
                    dnat[chain] = destination
            continue
        target = _value(body, " -j ") if not body.startswith("-j ") else _value(body, "-j ")
        if kind in ("SVC-", "SVL-"):
            if target is None:
                continue
            if target.startswith("KUBE-SEP-"):
                if " --rcheck" in body:  # session affinity: returning clients, not a share of new ones
                    continue
                endpoints.setdefault(chain, []).append((target, _probability(_value(body, "--probability "))))
            elif target == "KUBE-MARK-MASQ":
                masquerade.add(chain[9:])
            continue
        comment, rest = _split_comment(body)
        if chain == "KUBE-SERVICES":
            if table == "nat" and target is not None and target[5:9] in ("SVC-", "SVL-"):
                name = _service_name(comment, " cluster IP")
                if name is not None:
                    cluster.append((name, _host_address(_value(rest, "-d ")),
                                    _port(_value(rest, "--dport ")), _value(rest, "-p ") or "",
                                    target))
            elif target == "REJECT":
                name = _service_name(comment, " has no endpoints")
                if name is not None:
                    no_endpoints.append((name, _host_address(_value(rest, "-d ")),
                                         _port(_value(rest, "--dport ")), _value(rest, "-p ") or ""))
        elif chain == "KUBE-NODEPORTS":
            if target is not None and target[5:9] in ("EXT-", "SVC-", "SVL-"):
                node_ports[target[9:]] = _port(_value(rest, "--dport "))
        elif chain == "KUBE-EXTERNAL-SERVICES" and target == "REJECT" and _value(rest, "-d ") is None:
            # the node port rule; those with -d are for external / load-balancer IPs
            name = _service_name(comment, " has no endpoints")
            if name is not None:
                external_no_endpoints[name] = _port(_value(rest, "--dport "))
    columns: dict[str, list] = {c: [] for c in SERVICE_COLUMNS}

    def add(service, ip, port, proto, node_port, svc_chain, masq, sep, probability, share,
            backend_ip, backend_port, local, status):
        for column, value in zip(SERVICE_COLUMNS, (service, ip, port, proto, node_port, svc_chain,
                                                   masq, sep, probability, share, backend_ip,
                                                   backend_port, local, status)):
            columns[column].append(value)

    for service, ip, port, proto, svc_chain in cluster:
        digest = svc_chain[9:]
        node_port = node_ports.get(digest)
        masq = digest in masquerade
        seps = endpoints.get(svc_chain, [])
        local_seps = {sep for sep, _ in endpoints.get("KUBE-SVL-" + digest, ())}
        if not seps:
            add(service, ip, port, proto, node_port, svc_chain, masq, None, None, None,
                None, None, False, "no-backends")
            continue
        remaining = 1.0
        for sep, probability in seps:
            share = remaining * probability
            remaining -= share
            destination = dnat.get(sep)
            if destination is None:
                backend_ip = backend_port = None
            else:
                backend_ip, _, backend_port = destination.rpartition(":")
                backend_ip, backend_port = backend_ip.strip("[]"), _port(backend_port)
            add(service, ip, port, proto, node_port, svc_chain, masq, sep, probability, share,
                backend_ip, backend_port, sep in local_seps,
                "ok" if destination is not None else "no-dnat")
    for service, ip, port, proto in no_endpoints:
        add(service, ip, port, proto, external_no_endpoints.get(service), None, False, None,
            None, None, None, None, False, "no-endpoints")
    services = pd.DataFrame(columns)
    for column in ("port", "node_port", "backend_port"):
        services[column] = services[column].astype("Int64")
    services["probability"] = services["probability"].astype("float64")
    services["share"] = services["share"].astype("float64")
    services["masquerade"] = services["masquerade"].astype(bool)
    services["local"] = services["local"].astype(bool)
    return services
