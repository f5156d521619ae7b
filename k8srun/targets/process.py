"""Targets that run a local process: ``local``, ``netns:NAME`` and ``ssh:[USER@]HOST[:PORT]``.

Each builds a wrapped argv (``ip netns exec NAME ...``, ``ssh ... HOST
'env LC_ALL=C.UTF-8 quoted command'``) and runs it with :func:`run_process`,
which kills the whole process group on timeout. Commands run with
``LC_ALL=C.UTF-8`` whatever the caller's locale, so the parsers always see
the same output (English messages, "0.045" not "0,045" in ``ping``).
Results follow the CommandResult schema in :mod:`k8srun.targets`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError
from . import CommandResult, Target, first_line, local_host, safe_path_part, utc_now_iso

#: where ``ip netns add`` puts named network namespaces
NETNS_DIR = Path("/run/netns")

_NETNS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")
_SSH_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
#: the locale every command runs in (falls back to plain C where C.UTF-8 is not installed)
COMMAND_LOCALE = "C.UTF-8"
#: after a timeout kill, how long to keep reading output a process outside the group may hold open
DRAIN_TIMEOUT_S = 1.0

_SSH_SPEC = re.compile(r"^(?:(?P<user>[^@]*)@)?(?:\[(?P<ipv6>[^\]]*)\]|(?P<host>[^:@]*))(?::(?P<port>[^:]*))?$")


@dataclass(frozen=True)
class ProcessOutcome:
    """How one local process ended."""

    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool
    started_at: str
    duration_s: float


def decode(raw: bytes) -> str:
    """Bytes as text that encodes back to the same bytes (UTF-8, surrogateescape)."""
    return raw.decode("utf-8", "surrogateescape")


def run_process(argv: list[str], timeout_s: float) -> ProcessOutcome:
    """Run ``argv`` in its own session (locale ``COMMAND_LOCALE``); on timeout kill its process group.

    Never waits much longer than ``timeout_s``, even when a process that left
    the group (``setsid``, a daemon) keeps the output pipes open.
    Raises OSError only when the program cannot be started at all.
    """
    started_at = utc_now_iso()
    clock = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "LC_ALL": COMMAND_LOCALE})
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        try:
            out, err = proc.communicate(timeout=DRAIN_TIMEOUT_S)
        except subprocess.TimeoutExpired as held:  # keep what was read, stop waiting for EOF
            out, err = held.output or b"", held.stderr or b""
            proc.stdout.close()
            proc.stderr.close()
            proc.wait()
    return ProcessOutcome(stdout=decode(out), stderr=decode(err), exit_code=proc.returncode,
                          timed_out=timed_out, started_at=started_at,
                          duration_s=round(time.monotonic() - clock, 6))


def failure_reason(program: str, spec: str, outcome: ProcessOutcome, timeout_s: float) -> str | None:
    """One line saying why ``outcome`` is not a clean exit 0, or None."""
    if outcome.timed_out:
        return f"{program} timed out after {timeout_s:g} s on {spec}"
    code = outcome.exit_code
    if code is not None and code < 0:
        return f"{program} was killed by {signal.Signals(-code).name} on {spec}"
    if code:
        detail = first_line(outcome.stderr)
        return f"{program} exited with code {code} on {spec}" + (f": {detail}" if detail else "")
    return None


class ProcessTarget(Target):
    """A target whose commands are local processes (a wrapper around argv)."""

    def wrap(self, argv: tuple[str, ...], timeout_s: float) -> list[str]:
        """The argv actually executed on this machine."""
        return list(argv)

    def precheck(self, argv: tuple[str, ...]) -> str | None:
        """Why ``argv`` cannot run here at all (missing tool or namespace), or None."""
        if shutil.which(argv[0]) is None:
            return f"{argv[0]} not found on {self.spec}"
        return None

    def classify(self, argv: tuple[str, ...], outcome: ProcessOutcome, timeout_s: float) -> str | None:
        """The error line for a finished process, or None."""
        return failure_reason(argv[0], self.spec, outcome, timeout_s)

    def result(self, command_id: str, argv: tuple[str, ...], outcome: ProcessOutcome,
               timeout_s: float) -> CommandResult:
        """The CommandResult of a process that ran."""
        return CommandResult(target=self.spec, command_id=command_id, argv=argv,
                             stdout=outcome.stdout, stderr=outcome.stderr,
                             exit_code=outcome.exit_code, duration_s=outcome.duration_s,
                             started_at=outcome.started_at,
                             error=self.classify(argv, outcome, timeout_s))

    def _run(self, command_id, argv, timeout_s):
        reason = self.precheck(argv)
        if reason is None:
            wrapped = self.wrap(argv, timeout_s)
            try:
                outcome = run_process(wrapped, timeout_s)
            except OSError as exc:
                reason = f"{wrapped[0]} could not be started for {self.spec}: {exc.strerror or exc}"
            else:
                return self.result(command_id, argv, outcome, timeout_s)
        return CommandResult(target=self.spec, command_id=command_id, argv=argv, stdout="",
                             stderr="", exit_code=None, duration_s=0.0, started_at=utc_now_iso(),
                             error=reason)


class LocalTarget(ProcessTarget):
    """``local``: this machine, argv as given."""

    def __init__(self, *, timeout_s: float = 10):
        super().__init__("local", timeout_s=timeout_s)

    @property
    def host(self) -> str:
        return local_host()


class NetnsTarget(ProcessTarget):
    """``netns:NAME``: ``ip netns exec NAME argv...`` (needs root)."""

    def __init__(self, name: str, *, timeout_s: float = 10):
        if not _NETNS_NAME.match(name):
            raise ParameterError("target", f"netns:{name}", "network namespace names are letters, "
                                 "digits, '_', '.' and '-', starting with a letter or digit")
        super().__init__(f"netns:{name}", timeout_s=timeout_s)
        self.name = name

    @property
    def host(self) -> str:
        return f"netns_{self.name}"

    def wrap(self, argv, timeout_s):
        return ["ip", "netns", "exec", self.name, *argv]

    def precheck(self, argv):
        if not (NETNS_DIR / self.name).exists():
            return (f"network namespace {self.name!r} does not exist on this machine "
                    f"(see `ip netns list`), so {argv[0]} cannot run on {self.spec}")
        if shutil.which("ip") is None:
            return f"ip (iproute2) not found on this machine, needed for {self.spec}"
        # `ip netns exec` keeps this machine's filesystem: the local PATH lookup holds there too
        return super().precheck(argv)


class SshTarget(ProcessTarget):
    """``ssh:[USER@]HOST[:PORT]``: the system ssh, BatchMode (no password prompts)."""

    def __init__(self, address: str, *, timeout_s: float = 10):
        spec = f"ssh:{address}"
        match = _SSH_SPEC.match(address)
        if not match:
            raise ParameterError("target", spec, "must be ssh:[USER@]HOST[:PORT]")
        user, ipv6, host, port = match.group("user", "ipv6", "host", "port")
        if user is not None and not _SSH_USER.match(user):
            raise ParameterError("target", spec, "ssh user names are letters, digits, '_', '.' and '-'")
        if ipv6 is not None:
            try:
                host = str(ipaddress.IPv6Address(ipv6))
            except ValueError:
                raise ParameterError("target", spec, "the part in [] must be an IPv6 address") from None
        elif not _HOSTNAME.match(host or ""):
            raise ParameterError("target", spec, "HOST must be a DNS name or an IP address "
                                 "(letters, digits, '-' and '.', not starting with '-')")
        if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise ParameterError("target", spec, "PORT must be a number between 1 and 65535")
        super().__init__(spec, timeout_s=timeout_s)
        self.user, self.address, self.port = user, host, port

    @property
    def host(self) -> str:
        return safe_path_part(self.address + (f"_{self.port}" if self.port else ""))

    def wrap(self, argv, timeout_s):
        connect_timeout = max(1, int(timeout_s))
        options = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout}"]
        if self.port:
            options += ["-p", self.port]
        if self.user:
            options += ["-l", self.user]
        # the remote side gets one shell string: the only string we build, from quoted parts
        return ["ssh", *options, "--", self.address, shlex.join(["env", f"LC_ALL={COMMAND_LOCALE}", *argv])]

    def precheck(self, argv):
        if shutil.which("ssh") is None:
            return f"ssh not found on this machine, needed for {self.spec}"
        return None

    def classify(self, argv, outcome, timeout_s):
        if outcome.exit_code == 255 and not outcome.timed_out:
            return f"ssh connection for {self.spec} failed: {first_line(outcome.stderr) or 'exit code 255'}"
        if outcome.exit_code == 127:
            return f"{argv[0]} not found on {self.spec}"
        return super().classify(argv, outcome, timeout_s)
