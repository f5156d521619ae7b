"""Probes: small programs k8srun's own Python runs *at the target's network position*.

A probe is a module run as ``python -m k8srun.probes.<name> ...`` by a node
command on a ``local`` or ``netns:NAME`` target (``ip netns exec NAME python
-m ...``: same filesystem, the namespace's network and its
``/etc/netns/NAME/resolv.conf``). It takes everything it needs as arguments
(validated by the runbook before the argv is built), is bounded by its own
timeouts, prints one JSON object on stdout and exits 0 when it ran (what it
found — a timeout, a refusal — is in the JSON, not in the exit code);
exit 2 is a usage error.

- :mod:`k8srun.probes.dns` — one DNS query to one server over UDP or TCP,
  telling timeout, refused, unreachable and answered apart (the dns runbook).
- :mod:`k8srun.probes.connect` — one TCP (or UDP) connection to dest:port,
  classified as open / refused (RST or ICMP port unreachable) / unreachable
  (the ICMP type and who sent it, read from the socket's error queue) /
  no-route / timeout, and with ``--url`` one HTTP GET after it (status, or
  reset after the request was sent) (the firewall runbook).
"""

from __future__ import annotations

import argparse

#: the longest one probe step may wait (``--timeout``)
MAX_TIMEOUT_S = 30.0


def timeout_arg(text: str) -> float:
    """A probe's ``--timeout``: seconds in (0, :data:`MAX_TIMEOUT_S`] (argparse ``type=``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"timeout must be in (0, {MAX_TIMEOUT_S:g}] seconds")
    return value
