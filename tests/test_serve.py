"""`k8srun serve`: the real kubectl against a snapshot served read-only.

Every kubectl call uses ``--kubeconfig`` from :func:`k8srun.serve.serving`
and a per-test ``--cache-dir``; the server runs in-process on a free port.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bundles import started_containers, write_bundle
from k8srun.serve import serving
from k8srun.sources.snapshot import SnapshotSource

KUBECTL = shutil.which("kubectl")


@pytest.fixture
def bundle(tmp_path):
    """SnapshotSource over a freshly written test bundle."""
    with SnapshotSource(write_bundle(tmp_path / "bundle", extra_pods=2)) as source:
        yield source


@pytest.fixture
def served(bundle):
    """(url, kubeconfig, request log) of the bundle served on a free port."""
    request_log: list[dict] = []
    with serving(bundle, request_log=request_log) as (url, kubeconfig):
        yield url, kubeconfig, request_log


@pytest.fixture
def kubectl(served, tmp_path):
    """Run the real kubectl against the served bundle: ``kubectl(*args) -> CompletedProcess``."""
    if KUBECTL is None:
        pytest.skip("kubectl not installed")
    _, kubeconfig, _ = served

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", str(tmp_path / "cache"),
                               "--request-timeout", "20s", *args], capture_output=True, text=True, timeout=60)
    return run


def _get(url: str, path: str, accept: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()[1:] if line.strip()]


def test_get_pods_all_namespaces_shows_every_pod_with_its_status(kubectl):
    result = kubectl("get", "pods", "-A")
    assert result.returncode == 0, result.stderr
    rows = {row[1]: row for row in _rows(result.stdout)}
    assert set(rows) == {"web-0", "api-7f9c", "pending-1", "coredns-abc", "cart-0", "cart-1"}
    assert rows["api-7f9c"][:5] == ["default", "api-7f9c", "0/1", "CrashLoopBackOff", "4"]
    assert rows["web-0"][2:4] == ["2/2", "Running"]
    assert rows["pending-1"][3] == "Pending"


def test_get_pods_wide_in_one_namespace_shows_nodes(kubectl):
    result = kubectl("get", "pods", "-n", "shop", "-o", "wide")
    assert result.returncode == 0, result.stderr
    assert "NODE" in result.stdout.splitlines()[0]
    assert [(row[0], row[6]) for row in _rows(result.stdout)] == [("cart-0", "node-b"), ("cart-1", "node-b")]


def test_get_nodes_shows_ready_and_not_ready(kubectl):
    result = kubectl("get", "nodes")
    assert result.returncode == 0, result.stderr
    assert [row[:2] for row in _rows(result.stdout)] == [["node-a", "Ready"], ["node-b", "NotReady"]]


def test_describe_crashlooping_pod_shows_its_events_from_the_bundle(kubectl, served):
    result = kubectl("describe", "pod", "api-7f9c")
    assert result.returncode == 0, result.stderr
    assert "Restart Count:  4" in result.stdout
    events = result.stdout.split("\nEvents:", 1)[1]
    assert "Back-off restarting failed container app" in events
    assert "FailedScheduling" not in events  # another pod's event
    selectors = [r["query"].get("fieldSelector", "") for r in served[2] if r["path"].endswith("/events")]
    assert any("involvedObject.name=api-7f9c" in s and "involvedObject.uid=uid-default-api-7f9c" in s
               for s in selectors)


def test_describe_healthy_pod_shows_only_its_own_events(kubectl):
    result = kubectl("describe", "pod", "web-0")
    assert result.returncode == 0, result.stderr
    events = result.stdout.split("\nEvents:", 1)[1]
    assert "Started container app" in events
    assert "Back-off" not in events


def test_describe_node_lists_only_pods_on_that_node(kubectl):
    result = kubectl("describe", "node", "node-b")
    assert result.returncode == 0, result.stderr
    assert "Non-terminated Pods:          (2 in total)" in result.stdout
    assert "cart-0" in result.stdout and "web-0" not in result.stdout


def test_logs_current_named_container_and_tail(kubectl):
    default = kubectl("logs", "web-0")
    assert default.returncode == 0, default.stderr
    assert default.stdout == "app of web-0: line 1\napp of web-0: line 2\n"
    tail = kubectl("logs", "web-0", "-c", "sidecar", "--tail", "1")
    assert tail.stdout == "sidecar of web-0: line 2\n"


def test_logs_previous_of_a_restarted_container(kubectl):
    result = kubectl("logs", "api-7f9c", "--previous")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "starting\npanic: cannot connect to db:5432\n"


def test_logs_previous_of_a_never_restarted_container_is_a_clear_error(kubectl):
    result = kubectl("logs", "web-0", "-c", "app", "--previous")
    assert result.returncode != 0
    assert "no previous logs of container app of pod default/web-0" in result.stderr


def test_get_events_sorted_by_last_timestamp(kubectl):
    result = kubectl("get", "events", "-n", "default", "--sort-by", ".lastTimestamp")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    reason_at = header.index("REASON")
    reasons = [line[reason_at:].split()[0] for line in lines]
    assert reasons == ["Started", "Pulled", "BackOff", "FailedScheduling"]
    assert "2m (x12 over 120m)" in lines[2]


def test_get_services_endpoints_deployments_replicasets(kubectl):
    svc = kubectl("get", "svc,endpoints")
    assert svc.returncode == 0, svc.stderr
    assert "service/web" in svc.stdout and "10.96.0.20" in svc.stdout
    assert "endpoints/web" in svc.stdout and "10.244.0.7:8080" in svc.stdout
    apps = kubectl("get", "deploy,rs")
    assert apps.returncode == 0, apps.stderr
    assert "deployment.apps/api" in apps.stdout and "replicaset.apps/api-7f9" in apps.stdout


def test_missing_object_is_a_not_found_status(kubectl, served):
    result = kubectl("get", "pod", "nosuch")
    assert result.returncode != 0
    assert 'pods "nosuch" not found' in result.stderr
    code, body = _get(served[0], "/api/v1/namespaces/default/pods/nosuch")
    assert (code, body["kind"], body["reason"]) == (404, "Status", "NotFound")


def test_version_of_a_capture_and_of_a_scenario_is_the_recorded_cluster_version(served):
    from k8srun.serve import SnapshotApi
    from k8srun.sources import open_source

    code, captured = _get(served[0], "/version")
    assert (code, captured["gitVersion"], captured["major"], captured["minor"]) == (200, "v1.30.2", "1", "30")
    with open_source("scenario:triage") as scenario:  # k8srun.json holds the whole /version object
        code, _, body = SnapshotApi(scenario).handle("GET", "/version", "")
    recorded = json.loads(body)
    assert (code, recorded["gitVersion"], recorded["major"], recorded["minor"]) == (200, "v1.30.4", "1", "30")
    assert recorded["gitCommit"]


def test_namespaced_object_without_a_namespace_is_not_found_like_the_api_server(served):
    code, body = _get(served[0], "/api/v1/pods/web-0")
    assert (code, body["kind"], body["reason"]) == (404, "Status", "NotFound")
    assert _get(served[0], "/api/v1/namespaces/default/pods/web-0")[0] == 200
    assert _get(served[0], "/api/v1/nodes/node-a")[0] == 200


def test_non_ascii_digits_in_limit_and_tail_lines_are_ignored_not_a_dropped_connection(served):
    code, body = _get(served[0], "/api/v1/pods?limit=%C2%B2")
    assert (code, len(body["items"])) == (200, 6)
    request = urllib.request.Request(served[0] + "/api/v1/namespaces/default/pods/web-0/log?container=app&tailLines=%C2%B2")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b"app of web-0: line 1\napp of web-0: line 2\n"


def test_an_object_the_server_cannot_handle_is_a_500_status_not_a_dropped_connection(tmp_path):
    root = write_bundle(tmp_path / "b")
    pods = json.loads((root / "shop" / "pods.json").read_text())
    pods["items"].append({"metadata": {"namespace": "shop"}})  # no name
    (root / "shop" / "pods.json").write_text(json.dumps(pods))
    with SnapshotSource(root) as source, serving(source) as (url, _):
        code, body = _get(url, "/api/v1/namespaces/shop/pods/cart-0")
        assert (code, body["kind"], body["reason"]) == (500, "Status", "InternalError")
        assert "KeyError" in body["message"]
        assert _get(url, "/api/v1/namespaces/default/pods/web-0")[0] == 200


def test_single_object_carries_kind_and_api_version(served):
    code, body = _get(served[0], "/apis/apps/v1/namespaces/default/deployments/api")
    assert (code, body["kind"], body["apiVersion"], body["metadata"]["name"]) == (200, "Deployment", "apps/v1", "api")


def test_writes_are_refused_as_read_only(kubectl, served):
    result = kubectl("delete", "pod", "web-0")
    assert result.returncode != 0
    assert "read-only snapshot" in result.stderr
    request = urllib.request.Request(served[0] + "/api/v1/namespaces/default/pods", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    status = json.loads(refused.value.read())
    assert (refused.value.code, status["reason"]) == (405, "MethodNotAllowed")
    assert kubectl("get", "pod", "web-0").returncode == 0  # still there


def test_watch_is_refused_cleanly(served):
    code, body = _get(served[0], "/api/v1/namespaces/default/pods?watch=true")
    assert (code, body["kind"]) == (400, "Status")
    assert "watch is not supported" in body["message"]


def test_pagination_follows_continue_tokens_to_every_pod(served):
    url, seen, path = served[0], [], "/api/v1/pods?limit=2"
    pages = 0
    while True:
        code, page = _get(url, path)
        assert code == 200 and len(page["items"]) <= 2
        seen += [p["metadata"]["name"] for p in page["items"]]
        pages += 1
        token = page["metadata"].get("continue")
        if not token:
            break
        path = f"/api/v1/pods?limit=2&continue={token}"
    assert pages == 3
    assert sorted(seen) == sorted(["web-0", "api-7f9c", "pending-1", "coredns-abc", "cart-0", "cart-1"])
    code, body = _get(url, "/api/v1/pods?limit=2&continue=garbage")
    assert (code, body["reason"]) == (400, "BadRequest")


@pytest.mark.parametrize(("query", "expected"), [
    ("labelSelector=app%3Dweb", {"web-0"}),
    ("labelSelector=app%20in%20(web,api)", {"web-0", "api-7f9c"}),
    ("labelSelector=app%20notin%20(web,api),!k8s-app", {"pending-1", "cart-0", "cart-1"}),
    ("fieldSelector=spec.nodeName%3Dnode-b", {"cart-0", "cart-1"}),
    ("fieldSelector=status.phase!%3DRunning", {"pending-1"}),
    ("fieldSelector=metadata.name%3Dcoredns-abc", {"coredns-abc"}),
])
def test_label_and_field_selectors(served, query, expected):
    code, body = _get(served[0], "/api/v1/pods?" + query)
    assert code == 200
    assert {p["metadata"]["name"] for p in body["items"]} == expected


def test_forbidden_resource_answers_like_rbac(bundle, tmp_path):
    with serving(bundle, forbidden={"pods"}) as (url, _):
        code, body = _get(url, "/api/v1/namespaces/default/pods")
        assert (code, body["reason"]) == (403, "Forbidden")
        assert 'User "k8srun-snapshot" cannot list resource "pods"' in body["message"]
        assert _get(url, "/api/v1/nodes")[0] == 200


def test_resource_missing_from_a_plain_dump_is_service_unavailable(tmp_path):
    root = write_bundle(tmp_path / "b")
    for gathered in root.glob("*/endpoints.json"):
        gathered.unlink()
    with SnapshotSource(root) as source, serving(source) as (url, _):
        code, body = _get(url, "/api/v1/endpoints")
        assert (code, body["reason"]) == (503, "ServiceUnavailable")
        assert "endpoints not in this bundle" in body["message"]


def test_cluster_info_dump_reloads_as_the_same_snapshot(kubectl, bundle, tmp_path):
    out = tmp_path / "dump"
    result = kubectl("cluster-info", "dump", "-A", "--output-directory", str(out))
    assert result.returncode == 0, result.stderr
    with SnapshotSource(out) as dump:
        def ids(source, resource):
            return sorted((o["metadata"].get("namespace", ""), o["metadata"]["name"], o["metadata"]["uid"])
                          for o in source.list(resource))
        for resource in ("nodes", "pods", "events", "services", "deployments", "replicasets"):
            assert ids(dump, resource) == ids(bundle, resource), resource
        assert {p["metadata"]["name"]: p["status"]["phase"] for p in dump.list("pods")} == \
               {p["metadata"]["name"]: p["status"]["phase"] for p in bundle.list("pods")}
        for ns, name, container in started_containers(bundle):
            assert dump.logs(ns, name, container) == bundle.logs(ns, name, container)


def test_unknown_namespace_is_empty_like_the_api_server(kubectl):
    result = kubectl("get", "pods", "-n", "nosuch")
    assert result.returncode == 0, result.stderr
    assert "No resources found in nosuch namespace." in result.stderr
    assert kubectl("get", "pod", "web-0", "-n", "nosuch").returncode != 0


def test_cli_prints_kubeconfig_serves_and_stops_on_ctrl_c(tmp_path):
    import signal
    import sys

    root = write_bundle(tmp_path / "b")
    server = subprocess.Popen([sys.executable, "-m", "k8srun.cli", "serve", str(root)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        lines = [server.stdout.readline() for _ in range(2)]
        assert lines[0].startswith("serving ") and " read-only at http://127.0.0.1:" in lines[0], lines
        url = lines[0].rsplit(" ", 1)[1].strip()
        kubeconfig = lines[1].split("kubeconfig: ", 1)[1].strip()
        assert f"server: {url}" in Path(kubeconfig).read_text()
        code, body = _get(url, "/api/v1/namespaces/default/pods/web-0")
        assert (code, body["metadata"]["name"]) == (200, "web-0")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            out, err = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:  # never leave a server behind, even when the test fails
            server.kill()
            server.communicate()
            raise
    assert server.returncode == 0, err
    assert not Path(kubeconfig).exists()


def test_cli_rejects_a_bad_port(tmp_path, capsys):
    from k8srun.cli import main

    assert main(["serve", str(write_bundle(tmp_path / "b")), "--port", "70000"]) == 2
    assert "parameter '--port': port must be between 1 and 65535" in capsys.readouterr().err


def test_a_client_trickling_its_request_is_hung_up_at_the_request_deadline(bundle, monkeypatch):
    """Each byte comes before the read timeout, so only the per-request deadline can end it; the server
    then still answers others (the deadline is one shared thread, not a timer per request)."""
    import socket
    import threading
    import time

    from k8srun.serve import server

    monkeypatch.setattr(server, "REQUEST_DEADLINE_S", 1.0)
    with serving(bundle) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        threads_before = threading.active_count()
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            started, hung_up = time.monotonic(), False
            for byte in b"GET /api/v1/pods HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    hung_up = True
                    break
                conn.settimeout(0.1)
                try:
                    if conn.recv(1024) == b"":
                        hung_up = True
                        break
                except socket.timeout:
                    pass
            assert hung_up, "a request trickled for 10 s was never hung up"
            assert 1.0 <= time.monotonic() - started < 3.0
        assert _get(url, "/api/v1/namespaces/default/pods/web-0")[0] == 200
        deadline = time.monotonic() + 5
        while threading.active_count() > threads_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() <= threads_before


def _start_cli(root: Path, *args: str) -> tuple[subprocess.Popen, str]:
    import sys

    server = subprocess.Popen([sys.executable, "-m", "k8srun.cli", "serve", str(root), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    line = server.stdout.readline()
    assert " read-only at http://127.0.0.1:" in line, (line, server.stderr.read() if server.poll() else "")
    return server, line.rsplit(" ", 1)[1].strip()


def _children(pid: int) -> list[int]:
    import os

    return [int(c) for task in os.listdir(f"/proc/{pid}/task")
            for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]


def test_cli_answers_from_worker_processes_and_stops_when_one_dies(tmp_path):
    """--workers 2: two processes accept on one socket; a worker killed is one line, exit 1, and the other
    worker goes too (nothing is left serving half the capacity unnoticed)."""
    import os
    import signal
    import time

    server, url = _start_cli(write_bundle(tmp_path / "b"), "--workers", "2")
    try:
        workers = _children(server.pid)
        assert len(workers) == 2
        for _ in range(20):
            assert _get(url, "/api/v1/namespaces/default/pods/web-0")[0] == 200
        os.kill(workers[0], signal.SIGKILL)
        out, err = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 1
    assert f"worker process {workers[0]} ended (killed by signal 9); stopping the others" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while Path(f"/proc/{workers[1]}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{workers[1]}").exists()


def test_cli_with_one_worker_serves_from_its_own_process(tmp_path):
    import signal

    server, url = _start_cli(write_bundle(tmp_path / "b"), "--workers", "1")
    try:
        assert _children(server.pid) == []
        assert _get(url, "/api/v1/namespaces/default/pods/web-0")[0] == 200
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    finally:
        if server.poll() is None:  # never leave a server behind, even when the test fails
            server.kill()
            server.communicate()
    assert server.returncode == 0 and "stopped" in out, err


@pytest.mark.parametrize("value", ["0", "-1", "two", "65"])
def test_cli_rejects_a_bad_worker_count(tmp_path, capsys, value):
    from k8srun.cli import main

    assert main(["serve", str(write_bundle(tmp_path / "b")), "--workers", value]) == 2
    err = capsys.readouterr().err
    assert "--workers" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_no_worker_outlives_the_serve_process(tmp_path, how):
    """SIGTERM stops serve like Ctrl-C (exit 0, its workers and kubeconfig folder gone); a serve process
    killed outright takes its workers with it (they are told by the kernel that their parent died)."""
    import os
    import signal
    import time

    server, url = _start_cli(write_bundle(tmp_path / "b"), "--workers", "2")
    try:
        kubeconfig = server.stdout.readline().split("kubeconfig: ", 1)[1].strip()
        workers = _children(server.pid)
        assert len(workers) == 2 and _get(url, "/api/v1/namespaces/default/pods/web-0")[0] == 200
        server.send_signal(getattr(signal, how))
        out, err = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{w}").exists() for w in workers)
    if how == "SIGTERM":
        assert server.returncode == 0 and "stopped" in out and "Traceback" not in err, err
        assert not Path(kubeconfig).exists()
