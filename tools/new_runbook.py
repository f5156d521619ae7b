#!/usr/bin/env python3
"""Start a runbook notebook from its registry entry (the "notebook from a template" step).

Usage::

    .venv/bin/python tools/new_runbook.py NAME            # writes runbooks/NAME.ipynb (refuses to overwrite)
    .venv/bin/python tools/new_runbook.py --print NAME    # the parameters cell the registry implies

The checks module with ``RUNBOOK = Runbook(name=NAME, ...)`` must exist
first (see README "Adding a runbook"). The notebook gets: a title and the
description, the ``parameters`` cell rendered from the registry (names,
defaults, one-line help — tests/test_registry.py keeps the two in step), the
``Session.start`` cell passing every parameter, one section per
:class:`~k8srun.evidence.NodeCommand` the module declares (heading, a line to
replace with the why, ``rb.node(...)`` and its table), the diagnosis and the
summary (tagged ``in-summary``: the report shows them at its top). Cells that
only make sense in JupyterLab (pickers and notes about them) get the tag
``interactive-only`` so reports leave them out. Write the narrative, then
strip outputs before committing.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

import nbformat

from k8srun import registry
from k8srun.evidence import NodeCommand
from k8srun.render import IN_SUMMARY


def parameters_source(book: registry.Runbook) -> str:
    """The ``parameters`` cell: ``name = default  # help`` per registry parameter, aligned."""
    values = book.defaults()
    lines = [f"{name} = {values[name]!r}".replace("'", '"') for name in book.parameter_names]
    width = max(len(line) for line in lines)
    helps = [book.parameter(name).help for name in book.parameter_names]
    body = "\n".join(f"{line:<{width}}  # {text}" for line, text in zip(lines, helps))
    return "# Parameters (papermill injects overrides below this cell)\n" + body


def _node_commands(book: registry.Runbook) -> list[tuple[str, NodeCommand]]:
    return [(name, value) for name, value in vars(book.checks).items() if isinstance(value, NodeCommand)]


def notebook(book: registry.Runbook) -> nbformat.NotebookNode:
    """The skeleton notebook of ``book``."""
    module = book.checks.__name__.rsplit(".", 1)[-1]
    indent = " " * len("rb = Session.start(")
    start_args = textwrap.fill(", ".join(f"{n}={n}" for n in book.parameter_names), width=100,
                               initial_indent=indent, subsequent_indent=indent)
    params_cell = nbformat.v4.new_code_cell(parameters_source(book))
    params_cell.metadata["tags"] = ["parameters"]
    cells = [
        nbformat.v4.new_markdown_cell(f"# {book.description}\n\nTODO: the failure class in one paragraph, "
                                      "and the guide's flow this runbook follows."),
        params_cell,
        nbformat.v4.new_code_cell(f"from k8srun.checks import {module}\nfrom k8srun.session import Session\n\n"
                                  f"rb = Session.start({book.name!r},\n{start_args})"),
    ]
    for number, (name, command) in enumerate(_node_commands(book), 1):
        variable = name.lower()
        cells += [nbformat.v4.new_markdown_cell(f"## {number}. {command.title[:1].upper()}{command.title[1:]}\n\n"
                                                "TODO: why this evidence matters; the manual command is shown "
                                                "above the table when it runs."),
                  nbformat.v4.new_code_cell(f"{variable} = rb.node({module}.{name})\n"
                                            f"rb.table({variable}, {command.title!r})")]
    closing = [nbformat.v4.new_markdown_cell("## Diagnosis"),
               nbformat.v4.new_code_cell(f"findings = rb.diagnose()  # {module}.gather(rb) -> {module}.diagnose(...)"),
               nbformat.v4.new_markdown_cell("## Summary"),
               nbformat.v4.new_code_cell("summary = rb.summary()")]
    for cell in closing:  # the report shows findings and checks once, at its top
        cell.metadata["tags"] = [IN_SUMMARY]
    cells += closing
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a registered runbook (its checks module declares RUNBOOK)")
    parser.add_argument("--print", action="store_true", help="print the parameters cell instead of writing")
    args = parser.parse_args(argv)
    try:
        book = registry.get(args.name)
    except registry.RunbookError as exc:
        print(f"new_runbook: {exc}", file=sys.stderr)
        return 2
    if args.print:
        print(parameters_source(book))
        return 0
    path = book.notebook
    if path.exists():
        print(f"new_runbook: {path} exists; not overwritten", file=sys.stderr)
        return 2
    nbformat.write(notebook(book), str(path))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
