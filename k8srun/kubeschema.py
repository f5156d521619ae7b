"""Kubernetes objects against the OpenAPI schema of one Kubernetes version, offline.

The schemas come from the ``kubernetes-validate`` package (PyPI; maintained,
one release per Kubernetes minor): its wheel ships, for every minor from
1.25 on, the JSON-schema form of the API server's OpenAPI definitions, in a
plain and a *strict* flavour (``additionalProperties: false`` on every
object, as the API server's strict field validation). Nothing is fetched
at run time. Its own ``validate()`` stops at the first error, so this module
loads the same files (``kubernetes_validate.utils.schema_contents``) and runs
``jsonschema``'s Draft 2020-12 validator to collect *every* error, against
the strict flavour always: an unknown field is reported, and the caller
decides how severe it is.

:func:`schemas` ``(version)`` -> :class:`Schemas` (cached per minor):

- ``lookup(api_version, kind)`` -> the definition name, or None;
- ``served_as(kind)`` -> the apiVersions that serve a kind in this version
  (``extensions/v1beta1`` Deployment: gone, ``apps/v1`` serves it);
- ``kinds(api_version)`` -> the kinds an apiVersion serves;
- ``check(obj)`` -> error rows (see :func:`Schemas.check`).

Error rows: ``{"path": tuple, "problem": "unknown-field" | "wrong-type" |
"missing-required" | "invalid-value", "field": "spec.template.spec.contianers",
"message": ..., "suggestion": "containers" | "", "at": "key" | "value"}``.
``suggestion`` is the closest property name the schema allows at that place
(:func:`difflib.get_close_matches`, cutoff 0.6). A required field missing
next to an unknown one that is its near miss (``contianers`` for
``containers``) is one row, the unknown field's.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any

from .errors import SchemaUnavailable  # noqa: F401 - re-exported (k8srun.kubeschema.SchemaUnavailable)

#: the Kubernetes minors the installed kubernetes-validate ships schemas for ("1.25" ...)
_MINOR = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)?(?:[-+].*)?$")
_ID = "https://kubernetes.io/api/_definitions.json"
#: rows returned per object at most
MAX_ERRORS = 50


def minor(version: str) -> str | None:
    """``v1.30.4-gke.1`` / ``1.30`` -> ``1.30``; None when it is not a version."""
    match = _MINOR.match(str(version).strip())
    return f"{int(match['major'])}.{int(match['minor'])}" if match else None


def _key(version: str) -> tuple[int, int]:
    major, _, minor_ = version.partition(".")
    return int(major), int(minor_)


@functools.cache
def shipped_versions() -> tuple[str, ...]:
    """Kubernetes minors with schemas in the installed kubernetes-validate, oldest first."""
    try:
        from kubernetes_validate import utils
    except ImportError as exc:
        raise SchemaUnavailable(f"kubernetes-validate is not installed ({exc})") from None
    return tuple(sorted({m for m in (minor(v) for v in utils.all_versions()) if m}, key=_key))


def nearest_shipped(version: str) -> tuple[str, str]:
    """(the shipped minor to use for ``version``, a note when it is not ``version`` itself)."""
    wanted = minor(version)
    shipped = shipped_versions()
    if wanted is None:
        raise SchemaUnavailable(f"{version!r} is not a Kubernetes version")
    if wanted in shipped:
        return wanted, ""
    if _key(wanted) < _key(shipped[0]):
        return shipped[0], (f"no schemas for Kubernetes {wanted} (kubernetes-validate ships "
                            f"{shipped[0]}..{shipped[-1]}): checked against {shipped[0]}")
    return shipped[-1], (f"no schemas for Kubernetes {wanted} yet (kubernetes-validate ships up to "
                         f"{shipped[-1]}): checked against {shipped[-1]}; a field new in {wanted} reads "
                         "as unknown — upgrade kubernetes-validate")


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = str(api_version).rpartition("/")
    return group, version


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shown(value: Any) -> str:
    """``string 'two'``, ``integer 80``, ``a list``, ``a mapping``."""
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return f"{_json_type(value)} {text if len(text) <= 60 else text[:57] + '...'}"


def field_name(path: tuple) -> str:
    """``("spec", "containers", 0, "image")`` -> ``spec.containers[0].image``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Schemas:
    """The strict schemas of one Kubernetes minor (see module doc)."""

    def __init__(self, version: str):
        import jsonschema
        from kubernetes_validate import utils
        from referencing import Registry, Resource

        self.version = version
        try:
            definitions = utils.schema_contents(
                f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version)
        except Exception as exc:  # the package's own errors carry .message
            raise SchemaUnavailable(getattr(exc, "message", None) or f"no schemas for Kubernetes {version}: {exc}") \
                from None
        self.definitions: dict = definitions.get("$defs") or definitions.get("definitions") or {}
        self._gvk: dict[tuple[str, str, str], str] = {}
        for name, schema in self.definitions.items():
            for gvk in schema.get("x-kubernetes-group-version-kind") or []:
                self._gvk.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
        self._registry = Resource.from_contents(definitions) @ Registry()
        self._validators: dict[str, Any] = {}
        self._validator_class = jsonschema.validators.Draft202012Validator

    def lookup(self, api_version: str, kind: str) -> str | None:
        group, version = _split(api_version)
        return self._gvk.get((group, version, kind))

    def served_as(self, kind: str) -> list[str]:
        """apiVersions serving ``kind`` in this version (``apps/v1``)."""
        return sorted(f"{g}/{v}" if g else v for g, v, k in self._gvk if k == kind)

    def kinds(self, api_version: str) -> list[str]:
        group, version = _split(api_version)
        return sorted(k for g, v, k in self._gvk if (g, v) == (group, version))

    def groups(self) -> set[str]:
        return {g for g, _, _ in self._gvk}

    def _validator(self, definition: str):
        if definition not in self._validators:
            self._validators[definition] = self._validator_class(
                {"$ref": f"{_ID}#/$defs/{definition}"}, registry=self._registry)
        return self._validators[definition]

    def _properties(self, schema: dict) -> list[str]:
        schema = self._resolve(schema)
        return sorted(schema.get("properties") or {})

    def _resolve(self, schema: dict) -> dict:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 10:
            schema = self.definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return schema if isinstance(schema, dict) else {}

    def check(self, obj: dict, definition: str) -> list[dict]:
        """Every schema error of ``obj`` against ``definition`` as rows (module doc), at most MAX_ERRORS."""
        rows: list[dict] = []
        suggested: dict[tuple, set[str]] = {}
        errors = sorted(self._validator(definition).iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
        for error in errors:
            path = tuple(error.absolute_path)
            rows += self._rows(error, path, suggested)
            if len(rows) >= MAX_ERRORS:
                break
        rows = [r for r in rows if not (r["problem"] == "missing-required"
                                        and r["suggestion"] in suggested.get(r["path"][:-1], set()))]
        return rows[:MAX_ERRORS]

    def _rows(self, error, path: tuple, suggested: dict) -> list[dict]:
        validator, instance = error.validator, error.instance
        if validator == "additionalProperties" and isinstance(instance, dict):
            allowed = self._properties(error.schema)
            patterns = list((error.schema.get("patternProperties") or {}))
            rows = []
            for key in instance:
                if key in allowed or any(re.search(p, key) for p in patterns):
                    continue
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                if close:
                    suggested.setdefault(path, set()).add(close[0])
                where = f" in {field_name(path)}" if path else " at the top level"
                rows.append({"path": path + (key,), "problem": "unknown-field", "field": field_name(path + (key,)),
                             "message": f"unknown field {key!r}{where}", "suggestion": close[0] if close else "",
                             "at": "key"})
            return rows
        if validator == "required" and isinstance(instance, dict):
            where = field_name(path) or "the object"
            return [{"path": path + (name,), "problem": "missing-required", "field": field_name(path + (name,)),
                     "message": f"required field {name!r} is missing from {where}", "suggestion": name, "at": "key"}
                    for name in error.validator_value if name not in instance]
        if validator == "type":
            expected = [t for t in (error.validator_value if isinstance(error.validator_value, list)
                                    else [error.validator_value]) if t != "null"]
            return [{"path": path, "problem": "wrong-type", "field": field_name(path),
                     "message": f"{field_name(path) or 'the object'} is {_shown(instance)}, "
                                f"must be {' or '.join(expected)}", "suggestion": "", "at": "value"}]
        if validator in ("oneOf", "anyOf"):
            types = sorted({t for s in error.validator_value for t in
                            (s.get("type") if isinstance(s.get("type"), list) else [s.get("type")]) if t and t != "null"})
            must = f"must be {' or '.join(types)}" if types else "matches none of the allowed forms"
            return [{"path": path, "problem": "wrong-type", "field": field_name(path),
                     "message": f"{field_name(path)} is {_shown(instance)}, {must}",
                     "suggestion": "", "at": "value"}]
        if validator == "enum":
            allowed = ", ".join(str(v) for v in error.validator_value if v is not None)
            return [{"path": path, "problem": "invalid-value", "field": field_name(path),
                     "message": f"{field_name(path)} is {_shown(instance)}, must be one of {allowed}",
                     "suggestion": "", "at": "value"}]
        return [{"path": path, "problem": "invalid-value", "field": field_name(path),
                 "message": f"{field_name(path) or 'the object'}: {error.message[:200]}", "suggestion": "",
                 "at": "value"}]


@functools.cache
def schemas(version: str) -> Schemas:
    """The :class:`Schemas` of a shipped minor (cached: loading one version takes ~0.1 s)."""
    return Schemas(version)


__all__ = ["MAX_ERRORS", "SchemaUnavailable", "Schemas", "field_name", "minor", "nearest_shipped", "schemas",
           "shipped_versions"]
