"""The runbook catalogue: the notebooks under ``runbooks/`` and ``k8srun list``.

Each runbook is ``runbooks/<name>.ipynb`` with notebook metadata
``{"k8srun": {"description": "...", "scenario": "<default scenario>"}}`` and
a cell tagged ``parameters``. Set ``K8SRUN_RUNBOOKS_DIR`` to use another folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import RunbookError


@dataclass(frozen=True)
class Runbook:
    """One runbook notebook."""

    name: str
    path: Path
    description: str
    scenario: str


def runbooks_dir() -> Path:
    """Where the runbook notebooks live."""
    override = os.environ.get("K8SRUN_RUNBOOKS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "runbooks"


def _load(path: Path) -> Runbook:
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("k8srun", {})
    except (OSError, ValueError) as exc:
        raise RunbookError(f"{path}: unreadable notebook: {exc}") from None
    return Runbook(name=path.stem, path=path, description=meta.get("description", ""),
                   scenario=meta.get("scenario", path.stem))


def all_runbooks() -> list[Runbook]:
    """Every runbook, sorted by name."""
    folder = runbooks_dir()
    if not folder.is_dir():
        raise RunbookError(f"runbooks folder {folder} not found (install k8srun from its source "
                           "tree with `pip install -e .`, or set K8SRUN_RUNBOOKS_DIR)")
    return [_load(p) for p in sorted(folder.glob("*.ipynb"))]


def get(name: str) -> Runbook:
    """The runbook called ``name``; RunbookError listing the known ones if none."""
    for runbook in all_runbooks():
        if runbook.name == name:
            return runbook
    known = ", ".join(r.name for r in all_runbooks())
    raise RunbookError(f"no runbook {name!r} (have: {known})")


def add_arguments(parser) -> None:
    """``k8srun list`` takes no arguments."""


def main(args) -> int:
    """Print ``name  description`` per runbook."""
    books = all_runbooks()
    width = max((len(r.name) for r in books), default=0)
    for runbook in books:
        print(f"{runbook.name:<{width}}  {runbook.description}")
    return 0
