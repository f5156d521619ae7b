"""Runbook notebooks: thin, stripped, parameterised, and every parameters file fits its runbook."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from k8srun import registry

ROOT = Path(__file__).resolve().parents[1]
BOOKS = registry.all_runbooks()
PARAMETER_FILES = sorted((ROOT / "parameters").glob("*/*.yaml"))


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_notebook_is_stripped_tagged_and_described(book):
    nb = nbformat.read(book.notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert book.description and nb.cells[0].cell_type == "markdown"
    declared = papermill.inspect_notebook(str(book.notebook))
    # papermill must understand every assignment of the parameters cell (it skips what it can't parse)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assigned = [line.split("=")[0].strip() for line in cell.source.splitlines() if re.match(r"^\w+ *=", line)]
    assert assigned == list(declared)  # names and defaults vs the registry: tests/test_registry.py


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.name)
def test_notebook_cells_stay_thin(book):
    """Logic lives in the package: no function or class definitions, short cells."""
    nb = nbformat.read(book.notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert "def " not in cell.source and "class " not in cell.source
            assert len(cell.source.splitlines()) <= 12, cell.source


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parameters_files_match_their_runbook(path):
    values = yaml.safe_load(path.read_text()) or {}
    registry.get(path.parent.name).validate(values, base=ROOT)
