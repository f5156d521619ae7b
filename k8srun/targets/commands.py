"""The named node commands ``k8srun capture --nodes`` records, as argv.

The catalogue itself is :data:`k8srun.evidence.NODE_FACTS` (command id,
argv, parser — one declaration shared by capture and the runbooks, so a
captured bundle replays in a runbook); this module exposes it as plain
``{command id: argv}`` for :meth:`~k8srun.targets.Target.run_many`.
"""

from __future__ import annotations

from ..evidence import NODE_FACTS as _FACTS

#: command id -> argv of the node facts ``k8srun capture --nodes`` gathers
NODE_FACTS: dict[str, tuple[str, ...]] = {cid: command.build({})[1] for cid, command in _FACTS.items()}

#: command id -> name of its parser in k8srun.parsers.PARSERS
PARSER_OF: dict[str, str] = {cid: str(command.parser) for cid, command in _FACTS.items()}
