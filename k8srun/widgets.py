"""The few interactive views runbooks share, with static fallbacks for reports.

In JupyterLab every view is an ipywidgets object that is displayed and
returned. Under papermill, nbval or any headless run (see
:func:`is_interactive`) the same call displays STATIC HTML instead — pandas
tables and ``<pre>`` blocks — so the executed notebook and its HTML report
hold the evidence. Assign the result (``picker = namespace_picker(src)``)
rather than ending a cell with the call, or Jupyter shows the widget twice.

Views (``source`` is a :class:`k8srun.sources.Source`):

- ``namespace_picker(source, value=None)`` -> ``Dropdown`` of
  ``source.namespaces()``; returned in both modes (read ``.value``).
- ``pod_picker(source, namespace, value=None, only=None)`` -> ``Dropdown`` of
  pod names (``only``: a predicate on the pod dict, or a set of phases);
  returned in both modes.
- ``linked_pickers(source, namespace, pod, only=None)`` -> ``HBox(namespace
  Dropdown, pod Dropdown)``; choosing a namespace repopulates the pods.
- ``events_table(events, title=None)`` -> :class:`EventsTable` (filters: type,
  reason, ``kind/name`` object, text in message; newest first; "12 of 57
  events"), or ``None`` after the static table.
- ``log_viewer(source, namespace, pod, containers, previous=False,
  tail_lines=200)`` -> :class:`LogViewer` (container, previous run, tail
  lines), or ``None`` after static blocks of every container's current and
  previous logs, each under a header.

:class:`EventsTable` keeps the rows it shows in ``.shown`` (a DataFrame, the
events columns of :mod:`k8srun.frames` plus ``object``), its counts line in
``.counts.value`` and the rendered table in ``.table.value``.
:class:`LogViewer` keeps the shown log text (redacted) in ``.text`` (``None``
when unavailable) and the rendered block in ``.output.value``.

Log text always passes through :func:`redact_text`; all text is HTML-escaped; static
views are shown through the session's one display sink, which redacts them.
"""

from __future__ import annotations

import html
import os
import re
from typing import Callable, Collection

import ipywidgets as widgets
import pandas as pd
from IPython import get_ipython
from IPython.display import display

from . import params
from .errors import K8srunError, WidgetInputError
from .redact import redact_html, redact_text
from .tables import html_table
from .frames import EVENT_COLUMNS
from .sources import Source

#: columns of the rendered events table, in order
EVENT_TABLE_COLUMNS = ["last_seen", "type", "reason", "object", "message", "count",
                       "first_seen", "source"]
TAIL_LINE_CHOICES = (50, 200, 1000, 5000)
_TAG = re.compile(r"<[^<>]{0,16384}>")

_PRE_STYLE = ("font-family: monospace; white-space: pre-wrap; overflow-wrap: anywhere; "
              "max-height: 30em; overflow: auto; margin: 0 0 1em 0")


class _All:
    """The "All" choice of a filter dropdown (a reason may be spelled "All")."""

    def __repr__(self) -> str:
        return "ALL"


ALL = _All()


# ------------------------------------------------------------------ mode

def is_interactive() -> bool:
    """True in a Jupyter kernel with a frontend; False headless (K8SRUN_HEADLESS, nbclient, plain Python).

    nbval starts its kernel its own way: run nbval with K8SRUN_HEADLESS=1.
    """
    if os.environ.get("K8SRUN_HEADLESS", "") not in ("", "0"):
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False  # plain Python or terminal IPython: no kernel, so no comm to a frontend
    # nbclient (papermill, nbconvert --execute, testbook) starts kernels with an
    # in-memory history; no frontend is attached to those
    history = getattr(shell, "history_manager", None)
    return getattr(history, "hist_file", None) != ":memory:"


def _show(widget: widgets.Widget) -> widgets.Widget:
    display(widget)
    return widget


def _show_static(markup: str) -> None:
    """Static HTML through the session's one display sink (redacted: k8srun.session._display)."""
    from .session import _display

    _display({"text/html": markup, "text/plain": html.unescape(_TAG.sub("", markup))})


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


# ------------------------------------------------------------------ pickers

ALL_NAMESPACES = "(all namespaces)"


def _namespace_dropdown(source: Source, value: str | None, allow_all: bool = False) -> widgets.Dropdown:
    """Namespaces to pick; ``allow_all`` adds a first choice "(all namespaces)" whose value is ""."""
    value = params.dns1123_label("namespace", value, allow_empty=True) or None
    try:
        names = source.namespaces()
    except K8srunError:  # e.g. RBAC forbids listing namespaces: offer the one asked for
        names = [value] if value else []
    if value and value not in names:  # offered anyway: the gather cells say what is missing
        names = [value, *names]
    if allow_all:
        return widgets.Dropdown(options=[(ALL_NAMESPACES, ""), *((n, n) for n in names)], value=value or "",
                                description="namespace")
    if value is None and names:
        value = "default" if "default" in names else names[0]
    return widgets.Dropdown(options=names, value=value, description="namespace")


def namespace_picker(source: Source, value: str | None = None) -> widgets.Dropdown:
    """A Dropdown of the source's namespaces (``value`` preselected; else "default" or the first)."""
    picker = _namespace_dropdown(source, value)
    if is_interactive():
        return _show(picker)
    _show_static(_paragraph(f"namespace: {picker.value or '(none in this source)'}"))
    return picker


PodFilter = Callable[[dict], bool] | Collection[str] | None


def pod_names(source: Source, namespace: str, only: PodFilter = None) -> list[str]:
    """Sorted names of the pods in ``namespace`` that ``only`` keeps (predicate or set of phases).

    A source that cannot list pods gives no names: the gather cells show why.
    """
    try:
        pods = source.list("pods", namespace) if namespace else []
    except K8srunError:
        return []
    if only is None:
        kept = pods
    elif callable(only):
        kept = [p for p in pods if only(p)]
    else:
        phases = set(only)
        kept = [p for p in pods if (p.get("status") or {}).get("phase") in phases]
    return sorted(p["metadata"]["name"] for p in kept)


ALL_PODS = "(all)"


def _pod_options(names: list[str], allow_all: bool) -> list:
    return [(ALL_PODS, "")] + [(n, n) for n in names] if allow_all else list(names)


def _pod_dropdown(source: Source, namespace: str, value: str | None, only: PodFilter,
                  allow_all: bool = False) -> widgets.Dropdown:
    value = params.dns1123_subdomain("pod", value, allow_empty=True) or None
    names = pod_names(source, namespace, only)
    if value and value not in names:  # offered anyway: the gather cells say what is missing
        names = [value, *names]
    default = "" if allow_all else (names[0] if names else None)
    return widgets.Dropdown(options=_pod_options(names, allow_all), value=value or default,
                            description="pod")


def pod_picker(source: Source, namespace: str, value: str | None = None,
               only: PodFilter = None) -> widgets.Dropdown:
    """A Dropdown of pod names in ``namespace`` (``only``: predicate on the pod dict, or a set of phases)."""
    picker = _pod_dropdown(source, namespace, value, only)
    if is_interactive():
        return _show(picker)
    _show_static(_paragraph(f"pod: {namespace}/{picker.value or '(none matching)'}"))
    return picker


def linked_pickers(source: Source, namespace: str | None = None, pod: str | None = None,
                   only: PodFilter = None, *, allow_all: bool = False) -> widgets.HBox:
    """HBox(namespace Dropdown, pod Dropdown); choosing a namespace repopulates the pods.

    ``allow_all`` adds a first pod choice "(all)" whose value is "" (every pod), and a first
    namespace choice "(all namespaces)" whose value is "" (every namespace; then every pod).
    """
    namespaces = _namespace_dropdown(source, namespace, allow_all)
    pods = _pod_dropdown(source, namespaces.value or "", pod, only, allow_all)

    def repopulate(change) -> None:
        choices = _pod_options(pod_names(source, change["new"] or "", only), allow_all)
        pods.options = choices
        pods.value = (choices[0][1] if allow_all else choices[0]) if choices else None

    namespaces.observe(repopulate, names="value")
    box = widgets.HBox([namespaces, pods])
    if is_interactive():
        return _show(box)
    shown_pod = pods.value or (ALL_PODS if allow_all else "(none matching)")
    shown_namespace = namespaces.value or (ALL_NAMESPACES if allow_all else "(none in this source)")
    _show_static(_paragraph(f"namespace: {shown_namespace}, pod: {shown_pod}"))
    return box


# ------------------------------------------------------------------ events

def _utc_text(column: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(column, utc=True)
    return stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")


def newest_first(events: pd.DataFrame) -> pd.DataFrame:
    """Events sorted by last_seen, newest first, with an ``object`` column ("kind/name")."""
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise WidgetInputError(f"events frame lacks columns {missing}: "
                               "build it with k8srun.frames.events_frame")
    ordered = events.sort_values("last_seen", ascending=False, kind="stable", na_position="last")
    ordered = ordered.reset_index(drop=True)
    ordered["object"] = ordered["kind"].astype(str) + "/" + ordered["name"].astype(str)
    return ordered


def events_html(events: pd.DataFrame) -> str:
    """An escaped, word-wrapping HTML table of ``newest_first`` rows (namespace shown when several)."""
    if events.empty:
        return _paragraph("no events")
    columns = list(EVENT_TABLE_COLUMNS)
    if events["namespace"].nunique() > 1:
        columns.insert(0, "namespace")
    table = events[columns].copy()
    for column in ("last_seen", "first_seen"):
        table[column] = _utc_text(table[column])
    return html_table(table, nowrap=("last_seen", "first_seen", "type", "count"))


def _choices(values: pd.Series) -> list:
    return [("All", ALL)] + [(str(v), v) for v in sorted(values.dropna().unique(), key=str)]


class EventsTable(widgets.VBox):
    """Events newest first, filtered by type, reason, object and message text."""

    def __init__(self, events: pd.DataFrame, *, title: str | None = None):
        self.events = newest_first(events)
        self.type_filter = widgets.Dropdown(options=[("All", ALL), ("Normal", "Normal"),
                                                     ("Warning", "Warning")], description="type")
        self.reason_filter = widgets.Dropdown(options=_choices(self.events["reason"]), description="reason")
        self.object_filter = widgets.Dropdown(options=_choices(self.events["object"]), description="object")
        self.message_filter = widgets.Text(description="message", placeholder="text in message")
        self.counts = widgets.HTML()
        self.table = widgets.HTML()
        self.shown = self.events
        for control in (self.type_filter, self.reason_filter, self.object_filter, self.message_filter):
            control.observe(self._refresh, names="value")
        heading = [widgets.HTML(f"<h4>{html.escape(title)}</h4>")] if title else []
        filters = widgets.HBox([self.type_filter, self.reason_filter, self.object_filter,
                                self.message_filter])
        super().__init__(heading + [filters, self.counts, self.table])
        self._refresh()

    def _refresh(self, change=None) -> None:
        keep = pd.Series(True, index=self.events.index)
        for column, control in (("type", self.type_filter), ("reason", self.reason_filter),
                                ("object", self.object_filter)):
            if control.value is not ALL:
                keep &= self.events[column] == control.value
        text = self.message_filter.value.strip()
        if text:
            keep &= self.events["message"].astype(str).str.contains(text, case=False, regex=False)
        self.shown = self.events[keep]
        self.counts.value = _paragraph(f"{len(self.shown)} of {len(self.events)} events")
        self.table.value = redact_html(events_html(self.shown))


def events_table(events: pd.DataFrame, *, title: str | None = None) -> EventsTable | None:
    """A filterable events table (interactive), or the static table newest first (headless)."""
    if is_interactive():
        return _show(EventsTable(events, title=title))
    ordered = newest_first(events)
    heading = f"<h4>{html.escape(title)}</h4>" if title else ""
    _show_static(heading + _paragraph(f"{len(ordered)} events, newest first") + events_html(ordered))
    return None


# ------------------------------------------------------------------ logs

def fetch_log(source: Source, namespace: str, pod: str, container: str, *, previous: bool,
              tail_lines: int) -> tuple[str | None, str]:
    """(redacted log text, "") or (None, reason) when the source cannot give it."""
    try:
        text = source.logs(namespace, pod, container, previous=previous, tail_lines=tail_lines)
    except K8srunError as exc:
        return None, str(exc)
    return redact_text(text), ""


def log_html(text: str | None, reason: str = "") -> str:
    """A monospace, scrollable, escaped block, or the one-line "logs unavailable: <reason>"."""
    if text is None:
        return _paragraph(f"logs unavailable: {reason}")
    return f'<pre style="{_PRE_STYLE}">{html.escape(text) if text else "(empty log)"}</pre>'


class LogViewer(widgets.VBox):
    """One pod's container logs: container choice, previous-run toggle, tail lines."""

    def __init__(self, source: Source, namespace: str, pod: str, containers: list[str], *,
                 previous: bool = False, tail_lines: int = 200):
        if not containers:
            raise WidgetInputError(f"no containers given for pod {namespace}/{pod}: pass the container names")
        tail_lines = params.positive_number("tail_lines", tail_lines, integer=True)
        self.source, self.namespace, self.pod = source, namespace, pod
        self.container = widgets.Dropdown(options=list(containers), value=containers[0],
                                          description="container")
        self.previous = widgets.ToggleButton(
            value=bool(previous), description="previous run",
            tooltip="logs of the last terminated run (kubectl logs --previous)")
        self.tail_lines = widgets.Dropdown(options=sorted({*TAIL_LINE_CHOICES, tail_lines}),
                                           value=tail_lines, description="tail lines")
        self.output = widgets.HTML()
        self.text: str | None = None
        for control in (self.container, self.previous, self.tail_lines):
            control.observe(self._refresh, names="value")
        self.heading = widgets.HTML(f"<h4>logs of pod {html.escape(namespace)}/{html.escape(pod)}</h4>")
        super().__init__([self.heading, widgets.HBox([self.container, self.previous, self.tail_lines]),
                          self.output])
        self._refresh()

    @property
    def shown_run(self) -> str:
        """Which run's log is shown, in words: "previous run (kubectl logs --previous)" or "current run"."""
        return "previous run (kubectl logs --previous)" if self.previous.value else "current run"

    def _refresh(self, change=None) -> None:
        self.text, reason = fetch_log(self.source, self.namespace, self.pod, self.container.value,
                                      previous=self.previous.value, tail_lines=self.tail_lines.value)
        self.heading.value = (f"<h4>logs of pod {html.escape(self.namespace)}/{html.escape(self.pod)} container "
                              f"{html.escape(self.container.value)}: {self.shown_run}, last "
                              f"{self.tail_lines.value} lines</h4>")
        self.output.value = log_html(self.text, reason)


def _static_logs_html(source: Source, namespace: str, pod: str, containers: list[str],
                      tail_lines: int) -> str:
    parts = []
    for container in containers:
        for previous in (False, True):
            run = "previous run" if previous else "current run"
            header = f"{namespace}/{pod} container {container}: {run} (last {tail_lines} lines)"
            parts.append(f"<h4>{html.escape(header)}</h4>")
            parts.append(log_html(*fetch_log(source, namespace, pod, container, previous=previous,
                                             tail_lines=tail_lines)))
    return "".join(parts)


def log_viewer(source: Source, namespace: str, pod: str, containers: list[str], *,
               previous: bool = False, tail_lines: int = 200) -> LogViewer | None:
    """A log viewer (interactive), or static blocks of every container's current and previous logs."""
    if is_interactive():
        return _show(LogViewer(source, namespace, pod, containers, previous=previous, tail_lines=tail_lines))
    if not containers:
        raise WidgetInputError(f"no containers given for pod {namespace}/{pod}: pass the container names")
    tail_lines = params.positive_number("tail_lines", tail_lines, integer=True)
    _show_static(_static_logs_html(source, namespace, pod, containers, tail_lines))
    return None
