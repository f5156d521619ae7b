"""Redaction wall time: linear in the input, whatever the input looks like.

``python benchmarks/redact.py`` times :func:`k8srun.redact.redact_text` on

- a 10 MB single line of ordinary log text, of one base64 run, of token-like words;
- for every rule, a line of near-matches (its trigger repeated without the
  rest, the pathological input of a backtracking regex) at 100 KB and 400 KB.

and prints seconds and the 400 KB / 100 KB ratio for each (linear: about 4;
quadratic: about 16). Exit status 1 when a ratio exceeds ``--max-ratio``
(default 8) or the 10 MB lines take longer than ``--max-seconds`` (default 60).
"""

from __future__ import annotations

import argparse
import base64
import sys
import time

from k8srun.redact import Redactor

#: rule family -> a fragment that starts a match but never completes one (repeated to fill a line)
NEAR_MISSES = {
    "ordinary log line": "2024-05-14T10:00:00Z INFO GET /api/v1/pods 200 12ms user=app ",
    "token prefixes": "AKIA ghp_ xoxb-1 sk_live_ AIza github_pat_ glpat- SG. pypi- sq0csp- ",
    "slack near-miss": "xoxb-" + "1-" * 30 + " ",
    "jwt": "eyJ" * 20 + ".",
    "jwt dots": "eyJaaaaa.",
    "bearer": "Bearer ",
    "header": "X-Auth-",
    "assignment": "password password= ",
    "name prefix": "a.b-c_d.e-f_g.h-",
    "flag": "--token ",
    "quoted key": "\"password\":",
    "escaped quoted key": "\\\"password\\\":",
    "name/value pair": "{\"name\": \"X-Auth-Token\", \"value\": ",
    "yaml": "\n  password:",
    "mysql": "mysql -u root ",
    "curl": "curl -u ",
    "docker login": "docker login ",
    "url": "https://user:",
    "url scheme": "a.",
    "dsn": "user:pw@tc ",
    "sas": "&sig",
    "sql": "PASSWORD '",
    "pem begin": "-----BEGIN PRIVATE KEY-----",
    "pem end": "-----END PRIVATE KEY-----",
    "pem body": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n",
    "base64 text": base64.b64encode(b"just some ordinary text").decode() + " ",
    "base64 run": "QUJD",
}


def _line(fragment: str, size: int) -> str:
    return (fragment * (size // len(fragment) + 1))[:size]


def _time(redactor: Redactor, text: str) -> float:
    start = time.perf_counter()
    redactor.redact_text(text)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-ratio", type=float, default=8.0)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--only", help="one near-miss family")
    args = parser.parse_args(argv)
    redactor = Redactor()
    worst_ratio, worst_big, failed = 0.0, 0.0, False
    print(f"{'input':<22} {'100 KB s':>9} {'400 KB s':>9} {'ratio':>6}")
    for name, fragment in NEAR_MISSES.items():
        if args.only and name != args.only:
            continue
        small, large = (_time(redactor, _line(fragment, size)) for size in (100_000, 400_000))
        ratio = large / max(small, 1e-6)
        worst_ratio = max(worst_ratio, ratio)
        flag = "  <-- super-linear" if ratio > args.max_ratio else ""
        failed |= bool(flag)
        print(f"{name:<22} {small:9.3f} {large:9.3f} {ratio:6.1f}{flag}")
    if not args.only:
        for name, fragment in (("10 MB log line", NEAR_MISSES["ordinary log line"]),
                               ("10 MB base64 run", "QUJD"), ("10 MB token words", NEAR_MISSES["token prefixes"])):
            seconds = _time(redactor, _line(fragment, 10_000_000))
            worst_big = max(worst_big, seconds)
            flag = "  <-- too slow" if seconds > args.max_seconds else ""
            failed |= bool(flag)
            print(f"{name:<22} {seconds:9.3f} s{flag}")
    print(f"worst 400 KB/100 KB ratio {worst_ratio:.1f} (linear ~4, quadratic ~16); worst 10 MB line {worst_big:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
