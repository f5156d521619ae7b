"""Every exception k8srun raises on purpose: one root, narrow data-carrying subclasses.

Every message is one line a human can act on: it names what to fix. Code
that decides something about an error decides by its class and attributes,
never by its message text::

    K8srunError
    ├── ParameterError (ValueError)     param, value, reason
    ├── ParseError (ValueError)         parser, reason, line
    ├── SelectorError (ValueError)      kind, term, hint
    ├── CatalogueError
    ├── RunbookError
    ├── WidgetInputError
    ├── TargetError                     target, command_id
    ├── LabError                        command
    │   └── LabUnavailableError
    ├── ApiError                        code, reason, message, details
    └── SourceError                     where, reason
        ├── BundleError                 path
        ├── SourceUnavailable
        │   └── NoClusterSource
        ├── AuthenticationFailed        server, context, status
        ├── Forbidden                   user, verb, resource, namespace
        ├── ApiUnreachable              server
        └── ApiRequestFailed            status, verb, resource, namespace

The modules that raise them re-export them under their old names
(``from k8srun.targets import TargetError`` still works).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


class K8srunError(Exception):
    """Root of every error k8srun raises on purpose; ``str(exc)`` is one actionable line."""


class ParameterError(K8srunError, ValueError):
    """A runbook or CLI parameter is invalid.

    ``param``: the parameter's name; ``value``: what was given; ``reason``:
    what is wrong with it. Message: ``parameter 'PARAM': REASON (got VALUE)``.
    """

    def __init__(self, param: str, value: object, reason: str):
        self.param = param
        self.value = value
        self.reason = reason
        super().__init__(f"parameter {param!r}: {reason} (got {_shown(value)})")


def _shown(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters: a hostile value must not make a huge message."""
    try:
        text = repr(value)
    except RecursionError:  # a self-containing YAML list
        text = f"<recursive {type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


class ParseError(K8srunError, ValueError):
    """A parser was given text that is not the tool output it expects.

    ``parser``: the parser's name; ``reason``: what did not parse; ``line``:
    the 1-based input line, or ``None`` when not tied to one.
    """

    def __init__(self, parser: str, reason: str, line: int | None = None):
        self.parser = parser
        self.reason = reason
        self.line = line
        where = f" at line {line}" if line is not None else ""
        super().__init__(f"{parser}: cannot parse input{where}: {reason}")


class SelectorError(K8srunError, ValueError):
    """A label or field selector cannot be parsed (``k8srun serve`` answers 400).

    ``kind``: ``"label"`` or ``"field"``; ``term``: the comma-separated term
    that does not parse; ``hint``: the accepted form, or ``""``.
    """

    def __init__(self, kind: str, term: str, hint: str = ""):
        self.kind, self.term, self.hint = kind, term, hint
        super().__init__(f"cannot parse {kind} selector term {term!r}" + (f": {hint}" if hint else ""))


class CatalogueError(K8srunError):
    """The finding-code catalogue is inconsistent, or a code is unknown (message only)."""


class RunbookError(K8srunError):
    """A runbook could not be found, declared or run (message only)."""


class SchemaUnavailable(K8srunError):
    """The Kubernetes OpenAPI schemas cannot be had: package missing, version not shipped (message only)."""


class ManifestTooComplex(K8srunError, ValueError):
    """A manifest whose node graph is recursive, too deep or too large to walk (message only)."""


class WidgetInputError(K8srunError):
    """A view was given data it cannot show, e.g. an events frame lacking columns (message only)."""


class TargetError(K8srunError):
    """Recorded command results cannot be saved or read back (conflicting ids, unreadable files).

    ``target``: the target spec (``"netns:pod-a"``) when known, else ``None``;
    ``command_id``: the named command concerned, when there is one.
    """

    def __init__(self, message: str, *, target: str | None = None, command_id: str | None = None):
        super().__init__(message)
        self.target, self.command_id = target, command_id


class LabError(K8srunError):
    """The fault lab could not do what was asked.

    ``command``: the argv of the command that failed (timed out, exited
    non-zero, not installed, would not die), or ``None`` when no command did.
    """

    def __init__(self, message: str, *, command: Sequence[str] | None = None):
        super().__init__(message)
        self.command = tuple(command) if command is not None else None


class LabUnavailableError(LabError):
    """This machine cannot run the lab: not root, not Linux, no ``ip netns``, a tool missing (message only)."""


class ApiError(K8srunError):
    """An error ``k8srun serve`` answers with a Kubernetes ``v1 Status`` object.

    ``code``: the HTTP status (404); ``reason``: the Status reason
    (``"NotFound"``); ``message``: the Status message (also ``str(exc)``);
    ``details``: the Status ``details`` dict, or ``None``.
    """

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details


class SourceError(K8srunError):
    """Cluster state could not be read (bundle unreadable, API unreachable, 403 ...).

    ``where``: the source concerned — a bundle or file path, an API server
    URL, ``kubeconfig PATH``, ``none`` — or ``""`` when not known;
    ``reason``: why, without the ``where`` part (the whole message when the
    raiser gave no separate reason).
    """

    def __init__(self, message: str, *, where: str = "", reason: str | None = None):
        super().__init__(message)
        self.where = where
        self.reason = message if reason is None else reason


class BundleError(SourceError):
    """A snapshot bundle is missing, malformed or lacks a file.

    ``path``: the bundle, or the file in it, concerned (``None`` when the
    error is about text given directly); ``where`` is the same as a string.
    """

    def __init__(self, message: str, *, path: str | Path | None = None):
        super().__init__(message, where=str(path) if path is not None else "")
        self.path = Path(path) if path is not None else None


class SourceUnavailable(SourceError):
    """The source cannot answer this kind of question at all (``where``, ``reason``: see SourceError)."""


class NoClusterSource(SourceUnavailable):
    """``source: none`` was chosen: there is no cluster, so cluster sections are skipped.

    ``where`` is ``"none"``; the message is fixed and says the section was skipped.
    """

    MESSAGE = "no cluster source (source=none): cluster section skipped"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE, where="none")


def _request_scope(namespace: str | None, cluster_scoped: bool) -> str:
    """`` in namespace NS`` / `` in any namespace`` / ``""`` (cluster-scoped resources)."""
    if namespace:
        return f" in namespace {namespace}"
    return "" if cluster_scoped else " in any namespace"


class AuthenticationFailed(SourceError):
    """The API server rejected the credentials.

    ``server``: the API server URL (also ``where``); ``context``: the
    kubeconfig context; ``status``: the HTTP status (401).
    """

    def __init__(self, server: str, context: str, status: int = 401):
        reason = f"credentials rejected ({status}); refresh the kubeconfig token or certificate"
        super().__init__(f"authentication failed against API server {server} (context {context}): {reason}",
                         where=server, reason=reason)
        self.server, self.context, self.status = server, context, status


class Forbidden(SourceError):
    """RBAC denied a read (403).

    ``user``: who was denied (``"(unknown user)"`` when the server did not
    say); ``verb``: ``list``/``get``/``get logs of``; ``resource``: the
    plural (``pods``); ``namespace``: the namespace asked about, ``None`` for
    all namespaces or a cluster-scoped resource; ``where``: the API server URL.
    """

    def __init__(self, user: str, verb: str, resource: str, namespace: str | None, *,
                 cluster_scoped: bool = False, server: str = ""):
        reason = f"user {user} cannot {verb} {resource}{_request_scope(namespace, cluster_scoped)}"
        super().__init__(f"forbidden: {reason} (grant the k8srun read-only role)", where=server, reason=reason)
        self.user, self.verb, self.resource, self.namespace = user, verb, resource, namespace


class ApiUnreachable(SourceError):
    """No usable answer from the API server: refused, DNS, TLS, timeout, connection reset.

    ``server``: the API server URL (also ``where``); ``reason``: a few words
    saying which (chosen from the exception's type, not its text).
    """

    def __init__(self, server: str, reason: str):
        super().__init__(f"API server {server} unreachable: {reason}", where=server, reason=reason)
        self.server = server


class ApiRequestFailed(SourceError):
    """The API server answered one request with an unexpected error status.

    ``status``: the HTTP status (404, 500 ...); ``verb``, ``resource``,
    ``namespace``: the request, as for :class:`Forbidden`; ``where``: the API
    server URL; ``reason``: the status, its phrase and the server's message.
    """

    def __init__(self, server: str, status: int, phrase: str, message: str, *, verb: str, resource: str,
                 namespace: str | None, cluster_scoped: bool = False):
        reason = f"{status} {phrase} to {verb} {resource}{_request_scope(namespace, cluster_scoped)}: " \
                 f"{message or 'no message'}"
        super().__init__(f"API server {server} answered {reason}", where=server, reason=reason)
        self.status, self.verb, self.resource, self.namespace = status, verb, resource, namespace
