"""One DNS query to one server, from where this process runs: ``python -m k8srun.probes.dns``.

Usage::

    python -m k8srun.probes.dns --server 10.96.0.10 --transport udp --timeout 1 \\
        --qname kubernetes.default.svc.cluster.local. [--type A] [--port 53]

Prints one JSON object (:data:`FIELDS`) and exits 0 whenever the query was
tried; exit 2 for bad arguments. The query is built and read with dnspython,
but sent on our own socket so the kernel's answer is kept:

- UDP on a *connected* socket with ``IP_RECVERR``: an ICMP port unreachable
  (nothing listens, or a REJECT rule like kube-proxy's for a Service without
  endpoints) comes back as ECONNREFUSED on ``recv`` — ``refused`` — and an
  ICMP net/host unreachable as ENETUNREACH/EHOSTUNREACH, instead of the
  silence an unconnected socket (``dns.query.udp``) turns them into (Linux
  passes non-fatal ICMP errors to a UDP socket only with IP_RECVERR);
- TCP: RST -> ``refused``, no SYN-ACK before the timeout -> ``timeout``;
- ``EHOSTUNREACH`` / ``ENETUNREACH`` (ICMP host unreachable, no route) ->
  ``unreachable``; any other socket error -> ``error``;
- a reply that parses -> ``answered``, with its rcode (NOERROR, NXDOMAIN,
  SERVFAIL, REFUSED ...), the A/AAAA/CNAME data of its answer section and
  the TC flag (a truncated UDP answer is still an answer: the runbook asks
  TCP separately).

Output::

    {"server": "10.96.0.10", "port": 53, "transport": "udp", "qname": "kubernetes.default.svc.cluster.local.",
     "qtype": "A", "outcome": "answered" | "timeout" | "refused" | "unreachable" | "error",
     "rcode": "NOERROR" | ... | null, "answers": ["10.96.0.1"], "truncated": false,
     "elapsed_ms": 1.2, "detail": "one line" | null}
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import socket
import struct
import sys
import time

from . import MAX_TIMEOUT_S, timeout_arg  # noqa: F401  (MAX_TIMEOUT_S is also this module's bound)

FIELDS = ("server", "port", "transport", "qname", "qtype", "outcome", "rcode", "answers", "truncated",
          "elapsed_ms", "detail")
OUTCOMES = ("answered", "timeout", "refused", "unreachable", "error")
_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
#: Linux <linux/in.h> IP_RECVERR and <linux/in6.h> IPV6_RECVERR (the socket module does not name them)
IP_RECVERR, IPV6_RECVERR = 11, 25


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError(errno.ECONNRESET, "connection closed before the whole answer arrived")
        data += chunk
    return data


def _exchange(wire: bytes, server: str, port: int, transport: str, timeout_s: float) -> bytes:
    family = socket.AF_INET6 if ipaddress.ip_address(server).version == 6 else socket.AF_INET
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    with socket.socket(family, kind) as sock:
        sock.settimeout(timeout_s)
        if transport == "udp" and sys.platform.startswith("linux"):
            # without it Linux reports only "fatal" ICMP errors (port unreachable) to a UDP socket and
            # drops net/host unreachable, which would then read as a timeout
            v6 = family == socket.AF_INET6
            sock.setsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP, IPV6_RECVERR if v6 else IP_RECVERR, 1)
        sock.connect((server, port))
        if transport == "udp":
            sock.send(wire)
            return sock.recv(65535)
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        (length,) = struct.unpack("!H", _recv_exact(sock, 2))
        return _recv_exact(sock, length)


def query(server: str, qname: str, *, transport: str = "udp", qtype: str = "A", port: int = 53,
          timeout_s: float = 1.0) -> dict:
    """Ask ``server`` for ``qname`` once; the outcome as a dict of :data:`FIELDS` (never raises for the network)."""
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rdatatype

    out = {"server": server, "port": port, "transport": transport, "qname": qname, "qtype": qtype,
           "outcome": "error", "rcode": None, "answers": [], "truncated": False, "elapsed_ms": 0.0, "detail": None}
    request = dns.message.make_query(qname, qtype)
    started = time.monotonic()
    try:
        reply = _exchange(request.to_wire(), server, port, transport, timeout_s)
    except socket.timeout:
        out.update(outcome="timeout", detail=f"no reply within {timeout_s:g} s")
    except ConnectionRefusedError:
        out.update(outcome="refused", detail="connection refused" + (" (ICMP port unreachable)"
                                                                      if transport == "udp" else " (TCP RST)"))
    except OSError as exc:
        kind = "unreachable" if exc.errno in _UNREACHABLE else "error"
        out.update(outcome=kind, detail=exc.strerror or str(exc))
    else:
        try:
            message = dns.message.from_wire(reply, ignore_trailing=True)
        except Exception as exc:  # noqa: BLE001 - whatever dnspython refuses is "not a DNS answer"
            out.update(outcome="error", detail=f"reply is not a DNS message: {type(exc).__name__}")
        else:
            if message.id != request.id:
                out.update(outcome="error", detail="reply id does not match the query")
            else:
                answers = [rd.to_text() for rrset in message.answer for rd in rrset
                           if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.CNAME)]
                out.update(outcome="answered", rcode=dns.rcode.to_text(message.rcode()), answers=answers,
                           truncated=bool(message.flags & dns.flags.TC))
    out["elapsed_ms"] = round((time.monotonic() - started) * 1000, 3)
    return out


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {text!r}") from None


def _qname(text: str) -> str:
    import dns.name

    try:
        dns.name.from_text(text)
    except Exception:  # noqa: BLE001 - dnspython's several name errors
        raise argparse.ArgumentTypeError(f"not a DNS name: {text!r}") from None
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k8srun.probes.dns", description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, type=_address)
    parser.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    parser.add_argument("--timeout", type=timeout_arg, default=1.0)
    parser.add_argument("--qname", required=True, type=_qname)
    parser.add_argument("--type", dest="qtype", choices=("A", "AAAA"), default="A")
    parser.add_argument("--port", type=int, default=53, choices=range(1, 65536), metavar="PORT")
    args = parser.parse_args(argv)
    result = query(args.server, args.qname, transport=args.transport, qtype=args.qtype, port=args.port,
                   timeout_s=args.timeout)
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
