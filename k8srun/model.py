"""Findings, severities, "evidence unavailable" rows and the code catalogue.

A :class:`Finding` is a diagnosis with a stable code from ``codes.yaml``
(the contract in RUNBOOKS.md), the evidence that proves it and a remedy.
An :class:`Unavailable` row says that some evidence could *not* be gathered
and why; it is never a finding ("we could not look" is not "nothing is
wrong").
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Iterable, Mapping

import yaml

from .errors import CatalogueError, ParameterError


class Severity(enum.IntEnum):
    """Ordered severities: ``info < warning < error < critical``."""

    INFO = 10
    WARNING = 20
    ERROR = 30
    CRITICAL = 40

    @classmethod
    def parse(cls, value: "str | Severity") -> "Severity":
        """``"error"`` / ``"ERROR"`` / ``Severity.ERROR`` -> ``Severity.ERROR``; else ParameterError."""
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ParameterError("severity", value, f"unknown severity (one of {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class CodeInfo:
    """One entry of the catalogue."""

    code: str
    runbook: str
    severity: Severity
    title: str
    remedy: str
    doc: str


_REQUIRED_KEYS = {"runbook", "severity", "title", "remedy", "doc"}


@functools.cache
def catalogue() -> dict[str, CodeInfo]:
    """Every finding code, loaded once from ``k8srun/codes.yaml``."""
    text = resources.files("k8srun").joinpath("codes.yaml").read_text(encoding="utf-8")
    return parse_catalogue(text)


def parse_catalogue(text: str) -> dict[str, CodeInfo]:
    """Validate and load catalogue YAML text (keys: code -> fields)."""
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C loader: 10x faster
    if not isinstance(raw, dict):
        raise CatalogueError("codes.yaml must be a mapping of code -> fields")
    codes: dict[str, CodeInfo] = {}
    for code, fields in raw.items():
        if not isinstance(fields, dict) or set(fields) != _REQUIRED_KEYS:
            raise CatalogueError(f"{code}: needs exactly the keys {sorted(_REQUIRED_KEYS)}")
        try:
            severity = Severity.parse(fields["severity"])
        except ParameterError as exc:
            raise CatalogueError(f"{code}: {exc}") from None
        codes[code] = CodeInfo(code=code, severity=severity,
                               **{k: str(fields[k]) for k in ("runbook", "title", "remedy", "doc")})
    return codes


def code_info(code: str) -> CodeInfo:
    """The catalogue entry for ``code``; :class:`CatalogueError` if unknown."""
    try:
        return catalogue()[code]
    except KeyError:
        raise CatalogueError(f"unknown finding code {code!r}: add it to k8srun/codes.yaml") from None


def _jsonable(value: Any) -> Any:
    """Evidence made strict-JSON-serialisable: DataFrames become lists of rows, NaN/inf become None."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # DataFrame
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if hasattr(value, "to_dict") and hasattr(value, "index"):  # Series
        return json.loads(value.to_json(date_format="iso"))
    return json.loads(json.dumps(value, default=str), parse_constant=lambda _: None)


@dataclass(frozen=True)
class Finding:
    """A diagnosis: stable code, severity, what was found, its proof, the fix."""

    code: str
    severity: Severity
    title: str
    detail: str
    evidence: dict = field(default_factory=dict)
    remedy: str = ""
    runbook: str = ""
    doc: str = ""
    #: the object the finding is about ("pod shop/web-0"), "" for cluster-wide findings
    subject: str = ""

    def to_dict(self) -> dict:
        """The findings.json element (SPEC.md)."""
        out = asdict(self)
        out["severity"] = str(self.severity)
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Finding":
        """Inverse of :meth:`to_dict`."""
        return cls(code=data["code"], severity=Severity.parse(data["severity"]),
                   title=data.get("title", ""), detail=data.get("detail", ""),
                   evidence=dict(data.get("evidence") or {}), remedy=data.get("remedy", ""),
                   runbook=data.get("runbook", ""), doc=data.get("doc", ""), subject=data.get("subject", ""))


def finding(code: str, detail: str, evidence: Mapping | None = None, *,
            severity: "str | Severity | None" = None, remedy: str | None = None) -> Finding:
    """Build a Finding from the catalogue entry of ``code``.

    ``evidence`` is made JSON-serialisable (DataFrames become row lists);
    ``severity``/``remedy`` override the catalogue where the case needs it.
    """
    info = code_info(code)
    evidence = {k: _jsonable(v) for k, v in (evidence or {}).items()}
    return Finding(code=code, severity=Severity.parse(severity) if severity else info.severity,
                   title=info.title, detail=detail, evidence=evidence,
                   remedy=remedy if remedy is not None else info.remedy,
                   runbook=info.runbook, doc=info.doc)


@dataclass(frozen=True)
class Unavailable:
    """Evidence that could not be gathered, and why (never a finding)."""

    what: str
    where: str
    reason: str
    #: True when there was nothing to ask (no cluster source, a mode this node does not run):
    #: shown as "skipped", counted apart from evidence that could not be read
    skipped: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def unavailable_counts(rows: Iterable[Unavailable]) -> str:
    """``"; 2 evidence unavailable; 1 skipped"`` for a summary line ("" when there are none)."""
    rows = list(rows)
    skipped = sum(1 for row in rows if row.skipped)
    missing = len(rows) - skipped
    return (f"; {missing} evidence unavailable" if missing else "") + (f"; {skipped} skipped" if skipped else "")


def about(subject: str, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` marked as being about ``subject`` (e.g. ``"pod shop/web-0"``)."""
    import dataclasses

    return [dataclasses.replace(f, subject=subject) for f in findings]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Highest severity first, then by code."""
    return sorted(findings, key=lambda f: (-int(f.severity), f.code, f.detail))


def findings_frame(findings: Iterable[Finding]):
    """Findings as a DataFrame (severity, code, title, detail, remedy), highest first."""
    import pandas as pd

    rows = [{"severity": str(f.severity), "code": f.code, "title": f.title,
             "detail": f.detail, "remedy": f.remedy} for f in sort_findings(findings)]
    return pd.DataFrame(rows, columns=["severity", "code", "title", "detail", "remedy"])
