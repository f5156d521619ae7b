"""Node commands on a second place in one run: the peer node, a pod's namespace, the target again from a thread.

A runbook's :class:`~k8srun.session.Session` runs node commands on its
``target``. Some questions need another place too — the other end of a
tunnel, the node that holds the filter rules — or the same place from a
thread (captures running while the probes run). :func:`other_place` gives a
second Session on ``spec`` that shares the run's source, parameters,
"evidence unavailable" rows and missing evidence, and saves every result
into the run's report folder (``hosts/<that host>/``), so the report (and a
scenario recorded from it) replays every place: a ``*_target`` parameter
names the place, and a recorded source maps it to its host folder as it
does the target.

Each (run, spec, role) gets its own session (its own command cache): give
concurrent jobs different roles. Results a place produced on the run's own
target are then :func:`adopt`-ed by the run, so its ``k8srun.json`` lists
every command of its host folder. Only the run's own session writes
``k8srun.json``; places write their command outputs only, so threads never
write the same file.
"""

from __future__ import annotations

import weakref
from typing import Any

_PLACES: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def other_place(rb, spec: str, role: str = ""):
    """A session on ``spec`` beside ``rb`` (see module doc), cached per (rb, spec, role)."""
    places = _PLACES.setdefault(rb, {})
    if (spec, role) not in places:
        from .redact import redact_command_result
        from .session import Session
        from .targets import save_results

        class Place(Session):
            def _record(self, result=None):
                if self.report_dir is not None and result is not None:
                    self.report_dir.mkdir(parents=True, exist_ok=True)
                    save_results([redact_command_result(result)], self.report_dir)

        place = Place(rb.runbook, rb.source, {**rb.parameters, "target": spec})
        place.unavailable, place.missing_evidence = rb.unavailable, rb.missing_evidence
        place.report_dir = rb.report_dir
        places[(spec, role)] = place
    return places[(spec, role)]


def adopt(rb, results) -> None:
    """Count results a place produced *on the run's own target* as the run's commands.

    A place on the target's spec (a capture or probe run from a thread) saves
    into the same ``hosts/<host>/`` folder; the run's ``k8srun.json`` lists the
    commands of that folder, so they are added to the run's cache and its
    target's ``results`` and the file is rewritten once, from the calling
    (main) thread.
    """
    added = False
    for result in results:
        if result is None:
            continue
        key = (result.command_id, result.argv)
        if key not in rb._commands:
            rb._commands[key] = result
            rb.target.results.append(result)
            added = True
    if added:
        rb._record()


__all__ = ["other_place", "adopt"]
