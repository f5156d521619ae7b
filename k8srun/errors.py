"""One root exception with narrow, data-carrying subclasses.

Every message is one line a human can act on: it names what to fix.
"""

from __future__ import annotations


class K8srunError(Exception):
    """Root of every error k8srun raises on purpose."""


class ParameterError(K8srunError, ValueError):
    """A runbook or CLI parameter is invalid; ``param`` names it."""

    def __init__(self, param: str, value: object, reason: str):
        self.param = param
        self.value = value
        self.reason = reason
        super().__init__(f"parameter {param!r}: {reason} (got {value!r})")


class SourceError(K8srunError):
    """Cluster state could not be read (bundle unreadable, API unreachable, 403 ...)."""


class BundleError(SourceError):
    """A snapshot bundle is missing, malformed or lacks a file."""


class ParseError(K8srunError, ValueError):
    """A parser was given text that is not the tool output it expects."""

    def __init__(self, parser: str, reason: str, line: int | None = None):
        self.parser = parser
        self.reason = reason
        self.line = line
        where = f" at line {line}" if line is not None else ""
        super().__init__(f"{parser}: cannot parse input{where}: {reason}")


class CatalogueError(K8srunError):
    """The finding-code catalogue is inconsistent, or a code is unknown."""


class RunbookError(K8srunError):
    """A runbook could not be found or run."""
