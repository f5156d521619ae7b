"""The CLI as a colleague: help when called bare, "did you mean" for typos, plain lines off a terminal, light `list`."""

from __future__ import annotations

import subprocess
import sys

from k8srun import registry
from k8srun.cli import main

K8SRUN = [sys.executable, "-m", "k8srun.cli"]


def test_no_arguments_prints_the_help_not_an_error(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: k8srun" in out and "list" in out and "run" in out


def test_a_mistyped_command_gets_a_did_you_mean(capsys):
    assert main(["lsit"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'list'?" in err


def test_a_mistyped_runbook_and_parameter_get_a_did_you_mean(capsys):
    assert main(["run", "pod-pendin"]) == 2
    assert "did you mean 'pod-pending'?" in capsys.readouterr().err
    assert main(["run", "pod-pending", "-p", "namespce", "shop"]) == 2
    assert "did you mean 'namespace'?" in capsys.readouterr().err


def test_list_imports_no_runbook_machinery():
    """`k8srun list` answers from the declarations: neither pandas nor a checks module is imported."""
    probe = ("import sys, io, contextlib\nfrom k8srun.cli import main\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    main(['list'])\n"
             "print(sorted(m for m in sys.modules if m == 'pandas' or m.startswith('k8srun.checks')))\n"
             "print(out.getvalue())")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    imported, _, listing = result.stdout.partition("\n")
    assert imported == "[]", imported
    assert [line.split()[0] for line in listing.splitlines() if line] == registry.names()


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    result = subprocess.run([*K8SRUN, "run", "triage", "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "Executing" not in result.stderr
    # instead, a plain line as each section starts (CI logs show where a slow run is)
    assert "k8srun run triage: 1. Pods that are not Running\n" in result.stderr
    quiet = subprocess.run([*K8SRUN, "run", "triage", "--no-progress", "--out", str(tmp_path / "q")],
                           capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and "k8srun run triage:" not in quiet.stderr
