"""Runbook wall time on its built-in scenario vs. papermill executing an empty notebook.

Both are measured in the same run, warm (one untimed run first), as the
median of ``--repeat`` runs, with the same papermill options ``k8srun run``
uses. Prints seconds per runbook and the ratio to the empty notebook;
the target is a ratio within 2x.

    python benchmarks/runbook_walltime.py [--repeat 3] [RUNBOOK ...]
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

from k8srun import runbooks
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runbooks", nargs="*", help="default: every runbook")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names = args.runbooks or [r.name for r in runbooks.all_runbooks()]
    os.environ["K8SRUN_HEADLESS"] = "1"
    with tempfile.TemporaryDirectory(prefix="k8srun-bench-") as tmp:
        folder = Path(tmp)
        empty = _empty_notebook(folder)
        baseline = _median_seconds(lambda: papermill.execute_notebook(
            str(empty), str(folder / "empty-out.ipynb"), progress_bar=False, kernel_name="python3",
            request_save_on_cell_execute=False, log_output=False), args.repeat)
        print(f"{'empty notebook (papermill)':<28} {baseline:6.2f} s  1.00x")
        worst = 0.0
        for name in names:
            seconds = _median_seconds(lambda: run_runbook(name, {}, folder / name, progress=False), args.repeat)
            ratio = seconds / baseline
            worst = max(worst, ratio)
            print(f"{name:<28} {seconds:6.2f} s  {ratio:.2f}x  (incl. HTML + findings.json)")
        print(f"worst ratio {worst:.2f}x (target <= 2.00x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
