"""The lab's API-server stand-in: HTTPS with kube-apiserver's health and error formats.

Run as ``python -m k8srun.lab.apiserver CONFIG.json`` by :mod:`k8srun.lab.controlplane`.
It is not an API server: it answers the few requests the control-plane
runbook (and ``kubectl get --raw``) makes, in the real formats, and it really
asks etcd, so a broken etcd makes it unready as the real one would be.

The config file is re-read on every request, so a lab fault changes the
behaviour without a restart::

    {"address": "127.0.10.100", "port": 6443,
     "cert": ".../apiserver.pem", "key": ".../apiserver-key.pem",
     "tokens": {"<bearer token>": "lab-admin"},        # the token authenticator
     "forbidden": ["lab-admin"],                         # users RBAC grants nothing
     "etcd_servers": ["http://127.0.10.1:2379", ...]}    # --etcd-servers

Answers (formats from kube-apiserver: ``k8s.io/apiserver/pkg/server/healthz``
and the ``metav1.Status`` bodies of its authentication / authorization filters):

- a bearer token not in ``tokens`` -> 401 ``{"kind":"Status",...,"message":"Unauthorized",
  "reason":"Unauthorized","code":401}`` on every path (authentication runs first);
  no token is ``system:anonymous``;
- ``/livez``, ``/readyz``, ``/healthz`` (+ ``?verbose``): one ``[+]name ok`` /
  ``[-]name failed: reason withheld`` line per check and ``readyz check passed``
  (200) or ``readyz check failed`` (500, ``text/plain``, always verbose on
  failure). The ``etcd`` check GETs ``/health`` of each etcd server (1 s) and
  passes when one answers ``"health":"true"``; ``/livez`` has no etcd-readiness;
- ``/version``: a version object; ``/api/v1/namespaces/NS/pods``: an empty
  PodList for a user with rights, else 403 ``pods is forbidden: User "U" cannot
  list resource "pods" in API group "" in the namespace "NS"`` (reason
  ``Forbidden``); anonymous users get 403 on resources, health is public.
"""

from __future__ import annotations

import json
import re
import ssl
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

#: the checks of a real kube-apiserver 1.32 /readyz (subset), in its order; etcd is asked for real
READYZ_CHECKS = ("ping", "log", "etcd", "etcd-readiness", "informer-sync", "poststarthook/start-apiserver-admission-initializer",
                 "poststarthook/generic-apiserver-start-informers", "poststarthook/rbac/bootstrap-roles",
                 "poststarthook/bootstrap-controller", "shutdown")
LIVEZ_CHECKS = ("ping", "log", "etcd", "poststarthook/start-apiserver-admission-initializer",
                "poststarthook/generic-apiserver-start-informers", "poststarthook/rbac/bootstrap-roles",
                "poststarthook/bootstrap-controller")
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-k8srun-lab", "platform": "linux/amd64"}
_PODS = re.compile(r"^/api/v1/namespaces/([a-z0-9-]{1,63})/pods$")


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> bytes:
    """A ``metav1.Status`` failure as kube-apiserver writes it."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason}
    if details:
        body["details"] = details
    body["code"] = code
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def etcd_healthy(servers: list[str], timeout_s: float = 1.0) -> bool:
    """Whether one etcd server answers ``/health`` with health true."""
    for server in servers:
        try:
            with urllib.request.urlopen(server.rstrip("/") + "/health", timeout=timeout_s) as answer:
                if json.loads(answer.read().decode()).get("health") == "true":
                    return True
        except (OSError, ValueError):
            continue
    return False


def health_text(name: str, checks: tuple[str, ...], failing: set[str], verbose: bool) -> tuple[int, str]:
    """(status, body) of /livez or /readyz as handleRootHealth writes them."""
    lines = "".join(f"[-]{c} failed: reason withheld\n" if c in failing else f"[+]{c} ok\n" for c in checks)
    if failing:
        return 500, f"{lines}{name} check failed\n"
    return 200, f"{lines}{name} check passed\n" if verbose else "ok"


class Handler(BaseHTTPRequestHandler):
    """One request to the stand-in (see module doc)."""

    server_version = "k8srun-lab-apiserver"
    config_path: Path

    def log_message(self, fmt: str, *args) -> None:  # one line per request on stderr (the lab log)
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        config = json.loads(self.config_path.read_text())
        url = urlsplit(self.path)
        header = self.headers.get("Authorization", "")
        user = "system:anonymous"
        if header.startswith("Bearer "):
            user = config.get("tokens", {}).get(header[len("Bearer "):].strip())
            if user is None:
                self._send(401, status_body(401, "Unauthorized", "Unauthorized"), "application/json")
                return
        name = url.path.strip("/")
        if name in ("livez", "readyz", "healthz"):
            failing = set() if etcd_healthy(config.get("etcd_servers", [])) else {"etcd"}
            if name == "readyz" and failing:
                failing.add("etcd-readiness")
            checks = READYZ_CHECKS if name == "readyz" else LIVEZ_CHECKS
            code, text = health_text(name, checks, failing, "verbose" in parse_qs(url.query, keep_blank_values=True))
            self._send(code, text.encode(), "text/plain; charset=utf-8")
            return
        if url.path == "/version":
            self._send(200, json.dumps(VERSION).encode(), "application/json")
            return
        pods = _PODS.match(url.path)
        if pods:
            if user == "system:anonymous" or user in config.get("forbidden", []):
                namespace = pods.group(1)
                message = (f'pods is forbidden: User "{user}" cannot list resource "pods" in API group "" '
                           f'in the namespace "{namespace}"')
                self._send(403, status_body(403, "Forbidden", message, {"kind": "pods"}), "application/json")
                return
            listing = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}
            self._send(200, json.dumps(listing).encode(), "application/json")
            return
        self._send(404, status_body(404, "NotFound", "the server could not find the requested resource",
                                    {}), "application/json")


def serve(config_path: Path) -> None:
    """Serve HTTPS on the configured address until killed."""
    config = json.loads(config_path.read_text())
    handler = type("LabHandler", (Handler,), {"config_path": config_path})
    httpd = ThreadingHTTPServer((config["address"], int(config["port"])), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["cert"], config["key"])
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.serve_forever()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
