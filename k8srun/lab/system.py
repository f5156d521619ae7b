"""The few system primitives the lab is built from: commands, namespaces, processes.

Every command is an argv list run with a timeout (never a shell string).
Failures raise :class:`LabError` with one line naming the command and its
stderr. Long-lived lab processes (HTTP, DNS, TLS servers) are started with
``posix_spawn`` inside a namespace, in their own session, and stopped by
PID after checking ``/proc/PID/cmdline`` still is the command we started.

``listening(pid, proto, port)`` reads ``/proc/PID/net/{tcp,tcp6,udp,udp6}``,
which shows the sockets of the process's *network namespace*, so readiness
is checked without entering the namespace.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..errors import LabError, LabUnavailableError

#: tools ``lab up`` needs, with the Debian package that provides each
REQUIRED_TOOLS: dict[str, str] = {
    "ip": "iproute2",
    "bridge": "iproute2",
    "sysctl": "procps",
    "iptables": "iptables",
    "iptables-restore": "iptables",
    "dnsmasq": "dnsmasq-base",
    "openssl": "openssl",
    "ping": "iputils-ping",
    "curl": "curl",
    "dig": "dnsutils",
}

COMMAND_TIMEOUT_S = 10.0


def require_lab_support(tools: tuple[str, ...] = ("ip",)) -> None:
    """Raise :class:`LabUnavailableError` unless root on Linux with ``ip netns`` and ``tools``."""
    if not sys.platform.startswith("linux"):
        raise LabUnavailableError("the fault lab needs Linux network namespaces (this is %s)" % sys.platform)
    if os.geteuid() != 0:
        raise LabUnavailableError("the fault lab needs root: run it as root (e.g. sudo k8srun lab ...)")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        packages = sorted({REQUIRED_TOOLS.get(tool, tool) for tool in missing})
        raise LabUnavailableError(f"missing tools {', '.join(missing)}: apt-get install {' '.join(packages)}")
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if probe.returncode != 0:
        raise LabUnavailableError(f"`ip netns` is unavailable here: {probe.stderr.strip() or 'exit %d' % probe.returncode}")


def run(argv: list[str], *, timeout: float = COMMAND_TIMEOUT_S, input: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv``; with ``check``, a non-zero exit raises :class:`LabError` quoting stderr."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    except FileNotFoundError:
        raise LabError(f"{argv[0]} not found: install it", command=argv) from None
    except subprocess.TimeoutExpired:
        raise LabError(f"`{' '.join(argv)}` timed out after {timeout:g} s", command=argv) from None
    if check and done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise LabError(f"`{' '.join(argv)}` failed (exit {done.returncode}): {reason[-1] if reason else 'no output'}",
                       command=argv)
    return done


def in_netns(netns: str, argv: list[str]) -> list[str]:
    """``argv`` wrapped to run inside network namespace ``netns``."""
    return ["ip", "netns", "exec", netns, *argv]


def netns_names() -> set[str]:
    """Names of the existing named network namespaces."""
    listed = run(["ip", "netns", "list"])
    return {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}


def netns_pids(netns: str) -> list[int]:
    """PIDs of the processes running inside ``netns``."""
    listed = run(["ip", "netns", "pids", netns], check=False)
    return [int(word) for word in listed.stdout.split() if word.isdigit()]


def spawn_in_netns(netns: str, argv: list[str], log_path: Path) -> int:
    """Start ``argv`` inside ``netns`` in a new session, output to ``log_path``; return its PID."""
    log_flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_path), log_flags, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    wrapped = in_netns(netns, argv)
    return os.posix_spawnp(wrapped[0], wrapped, os.environ, file_actions=actions, setsid=True)


def process_cmdline(pid: int) -> list[str] | None:
    """The argv of a live (non-zombie) process, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if stat.rpartition(")")[2].split()[0] == "Z":
        _reap(pid)
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def process_alive(pid: int, argv: list[str]) -> bool:
    """Whether ``pid`` is still the process that runs ``argv``."""
    cmdline = process_cmdline(pid)
    # empty while an exec is in progress; `ip netns exec NS argv...` until it has exec'd argv
    return cmdline is not None and (not cmdline or cmdline[-len(argv):] == argv)


def stop_process(pid: int, argv: list[str], *, grace_s: float = 2.0) -> None:
    """Stop ``pid`` (SIGTERM, then SIGKILL after ``grace_s``) if it still runs ``argv``."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, grace_s)):
        if not process_alive(pid, argv):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            _reap(pid)
            if process_cmdline(pid) is None:
                return
            time.sleep(0.02)
    raise LabError(f"process {pid} ({' '.join(argv)}) survived SIGKILL", command=argv)


def kill_pid(pid: int) -> None:
    """SIGKILL ``pid`` and wait (bounded) until it is gone; for processes found inside lab namespaces."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and process_cmdline(pid) is not None:
        time.sleep(0.02)


def _reap(pid: int) -> None:
    """Collect the exit status of ``pid`` if it is our child, so it leaves no zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


@contextlib.contextmanager
def machine_lock(name: str, wait_s: float):
    """Hold a machine-wide lock (an abstract UNIX socket: no file, freed when the process dies)."""
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                holder.bind("\0" + name)
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                if time.monotonic() > deadline:
                    raise LabError(f"lock {name!r} still held by another process after {wait_s:g} s: "
                                   "wait for it to finish") from None
                time.sleep(0.2)
        yield
    finally:
        holder.close()


def listening(pid: int, proto: str, port: int) -> bool:
    """Whether the network namespace of ``pid`` has a ``proto`` (tcp/udp) socket bound to ``port``."""
    wanted = f"{port:04X}"
    for table in (proto, proto + "6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            # tcp: state 0A = LISTEN; udp: 07 = unconnected (bound)
            if fields[1].rpartition(":")[2] == wanted and fields[3] in ("0A", "07"):
                return True
    return False
