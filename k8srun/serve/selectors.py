"""Kubernetes label and field selectors, evaluated on plain object dicts.

``label_matcher("app=web,tier in (a,b),!canary")`` and
``field_matcher("involvedObject.name=web-0,status.phase!=Failed")`` return a
predicate ``(obj: dict) -> bool``. Field paths are dotted JSON paths into the
object (``metadata.name``, ``spec.nodeName``, ``involvedObject.uid``); a
missing field reads as ``""``, as the API server treats unset fields.
Malformed selectors raise :class:`SelectorError` (the server answers 400).
"""

from __future__ import annotations

import re
from typing import Callable

from ..errors import SelectorError

Predicate = Callable[[dict], bool]


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


_SET_RE = re.compile(r"^(\S+)\s+(in|notin)\s+\(([^)]*)\)$")
_EQ_RE = re.compile(r"^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$")
_EXISTS_RE = re.compile(r"^(!?)([^!=\s()]+)$")


def _label_requirement(term: str) -> Predicate:
    match = _SET_RE.match(term)
    if match:
        key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
        if op == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: key not in labels or labels[key] not in values
    match = _EQ_RE.match(term)
    if match:
        key, op, value = match.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    match = _EXISTS_RE.match(term)
    if match:
        negate, key = match.groups()
        return (lambda labels: key not in labels) if negate else (lambda labels: key in labels)
    raise SelectorError("label", term)


def label_matcher(selector: str | None) -> Predicate:
    """Predicate for a label selector (``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``)."""
    requirements = [_label_requirement(t) for t in _split_top_level(selector or "")]
    return lambda obj: all(r(obj.get("metadata", {}).get("labels") or {}) for r in requirements)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], "", False
    for ch in text:
        if escaped:
            current += "\\" + ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current + ("\\" if escaped else ""))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def field_value(obj: dict, path: str) -> str:
    """The string value of a dotted field path in ``obj`` (``""`` when absent)."""
    value: object = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_requirement(term: str) -> Predicate:
    for op in ("!=", "==", "="):
        index = term.find(op)
        while index > 0 and term[index - 1] == "\\":
            index = term.find(op, index + 1)
        if index > 0:
            path, value = term[:index].strip(), _unescape(term[index + len(op):])
            if op == "!=":
                return lambda obj: field_value(obj, path) != value
            return lambda obj: field_value(obj, path) == value
    raise SelectorError("field", term, "want PATH=VALUE or PATH!=VALUE")


def field_matcher(selector: str | None) -> Predicate:
    """Predicate for a field selector (``path=value``, ``path==value``, ``path!=value``, comma-joined)."""
    requirements = [_field_requirement(t) for t in _split_unescaped(selector or "", ",") if t.strip()]
    return lambda obj: all(r(obj) for r in requirements)
