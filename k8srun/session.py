"""The runbook session: what a notebook holds while it runs.

A notebook starts one :class:`Session` from its parameters, asks it for
evidence (each gather returns a DataFrame, or an empty one plus a visible
"evidence unavailable" row with the reason), hands frames to the checks, and
shows the findings. Every findings display carries a machine-readable copy
(mime type :data:`FINDINGS_MIME`) so :mod:`k8srun.report` can rebuild
findings.json from the executed notebook, even when a later cell failed.

Typical cells::

    rb = Session.start("pod-pending", source=source, namespace=namespace, ...)
    pods = rb.pods()                       # one call ...
    rb.table(pods, "Pods", ["name", "status", "node"])   # ... one table
    routes = rb.node(routing.ROUTES)       # a node command on the run's target
    findings = rb.diagnose()               # the runbook's gather + diagnose (registry)
    rb.summary()

Every parameter is validated against the runbook's registry entry in
:meth:`Session.start` (a notebook opened in JupyterLab is as safe as the
CLI). Evidence is cached per run, so the diagnosis cell re-reads nothing the
sections already gathered, and re-running it *replaces* its findings.

Node command results are saved as they come in: when ``K8SRUN_REPORT_DIR``
is set (``k8srun run`` sets it to the report folder) each raw output goes to
``hosts/<host>/<command-id>.txt`` (+ ``.json``: argv, exit code, duration)
and ``k8srun.json`` records the runbook, its parameters and the command ids,
so ``k8srun run RUNBOOK -p source <report folder>`` replays the same run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from . import __version__, frames, params, registry
from .errors import K8srunError, ParseError, SourceError
from .evidence import NodeCommand, manual_command
from .model import Finding, Severity, Unavailable, catalogue, findings_frame, sort_findings
from .redact import (redact_command_result, redact_display, redact_object, redact_text, redaction_counts,
                     redaction_status)
from .sources import NoSource, Source, open_source, require_lab_target
from .tables import CELL_STYLE, html_table
from .targets import CommandResult, Target, open_target, save_results

#: environment variable naming the report folder node command outputs are saved into
REPORT_DIR_ENV = "K8SRUN_REPORT_DIR"

FINDINGS_MIME = "application/vnd.k8srun.findings+json"
UNAVAILABLE_MIME = "application/vnd.k8srun.unavailable+json"
#: the run's identity (runbook, source, parameters, captured_at), shown by the header
RUN_MIME = "application/vnd.k8srun.run+json"
#: the checks table (code, check, status, note), shown by the summary
CHECKS_MIME = "application/vnd.k8srun.checks+json"
#: one verdict per object the runbook looked at (subject, verdict, codes, note), shown by the summary
VERDICTS_MIME = "application/vnd.k8srun.verdicts+json"
#: whether redaction was on and how many values each rule redacted in this run, shown by the summary
REDACTION_MIME = "application/vnd.k8srun.redaction+json"

#: rows :meth:`Session.table` shows at most (the heading gives the total)
TABLE_MAX_ROWS = 100

#: resource plural -> the evidence name checks use in REQUIRES
_EVIDENCE_NAME = {"persistentvolumeclaims": "pvcs"}

_SEVERITY_COLOURS = {"critical": "#b00020", "error": "#d9480f", "warning": "#b08900", "info": "#1c7ed6"}


def _display(bundle: dict) -> None:
    """Show a display bundle; every output of a notebook goes through here, redacted (k8srun.redact)."""
    from IPython.display import display

    display(redact_display(bundle), raw=True)


_INLINE_CODE = re.compile(r"`([^`\n]{1,400})`")


def inline_markdown(text: str) -> str:
    """``text`` escaped, with markdown `code` spans as <code> (remedies name commands that way)."""
    return _INLINE_CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text))


def findings_html(findings: Iterable[Finding]) -> str:
    """Findings as an HTML table, highest severity first, with doc links."""
    rows = []
    for f in sort_findings(findings):
        colour = _SEVERITY_COLOURS.get(str(f.severity), "#333")
        doc = f' <a href="{html.escape(f.doc)}">docs</a>' if f.doc else ""
        rows.append(
            f"<tr><td style='{CELL_STYLE};color:{colour};font-weight:bold'>{f.severity}</td>"
            f"<td style='{CELL_STYLE};white-space:nowrap'><code>{html.escape(f.code)}</code></td>"
            f"<td style='{CELL_STYLE}'>{html.escape(f.title)}</td>"
            f"<td style='{CELL_STYLE}'>{html.escape(f.detail)}</td>"
            f"<td style='{CELL_STYLE}'>{inline_markdown(f.remedy)}{doc}</td></tr>")
    if not rows:
        return "<p class='k8srun-findings'><strong>No findings.</strong></p>"
    head = "".join(f"<th style='{CELL_STYLE}'>{name}</th>"
                   for name in ("severity", "code", "title", "detail", "remedy"))
    return (f"<table class='k8srun-findings'><thead><tr>{head}</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


class Session:
    """Evidence, findings and "unavailable" rows of one runbook run."""

    def __init__(self, runbook: str, source: Source, parameters: dict):
        self.runbook = runbook
        self.source = source
        self.parameters = parameters
        self.unavailable: list[Unavailable] = []
        self._objects: dict[tuple[str, str | None], list[dict] | None] = {}
        #: check name -> its findings (re-running a check replaces them)
        self._findings: dict[str, list[Finding]] = {}
        #: evidence names (as in a checks module's REQUIRES) that could not be had
        self.missing_evidence: set[str] = set()
        #: evidence that was had only in part (a capture could not read one namespace)
        self.incomplete_evidence: set[str] = set()
        #: code -> why its check did not run to the end (the check raised)
        self.failed_codes: dict[str, str] = {}
        self._target: Target | None = None
        self._target_spec = ""
        self._commands: dict[tuple[str, tuple[str, ...]], CommandResult] = {}
        self._frames: dict[tuple[str, tuple[str, ...]], pd.DataFrame] = {}
        self._tables: dict[tuple, pd.DataFrame] = {}
        self._logs: dict[tuple, str | None] = {}
        #: why objects / logs could not be had, by cache key (shown by widgets)
        self.object_errors: dict[tuple, str] = {}
        self.log_errors: dict[tuple, str] = {}
        #: the Source read side through this session's caches, for widgets
        self.reader = SessionReader(self)
        #: the evidence the last diagnose() ran on (for the per-object verdicts)
        self._evidence: dict | None = None
        self.report_dir: Path | None = None

    # ------------------------------------------------------------ start
    @classmethod
    def start(cls, runbook: str, *, show: bool = True, **values: Any) -> "Session":
        """Validate every parameter (registry), open the source and show the header.

        Unknown parameter names and invalid values raise ParameterError before
        anything is contacted. Parameters left at their default take the value
        the source recorded for this runbook (a report folder or a recorded
        scenario replays the run it came from); ``namespace=""`` means the
        source's default namespace.
        """
        spec = registry.get(runbook)
        values = {**spec.defaults(), **values}
        cleaned = spec.validate(values, base=Path.cwd())
        require_lab_target(spec.parameter_names, cleaned)
        opened = open_source(cleaned["source"], kubeconfig=cleaned.get("kubeconfig") or None,
                             context=cleaned.get("context") or None, timeout_s=cleaned["timeout_s"])
        try:
            cleaned = _recorded_defaults(spec, cleaned, values, opened)
        except K8srunError:
            opened.close()
            raise
        if "namespace" in cleaned and cleaned["namespace"] == "":
            cleaned["namespace"] = _default_namespace(spec, opened, context_given=bool(values.get("context")))
        session = cls(runbook, opened, cleaned)
        report_dir = os.environ.get(REPORT_DIR_ENV)
        if report_dir:
            session.report_dir = Path(report_dir)
            session._record()
        if show:
            session.header()
        return session

    @property
    def spec(self) -> registry.Runbook:
        """This runbook's registry entry."""
        return registry.get(self.runbook)

    @property
    def namespace(self) -> str | None:
        return self.parameters.get("namespace")

    def focus(self, namespace: str | None, pod: str = "") -> tuple[str | None, str]:
        """Look at another namespace/pod from here on (e.g. picked in the pickers).

        Findings, NOT CHECKED marks and unavailable rows of the earlier focus
        are dropped, so the summary describes what is looked at now.
        """
        namespace = params.dns1123_label("namespace", namespace, allow_empty=True) or None  # "": every namespace
        pod = params.dns1123_subdomain("pod", pod, allow_empty=True)
        if (namespace, pod) != (self.parameters.get("namespace"), self.parameters.get("pod", "")):
            self._findings.clear()
            self.missing_evidence.clear()
            self.incomplete_evidence.clear()
            self.failed_codes.clear()
            self.unavailable.clear()
        self.parameters.update(namespace=namespace, pod=pod)
        return namespace, pod

    def header(self) -> None:
        """Show what this run looks at: source, capture time, parameters."""
        meta = self.source.meta()
        lines = [f"<b>runbook</b> {html.escape(self.runbook)}",
                 f"<b>source</b> {html.escape(str(meta.get('description', '')))}"]
        if meta.get("captured_at"):
            lines.append(f"<b>captured at</b> {html.escape(str(meta['captured_at']))}")
        version = meta.get("cluster_version") or {}
        version = version.get("gitVersion") if isinstance(version, dict) else str(version)
        if version:
            lines.append(f"<b>cluster</b> {html.escape(version)}")
        shown = {k: v for k, v in self.parameters.items() if k != "source"}
        lines.append("<b>parameters</b> " + html.escape(json.dumps(shown, default=str)))
        lines.append(f"<b>redaction</b> {html.escape(redaction_status())}")
        run = {"runbook": self.runbook, "source": str(meta.get("description", "")),
               "cluster": version or "", "parameters": json.loads(json.dumps(self.parameters, default=str)),
               "captured_at": str(meta.get("captured_at") or "")}
        _display({"text/html": "<br>".join(lines),
                  "text/plain": "\n".join(html.unescape(l.replace("<b>", "").replace("</b>", ""))
                                          for l in lines),
                  RUN_MIME: run})

    # ---------------------------------------------------------- gather
    def note_unavailable(self, what: str, reason: str, where: str | None = None, *,
                         skipped: bool = False) -> None:
        """Record and show an "evidence unavailable" row (``skipped``: there is no cluster to ask)."""
        row = Unavailable(what=what, where=where or self.source.description, reason=reason, skipped=skipped)
        self.unavailable.append(row)
        label = "skipped" if skipped else "evidence unavailable"
        _display({"text/html": f"<p style='color:#868e96'>⚠ <b>{label}</b>: {html.escape(what)} — "
                               f"{html.escape(reason)}</p>",
                  "text/plain": f"{label}: {what} — {reason}",
                  UNAVAILABLE_MIME: row.to_dict()})

    def build(self, what: str, fn: Callable[..., pd.DataFrame], *args: Any,
              columns: list[str] | None = None, evidence: str | None = None, **kwargs: Any) -> pd.DataFrame:
        """Run one gatherer; on failure return an empty frame, show why, and mark ``evidence`` missing."""
        try:
            return fn(*args, **kwargs)
        except K8srunError as exc:
            reason = str(exc)
        except Exception as exc:  # a gatherer bug must not kill the report
            reason = f"internal error: {type(exc).__name__}: {exc}"
        if evidence:
            self.missing_evidence.add(evidence)
        self.note_unavailable(what, reason)
        return pd.DataFrame(columns=columns or [])

    def objects(self, resource: str, namespace: str | None = None, *,
                required: bool = True) -> list[dict] | None:
        """Raw objects, cached per run; None (and a visible row) when unavailable.

        ``required=False``: their absence only weakens a check, so it marks no
        code NOT CHECKED (e.g. other namespaces' pods for node usage).
        """
        key = (resource, namespace)
        if key not in self._objects:
            self._objects[key] = self._fetch(resource, namespace, lambda: self.source.list(resource, namespace))
        if self._objects[key] is None and required:
            self.missing_evidence.add(_EVIDENCE_NAME.get(resource, resource))
        return self._objects[key]

    def _fetch(self, resource: str, namespace: str | None, read: Callable[[], Any]) -> Any:
        """``read()`` of ``resource``: its gaps shown, or None with a visible row (and the error kept)."""
        where = f" in namespace {namespace}" if namespace else ""
        try:
            got = read()
            for what, why in self.source.gaps(resource, namespace):
                self.incomplete_evidence.add(_EVIDENCE_NAME.get(resource, resource))
                self.note_unavailable(what, why)
            return got
        except K8srunError as exc:
            self.object_errors[(resource, namespace)] = str(exc)
            self.note_unavailable(f"{resource}{where}", str(exc), skipped=isinstance(self.source, NoSource))
            return None

    def _frame(self, builder: Callable[[list[dict]], pd.DataFrame], columns: list[str],
               resource: str, namespace: str | None, *, required: bool = True) -> pd.DataFrame:
        key = (builder.__name__, (resource,), namespace)
        if key in self._tables:
            return self._tables[key]
        evidence = _EVIDENCE_NAME.get(resource, resource)
        frame_of = getattr(self.source, "frame", None)
        if frame_of is None or (resource, namespace) in self._objects:
            objs = self.objects(resource, namespace, required=required)
            if objs is None:
                return pd.DataFrame(columns=columns)
            self._tables[key] = self.build(f"{resource} table", builder, objs, columns=columns, evidence=evidence)
            return self._tables[key]
        # a bundle builds frames file by file from its columnar cache: no object is held whole
        failed: list[str] = []

        def read() -> pd.DataFrame:
            try:
                return frame_of(builder, resource, namespace)
            except K8srunError:
                raise
            except Exception as exc:  # a builder bug on a malformed object, as build() reports it
                failed.append(f"internal error: {type(exc).__name__}: {exc}")
                return None

        frame = self._fetch(resource, namespace, read)
        if failed:
            if required:
                self.missing_evidence.add(evidence)
            self.object_errors.setdefault((resource, namespace), failed[0])  # node usage must not read it as none
            self.note_unavailable(f"{resource} table", failed[0])
            self._tables[key] = pd.DataFrame(columns=columns)
            return self._tables[key]
        if frame is None:
            self._objects[(resource, namespace)] = None  # objects() says the same without reading again
            if required:
                self.missing_evidence.add(evidence)
            return pd.DataFrame(columns=columns)
        self._tables[key] = frame
        return frame

    def pods(self, namespace: str | None = "", *, required: bool = True) -> pd.DataFrame:
        """Pods (``namespace=""``: the session's namespace, None: all).

        When the run names a ``pod`` that is not there, that is shown and the
        pod checks say NOT CHECKED rather than OK. ``required=False``: as for
        :meth:`objects` (their absence marks no code NOT CHECKED).
        """
        ns = self.namespace if namespace == "" else namespace
        pods = self._frame(frames.pods_frame, frames.POD_COLUMNS, "pods", ns, required=required)
        wanted = self.parameters.get("pod")
        if wanted and namespace == "" and "pods" not in self.missing_evidence \
                and not (pods["name"] == wanted).any():
            self.missing_evidence.add("pods")
            self.note_unavailable(f"pod {ns}/{wanted}", "no such pod (deleted or replaced? check the name)")
        return pods

    def containers(self, namespace: str | None = "") -> pd.DataFrame:
        """Container statuses joined with their specs."""
        ns = self.namespace if namespace == "" else namespace
        return self._frame(frames.containers_frame, frames.CONTAINER_COLUMNS, "pods", ns)

    def events(self, namespace: str | None = "") -> pd.DataFrame:
        """Events sorted by last_seen (oldest first, like --sort-by .lastTimestamp)."""
        ns = self.namespace if namespace == "" else namespace
        return self._frame(frames.events_frame, frames.EVENT_COLUMNS, "events", ns)

    def events_for(self, kind: str, name: str, namespace: str | None = "") -> pd.DataFrame:
        """Events of one object (a field selector on a live cluster), cached; unread marks ``events`` missing."""
        ns = self.namespace if namespace == "" else namespace
        key = ("events_for", (kind, name), ns)
        if key not in self._tables:
            self._tables[key] = self.build(f"events of {kind} {ns}/{name}",
                                           lambda: frames.events_frame(self.source.events_for(ns, kind, name)),
                                           columns=frames.EVENT_COLUMNS, evidence="events")
        return self._tables[key]

    def nodes(self) -> pd.DataFrame:
        """Nodes: readiness, taints, allocatable."""
        return self._frame(frames.nodes_frame, frames.NODE_COLUMNS, "nodes", None)

    def node_conditions(self) -> pd.DataFrame:
        """Every node condition with its transition time."""
        return self._frame(frames.node_conditions_frame, frames.NODE_CONDITION_COLUMNS, "nodes", None)

    def node_usage(self) -> pd.DataFrame:
        """Requested vs allocatable per node (all namespaces' pods).

        A bundle reads only the few fields of each pod this needs
        (:func:`k8srun.frames.pod_usage_frame`), from its columnar cache.
        """
        if getattr(self.source, "frame", None) is None or ("pods", None) in self._objects:
            pods, nodes = self.objects("pods", None, required=False), self.objects("nodes", None)
            if pods is None or nodes is None:
                return pd.DataFrame(columns=frames.NODE_USAGE_COLUMNS)
            return self.build("node usage", frames.node_usage_frame, pods, nodes,
                              columns=frames.NODE_USAGE_COLUMNS)
        nodes = self.nodes()
        if "nodes" in self.missing_evidence:
            return pd.DataFrame(columns=frames.NODE_USAGE_COLUMNS)
        usage = self._frame(frames.pod_usage_frame, frames.POD_USAGE_COLUMNS, "pods", None, required=False)
        if ("pods", None) in self.object_errors:
            return pd.DataFrame(columns=frames.NODE_USAGE_COLUMNS)
        return self.build("node usage", frames.node_usage_from, usage, nodes, columns=frames.NODE_USAGE_COLUMNS)

    def pvcs(self, namespace: str | None = "") -> pd.DataFrame | None:
        """PersistentVolumeClaims, or None when the source lacks them."""
        ns = self.namespace if namespace == "" else namespace
        if self.objects("persistentvolumeclaims", ns) is None:
            return None
        return self._frame(frames.pvcs_frame, frames.PVC_COLUMNS, "persistentvolumeclaims", ns)

    def services(self, namespace: str | None = "") -> pd.DataFrame:
        """Services with their selectors and ports."""
        ns = self.namespace if namespace == "" else namespace
        return self._frame(frames.services_frame, frames.SERVICE_COLUMNS, "services", ns)

    def endpoints(self, namespace: str | None = "") -> pd.DataFrame:
        """Endpoints addresses (ready and not ready)."""
        ns = self.namespace if namespace == "" else namespace
        return self._frame(frames.endpoints_frame, frames.ENDPOINT_COLUMNS, "endpoints", ns)

    def _read_log(self, namespace: str | None, pod: str, container: str, previous: bool,
                  tail_lines: int | None) -> tuple[str | None, bool]:
        """(redacted text or None, first read?) of one container's log, cached per run with its error."""
        key = (namespace, pod, container, previous, tail_lines)
        if key in self._logs:
            return self._logs[key], False
        try:
            text = redact_text(self.source.logs(namespace, pod, container, previous=previous, tail_lines=tail_lines))
        except K8srunError as exc:
            text = None
            self.log_errors[key] = str(exc)
        self._logs[key] = text
        return text, True

    def logs(self, pod: str, container: str, *, previous: bool = False,
             tail_lines: int | None = None, namespace: str | None = None) -> str | None:
        """One container's log text, or None (and a visible row) when unavailable."""
        ns = namespace or self.namespace
        text, first = self._read_log(ns, pod, container, previous, tail_lines)
        if text is None and first:
            what = f"{'previous ' if previous else ''}logs of {ns}/{pod} container {container}"
            reason = self.log_errors[(ns, pod, container, previous, tail_lines)]
            if previous:  # routine: most containers have no previous run
                self.unavailable.append(Unavailable(what, self.source.description, reason))
            else:
                self.missing_evidence.add("logs")
                self.note_unavailable(what, reason, skipped=isinstance(self.source, NoSource))
        return text

    def container_logs(self, containers: pd.DataFrame, *, previous: bool = False,
                       tail_lines: int | None = None) -> dict[tuple[str, str], str | None]:
        """Logs of each (pod, container) row; ``previous`` only where a previous run exists."""
        logs: dict[tuple[str, str], str | None] = {}
        for row in containers.itertuples(index=False):
            if previous and not (row.restarts or row.last_state == "terminated"):
                continue
            if not previous and row.state not in ("running", "terminated"):
                continue
            logs[(row.pod, row.container)] = self.logs(row.pod, row.container, previous=previous,
                                                       tail_lines=tail_lines, namespace=row.namespace)
        return logs

    # ------------------------------------------------------ node commands
    @property
    def target(self) -> Target:
        """Where node commands run (the ``target`` parameter; a recorded source replays)."""
        if self._target is None:
            spec = self.parameters.get("target", "")
            if not spec and self.source.kind in ("none", "live"):
                spec = "local"
            self._target_spec = spec
            self._target = open_target(spec, source=self.source,
                                       timeout_s=self.parameters.get("timeout_s", 10),
                                       kubeconfig=self.parameters.get("kubeconfig") or None,
                                       context=self.parameters.get("context") or None)
        return self._target

    def node_result(self, command: NodeCommand, **extra: Any) -> CommandResult | None:
        """Run one node command on the target (cached per argv) and save its raw output.

        Returns None, with an "evidence unavailable" row, when the target
        cannot be opened (e.g. a bundle without recorded node commands).
        """
        try:
            target = self.target
        except K8srunError as exc:
            self.missing_evidence.add(command.name)
            self.note_unavailable(command.title, str(exc), where=str(self.parameters.get("target") or "target"))
            return None
        command_id, argv = command.build({**self.parameters, **extra})
        key = (command_id, argv)
        if key not in self._commands:
            _display({"text/html": f"<pre class='k8srun-command'>$ {html.escape(manual_command(argv, target.spec))}"
                                   f"</pre>",
                      "text/plain": f"$ {manual_command(argv, target.spec)}"})
            result = target.run(command_id, argv, timeout_s=self.parameters.get("timeout_s"))
            self._commands[key] = result
            self._record(result)
        return self._commands[key]

    def node(self, command: NodeCommand, **extra: Any) -> pd.DataFrame:
        """A node command's output as a DataFrame; empty plus a visible row when it could not be had.

        A missing tool, a timeout, an exit code outside ``command.accept_exit``
        or output the parser rejects all become "evidence unavailable" with
        the reason, and mark ``command.name`` missing for the checks.
        """
        result = self.node_result(command, **extra)
        columns = list(command.columns)
        if result is None:
            return pd.DataFrame(columns=columns)
        key = (result.command_id, result.argv)
        if key in self._frames:
            return self._frames[key]
        never_ran_or_killed = result.exit_code is None or result.exit_code < 0  # missing tool, timeout
        if never_ran_or_killed or (result.error is not None and result.exit_code not in command.accept_exit):
            self.missing_evidence.add(command.name)
            self.note_unavailable(f"{command.title} ({result.command_id})",
                                  result.error or "no output", where=result.target)
            frame = pd.DataFrame(columns=columns)
        else:
            try:
                frame = command.parse_result(result)
            except ParseError as exc:
                self.missing_evidence.add(command.name)
                self.note_unavailable(f"{command.title} ({result.command_id})", str(exc), where=result.target)
                frame = pd.DataFrame(columns=columns)
        self._frames[key] = frame
        return frame

    def _record(self, result: CommandResult | None = None) -> None:
        """Save a node command result (and k8srun.json) into the report folder, when there is one."""
        if self.report_dir is None:
            return
        self.report_dir.mkdir(parents=True, exist_ok=True)
        if result is not None:
            save_results([redact_command_result(result)], self.report_dir)
        info_path = self.report_dir / "k8srun.json"
        info = {"format": 1, "k8srun_version": __version__,
                "captured_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "recorded": {"runbook": self.runbook,
                             "parameters": {k: v for k, v in self.parameters.items()
                                            if k not in ("source", "kubeconfig", "context")},
                             "source": self.source.description,
                             "target": self._target_spec,
                             "commands": sorted({cid for cid, _ in self._commands})}}
        info_path.write_text(json.dumps(redact_object(info), indent=2, default=str) + "\n", encoding="utf-8")

    # ---------------------------------------------------------- checks
    @property
    def findings(self) -> list[Finding]:
        """Every finding of this run (each check's latest result)."""
        return [f for found in self._findings.values() for f in found]

    def check(self, diagnose: Callable[..., list[Finding]], **evidence: Any) -> list[Finding]:
        """Run a check on gathered frames, record and show its findings.

        A finding whose code needs evidence that could not be gathered (the
        ``REQUIRES`` table of the check's module) is dropped: an empty table
        that stands for "could not look" must not read as "nothing there".
        The checks table then says NOT CHECKED for that code. Running the same
        check again replaces its findings.
        """
        name = getattr(diagnose, "__module__", "") + "." + getattr(diagnose, "__name__", "check")
        requires = getattr(sys.modules.get(getattr(diagnose, "__module__", "")), "REQUIRES", {})
        for code in requires:
            self.failed_codes.pop(code, None)
        try:
            found = list(diagnose(**evidence))
        except Exception as exc:  # a check bug must not kill the report
            reason = f"internal error: {type(exc).__name__}: {exc}"
            self.note_unavailable(f"check {name}", reason)
            self.failed_codes.update(dict.fromkeys(requires, f"check failed: {reason}"))
            self._findings[name] = []
            return []
        found = [f for f in found if not set(requires.get(f.code, ())) & self.missing_evidence]
        self._findings[name] = found
        self._show(found)
        return found

    def gather(self) -> dict[str, Any]:
        """Every piece of evidence this runbook's ``diagnose`` takes (its checks module's ``gather``)."""
        return self.spec.checks.gather(self)

    def diagnose(self, evidence: dict[str, Any] | None = None) -> list[Finding]:
        """Gather (cached) and run this runbook's diagnosis; the one entry point notebooks and tests share."""
        checks = self.spec.checks
        self._evidence = None
        if evidence is None:
            try:
                evidence = checks.gather(self)
            except K8srunError as exc:
                self.note_unavailable("evidence", str(exc))
                self.failed_codes.update(dict.fromkeys(self.spec.requires, f"gather failed: {exc}"))
                return []
        self._evidence = evidence
        return self.check(checks.diagnose, **evidence)

    def add(self, findings: Iterable[Finding]) -> None:
        """Record findings made outside a check and show them."""
        findings = list(findings)
        self._findings.setdefault("added", []).extend(findings)
        self._show(findings)

    def _show(self, findings: list[Finding]) -> None:
        plain = "\n".join(f"[{f.severity}] {f.code} {f.detail}" for f in sort_findings(findings))
        _display({"text/html": findings_html(findings), "text/plain": plain or "No findings.",
                  FINDINGS_MIME: [f.to_dict() for f in findings]})

    def table(self, frame: pd.DataFrame, title: str | None = None,
              columns: list[str] | None = None, *, empty: str = "none",
              max_rows: int | None = TABLE_MAX_ROWS) -> None:
        """Show a DataFrame as a static table (optionally some columns).

        At most ``max_rows`` rows are shown (the first ones: sort the frame
        first to show the top rows), with the total count in the heading, so
        a report of a 150,000-pod cluster stays readable; ``None`` shows all.
        """
        if columns:
            frame = frame[[c for c in columns if c in frame.columns]]
        total = len(frame)
        shown = frame if max_rows is None or total <= max_rows else frame.head(max_rows)
        more = total - len(shown)
        note = f"showing the first {len(shown)} of {total} rows" if more else ""
        heading = f"<h4>{html.escape(title)} ({total})</h4>" if title else ""
        body = html_table(shown) if total else f"<p><em>{html.escape(empty)}</em></p>"
        if note:
            body += f"<p class='k8srun-more'><em>{html.escape(note)}</em></p>"
        plain = shown.to_string() if total else empty
        _display({"text/html": heading + body,
                  "text/plain": (f"{title}\n" if title else "") + plain + (f"\n({note})" if note else "")})

    # --------------------------------------------------------- summary
    def checks_table(self, requires: dict[str, list[str]] | None = None) -> pd.DataFrame:
        """One row per code of this runbook: FOUND, OK, PARTIAL or NOT CHECKED (why).

        ``REQUIRES`` evidence missing makes a code NOT CHECKED; the checks
        module's ``PARTIAL`` evidence (what a code can do without, in part)
        missing makes it PARTIAL (NOT CHECKED when all of it is missing and the
        code requires nothing else, as triage's).
        """
        requires = self.spec.requires if requires is None else requires
        partial = self.spec.partial if requires is self.spec.requires else {}
        found = {f.code for f in self.findings}
        rows = []
        for code, info in catalogue().items():
            if code not in requires:
                continue
            lacking = [r for r in requires[code] if r in self.missing_evidence]
            some = partial.get(code, [])
            lacking_some = [r for r in some if r in self.missing_evidence]
            lacking_some += [r for r in (*requires[code], *some)
                             if r in self.incomplete_evidence and r not in self.missing_evidence]
            if code in found:
                status = "FOUND"
                note = f"partly checked, evidence unavailable: {', '.join(lacking_some)}" if lacking_some else ""
            elif code in self.failed_codes:
                status, note = "NOT CHECKED", self.failed_codes[code]
            elif lacking or (some and not requires[code] and all(r in self.missing_evidence for r in some)):
                status, note = "NOT CHECKED", f"evidence unavailable: {', '.join(lacking + lacking_some)}"
            elif lacking_some:
                status, note = "PARTIAL", f"checked without: {', '.join(lacking_some)} (evidence unavailable)"
            else:
                status, note = "OK", ""
            rows.append({"code": code, "check": info.title, "status": status, "note": note})
        return pd.DataFrame(rows, columns=["code", "check", "status", "note"])

    def verdicts(self) -> pd.DataFrame:
        """One row per object the runbook looked at: what was found, or why nothing was.

        The checks module's ``subjects(**evidence)`` names the objects (every
        Pending pod, every crash-looping pod); an object without a finding
        reads "no cause found" — with the checks that could not run, if any —
        never silence.
        """
        columns = ["subject", "verdict", "codes", "note"]
        subjects = getattr(self.spec.checks, "subjects", None)
        if subjects is None or self._evidence is None:
            return pd.DataFrame(columns=columns)
        checks = self.checks_table()
        unchecked = [f"{r.code} ({r.note})" for r in checks.itertuples() if r.status in ("NOT CHECKED", "PARTIAL")]
        rows = []
        for subject in subjects(**self._evidence):
            codes = sorted({f.code for f in self.findings if f.subject == subject})
            if codes:
                rows.append({"subject": subject, "verdict": "FOUND", "codes": ", ".join(codes), "note": ""})
            elif unchecked:
                rows.append({"subject": subject, "verdict": "NO CAUSE FOUND", "codes": "",
                             "note": "some checks could not run: " + "; ".join(unchecked)})
            else:
                rows.append({"subject": subject, "verdict": "NO CAUSE FOUND", "codes": "",
                             "note": "every check ran and none explains it: describe it by hand "
                                     f"(kubectl describe {subject.replace(' ', ' -n ', 1).replace('/', ' ', 1)})"})
        return pd.DataFrame(rows, columns=columns)

    def summary(self, requires: dict[str, list[str]] | None = None) -> pd.DataFrame:
        """Show every finding (highest severity first), checks and unavailable rows."""
        checks = self.checks_table(requires)
        verdicts = self.verdicts()
        parts = ["<h3>Findings</h3>", findings_html(self.findings),
                 "<h3>Checks</h3>", html_table(checks)]
        if len(verdicts):
            parts += ["<h3>Verdict per object looked at</h3>", html_table(verdicts)]
        if self.unavailable:
            rows = pd.DataFrame([u.to_dict() for u in self.unavailable])
            parts += ["<h3>Evidence unavailable</h3>", html_table(rows)]
        worst = self.worst()
        verdict = f"{len(self.findings)} finding(s), worst: {worst}" if worst else "no findings"
        counts = redaction_counts()
        parts.append(f"<p class='k8srun-redaction'><b>redaction</b> {html.escape(redaction_status())}; "
                     + html.escape(", ".join(f"{rule}: {n}" for rule, n in sorted(counts.items())) or "nothing redacted")
                     + "</p>")
        _display({"text/html": "".join(parts), "text/plain": verdict,
                  CHECKS_MIME: checks.to_dict("records"), VERDICTS_MIME: verdicts.to_dict("records"),
                  REDACTION_MIME: {"status": redaction_status(), "counts": counts}})
        return findings_frame(self.findings)

    def worst(self) -> Severity | None:
        """The highest severity found, or None."""
        return max((f.severity for f in self.findings), default=None)

    def close(self) -> None:
        """Release the source (temp dirs of a .tar.gz bundle)."""
        self.source.close()


class SessionReader:
    """The read side of a Source, answered through a Session's caches (for widgets).

    Pickers and log viewers take ``rb.reader`` instead of the source, so what
    they show comes from the same cache the tables came from, and a failure
    is the session's "evidence unavailable" reason.
    """

    def __init__(self, session: "Session"):
        self._session = session

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        objects = self._session.objects(resource, namespace, required=False)
        if objects is None:
            raise SourceError(self._session.object_errors.get((resource, namespace), f"{resource} unavailable"))
        return objects

    def namespaces(self) -> list[str]:
        return sorted(o["metadata"]["name"] for o in self.list("namespaces"))

    def logs(self, namespace: str, pod: str, container: str, *, previous: bool = False,
             tail_lines: int | None = None) -> str:
        text, _ = self._session._read_log(namespace, pod, container, previous, tail_lines)
        if text is None:
            key = (namespace, pod, container, previous, tail_lines)
            raise SourceError(self._session.log_errors.get(key, "logs unavailable"))
        return text


def _default_namespace(spec: registry.Runbook, source: Source, *, context_given: bool) -> str | None:
    """What ``namespace=""`` means for this runbook on this source (None: every namespace).

    A live cluster's kubeconfig context may pin a namespace; it is used only
    when the user named that context (``-p context NAME``), as kubectl would
    with ``--context NAME``: a context that merely happens to be current does
    not narrow a search for the problem to one namespace.
    """
    pinned = getattr(source, "context_namespace", "") if source.kind == "live" and context_given else ""
    if pinned and spec.namespace_default != "source":
        return pinned
    every = spec.namespace_default == "all" or (spec.namespace_default == "all-but-scenario"
                                                and source.kind != "scenario")
    return None if every else source.default_namespace()


def _recorded_defaults(spec: registry.Runbook, cleaned: dict, given: dict, source: Source) -> dict:
    """Parameters left at their default take what the source recorded for this runbook.

    A report folder or a recorded scenario says in ``k8srun.json`` which
    parameters its node commands ran with; replaying it with the same values
    makes the same argv, so the recorded outputs answer.
    """
    recorded = (source.meta().get("recorded") or {}) if source.kind in ("scenario", "snapshot") else {}
    if recorded.get("runbook") != spec.name:
        return cleaned
    defaults = spec.defaults()
    out = dict(cleaned)
    for name, value in (recorded.get("parameters") or {}).items():
        if name in defaults and name not in ("source", "kubeconfig", "context", "namespace") \
                and given.get(name) == defaults[name]:
            out[name] = spec.parameter(name).clean(value)
    if not out.get("target") and recorded.get("target") and "target" in defaults:
        out["target"] = recorded["target"]
    return out


def diagnose_runbook(runbook: str, **values: Any) -> Session:
    """Start a session (no display), gather and diagnose: what tests and scripts call."""
    session = Session.start(runbook, show=False, **values)
    session.diagnose()
    return session


__all__ = ["Session", "FINDINGS_MIME", "UNAVAILABLE_MIME", "RUN_MIME", "CHECKS_MIME", "VERDICTS_MIME", "REPORT_DIR_ENV", "diagnose_runbook", "findings_html"]
