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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="k8srun", description="Runbooks for Kubernetes incidents.")
    parser.add_argument("--version", action="version", version=f"k8srun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
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
    parser = build_parser()
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
