"""Named evidence from a node: a command id, an argv built from validated parameters, a parser.

Cluster state is read through :class:`~k8srun.session.Session` methods
(``rb.pods()``, ``rb.nodes()`` …: resource -> frame); node facts through a
:class:`NodeCommand` declared once in the runbook's checks module and run by
``rb.node(COMMAND)`` on the run's ``target``::

    ROUTE_GET = NodeCommand(
        "ip-route-get", lambda p: ("ip", "-j", "route", "get", p["dest"]),
        parser="ip-json-route", title="route the kernel picks for dest", evidence="route_get")

    routes = rb.node(ROUTE_GET)        # DataFrame, or empty + "evidence unavailable" row

``argv(values)`` receives the session's validated parameters merged with the
keyword arguments of ``rb.node(COMMAND, **extra)`` (e.g. a probe size);
``command_id`` may name them as ``{placeholders}`` so each argv keeps its own
id (``ping-df-{size}``). ``parser`` is a name in :data:`k8srun.parsers.PARSERS`
or a function ``text -> DataFrame``; ``None`` returns the raw result only.
``accept_exit``: exit codes that are an answer, not a failure (``ping``
exits 1 when no reply came back: that is a measurement).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from . import parsers

Parser = Callable[[str], pd.DataFrame]


@dataclass(frozen=True)
class NodeCommand:
    """One node command as evidence (see module doc)."""

    command_id: str
    argv: Callable[[Mapping[str, Any]], Sequence[str]]
    parser: str | Parser | None
    title: str
    evidence: str = ""
    accept_exit: tuple[int, ...] = (0,)
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The evidence name checks use in ``REQUIRES`` (defaults to the command id)."""
        return self.evidence or self.command_id.split("{")[0].rstrip("-")

    def build(self, values: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        """(command id, argv) for these parameter values."""
        return self.command_id.format(**values), tuple(str(a) for a in self.argv(values))

    def parse(self, text: str) -> pd.DataFrame:
        """The output as a DataFrame (ParseError when it is not this tool's output)."""
        if self.parser is None:
            return pd.DataFrame({"output": text.splitlines()})
        if isinstance(self.parser, str):
            return parsers.frame(self.parser, text)
        return self.parser(text)


def manual_command(argv: Sequence[str], target_spec: str) -> str:
    """The command a reader would type, with where it runs (``ip netns exec`` for netns targets)."""
    line = shlex.join(argv)
    kind, _, rest = target_spec.partition(":")
    if kind == "netns":
        return f"ip netns exec {shlex.quote(rest)} {line}"
    if kind == "ssh":
        return f"ssh {shlex.quote(rest)} {shlex.quote(line)}"
    if kind == "node":
        return f"kubectl debug node/{rest} -it --profile=sysadmin --image=nicolaka/netshoot -- chroot /host {line}"
    return line


__all__ = ["NodeCommand", "manual_command"]
