"""Redaction: secrets never reach a report.

:func:`redact_text` replaces private key blocks (PEM and PGP), ``Authorization:``
values, bearer tokens, JWTs, values of password/token/secret/api-key-like keys
(``k=v``, JSON, YAML, ``--db-password VALUE`` command-line flags), TLS session
secrets printed by ``openssl s_client`` and passwords in URLs (``redis://:pw@``
too) with ``[REDACTED]``. Log text and node command output pass through it
before they are shown.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
                          r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.DOTALL)
_AUTH_HEADER = re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_SECRET_WORD = r"(?:password|passwd|token|secret|api[_-]?key)"
_SECRET_KEY = r"[\w.-]*" + _SECRET_WORD + r"[\w.-]*"
# a command-line flag named for a secret, value as the next argument: --db-password VALUE (not --token-ttl 5m)
_SECRET_FLAG = re.compile(r"(?i)((?:^|\s)--?[\w-]*" + _SECRET_WORD + r"[ \t]+)(?!-)(\S+)")
_SECRET_ASSIGNMENT = re.compile(r"(?i)(\b" + _SECRET_KEY + r"\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;\"']+)")
_SECRET_QUOTED_KEY = re.compile(r"(?i)([\"']" + _SECRET_KEY + r"[\"']\s*:\s*)(\"[^\"]*\"|'[^']*'|[^\s,}\]]+)")
_SECRET_YAML_KEY = re.compile(r"(?im)^(\s*(?:-\s+)?" + _SECRET_KEY + r":[ \t]+)(\S.*)$")
# openssl s_client prints TLS session secrets: TLS 1.3 "Resumption PSK:", TLS 1.2 "Master-Key:"
_TLS_SESSION_SECRET = re.compile(r"(?im)^(\s*(?:Resumption PSK|Master-Key|PSK):[ \t]*)([0-9A-F]+)$")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(@)", re.IGNORECASE)


def redact_text(text: str) -> str:
    """``text`` with tokens, passwords, private keys and Authorization values replaced by [REDACTED]."""
    text = _PRIVATE_KEY.sub(REDACTED, text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    for pattern in (_SECRET_FLAG, _SECRET_ASSIGNMENT, _SECRET_QUOTED_KEY, _SECRET_YAML_KEY, _TLS_SESSION_SECRET):
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(2), text)


_SECRET_NAME = re.compile(r"(?i)" + _SECRET_WORD)
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def is_secret_name(name: str) -> bool:
    """True for names like DB_PASSWORD, api-token, AWS_SECRET_ACCESS_KEY, apiKey."""
    return bool(_SECRET_NAME.search(name or ""))


def _redact_pod_spec(spec: dict) -> dict:
    spec = dict(spec)
    for field in _CONTAINER_LISTS:
        containers = []
        for container in spec.get(field) or []:
            container = dict(container)
            if container.get("env"):
                container["env"] = [{**e, "value": REDACTED} if "value" in e and is_secret_name(e.get("name", ""))
                                    else e for e in container["env"]]
            for key in ("command", "args"):
                if container.get(key):
                    container[key] = [redact_text(str(part)) for part in container[key]]
            containers.append(container)
        if field in spec:
            spec[field] = containers
    return spec


def redact_object(obj: dict) -> dict:
    """A copy of a Kubernetes object safe for a bundle: secret-named env values and secret-looking
    command/args redacted in pod specs and workload templates, and the last-applied annotation
    (a verbatim copy of what was applied) dropped. Everything else is kept as it was."""
    out = dict(obj)
    metadata = dict(out.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    if annotations.pop(_LAST_APPLIED, None) is not None:
        metadata["annotations"] = annotations
        out["metadata"] = metadata
    spec = out.get("spec")
    if isinstance(spec, dict):
        if any(field in spec for field in _CONTAINER_LISTS):  # a Pod
            out["spec"] = _redact_pod_spec(spec)
        template = spec.get("template")  # Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, RC
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            out["spec"] = {**spec, "template": {**template, "spec": _redact_pod_spec(template["spec"])}}
    return out
