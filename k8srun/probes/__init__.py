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
"""
