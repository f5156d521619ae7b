"""Saving results into a snapshot bundle's ``hosts/`` and replaying them.

:func:`save_results` writes, per result, ``hosts/<host>/<command-id>.txt``
(raw stdout, byte-exact) and ``hosts/<host>/<command-id>.json`` (target,
argv, exit_code, stderr, duration_s, started_at, error) — the format is
documented in :mod:`k8srun.targets`. :class:`ReplayTarget`
(``replay:BUNDLE[#HOST]``) reads them back as identical CommandResults.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from ..errors import ParameterError
from . import CommandResult, Target, TargetError, host_dir, utc_now_iso, valid_argv

_META_KEYS = ("target", "argv", "exit_code", "stderr", "duration_s", "started_at", "error")


def save_results(results: Iterable[CommandResult], bundle_dir: str | Path) -> list[Path]:
    """Write results into ``bundle_dir/hosts/<host>/``; returns the files written."""
    planned: dict[tuple[str, str], CommandResult] = {}
    for result in results:
        key = (host_dir(result.target), result.command_id)
        earlier = planned.get(key)
        if earlier is not None and earlier.argv != result.argv:
            raise TargetError(f"command id {result.command_id!r} ran twice on {result.target} with "
                              f"different argv ({list(earlier.argv)} and {list(result.argv)}): "
                              "give each argv its own command id",
                              target=result.target, command_id=result.command_id)
        planned[key] = result
    written = []
    for (host, name), result in planned.items():
        folder = Path(bundle_dir) / "hosts" / host
        folder.mkdir(parents=True, exist_ok=True)
        stdout_path, meta_path = folder / f"{name}.txt", folder / f"{name}.json"
        stdout_path.write_bytes(result.stdout.encode("utf-8", "surrogateescape"))
        meta = {key: getattr(result, key) for key in _META_KEYS}
        meta["argv"] = list(result.argv)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        written += [stdout_path, meta_path]
    return written


def load_result(folder: Path, command_id: str) -> CommandResult:
    """The CommandResult recorded as ``folder/<command_id>.{txt,json}``."""
    meta_path = folder / f"{command_id}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        stdout = (folder / f"{command_id}.txt").read_bytes().decode("utf-8", "surrogateescape")
        return CommandResult(target=meta["target"], command_id=command_id,
                             argv=valid_argv(meta["argv"]), stdout=stdout, stderr=meta["stderr"],
                             exit_code=meta["exit_code"], duration_s=meta["duration_s"],
                             started_at=meta["started_at"], error=meta["error"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TargetError(f"{meta_path}: not a readable recorded command ({exc}); "
                          "re-capture it or remove the pair of files", command_id=command_id) from None


class ReplayTarget(Target):
    """``replay:BUNDLE[#HOST]``: answers from ``BUNDLE/hosts/HOST/`` instead of running."""

    def __init__(self, bundle: str | Path, host: str | None = None, *, timeout_s: float = 10):
        spec = f"replay:{bundle}" + (f"#{host}" if host else "")
        if not str(bundle):
            raise ParameterError("target", spec, "name the bundle directory: replay:BUNDLE[#HOST]")
        hosts_root = Path(bundle).expanduser() / "hosts"
        if not hosts_root.is_dir():
            raise ParameterError("target", spec, f"no recorded node commands: {hosts_root} is not a directory")
        recorded = sorted(p.name for p in hosts_root.iterdir() if p.is_dir())
        if host is None:
            if len(recorded) != 1:
                raise ParameterError("target", spec, "the bundle records several hosts, name one as "
                                     f"replay:BUNDLE#HOST (have: {', '.join(recorded) or 'none'})")
            host = recorded[0]
            spec = f"{spec}#{host}"
        elif host not in recorded:
            raise ParameterError("target", spec, f"host {host!r} not recorded in the bundle "
                                 f"(have: {', '.join(recorded) or 'none'})")
        super().__init__(spec, timeout_s=timeout_s)
        self.folder = hosts_root / host
        self._host = host

    @property
    def host(self) -> str:
        return self._host

    def command_ids(self) -> list[str]:
        """The command ids recorded for this host."""
        return sorted(p.stem for p in self.folder.glob("*.json"))

    def _run(self, command_id, argv, timeout_s):
        if not (self.folder / f"{command_id}.json").is_file():
            return self._error(command_id, argv, f"{command_id} not captured in the bundle ({self.spec})")
        recorded = load_result(self.folder, command_id)
        if recorded.argv != argv:
            return self._error(command_id, argv, f"{command_id} was captured with a different argv "
                               f"{list(recorded.argv)} in {self.spec}")
        return recorded

    def _error(self, command_id: str, argv: tuple[str, ...], reason: str) -> CommandResult:
        return CommandResult(target=self.spec, command_id=command_id, argv=argv, stdout="", stderr="",
                             exit_code=None, duration_s=0.0, started_at=utc_now_iso(), error=reason)


__all__ = ["save_results", "load_result", "ReplayTarget"]
