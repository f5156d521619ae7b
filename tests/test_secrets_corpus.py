"""Acceptance (issue 7): no planted secret reaches any output, and ordinary text survives.

A bundle with every secret of ``tests/secrets_corpus.py`` planted (logs, previous logs,
events, statuses, probes, args, env, lifecycle hooks, annotations, labels, ConfigMaps,
namespaces, nodes, PVs, StorageClasses, node command outputs) is

- run through every registered runbook with the CLI (``-p source BUNDLE``),
- served with ``k8srun serve`` and read by the real ``kubectl`` (``get -o yaml``,
  ``logs``, ``cluster-info dump``) and by ``k8srun capture`` with a kubeconfig whose
  server URL carries a password and whose user has a token,
- read live through the server by pod-crashloop, and by triage through a kubeconfig
  naming an unreachable server with a password in its URL,
- and every runbook runs again on the captured bundle.

Every output file (notebooks, HTML reports, findings.json, saved node outputs, the
captured bundle, the kubectl dump) and every stdout/stderr is searched for every
secret; a failure names the secret's form, where it was planted and the files that
leak it. The control run does the same with ``K8SRUN_NO_REDACT=1`` and checks each
secret DOES reach some output then, so no case here passes for want of a path.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from k8srun import registry
from k8srun.capture import capture_bundle
from k8srun.serve import serving
from k8srun.sources import scenarios_dir
from k8srun.sources.snapshot import SnapshotSource
from secrets_corpus import ALL_SECRETS, ORDINARY, kubeconfig_with_secrets, placements, plant_bundle

pytestmark = pytest.mark.slow

KUBECTL = shutil.which("kubectl")
RUN_TIMEOUT_S = 300


def _secret(form: str) -> str:
    return next(s.value for s in ALL_SECRETS if s.form == form)


class Outputs:
    """Everything one pass wrote, by label: files under ``root`` and the captured stdout/stderr."""

    def __init__(self, root: Path):
        self.root = root
        self.returncodes: dict[str, int] = {}

    def run(self, label: str, argv: list[str], env: dict | None = None) -> None:
        """Run a command, keep its stdout/stderr as files ``<label>.stdout|.stderr`` under root."""
        done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=self.root,
                              env={**os.environ, **(env or {})})
        (self.root / f"{label}.stdout").write_text(done.stdout)
        (self.root / f"{label}.stderr").write_text(done.stderr)
        self.returncodes[label] = done.returncode

    def texts(self) -> dict[str, str]:
        return {p.relative_to(self.root).as_posix(): p.read_text(errors="replace")
                for p in sorted(self.root.rglob("*")) if p.is_file()}


def _k8srun(*args: str) -> list[str]:
    return [sys.executable, "-m", "k8srun.cli", *args]


def _kubectl(kubeconfig: Path, cache: Path, *args: str) -> list[str]:
    return [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), "--request-timeout", "20s", *args]


def _pass(root: Path, bundle: Path, url: str, env: dict, runbooks: list[str], *, rerun_on_capture: bool) -> Outputs:
    """One pass over every sink (module docstring); ``env`` says whether redaction is on."""
    out = Outputs(root)
    inputs = root.parent / f"{root.name}-inputs"  # not an output: not searched
    inputs.mkdir()
    kubeconfig = kubeconfig_with_secrets(url, inputs / "kubeconfig", token=_secret("kubeconfig token"),
                                         server_password=_secret("kubeconfig server URL password"))
    unreachable = kubeconfig_with_secrets("https://127.0.0.1:9", inputs / "unreachable-kubeconfig", token="x",
                                          server_password=_secret("kubeconfig server URL password"))
    jobs = {f"run-{name}": _k8srun("run", name, "-p", "source", str(bundle), "--out", f"bundle-{name}",
                                   "--no-progress") for name in runbooks}
    jobs["capture"] = _k8srun("capture", "--kubeconfig", str(kubeconfig), "--out", "captured", "--timeout", "20")
    jobs["live-pod-crashloop"] = _k8srun("run", "pod-crashloop", "-p", "source", "live", "-p", "kubeconfig",
                                         str(kubeconfig), "-p", "namespace", "default", "--out", "live-pod-crashloop",
                                         "--no-progress")
    jobs["unreachable-triage"] = _k8srun("run", "triage", "-p", "source", "live", "-p", "kubeconfig",
                                         str(unreachable), "-p", "timeout_s", "2", "--out", "unreachable-triage",
                                         "--no-progress")
    if KUBECTL:
        cache = inputs / "kubectl-cache"
        jobs["kubectl-get"] = _kubectl(kubeconfig, cache, "get", "pods,events,configmaps,namespaces,nodes,pv,"
                                       "storageclasses", "-A", "-o", "yaml")
        jobs["kubectl-logs"] = _kubectl(kubeconfig, cache, "logs", "api-7f9c", "-n", "default", "--previous",
                                        "--tail", "200")
        jobs["kubectl-dump"] = _kubectl(kubeconfig, cache, "cluster-info", "dump", "--all-namespaces",
                                        "--output-directory", str(root / "kubectl-dump"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda item: out.run(item[0], item[1], env), jobs.items()))
    with SnapshotSource(bundle) as source:  # capture's own redaction, from an unredacted source
        capture_bundle(source, root / "direct-capture", progress=False)
    if rerun_on_capture:
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(lambda name: out.run(f"capture-run-{name}", _k8srun(
                "run", name, "-p", "source", "captured", "--out", f"capture-{name}", "--no-progress"), env),
                runbooks))
    return out


@pytest.fixture(scope="module")
def passes(tmp_path_factory):
    """(redacted pass, control pass with K8SRUN_NO_REDACT=1), each over every sink."""
    root = tmp_path_factory.mktemp("secrets")
    bundle = plant_bundle(root / "bundle", scenarios_dir() / "mtu")
    runbooks = registry.names()
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(SnapshotSource(bundle))
        url, _ = stack.enter_context(serving(source))
        (root / "redacted").mkdir()
        redacted = _pass(root / "redacted", bundle, url, {}, runbooks, rerun_on_capture=True)
        (root / "control").mkdir()
        os.environ["K8SRUN_NO_REDACT"] = "1"  # the server runs in this process
        try:
            control = _pass(root / "control", bundle, url, {"K8SRUN_NO_REDACT": "1"},
                            ["pod-crashloop", "mtu"], rerun_on_capture=False)
        finally:
            del os.environ["K8SRUN_NO_REDACT"]
    return redacted, control


@pytest.fixture(scope="module")
def redacted_texts(passes):
    return passes[0].texts()


_WHERE = placements()


@pytest.mark.parametrize("secret", ALL_SECRETS, ids=[f"{s.form} @ {_WHERE[s.form]}" for s in ALL_SECRETS])
def test_no_planted_secret_reaches_any_output(secret, redacted_texts):
    leaks = sorted(name for name, text in redacted_texts.items() if secret.marker in text or secret.value in text)
    assert not leaks, f"{secret.form} (planted in {_WHERE[secret.form]}) leaks into: {', '.join(leaks)}"


def test_the_corpus_is_large_and_every_place_is_used():
    assert len({s.marker for s in ALL_SECRETS}) == len(ALL_SECRETS) >= 80
    assert set(_WHERE.values()) >= {"current log", "previous log", "event message", "waiting message",
                                    "terminated message", "condition message", "annotation", "node output",
                                    "object structure"}


def test_every_secret_reaches_an_output_when_redaction_is_off(passes):
    """The control: with K8SRUN_NO_REDACT=1 each secret shows up somewhere, so its case above can fail."""
    texts = passes[1].texts()
    unseen = [f"{s.form} @ {_WHERE[s.form]}" for s in ALL_SECRETS
              if s.reaches_outputs and not any(s.marker in text for text in texts.values())]
    assert not unseen, f"never reach an output even unredacted (the leak test proves nothing for them): {unseen}"
    never = [s for s in ALL_SECRETS if not s.reaches_outputs]
    assert not [s.form for s in never if any(s.marker in text for text in texts.values())]


@pytest.mark.parametrize("ordinary", ORDINARY)
def test_ordinary_text_survives_redaction(ordinary, redacted_texts):
    kept = [name for name, text in redacted_texts.items() if ordinary in text]
    assert any(name.startswith("captured/") for name in kept), f"{ordinary!r} was redacted away"


def test_every_run_ran_and_reports_say_redaction_is_on(passes):
    redacted, control = passes
    failed = {label: code for label, code in redacted.returncodes.items()
              if code not in ((0, 2) if label == "unreachable-triage" else (0,))}
    assert not failed, {label: (redacted.root / f"{label}.stderr").read_text()[-2000:] for label in failed}
    texts = redacted.texts()
    # the reason names the server (its password is checked above): on stderr (exit 2) or in the report
    assert any("127.0.0.1:9" in text for name, text in texts.items() if name.startswith("unreachable-triage"))
    assert "redaction</b> on" in texts["bundle-pod-crashloop/pod-crashloop.ipynb"].replace("\\u003c", "<")
    assert "redaction</b> OFF" in (control.root / "bundle-pod-crashloop" / "pod-crashloop.ipynb").read_text()
    import json

    record = json.loads(texts["captured/k8srun.json"])
    assert record["redaction"]["status"].startswith("on")
    assert "admin:[REDACTED]@127.0.0.1" in record["server"]
    direct = json.loads(texts["direct-capture/k8srun.json"])  # captured from the bundle itself, not via serve
    assert sum(direct["redaction"]["counts"].values()) >= 40, direct["redaction"]["counts"]
