"""Runbook wall time on its built-in scenario vs. papermill executing an empty notebook.

Both are measured in the same run, warm (one untimed run first), as the
median of ``--repeat`` runs, with the same papermill options ``k8srun run``
uses. Prints, per runbook, the papermill execution time and the whole
``k8srun run`` time (execution + HTML report + findings.json), each with its
ratio to the empty notebook; the target is an execution ratio within 2x.

    python benchmarks/runbook_walltime.py [--repeat 5] [RUNBOOK ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

from k8srun import registry
from k8srun.report import run_runbook


def _empty_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("pass")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def _median_seconds(action, repeat: int) -> float:
    action()  # warm: imports cached, kernel spec resolved
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _execute(notebook: Path, output: Path, parameters: dict | None = None, cwd: Path | None = None) -> None:
    """papermill with the options ``k8srun run`` uses."""
    papermill.execute_notebook(str(notebook), str(output), parameters=parameters or {}, progress_bar=False,
                               kernel_name="python3", request_save_on_cell_execute=False, log_output=False,
                               cwd=str(cwd) if cwd else None,
                               extra_arguments=["--IPKernelApp.log_level=ERROR"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runbooks", nargs="*", help="default: every runbook")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    books = [registry.get(n) for n in args.runbooks] or registry.all_runbooks()
    os.environ["K8SRUN_HEADLESS"] = "1"
    with tempfile.TemporaryDirectory(prefix="k8srun-bench-") as tmp:
        folder = Path(tmp)
        empty = _empty_notebook(folder)
        baseline = _median_seconds(lambda: _execute(empty, folder / "empty-out.ipynb"), args.repeat)
        print(f"{'empty notebook (papermill)':<26} {baseline:6.2f} s  1.00x")
        print(f"{'runbook':<26} {'execute':>8} {'ratio':>6}   {'+ report':>8} {'ratio':>6}")
        worst = 0.0
        for book in books:
            executed = _median_seconds(lambda: _execute(book.notebook, folder / f"{book.name}.ipynb",
                                                        cwd=book.notebook.parent), args.repeat)
            total = _median_seconds(lambda: run_runbook(book.name, {}, folder / book.name, progress=False),
                                    args.repeat)
            worst = max(worst, executed / baseline)
            print(f"{book.name:<26} {executed:6.2f} s {executed / baseline:5.2f}x   "
                  f"{total:6.2f} s {total / baseline:5.2f}x")
        print(f"worst execute ratio {worst:.2f}x (target <= 2.00x); '+ report' adds HTML and findings.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
