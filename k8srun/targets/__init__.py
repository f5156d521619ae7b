"""Where node-level commands run: one interface, five kinds of target.

``open_target(spec)`` turns the runbooks' ``target`` parameter into a
:class:`Target`:

============================  ===================================================
``local``                     this machine (subprocess, argv only, never a shell)
``netns:NAME``                ``ip netns exec NAME argv...`` (root)
``ssh:[USER@]HOST[:PORT]``    the system ``ssh`` in BatchMode; IPv6 as
                              ``ssh:[::1]:22``
``node:NODENAME``             ``kubectl debug node/NODENAME --profile=sysadmin``
                              then ``chroot /host argv...``; the debug pod is
                              deleted afterwards (see :mod:`k8srun.targets.node`:
                              the one exception to read-only)
``replay:BUNDLE[#HOST]``      the recorded outputs in ``BUNDLE/hosts/HOST/``
============================  ===================================================

With a recorded ``source`` (``scenario:NAME`` or a bundle path) the target
is taken from the snapshot: ``""`` picks the bundle's only host, any other
spec replays the host directory it maps to (``netns:client`` ->
``hosts/netns_client``). A bundle path (not a built-in scenario) joined
with a target it holds no recording of runs that target live: the cluster
as captured, the node as it is now (``-p source ./bundle -p target
ssh:node-3``). A built-in scenario never runs anything.

``target.run(command_id, argv)`` runs one *named* command and returns a
:class:`CommandResult`; it never raises for a missing tool, a timeout or a
non-zero exit — ``result.error`` says why in one line, and
``result.unavailable()`` turns it into an "evidence unavailable" row.
Invalid parameters (target spec, command id, argv) raise ParameterError.

CommandResult schema::

    target       str         the spec it ran on, e.g. "netns:pod-a"
    command_id   str         stable name, [a-z0-9][a-z0-9._-]*: "iptables-save"
    argv         tuple[str]  the command as asked for (before any wrapping)
    stdout       str         raw output, decoded UTF-8 with surrogateescape
                             (so ``stdout.encode("utf-8", "surrogateescape")``
                             gives back the exact bytes)
    stderr       str         same decoding
    exit_code    int | None  None when the command never started; negative:
                             killed by that signal (timeouts)
    duration_s   float       wall time
    started_at   str         UTC ISO-8601, e.g. "2024-05-01T12:00:00.123456+00:00"
    error        str | None  None, or one line: "iptables-save not found on
                             netns:x", "sleep timed out after 0.5 s on local",
                             "ip exited with code 1 on local: Error: ..."

Every target keeps what it produced in ``target.results``.

On-disk format (the ``hosts/`` part of a snapshot bundle, SPEC.md)::

    BUNDLE/hosts/<host>/<command-id>.txt    raw stdout, byte-exact
    BUNDLE/hosts/<host>/<command-id>.json   {"target": "netns:pod-a",
                                             "argv": ["ip", "-j", "route"],
                                             "exit_code": 0, "stderr": "",
                                             "duration_s": 0.004,
                                             "started_at": "2024-...+00:00",
                                             "error": null}

``<host>`` is a filesystem-safe form of the target spec (:func:`host_dir`):
``local`` -> this machine's hostname, ``netns:pod-a`` -> ``netns_pod-a``,
``node:worker-1`` -> ``worker-1``, ``ssh:admin@db-1:2222`` -> ``db-1_2222``.
One command id names one argv on one host: :func:`save_results` refuses two
different argv under the same id. Replaying an id returns the identical
CommandResult (same target, stdout, timings); asking for a different argv
or an id that was never captured gives an error result.
"""

from __future__ import annotations

import abc
import datetime as dt
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from tqdm.auto import tqdm

from ..errors import ParameterError, TargetError
from ..model import Unavailable
from ..params import positive_number

#: run_many shows a progress bar above this many commands
PROGRESS_MIN_COMMANDS = 3

_COMMAND_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_UNSAFE_PATH_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_SPEC_FORMS = "must be local, netns:NAME, ssh:[USER@]HOST[:PORT], node:NODENAME or replay:BUNDLE[#HOST]"


@dataclass(frozen=True)
class CommandResult:
    """What one named command printed and how it ended (schema: module docstring)."""

    target: str
    command_id: str
    argv: tuple[str, ...]
    stdout: str
    stderr: str
    exit_code: int | None
    duration_s: float
    started_at: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the command ran and exited 0."""
        return self.error is None

    def unavailable(self) -> Unavailable:
        """This failure as an "evidence unavailable" row (only when not ok)."""
        if self.error is None:
            raise ValueError(f"{self.command_id} on {self.target} succeeded: nothing is unavailable")
        return Unavailable(what=self.command_id, where=self.target, reason=self.error)


def valid_command_id(value: object) -> str:
    """A stable command name: ``[a-z0-9][a-z0-9._-]*``, at most 100 characters."""
    if not isinstance(value, str) or not _COMMAND_ID.match(value):
        raise ParameterError("command_id", value, "must be lower-case letters, digits, '.', '_' "
                             "or '-', starting with a letter or digit (e.g. 'iptables-save')")
    return value


def valid_argv(value: object) -> tuple[str, ...]:
    """A non-empty argument vector of strings without NUL bytes (never a shell string)."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise ParameterError("argv", value, "must be a non-empty list of strings, not a shell string")
    for arg in value:
        if not isinstance(arg, str) or "\0" in arg:
            raise ParameterError("argv", value, f"every argument must be a string without NUL bytes "
                                 f"(got {arg!r})")
    if not value[0]:
        raise ParameterError("argv", value, "the program name must not be empty")
    return tuple(value)


def safe_path_part(text: str) -> str:
    """``text`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    part = _UNSAFE_PATH_CHARS.sub("_", text)
    return "_" + part if part.startswith(".") or not part else part


def utc_now_iso() -> str:
    """The current UTC time, ISO-8601 with offset."""
    return dt.datetime.now(dt.timezone.utc).isoformat()


def first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line of ``text``, stripped and cut to ``limit`` characters."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


class Target(abc.ABC):
    """A place where named commands run; keeps every result it produced."""

    def __init__(self, spec: str, *, timeout_s: float = 10):
        self.spec = spec
        self.timeout_s = positive_number("timeout_s", timeout_s)
        self.results: list[CommandResult] = []

    @property
    @abc.abstractmethod
    def host(self) -> str:
        """Directory name of this target under a bundle's ``hosts/``."""

    @abc.abstractmethod
    def _run(self, command_id: str, argv: tuple[str, ...], timeout_s: float) -> CommandResult:
        """Run validated ``argv``; report every failure in the result, never raise."""

    def run(self, command_id: str, argv: Sequence[str], *, timeout_s: float | None = None) -> CommandResult:
        """Run one named command (argv list) and record its result."""
        name = valid_command_id(command_id)
        args = valid_argv(argv)
        timeout = self.timeout_s if timeout_s is None else positive_number("timeout_s", timeout_s)
        result = self._run(name, args, timeout)
        self.results.append(result)
        return result

    def run_many(self, commands: Mapping[str, Sequence[str]], *,
                 timeout_s: float | None = None) -> dict[str, CommandResult]:
        """Run ``{command_id: argv}`` in order; a progress bar when there are more than a few."""
        results = {}
        for name, argv in tqdm(commands.items(), total=len(commands), desc=self.spec, unit="cmd",
                               disable=len(commands) <= PROGRESS_MIN_COMMANDS, leave=False):
            results[name] = self.run(name, argv, timeout_s=timeout_s)
        return results

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"


def host_dir(spec: str) -> str:
    """The ``hosts/<host>`` directory name of a target spec (see module doc)."""
    return parse_target_spec(spec).host


def parse_target_spec(spec: str, *, timeout_s: float = 10, image: str | None = None,
                      namespace: str = "default", kubeconfig: str | None = None,
                      context: str | None = None) -> Target:
    """The Target a spec names, validated but not contacted (node options only reach ``node:``)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError("target", spec, _SPEC_FORMS)
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    if spec == "local":
        from .process import LocalTarget

        return LocalTarget(timeout_s=timeout_s)
    if kind == "netns":
        from .process import NetnsTarget

        return NetnsTarget(rest, timeout_s=timeout_s)
    if kind == "ssh":
        from .process import SshTarget

        return SshTarget(rest, timeout_s=timeout_s)
    if kind == "node":
        from .node import DEFAULT_IMAGE, NodeTarget

        return NodeTarget(rest, image=image or DEFAULT_IMAGE, namespace=namespace,
                          kubeconfig=kubeconfig, context=context, timeout_s=timeout_s)
    if kind == "replay":
        from .replay import ReplayTarget

        bundle, _, host = rest.rpartition("#") if "#" in rest else (rest, "", "")
        return ReplayTarget(bundle, host or None, timeout_s=timeout_s)
    raise ParameterError("target", spec, _SPEC_FORMS)


def open_target(spec: str, *, source=None, timeout_s: float = 10, image: str | None = None,
                namespace: str = "default", kubeconfig: str | None = None,
                context: str | None = None) -> Target:
    """The Target named by the ``target`` parameter (see module doc).

    ``image`` (toolbox image, default nicolaka/netshoot), ``namespace`` (of
    the debug pod), ``kubeconfig`` and ``context`` are used by ``node:``.
    A ``source`` of kind ``scenario`` answers every spec from the ``hosts/``
    of its bundle directory ``source.root``; a ``snapshot`` does so for the
    hosts it recorded, and a spec it has no ``hosts/<host>`` for runs live.
    """
    kind = getattr(source, "kind", "") if source is not None else ""
    if kind == "scenario" or (kind == "snapshot" and (
            not spec or (Path(source.root) / "hosts" / host_dir(spec)).is_dir())):
        from .replay import ReplayTarget

        host = host_dir(spec) if spec else None
        return ReplayTarget(source.root, host, timeout_s=timeout_s)
    return parse_target_spec(spec, timeout_s=timeout_s, image=image, namespace=namespace,
                             kubeconfig=kubeconfig, context=context)


def local_host() -> str:
    """This machine's hostname, filesystem-safe."""
    return safe_path_part(socket.gethostname())


from .replay import save_results  # noqa: E402  (replay imports the names above)

__all__ = ["CommandResult", "Target", "TargetError", "open_target", "host_dir", "save_results",
           "valid_command_id", "valid_argv"]
