"""One connection to ``dest:port`` from where this process runs, classified: ``python -m k8srun.probes.connect``.

Usage::

    python -m k8srun.probes.connect --dest 10.96.0.50 --port 80 --protocol tcp --timeout 1 \\
        [--url http://web.default/admin]

Prints one JSON object (:data:`FIELDS`) and exits 0 whenever the connection
was tried; exit 2 for bad arguments. ``--dest`` may be a name: it is
resolved here (the target's resolver), and ``address`` says what it became.

**Layer 4, TCP.** A non-blocking ``connect`` on a socket with ``IP_RECVERR``
(``IPV6_RECVERR``) set, bounded by ``--timeout``. Linux ends a SYN_SENT
socket on an ICMP destination-unreachable as it does on a RST, with the
same errno for port-unreachable and RST (ECONNREFUSED); with ``IP_RECVERR``
the ICMP message itself is also queued on the socket's error queue, read
with ``recvmsg(MSG_ERRQUEUE)`` (``struct sock_extended_err``: origin, ICMP
type and code, and the address of the host that sent it). So:

===================================  =================  ===========================================
what came back                       ``outcome``        ``icmp`` (type 3 codes)
===================================  =================  ===========================================
SYN-ACK                              ``open``           —
RST, no ICMP queued                  ``refused``        —   (nothing listens, or REJECT tcp-reset)
ICMP port unreachable                ``refused``        ``port-unreachable`` (3)
ICMP host unreachable                ``unreachable``    ``host-unreachable`` (1) — "No route to host"
ICMP net unreachable                 ``unreachable``    ``net-unreachable`` (0)
ICMP administratively prohibited     ``unreachable``    ``admin-prohibited`` (13), ``host-prohibited``
                                                        (10), ``net-prohibited`` (9)
EHOSTUNREACH/ENETUNREACH, no ICMP    ``no-route``       —   (this host has no route, or the neighbour
                                                        did not answer ARP/ND)
nothing before the timeout           ``timeout``        —   (dropped on the way, silently)
any other socket error               ``error``          —
===================================  =================  ===========================================

**Layer 4, UDP** (``--protocol udp``): a connected socket with
``IP_RECVERR`` sends one datagram (``--payload``, default empty) and waits
for a reply: a reply -> ``open``; ICMP port unreachable -> ``refused``;
other ICMP -> ``unreachable``; silence -> ``no-reply``, which is *open or
filtered* — UDP cannot tell a listener that does not answer this payload
from a DROP, and the probe does not pretend to.

**Layer 7** (``--url``, TCP only, ``http://`` only): after an ``open``, one
``GET`` of the URL's path with its host as ``Host:`` (the connection still
goes to ``dest:port``, as ``curl --resolve`` would), ``Connection: close``.
``l7`` is then ``http`` (``http_status`` and the first response bytes read:
``http_server``, ``http_body`` up to 200 characters), ``reset`` (ECONNRESET
/ EPIPE after the request was sent: a RST came back — a filter that reads
the request and answers with tcp-reset, or the server crashed on it),
``timeout`` (no response bytes before the timeout), ``closed`` (the peer
closed without a response) or ``error``. ``request`` is the exact request
sent (the runbook matches iptables ``string`` rules against it).

Output::

    {"dest": "web.default", "address": "10.96.0.50", "port": 80, "protocol": "tcp",
     "outcome": "open" | "refused" | "unreachable" | "no-route" | "timeout" | "no-reply" | "error",
     "errno": "ECONNREFUSED" | null, "detail": "one line" | null,
     "icmp": "port-unreachable" | ... | null, "icmp_type": 3 | null, "icmp_code": 3 | null,
     "icmp_from": "192.168.10.2" | null, "connect_ms": 0.4,
     "url": "http://web/admin" | null, "request": "GET /admin HTTP/1.1\\r\\n..." | null,
     "l7": "http" | "reset" | "timeout" | "closed" | "error" | null, "l7_errno": null,
     "http_status": 200 | null, "http_reason": "OK" | null, "http_server": "..." | null,
     "http_body": "..." | null, "l7_detail": null, "elapsed_ms": 1.2}
"""

from __future__ import annotations

import argparse
import errno as errnos
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time
from urllib.parse import urlsplit

from . import timeout_arg

FIELDS = ("dest", "address", "port", "protocol", "outcome", "errno", "detail", "icmp", "icmp_type", "icmp_code",
          "icmp_from", "connect_ms", "url", "request", "l7", "l7_errno", "http_status", "http_reason",
          "http_server", "http_body", "l7_detail", "elapsed_ms")
OUTCOMES = ("open", "refused", "unreachable", "no-route", "timeout", "no-reply", "error")
L7_OUTCOMES = ("http", "reset", "timeout", "closed", "error")
MAX_RESPONSE = 4096
#: Linux <linux/in.h> IP_RECVERR, <linux/in6.h> IPV6_RECVERR, <linux/errqueue.h> origins
IP_RECVERR, IPV6_RECVERR = 11, 25
SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6 = 2, 3
#: ICMP destination unreachable (type 3) codes by name; ICMPv6 (type 1) codes below
ICMP_UNREACH = {0: "net-unreachable", 1: "host-unreachable", 2: "protocol-unreachable", 3: "port-unreachable",
                4: "frag-needed", 6: "net-unknown", 7: "host-unknown", 9: "net-prohibited", 10: "host-prohibited",
                13: "admin-prohibited"}
ICMP6_UNREACH = {0: "no-route", 1: "admin-prohibited", 3: "address-unreachable", 4: "port-unreachable",
                 5: "policy-failed", 6: "reject-route"}
_EXTENDED_ERR = struct.Struct("=IBBBBII")


def _errno_name(number: int | None) -> str | None:
    return errnos.errorcode.get(number) if number else None


def _icmp_from_queue(sock: socket.socket) -> dict:
    """The ICMP error the kernel queued on ``sock`` (IP_RECVERR), or {} when none is queued."""
    try:
        _data, ancillary, _flags, _addr = sock.recvmsg(512, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError, OSError):
        return {}
    for level, kind, data in ancillary:
        if (level, kind) not in ((socket.IPPROTO_IP, IP_RECVERR), (socket.IPPROTO_IPV6, IPV6_RECVERR)) \
                or len(data) < _EXTENDED_ERR.size:
            continue
        ee_errno, origin, icmp_type, code, _pad, _info, _data = _EXTENDED_ERR.unpack_from(data)
        if origin not in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
            continue
        offender = data[_EXTENDED_ERR.size:]
        sender = None
        if len(offender) >= 8 and struct.unpack_from("=H", offender)[0] == socket.AF_INET:
            sender = socket.inet_ntop(socket.AF_INET, offender[4:8])
        elif len(offender) >= 24 and struct.unpack_from("=H", offender)[0] == socket.AF_INET6:
            sender = socket.inet_ntop(socket.AF_INET6, offender[8:24])
        v6 = origin == SO_EE_ORIGIN_ICMP6
        names = ICMP6_UNREACH if v6 else ICMP_UNREACH
        unreachable = icmp_type == (1 if v6 else 3)
        name = names.get(code, f"code-{code}") if unreachable else f"type-{icmp_type}-code-{code}"
        return {"icmp": name, "icmp_type": icmp_type, "icmp_code": code, "icmp_from": sender,
                "icmp_errno": _errno_name(ee_errno)}
    return {}


def _classify_error(number: int, icmp: dict) -> str:
    """The outcome of a failed connect/send from its errno and the queued ICMP (module doc table)."""
    name = icmp.get("icmp")
    if name in ("port-unreachable",) or (number == errnos.ECONNREFUSED and not name):
        return "refused"
    if name:
        return "unreachable"
    if number in (errnos.EHOSTUNREACH, errnos.ENETUNREACH, errnos.EHOSTDOWN):
        return "no-route"
    return "error"


def _recverr(sock: socket.socket, family: int) -> None:
    if sys.platform.startswith("linux"):
        v6 = family == socket.AF_INET6
        sock.setsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP, IPV6_RECVERR if v6 else IP_RECVERR, 1)


def _tcp_connect(sock: socket.socket, address: tuple, timeout_s: float) -> int | None:
    """Non-blocking connect bounded by ``timeout_s``: 0 when connected, an errno, or None on timeout."""
    sock.setblocking(False)
    number = sock.connect_ex(address)
    if number == 0:
        return 0
    if number not in (errnos.EINPROGRESS, errnos.EAGAIN):
        return number
    _r, writable, _x = select.select([], [sock], [], timeout_s)
    if not writable:
        return None
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)


def http_request(url: str) -> tuple[str, bytes]:
    """(the request line's path, the whole GET request) for an ``http://`` URL."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: k8srun-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    return path, request.encode("ascii")


def _read_response(sock: socket.socket, timeout_s: float) -> tuple[bytes, int | None, bool]:
    """(bytes read, errno that ended it or None, timed out before any byte)."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while len(data) < MAX_RESPONSE:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, None, not data
        readable, _w, _x = select.select([sock], [], [], left)
        if not readable:
            return data, None, not data
        try:
            chunk = sock.recv(MAX_RESPONSE - len(data))
        except OSError as exc:
            return data, exc.errno, False
        if not chunk:
            return data, None, False
        data += chunk
        if b"\r\n\r\n" in data and len(data) >= 512:
            break
    return data, None, False


def _http(sock: socket.socket, request: bytes, timeout_s: float, out: dict) -> None:
    """Send ``request`` on the connected ``sock`` and classify what came back into ``out`` (l7 fields)."""
    sock.setblocking(True)
    sock.settimeout(timeout_s)
    try:
        sock.sendall(request)
    except OSError as exc:
        kind = "reset" if exc.errno in (errnos.ECONNRESET, errnos.EPIPE) else "error"
        out.update(l7=kind, l7_errno=_errno_name(exc.errno), l7_detail=f"sending the request: {exc.strerror or exc}")
        return
    sock.setblocking(False)
    data, number, silent = _read_response(sock, timeout_s)
    head = data.split(b"\r\n\r\n", 1)
    lines = head[0].decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2) if lines and lines[0].startswith("HTTP/") else []
    if len(status) >= 2 and status[1].isdigit():
        server = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("server:")), None)
        body = head[1].decode("utf-8", "replace")[:200] if len(head) > 1 else ""
        out.update(l7="http", http_status=int(status[1]), http_reason=status[2] if len(status) > 2 else "",
                   http_server=server, http_body=body,
                   l7_detail=f"{lines[0]}" + (f" (then {_errno_name(number)})" if number else ""))
        return
    if number in (errnos.ECONNRESET, errnos.EPIPE):
        out.update(l7="reset", l7_errno=_errno_name(number),
                   l7_detail="connection reset after the request was sent" + (f" ({len(data)} bytes first)" if data else ""))
    elif number is not None:
        out.update(l7="error", l7_errno=_errno_name(number), l7_detail=f"reading the response: {_errno_name(number)}")
    elif silent:
        out.update(l7="timeout", l7_detail=f"no response within {timeout_s:g} s after the request was sent")
    else:
        out.update(l7="closed", l7_detail="the peer closed the connection without an HTTP response"
                   + (f" ({len(data)} bytes that are not HTTP)" if data else ""))


def _resolve(dest: str, port: int, protocol: str) -> tuple[int, tuple] | str:
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    try:
        infos = socket.getaddrinfo(dest, port, type=kind)
    except socket.gaierror as exc:
        return f"{dest} does not resolve: {exc.strerror}"
    family, _kind, _proto, _name, address = infos[0]
    return family, address


def probe(dest: str, port: int, *, protocol: str = "tcp", timeout_s: float = 1.0, url: str | None = None,
          payload: bytes = b"") -> dict:
    """Connect to ``dest:port`` once; the outcome as a dict of :data:`FIELDS` (never raises for the network)."""
    out = dict.fromkeys(FIELDS)
    out.update(dest=dest, port=port, protocol=protocol, url=url, outcome="error")
    started = time.monotonic()
    resolved = _resolve(dest, port, protocol)
    if isinstance(resolved, str):
        out.update(detail=resolved, elapsed_ms=round((time.monotonic() - started) * 1000, 3))
        return out
    family, address = resolved
    out["address"] = address[0]
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family, kind) as sock:
        _recverr(sock, family)
        if protocol == "tcp":
            number = _tcp_connect(sock, address, timeout_s)
            out["connect_ms"] = round((time.monotonic() - started) * 1000, 3)
            if number is None:
                out.update(outcome="timeout", detail=f"no answer to the SYN within {timeout_s:g} s")
            elif number == 0:
                out.update(outcome="open", detail="connected (SYN-ACK)")
                if url:
                    _path, request = http_request(url)
                    out["request"] = request.decode("ascii")
                    _http(sock, request, timeout_s, out)
            else:
                icmp = _icmp_from_queue(sock)
                out.update({k: v for k, v in icmp.items() if k in FIELDS})
                out.update(outcome=_classify_error(number, icmp), errno=_errno_name(number),
                           detail=_detail(number, icmp))
        else:
            _udp(sock, address, payload, timeout_s, out)
            out["connect_ms"] = out["connect_ms"] or round((time.monotonic() - started) * 1000, 3)
    out["elapsed_ms"] = round((time.monotonic() - started) * 1000, 3)
    return out


def _detail(number: int, icmp: dict) -> str:
    text = errnos.errorcode.get(number, str(number))
    said = os.strerror(number)
    if icmp.get("icmp"):
        return f"{said} ({text}): ICMP {icmp['icmp']} from {icmp.get('icmp_from') or 'unknown'}"
    if number == errnos.ECONNREFUSED:
        return f"{said} ({text}): TCP RST"
    return f"{said} ({text}), no ICMP message: decided on this host"


def _udp(sock: socket.socket, address: tuple, payload: bytes, timeout_s: float, out: dict) -> None:
    sock.settimeout(timeout_s)
    try:
        sock.connect(address)
        sock.send(payload)
        sock.recv(2048)
    except socket.timeout:
        out.update(outcome="no-reply", detail=f"no reply within {timeout_s:g} s: open (no answer to this payload) "
                   "or filtered — UDP cannot tell them apart")
    except OSError as exc:
        icmp = _icmp_from_queue(sock)
        out.update({k: v for k, v in icmp.items() if k in FIELDS})
        out.update(outcome=_classify_error(exc.errno or 0, icmp), errno=_errno_name(exc.errno),
                   detail=_detail(exc.errno or 0, icmp))
    else:
        out.update(outcome="open", detail="a reply came back")


# ------------------------------------------------------------------ arguments

def valid_dest(text: str) -> str:
    """An IP address or a DNS name (letters, digits, '-', '_', '.'; at most 253 characters)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    bare = text[:-1] if text.endswith(".") else text
    labels = bare.split(".")
    if not bare or len(bare) > 253 or not all(0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
                                              and all(c.isascii() and (c.isalnum() or c in "-_") for c in label)
                                              for label in labels):
        raise argparse.ArgumentTypeError(f"not an IP address or a DNS name: {text!r}")
    return text


def valid_url(text: str) -> str:
    """An ``http://`` URL without spaces or control characters, at most 2000 characters."""
    parts = urlsplit(text) if len(text) <= 2000 else None
    if parts is None or parts.scheme != "http" or not parts.netloc \
            or any(ord(c) < 33 or ord(c) == 127 or not c.isascii() for c in text):
        raise argparse.ArgumentTypeError(f"not an http:// URL (no spaces, ASCII): {text!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k8srun.probes.connect", description=__doc__.splitlines()[0])
    parser.add_argument("--dest", required=True, type=valid_dest)
    parser.add_argument("--port", required=True, type=int, choices=range(1, 65536), metavar="PORT")
    parser.add_argument("--protocol", choices=("tcp", "udp"), default="tcp")
    parser.add_argument("--timeout", type=timeout_arg, default=1.0)
    parser.add_argument("--url", type=valid_url, default=None)
    args = parser.parse_args(argv)
    if args.url and args.protocol != "tcp":
        parser.error("--url needs --protocol tcp")
    result = probe(args.dest, args.port, protocol=args.protocol, timeout_s=args.timeout, url=args.url)
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0



if __name__ == "__main__":
    sys.exit(main())
