"""Probe: etcd's ``/metrics`` read twice, ``--window`` seconds apart, from each endpoint.

``python -m k8srun.probes.etcd_metrics --endpoint URL [--endpoint URL ...] --window S --timeout T
[--cacert F --cert F --key F]`` prints one JSON object (exit 0 when it ran)::

    {"window_s": 5.0,
     "reads": [{"endpoint": "http://127.0.10.1:2379", "read": 1, "at": "2026-...Z",
                "error": null,                      # or "connection refused", "timed out", "HTTP 404"
                "metrics": "etcd_server_leader_changes_seen_total 1\\n..."}, ...]}

Only the lines of the families the control-plane runbook reads are kept
(:data:`KEPT`: leader changes, has/is leader, quota, db size, failed
proposals, process start time — a restart between the reads resets the
counters), so a report stays small. Both reads of all endpoints happen at
the same moments (threads), so the window is one window.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

from . import timeout_arg

KEPT = ("etcd_server_leader_changes_seen_total", "etcd_server_has_leader", "etcd_server_is_leader",
        "etcd_server_quota_backend_bytes", "etcd_mvcc_db_total_size_in_bytes",
        "etcd_mvcc_db_total_size_in_use_in_bytes", "etcd_server_proposals_failed_total",
        "process_start_time_seconds")
MAX_WINDOW_S = 120.0


def _read(endpoint: str, timeout_s: float, context: ssl.SSLContext | None) -> dict:
    at = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    row = {"endpoint": endpoint, "at": at, "error": None, "metrics": ""}
    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + "/metrics", timeout=timeout_s, context=context) as answer:
            text = answer.read(16 * 1024 * 1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        row["error"] = f"HTTP {exc.code} {exc.reason}"
        return row
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        row["error"] = str(getattr(reason, "strerror", None) or reason)[:200]
        return row
    row["metrics"] = "".join(line + "\n" for line in text.splitlines()
                             if line.startswith(KEPT) or line.startswith(tuple(f"# TYPE {k}" for k in KEPT)))
    return row


def window_arg(text: str) -> float:
    value = float(text)
    if not 0 <= value <= MAX_WINDOW_S:
        raise argparse.ArgumentTypeError(f"window must be in [0, {MAX_WINDOW_S:g}] seconds")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k8srun.probes.etcd_metrics", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", action="append", required=True)
    parser.add_argument("--window", type=window_arg, default=5.0)
    parser.add_argument("--timeout", type=timeout_arg, default=2.0)
    parser.add_argument("--cacert")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args(argv)
    context = None
    if args.cacert or args.cert:
        context = ssl.create_default_context(cafile=args.cacert)
        if args.cert:
            context.load_cert_chain(args.cert, args.key)
    reads = []
    with concurrent.futures.ThreadPoolExecutor(max(len(args.endpoint), 1)) as pool:
        for number in (1, 2):
            started = time.monotonic()
            for row in pool.map(lambda e: _read(e, args.timeout, context), args.endpoint):
                reads.append({**row, "read": number})
            if number == 1:
                time.sleep(max(0.0, args.window - (time.monotonic() - started)))
    json.dump({"window_s": args.window, "reads": reads}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
