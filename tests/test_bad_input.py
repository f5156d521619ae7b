"""Every bad input gets a clear answer: the bad-input matrix of issue 7, through the real CLI.

Each case runs ``k8srun`` as a subprocess with ``TMPDIR`` set to a fresh folder
and asserts: the exit code (2 could not run, 0 ran, 130 Ctrl-C), one line on
stderr naming the problem, no traceback anywhere (stdout, stderr, every report
file), nothing half-written and nothing left over (the ``--out`` folder, the
TMPDIR), and for damaged evidence a visible "evidence unavailable" row.

Real parts only: hostile API servers are real sockets on 127.0.0.1 served by
:class:`HostileApi` (refuse, hang, trickle a byte a second, 401/403/429/500,
an HTML page, ``{}``, endless ``continue`` tokens); the exec credential plugin
is a real script; ``k8srun serve`` is a real process answering real HTTP.
Most cases fail in preflight (well under a second of work); the ones that need
a kernel are grouped: one run of a damaged bundle or a hostile server serves
several cases (module-scoped fixtures).
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from bundles import write_bundle
from throwaway import write_runbook

ROOT = Path(__file__).resolve().parents[1]
K8SRUN = [sys.executable, "-m", "k8srun.cli"]
EXIT_OK, EXIT_CELL_FAILED, EXIT_CANNOT_RUN, EXIT_INTERRUPTED = 0, 1, 2, 130
TRACEBACK_MARKS = ("Traceback (most recent call last)", "Traceback", "---------------------------------------")


# ============================================================== the harness

@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    tmpdir: Path  # the TMPDIR the process had
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def k8srun(tmp_path: Path, *args: str, env: dict | None = None, timeout: float = 120, cwd: Path | None = None,
           stdin=subprocess.DEVNULL) -> Run:
    """Run the CLI with a fresh TMPDIR (asserted empty afterwards by the checks below)."""
    tmpdir = Path(tmp_path) / f"TMPDIR-{time.monotonic_ns()}"
    tmpdir.mkdir(parents=True)
    started = time.monotonic()
    done = subprocess.run([*K8SRUN, *args], capture_output=True, text=True, timeout=timeout, stdin=stdin,
                          cwd=cwd or tmp_path, env={**os.environ, "TMPDIR": str(tmpdir), **(env or {})})
    return Run(done.returncode, done.stdout, done.stderr, tmpdir, time.monotonic() - started)


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text[-3000:]


def nothing_left(run: Run) -> None:
    left = sorted(p.name for p in run.tmpdir.iterdir())
    assert not left, f"left in TMPDIR: {left}"


def refused(run: Run, *needles: str, code: int = EXIT_CANNOT_RUN) -> str:
    """Exit ``code``, one line on stderr holding every needle, no traceback, nothing left behind."""
    assert run.code == code, f"exit {run.code}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-3000:]}"
    assert len(run.lines) == 1, run.stderr[-3000:]
    for needle in needles:
        assert needle in run.lines[0], run.lines[0]
    no_traceback(run.stdout, run.stderr)
    nothing_left(run)
    return run.lines[0]


def report_files(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()}


def ran_with_unavailable(run: Run, out: Path, runbook: str, *needles: str) -> dict:
    """Exit 0, a complete report, no traceback in any file, an unavailable row holding every needle."""
    assert run.code == EXIT_OK, f"exit {run.code}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-3000:]}"
    no_traceback(run.stdout, run.stderr, *report_files(out).values())
    assert {f"{runbook}.ipynb", f"{runbook}.html", f"{runbook}.findings.json"} <= set(os.listdir(out))
    assert not [p for p in os.listdir(out) if p.startswith(".k8srun")], os.listdir(out)
    nothing_left(run)
    document = json.loads((out / f"{runbook}.findings.json").read_text())
    html = (out / f"{runbook}.html").read_text()
    for needle in needles:
        rows = [u for u in document["unavailable"] if needle in json.dumps(u)]
        assert rows, f"no unavailable row with {needle!r}: {document['unavailable']}"
        assert needle.replace('"', "&quot;") in html or needle in html
    return document


# ============================================================== hostile parameters (preflight)

PARAMETER_CASES = [
    # id, argv after `run`, what the one line must name
    ("ns-injection", ["pod-pending", "-p", "namespace", "x;rm -rf /"], "parameter 'namespace'"),
    ("ns-command-substitution", ["pod-pending", "-p", "namespace", "$(id)"], "parameter 'namespace'"),
    ("ns-cyrillic-lookalike", ["pod-pending", "-p", "namespace", "\u0455hop"], "parameter 'namespace'"),
    ("ns-unicode-hyphen", ["pod-pending", "-p", "namespace", "kube\u2010system"], "parameter 'namespace'"),
    ("ns-fullwidth", ["pod-pending", "-p", "namespace", "\uff53hop"], "parameter 'namespace'"),
    ("ns-list", ["pod-pending", "-p", "namespace", "[shop, default]"], "parameter 'namespace'"),
    ("ns-mapping", ["pod-pending", "-p", "namespace", "{a: 1}"], "parameter 'namespace'"),
    ("ns-too-long", ["pod-pending", "-p", "namespace", "a" * 64], "parameter 'namespace'"),
    ("ns-huge", ["pod-pending", "-p", "namespace", "a" * 100_000], "parameter 'namespace'"),
    ("ns-yaml-alias-loop", ["pod-pending", "-p", "namespace", "&a [*a]"], "parameter 'namespace'"),
    ("ns-yaml-python-tag", ["pod-pending", "-p", "namespace", "!!python/object/apply:os.system [id]"],
     "parameter 'namespace'"),
    ("pod-traversal", ["pod-crashloop", "-p", "pod", "../../etc/passwd"], "parameter 'pod'"),
    ("pod-uppercase", ["pod-crashloop", "-p", "pod", "Web_0"], "parameter 'pod'"),
    ("container-space", ["pod-crashloop", "-p", "container", "a b"], "parameter 'container'"),
    ("timeout-negative", ["pod-pending", "-p", "timeout_s", "-1"], "parameter 'timeout_s'"),
    ("timeout-zero", ["pod-pending", "-p", "timeout_s", "0"], "parameter 'timeout_s'"),
    ("timeout-nan", ["pod-pending", "-p", "timeout_s", ".nan"], "must be a finite number"),
    ("timeout-inf", ["pod-pending", "-p", "timeout_s", ".inf"], "must be a finite number"),
    ("timeout-overflow", ["pod-pending", "-p", "timeout_s", "1e999"], "must be a finite number"),
    ("timeout-huge", ["pod-pending", "-p", "timeout_s", "99999999999999999999"], "must be at most 3600"),
    ("timeout-over-an-hour", ["pod-pending", "-p", "timeout_s", "3601"], "must be at most 3600"),
    ("timeout-bool", ["pod-pending", "-p", "timeout_s", "true"], "parameter 'timeout_s'"),
    ("timeout-list", ["pod-pending", "-p", "timeout_s", "[1, 2]"], "parameter 'timeout_s'"),
    ("timeout-fullwidth-digit", ["pod-pending", "-p", "timeout_s", "\uff15"], "parameter 'timeout_s'"),
    ("tail-fraction", ["pod-crashloop", "-p", "tail_lines", "1.5"], "parameter 'tail_lines'"),
    ("tail-huge", ["pod-crashloop", "-p", "tail_lines", "100000000"], "must be at most 100000"),
    ("tail-negative", ["pod-crashloop", "-p", "tail_lines", "-5"], "parameter 'tail_lines'"),
    ("dest-not-ip", ["mtu", "-p", "dest", "10.0.0.256"], "parameter 'dest'"),
    ("dest-fullwidth-digits", ["mtu", "-p", "dest", "\uff11\uff10.0.0.1"], "parameter 'dest'"),
    ("overhead-huge", ["mtu", "-p", "encap_overhead", "1000000000"], "parameter 'encap_overhead'"),
    ("target-injection", ["mtu", "-p", "target", "ssh:host;rm -rf /"], "parameter 'target'"),
    ("unknown-parameter", ["pod-pending", "-p", "nmespace", "shop"], "has no such parameter"),
    ("unknown-runbook", ["no-such-runbook"], "no runbook 'no-such-runbook'"),
    ("source-empty", ["pod-pending", "-p", "source", ""], "parameter 'source'"),
    ("source-scenario-traversal", ["pod-pending", "-p", "source", "scenario:../../etc"], "parameter 'source'"),
    ("source-unknown-scenario", ["pod-pending", "-p", "source", "scenario:nope"], "no built-in scenario 'nope'"),
    ("source-missing-path", ["pod-pending", "-p", "source", "/nonexistent/bundle"], "parameter 'source'"),
    ("source-lookalike-scenario", ["pod-pending", "-p", "source", "\u0455cenario:pod-pending"],
     "parameter 'source'"),
    ("source-device", ["pod-pending", "-p", "source", "/dev/null"], "not a directory or a regular .tar.gz"),
    ("namespace-not-in-bundle", ["pod-pending", "-p", "namespace", "nosuch"], "parameter 'namespace'"),
    ("pod-not-in-bundle", ["pod-crashloop", "-p", "pod", "nosuch-0"], "parameter 'pod'"),
    ("fail-on-unknown", ["pod-pending", "--fail-on", "bogus"], "--fail-on"),
    ("max-time-zero", ["pod-pending", "--max-time", "0"], "parameter '--max-time'"),
    ("max-time-nan", ["pod-pending", "--max-time", "nan"], "parameter '--max-time'"),
    ("p-without-value", ["pod-pending", "-p", "namespace"], "expected 2 arguments"),
]


@pytest.mark.parametrize("argv, needle", [c[1:] for c in PARAMETER_CASES], ids=[c[0] for c in PARAMETER_CASES])
def test_hostile_parameter_is_refused_before_a_kernel_starts(tmp_path, argv, needle):
    run = k8srun(tmp_path, "run", *argv, "--out", str(tmp_path / "out"), "--no-progress")
    refused(run, needle)
    assert not (tmp_path / "out").exists()
    assert run.seconds < 30


def test_container_that_the_pod_does_not_have_is_refused(tmp_path):
    pods = json.loads((ROOT / "k8srun/scenarios/pod-crashloop/payments/pods.json").read_text())["items"]
    name = pods[0]["metadata"]["name"]
    run = k8srun(tmp_path, "run", "pod-crashloop", "-p", "pod", name, "-p", "container", "nosuch",
                 "--out", str(tmp_path / "out"))
    assert "has no such container" in refused(run, "parameter 'container'")


# ============================================================== -f misuse

def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + "namespace: *i\n"

FILE_CASES = [
    ("missing", lambda d: str(d / "nope.yaml"), "No such file"),
    ("directory", lambda d: str(d), "not a regular file"),
    ("not-utf8", lambda d: str(_write(d / "latin1.yaml", b"namespace: caf\xe9\n")), "not UTF-8"),
    ("utf16", lambda d: str(_write(d / "utf16.yaml", "namespace: shop\n".encode("utf-16"))), "not UTF-8"),
    ("device", lambda d: "/dev/zero", "not a regular file"),
    ("fifo", lambda d: (os.mkfifo(d / "fifo.yaml"), str(d / "fifo.yaml"))[1], "not a regular file"),
    ("invalid-yaml", lambda d: str(_write(d / "bad.yaml", "namespace: [shop\n")), "not valid YAML"),
    ("a-list", lambda d: str(_write(d / "list.yaml", "- namespace\n- shop\n")), "YAML mapping"),
    ("non-string-keys", lambda d: str(_write(d / "keys.yaml", "1: shop\n")), "YAML mapping"),
    ("billion-laughs", lambda d: str(_write(d / "laughs.yaml", LAUGHS)), "aliases"),
    ("python-tag", lambda d: str(_write(d / "tag.yaml", "namespace: !!python/object/apply:os.system [id]\n")),
     "not valid YAML"),
    ("too-large", lambda d: str(_write(d / "big.yaml", "# " + "x" * (2 * 2**20) + "\n")), "larger than"),
    ("unknown-name", lambda d: str(_write(d / "unknown.yaml", "nmespace: shop\n")), "has no such parameter"),
    ("bad-value", lambda d: str(_write(d / "value.yaml", "namespace: Shop_1\n")), "parameter 'namespace'"),
]


@pytest.mark.parametrize("make, needle", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_parameters_file_misuse_is_one_line(tmp_path, make, needle):
    folder = tmp_path / "files"
    folder.mkdir()
    run = k8srun(tmp_path, "run", "pod-pending", "-f", make(folder), "--out", str(tmp_path / "out"), timeout=30)
    refused(run, needle)
    assert not (tmp_path / "out").exists()


# ============================================================== --out misuse

def _bundle_dir(d: Path) -> Path:
    return write_bundle(d / "bundle")


OUT_CASES = [
    ("existing-file", lambda d: str(_write(d / "report.html", "<p>mine</p>")), "exists and is not a directory"),
    ("proc", lambda d: "/proc/k8srun-report", "pseudo-filesystem"),
    ("sys", lambda d: "/sys/k8srun-report", "pseudo-filesystem"),
    ("dev-null", lambda d: "/dev/null", "exists and is not a directory"),
    ("under-a-file", lambda d: str(_write(d / "file", "x") / "report"), "cannot write there"),
    ("not-a-report-folder", lambda d: str(_bundle_dir(d)), "holds no k8srun report"),
    ("empty-string", lambda d: "", "must not be empty"),
]


@pytest.mark.parametrize("make, needle", [c[1:] for c in OUT_CASES], ids=[c[0] for c in OUT_CASES])
def test_out_that_cannot_hold_a_report_is_one_line(tmp_path, make, needle):
    folder = tmp_path / "given"
    folder.mkdir()
    out = make(folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    run = k8srun(tmp_path, "run", "pod-pending", "--out", out)
    refused(run, "parameter '--out'", needle)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before  # nothing overwritten


CAPTURE_OUT_CASES = [(case_id, make, "already exists" if case_id in ("existing-file", "dev-null") else needle)
                     for case_id, make, needle in OUT_CASES if case_id != "not-a-report-folder"]


@pytest.mark.parametrize("make, needle", [c[1:] for c in CAPTURE_OUT_CASES], ids=[c[0] for c in CAPTURE_OUT_CASES])
def test_capture_out_that_cannot_be_written_is_one_line_before_the_cluster_is_asked(tmp_path, make, needle,
                                                                                     hanging_api):
    """The kubeconfig points at a server that never answers: refusing --out first costs no wait."""
    folder = tmp_path / "given"
    folder.mkdir()
    out = make(folder)
    run = k8srun(tmp_path, "capture", "--out", out, "--kubeconfig", hanging_api.kubeconfig, "--timeout", "30")
    refused(run, "parameter '--out'", needle)
    assert run.seconds < 20


def test_capture_out_that_exists_is_refused_and_left_alone(tmp_path, hanging_api):
    bundle = _bundle_dir(tmp_path)
    before = {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    run = k8srun(tmp_path, "capture", "--out", str(bundle), "--kubeconfig", hanging_api.kubeconfig)
    refused(run, "parameter '--out'", "already exists")
    assert {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("option, value, needle", [
    ("--timeout", "0", "parameter '--timeout'"), ("--timeout", "86400", "must be at most 3600"),
    ("--max-time", "nan", "parameter '--max-time'"), ("--namespaces", "Shop_1", "parameter '--namespaces'"),
])
def test_capture_bad_options_are_one_line(tmp_path, hanging_api, option, value, needle):
    run = k8srun(tmp_path, "capture", "--out", str(tmp_path / "b"), "--kubeconfig", hanging_api.kubeconfig,
                 option, value)
    refused(run, needle)
    assert not (tmp_path / "b").exists()


# ============================================================== hostile API servers

VERSION = {"major": "1", "minor": "30", "gitVersion": "v1.30.2", "platform": "linux/amd64"}
HANG, CLOSE = ("hang",), ("close",)


def answer_json(obj, status: int = 200) -> tuple:
    return ("raw", status, "application/json", json.dumps(obj).encode())


def answer_html(status: int = 200) -> tuple:
    return ("raw", status, "text/html", b"<html><body><h1>Sign in</h1><form>corporate proxy</form></body></html>")


def answer_status(status: int, reason: str) -> tuple:
    return answer_json({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status,
                        "reason": reason, "message": f'pods is {reason}: User "mallory" cannot list'}, status)


def trickle(obj) -> tuple:
    return ("trickle", 200, "application/json", json.dumps(obj).encode())


def empty_list(path: str) -> dict:
    kind = {"pods": "PodList", "events": "EventList", "nodes": "NodeList", "namespaces": "NamespaceList"}.get(
        path.rstrip("/").rsplit("/", 1)[-1], "List")
    items = [{"metadata": {"name": "shop"}}] if kind == "NamespaceList" else []
    return {"kind": kind, "apiVersion": "v1", "metadata": {}, "items": items}


class HostileApi:
    """A real HTTP/1.1 server on 127.0.0.1 that answers each request as ``behave(path, query)`` says.

    Answers: ``("raw", status, content_type, body)``, ``("trickle", status, content_type, body)`` (one
    byte a second, status line included), :data:`HANG` (read the request, never answer), :data:`CLOSE`.
    ``behave`` returning None means: ``/version`` like a v1.30 server, any other path an empty List.
    ``requests`` records every ``(path, query)``. :meth:`stop` closes every socket and joins every thread.
    """

    def __init__(self, behave, folder: Path, *, refuse: bool = False):
        self.behave = behave
        self.requests: list[tuple[str, dict]] = []
        self._stopped = threading.Event()
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        if refuse:  # bound, never listening: connections are refused
            self._listener.close()
        else:
            self._listener.listen(64)
            self._spawn(self._accept)
        self.url = f"http://127.0.0.1:{self.port}"
        self.kubeconfig = str(folder / f"kubeconfig-{self.port}")
        Path(self.kubeconfig).write_text(yaml.safe_dump(kubeconfig(self.url)))

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        self._listener.settimeout(0.1)  # closing a socket does not wake accept(): poll for stop
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._connections.append(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        buffer = b""
        try:
            while not self._stopped.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
                parts = urlsplit(target)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                self.requests.append((parts.path, query))
                answer = self.behave(parts.path, query) or \
                    answer_json(VERSION if parts.path.rstrip("/") == "/version" else empty_list(parts.path))
                if answer is HANG:
                    self._stopped.wait()
                    return
                if answer is CLOSE:
                    return
                kind, status, content_type, body = answer
                data = (f"HTTP/1.1 {status} {http.client.responses.get(status, 'X')}\r\nContent-Type: "
                        f"{content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
                if kind == "trickle":
                    for index in range(len(data)):
                        conn.sendall(data[index:index + 1])
                        if self._stopped.wait(1.0):
                            return
                else:
                    conn.sendall(data)
        except OSError:
            return
        finally:
            conn.close()

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def stop(self) -> None:
        self._stopped.set()
        try:
            self._listener.close()
        except OSError:
            pass
        for conn in self._connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        assert not any(t.is_alive() for t in self._threads), "a test server thread did not stop"


def kubeconfig(url: str, user: dict | None = None, context: str = "hostile") -> dict:
    return {"apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "c", "cluster": {"server": url}}],
            "users": [{"name": "u", "user": user or {"token": "not-a-secret"}}],
            "contexts": [{"name": context, "context": {"cluster": "c", "user": "u", "namespace": "shop"}}]}


@pytest.fixture
def hostile(tmp_path):
    """``hostile(behave, refuse=False) -> HostileApi``, stopped after the test."""
    servers: list[HostileApi] = []

    def start(behave=lambda path, query: None, **kwargs) -> HostileApi:
        server = HostileApi(behave, tmp_path, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def hanging_api(hostile):
    return hostile(lambda path, query: HANG)


def _on(version=None, **by_resource):
    """behave(): ``version`` for /version, by_resource[plural] (``all_pods`` for /api/v1/pods) for lists."""
    def behave(path, query):
        path = path.rstrip("/")
        if path == "/version":
            return version
        if path == "/api/v1/pods":
            return by_resource.get("all_pods")
        return by_resource.get(path.rsplit("/", 1)[-1])
    return behave


UNUSABLE_SERVER_CASES = [
    ("refused", None, True, "connection refused"),
    ("hang", _on(version=HANG), False, "within 1s"),
    ("trickle", _on(version=trickle(VERSION)), False, "no complete answer within 1s"),
    ("closes", _on(version=CLOSE), False, "unreachable"),
    ("401", _on(version=answer_status(401, "Unauthorized")), False, "authentication failed"),
    ("html-login-page", _on(version=answer_html()), False, "not the Kubernetes API"),
    ("empty-object", _on(version=answer_json({})), False, "without gitVersion"),
    ("json-array", _on(version=answer_json([1, 2])), False, "JSON but not an object"),
    ("500", _on(version=answer_status(500, "InternalError")), False, "500"),
]


@pytest.mark.parametrize("behave, refuse, needle", [c[1:] for c in UNUSABLE_SERVER_CASES],
                         ids=[c[0] for c in UNUSABLE_SERVER_CASES])
def test_api_server_that_cannot_be_used_is_one_line_before_a_kernel_starts(tmp_path, hostile, behave, refuse,
                                                                           needle):
    server = hostile(behave, refuse=refuse)
    run = k8srun(tmp_path, "run", "pod-pending", "-p", "source", "live", "-p", "kubeconfig", server.kubeconfig,
                 "-p", "timeout_s", "1", "--out", str(tmp_path / "out"), timeout=60)
    line = refused(run, needle)
    assert server.url in line  # names the server
    assert run.seconds < 20 and not (tmp_path / "out").exists()


def _exec_user(command: str, *args: str) -> dict:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": command, "args": list(args),
                     "interactiveMode": "Never"}}


def _plugin(folder: Path, body: str) -> str:
    script = folder / "plugin.sh"
    script.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return str(script)


EXEC_CASES = [
    ("hangs", "echo $$ > \"$PIDFILE\"\nexec sleep 600\n", "gave no answer within 1s"),
    ("fails", "echo 'token expired: run sso login' >&2\nexit 3\n", "exited 3: token expired"),
    ("garbage", "echo 'not json'\n", "did not answer an ExecCredential"),
    ("no-token", "echo '{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"kind\": \"ExecCredential\", "
                 "\"status\": {}}'\n", "with a token or client certificate"),
    ("missing-binary", None, "cannot start"),
]


@pytest.mark.parametrize("body, needle", [c[1:] for c in EXEC_CASES], ids=[c[0] for c in EXEC_CASES])
def test_exec_credential_plugin_that_hangs_or_fails_is_one_line_and_killed(tmp_path, hostile, body, needle):
    server = hostile()
    pidfile = tmp_path / "plugin.pid"
    command = _plugin(tmp_path, body) if body else str(tmp_path / "no-such-plugin")
    config = tmp_path / "exec-kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(server.url, _exec_user(command))))
    run = k8srun(tmp_path, "run", "pod-pending", "-p", "source", "live", "-p", "kubeconfig", str(config),
                 "-p", "timeout_s", "1", "--out", str(tmp_path / "out"), env={"PIDFILE": str(pidfile)}, timeout=60)
    refused(run, "exec credential plugin", needle)
    assert run.seconds < 20
    if pidfile.exists():  # the hanging plugin was killed, not left behind
        pid = int(pidfile.read_text())
        deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


KUBECONFIG_CASES = [
    ("missing", lambda d, url: str(d / "nope"), [], "does not exist"),
    ("directory", lambda d, url: str(d), [], "kubeconfig"),
    ("not-yaml", lambda d, url: str(_write(d / "kc", "clusters: [\n")), [], "cannot be loaded"),
    ("not-utf8", lambda d, url: str(_write(d / "kc", b"\xff\xfe\x00garbage")), [], "kubeconfig"),
    ("no-contexts", lambda d, url: str(_write(d / "kc", "apiVersion: v1\nkind: Config\n")), [], "kubeconfig"),
    ("unknown-context", lambda d, url: str(_write(d / "kc", yaml.safe_dump(kubeconfig(url)))),
     ["-p", "context", "prod"], "has no context 'prod'"),
    ("lookalike-context", lambda d, url: str(_write(d / "kc", yaml.safe_dump(kubeconfig(url)))),
     ["-p", "context", "h\u043estile"], "has no context"),
    ("clusters-not-a-list", lambda d, url: str(_write(d / "kc", yaml.safe_dump(
        {**kubeconfig(url), "clusters": 5}))), [], "kubeconfig"),
]


@pytest.mark.parametrize("make, extra, needle", [c[1:] for c in KUBECONFIG_CASES],
                         ids=[c[0] for c in KUBECONFIG_CASES])
def test_kubeconfig_or_context_that_cannot_be_used_is_one_line(tmp_path, hostile, make, extra, needle):
    server = hostile()
    folder = tmp_path / "kube"
    folder.mkdir()
    run = k8srun(tmp_path, "run", "pod-pending", "-p", "source", "live", "-p", "kubeconfig",
                 make(folder, server.url), *extra, "-p", "timeout_s", "2", "--out", str(tmp_path / "out"))
    refused(run, needle)
    assert not (tmp_path / "out").exists()


# ============================================================== damaged bundles and hostile tarballs (preflight)

def _tarball(folder: Path, name: str, *members) -> Path:
    """A .tar.gz of a small good bundle (as ``cluster/``) plus hostile ``(TarInfo, data)`` members."""
    bundle = write_bundle(folder / f"{name}-src")
    archive = folder / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="cluster")
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    shutil.rmtree(bundle)
    return archive


def _member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes | None = b"{}", **attrs):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE and data is not None else 0
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data if kind == tarfile.REGTYPE else None


def _huge_member_tarball(folder: Path) -> Path:
    """A gzip'd tar whose one member's header claims 10 GiB (the data never comes)."""
    info = tarfile.TarInfo("cluster/nodes.json")
    info.size = 10 * 2**30
    archive = folder / "huge.tar.gz"
    archive.write_bytes(gzip.compress(info.tobuf(format=tarfile.GNU_FORMAT) + bytes(4096)))
    return archive


def _gzip_bomb(folder: Path, members: int = 4, size: int = 64 * 2**20) -> Path:
    """A real gzip bomb: ``members`` members of ``size`` zero bytes each, a few hundred KB compressed."""
    archive = folder / "bomb.tar.gz"
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunk = bytes(2**20)
    with open(archive, "wb") as out:
        for index in range(members):
            info = tarfile.TarInfo(f"cluster/zeros-{index}.json")
            info.size = size
            out.write(compressor.compress(info.tobuf(format=tarfile.GNU_FORMAT)))
            for _ in range(size // len(chunk)):
                out.write(compressor.compress(chunk))
        out.write(compressor.compress(bytes(1024)) + compressor.flush())
    return archive


def _many_members(folder: Path) -> Path:
    return _tarball(folder, "many", *[_member(f"cluster/extra/f{i}.json") for i in range(120)])


def _truncated(folder: Path) -> Path:
    archive = _tarball(folder, "whole")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    return archive


def _fifo_tarball(folder: Path) -> Path:
    os.mkfifo(folder / "pipe.tar.gz")
    return folder / "pipe.tar.gz"


def _bundle_with(folder: Path, edit) -> Path:
    bundle = write_bundle(folder / "bundle")
    edit(bundle)
    return bundle


def _not_a_bundle_tarball(folder: Path) -> Path:
    (folder / "docs").mkdir()
    _write(folder / "docs" / "README.md", "hello")
    with tarfile.open(folder / "docs.tar.gz", "w:gz") as tar:
        tar.add(folder / "docs", arcname="docs")
    return folder / "docs.tar.gz"


BUNDLE_CASES = [
    # id, make(folder) -> source path, extra environment, what the one line names
    ("tar-path-traversal", lambda d: _tarball(d, "t", _member("../escaped.json")), {}, "unsafe member refused"),
    ("tar-absolute-path", lambda d: _tarball(d, "t", _member("/tmp/k8srun-absolute.json")), {},
     "unsafe member refused"),
    ("tar-symlink-out", lambda d: _tarball(d, "t", _member("cluster/evil.json", tarfile.SYMTYPE,
                                                           linkname="../../../../etc/passwd")), {},
     "unsafe member refused"),
    ("tar-absolute-symlink", lambda d: _tarball(d, "t", _member("cluster/evil.json", tarfile.SYMTYPE,
                                                                linkname="/etc/passwd")), {},
     "unsafe member refused"),
    ("tar-hardlink-out", lambda d: _tarball(d, "t", _member("cluster/evil.json", tarfile.LNKTYPE,
                                                            linkname="../etc/passwd")), {}, "unsafe member refused"),
    ("tar-char-device", lambda d: _tarball(d, "t", _member("cluster/null", tarfile.CHRTYPE, devmajor=1, devminor=3)),
     {}, "device or FIFO"),
    ("tar-fifo-member", lambda d: _tarball(d, "t", _member("cluster/fifo", tarfile.FIFOTYPE)), {}, "device or FIFO"),
    ("tar-huge-member", _huge_member_tarball, {}, "bytes once extracted"),
    ("tar-gzip-bomb", _gzip_bomb, {"K8SRUN_BUNDLE_MAX_BYTES": str(100 * 2**20)}, "more than 104857600 bytes"),
    ("tar-too-many-members", _many_members, {"K8SRUN_BUNDLE_MAX_FILES": "100"}, "more than 100 files"),
    ("tar-truncated", _truncated, {}, "cannot extract bundle"),
    ("tar-not-gzip", lambda d: _write(d / "plain.tar.gz", "this is not gzip\n"), {}, "cannot extract bundle"),
    ("tar-empty-file", lambda d: _write(d / "empty.tar.gz", b""), {}, "cannot extract bundle"),
    ("tar-not-a-bundle", _not_a_bundle_tarball, {}, "is not a snapshot bundle"),
    ("fifo-named-tar-gz", _fifo_tarball, {}, "not a directory or a regular .tar.gz"),
    ("regular-file", lambda d: _write(d / "bundle.json", "{}"), {}, "a bundle is a directory or a .tar.gz"),
    ("empty-directory", lambda d: (d / "empty").mkdir() or d / "empty", {}, "is not a snapshot bundle"),
    ("k8srun-json-invalid", lambda d: _bundle_with(d, lambda b: _write(b / "k8srun.json", '{"captured_at": ')), {},
     "k8srun.json: unreadable"),
    ("k8srun-json-a-list", lambda d: _bundle_with(d, lambda b: _write(b / "k8srun.json", "[1, 2]")), {},
     "not a k8srun.json object"),
    ("k8srun-json-bad-time", lambda d: _bundle_with(d, lambda b: _write(b / "k8srun.json", json.dumps(
        {"captured_at": "yesterday-ish"}))), {}, "is not a timestamp"),
    ("k8srun-json-symlink-out", lambda d: _bundle_with(d, lambda b: (
        (b / "k8srun.json").unlink(), (b / "k8srun.json").symlink_to("/etc/passwd"))), {},
     "symlink leading out of the bundle"),
]


@pytest.mark.parametrize("make, env, needle", [c[1:] for c in BUNDLE_CASES], ids=[c[0] for c in BUNDLE_CASES])
def test_bundle_that_cannot_be_used_is_one_line_and_leaves_no_extracted_copy(tmp_path, make, env, needle):
    folder = tmp_path / "given"
    folder.mkdir()
    source = str(make(folder))
    run = k8srun(tmp_path, "run", "pod-pending", "-p", "source", source, "--out", str(tmp_path / "out"), env=env,
                 timeout=60)
    refused(run, "k8srun run:", needle)
    assert not (tmp_path / "out").exists() and not Path("/tmp/k8srun-absolute.json").exists()
    assert not (tmp_path / "escaped.json").exists() and not (folder / "escaped.json").exists()


def test_serve_of_a_hostile_tarball_is_one_line(tmp_path):
    archive = _tarball(tmp_path, "t", _member("../escaped.json"))
    run = k8srun(tmp_path, "serve", str(archive), timeout=30)
    refused(run, "k8srun serve:", "unsafe member refused")


@pytest.mark.parametrize("argv, needle", [
    (["/nonexistent"], "parameter 'source'"), (["live"], "parameter 'bundle'"),
    (["scenario:healthy", "--port", "70000"], "between 1 and 65535"), (["scenario:healthy", "--port", "http"],
                                                                         "not a port"),
    (["scenario:healthy", "--host", "999.1.1.1"], "not an IP address"),
], ids=["missing", "live", "port-range", "port-text", "host"])
def test_serve_bad_arguments_are_one_line(tmp_path, argv, needle):
    refused(k8srun(tmp_path, "serve", *argv, timeout=30), needle)


def test_serve_on_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        run = k8srun(tmp_path, "serve", "scenario:healthy", "--port", str(busy.getsockname()[1]), timeout=30)
    refused(run, "cannot listen on 127.0.0.1")


# ============================================================== damaged evidence: the runbook runs and says so

class Runs:
    """Kernel runs shared by the cases of one module (one per group, made on first use)."""

    def __init__(self, folder: Path, makers: dict):
        self.folder, self.makers, self.done = folder, makers, {}

    def __getitem__(self, group: str):
        if group not in self.done:
            self.done[group] = self.makers[group](self.folder / group)
        return self.done[group]


def _damaged_run(folder: Path, runbook: str, edit, *parameters: str):
    folder.mkdir(parents=True)
    bundle = write_bundle(folder / "bundle")
    edit(bundle)
    out = folder / "out"
    return k8srun(folder, "run", runbook, "-p", "source", str(bundle), *parameters, "--out", str(out),
                  "--no-progress"), out


def _damage_objects(b: Path) -> None:
    _write(b / "default" / "pods.json", (b / "default" / "pods.json").read_text()[:300])
    _write(b / "nodes.json", json.dumps({"kind": "ServiceList", "apiVersion": "v1", "items": []}))
    _write(b / "default" / "events.json", json.dumps({"kind": "EventList", "apiVersion": "v1", "items": None}))
    _write(b / "default" / "persistentvolumeclaims.json", json.dumps({"kind": "PersistentVolumeClaimList",
                                                                       "items": [1, "x"]}))


def _damage_pods(b: Path) -> None:
    pods = json.loads((b / "default" / "pods.json").read_text())
    pods["items"][0]["metadata"] = None
    _write(b / "default" / "pods.json", json.dumps(pods))
    (b / "default" / "events.json").unlink()
    (b / "default" / "events.json").symlink_to("/etc/passwd")
    _write(b / "default" / "endpoints.json", json.dumps({"kind": "EndpointsList", "items": [
        {"kind": "Pod", "metadata": {"name": "web"}}]}))


def _damage_logs(b: Path) -> None:
    logs = b / "default" / "web-0" / "logs.txt"
    _write(logs, logs.read_text().rsplit("==== END", 1)[0])


DAMAGED = {
    "objects": lambda d: _damaged_run(d, "pod-pending", _damage_objects, "-p", "namespace", "default"),
    "pods": lambda d: _damaged_run(d, "pod-crashloop", _damage_pods, "-p", "namespace", "default"),
    "logs": lambda d: _damaged_run(d, "pod-crashloop", _damage_logs, "-p", "namespace", "default",
                                   "-p", "pod", "web-0"),
}


# ============================================================== hostile API answers to lists: rows, exit 0, bounded

def _live_run(folder: Path, behave) -> tuple[Run, Path, HostileApi]:
    folder.mkdir(parents=True)
    server = HostileApi(behave, folder)
    try:
        out = folder / "out"
        run = k8srun(folder, "run", "pod-pending", "-p", "source", "live", "-p", "kubeconfig", server.kubeconfig,
                     "-p", "namespace", "shop", "-p", "timeout_s", "1", "--out", str(out), "--no-progress",
                     timeout=300)
    finally:
        server.stop()
    return run, out, server


def _pages(same: bool):
    counter = iter(range(10**6))

    def page(path, query):
        token = "again" if same else f"page-{next(counter)}"
        return answer_json({"kind": "EventList", "apiVersion": "v1", "metadata": {"continue": token}, "items": []})
    return page


def _answers(**by_resource):
    behave = _on(**{k: v for k, v in by_resource.items() if not callable(v)})
    calls = {k: v for k, v in by_resource.items() if callable(v)}

    def dispatch(path, query):
        plural = "all_pods" if path.rstrip("/") == "/api/v1/pods" else path.rstrip("/").rsplit("/", 1)[-1]
        return calls[plural](path, query) if plural in calls else behave(path, query)
    return dispatch


LIVE = {
    "statuses": lambda d: _live_run(d, _answers(pods=answer_status(403, "Forbidden"),
                                                events=answer_status(429, "TooManyRequests"),
                                                nodes=answer_status(500, "InternalError"),
                                                all_pods=answer_html(),
                                                persistentvolumeclaims=answer_json({}))),
    "time": lambda d: _live_run(d, _answers(pods=_pages(same=False), events=_pages(same=True),
                                            nodes=trickle(empty_list("/nodes")), all_pods=HANG,
                                            persistentvolumeclaims=answer_json([1, 2]))),
}


@pytest.fixture(scope="module")
def kernel_runs(tmp_path_factory):
    """The grouped kernel runs (DAMAGED bundles, LIVE hostile servers), each made once per module on first use."""
    return Runs(tmp_path_factory.mktemp("runs"), {**DAMAGED, **LIVE})


EVIDENCE_CASES = [
    # id, group (DAMAGED or LIVE), runbook, the unavailable row's "what" (None: any), words of its reason
    ("truncated-json", "objects", "pod-pending", "pods in namespace default", "default/pods.json: unreadable"),
    ("wrong-list-kind", "objects", "pod-pending", "nodes", "nodes.json: holds a ServiceList, expected a NodeList"),
    ("null-items", "objects", "pod-pending", None, "default/events.json: not a Kubernetes List"),
    ("non-object-items", "objects", "pod-pending", None,
     "persistentvolumeclaims.json: item 0 is not a Kubernetes object"),
    ("null-metadata", "pods", "pod-crashloop", None, "default/pods.json: item 0 is not a Kubernetes object"),
    ("symlink-out-of-bundle", "pods", "pod-crashloop", None,
     "default/events.json: a symlink leading out of the bundle"),
    ("wrong-item-kind", "pods", "pod-crashloop", None, "endpoints.json: item 0 is a Pod, expected a Endpoints"),
    ("logs-without-end-marker", "logs", "pod-crashloop", None, "have no END marker"),
    ("api-403", "statuses", "pod-pending", "pods in namespace shop",
     "forbidden: user mallory cannot list pods in namespace shop"),
    ("api-429", "statuses", "pod-pending", "events in namespace shop",
     "429 Too Many Requests to list events in namespace shop"),
    ("api-500", "statuses", "pod-pending", "nodes", "500 Internal Server Error to list nodes"),
    ("api-html-page", "statuses", "pod-pending", "pods", "(text/html) is not JSON: not the Kubernetes API"),
    ("api-empty-object", "statuses", "pod-pending", "persistentvolumeclaims in namespace shop",
     "is not a PersistentVolumeClaimList"),
    ("api-endless-continue", "time", "pod-pending", "pods in namespace shop",
     "it still sent a continue token after 200 pages"),
    ("api-repeated-continue", "time", "pod-pending", "events in namespace shop",
     "it sent the same continue token twice"),
    ("api-trickle", "time", "pod-pending", "nodes", "no complete answer within 1s"),
    ("api-hang", "time", "pod-pending", "pods", "within 1s"),
    ("api-json-array", "time", "pod-pending", "persistentvolumeclaims in namespace shop", "is JSON but not an object"),
]


@pytest.mark.parametrize("group, runbook, what, reason", [c[1:] for c in EVIDENCE_CASES],
                         ids=[c[0] for c in EVIDENCE_CASES])
def test_evidence_that_cannot_be_read_is_a_visible_unavailable_row_not_a_traceback(kernel_runs, group, runbook,
                                                                                    what, reason):
    run, out, *_ = kernel_runs[group]
    document = ran_with_unavailable(run, out, runbook, reason)
    if what:
        assert any(row["what"] == what and reason in row["reason"] for row in document["unavailable"]), \
            document["unavailable"]
    assert "evidence unavailable" in run.stdout  # the CLI's last lines say so
    assert run.seconds < 90  # every call bounded by timeout_s=1, pages by MAX_PAGES


def test_a_server_trickling_one_byte_a_second_still_ends_at_timeout_s(kernel_runs):
    run, out, server = kernel_runs["time"]
    document = json.loads((out / "pod-pending.findings.json").read_text())
    reasons = [u["reason"] for u in document["unavailable"] if "nodes" in u["what"]]
    assert reasons and "no complete answer within 1s" in reasons[0]


def test_hanging_call_is_bounded_and_the_pages_stop(kernel_runs):
    run, out, server = kernel_runs["time"]
    pages = [p for p in server.paths() if p == "/api/v1/namespaces/shop/pods"]
    assert 200 <= len(pages) <= 2 * 200  # MAX_PAGES per list, then stop (the kernel and preflight)
    assert server.paths().count("/api/v1/namespaces/shop/events") <= 2 * 2  # the repeat is caught at once


# ============================================================== capture: bounded as a whole

def test_capture_is_bounded_by_max_time_and_still_writes_the_bundle(tmp_path, hostile):
    server = hostile(_answers(namespaces=None, **{r: trickle(empty_list("/x")) for r in (
        "nodes", "persistentvolumes", "storageclasses", "events", "pods", "services", "replicationcontrollers",
        "daemonsets", "deployments", "replicasets", "endpoints", "endpointslices", "persistentvolumeclaims",
        "statefulsets", "jobs", "configmaps")}))
    out = tmp_path / "snap.tar.gz"
    run = k8srun(tmp_path, "capture", "--out", str(out), "--kubeconfig", server.kubeconfig, "--timeout", "1",
                 "--max-time", "4", timeout=120)
    assert run.code == EXIT_OK, run.stderr[-2000:]
    assert run.seconds < 30
    no_traceback(run.stdout, run.stderr)
    nothing_left(run)
    with tarfile.open(out) as archive:
        record = json.load(archive.extractfile(next(m for m in archive if m.name.endswith("k8srun.json"))))
    errors = " ".join(e["error"] for e in record["errors"])
    assert "no complete answer within" in errors and "time bound of 4s for all calls ran out" in errors


# ============================================================== serve abuse

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A real ``k8srun serve`` process over a small bundle: (host, port, pid); stopped with Ctrl-C."""
    folder = tmp_path_factory.mktemp("serve")
    bundle = write_bundle(folder / "bundle")
    process = subprocess.Popen([*K8SRUN, "serve", str(bundle)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "TMPDIR": str(folder)}, start_new_session=True)
    try:
        line = process.stdout.readline()
        url = line.split(" at ")[-1].strip()
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port), process
    finally:
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0 and "Traceback" not in out + err, err


def _threads(pid: int) -> int:
    """Threads of the serve process and of its worker processes (serve forks one per core)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        total += 1
        try:
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            continue
        total += sum(_threads(int(child)) for child in children)
    return total


def _exchange(host: str, port: int, request: bytes, *, wait_s: float = 15) -> bytes:
    with socket.create_connection((host, port), timeout=wait_s) as conn:
        conn.sendall(request)
        data = b""
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(
                        b"content-length:")]
                    if length and len(body) >= length[0]:
                        break
        except socket.timeout:
            pass
    return data


def _get(path: str, *headers: str) -> bytes:
    return ("\r\n".join([f"GET {path} HTTP/1.1", "Host: x", *headers]) + "\r\n\r\n").encode()


SERVE_ABUSE = [
    ("content-length-text", _get("/api/v1/pods", "Content-Length: abc"), 400, b"malformed Content-Length"),
    ("content-length-negative", _get("/api/v1/pods", "Content-Length: -1"), 400, b"malformed Content-Length"),
    ("content-length-huge", _get("/api/v1/pods", "Content-Length: 99999999999"), 413, b"too large"),
    ("chunked-body", _get("/api/v1/pods", "Transfer-Encoding: chunked"), 400, b"Transfer-Encoding"),
    ("unknown-field-selector", _get("/api/v1/pods?fieldSelector=foo%3Dbar"), 400,
     b"field label not supported: foo"),
    ("field-of-another-kind", _get("/api/v1/namespaces/default/events?fieldSelector=spec.nodeName%3Dx"), 400,
     b"field label not supported: spec.nodeName"),
    ("malformed-field-selector", _get("/api/v1/pods?fieldSelector=%3Dx"), 400, b"field selector"),
    ("malformed-label-selector", _get("/api/v1/pods?labelSelector=a%20in%20(b"), 400, b"label selector"),
    ("bad-continue", _get("/api/v1/pods?limit=1&continue=%25%25%25"), 400, b"continue key is not valid"),
    ("path-traversal", _get("/api/v1/namespaces/../../../etc/pods"), 404, b"NotFound"),
    ("log-traversal", _get("/api/v1/namespaces/default/pods/..%2F..%2Fetc/log"), 404, b"not found"),
    ("write-verb", b"DELETE /api/v1/namespaces/default/pods/web-0 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
     405, b"read-only snapshot"),
    ("watch", _get("/api/v1/pods?watch=true"), 400, b"watch is not supported"),
]


@pytest.mark.parametrize("request_bytes, status, needle", [c[1:] for c in SERVE_ABUSE],
                         ids=[c[0] for c in SERVE_ABUSE])
def test_serve_answers_abuse_like_the_api_server_and_keeps_no_thread(served, request_bytes, status, needle):
    host, port, process = served
    baseline = _threads(process.pid)
    answer = _exchange(host, port, request_bytes)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:300]
    assert needle in answer
    deadline = time.monotonic() + 5
    while _threads(process.pid) > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _threads(process.pid) <= baseline  # no handler thread left waiting for a body that never comes
    assert _exchange(host, port, _get("/version")).startswith(b"HTTP/1.1 200 ")
    assert process.poll() is None


def test_serve_drops_a_client_that_stops_sending_mid_request(served):
    host, port, process = served
    baseline = _threads(process.pid)
    with socket.create_connection((host, port), timeout=30) as conn:
        conn.sendall(b"GET /api/v1/pods HTTP/1.1\r\nHost: x\r\n")  # no blank line: the headers never end
        started = time.monotonic()
        assert conn.recv(1024) == b""  # the server hangs up after its read timeout
        assert time.monotonic() - started < 25
    deadline = time.monotonic() + 5
    while _threads(process.pid) > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _threads(process.pid) <= baseline


# ============================================================== runbooks that misbehave (throw-away, registered by env)

BOOKS = {
    # name: code cells after the parameters cell
    "noisy": ["from k8srun.session import Session\nrb = Session.start('noisy', source=source)",
              "import os, sys\nos.write(2, b'KERNEL-STDERR-MARKER\\n')\nprint('KERNEL-STDERR-MARKER', file=sys.__stderr__)",
              "rb.summary()"],
    "buggy": ["from k8srun.session import Session\nrb = Session.start('buggy', source=source)",
              "settings = {}\nsettings['missing']"],
    "refuses": ["from k8srun.errors import ParameterError\nraise ParameterError('zone', 'mars-1', 'no such zone')",
                "from k8srun.session import Session\nrb = Session.start('refuses', source=source)"],
    "slow": ["from k8srun.session import Session\nrb = Session.start('slow', source=source)",
             "import os, time\nopen(os.environ['K8SRUN_TEST_MARK'], 'w').close()\n"
             "time.sleep(float(os.environ.get('K8SRUN_TEST_SLEEP', '0')))",
             "rb.summary()"],
}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Environment under which `k8srun run` knows only the BOOKS runbooks (registry modules + notebooks)."""
    folder = tmp_path_factory.mktemp("books")
    modules = [write_runbook(folder, name, *cells, description="misbehaves") for name, cells in BOOKS.items()]
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH", "")])),
            "K8SRUN_RUNBOOK_MODULES": ",".join(modules), "K8SRUN_RUNBOOKS_DIR": str(folder),
            "K8SRUN_TEST_MARK": str(folder / "unused-mark")}


def test_the_kernels_own_stderr_never_reaches_the_terminal(tmp_path, books):
    """ipykernel's log ("[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.", ZMQError tracebacks) goes to a
    log file that goes with the run: here a cell writes to the kernel's fd 2 directly."""
    run = k8srun(tmp_path, "run", "noisy", "--out", str(tmp_path / "out"), "--no-progress", env=books)
    assert run.code == EXIT_OK, run.stderr
    assert "KERNEL-STDERR-MARKER" not in run.stderr + run.stdout
    assert "IPKernelApp" not in run.stderr and run.stderr == ""
    nothing_left(run)


def test_a_bug_in_k8srun_keeps_its_traceback_and_says_it_is_a_bug(tmp_path, books):
    run = k8srun(tmp_path, "run", "buggy", "--out", str(tmp_path / "out"), "--no-progress", env=books)
    assert run.code == EXIT_CELL_FAILED and len(run.lines) == 1 and "stopped early" in run.lines[0], run.stderr
    assert "KeyError" in run.lines[0]
    html = (tmp_path / "out" / "buggy.html").read_text()
    assert "a bug in k8srun" in html and "KeyError" in html
    nothing_left(run)


def test_an_input_error_in_the_first_cell_is_one_line_exit_2_and_no_report(tmp_path, books):
    run = k8srun(tmp_path, "run", "refuses", "--out", str(tmp_path / "out"), "--no-progress", env=books)
    refused(run, "parameter 'zone': no such zone")
    assert not (tmp_path / "out").exists()


def test_the_whole_run_is_bounded_by_max_time_and_still_reports(tmp_path, books):
    run = k8srun(tmp_path, "run", "slow", "--out", str(tmp_path / "out"), "--no-progress", "--max-time", "8",
                 env={**books, "K8SRUN_TEST_SLEEP": "600"}, timeout=120)
    assert run.code == EXIT_CELL_FAILED, run.stderr
    assert len(run.lines) == 1 and "ran out of time: --max-time 8s" in run.lines[0]
    assert run.seconds < 60
    document = json.loads((tmp_path / "out" / "slow.findings.json").read_text())
    assert "--max-time" in document["error"]
    no_traceback(run.stdout, run.stderr)
    nothing_left(run)


# ============================================================== Ctrl-C: one line, exit 130, previous report whole

def _start(tmp_path: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, Path]:
    tmpdir = tmp_path / f"TMPDIR-{time.monotonic_ns()}"
    tmpdir.mkdir()
    process = subprocess.Popen([*K8SRUN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL, cwd=tmp_path, start_new_session=True,
                               env={**os.environ, "TMPDIR": str(tmpdir), **(env or {})})
    return process, tmpdir


def _ctrl_c(process: subprocess.Popen, tmpdir: Path, when) -> Run:
    """Wait for ``when()``, send SIGINT to the process group (as a terminal's Ctrl-C does), collect."""
    try:
        deadline = time.monotonic() + 60
        while not when() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        os.killpg(process.pid, signal.SIGINT)
        started = time.monotonic()
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return Run(process.returncode, out, err, tmpdir, time.monotonic() - started)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_ctrl_c_while_the_kernel_runs_keeps_the_previous_report_whole(tmp_path, books):
    out = tmp_path / "out"
    first = k8srun(tmp_path, "run", "slow", "--out", str(out), "--no-progress", env=books)
    assert first.code == EXIT_OK, first.stderr
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    mark = tmp_path / "cell-started"
    process, tmpdir = _start(tmp_path, "run", "slow", "--out", str(out), "--no-progress",
                             env={**books, "K8SRUN_TEST_MARK": str(mark), "K8SRUN_TEST_SLEEP": "600"})
    run = _ctrl_c(process, tmpdir, mark.exists)
    refused(run, "k8srun: interrupted", code=EXIT_INTERRUPTED)
    assert run.seconds < 15
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(os.listdir(out)) == sorted(str(p) for p in before if len(p.parts) == 1)
    assert not _processes_mentioning(str(tmpdir)), "the kernel outlived Ctrl-C"


def test_ctrl_c_during_preflight_against_a_hanging_server(tmp_path, hostile):
    server = hostile(lambda path, query: HANG)
    process, tmpdir = _start(tmp_path, "run", "pod-pending", "-p", "source", "live", "-p", "kubeconfig",
                             server.kubeconfig, "-p", "timeout_s", "60", "--out", str(tmp_path / "out"))
    run = _ctrl_c(process, tmpdir, lambda: server.requests)
    refused(run, "k8srun: interrupted", code=EXIT_INTERRUPTED)
    assert run.seconds < 10 and not (tmp_path / "out").exists()


def test_ctrl_c_during_capture_leaves_no_bundle_and_no_temp_files(tmp_path, hostile):
    server = hostile(_answers(nodes=HANG))
    process, tmpdir = _start(tmp_path, "capture", "--out", str(tmp_path / "snap.tar.gz"), "--kubeconfig",
                             server.kubeconfig, "--timeout", "60")
    run = _ctrl_c(process, tmpdir, lambda: "/api/v1/nodes" in server.paths())
    refused(run, "k8srun: interrupted", code=EXIT_INTERRUPTED)
    assert not (tmp_path / "snap.tar.gz").exists()


def test_ctrl_c_stops_serve_and_removes_the_extracted_tarball(tmp_path):
    archive = _tarball(tmp_path, "good")
    process, tmpdir = _start(tmp_path, "serve", str(archive))
    lines = [process.stdout.readline() for _ in range(4)]
    assert "serving" in lines[0] and "Ctrl-C" in lines[-1], lines
    run = _ctrl_c(process, tmpdir, lambda: True)
    assert (run.code, run.stdout.strip()) == (EXIT_OK, "stopped") or \
        (run.code, run.stderr.strip()) == (EXIT_INTERRUPTED, "k8srun: interrupted"), run
    no_traceback(run.stdout, run.stderr)
    nothing_left(run)  # the extracted copy of the tarball went with the Ctrl-C


# ============================================================== tarballs leave nothing behind

def test_a_tarball_source_leaves_no_extracted_copy_in_tmpdir(tmp_path):
    archive = _tarball(tmp_path, "good")
    out = tmp_path / "out"
    run = k8srun(tmp_path, "run", "pod-crashloop", "-p", "source", str(archive), "-p", "namespace", "default",
                 "--out", str(out), "--no-progress")
    assert run.code == EXIT_OK, run.stderr
    no_traceback(run.stdout, run.stderr, *report_files(out).values())
    nothing_left(run)  # the kernel opened the bundle and never closed it: its TMPDIR went with the run


# ============================================================== live reads: field-selected, byte-limited

@pytest.fixture
def served_bundle(tmp_path):
    """(request log, kubeconfig) of `serving()` a small bundle in this process (the official client talks to it)."""
    from k8srun.serve import serving
    from k8srun.sources.snapshot import SnapshotSource

    request_log: list[dict] = []
    with SnapshotSource(write_bundle(tmp_path / "bundle")) as snapshot, \
            serving(snapshot, request_log=request_log) as (_, config):
        yield request_log, config


@pytest.mark.parametrize("runbook, pod, objects", [
    ("pod-crashloop", "api-7f9c", {"involvedObject.kind=Pod,involvedObject.name=api-7f9c"}),
    ("pod-pending", "pending-1", {"involvedObject.kind=Pod,involvedObject.name=pending-1"}),
])
def test_a_named_pod_reads_its_own_events_not_the_namespaces(served_bundle, runbook, pod, objects):
    from k8srun.session import diagnose_runbook

    request_log, config = served_bundle
    session = diagnose_runbook(runbook, source="live", kubeconfig=config, namespace="default", pod=pod)
    session.close()
    events = [r["query"].get("fieldSelector") for r in request_log if r["path"].endswith("/events")]
    assert events and set(events) <= objects | {f"involvedObject.kind=PersistentVolumeClaim,involvedObject.name={c}"
                                               for c in ("data-pending-1",)}, events
    assert [r["path"] for r in request_log].count("/api/v1/pods") <= 1  # every namespace's pods: once at most


def test_every_live_log_read_carries_limit_bytes_and_tail_lines(served_bundle, tmp_path):
    from k8srun.capture import capture_bundle
    from k8srun.session import diagnose_runbook
    from k8srun.sources.live import LiveSource

    request_log, config = served_bundle
    diagnose_runbook("pod-crashloop", source="live", kubeconfig=config, namespace="default", pod="web-0").close()
    with LiveSource(config, timeout_s=5) as source:
        capture_bundle(source, tmp_path / "snap", progress=False)
    logs = [r["query"] for r in request_log if r["path"].endswith("/log")]
    assert len(logs) > 3
    assert all(q.get("limitBytes", "").isdigit() and q.get("tailLines", "").isdigit() for q in logs), logs


def test_a_trickling_server_is_named_slow_whichever_timer_fires_first(hostile, monkeypatch):
    """A byte a second trips urllib3's per-read timeout (timeout_s) at about the moment the whole-call
    deadline expires; when the read timeout is seen first (the deadline's timer thread not yet run, as
    under load), the reason is still the whole call's bound, not "no answer"."""
    from k8srun.errors import SourceError
    from k8srun.sources import live

    class LateDeadline(live._Deadline):  # its timer never gets to run first
        def _expire(self):
            pass

    monkeypatch.setattr(live, "_Deadline", LateDeadline)
    server = hostile(_on(version=trickle(VERSION), nodes=trickle(empty_list("/nodes"))))
    with live.LiveSource(server.kubeconfig, timeout_s=1) as source:
        with pytest.raises(SourceError, match=r"no complete answer within 1s \(timed out\)"):
            source.list("nodes")
