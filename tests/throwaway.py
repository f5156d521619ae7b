"""Throw-away runbooks for tests: a registry module plus its notebook, written into a folder.

``write_runbook(folder, name, *cells)`` writes ``k8srun_test_<name>.py`` (``RUNBOOK`` with the
common parameters, scenario ``pod-pending``, no ``REQUIRES``) and ``<name>.ipynb`` (a title, the
``parameters`` cell, then one code cell per string) and returns the module name. A run finds them
with ``folder`` on ``PYTHONPATH`` and the module in ``K8SRUN_RUNBOOK_MODULES`` (and, for the
notebook, ``K8SRUN_RUNBOOKS_DIR=folder``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_runbook(folder: Path, name: str, *cells: str, description: str = "test runbook") -> str:
    """Write runbook ``name`` (registry module + notebook) into ``folder``; returns the module name."""
    module = f"k8srun_test_{name}"
    (folder / f"{module}.py").write_text(
        "from k8srun.registry import CLUSTER, TIMEOUT, Runbook\n"
        f"RUNBOOK = Runbook(name={name!r}, description={description!r}, scenario='pod-pending',\n"
        "                  parameters=(*CLUSTER, TIMEOUT))\n"
        "REQUIRES = {}\n")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("source = 'scenario:pod-pending'")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), parameters,
                      *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(notebook, folder / f"{name}.ipynb")
    return module
