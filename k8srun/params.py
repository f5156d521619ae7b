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


def positive_number(param: str, value: object, *, integer: bool = False) -> float | int:
    """A finite number > 0 (timeouts, tail lines)."""
    try:
        number = int(str(value), 10) if integer else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(param, value, "must be a positive " + ("integer" if integer else "number")) from None
    if not math.isfinite(number):
        raise ParameterError(param, value, "must be a finite number")
    if number <= 0:
        raise ParameterError(param, value, "must be greater than 0")
    return number
