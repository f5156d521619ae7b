"""fio ``--output-format=json`` of the etcd disk test → latency percentile table.

The etcd guidance: ``fio --rw=write --ioengine=sync --fdatasync=1
--directory=DIR --size=22m --bs=2300 --name=mytest --output-format=json``;
the disk is fast enough when the fdatasync 99th percentile is under 10 ms.
Keys verified on fio 3.33 (Debian 12): ``jobs[].sync.lat_ns.percentile``
(fdatasync latency) and ``jobs[].write.clat_ns.percentile`` (write
completion latency), both ``{"99.000000": nanoseconds, ...}``.

Usage::

    from k8srun.parsers import fio
    rows = fio.parse(text)      # one row per job and percentile
    df = fio.frame(text)
    fio.summary(text)           # {"fsync_p99_ms": 0.17, "fsync_p99_9_ms": 0.5, ...}

Schema of ``parse``::

    [
      {
        "job":            str,          # jobs[].jobname
        "percentile":     float,        # 1.0 ... 99.99
        "sync_ms":        float | None, # fdatasync latency at that percentile
        "write_clat_ms":  float | None  # write completion latency at that percentile
      }
    ]

Schema of ``summary`` (the first job that has fdatasync latencies)::

    {"fio_version": "fio-3.33", "job": "mytest", "fsyncs": 911,
     "fsync_p99_ms": 0.169, "fsync_p99_9_ms": 0.498, "fsync_max_ms": 0.498,
     "write_clat_p99_ms": 0.0057}

Example: ``"sync": {"lat_ns": {"percentile": {"99.000000": 168960}}}`` →
``{"job": "mytest", "percentile": 99.0, "sync_ms": 0.16896, ...}``.
"""

from __future__ import annotations

import json

import pandas as pd

from ..errors import ParseError

NAME = "fio"
COLUMNS = ["job", "percentile", "sync_ms", "write_clat_ms"]


def _document(text: str) -> dict:
    """The fio JSON document (fio may print warnings before the opening brace)."""
    start = text.find("{")
    if start < 0:
        raise ParseError(NAME, "no JSON object (run fio with --output-format=json)")
    try:
        document = json.loads(text[start:])
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(NAME, f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        raise ParseError(NAME, "JSON has no 'jobs' list (is this fio output?)")
    return document


def _percentiles(job: dict, direction: str, latency: str) -> dict[float, float]:
    """``{percentile: milliseconds}`` of ``job[direction][latency].percentile``."""
    block = job.get(direction)
    block = block.get(latency) if isinstance(block, dict) else None
    raw = block.get("percentile") if isinstance(block, dict) else None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ParseError(NAME, f"{direction}.{latency}.percentile is not an object")
    out = {}
    for key, value in raw.items():
        try:
            out[float(key)] = float(value) / 1e6
        except (TypeError, ValueError):
            raise ParseError(NAME, f"{direction}.{latency}.percentile has {key!r}: {value!r}") from None
    return out


def _jobs(document: dict) -> list[dict]:
    jobs = document["jobs"]
    if not all(isinstance(job, dict) for job in jobs):
        raise ParseError(NAME, "'jobs' holds something other than objects")
    return jobs


def parse(text: str) -> list[dict]:
    """One row per job and percentile: fdatasync and write latencies in ms."""
    if not text.strip():
        return []
    rows = []
    for job in _jobs(_document(text)):
        sync = _percentiles(job, "sync", "lat_ns")
        write = _percentiles(job, "write", "clat_ns")
        for percentile in sorted(set(sync) | set(write)):
            rows.append({"job": str(job.get("jobname", "")), "percentile": percentile,
                         "sync_ms": sync.get(percentile), "write_clat_ms": write.get(percentile)})
    return rows


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS)


def summary(text: str) -> dict:
    """fsync p99 / p99.9 / max in ms of the first job with fdatasync latencies."""
    document = _document(text)
    for job in _jobs(document):
        sync = _percentiles(job, "sync", "lat_ns")
        if not sync:
            continue
        lat = job["sync"]["lat_ns"]
        write = _percentiles(job, "write", "clat_ns")
        maximum = lat.get("max")
        return {"fio_version": str(document.get("fio version", "")),
                "job": str(job.get("jobname", "")),
                "fsyncs": int(lat["N"]) if isinstance(lat.get("N"), int) else None,
                "fsync_p99_ms": sync.get(99.0), "fsync_p99_9_ms": sync.get(99.9),
                "fsync_max_ms": maximum / 1e6 if isinstance(maximum, (int, float)) else None,
                "write_clat_p99_ms": write.get(99.0)}
    raise ParseError(NAME, "no job has sync.lat_ns percentiles (run fio with --fdatasync=1)")
