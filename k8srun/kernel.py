"""The Jupyter kernel a runbook runs in: how ``k8srun run`` starts, quiets and stops it.

Two halves, one per side of the ZeroMQ wire:

- **in the kernel**, an IPython extension (``%load_ext k8srun.kernel``; ``k8srun
  run`` loads it with ``--IPKernelApp.extensions``): an error k8srun raises on
  purpose (:class:`~k8srun.errors.K8srunError`: a bad parameter, a bundle or
  cluster that cannot be read) shows as its one line, ``ParameterError: ...``,
  never a traceback; any other exception is a bug in k8srun and shows its
  traceback followed by a line saying so.
- **in** ``k8srun run``, :func:`kernel_manager` is the jupyter_client
  KernelManager papermill starts the kernel with: the kernel's own log
  (stderr, stdout) goes to ``kernel.log`` in a private temp dir that is also
  the kernel's ``TMPDIR`` (so whatever the kernel leaves there — an
  extracted ``.tar.gz`` bundle, kubeconfig certificate files — goes when the
  parent removes that dir), and the kernel is not interrupted on a normal
  shutdown. jupyter_client sends SIGINT before every shutdown request; landing
  in a message handler, it made ipykernel print ``[IPKernelApp] ERROR |
  KeyboardInterrupt caught in kernel.`` on the user's terminal at the end of
  ordinary runs. :func:`stop_kernels` stops the kernels of this process on
  Ctrl-C: SIGINT to the kernel's process group (a cell's ``finally`` blocks
  run), then SIGKILL after a short grace.
"""

from __future__ import annotations

import os
import signal
import time
import weakref
from pathlib import Path

#: kernels started by :func:`kernel_manager` classes in this process, for :func:`stop_kernels`
_STARTED: "weakref.WeakSet" = weakref.WeakSet()

BUG_NOTE = ("This traceback is a bug in k8srun, not a problem of the input (those get one line): "
            "please report it with the traceback above.")


# ----------------------------------------------------------------- kernel side

def load_ipython_extension(shell) -> None:
    """Show k8srun's own errors as one line; mark any other traceback as a k8srun bug."""
    shell.set_custom_exc((Exception,), _show_error)


def _show_error(shell, etype, value, tb, tb_offset=None):
    from .errors import K8srunError

    if isinstance(value, K8srunError):
        stb = [f"{etype.__name__}: {value}"]
    else:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset) + [BUG_NOTE]
    shell._showtraceback(etype, value, stb)  # the error output and the execute reply's traceback
    return stb


# ----------------------------------------------------------------- parent side

def kernel_manager(workdir: Path):
    """An AsyncKernelManager class whose kernels use ``workdir`` as TMPDIR and write their log there."""
    from jupyter_client.manager import AsyncKernelManager

    class K8srunKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.connection_file = str(workdir / "kernel.json")  # not a mkstemp file left in TMPDIR

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw["env"] = {**(kw.get("env") or os.environ), "TMPDIR": str(workdir)}
            with open(workdir / "kernel.log", "ab") as log:
                kw["stdout"] = kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)
            _STARTED.add(self)

        async def _async_interrupt_kernel(self):
            if self.shutting_down:  # the interrupt jupyter_client sends before every shutdown request
                return
            await super()._async_interrupt_kernel()

    return K8srunKernelManager


def kernel_log_tail(workdir: Path) -> str:
    """The last line the kernel logged (why it died), or ``""``."""
    try:
        lines = (workdir / "kernel.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def stop_kernels(grace_s: float = 2.0) -> None:
    """Stop every kernel this process started and that still runs: SIGINT, then SIGKILL after ``grace_s``."""
    processes = []
    for manager in list(_STARTED):
        process = getattr(getattr(manager, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            processes.append(process)
    for process in processes:
        _signal_group(process.pid, signal.SIGINT)
    deadline = time.monotonic() + grace_s
    for process in processes:
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)  # jupyter_client starts kernels in a session of their own
    except ProcessLookupError:
        pass
