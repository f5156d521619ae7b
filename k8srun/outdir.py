"""The report folder of ``k8srun run``: checked before a kernel starts, written aside, moved into place.

``ReportFolder(path, runbook)`` refuses, as a one-line
:class:`~k8srun.errors.ParameterError` naming ``--out``, a path that exists
and is not a directory, a path on ``/proc`` or ``/sys``, a non-empty folder
that holds no k8srun report (a report never overwrites other files, such as a
snapshot bundle's ``k8srun.json``) and a place it cannot create or write::

    with ReportFolder(Path("reports/x"), "dns") as folder:   # creates reports/x/.k8srun-partial-XXXX
        write(folder.staging / "dns.ipynb")                  # the run writes here
        folder.commit()                                      # then moves each entry into reports/x

Leaving the block without :meth:`commit` (an error, Ctrl-C) removes the
staging folder and any folder it created, so a previous report in ``path``
stays whole and nothing half-written is left. :meth:`commit` replaces the
previous report's entries of the same names (``RUNBOOK.ipynb``,
``RUNBOOK.html``, ``RUNBOOK.findings.json``, ``k8srun.json``, ``hosts/``) one
rename each, with Ctrl-C held back until it is done.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import ParameterError

#: kernel pseudo-filesystems: nothing a report can be written to
PSEUDO_FILESYSTEMS = (Path("/proc"), Path("/sys"))
STAGING_PREFIX = ".k8srun-partial-"


class ReportFolder:
    """The ``--out`` folder of one run (module doc)."""

    def __init__(self, path: Path, runbook: str, *, option: str = "--out"):
        self.option = option
        self.path = Path(os.path.abspath(Path(path).expanduser()))
        self.runbook = runbook
        self.staging: Path | None = None
        self._created: list[Path] = []
        self._check()

    def _refuse(self, reason: str) -> ParameterError:
        return ParameterError(self.option, str(self.path), reason)

    def _check(self) -> None:
        check_writable(self.path, self.option)
        if self.path.exists() or self.path.is_symlink():
            if not self.path.is_dir():
                raise self._refuse("exists and is not a directory")
            try:
                entries = [e for e in os.listdir(self.path) if not e.startswith(STAGING_PREFIX)]
            except OSError as exc:
                raise self._refuse(f"cannot be read: {exc.strerror or exc}") from None
            if entries and not any(e.endswith(".findings.json") for e in entries):
                raise self._refuse("is not empty and holds no k8srun report; choose a new or empty folder "
                                   "(a report never overwrites other files)")

    # ------------------------------------------------------------- staging
    def __enter__(self) -> "ReportFolder":
        missing = []
        parent = self.path
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self._created.append(folder)
            self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.path))
        except OSError as exc:
            self.discard()
            raise self._refuse(f"cannot write there: {exc.strerror or exc}") from None
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def commit(self) -> None:
        """Move every staged entry into the folder, replacing same-named ones (Ctrl-C waits for it)."""
        if self.staging is None:
            return
        with _interrupts_held():
            replaced = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.path))
            for entry in sorted(self.staging.iterdir()):
                target = self.path / entry.name
                if target.is_dir() and not target.is_symlink():
                    target.rename(replaced / entry.name)
                os.replace(entry, target)
            shutil.rmtree(replaced, ignore_errors=True)
            self.staging.rmdir()
            self.staging = None
            self._created.clear()

    def discard(self) -> None:
        """Remove the staging folder and the folders this run created (nothing half-written stays)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                break
        self._created.clear()


def check_writable(path: Path, option: str) -> None:
    """ParameterError naming ``option`` unless ``path`` can be created or written: not on /proc or /sys,
    and its nearest existing ancestor a directory this process may write into."""
    absolute = Path(os.path.abspath(Path(path).expanduser()))
    resolved = absolute.resolve()
    if any(resolved == fs or resolved.is_relative_to(fs) for fs in PSEUDO_FILESYSTEMS):
        raise ParameterError(option, str(path), "is on a kernel pseudo-filesystem; choose another place")
    ancestor = absolute if absolute.is_dir() else absolute.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ParameterError(option, str(path), f"cannot write there: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):  # also a read-only filesystem, for root too
        raise ParameterError(option, str(path), f"cannot write there: {ancestor} is not writable")


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C back until the block is done, then raise it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
