"""Validation of every parameter that reaches a command or an API call.

Each validator returns the cleaned value or raises :class:`ParameterError`
naming the parameter, so a bad ``-p`` gets one clear line.
"""

from __future__ import annotations

import ipaddress
import math
import re

from .errors import ParameterError

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def dns1123_label(param: str, value: object, *, allow_empty: bool = False) -> str:
    """A DNS-1123 label (namespace, container name): ``[a-z0-9-]``, ≤ 63 chars."""
    if value is None or value == "":
        if allow_empty:
            return ""
        raise ParameterError(param, value, "must not be empty")
    if not isinstance(value, str) or len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        raise ParameterError(param, value, "not a valid DNS-1123 label "
                             "(lower-case letters, digits and '-', at most 63 characters)")
    return value


def dns1123_subdomain(param: str, value: object, *, allow_empty: bool = False) -> str:
    """A DNS-1123 subdomain (pod, node, service names): ≤ 253 chars."""
    if value is None or value == "":
        if allow_empty:
            return ""
        raise ParameterError(param, value, "must not be empty")
    if not isinstance(value, str) or len(value) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(value):
        raise ParameterError(param, value, "not a valid DNS-1123 name "
                             "(lower-case letters, digits, '-' and '.', at most 253 characters)")
    return value


def ip_address(param: str, value: object) -> str:
    """An IPv4 or IPv6 address, normalised."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ParameterError(param, value, "not an IP address") from None


def port(param: str, value: object) -> int:
    """A TCP/UDP port number 1..65535."""
    try:
        number = int(str(value), 10)
    except ValueError:
        raise ParameterError(param, value, "not a port number") from None
    if not 1 <= number <= 65535:
        raise ParameterError(param, value, "port must be between 1 and 65535")
    return number


#: the longest any single command or API call may take (``timeout_s``): an hour
TIMEOUT_MAX_S = 3600
#: the most log lines read per container (``tail_lines``)
TAIL_LINES_MAX = 100_000


def positive_number(param: str, value: object, *, integer: bool = False,
                    maximum: float | None = None) -> float | int:
    """A finite number > 0 (timeouts, tail lines), at most ``maximum`` when given.

    Accepts an int or float, or ASCII text of one; rejects booleans (YAML's
    ``true``), lists, NaN/infinity and look-alike digits (``５``).
    """
    kind = "integer" if integer else "number"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or \
            (isinstance(value, str) and not value.strip().isascii()):
        raise ParameterError(param, value, f"must be a positive {kind}")
    try:
        if integer:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            number: float | int = int(value) if isinstance(value, float) else int(str(value).strip(), 10)
        else:
            number = float(value)
    except (OverflowError, ValueError):  # int(inf) overflows; int("1.5") and float("x") are ValueErrors
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(param, value, "must be a finite number") from None
        raise ParameterError(param, value, f"must be a positive {kind}") from None
    if not math.isfinite(number):
        raise ParameterError(param, value, "must be a finite number")
    if number <= 0:
        raise ParameterError(param, value, "must be greater than 0")
    if maximum is not None and number > maximum:
        raise ParameterError(param, value, f"must be at most {maximum:g}")
    return number


def timeout_seconds(param: str, value: object) -> float:
    """A per-call time bound in seconds: > 0 and at most :data:`TIMEOUT_MAX_S`."""
    return positive_number(param, value, maximum=TIMEOUT_MAX_S)


def line_count(param: str, value: object) -> int:
    """A number of log lines: a whole number > 0 and at most :data:`TAIL_LINES_MAX`."""
    return int(positive_number(param, value, integer=True, maximum=TAIL_LINES_MAX))
