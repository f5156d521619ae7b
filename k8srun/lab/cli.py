"""``k8srun lab up | down | status [--json] | break FAULT | fix FAULT`` (root, Linux).

Exit codes: 0 done (``status``: every check passed), 1 ``status`` found a
failing check, 2 the lab could not do it (one line on stderr, from
:func:`k8srun.cli.main`).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import control, controlplane
from .faults import FAULTS
from .state import state_dir
from .status import lab_status
from .system import LabError, require_lab_support


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the lab actions (up, down, status, break, fix) to ``parser``."""
    actions = parser.add_subparsers(dest="lab_action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="build the lab (namespaces, kube-proxy rules, DNS, TLS, HTTP servers)")
    up.add_argument("--control-plane", action="store_true", help="build the control plane instead: 3 etcd members, "
                    "an API-server stand-in and its kubeconfig on loopback (k8srun.lab.controlplane)")
    actions.add_parser("down", help="remove everything the lab made (idempotent)")
    status = actions.add_parser("status", help="topology table and end-to-end checks; exit 0 when all pass")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    fault_help = "\n".join(f"  {name:<20} {fault.finding:<8} {fault.description}"
                           for name, fault in {**FAULTS, **controlplane.FAULTS}.items())
    for action, verb in (("break", "apply"), ("fix", "revert")):
        sub = actions.add_parser(action, help=f"{verb} a fault", epilog="faults (name, finding, what):\n" + fault_help,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        names = [*FAULTS, *controlplane.FAULTS]
        sub.add_argument("fault", metavar="FAULT", choices=names, help="one of: " + ", ".join(names))


def main(args: argparse.Namespace) -> int:
    """Run the chosen lab action."""
    action = args.lab_action
    require_lab_support()
    if action in ("up", "break", "fix") and (getattr(args, "control_plane", False)
                                             or getattr(args, "fault", None) in controlplane.FAULTS):
        return _control_plane(action, getattr(args, "fault", None))
    if action == "up":
        if control.up():
            print(f"lab is up (state in {state_dir()}); check it with `k8srun lab status`; "
                  f"its API snapshot is {control.snapshot_dir()} (-p source lab)")
        else:
            print("lab is already up; `k8srun lab down` removes it")
        return 0
    if action == "down":
        removed = control.down()
        print("removed: " + ", ".join(removed) if removed else "lab is already down: nothing to remove")
        return 0
    if action == "status":
        return _print_status(as_json=args.json)
    fault = FAULTS[args.fault]
    if action == "break":
        done = control.break_fault(args.fault)
        print(f"broke {fault.name} in {fault.where}: {fault.description}; expect {fault.finding}: {fault.symptom}"
              if done else f"{fault.name} is already applied")
        return 0
    done = control.fix_fault(args.fault)
    print(f"fixed {fault.name} in {fault.where}" if done else f"{fault.name} is not applied: nothing to fix")
    return 0


def _control_plane(action: str, name: str | None) -> int:
    """up --control-plane, break/fix of a control-plane fault (k8srun.lab.controlplane)."""
    if action == "up":
        print(f"control plane is up: etcd {','.join(controlplane.endpoints())}, kubeconfig "
              f"{controlplane.kubeconfig_path()}" if controlplane.up() else "control plane is already up")
        return 0
    fault = controlplane.FAULTS[name]
    if action == "break":
        done = controlplane.break_fault(name)
        print(f"broke {name}: {fault.description}; expect {fault.finding}: {fault.symptom}" if done
              else f"{name} is already applied")
        return 0
    print(f"fixed {name}" if controlplane.fix_fault(name) else f"{name} is not applied: nothing to fix")
    return 0


def _print_status(*, as_json: bool) -> int:
    if controlplane.is_up() and not as_json:
        import pandas as pd

        print("CONTROL PLANE (faults: " + (", ".join(controlplane.load()["faults"]) or "none") + ")")
        print(_left_aligned(pd.DataFrame(controlplane.status())) + "\n")
        if not control.is_up():
            return 0
    if not control.is_up():
        raise LabError("the lab is not up: run `k8srun lab up` first")
    status = lab_status()
    if as_json:
        json.dump(status, sys.stdout, indent=2)
        print()
        return 0 if status["ok"] else 1
    import pandas as pd

    with pd.option_context("display.max_colwidth", 120, "display.width", 250):
        print("TOPOLOGY")
        print(_left_aligned(pd.DataFrame(status["topology"])))
        print("\nPROCESSES")
        print(_left_aligned(pd.DataFrame(status["processes"]).drop(columns=["command"], errors="ignore")))
        print("\nCHECKS")
        checks = pd.DataFrame(status["checks"])
        checks["result"] = checks.pop("ok").map({True: "OK", False: "FAIL"})
        print(_left_aligned(checks[["result", "check", "evidence"]]))
    faults = ", ".join(status["faults"]) or "none"
    verdict = "all checks OK" if status["ok"] else "some checks FAIL"
    print(f"\nAPI snapshot: {status['snapshot']} (-p source lab)")
    print(f"faults applied: {faults}; {verdict}")
    return 0 if status["ok"] else 1


def _left_aligned(frame) -> str:
    """A DataFrame as text with every column left-aligned (easier to scan than pandas' default)."""
    widths = {col: max([len(str(col)), *(len(str(v)) for v in frame[col])]) for col in frame.columns}
    formatters = {col: (lambda value, width=width: f"{str(value):<{width}}") for col, width in widths.items()}
    return frame.to_string(index=False, justify="left", formatters=formatters)
