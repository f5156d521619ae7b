"""``k8srun run``: execute a runbook with papermill and write its report.

Writes into ``--out DIR`` (default ``reports/<UTC timestamp>/``):

- ``RUNBOOK.ipynb``         the executed notebook (papermill output)
- ``RUNBOOK.html``          the report: code hidden, findings table first
                            (highest severity first), then the evidence
- ``RUNBOOK.findings.json`` the object of SPEC.md::

      {"runbook", "source", "parameters", "captured_at", "k8srun_version",
       "findings": [{"code", "severity", "title", "detail", "evidence",
                     "remedy", "runbook", "doc"}, ...],
       "not_checked": [{"code", "check", "reason"[, "partly": true]}, ...],
       "verdicts": [{"subject", "verdict", "codes", "note"}, ...],   # one per object looked at
       "redaction": {"status": "on (...)" | "OFF (...)", "counts": {rule: values redacted}},
       "unavailable": [{"what", "where", "reason", "skipped"}, ...],
       "error": null | "one line: where the run stopped"}

  ``not_checked`` comes from the summary's checks table; when the run
  stopped before it, every code of the runbook is listed as not checked.

Findings are read back from the executed notebook's outputs (mime type
``application/vnd.k8srun.findings+json``), so a cell that fails half-way
still leaves a report with what was found before it, and a visible error.

Exit codes: 0 the runbook ran (whatever it found); 1 a cell failed (report
still written); 2 it could not run (bad parameter, unknown runbook); 3
``--fail-on SEVERITY`` and a finding at or above it exists, or
``--fail-on-unchecked`` and a check could not run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import nbformat
import yaml

from . import __version__, registry
from .errors import ParameterError, RunbookError
from .model import Finding, Severity, Unavailable, catalogue, sort_findings, unavailable_counts
from .redact import redact_notebook, redact_object, redact_text
from .session import CHECKS_MIME, FINDINGS_MIME, REDACTION_MIME, REPORT_DIR_ENV, UNAVAILABLE_MIME, VERDICTS_MIME
from .render import last_shown, run_identity

EXIT_OK, EXIT_CELL_FAILED, EXIT_CANNOT_RUN, EXIT_FAIL_ON = 0, 1, 2, 3


@dataclass
class RunResult:
    """What one runbook execution produced."""

    runbook: str
    notebook: Path
    html: Path
    findings_json: Path
    findings: list[Finding] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    not_checked: list[dict] = field(default_factory=list)
    verdicts: list[dict] = field(default_factory=list)
    redaction: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    error: str | None = None  # one line when a cell failed

    def document(self) -> dict:
        """The findings.json object (module doc)."""
        return {"runbook": self.runbook, "source": self.run.get("source", ""),
                "parameters": self.run.get("parameters", {}), "captured_at": self.run.get("captured_at", ""),
                "k8srun_version": __version__, "findings": [f.to_dict() for f in self.findings],
                "not_checked": self.not_checked, "verdicts": self.verdicts, "redaction": self.redaction,
                "unavailable": [u.to_dict() for u in self.unavailable],
                "error": self.error}

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)


# ------------------------------------------------------------ parameters

#: the largest ``-f`` parameters file read (parameters are a few lines)
MAX_PARAMETERS_FILE_BYTES = 1 * 2**20


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors/aliases: parameters never need them, and "billion laughs" uses them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in parameters",
                                              event.start_mark)
        return super().compose_node(parent, index)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


def parse_cli_value(text: str) -> Any:
    """A ``-p`` value parsed as a YAML scalar or list (like papermill's ``-y``); text when it is not YAML."""
    try:
        return _yaml(text) if text != "" else ""
    except (yaml.YAMLError, RecursionError):
        return text


def _read_parameters_file(name: str) -> str:
    """The text of a ``-f`` file: a regular UTF-8 file of at most MAX_PARAMETERS_FILE_BYTES."""
    import stat

    try:
        if not stat.S_ISREG(os.stat(name).st_mode):  # before open(): opening a FIFO blocks
            raise ParameterError("-f", name, "not a regular file")
        with open(name, "rb") as handle:
            data = handle.read(MAX_PARAMETERS_FILE_BYTES + 1)
    except OSError as exc:
        raise ParameterError("-f", name, f"cannot read parameters file: {exc.strerror or exc}") from None
    if len(data) > MAX_PARAMETERS_FILE_BYTES:
        raise ParameterError("-f", name, f"larger than {MAX_PARAMETERS_FILE_BYTES} bytes; not a parameters file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError("-f", name, f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def load_parameters(files: list[str] | None, pairs: list[list[str]] | None) -> dict[str, Any]:
    """Parameters from ``-f`` YAML files, then ``-p NAME VALUE`` pairs (later wins).

    A file must be a regular UTF-8 file holding a YAML mapping of name: value
    (no aliases); every problem is a ParameterError naming ``-f`` and the file.
    """
    merged: dict[str, Any] = {}
    for name in files or []:
        try:
            data = _yaml(_read_parameters_file(name))
        except (yaml.YAMLError, RecursionError) as exc:
            reason = " ".join(str(exc).split())[:200]
            raise ParameterError("-f", name, f"not valid YAML: {reason}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
            raise ParameterError("-f", name, "a parameters file is a YAML mapping of name: value")
        merged.update(data)
    for name, value in pairs or []:
        merged[name] = parse_cli_value(value)
    return merged


def notebook_parameters(path: Path) -> dict[str, dict]:
    """The parameters a notebook declares (papermill's inspection)."""
    import papermill

    return papermill.inspect_notebook(str(path))


def preflight(runbook: registry.Runbook, parameters: dict[str, Any], *, base: Path | None = None) -> dict[str, Any]:
    """Reject unknown parameter names and invalid values before starting a kernel.

    Returns the cleaned parameters, relative paths made absolute against
    ``base`` (the caller's working directory), as the notebook will get them.
    Then the source must be usable (:func:`k8srun.sources.check_source`): a
    bundle that opens and holds the namespace/pod/container asked for, a
    kubeconfig, context and credential plugin that load and an API server
    that answers — else a one-line error, and no kernel starts.
    """
    from .sources import check_source, require_lab_target

    cleaned = runbook.validate(parameters, base=base or Path.cwd())
    values = {**runbook.defaults(), **cleaned}
    require_lab_target(runbook.parameter_names, values)
    check_source(values["source"], kubeconfig=values.get("kubeconfig") or None,
                 context=values.get("context") or None, timeout_s=values["timeout_s"],
                 namespace=values.get("namespace") or None, pod=values.get("pod") or None,
                 container=values.get("container") or None)
    return cleaned


# -------------------------------------------------------------- execution

ENGINE = "k8srun"


@functools.cache
def _keep_partial_engine():
    """papermill's nbclient engine, keeping the notebook executed so far when the run dies.

    papermill saves nothing when the kernel dies or a cell times out unless it
    saves after every cell (which costs more than the runbook's own work);
    this engine hands the partial notebook to :func:`run_runbook` instead.
    """
    from papermill.engines import NBClientEngine, papermill_engines

    class KeepPartialEngine(NBClientEngine):
        partial = None
        #: set to a callable to hear each section heading as its first cell starts (plain progress)
        announce = None

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            if cls.announce is not None:
                _announce_sections(nb_man, cls.announce)
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except Exception:
                cls.partial = nb_man.nb
                raise

        @classmethod
        def take_partial(cls):
            partial, cls.partial = cls.partial, None
            return partial

    papermill_engines.register(ENGINE, KeepPartialEngine)
    return KeepPartialEngine

def _announce_sections(nb_man, announce) -> None:
    """Make ``nb_man`` call ``announce(heading)`` when the first code cell after a ``##`` heading starts."""
    headings: dict[int, str] = {}
    pending = None
    for index, cell in enumerate(nb_man.nb.cells):
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            pending = cell.source.splitlines()[0][3:].strip()
        elif cell.cell_type == "code" and pending:
            headings[index], pending = pending, None
    original = nb_man.cell_start

    def cell_start(cell, cell_index=None, **kwargs):
        if cell_index in headings:
            announce(headings[cell_index])
        return original(cell, cell_index, **kwargs)

    nb_man.cell_start = cell_start


@contextmanager
def _kernel_env(report_dir: Path) -> Iterator[None]:
    """What the kernel inherits: K8SRUN_HEADLESS=1 (widgets render as static tables),
    K8SRUN_REPORT_DIR (node command outputs saved beside the report) and an
    absolute KUBECONFIG (a relative one names a file in the caller's folder)."""
    changes = {"K8SRUN_HEADLESS": "1", REPORT_DIR_ENV: str(report_dir.resolve())}
    kubeconfig = os.environ.get("KUBECONFIG")
    if kubeconfig:
        changes["KUBECONFIG"] = os.pathsep.join(str(Path(p).expanduser().resolve()) if p else p
                                                for p in kubeconfig.split(os.pathsep))
    old = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def not_checked(notebook: nbformat.NotebookNode, runbook: registry.Runbook, error: str | None) -> list[dict]:
    """Checks that could not run: NOT CHECKED rows of the last checks table shown, or every code
    of the runbook when no checks table was shown (the run stopped before its summary)."""
    table = last_shown(notebook, CHECKS_MIME)
    if table is None:
        reason = f"the runbook stopped before its checks ran ({error})" if error else "no checks table was shown"
        return [{"code": code, "check": info.title, "reason": reason}
                for code, info in catalogue().items() if code in runbook.requires]
    return [{"code": row["code"], "check": row["check"], "reason": row["note"],
             **({"partly": True} if row["status"] != "NOT CHECKED" else {})}
            for row in table if row["status"] in ("NOT CHECKED", "PARTIAL") or row["note"]]


def redaction(notebook: nbformat.NotebookNode) -> dict:
    """Whether redaction was on and the values each rule redacted, as the summary showed it."""
    from .redact import redaction_status

    return dict(last_shown(notebook, REDACTION_MIME, {"status": redaction_status(), "counts": {}}))


def verdicts(notebook: nbformat.NotebookNode) -> list[dict]:
    """The last "verdict per object" table the summary showed ([] when none)."""
    return list(last_shown(notebook, VERDICTS_MIME, []))


def collect(notebook: nbformat.NotebookNode) -> tuple[list[Finding], list[Unavailable]]:
    """Findings and unavailable rows displayed by the notebook's cells."""
    found: list[Finding] = []
    missing: list[Unavailable] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for item in data.get(FINDINGS_MIME, []) or []:
                found.append(Finding.from_dict(item))
            if UNAVAILABLE_MIME in data:
                missing.append(Unavailable(**data[UNAVAILABLE_MIME]))
    return sort_findings(found), missing


def render_html(result: RunResult, notebook: nbformat.NotebookNode) -> str:
    """The HTML report of ``result`` (:mod:`k8srun.render`): self-contained, header and findings first, code hidden."""
    from .render import report_html

    return report_html(notebook, result.runbook, registry.get(result.runbook).description, result.findings,
                       result.not_checked, result.unavailable, result.error, verdicts=result.verdicts)


#: the longest a whole runbook may run, kernel start included (``--max-time``); a cell gets at most 600 s
MAX_TIME_S = 1800


def run_runbook(name: str, parameters: dict[str, Any], out_dir: Path, *,
                progress: bool = True, cell_timeout: int = 600, max_time: float = MAX_TIME_S,
                sections=None) -> RunResult:
    """Validate, execute with papermill, and write notebook, HTML and findings.json.

    ``progress``: papermill's progress bar (a terminal); ``sections``: a callable told each
    section heading as it starts (the plain progress lines off a terminal).

    Everything is written into a staging folder and moved into ``out_dir``
    when complete (:class:`~k8srun.outdir.ReportFolder`): a failure or Ctrl-C
    leaves a previous report whole and nothing half-written. The kernel gets
    a private TMPDIR, removed afterwards (:mod:`k8srun.kernel`). A K8srunError
    before the runbook's header is shown (its first cell could not start:
    the input cannot be used) raises RunbookError and writes no report.
    """
    from .outdir import ReportFolder

    runbook = registry.get(name)
    parameters = preflight(runbook, parameters)
    with ReportFolder(out_dir, name) as folder, _kernel_workdir() as workdir:
        staging = folder.staging
        result = RunResult(runbook=name, notebook=staging / f"{name}.ipynb", html=staging / f"{name}.html",
                           findings_json=staging / f"{name}.findings.json")
        _execute(runbook, parameters, result, workdir, progress=progress, cell_timeout=cell_timeout,
                 max_time=max_time, sections=sections)
        executed = redact_notebook(nbformat.read(str(result.notebook), as_version=4))  # prints, tracebacks too
        nbformat.write(executed, str(result.notebook))
        result.error = redact_text(result.error) if result.error else result.error
        result.findings, result.unavailable = collect(executed)
        result.not_checked = not_checked(executed, runbook, result.error)
        result.verdicts = verdicts(executed)
        result.redaction = redaction(executed)
        result.run = run_identity(executed) or {"parameters": parameters}
        result.findings_json.write_text(
            json.dumps(redact_object(result.document()), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        result.html.write_text(render_html(result, executed), encoding="utf-8")
        folder.commit()
    return dataclasses.replace(result, notebook=out_dir / f"{name}.ipynb", html=out_dir / f"{name}.html",
                               findings_json=out_dir / f"{name}.findings.json")


def _execute(runbook: registry.Runbook, parameters: dict[str, Any], result: RunResult, workdir: Path, *,
             progress: bool, cell_timeout: int, max_time: float, sections=None) -> None:
    """papermill runs the notebook into ``result.notebook``; ``result.error`` says where it stopped.

    Each cell gets ``cell_timeout`` seconds, and never more than what is left
    of ``max_time`` for the whole run.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from .kernel import kernel_log_tail, kernel_manager

    name = runbook.name
    engine = _keep_partial_engine()
    engine.announce = sections
    deadline = time.monotonic() + max_time
    papermill_log = logging.getLogger("papermill")  # nbclient logs through it ("Timeout waiting for ..."):
    if not papermill_log.handlers:                  # result.error says it in one line instead
        papermill_log.addHandler(logging.NullHandler())

    def cell_time(cell) -> int:
        return max(1, min(cell_timeout, math.ceil(deadline - time.monotonic())))

    with _kernel_env(result.notebook.parent), _interrupt_stops_kernels():
        try:
            papermill.execute_notebook(
                str(runbook.notebook), str(result.notebook), parameters=parameters,
                progress_bar=progress, kernel_name="python3", cwd=str(Path.cwd()),
                request_save_on_cell_execute=False, timeout_func=cell_time, engine_name=ENGINE,
                start_timeout=cell_time(None), kernel_manager_class=kernel_manager(workdir), log_output=False,
                extra_arguments=["--IPKernelApp.log_level=ERROR", "--IPKernelApp.extensions=['k8srun.kernel']"])
        except PapermillExecutionError as exc:
            evalue = str(exc.evalue).splitlines()[0] if exc.evalue else ""
            if exc.ename in _k8srun_errors() and not _header_shown(result.notebook):
                raise RunbookError(evalue) from None  # the input cannot be used: one line, exit 2
            result.error = f"cell {exc.exec_count} raised {exc.ename}: {evalue}"
        except Exception as exc:  # kernel died, cell timed out: keep what ran so far
            first = (str(exc).strip().splitlines() or [""])[0]
            if time.monotonic() >= deadline:
                result.error = f"the runbook ran out of time: --max-time {max_time:g}s"
            else:
                log = kernel_log_tail(workdir)
                result.error = f"execution stopped: {type(exc).__name__}: {first}" + \
                    (f" (kernel log: {log})" if log and "Dead" in type(exc).__name__ else "")
            partial = engine.take_partial()
            if partial is None:
                raise RunbookError(f"{name} could not run: {result.error}") from None
            nbformat.write(partial, str(result.notebook))


@contextmanager
def _kernel_workdir() -> Iterator[Path]:
    """A private folder the kernel uses as TMPDIR and log folder, removed afterwards (whatever it left)."""
    try:
        workdir = Path(tempfile.mkdtemp(prefix="k8srun-kernel-"))
    except OSError as exc:
        raise RunbookError(f"cannot create a temp folder for the kernel in {tempfile.gettempdir()}: "
                           f"{exc.strerror or exc} (set TMPDIR to a writable folder)") from None
    try:
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _interrupt_stops_kernels() -> Iterator[None]:
    """Ctrl-C while the runbook runs: stop its kernel (SIGINT, then SIGKILL) before anything else."""
    from . import kernel

    try:
        yield
    except KeyboardInterrupt:
        kernel.stop_kernels()
        raise


def _k8srun_errors() -> set[str]:
    """Class names of every K8srunError: the errors k8srun raises on purpose, about its input."""
    from .errors import K8srunError

    names, todo = set(), [K8srunError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


def _header_shown(notebook_path: Path) -> bool:
    """Whether the runbook's header (Session.start done) is in the notebook papermill wrote."""
    try:
        return bool(run_identity(nbformat.read(str(notebook_path), as_version=4)))
    except (OSError, ValueError):
        return False


# ------------------------------------------------------------------- CLI

def add_arguments(parser) -> None:
    """Arguments of ``k8srun run``."""
    parser.add_argument("runbook", help="runbook name (see `k8srun list`)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        dest="parameters", help="a parameter; VALUE is parsed as YAML (repeatable)")
    parser.add_argument("-f", "--parameters-file", action="append", dest="files", metavar="PARAMS.yaml",
                        help="YAML file of parameters (repeatable; -p wins)")
    parser.add_argument("--out", metavar="DIR", help="report folder (default reports/<UTC timestamp>/)")
    parser.add_argument("--fail-on", metavar="SEVERITY", type=_severity,
                        help="exit 3 if a finding at or above SEVERITY exists (info|warning|error|critical)")
    parser.add_argument("--fail-on-unchecked", action="store_true",
                        help="exit 3 if a check could not run (NOT CHECKED: its evidence was unavailable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--max-time", metavar="SECONDS", default=str(MAX_TIME_S),
                        help=f"stop the runbook after SECONDS in all (default {MAX_TIME_S}; a report is "
                             "still written, exit 1); each call and command is bounded by -p timeout_s")


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        import argparse

        raise argparse.ArgumentTypeError(str(exc)) from None


def main(args) -> int:
    """Run one runbook and print where its report is."""
    from . import params
    from .errors import K8srunError

    try:
        parameters = load_parameters(args.files, args.parameters)
        max_time = params.positive_number("--max-time", args.max_time, maximum=24 * 3600)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        if args.out is not None and not args.out.strip():
            raise ParameterError("--out", args.out, "must not be empty")
        out_dir = Path(args.out) if args.out is not None else Path("reports") / stamp
        terminal = sys.stderr.isatty()
        plain = None if args.no_progress or terminal else \
            (lambda heading: print(f"k8srun run {args.runbook}: {heading}", file=sys.stderr, flush=True))
        result = run_runbook(args.runbook, parameters, out_dir, progress=not args.no_progress and terminal,
                             max_time=max_time, sections=plain)
    except K8srunError as exc:
        print(f"k8srun run: {redact_text(str(exc))}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    worst = result.worst()
    print(f"{len(result.findings)} finding(s)" + (f", worst: {worst}" if worst else "")
          + unavailable_counts(result.unavailable))
    for finding in result.findings:
        print(f"  [{finding.severity}] {finding.code} {finding.detail}")
    unchecked = [row["code"] for row in result.not_checked if not row.get("partly")]
    partly = [row["code"] for row in result.not_checked if row.get("partly")]
    if unchecked:
        print(f"{len(unchecked)} check(s) could not run: {', '.join(unchecked)} (evidence unavailable; "
              f"see {result.findings_json})")
    if partly:
        print(f"{len(partly)} check(s) ran only in part: {', '.join(partly)} (see {result.findings_json})")
    print(f"notebook: {result.notebook}")
    print(f"findings: {result.findings_json}")
    print(f"report: {result.html}")
    if result.error:
        print(f"k8srun run: {args.runbook} stopped early: {result.error} (see {result.html})",
              file=sys.stderr)
        return EXIT_CELL_FAILED
    if args.fail_on is not None and worst is not None and worst >= args.fail_on:
        return EXIT_FAIL_ON
    if args.fail_on_unchecked and result.not_checked:
        return EXIT_FAIL_ON
    return EXIT_OK
