"""``k8srun serve BUNDLE``: a snapshot as a read-only Kubernetes API for kubectl.

``k8srun serve scenario:dns --port 8001`` prints a kubeconfig path and URL,
then serves until Ctrl-C; ``kubectl --kubeconfig <printed> get pods -A``,
``describe``, ``logs [--previous]``, ``get events --sort-by .lastTimestamp``
and ``cluster-info dump`` work against it. Python: ``with serving(source) as
(url, kubeconfig): ...`` (see :mod:`k8srun.serve.server`).
"""

from __future__ import annotations

import argparse
import gc
import threading

from .. import params
from ..errors import ParameterError
from .server import SnapshotApi, kubeconfig_text, serving, status_object

__all__ = ["SnapshotApi", "add_arguments", "kubeconfig_text", "main", "serving", "status_object"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``k8srun serve``."""
    parser.add_argument("bundle", metavar="BUNDLE",
                        help="snapshot bundle directory or .tar.gz, or scenario:NAME")
    parser.add_argument("--port", default="0", help="TCP port to listen on (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")


def main(args: argparse.Namespace) -> int:
    """Serve the bundle until interrupted."""
    from ..sources import open_source

    if args.bundle.strip() in ("live", "none"):
        raise ParameterError("bundle", args.bundle, "serve needs a snapshot bundle path or scenario:NAME")
    port = 0 if str(args.port) == "0" else params.port("--port", args.port)
    host = params.ip_address("--host", args.host)
    with open_source(args.bundle) as source, serving(source, port, host=host) as (url, kubeconfig):
        # what the process holds from here on (modules, the source) lives until it stops: out of the
        # collector's full passes, which otherwise walk it all (~25 ms) in the middle of some request
        gc.freeze()
        print(f"serving {source.description} read-only at {url}")
        print(f"kubeconfig: {kubeconfig}")
        print(f"try: kubectl --kubeconfig {kubeconfig} get pods -A")
        print("press Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0
