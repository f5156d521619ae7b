"""The runbook registry: every runbook declared once, everything else reads it.

A runbook is declared by its checks module (``k8srun/checks/<module>.py``)
as a module-level ``RUNBOOK = Runbook(...)``::

    RUNBOOK = Runbook(
        name="mtu",
        description="Some requests hang, ping works: path MTU black holes",
        scenario="mtu",                               # default source scenario:mtu
        parameters=(*CLUSTER, TARGET,                 # shared declarations (below)
                    Parameter("dest", "", "address to probe", validate=params.ip_address)),
        triage=("overlay-mtu",),                      # triage suspect kinds routed here
    )

and next to it ``REQUIRES`` (code -> evidence names), ``gather(rb) -> dict``
(every frame ``diagnose`` needs, read through the :class:`~k8srun.session.Session`)
and ``diagnose(**evidence) -> list[Finding]``. The notebook is
``runbooks/<name>.ipynb``; its ``parameters`` cell declares exactly the
registry's parameters with the registry's defaults (a test pins it).

``k8srun list``, ``k8srun run`` (parameter names and validation before a
kernel starts), :meth:`Session.start` (the same validation in JupyterLab),
triage's "open this next" (:func:`route`) and the tests all derive from
:func:`all_runbooks`. Third-party runbooks register through the entry-point
group ``k8srun.runbooks`` (each entry point a checks module with ``RUNBOOK``);
during development and in tests, ``K8SRUN_RUNBOOK_MODULES`` names more such
modules (comma-separated, importable from ``sys.path``/``PYTHONPATH``).

Discovery imports the modules of :mod:`k8srun.checks`; a module without a
``RUNBOOK`` attribute (shared helpers) is not a runbook.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

from . import params
from .errors import ParameterError, RunbookError

ENTRY_POINT_GROUP = "k8srun.runbooks"
MODULES_ENV = "K8SRUN_RUNBOOK_MODULES"


@dataclass(frozen=True)
class Parameter:
    """One runbook parameter: name, default, one-line help and its validator.

    ``validate(name, value) -> cleaned`` raises ParameterError naming the
    parameter; it is not called on the default (defaults mean "from the
    source" or "not given"). ``path=True``: a relative value is resolved
    against the caller's working directory before the notebook runs.
    """

    name: str
    default: Any
    help: str
    validate: Callable[[str, Any], Any] | None = None
    path: bool = False

    def clean(self, value: Any) -> Any:
        """The validated value (the default passes unchanged)."""
        if value == self.default or self.validate is None:
            return value
        return self.validate(self.name, value)


def _source(name: str, value: Any) -> str:
    from .sources import resolve_source_spec

    resolve_source_spec(value)
    return str(value).strip()


def _target(name: str, value: Any) -> str:
    from .targets import parse_target_spec

    parse_target_spec(value)  # validates the spec; nothing is contacted
    return str(value).strip()


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or "\0" in value or "\n" in value:
        raise ParameterError(name, value, "must be one line of text")
    return value


#: parameters every runbook that reads cluster state declares (RUNBOOKS.md "Common parameters")
CLUSTER = (
    Parameter("source", "", "scenario:NAME, a snapshot bundle path, live, lab or none", _source, path=True),
    Parameter("kubeconfig", "", "for source live; empty means ~/.kube/config or in-cluster", _text, path=True),
    Parameter("context", "", "for source live; empty means the current context", _text),
)
TIMEOUT = Parameter("timeout_s", 10, "per command / API call, seconds", params.timeout_seconds)
NAMESPACE = Parameter("namespace", "", "namespace to look at; empty means every namespace (a built-in scenario: its own)",
                      lambda n, v: params.dns1123_label(n, v, allow_empty=True))
POD = Parameter("pod", "", "empty means every pod of interest in the namespace",
                lambda n, v: params.dns1123_subdomain(n, v, allow_empty=True))
TARGET = Parameter("target", "", "where node commands run: local, netns:NAME, ssh:[USER@]HOST, "
                   "node:NODE; empty means from the source (local when there is none)", _target)


@dataclass(frozen=True)
class Runbook:
    """One runbook as declared by its checks module (see module doc)."""

    name: str
    description: str
    scenario: str
    parameters: tuple[Parameter, ...]
    triage: tuple[str, ...] = ()
    #: what ``namespace=""`` means: "source" (the source's default namespace), "all" (every namespace,
    #: triage), or "all-but-scenario" (every namespace of a bundle or live cluster; a built-in
    #: scenario keeps the namespace its story is in: the pod runbooks)
    namespace_default: str = "source"
    module: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise RunbookError(f"runbook {self.name}: a parameter is declared twice ({names})")
        if self.namespace_default not in ("source", "all", "all-but-scenario"):
            raise RunbookError(f"runbook {self.name}: namespace_default is source, all or all-but-scenario")
        if "source" not in names or "timeout_s" not in names:
            raise RunbookError(f"runbook {self.name}: declare the common parameters source and timeout_s")

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        import difflib

        close = difflib.get_close_matches(str(name), self.parameter_names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ParameterError(name, None, f"runbook {self.name} has no such parameter "
                             f"({hint}has: {', '.join(self.parameter_names)})")

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default; ``source`` defaults to this runbook's scenario."""
        values = {p.name: p.default for p in self.parameters}
        values["source"] = f"scenario:{self.scenario}"
        return values

    def validate(self, values: Mapping[str, Any], *, base: Path | None = None) -> dict[str, Any]:
        """Cleaned values: unknown names and invalid values raise ParameterError.

        ``base``: relative values of path parameters are made absolute against it.
        """
        cleaned = {}
        for name, value in values.items():
            parameter = self.parameter(name)
            if base is not None and parameter.path and isinstance(value, str):
                value = absolute_path(value, base)
            cleaned[name] = parameter.clean(value)
        return cleaned

    @property
    def checks(self) -> ModuleType:
        """The checks module (``REQUIRES``, ``gather``, ``diagnose``)."""
        return importlib.import_module(self.module)

    @property
    def requires(self) -> dict[str, list[str]]:
        """code -> evidence without which the code is NOT CHECKED (the checks module's ``REQUIRES``)."""
        return getattr(self.checks, "REQUIRES", {})

    @property
    def partial(self) -> dict[str, list[str]]:
        """code -> evidence without which the code is checked only in part (the module's ``PARTIAL``)."""
        return getattr(self.checks, "PARTIAL", {})

    @property
    def notebook(self) -> Path:
        return runbooks_dir() / f"{self.name}.ipynb"


def absolute_path(value: str, base: Path) -> str:
    """A path-like parameter made absolute against ``base`` (specs such as ``live`` unchanged)."""
    if not value or value in ("live", "none", "lab") or value.startswith("scenario:"):
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def runbooks_dir() -> Path:
    """Where the runbook notebooks live (``K8SRUN_RUNBOOKS_DIR`` overrides)."""
    override = os.environ.get("K8SRUN_RUNBOOKS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "runbooks"


def _declared(module: ModuleType) -> Runbook | None:
    declared = getattr(module, "RUNBOOK", None)
    if declared is None:
        return None
    if not isinstance(declared, Runbook):
        raise RunbookError(f"{module.__name__}.RUNBOOK is not a k8srun.registry.Runbook")
    object.__setattr__(declared, "module", module.__name__)
    return declared


def _registry() -> dict[str, Runbook]:
    return _load(os.environ.get(MODULES_ENV, ""))


@functools.cache
def _load(extra_modules: str) -> dict[str, Runbook]:
    from . import checks

    found: dict[str, Runbook] = {}
    modules = [f"{checks.__name__}.{info.name}" for info in pkgutil.iter_modules(checks.__path__)]
    plugins = [ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)]
    extra = [m.strip() for m in extra_modules.split(",") if m.strip()]
    for name in modules + plugins + extra:
        declared = _declared(importlib.import_module(name))
        if declared is None:
            continue
        if declared.name in found:
            raise RunbookError(f"runbook {declared.name!r} declared twice "
                               f"({found[declared.name].module} and {name})")
        found[declared.name] = declared
    return dict(sorted(found.items()))


def all_runbooks() -> list[Runbook]:
    """Every registered runbook, sorted by name."""
    return list(_registry().values())


def names() -> list[str]:
    return list(_registry())


def get(name: str) -> Runbook:
    """The runbook called ``name``; RunbookError listing the registered ones if none."""
    try:
        return _registry()[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(str(name), names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise RunbookError(f"no runbook {name!r}{hint} (have: {', '.join(names())})") from None


def route(suspect: str) -> Runbook | None:
    """The runbook that takes triage suspects of kind ``suspect``, or None when none is registered."""
    for runbook in _registry().values():
        if suspect in runbook.triage:
            return runbook
    return None


def routed_parameters(runbook: Runbook, candidates: Mapping[str, Any]) -> dict[str, Any]:
    """The candidate parameters the runbook declares (None values left out)."""
    declared = set(runbook.parameter_names)
    return {k: v for k, v in candidates.items() if k in declared and v is not None}


# ------------------------------------------------------------------ CLI: k8srun list

def add_arguments(parser) -> None:
    """``k8srun list`` takes no arguments."""


def _declared_literally(path: Path) -> tuple[str, str] | None:
    """(name, description) of a checks module's ``RUNBOOK = Runbook(...)``, read without importing it.

    ``k8srun list`` must answer at once; importing every checks module pulls
    in pandas. None when the declaration is not plain literals (then import).
    """
    import ast

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    tree = _runbook_statement(text)
    if tree is None:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["RUNBOOK"] \
                and isinstance(node.value, ast.Call):
            fields = {k.arg: k.value for k in node.value.keywords}
            try:
                return ast.literal_eval(fields["name"]), ast.literal_eval(fields["description"])
            except (KeyError, ValueError):
                return None
    return None


def _runbook_statement(text: str):
    """The module of just the ``RUNBOOK = ...`` statement (parsing every whole checks module is most of
    ``k8srun list``'s time), or None when it cannot be cut out alone."""
    import ast

    start = text.find("\nRUNBOOK = ")
    if start < 0:
        return None
    end = start + 1
    for _ in range(40):  # the statement ends at a line that parses: try each next blank line
        end = text.find("\n\n", end + 1)
        if end < 0:
            return None
        try:
            return ast.parse(text[start + 1:end])
        except SyntaxError:
            continue
    return None


def listing() -> list[tuple[str, str]]:
    """(name, description) of every registered runbook, sorted; imports modules only when it must."""
    if os.environ.get(MODULES_ENV) or list(entry_points(group=ENTRY_POINT_GROUP)):
        return [(r.name, r.description) for r in all_runbooks()]
    folder = Path(__file__).resolve().parent / "checks"  # not imported: the package pulls in pandas
    found = []
    for info in pkgutil.iter_modules([str(folder)]):
        path = folder / f"{info.name}.py"
        declared = _declared_literally(path) if path.is_file() else None
        if declared is None:
            book = _declared(importlib.import_module(f"{__package__}.checks.{info.name}"))
            declared = (book.name, book.description) if book else None
        if declared:
            found.append(declared)
    return sorted(found)


def main(args) -> int:
    """Print ``name  description`` per runbook."""
    books = listing()
    width = max((len(name) for name, _ in books), default=0)
    for name, description in books:
        print(f"{name:<{width}}  {description}")
    return 0
