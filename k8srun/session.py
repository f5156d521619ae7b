"""The runbook session: what a notebook holds while it runs.

A notebook starts one :class:`Session` from its parameters, asks it for
evidence (each gather returns a DataFrame, or an empty one plus a visible
"evidence unavailable" row with the reason), hands frames to the checks, and
shows the findings. Every findings display carries a machine-readable copy
(mime type :data:`FINDINGS_MIME`) so :mod:`k8srun.report` can rebuild
findings.json from the executed notebook, even when a later cell failed.

Typical cells::

    rb = Session.start("pod-pending", source=source, namespace=namespace)
    pods = rb.pods()                       # one call ...
    rb.table(pods, "Pods", ["name", "status", "node"])   # ... one table
    rb.check(pending.diagnose, pods=pods, events=events, ...)
    rb.summary()
"""

from __future__ import annotations

import html
import json
import sys
from typing import Any, Callable, Iterable

import pandas as pd

from . import frames, params
from .errors import K8srunError
from .model import Finding, Severity, Unavailable, catalogue, findings_frame, sort_findings
from .redact import redact_text
from .sources import Source, open_source
from .tables import CELL_STYLE, html_table

FINDINGS_MIME = "application/vnd.k8srun.findings+json"
UNAVAILABLE_MIME = "application/vnd.k8srun.unavailable+json"

#: resource plural -> the evidence name checks use in REQUIRES
_EVIDENCE_NAME = {"persistentvolumeclaims": "pvcs"}

_SEVERITY_COLOURS = {"critical": "#b00020", "error": "#d9480f", "warning": "#b08900", "info": "#1c7ed6"}


def _display(bundle: dict) -> None:
    from IPython.display import display

    display(bundle, raw=True)


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
            f"<td style='{CELL_STYLE}'>{html.escape(f.remedy)}{doc}</td></tr>")
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
        self.findings: list[Finding] = []
        self.unavailable: list[Unavailable] = []
        self._objects: dict[tuple[str, str | None], list[dict] | None] = {}
        #: evidence names (as in a checks module's REQUIRES) that could not be had
        self.missing_evidence: set[str] = set()
        #: code -> why its check did not run to the end (the check raised)
        self.failed_codes: dict[str, str] = {}

    # ------------------------------------------------------------ start
    @classmethod
    def start(cls, runbook: str, *, source: str, namespace: str | None = "",
              kubeconfig: str | None = None, context: str | None = None,
              timeout_s: float = 10, show: bool = True, **extra: Any) -> "Session":
        """Validate the common parameters, open the source and show the header."""
        if namespace:
            namespace = params.dns1123_label("namespace", namespace)
        timeout_s = params.positive_number("timeout_s", timeout_s)
        opened = open_source(source, kubeconfig=kubeconfig or None, context=context or None,
                             timeout_s=timeout_s)
        if namespace == "":  # "" = the source's own default (a scenario's namespace)
            namespace = opened.default_namespace()
        session = cls(runbook, opened, {"source": source, "namespace": namespace,
                                        "timeout_s": timeout_s, **extra})
        if show:
            session.header()
        return session

    @property
    def namespace(self) -> str | None:
        return self.parameters.get("namespace")

    def focus(self, namespace: str | None, pod: str = "") -> tuple[str | None, str]:
        """Look at another namespace/pod from here on (e.g. picked in the pickers)."""
        if namespace:
            namespace = params.dns1123_label("namespace", namespace)
        pod = params.dns1123_subdomain("pod", pod, allow_empty=True)
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
        _display({"text/html": "<br>".join(lines),
                  "text/plain": "\n".join(html.unescape(l.replace("<b>", "").replace("</b>", ""))
                                          for l in lines)})

    # ---------------------------------------------------------- gather
    def note_unavailable(self, what: str, reason: str, where: str | None = None) -> None:
        """Record and show an "evidence unavailable" row."""
        row = Unavailable(what=what, where=where or self.source.description, reason=reason)
        self.unavailable.append(row)
        skipped = reason.startswith("no cluster source")
        label = "skipped" if skipped else "evidence unavailable"
        _display({"text/html": f"<p style='color:#868e96'>⚠ <b>{label}</b>: {html.escape(what)} — "
                               f"{html.escape(reason)}</p>",
                  "text/plain": f"{label}: {what} — {reason}",
                  UNAVAILABLE_MIME: row.to_dict()})

    def gather(self, what: str, fn: Callable[..., pd.DataFrame], *args: Any,
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
            where = f" in namespace {namespace}" if namespace else ""
            try:
                self._objects[key] = self.source.list(resource, namespace)
            except K8srunError as exc:
                self._objects[key] = None
                self.note_unavailable(f"{resource}{where}", str(exc))
        if self._objects[key] is None and required:
            self.missing_evidence.add(_EVIDENCE_NAME.get(resource, resource))
        return self._objects[key]

    def _frame(self, builder: Callable[[list[dict]], pd.DataFrame], columns: list[str],
               resource: str, namespace: str | None) -> pd.DataFrame:
        objs = self.objects(resource, namespace)
        if objs is None:
            return pd.DataFrame(columns=columns)
        return self.gather(f"{resource} table", builder, objs, columns=columns,
                           evidence=_EVIDENCE_NAME.get(resource, resource))

    def pods(self, namespace: str | None = "") -> pd.DataFrame:
        """Pods (``namespace=""``: the session's namespace, None: all).

        When the run names a ``pod`` that is not there, that is shown and the
        pod checks say NOT CHECKED rather than OK.
        """
        ns = self.namespace if namespace == "" else namespace
        pods = self._frame(frames.pods_frame, frames.POD_COLUMNS, "pods", ns)
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
        """Events of one object (a field selector on a live cluster)."""
        ns = self.namespace if namespace == "" else namespace
        return self.gather(f"events of {kind} {ns}/{name}",
                           lambda: frames.events_frame(self.source.events_for(ns, kind, name)),
                           columns=frames.EVENT_COLUMNS)

    def nodes(self) -> pd.DataFrame:
        """Nodes: readiness, taints, allocatable."""
        return self._frame(frames.nodes_frame, frames.NODE_COLUMNS, "nodes", None)

    def node_conditions(self) -> pd.DataFrame:
        """Every node condition with its transition time."""
        return self._frame(frames.node_conditions_frame, frames.NODE_CONDITION_COLUMNS, "nodes", None)

    def node_usage(self) -> pd.DataFrame:
        """Requested vs allocatable per node (all namespaces' pods)."""
        pods, nodes = self.objects("pods", None, required=False), self.objects("nodes", None)
        if pods is None or nodes is None:
            return pd.DataFrame(columns=frames.NODE_USAGE_COLUMNS)
        return self.gather("node usage", frames.node_usage_frame, pods, nodes,
                           columns=frames.NODE_USAGE_COLUMNS)

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

    def logs(self, pod: str, container: str, *, previous: bool = False,
             tail_lines: int | None = None, namespace: str | None = None) -> str | None:
        """One container's log text, or None (and a visible row) when unavailable."""
        ns = namespace or self.namespace
        what = f"{'previous ' if previous else ''}logs of {ns}/{pod} container {container}"
        try:
            return redact_text(self.source.logs(ns, pod, container, previous=previous,
                                                tail_lines=tail_lines))
        except K8srunError as exc:
            if previous:  # routine: most containers have no previous run
                self.unavailable.append(Unavailable(what, self.source.description, str(exc)))
                return None
            self.missing_evidence.add("logs")
            self.note_unavailable(what, str(exc))
            return None

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

    # ---------------------------------------------------------- checks
    def check(self, diagnose: Callable[..., list[Finding]], **evidence: Any) -> list[Finding]:
        """Run a check on gathered frames, record and show its findings.

        A finding whose code needs evidence that could not be gathered (the
        ``REQUIRES`` table of the check's module) is dropped: an empty table
        that stands for "could not look" must not read as "nothing there".
        The checks table then says NOT CHECKED for that code.
        """
        name = getattr(diagnose, "__module__", "") + "." + getattr(diagnose, "__name__", "check")
        requires = getattr(sys.modules.get(getattr(diagnose, "__module__", "")), "REQUIRES", {})
        try:
            found = list(diagnose(**evidence))
        except Exception as exc:  # a check bug must not kill the report
            reason = f"internal error: {type(exc).__name__}: {exc}"
            self.note_unavailable(f"check {name}", reason)
            self.failed_codes.update(dict.fromkeys(requires, f"check failed: {reason}"))
            return []
        found = [f for f in found if not set(requires.get(f.code, ())) & self.missing_evidence]
        self.add(found)
        return found

    def add(self, findings: Iterable[Finding]) -> None:
        """Record findings and show them (with their machine-readable copy)."""
        findings = list(findings)
        self.findings.extend(findings)
        plain = "\n".join(f"[{f.severity}] {f.code} {f.detail}" for f in sort_findings(findings))
        _display({"text/html": findings_html(findings), "text/plain": plain or "No findings.",
                  FINDINGS_MIME: [f.to_dict() for f in findings]})

    def table(self, frame: pd.DataFrame, title: str | None = None,
              columns: list[str] | None = None, *, empty: str = "none") -> None:
        """Show a DataFrame as a static table (optionally some columns)."""
        if columns:
            frame = frame[[c for c in columns if c in frame.columns]]
        heading = f"<h4>{html.escape(title)} ({len(frame)})</h4>" if title else ""
        body = html_table(frame) if len(frame) else f"<p><em>{html.escape(empty)}</em></p>"
        _display({"text/html": heading + body,
                  "text/plain": (f"{title}\n" if title else "") + (frame.to_string() if len(frame) else empty)})

    # --------------------------------------------------------- summary
    def checks_table(self, requires: dict[str, list[str]]) -> pd.DataFrame:
        """One row per code of this runbook: FOUND, OK, or NOT CHECKED (why)."""
        found = {f.code for f in self.findings}
        rows = []
        for code, info in catalogue().items():
            if code not in requires:
                continue
            lacking = [r for r in requires[code] if r in self.missing_evidence]
            if code in found:
                status, note = "FOUND", ""
            elif code in self.failed_codes:
                status, note = "NOT CHECKED", self.failed_codes[code]
            elif lacking:
                status, note = "NOT CHECKED", f"evidence unavailable: {', '.join(lacking)}"
            else:
                status, note = "OK", ""
            rows.append({"code": code, "check": info.title, "status": status, "note": note})
        return pd.DataFrame(rows, columns=["code", "check", "status", "note"])

    def summary(self, requires: dict[str, list[str]] | None = None) -> pd.DataFrame:
        """Show every finding (highest severity first), checks and unavailable rows."""
        parts = ["<h3>Findings</h3>", findings_html(self.findings)]
        if requires:
            parts += ["<h3>Checks</h3>", html_table(self.checks_table(requires))]
        if self.unavailable:
            rows = pd.DataFrame([u.to_dict() for u in self.unavailable])
            parts += ["<h3>Evidence unavailable</h3>", html_table(rows)]
        worst = max((f.severity for f in self.findings), default=None)
        verdict = f"{len(self.findings)} finding(s), worst: {worst}" if worst else "no findings"
        _display({"text/html": "".join(parts), "text/plain": verdict})
        return findings_frame(self.findings)

    def worst(self) -> Severity | None:
        """The highest severity found, or None."""
        return max((f.severity for f in self.findings), default=None)


__all__ = ["Session", "FINDINGS_MIME", "UNAVAILABLE_MIME", "findings_html"]
