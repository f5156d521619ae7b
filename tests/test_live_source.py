"""LiveSource against `k8srun serve` of a bundle: same objects as SnapshotSource, paging, errors."""

from __future__ import annotations

import socket
import ssl
from http.client import RemoteDisconnected

import pytest
from urllib3.exceptions import (ConnectTimeoutError, MaxRetryError, NameResolutionError, NewConnectionError,
                                ProtocolError, ReadTimeoutError, SSLError)

from bundles import started_containers, write_bundle
from k8srun.errors import SourceError
from k8srun.serve import kubeconfig_text, serving
from k8srun.sources import RESOURCES, open_source
from k8srun.sources.live import ApiUnreachable, Forbidden, LiveSource, _short_reason
from k8srun.sources.snapshot import SnapshotSource


@pytest.fixture
def snapshot(tmp_path):
    with SnapshotSource(write_bundle(tmp_path / "bundle", extra_pods=3)) as source:
        yield source


@pytest.fixture
def live(snapshot):
    """(LiveSource over the served snapshot, the server's request log)."""
    request_log: list[dict] = []
    with serving(snapshot, request_log=request_log) as (_, kubeconfig):
        with LiveSource(kubeconfig, timeout_s=5) as source:
            yield source, request_log


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_every_resource_lists_the_same_objects_as_the_snapshot(live, snapshot, resource):
    source, _ = live
    expected = snapshot.list(resource)
    assert source.list(resource) == expected
    if RESOURCES[resource] and expected:
        namespace = expected[0]["metadata"]["namespace"]
        assert source.list(resource, namespace) == snapshot.list(resource, namespace)


def test_get_returns_the_list_item_or_none(live, snapshot):
    source, _ = live
    assert source.get("pods", "default", "api-7f9c") == snapshot.get("pods", "default", "api-7f9c")
    assert source.get("nodes", None, "node-b") == snapshot.get("nodes", None, "node-b")
    assert source.get("pods", "default", "nosuch") is None
    # no namespace: the first of that name in any namespace, as every Source answers
    assert source.get("pods", None, "coredns-abc") == snapshot.get("pods", None, "coredns-abc")
    assert source.get("pods", None, "nosuch") is None


def test_logs_current_previous_and_tail_match_the_snapshot(live, snapshot):
    source, _ = live
    started = started_containers(snapshot)
    assert len(started) == 8
    for ns, name, container in started:
        assert source.logs(ns, name, container) == snapshot.logs(ns, name, container)
    assert source.logs("default", "api-7f9c", "app", previous=True) == \
        "starting\npanic: cannot connect to db:5432\n"
    assert source.logs("default", "web-0", "sidecar", tail_lines=1) == "sidecar of web-0: line 2\n"


def test_missing_previous_logs_is_a_source_error(live):
    source, _ = live
    with pytest.raises(SourceError, match="no previous logs of container app of pod default/web-0"):
        source.logs("default", "web-0", "app", previous=True)


def test_events_for_asks_the_server_with_a_field_selector(live, snapshot):
    source, request_log = live
    events = source.events_for("default", "Pod", "api-7f9c")
    assert sorted(e["reason"] for e in events) == ["BackOff", "Pulled"]
    assert events == snapshot.events_for("default", "Pod", "api-7f9c")
    event_requests = [r for r in request_log if r["path"].endswith("/events")]
    assert [r["path"] for r in event_requests] == ["/api/v1/namespaces/default/events"]
    assert event_requests[0]["query"]["fieldSelector"] == "involvedObject.kind=Pod,involvedObject.name=api-7f9c"


def test_events_for_a_pod_without_events_is_empty(live):
    assert live[0].events_for("kube-system", "Pod", "coredns-abc") == []


def test_list_pages_500_at_a_time_and_follows_continue(tmp_path):
    with SnapshotSource(write_bundle(tmp_path / "big", extra_pods=1100)) as big:
        request_log: list[dict] = []
        with serving(big, request_log=request_log) as (_, kubeconfig), LiveSource(kubeconfig) as source:
            pods = source.list("pods")
        assert pods == big.list("pods") and len(pods) == 1104
    pages = [r["query"] for r in request_log if r["path"] == "/api/v1/pods"]
    assert [q["limit"] for q in pages] == ["500", "500", "500"]
    assert "continue" not in pages[0] and all(q.get("continue") for q in pages[1:])


def test_meta_reports_the_server_version_and_context(live):
    meta = live[0].meta()
    # the whole /version object, as a snapshot's meta() holds it (the report header reads its gitVersion)
    assert (meta["kind"], meta["cluster_version"]["gitVersion"], meta["context"]) == \
        ("live", "v1.30.2", "k8srun-snapshot")
    assert meta["cluster_version"]["minor"] == "30"
    assert meta["server"].startswith("http://127.0.0.1:")


def test_forbidden_resource_is_one_line_naming_user_verb_and_namespace(snapshot):
    with serving(snapshot, forbidden={"pods"}) as (_, kubeconfig), LiveSource(kubeconfig) as source:
        with pytest.raises(Forbidden) as denied:
            source.list("pods", "default")
        assert source.list("nodes") == snapshot.list("nodes")  # the rest still answers
    assert str(denied.value).startswith("forbidden: user k8srun-snapshot cannot list pods in namespace default")
    assert "\n" not in str(denied.value)
    assert (denied.value.resource, denied.value.namespace) == ("pods", "default")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_refused_connection_is_one_line_unreachable(tmp_path):
    port = _closed_port()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text(f"http://127.0.0.1:{port}"))
    with LiveSource(kubeconfig, timeout_s=2) as source, pytest.raises(ApiUnreachable) as unreachable:
        source.list("pods")
    assert str(unreachable.value) == f"API server http://127.0.0.1:{port} unreachable: connection refused"
    assert "version_error" in LiveSource(kubeconfig, timeout_s=2).meta()


def test_silent_server_times_out_after_timeout_s(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the TCP handshake, never answers
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(kubeconfig_text(f"http://127.0.0.1:{silent.getsockname()[1]}"))
        with LiveSource(kubeconfig, timeout_s=0.5) as source, pytest.raises(ApiUnreachable, match="timed out"):
            source.list("nodes")


def test_tls_handshake_with_a_plain_http_server_is_a_tls_failure(snapshot, tmp_path):
    with serving(snapshot) as (url, _):
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(kubeconfig_text(url.replace("http://", "https://")))
        with LiveSource(kubeconfig, timeout_s=5) as source, pytest.raises(ApiUnreachable) as unreachable:
            source.list("nodes")
    assert unreachable.value.reason.startswith("TLS failure: ")
    assert unreachable.value.where == unreachable.value.server == url.replace("http://", "https://")


def _caused_by(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize("error, expected", [
    # urllib3 2 derives NewConnectionError from ConnectTimeoutError; whatever its text says, refused is refused
    (_caused_by(NewConnectionError(None, "timed out? certificate?"),
                ConnectionRefusedError(111, "Connection refused")), "connection refused"),
    (ReadTimeoutError(None, "/api/v1/nodes", "read nothing"), "no answer within 2s (timed out)"),
    (_caused_by(ConnectTimeoutError("no SYN-ACK"), TimeoutError("x")), "no answer within 2s (timed out)"),
    (_caused_by(NameResolutionError("api.example", None, socket.gaierror(-2, "Name or service not known")),
                socket.gaierror(-2, "Name or service not known")),
     "DNS lookup failed: name or service not known"),
    (SSLError(ssl.SSLCertVerificationError(1, "no word of what failed")), "TLS failure: certificate verify failed"),
    (ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")),
     "connection reset by peer"),
    (ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response")),
     "connection closed without an answer (Remote end closed connection without response)"),
])
def test_why_unreachable_is_chosen_by_exception_type_not_text(error, expected):
    assert _short_reason(MaxRetryError(None, "/api/v1/nodes", reason=error), 2) == expected


def test_bad_kubeconfig_or_context_is_a_clear_source_error(tmp_path, live):
    with pytest.raises(SourceError, match="does not exist"):
        LiveSource(tmp_path / "nope")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text("http://127.0.0.1:1"))
    with pytest.raises(SourceError, match="has no context 'prod'"):
        LiveSource(kubeconfig, context="prod")


def test_open_source_live_uses_the_given_kubeconfig(snapshot):
    with serving(snapshot) as (_, kubeconfig), open_source("live", kubeconfig=kubeconfig) as source:
        assert isinstance(source, LiveSource)
        assert source.namespaces() == ["default", "kube-system", "shop"]


def test_report_header_shows_the_live_cluster_version(live, capsys):
    from k8srun.session import Session

    Session("triage", live[0], {}).header()
    assert "cluster v1.30.2" in capsys.readouterr().out
