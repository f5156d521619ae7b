"""Probe: one GET to the API server of a kubeconfig context, every failure told apart.

``python -m k8srun.probes.apiserver --kubeconfig PATH [--context NAME] --path /readyz?verbose --timeout S``
prints one JSON object (exit 0 when it ran; 2 = usage error)::

    {"server": "https://127.0.0.1:6443", "path": "/readyz?verbose", "auth": "token",
     "outcome": "answered" | "no-config" | "dns-failure" | "refused" | "timeout" | "unreachable"
                | "tls-error" | "connection-error",
     "stage": "config" | "dns" | "connect" | "tls" | "http",   # where it stopped (or "http": answered)
     "reason": "one line (errno text, ssl reason, ...)",
     "x509": "certificate has expired" | null,                  # the verify error of a TLS failure
     "status": 500, "content_type": "text/plain; charset=utf-8",
     "body": "[+]ping ok\\n[-]etcd failed: reason withheld\\n...",  # first 8000 characters
     "elapsed_ms": 12.3}

Steps, each bounded by ``--timeout``: the kubeconfig (:func:`k8srun.probes.kubeconfig.load`),
DNS (``getaddrinfo``), TCP connect, TLS handshake (the kubeconfig's CA, or the
system roots; ``insecure-skip-tls-verify`` honoured; the client certificate
presented), then the request with the bearer token / basic auth header. The
credentials never leave memory (a client key goes through a 0600 temp file
ssl needs, removed at once); the body is the server's.
Exec and auth-provider plugins are not run: the request then goes without
credentials (the view says so).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import errno
import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
import time

from . import timeout_arg
from .kubeconfig import Loaded, load

BODY_LIMIT = 8000


def _resolve(host: str, port: int, timeout_s: float) -> list[tuple]:
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        return pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout=timeout_s)
    finally:
        pool.shutdown(wait=False)


def _context(loaded: Loaded) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if loaded.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif loaded.ca_pem:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=loaded.ca_pem.decode("ascii", "replace"))
    creds = loaded.credentials
    if creds.cert_pem and creds.key_pem:
        fd, name = tempfile.mkstemp(prefix="k8srun-client-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(creds.cert_pem + b"\n" + creds.key_pem)
            context.load_cert_chain(name)
        finally:
            os.unlink(name)
    return context


def probe(kubeconfig: str, context: str, path: str, timeout_s: float) -> dict:
    """The outcome of GET ``path`` (see module doc)."""
    started = time.monotonic()
    loaded = load(kubeconfig, context)
    view = loaded.view
    out = {"server": view["server"], "path": path, "auth": view["auth"], "outcome": None, "stage": "config",
           "reason": None, "x509": None, "status": None, "content_type": None, "body": None, "elapsed_ms": None}

    def done(outcome: str, reason: str | None = None, **extra) -> dict:
        out.update(outcome=outcome, reason=reason, elapsed_ms=round((time.monotonic() - started) * 1000, 1), **extra)
        return out

    if view["error"] or not view["host"] or view["scheme"] not in ("http", "https"):
        return done("no-config", view["error"] or view["server_error"] or "no server URL")
    host, port = view["host"], view["port"] or 443
    out["stage"] = "dns"
    try:
        addresses = _resolve(host, port, timeout_s)
    except socket.gaierror as exc:
        return done("dns-failure", f"{host}: {exc.strerror or exc}")
    except concurrent.futures.TimeoutError:
        return done("dns-failure", f"{host}: no DNS answer within {timeout_s:g} s")
    out["stage"] = "connect"
    family, kind, proto, _, address = addresses[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(timeout_s)
    try:
        sock.connect(address)
    except ConnectionRefusedError:
        sock.close()
        return done("refused", f"connect to {address[0]}:{port}: connection refused")
    except socket.timeout:
        sock.close()
        return done("timeout", f"connect to {address[0]}:{port}: no answer within {timeout_s:g} s")
    except OSError as exc:
        sock.close()
        unreachable = exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
        return done("unreachable" if unreachable else "connection-error", f"connect to {address[0]}:{port}: {exc.strerror or exc}")
    if view["scheme"] == "https":
        out["stage"] = "tls"
        try:
            sock = _context(loaded).wrap_socket(sock, server_hostname=loaded.tls_server_name or host)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            return done("tls-error", f"certificate verify failed: {exc.verify_message}", x509=exc.verify_message)
        except socket.timeout:
            sock.close()
            return done("timeout", f"TLS handshake: no answer within {timeout_s:g} s")
        except (ssl.SSLError, OSError) as exc:
            sock.close()
            return done("tls-error", f"TLS handshake: {getattr(exc, 'reason', None) or exc}")
    out["stage"] = "http"
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    conn.sock = sock
    headers = {"Accept": "application/json, */*", "User-Agent": "k8srun-control-plane-probe"}
    creds = loaded.credentials
    if creds.token:
        headers["Authorization"] = "Bearer " + creds.token
    elif creds.username is not None and creds.password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        body = answer.read(BODY_LIMIT * 4).decode("utf-8", "replace")[:BODY_LIMIT]
    except socket.timeout:
        return done("timeout", f"no HTTP answer within {timeout_s:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return done("connection-error", f"HTTP: {type(exc).__name__}: {exc}"[:300])
    finally:
        conn.close()
    return done("answered", f"HTTP {answer.status} {answer.reason}", status=answer.status,
                content_type=answer.getheader("Content-Type"), body=body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k8srun.probes.apiserver", description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--context", default="")
    parser.add_argument("--path", required=True)
    parser.add_argument("--timeout", type=timeout_arg, default=5.0)
    args = parser.parse_args(argv)
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    json.dump(probe(args.kubeconfig, args.context, args.path, args.timeout), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
