"""config-syntax: a component won't start because of a manifest/config file (CFG-001..003).

Input: ``path``, a YAML/JSON file or a folder, read on **the machine that
runs the notebook** (your laptop, the CI runner, the Binder container — not
a node, not the cluster). A folder is searched recursively for ``*.yaml``,
``*.yml`` and ``*.json`` (sorted; hidden folders and folder symlinks are not
entered). With ``path`` empty the manifests come from the source: a
snapshot bundle or built-in scenario that carries a ``manifests/`` folder
(the ``config-syntax`` scenario does: broken manifests of a small shop, so
``k8srun run config-syntax`` shows real findings offline). A live cluster
or ``-p source none`` without ``path``: nothing to read, every code NOT
CHECKED (a "skipped" row says why).

Parsing is :mod:`k8srun.manifests` (LibYAML node marks, yamllint where
LibYAML refuses a file or a key repeats, :mod:`json`); the schema is
:mod:`k8srun.kubeschema` (the OpenAPI schemas that ``kubernetes-validate``
ships, offline). Positions are ``file:line:column``, 1-based, a tab counting
as one column; a schema problem's position is its key (an unknown field, the
mapping lacking a required one) or its value (a wrong type), taken from the
YAML node marks of its JSON path, never searched for in the text.

How each code decides:

- **CFG-001** (error): the file cannot be read as YAML/JSON — the first
  syntax error the parser meets (it cannot go on after it, so one per file),
  a tab used for indentation (named as such), a duplicate key in one mapping
  (every one: the API server's strict decoding rejects them; without it the
  last one silently wins), a JSON trailing comma (reported at the comma).
  A file that fails to parse and holds ``{{`` is a Go/Helm *template*, not a
  broken manifest: not checked (a row says to render it with ``helm
  template`` first); so are files in a Helm chart's ``templates/``.
- **CFG-002** (error): an object against the strict OpenAPI schema of the
  chosen Kubernetes version — an unknown field (with the closest valid name
  at that place: ``contianers`` -> ``containers``), a wrong type
  (``replicas: "two"``, ``containerPort: "80"``, a label value that is not a
  string), a required field missing (``containers`` of a PodSpec), a value
  outside its enum; an ``apiVersion`` that does not serve the kind in that
  version (``extensions/v1beta1`` Deployment: served as ``apps/v1``), a
  ``kind`` a built-in group does not have (with the closest kind). Unknown
  fields are warnings with ``strict=false`` (``kubectl --validate=warn``);
  the default is strict, as ``kubectl apply`` (``--validate=strict`` is its
  default since 1.27). A custom resource (a kind of a group the schemas do
  not know) is *not checked*: its schema lives in its CRD, in the cluster;
  the object says so and CFG-002 reads PARTIAL.
- **CFG-003** (error): a mapping that claims to be a Kubernetes object (it
  has ``kind`` or ``metadata``, or a grouped ``apiVersion`` such as
  ``apps/v1``; Helm's ``Chart.yaml`` with ``apiVersion: v2`` does not) lacks
  ``apiVersion``, ``kind`` or ``metadata.name``. ``metadata.generateName``
  counts as a name (``kubectl create`` accepts it; ``kubectl apply`` does
  not, so the object's note says so). A component's config file
  (``*.config.k8s.io`` — KubeletConfiguration, KubeProxyConfiguration,
  Kustomization, EncryptionConfiguration — kubeadm's, kind's, an audit
  Policy) needs no name and has no built-in schema (CFG-002 reads PARTIAL
  for it). Any other document (an app's config file, ``values.yaml``) is
  syntax-checked only. Items of a ``kind: List`` are objects themselves.

Verdicts: one per Kubernetes object (``Deployment shop/web at
deploy/web.yaml:1``) and one per file read that holds none (a syntax error
stops the parse before any object: ``file deploy/worker.yaml``). A duplicate
key is about the object whose document holds it. A Secret's lines are shown
with their values masked; every excerpt also passes :mod:`k8srun.redact`.
A file whose aliases expand past 200 000 nodes, a recursive alias or
nesting too deep to read is not read (an unavailable row, not CFG-001:
nothing is wrong with its syntax).

Which version: ``kubernetes_version`` when given (validated against the
versions the installed kubernetes-validate ships), else the source's
cluster version (a bundle's ``k8srun.json``, a live cluster's /version),
else :data:`DEFAULT_KUBERNETES_VERSION`. A cluster version outside what is
shipped uses the nearest shipped one, and says so.

Bounds (linear in the input): files over 3 MiB (the API server's request
limit), binary files and more than :data:`~k8srun.manifests.MAX_FILES`
files are not read, each shown as an "evidence unavailable" row (the codes
read PARTIAL); at most 50 schema errors per object; the findings list the
first :data:`FINDINGS_PER_CODE` problems of each code and one more finding
with the count of the rest (the problems table has them all); the verdicts
name at most :data:`MAX_SUBJECTS` objects/files, problems first.
``timeout_s`` (declared by every runbook) bounds nothing here: no command
runs and nothing is fetched.

Frames (pure :func:`examine` from file texts):

- ``files``: file, format, bytes, documents, status;
- ``objects``: file, document, line, api_version, kind, namespace, name,
  subject, schema (what it was checked against, or why not);
- ``problems``: code, severity, subject, file, line, column, problem, field,
  message, suggestion, hint, source, context (:data:`PROBLEM_COLUMNS`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .. import kubeschema, manifests
from ..errors import ParameterError
from ..evidence import manual_command
from ..model import Finding, about, finding
from ..registry import CLUSTER, TIMEOUT, Parameter, Runbook

#: schemas used when neither the parameter nor the source names a version
DEFAULT_KUBERNETES_VERSION = "1.33"
FINDINGS_PER_CODE = 20
MAX_SUBJECTS = 300
#: unavailable rows shown one by one before a single "and N more" row
UNAVAILABLE_ROWS = 10
PROBLEM_COLUMNS = ["code", "severity", "subject", "file", "line", "column", "problem", "field", "message",
                   "suggestion", "hint", "source", "context"]
OBJECT_COLUMNS = ["file", "document", "line", "api_version", "kind", "namespace", "name", "subject", "schema"]
#: API groups of component config files besides ``*.config.k8s.io`` (no metadata.name, no built-in schema)
COMPONENT_CONFIG_GROUPS = ("kubeadm.k8s.io", "audit.k8s.io", "kind.x-k8s.io")
#: problem kind -> code
CODES = {"syntax": "CFG-001", "tab-indentation": "CFG-001", "duplicate-key": "CFG-001",
         "unknown-field": "CFG-002", "wrong-type": "CFG-002", "missing-required": "CFG-002",
         "invalid-value": "CFG-002", "api-version": "CFG-002", "unknown-kind": "CFG-002",
         "missing-field": "CFG-003"}


# -------------------------------------------------------------- parameters

def manifest_path(name: str, value: Any) -> str:
    """An existing file or folder; a file at most :data:`manifests.MAX_FILE_BYTES`."""
    if not isinstance(value, str) or not value.strip() or "\0" in value or "\n" in value:
        raise ParameterError(name, value, "must be the path of a YAML/JSON file or of a folder")
    path = Path(value).expanduser()
    try:
        if path.is_file():
            if path.stat().st_size > manifests.MAX_FILE_BYTES:
                raise ParameterError(name, value, f"larger than {manifests.MAX_FILE_BYTES} bytes: not a manifest "
                                     "(the API server's request limit is 3 MiB)")
        elif not path.is_dir():
            raise ParameterError(name, value, "no such file or folder (on the machine running the notebook)")
    except OSError as exc:
        raise ParameterError(name, value, f"unreadable: {exc.strerror or exc}") from None
    return str(path)


def kubernetes_version(name: str, value: Any) -> str:
    """``1.30`` / ``v1.30.4``: a minor the installed kubernetes-validate ships schemas for.

    A number is read with two minor digits (YAML makes ``1.30`` the float 1.3; no minor below 10 ships).
    """
    if isinstance(value, float):  # `-p kubernetes_version 1.30` arrives as the YAML number 1.3
        value = f"{value:.2f}"
    wanted = kubeschema.minor(str(value))
    if wanted is None:
        raise ParameterError(name, value, "must be a Kubernetes version such as 1.30")
    try:
        shipped = kubeschema.shipped_versions()
    except kubeschema.SchemaUnavailable:
        return wanted  # gather shows why the schemas cannot be had
    if wanted not in shipped:
        raise ParameterError(name, value, f"no schemas for Kubernetes {wanted}: kubernetes-validate ships "
                             f"{shipped[0]}..{shipped[-1]}")
    return wanted


def strict_flag(name: str, value: Any) -> bool:
    """true/false (yes/no from ``-p strict no``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ParameterError(name, value, "must be true or false")


RUNBOOK = Runbook(
    name="config-syntax",
    description="A component won't start: YAML/JSON syntax errors, unknown or misspelled fields, missing apiVersion/kind/name",
    scenario="config-syntax",
    parameters=(*CLUSTER,
                Parameter("path", "", "YAML/JSON file or folder (recursive) on the machine running the notebook; "
                          "empty means the source's manifests/ (a built-in scenario's)", manifest_path, path=True),
                Parameter("kubernetes_version", "", "schemas to check against, e.g. 1.30; empty means the "
                          f"source's cluster version, else {DEFAULT_KUBERNETES_VERSION}", kubernetes_version),
                Parameter("strict", True, "unknown fields are errors (as kubectl apply: strict validation); false: warnings",
                          strict_flag),
                TIMEOUT),
)

REQUIRES: dict[str, list[str]] = {
    "CFG-001": ["manifests"],
    "CFG-002": ["manifests", "schemas"],
    "CFG-003": ["manifests"],
}


# ------------------------------------------------------------ the objects

def object_subject(kind: str, namespace: str, name: str, file: str, line: int) -> str:
    """``Deployment shop/web at deploy/web.yaml:3`` (``?`` for what is missing)."""
    who = f"{namespace}/{name or '?'}" if namespace else name or "?"
    return f"{kind or '?'} {who} at {file}:{line}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _objects_of(document: manifests.Document) -> list[tuple[tuple, dict]]:
    """(path, object) of each Kubernetes object in a document (the items of a ``kind: List``)."""
    data = document.data
    if not isinstance(data, dict) or not looks_like_an_object(data):
        return []
    if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list) \
            and data.get("apiVersion") == "v1" and data.get("kind") == "List":
        return [(("items", i), item) for i, item in enumerate(data["items"])
                if isinstance(item, dict)]
    return [((), data)]


def looks_like_an_object(data: dict) -> bool:
    """Whether a mapping claims to be a Kubernetes object: it has ``kind`` or ``metadata``, or a grouped
    ``apiVersion`` (``apps/v1``). Helm's ``Chart.yaml`` (``apiVersion: v2``, no kind) is not one."""
    return "kind" in data or "metadata" in data or "/" in _text(data.get("apiVersion"))


def _row(code: str, subject: str, file: str, position: tuple[int, int], kind: str, field: str, message: str,
         lines: list[str], *, suggestion: str = "", hint: str = "", severity: str = "error") -> dict:
    line, column = position
    base = manifests.problem(file, lines, line, column, kind, message, hint)
    return {**base, "code": code, "severity": severity, "subject": subject, "field": field, "suggestion": suggestion}


def component_config(api_version: str) -> bool:
    """Whether ``api_version`` is a component's config file (kubelet, kube-proxy, kubeadm, kustomize, kind,
    audit policy, encryption config): read from a file by its program, never an API object, no name."""
    group = api_version.rpartition("/")[0]
    return group.endswith(".config.k8s.io") or group in COMPONENT_CONFIG_GROUPS


def _missing_fields(obj: dict, at: tuple, document: manifests.Document, subject: str, file: str,
                    lines: list[str]) -> list[dict]:
    """CFG-003 rows: apiVersion, kind, metadata.name (generateName counts; a component config has no name)."""
    rows = []
    root = document.position(at, key=False)
    for name in ("apiVersion", "kind"):
        if not _text(obj.get(name)).strip():
            rows.append(_row("CFG-003", subject, file, document.position(at + (name,)) if name in obj else root,
                             "missing-field", name, f"no {name}" + (" value" if name in obj else ""), lines,
                             hint="every object needs apiVersion, kind and metadata.name"))
    metadata = obj.get("metadata")
    if component_config(_text(obj.get("apiVersion"))):
        return rows
    has_name = isinstance(metadata, dict) and (_text(metadata.get("name")).strip()
                                               or _text(metadata.get("generateName")).strip())
    if not has_name:
        where = document.position(at + ("metadata",)) if "metadata" in obj else root
        rows.append(_row("CFG-003", subject, file, where, "missing-field", "metadata.name",
                         "no metadata.name" + ("" if "metadata" in obj else " (no metadata at all)"), lines,
                         hint="name the object (metadata.generateName also works for kubectl create)"))
    return rows


def _secret_masked(row: dict) -> dict:
    """A Secret's lines shown with their values masked (its data never reaches a report)."""
    for key in ("source", "context"):
        row[key] = re.sub(r"^(\s*(?:-\s+)?[^:#]+:\s*)\S.*$", r"\1<masked>", row[key])
    return row


def _schema_rows(obj: dict, at: tuple, document: manifests.Document, subject: str, file: str, lines: list[str],
                 schemas: kubeschema.Schemas, strict: bool) -> tuple[list[dict], str]:
    """CFG-002 rows of one object and what it was checked against (or why not)."""
    api_version, kind = _text(obj.get("apiVersion")), _text(obj.get("kind"))
    if not api_version or not kind:
        return [], "not checked: no apiVersion/kind"
    definition = schemas.lookup(api_version, kind)
    version = schemas.version
    if definition is None:
        served = schemas.served_as(kind)
        group = api_version.rpartition("/")[0]
        if served:
            return [_row("CFG-002", subject, file, document.position(at + ("apiVersion",), key=False), "api-version",
                         "apiVersion", f"apiVersion {api_version} does not serve {kind} in Kubernetes {version} "
                         f"(served as {', '.join(served)})", lines, suggestion=served[-1],
                         hint="the API was removed or never existed: use a served apiVersion "
                              "(kubectl convert, or the API migration guide)")], f"Kubernetes {version}: wrong apiVersion"
        if group in schemas.groups():
            close = manifests_close(kind, schemas.kinds(api_version))
            return [_row("CFG-002", subject, file, document.position(at + ("kind",), key=False), "unknown-kind", "kind",
                         f"kind {kind} is not served by {api_version} in Kubernetes {version}", lines,
                         suggestion=close)], f"Kubernetes {version}: unknown kind"
        if component_config(api_version):
            return [], f"not checked: no schema for {api_version} {kind} (a component's config file)"
        return [], f"not checked: no schema for {api_version} {kind} (a custom resource: its CRD holds the schema)"
    rows = []
    for error in schemas.check(obj, definition):
        path = at + error["path"]
        position = document.position(path, key=error["at"] == "key")
        if error["problem"] == "missing-required":
            position = document.position(path[:-1]) if path[:-1] != at else document.position(at, key=False)
        severity = "warning" if error["problem"] == "unknown-field" and not strict else "error"
        hint = {"unknown-field": "not a field of this kind here (`kubectl explain` lists the fields)",
                "missing-required": "the API server refuses the object without it",
                "wrong-type": "quote or unquote the value to give it the type the field takes"}.get(error["problem"], "")
        rows.append(_row("CFG-002", subject, file, position, error["problem"], error["field"], error["message"],
                         lines, suggestion=error["suggestion"] if error["problem"] != "missing-required" else "",
                         hint=hint, severity=severity))
    note = ""
    if not _text((obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else "") \
            and isinstance(obj.get("metadata"), dict) and _text(obj["metadata"].get("generateName")):
        note = "; generateName: kubectl create only (kubectl apply needs metadata.name)"
    return rows, f"Kubernetes {version}{' strict' if strict else ''}{note}"


def manifests_close(word: str, choices: list[str]) -> str:
    """The closest of ``choices`` to ``word`` (difflib, cutoff 0.6), or ""."""
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else ""


def _subject_at(starts: list[tuple[int, str]], line: int, file: str) -> str:
    """The object whose document holds ``line`` (a duplicate key), else the file."""
    holder = [subject for first, subject in starts if first <= line]
    return holder[-1] if holder else f"file {file}"


def _looks_templated(text: str) -> bool:
    return "{{" in text and "}}" in text


def examine(files: list[manifests.ManifestFile], schemas: kubeschema.Schemas | None, *, strict: bool = True,
            templates: set[str] = frozenset()) -> dict[str, Any]:
    """Every file's syntax, objects and schema problems (module doc); pure, given the texts.

    ``schemas`` None: CFG-002 is not looked at. ``templates``: files known to be
    Helm chart templates (not parsed). Returns frames ``files``, ``objects``,
    ``problems`` and lists ``skipped`` [(file, reason)] and ``no_schema``
    [(apiVersion kind, files)].
    """
    file_rows, object_rows, problem_rows, skipped = [], [], [], []
    no_schema: dict[str, list[str]] = {}
    for item in files:
        if item.text is None:
            skipped.append((item.file, item.skipped))
            file_rows.append({"file": item.file, "format": "", "bytes": item.bytes, "documents": 0,
                              "status": f"not read: {item.skipped}"})
            continue
        fmt = manifests.file_format(item.file, item.text)
        if item.file in templates:
            reason = "a Helm chart template: render it first (helm template CHART > out.yaml) and check the output"
            skipped.append((item.file, reason))
            file_rows.append({"file": item.file, "format": fmt, "bytes": item.bytes, "documents": 0,
                              "status": "not checked: Helm template"})
            continue
        parsed = manifests.parse(item.file, item.text, fmt)
        lines = item.text.splitlines()
        syntax = [p for p in parsed.problems if p["problem"] in ("syntax", "tab-indentation")]
        if syntax and _looks_templated(item.text):
            reason = ("holds {{ }} template markers and is not valid YAML/JSON: a Go/Helm template? "
                      "render it first and check the output")
            skipped.append((item.file, reason))
            file_rows.append({"file": item.file, "format": fmt, "bytes": item.bytes, "documents": 0,
                              "status": "not checked: template"})
            continue
        complex_ = [p for p in parsed.problems if p["problem"] == "too-complex"]
        if complex_:
            skipped.append((item.file, complex_[0]["message"]))
            file_rows.append({"file": item.file, "format": fmt, "bytes": item.bytes, "documents": 0,
                              "status": complex_[0]["message"]})
            continue
        file_problems = parsed.problems
        starts: list[tuple[int, str]] = []  # (first line, subject) of each object, in file order
        count = 0
        for document in parsed.documents:
            for at, obj in _objects_of(document):
                count += 1
                line = document.position(at, key=False)[0]
                metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
                kind, namespace = _text(obj.get("kind")), _text(metadata.get("namespace"))
                name = _text(metadata.get("name")) or (_text(metadata.get("generateName")) + "*"
                                                       if _text(metadata.get("generateName")) else "")
                subject = object_subject(kind, namespace, name, item.file, line)
                rows = _missing_fields(obj, at, document, subject, item.file, lines)
                schema_note = "not checked: schemas unavailable"
                if schemas is not None:
                    found, schema_note = _schema_rows(obj, at, document, subject, item.file, lines, schemas, strict)
                    rows += found
                    if schema_note.startswith("not checked: no schema"):
                        no_schema.setdefault(f"{obj.get('apiVersion')} {kind}", []).append(item.file)
                if kind == "Secret":
                    rows = [_secret_masked(r) for r in rows]
                problem_rows += rows
                starts.append((line, subject))
                object_rows.append({"file": item.file, "document": document.index + 1, "line": line,
                                    "api_version": _text(obj.get("apiVersion")), "kind": kind,
                                    "namespace": namespace, "name": name, "subject": subject, "schema": schema_note})
        problem_rows += [{**p, "code": CODES[p["problem"]], "severity": "error", "field": "", "suggestion": "",
                          "subject": _subject_at(starts, p["line"], item.file)} for p in file_problems]
        status = ("syntax error" if syntax else f"{count} object(s)" if count
                  else "parsed: no Kubernetes object (syntax checked only)")
        file_rows.append({"file": item.file, "format": fmt, "bytes": item.bytes,
                          "documents": len(parsed.documents), "status": status})
    problems = pd.DataFrame(problem_rows, columns=PROBLEM_COLUMNS)
    if len(problems):
        problems = problems.sort_values(["file", "line", "column"], kind="stable").reset_index(drop=True)
    return {"files": pd.DataFrame(file_rows, columns=manifests.FILE_COLUMNS),
            "objects": pd.DataFrame(object_rows, columns=OBJECT_COLUMNS), "problems": problems,
            "skipped": skipped, "no_schema": sorted((k, sorted(set(v))) for k, v in no_schema.items())}


# ------------------------------------------------------------------ checks

def _detail(row: pd.Series) -> str:
    detail = f"{row['file']}:{row['line']}:{row['column']}: {row['message']}"
    if row["suggestion"]:
        detail += f" — did you mean {row['suggestion']!r}?"
    if not row["subject"].startswith("file "):
        detail += f" ({row['subject'].split(' at ')[0]})"
    return detail


def _finding(row: pd.Series) -> Finding:
    evidence = {"file": row["file"], "line": int(row["line"]), "column": int(row["column"]),
                "problem": row["problem"], "field": row["field"], "suggestion": row["suggestion"],
                "hint": row["hint"], "excerpt": manifests.excerpt(row.to_dict(), row["message"])}
    return finding(row["code"], _detail(row), evidence, severity=row["severity"])


def diagnose(*, problems: pd.DataFrame, files: pd.DataFrame | None = None, **_: object) -> list[Finding]:
    """One finding per problem row, the first FINDINGS_PER_CODE of each code, then one with the count of the rest."""
    findings: list[Finding] = []
    for code, rows in problems.groupby("code", sort=True):
        for _, row in rows.head(FINDINGS_PER_CODE).iterrows():
            findings += about(row["subject"], [_finding(row)])
        rest = rows.iloc[FINDINGS_PER_CODE:]
        if len(rest):
            worst = "error" if (rest["severity"] == "error").any() else "warning"
            by_file = rest["file"].value_counts()
            shown = ", ".join(f"{f} ({n})" for f, n in by_file.head(5).items())
            findings.append(finding(code, f"{len(rest)} more {code} problem(s) in {len(by_file)} file(s): {shown}"
                                    + (" and more" if len(by_file) > 5 else "") + " — the problems table lists them",
                                    {"more": len(rest), "files": by_file.head(20).to_dict()}, severity=worst))
    return findings


def subjects(*, problems: pd.DataFrame, files: pd.DataFrame, objects: pd.DataFrame, **_: object) -> list[str]:
    """Every object, and every file that was read but holds no object; problems first, at most MAX_SUBJECTS."""
    named = list(objects["subject"])
    with_objects = set(objects["file"])
    read = files[~files["status"].str.startswith("not ")] if len(files) else files
    named += [f"file {f}" for f in read["file"] if f not in with_objects] if len(read) else []
    flagged = set(problems["subject"])
    ordered = [s for s in named if s in flagged] + [s for s in named if s not in flagged]
    if len(ordered) > MAX_SUBJECTS:
        rest = len(ordered) - MAX_SUBJECTS + 1
        ordered = ordered[:MAX_SUBJECTS - 1] + [f"{rest} more objects/files without a problem (see the objects table)"]
    return ordered


# ------------------------------------------------------------------ gather

def manifest_root(rb) -> tuple[Path | None, str]:
    """The file/folder to check: ``path``, else the source bundle's ``manifests/``; (None, why) when none."""
    given = rb.parameters.get("path") or ""
    if given:
        return Path(given), given
    root = getattr(rb.source, "root", None)
    if root is not None and (Path(root) / "manifests").is_dir():
        return Path(root) / "manifests", f"{rb.source.description}: manifests/"
    return None, ("no path given (-p path FILE_OR_FOLDER) and the source carries no manifests/ folder: "
                  "nothing to check")


def cluster_version(rb) -> str:
    """The source's cluster version (``v1.30.4``), or "" when it has none."""
    try:
        version = rb.source.meta().get("cluster_version") or ""
    except Exception:  # a live source that cannot answer /version: no version, not a failed run
        return ""
    return str(version.get("gitVersion", "") if isinstance(version, dict) else version)


def choose_version(given: str, cluster: str) -> tuple[str, str]:
    """(Kubernetes minor to check against, why that one)."""
    if given:
        return kubeschema.nearest_shipped(given)[0], "the kubernetes_version parameter"
    if cluster and kubeschema.minor(cluster):
        chosen, note = kubeschema.nearest_shipped(cluster)
        return chosen, note or f"the source's cluster version ({cluster})"
    return DEFAULT_KUBERNETES_VERSION, ("no kubernetes_version given and the source has no cluster version: "
                                        f"the pinned default {DEFAULT_KUBERNETES_VERSION}")


def _note_many(rb, rows: list[tuple[str, str]], what: str) -> None:
    for file, reason in rows[:UNAVAILABLE_ROWS]:
        rb.note_unavailable(f"{what} {file}", reason, where="local")
    if len(rows) > UNAVAILABLE_ROWS:
        rb.note_unavailable(f"{len(rows) - UNAVAILABLE_ROWS} more {what}s", "not checked (see the files table)",
                            where="local")


def gather(rb) -> dict:
    """Read, parse and schema-check the manifests (cached on the session: the notebook's sections reuse it)."""
    cached = getattr(rb, "_configsyntax", None)
    if cached is not None:
        return cached
    root, where = manifest_root(rb)
    strict = bool(rb.parameters.get("strict", True))
    version, why = choose_version(rb.parameters.get("kubernetes_version") or "", cluster_version(rb))
    empty = examine([], None)
    if root is None:
        rb.missing_evidence.add("manifests")
        rb.note_unavailable("manifests", where, skipped=True)
        result = {**empty, "root": "", "kubernetes_version": version, "version_reason": why, "strict": strict}
        rb._configsyntax = result
        return result
    files, left = manifests.read_tree(root)
    templates = {f.file for f in files if root.is_dir() and manifests.helm_template(f, root)}
    schemas = None
    try:
        schemas = kubeschema.schemas(version)
    except kubeschema.SchemaUnavailable as exc:
        rb.missing_evidence.add("schemas")
        rb.note_unavailable(f"OpenAPI schemas of Kubernetes {version}", str(exc), where="local")
    result = examine(files, schemas, strict=strict, templates=templates)
    if result["skipped"]:
        rb.incomplete_evidence.add("manifests")
        _note_many(rb, result["skipped"], "file")
    if left:
        rb.incomplete_evidence.add("manifests")
        rb.note_unavailable(f"{left} more files under {where}", f"not read: more than {manifests.MAX_FILES} files",
                            where="local")
    if result["no_schema"]:
        rb.incomplete_evidence.add("schemas")
        for kind, in_files in result["no_schema"][:UNAVAILABLE_ROWS]:
            rb.note_unavailable(f"schema of {kind}", f"not in the Kubernetes {version} schemas (a custom resource: its "
                                f"CRD holds it); objects in {', '.join(in_files[:3])}"
                                + (" and more" if len(in_files) > 3 else "") + " not checked against a schema",
                                where="local")
    result.update(root=str(root), kubernetes_version=version, version_reason=why, strict=strict,
                  schemas_loaded=schemas is not None)
    rb._configsyntax = result
    return result


# ------------------------------------------------------------ notebook views

def what_is_checked(result: dict) -> pd.DataFrame:
    """question / answer rows: where the files are, which schemas, how strict, how many files and objects."""
    files = result["files"]
    read = int((~files["status"].str.startswith("not ")).sum()) if len(files) else 0
    rows = [("files from", result.get("root") or "nothing (no path)"),
            ("read on", "the machine running this notebook"),
            ("files found / read", f"{len(files)} / {read}"),
            ("Kubernetes objects", str(len(result["objects"]))),
            ("schemas", f"Kubernetes {result['kubernetes_version']} (kubernetes-validate, offline) — "
                        f"from {result.get('version_reason', '')}"),
            ("unknown fields", "errors (strict, as kubectl apply)" if result.get("strict", True) else "warnings")]
    return pd.DataFrame(rows, columns=["question", "answer"])


def problem_counts(problems: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Problems per file and code, most first (the first ``top`` files)."""
    if problems.empty:
        return pd.DataFrame(columns=["file", "CFG-001", "CFG-002", "CFG-003", "total"])
    table = problems.pivot_table(index="file", columns="code", values="line", aggfunc="count", fill_value=0)
    for code in ("CFG-001", "CFG-002", "CFG-003"):
        if code not in table:
            table[code] = 0
    table = table[["CFG-001", "CFG-002", "CFG-003"]]
    table["total"] = table.sum(axis=1)
    return table.sort_values("total", ascending=False, kind="stable").head(top).reset_index()


def excerpts(result: dict, code: str, limit: int = 20) -> "Excerpts":
    """The offending lines of ``code``'s problems (or why nothing was looked at)."""
    problems = result["problems"]
    looked = bool(result.get("root")) and (code != "CFG-002" or result.get("schemas_loaded", True))
    return Excerpts(problems[problems["code"] == code], limit,
                    empty="no problem found" if looked else "not checked: nothing was read (see the rows above)")


class Excerpts:
    """The offending lines with a caret under the column, as a notebook output (redacted HTML) or text."""

    def __init__(self, problems: pd.DataFrame, limit: int = 20, empty: str = "no problem found"):
        self.rows = [r for _, r in problems.head(limit).iterrows()]
        self.more = max(0, len(problems) - limit)
        self.empty = empty

    def _blocks(self) -> list[tuple[str, str]]:
        out = []
        for row in self.rows:
            note = row["message"] + (f" — did you mean {row['suggestion']!r}?" if row["suggestion"] else "")
            out.append((f"{row['code']} {row['problem']}" + (f": {row['hint']}" if row["hint"] else ""),
                        manifests.excerpt(row.to_dict(), note)))
        return out

    def __str__(self) -> str:
        text = "\n\n".join(f"{title}\n{block}" for title, block in self._blocks()) or self.empty
        return text + (f"\n\n... and {self.more} more (the problems table lists them)" if self.more else "")

    def _repr_html_(self) -> str:
        from ..redact import redact_html

        parts = [f"<p style='margin:8px 0 2px'><b>{html.escape(title)}</b></p>"
                 f"<pre style='background:#f8f9fa;padding:6px;border-left:3px solid #d9480f;white-space:pre'>"
                 f"{html.escape(block)}</pre>" for title, block in self._blocks()]
        if not parts:
            parts = [f"<p><em>{html.escape(self.empty)}</em></p>"]
        if self.more:
            parts.append(f"<p><em>... and {self.more} more (the problems table lists them)</em></p>")
        return redact_html("".join(parts))


def manual_commands(result: dict) -> pd.DataFrame:
    """The commands a reader would type for each step (run where the files are)."""
    root = result.get("root") or "PATH"
    version = result["kubernetes_version"]
    rows = [("find the files", manual_command(["find", root, "-name", "*.yaml", "-o", "-name", "*.yml", "-o",
                                                 "-name", "*.json"], "local")),
            ("YAML syntax and duplicate keys (CFG-001)",
             manual_command(["yamllint", "-d", "{rules: {key-duplicates: enable}}", root], "local")),
            ("JSON syntax (CFG-001)", manual_command(["python3", "-m", "json.tool", "FILE.json"], "local")),
            ("schema, offline (CFG-002/003)",
             manual_command(["kubernetes-validate", "--strict", "-k", f"{version}.0", "FILE"], "local")),
            ("schema, against a cluster", manual_command(["kubectl", "apply", "--dry-run=server",
                                                          "--validate=strict", "-f", root], "local")),
            ("fields of a kind", manual_command(["kubectl", "explain", "deployment.spec.template.spec",
                                                 "--api-version=apps/v1"], "local"))]
    return pd.DataFrame(rows, columns=["step", "command"])
