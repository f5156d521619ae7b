"""Parsers: text of node commands → rows (``parse``) → DataFrame (``frame``).

One module per command, jc style: each module's docstring documents its
usage and output schema; ``parse(text) -> list[dict]`` returns flat rows
with static lower-case keys, ``frame(text) -> DataFrame`` the same rows
with fixed columns (empty input → empty frame with those columns).
Input that is not the expected tool output raises
:class:`k8srun.errors.ParseError`, never anything else.

``PARSERS`` maps a command name to its module; ``parse(name, text)``
dispatches by that name.
"""

from __future__ import annotations

from types import ModuleType

from ..errors import ParseError
from . import iptables_save

PARSERS: dict[str, ModuleType] = {
    "iptables-save": iptables_save,
}


def parse(name: str, text: str) -> list[dict]:
    """Rows of ``text`` parsed as the output of command ``name``."""
    try:
        module = PARSERS[name]
    except KeyError:
        raise ParseError(name, f"no parser for this command (known: {', '.join(sorted(PARSERS))})") from None
    return module.parse(text)
