"""The ``k8srun`` command line: list / run / capture / serve / lab.

Each subcommand lives in its own module exposing ``add_arguments(parser)``
and ``main(args) -> int``; this file only wires them together. Errors that
k8srun raises on purpose become one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import K8srunError
from .redact import redact_text

#: subcommand -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "list": ("k8srun.registry", "list the runbooks with one-line descriptions"),
    "run": ("k8srun.report", "execute a runbook with papermill and write the report"),
    "capture": ("k8srun.capture", "save a snapshot bundle from a live cluster"),
    "serve": ("k8srun.serve", "serve a snapshot bundle over the Kubernetes API, read-only"),
    "lab": ("k8srun.lab.cli", "the fault lab: network namespaces broken on purpose (root)"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming it (exit 2), like every other error of k8srun."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option), if any."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the chosen subcommand's module is imported (``k8srun list`` stays light).

    ``argv=None`` builds every subcommand's arguments (documentation, tests).
    """
    chosen = None if argv is None else _chosen(argv)
    parser = _Parser(prog="k8srun", description="Runbooks for Kubernetes incidents.")
    parser.add_argument("--version", action="version", version=f"k8srun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if argv is not None and name != chosen:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and not module_name.startswith(exc.name):
                raise
            sub_parser.set_defaults(_unavailable=f"'{name}' is not available in this build")
            continue
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_main=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while the subcommands' modules are still being imported
        print("k8srun: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    if not argv:  # no arguments: what k8srun can do, not an error
        parser.print_help()
        return 0
    chosen = _chosen(argv)
    if chosen is not None and chosen not in SUBCOMMANDS:
        import difflib

        close = difflib.get_close_matches(chosen, list(SUBCOMMANDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        print(f"k8srun: no command {chosen!r}{hint} (commands: {', '.join(SUBCOMMANDS)}; see k8srun --help)",
              file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if getattr(args, "_unavailable", None):
        print(f"k8srun: {args._unavailable}", file=sys.stderr)
        return 2
    try:
        return int(args._main(args) or 0)
    except K8srunError as exc:
        print(f"k8srun {args.command}: {redact_text(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
