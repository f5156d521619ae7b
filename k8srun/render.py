"""The HTML report: one self-contained document an incident commander reads in a minute.

:func:`report_html` turns an executed runbook notebook into one HTML file
that renders fully offline — no external script, font or stylesheet, no
widget state, only the CSS it uses (:data:`REPORT_CSS`, with a print
stylesheet) — laid out as:

1. a header block: runbook, source, cluster, captured-at, parameters, worst
   severity, counts per severity, how many checks could not run, how much
   evidence was unavailable, and where the run stopped if it did;
2. the findings table, once, highest severity first (remedies' markdown
   ``code`` rendered), and the verdict for every object the runbook looked at;
3. the checks that did not run fully (NOT CHECKED / PARTIAL and why) and
   the evidence that could not be gathered;
4. the notebook's own narrative and evidence sections, code hidden.

Cells tagged :data:`INTERACTIVE_ONLY` (pickers, "working in JupyterLab"
notes) and :data:`IN_SUMMARY` (the diagnosis and summary sections, whose
content is the top of the report) are left out, and so are outputs that
carry the findings/checks tables again or a widget view.
"""

from __future__ import annotations

import copy
import html
from typing import Iterable

import nbformat

from .model import Finding, Severity, Unavailable, sort_findings, unavailable_counts
from .session import CHECKS_MIME, FINDINGS_MIME, REDACTION_MIME, RUN_MIME, VERDICTS_MIME, findings_html

#: cell tag: shown in JupyterLab only (pickers, notes about them)
INTERACTIVE_ONLY = "interactive-only"
#: cell tag: the report shows this section's content at its top (diagnosis, summary)
IN_SUMMARY = "in-summary"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_SEVERITY_COLOURS = {"critical": "#b00020", "error": "#d9480f", "warning": "#b08900", "info": "#1c7ed6"}

REPORT_CSS = """
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#212529;
 max-width:1180px;margin:0 auto;padding:16px 24px}
h1{font-size:1.6em;margin:.2em 0 .4em}h2{font-size:1.3em;margin:1.4em 0 .5em;border-bottom:1px solid #dee2e6}
h3{font-size:1.1em;margin:1.1em 0 .4em}h4{font-size:1em;margin:1em 0 .3em}
code,pre{font-family:SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:90%}
code{background:#f1f3f5;padding:0 3px;border-radius:3px}
pre{background:#f8f9fa;border:1px solid #e9ecef;padding:6px 8px;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:90%}
th,td{border:1px solid #dee2e6;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f1f3f5}
.k8srun-header{border:1px solid #ced4da;border-radius:6px;padding:8px 14px;background:#f8f9fa}
.k8srun-header dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:.3em 0}
.k8srun-header dt{font-weight:600}.k8srun-header dd{margin:0}
.k8srun-verdict{font-size:1.1em;font-weight:600}
.k8srun-stopped{color:#b00020;font-weight:600}
svg{max-width:100%;height:auto}.anchor-link{display:none}
@media print{body{max-width:none;padding:0;font-size:11px}a{color:inherit;text-decoration:none}
 h2{break-after:avoid}table,pre,svg,.k8srun-header{break-inside:avoid}
 .k8srun-findings{break-inside:auto}}
"""


def _keep(cell: nbformat.NotebookNode) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return not tags & {INTERACTIVE_ONLY, IN_SUMMARY}


def _shown_outputs(outputs: list) -> list:
    kept = []
    for output in outputs:
        data = output.get("data", {})
        if {FINDINGS_MIME, CHECKS_MIME, VERDICTS_MIME, RUN_MIME, REDACTION_MIME, _WIDGET_VIEW} & set(data):  # shown at the top, or interactive
            continue
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue  # progress bars and warnings are for the terminal
        kept.append(output)
    return kept


def body_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as the report shows it: tagged cells and repeated tables removed, no widget state."""
    shown = copy.deepcopy(notebook)
    shown.metadata.pop("widgets", None)
    shown.cells = [c for c in shown.cells if _keep(c)]
    for cell in shown.cells:
        if cell.cell_type == "code":
            cell.outputs = _shown_outputs(cell.get("outputs", []))
    return shown


def last_shown(notebook: nbformat.NotebookNode, mime: str, default=None):
    """The payload of the last output of type ``mime`` the notebook displayed, or ``default``."""
    shown = default
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            shown = output.get("data", {}).get(mime, shown)
    return shown


def run_identity(notebook: nbformat.NotebookNode) -> dict:
    """The runbook/source/cluster/parameters/captured_at the header showed (empty when it never ran)."""
    return dict(last_shown(notebook, RUN_MIME, {}))


def _dl(rows: Iterable[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def header_html(runbook: str, description: str, run: dict, findings: list[Finding], not_checked: list[dict],
                unavailable: list[Unavailable], error: str | None) -> str:
    """The header block: what was looked at, and the verdict in one line."""
    counts = {str(s): sum(1 for f in findings if f.severity == s) for s in sorted(Severity, reverse=True)}
    worst = max((f.severity for f in findings), default=None)
    unchecked = [r for r in not_checked if not r.get("partly")]
    partly = [r for r in not_checked if r.get("partly")]
    verdict = (f"worst: <span style='color:{_SEVERITY_COLOURS[str(worst)]}'>{worst}</span> — " if worst else
               "no findings — ")
    verdict += ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "0 findings"
    verdict += f"; {len(unchecked)} check(s) NOT CHECKED" if unchecked else "; every check ran"
    if partly:
        verdict += f", {len(partly)} only in part"
    verdict += unavailable_counts(unavailable)
    parameters = {k: v for k, v in (run.get("parameters") or {}).items() if k != "source" and v not in ("", None)}
    rows = [("source", html.escape(str(run.get("source", "")))),
            ("cluster", html.escape(str(run.get("cluster", "")) or "unknown")),
            ("captured at", html.escape(str(run.get("captured_at", "")))),
            ("parameters", "<code>" + html.escape(", ".join(f"{k}={v}" for k, v in parameters.items()) or "defaults")
             + "</code>")]
    stopped = f"<p class='k8srun-stopped'>The runbook stopped early: {html.escape(error)}</p>" if error else ""
    return (f"<div class='k8srun-header'><h1>{html.escape(runbook)}: {html.escape(description)}</h1>"
            f"{_dl(rows)}<p class='k8srun-verdict'>{verdict}</p>{stopped}</div>")


def _rows_table(columns: list[str], rows: list[dict]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(runbook: str, description: str, run: dict, findings: list[Finding], not_checked: list[dict],
                 unavailable: list[Unavailable], error: str | None, verdicts: list[dict] | None = None) -> str:
    """Header, the findings table once, the verdict per object, then what could not be checked or gathered."""
    parts = [header_html(runbook, description, run, findings, not_checked, unavailable, error),
             "<h2>Findings</h2>", findings_html(sort_findings(findings))]
    if verdicts:
        parts += ["<h2>Verdict per object looked at</h2>", _rows_table(["subject", "verdict", "codes", "note"],
                                                                      verdicts)]
    if not_checked:
        rows = [{**r, "status": "PARTIAL" if r.get("partly") else "NOT CHECKED"} for r in not_checked]
        parts += ["<h2>Checks that did not run fully</h2>", _rows_table(["code", "check", "status", "reason"], rows)]
    if unavailable:
        parts += ["<h2>Evidence unavailable or skipped</h2>",
                  _rows_table(["what", "where", "reason", "status"],
                              [{**u.to_dict(), "status": "skipped" if u.skipped else "unavailable"}
                               for u in unavailable])]
    return "".join(parts)


def report_html(notebook: nbformat.NotebookNode, runbook: str, description: str, findings: list[Finding],
                not_checked: list[dict], unavailable: list[Unavailable], error: str | None, *,
                verdicts: list[dict] | None = None) -> str:
    """The whole report document (module doc)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(body_notebook(notebook))
    top = summary_html(runbook, description, run_identity(notebook), findings, not_checked, unavailable, error,
                       verdicts)
    title = html.escape(f"k8srun {runbook} report")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><style>{REPORT_CSS}</style></head>\n"
            f"<body>{top}<hr>{body}</body></html>\n")


__all__ = ["report_html", "body_notebook", "last_shown", "summary_html", "header_html", "run_identity", "REPORT_CSS",
           "INTERACTIVE_ONLY", "IN_SUMMARY"]
