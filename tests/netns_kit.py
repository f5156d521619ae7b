"""Network namespaces of a test's own: ``client ── router ── server``, built and always removed.

``routed_triangle(prefix, "10.77")`` makes ``<prefix>-client-<pid>``, ``<prefix>-router-<pid>`` and
``<prefix>-server-<pid>`` (lo up), a veth pair client↔router (``NET.1.0/24``: client ``.1.2``, router
``.1.1``) and router↔server (``NET.2.0/24``: router ``.2.1``, server ``.2.2``), default routes via the
router, forwarding on; it yields ``{"client", "router", "server", "client_ip", "server_ip"}`` and deletes
every namespace it made on the way out, also when the setup fails half-way. Interfaces are named
``<prefix>-c0``, ``<prefix>-rc``, ``<prefix>-rs``, ``<prefix>-s0`` (so ``prefix`` is short).
"""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from typing import Iterator


def sh(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=10)


@contextmanager
def routed_triangle(prefix: str, net: str, *router_sysctls: str) -> Iterator[dict]:
    """client ── router ── server (see the module doc); ``router_sysctls`` are extra ``key=value`` settings."""
    suffix = os.getpid()
    client, router, server = (f"{prefix}-{role}-{suffix}" for role in ("client", "router", "server"))
    made = []
    try:
        for ns in (client, router, server):
            sh("ip", "netns", "add", ns)
            made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", client, "link", "add", f"{prefix}-c0", "type", "veth", "peer", "name", f"{prefix}-rc",
           "netns", router)
        sh("ip", "-n", router, "link", "add", f"{prefix}-rs", "type", "veth", "peer", "name", f"{prefix}-s0",
           "netns", server)
        for ns, dev, address in ((client, f"{prefix}-c0", f"{net}.1.2/24"), (router, f"{prefix}-rc", f"{net}.1.1/24"),
                                 (router, f"{prefix}-rs", f"{net}.2.1/24"), (server, f"{prefix}-s0", f"{net}.2.2/24")):
            sh("ip", "-n", ns, "addr", "add", address, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", client, "route", "add", "default", "via", f"{net}.1.1")
        sh("ip", "-n", server, "route", "add", "default", "via", f"{net}.2.1")
        sh("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1", *router_sysctls)
        yield {"client": client, "router": router, "server": server, "client_ip": f"{net}.1.2",
               "server_ip": f"{net}.2.2"}
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
