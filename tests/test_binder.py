"""What Binder installs is enough: postBuild installs k8srun[lab], and every module
k8srun imports comes from a declared runtime dependency (checked by construction)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _dist_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[; ]", r, maxsplit=1)[0].strip().lower().replace("_", "-") for r in requirements}


def _imported_top_level_modules(folder: Path) -> set[str]:
    modules = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_every_third_party_import_is_a_declared_runtime_dependency():
    declared = _dist_names(_project()["dependencies"])
    providers = packages_distributions()
    missing = {}
    for module in _imported_top_level_modules(ROOT / "k8srun"):
        if module in sys.stdlib_module_names or module == "k8srun":
            continue
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        # IPython comes with ipykernel (a declared dependency)
        if module == "IPython" and "ipykernel" in declared:
            continue
        if not dists & declared:
            missing[module] = sorted(dists) or ["<not installed>"]
    assert not missing, f"imported but not declared in pyproject dependencies: {missing}"


def test_binder_installs_the_package_with_the_lab_extra():
    post_build = (ROOT / "binder" / "postBuild")
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    assert re.search(r"pip install .*-e \"\.\[lab\]\"", post_build.read_text())
    lab = _dist_names(_project()["optional-dependencies"]["lab"])
    assert "jupyterlab" in lab
    assert {"ipywidgets", "ipykernel", "papermill", "pandas"} <= _dist_names(_project()["dependencies"])
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_runbooks_open_on_a_scenario_without_a_cluster():
    """On Binder there is no cluster: each runbook's default source must be a built-in scenario."""
    import papermill
    import yaml

    for notebook in sorted((ROOT / "runbooks").glob("*.ipynb")):
        default = yaml.safe_load(papermill.inspect_notebook(str(notebook))["source"]["default"])
        assert default.startswith("scenario:"), notebook.name


def test_the_readme_binder_badge_opens_jupyterlab_on_the_runbooks_of_this_repository():
    """The badge is built from pyproject's Repository URL and opens JupyterLab in runbooks/."""
    repository = _project()["urls"]["Repository"]
    owner_repo = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", repository).group(1)
    badges = re.findall(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\(([^)]+)\)",
                        (ROOT / "README.md").read_text())
    assert badges == [f"https://mybinder.org/v2/gh/{owner_repo}/HEAD?urlpath=lab/tree/runbooks"]
    assert (ROOT / "runbooks").is_dir() and (ROOT / "binder" / "postBuild").is_file()
