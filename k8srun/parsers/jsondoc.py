"""The JSON a probe or a ``-j`` command prints, read the way every parser reads input.

Shared by the parsers of JSON output (:mod:`.bridge_fdb`, :mod:`.connect_probe`,
:mod:`.dns_query`): empty text is no rows, anything that is not the one JSON
document expected is a :class:`~k8srun.errors.ParseError` naming the parser,
and typed fields are taken only when they have the JSON type they should
(``true`` is not the integer 1).
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ParseError


def document(name: str, text: str, kind: type, not_kind: str) -> Any:
    """The JSON document of ``text`` (a ``kind``: list or dict), None for empty text; ParseError naming
    ``name`` for text that is not JSON (``not JSON: ...``) or not a ``kind`` (``not_kind``)."""
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(name, f"not JSON: {exc}") from None
    if not isinstance(data, kind):
        raise ParseError(name, not_kind)
    return data


def text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
