"""``k8srun serve BUNDLE``: a snapshot as a read-only Kubernetes API for kubectl.

``k8srun serve scenario:dns --port 8001`` prints a kubeconfig path and URL,
then serves until Ctrl-C; ``kubectl --kubeconfig <printed> get pods -A``,
``describe``, ``logs [--previous]``, ``get events --sort-by .lastTimestamp``
and ``cluster-info dump`` work against it. It answers from ``--workers``
processes (default: one per core, at most 4; each holds its own index of
the bundle), so concurrent clients are not queued behind one interpreter.
Python: ``with serving(source) as (url, kubeconfig): ...`` (one process,
threads; see :mod:`k8srun.serve.server`).
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading

from .. import params
from ..errors import ParameterError
from .server import SnapshotApi, default_workers, kubeconfig_text, serving, serving_processes, status_object

__all__ = ["SnapshotApi", "add_arguments", "kubeconfig_text", "main", "serving", "serving_processes",
           "status_object"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``k8srun serve``."""
    parser.add_argument("bundle", metavar="BUNDLE",
                        help="snapshot bundle directory or .tar.gz, or scenario:NAME")
    parser.add_argument("--port", default="0", help="TCP port to listen on (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--workers", default=None,
                        help=f"processes answering requests (default: one per core, now {default_workers()}; 1: "
                             "one process with threads)")


def main(args: argparse.Namespace) -> int:
    """Serve the bundle until interrupted."""
    if args.bundle.strip() in ("live", "none"):
        raise ParameterError("bundle", args.bundle, "serve needs a snapshot bundle path or scenario:NAME")
    port = 0 if str(args.port) == "0" else params.port("--port", args.port)
    host = params.ip_address("--host", args.host)
    workers = default_workers() if args.workers is None else \
        int(params.positive_number("--workers", args.workers, integer=True, maximum=64))
    # SIGTERM (kill, a service manager, a benchmark's terminate()) stops like Ctrl-C: the worker processes,
    # the kubeconfig folder and an extracted tarball go too
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return _serve(args.bundle, port, host, workers)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve(bundle: str, port: int, host: str, workers: int) -> int:
    from ..sources import open_source

    with open_source(bundle) as source:
        # what the process holds from here on (modules, the source) lives until it stops: out of the
        # collector's full passes, which otherwise walk it all (~25 ms) in the middle of some request
        gc.freeze()
        if workers == 1:
            with serving(source, port, host=host) as (url, kubeconfig):
                _started(source, url, kubeconfig)
                try:
                    threading.Event().wait()
                except KeyboardInterrupt:
                    print("stopped")
            return 0
        with serving_processes(source, port, host=host, workers=workers) as (url, kubeconfig, pids):
            _started(source, url, kubeconfig, workers)
            try:
                pid, status = os.wait()  # a worker ends only when it is stopped or fails
            except KeyboardInterrupt:
                print("stopped")
                return 0
            if os.waitstatus_to_exitcode(status) == 0:  # stopped by SIGINT/SIGTERM (Ctrl-C reaches the group)
                print("stopped")
                return 0
            print(f"k8srun serve: worker process {pid} ended ({_ended(status)}); stopping the others",
                  file=sys.stderr)
            return 1


def _started(source, url: str, kubeconfig: str, workers: int = 1) -> None:
    many = f" ({workers} worker processes answer)" if workers > 1 else ""
    print(f"serving {source.description} read-only at {url}")
    print(f"kubeconfig: {kubeconfig}")
    print(f"try: kubectl --kubeconfig {kubeconfig} get pods -A")
    print(f"press Ctrl-C to stop{many}", flush=True)


def _ended(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"
