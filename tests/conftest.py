"""Shared pytest fixtures and skip rules."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest


def pytest_configure(config):
    """Ctrl-C reaches the processes the tests start, however the suite was started.

    A command started in the background by a shell without job control
    (``( make test & )`` in a script) has SIGINT ignored (POSIX), and every
    process it starts inherits that: the Ctrl-C tests would then signal
    subjects that cannot hear it. Catching SIGINT here (as an interactive
    Python does) gives every child the default disposition back at exec.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def netns_available() -> tuple[bool, str]:
    """Whether this machine can create network namespaces (root + ip netns)."""
    if os.geteuid() != 0:
        return False, "needs root to create network namespaces (CI runs as root)"
    if shutil.which("ip") is None:
        return False, "iproute2 `ip` not installed"
    probe = "k8srun-probe-%d" % os.getpid()
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return False, f"`ip netns add` unavailable: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return True, ""


def pytest_collection_modifyitems(config, items):
    if not any(item.get_closest_marker("netns") for item in items):
        return
    ok, reason = netns_available()
    if ok:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if item.get_closest_marker("netns"):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def fault_lab(tmp_path_factory):
    """The fault lab, fresh, for one test module: the machine-wide lab lock is held, its state
    lives in a temp dir, and it is always taken down (``k8srun.lab.control.lab_session``)."""
    from k8srun.lab import control

    with pytest.MonkeyPatch.context() as env:
        env.setenv("K8SRUN_LAB_DIR", str(tmp_path_factory.mktemp("lab") / "state"))
        with control.lab_session() as session:
            yield session
