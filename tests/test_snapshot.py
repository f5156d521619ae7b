"""The snapshot bundle reader on kubectl's exact layout: JSON, YAML, tar.gz, logs framing."""

from __future__ import annotations

import json
import tarfile
import tempfile

import pytest
import yaml

from factories import k8s_list, node, pod
from k8srun.errors import BundleError, ParameterError
from k8srun.sources import NoSource, SourceUnavailable, open_source
from k8srun.sources.snapshot import SnapshotSource, parse_logs_file


POD = pod("api-1", "shop", containers=("api", "sidecar"), init_containers=("migrate",))
NODE = node("worker-1", heartbeat="2026-11-20T14:03:10Z")
LOGS = ("==== START logs for container migrate of pod shop/api-1 ====\n"
        "migrated 3 tables\n"
        "==== END logs for container migrate of pod shop/api-1 ====\n"
        "==== START logs for container api of pod shop/api-1 ====\n"
        "line 1\nline 2\nline 3\n"
        "==== END logs for container api of pod shop/api-1 ====\n"
        "==== START logs for container sidecar of pod shop/api-1 ====\n"
        "no trailing newline"
        "==== END logs for container sidecar of pod shop/api-1 ====\n")


def write_dump(root, fmt="json"):
    """A plain `kubectl cluster-info dump --output-directory` tree (fmt json|yaml)."""
    dump = json.dumps if fmt == "json" else yaml.safe_dump
    (root / "shop" / "api-1").mkdir(parents=True)
    (root / f"nodes.{fmt}").write_text(dump(k8s_list("NodeList", [NODE])))
    for stem, kind, items in [("events", "EventList", []), ("replication-controllers", "ReplicationControllerList", []),
                              ("services", "ServiceList", []), ("daemonsets", "DaemonSetList", []),
                              ("deployments", "DeploymentList", []), ("replicasets", "ReplicaSetList", []),
                              ("pods", "PodList", [POD])]:
        (root / "shop" / f"{stem}.{fmt}").write_text(dump(k8s_list(kind, items)))
    (root / "shop" / "api-1" / "logs.txt").write_text(LOGS)
    return root


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_plain_dump_loads_in_json_and_yaml(tmp_path, fmt):
    source = open_source(str(write_dump(tmp_path, fmt)))
    assert source.kind == "snapshot"
    assert [p["metadata"]["name"] for p in source.list("pods", "shop")] == ["api-1"]
    assert source.list("replicationcontrollers", "shop") == []
    assert source.namespaces() == ["shop"]
    assert source.meta()["format"] == "kubectl cluster-info dump"
    # a plain dump has no capture time: the newest node heartbeat stands in
    assert source.now().isoformat() == "2026-11-20T14:03:10+00:00"


def test_meta_cluster_version_is_a_version_object_even_when_recorded_as_a_string(tmp_path):
    root = write_dump(tmp_path)
    (root / "k8srun.json").write_text(json.dumps({"captured_at": "2026-11-20T14:05:00Z",
                                                  "cluster_version": "v1.29.1"}))
    assert SnapshotSource(root).meta()["cluster_version"] == {"gitVersion": "v1.29.1"}


def test_logs_blocks_in_order_including_end_marker_on_the_last_line(tmp_path):
    source = SnapshotSource(write_dump(tmp_path))
    assert source.logs("shop", "api-1", "migrate") == "migrated 3 tables\n"
    assert source.logs("shop", "api-1", "sidecar") == "no trailing newline"
    assert source.logs("shop", "api-1", "api", tail_lines=2) == "line 2\nline 3\n"
    assert list(parse_logs_file(LOGS)) == ["migrate", "api", "sidecar"]


def test_missing_logs_and_resources_say_what_is_missing(tmp_path):
    source = SnapshotSource(write_dump(tmp_path))
    with pytest.raises(BundleError, match="previous logs of container api .*not restarted, or not captured"):
        source.logs("shop", "api-1", "api", previous=True)
    with pytest.raises(BundleError, match="have: migrate, api, sidecar"):
        source.logs("shop", "api-1", "nope")
    with pytest.raises(BundleError, match="persistentvolumeclaims not in this bundle"):
        source.list("persistentvolumeclaims", "shop")
    with pytest.raises(BundleError, match="namespace 'other' not in this bundle"):
        source.list("pods", "other")


def test_truncated_logs_file_is_a_clear_error():
    with pytest.raises(BundleError, match="no END marker"):
        parse_logs_file("==== START logs for container a of pod ns/p ====\nhalf")


def test_tar_gz_bundle_is_extracted_and_cleaned_up(tmp_path):
    write_dump(tmp_path / "dump")
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "dump", arcname="cluster-state")
    source = open_source(str(archive))
    extracted = source.root
    assert source.logs("shop", "api-1", "api").startswith("line 1")
    source.close()
    assert not extracted.exists()


@pytest.mark.parametrize("info", ['{"captured_at": "2026-11-20T14:05:00Z"}', "{not json"])
def test_tar_gz_extraction_dir_is_removed_when_the_bundle_is_rejected(tmp_path, monkeypatch, info):
    write_dump(tmp_path / "dump")
    (tmp_path / "dump" / "k8srun.json").write_text(info)
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "dump", arcname="cluster-state")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    if info.startswith("{not"):
        with pytest.raises(BundleError, match="k8srun.json: unreadable"):
            SnapshotSource(archive)
    else:
        SnapshotSource(archive).close()
    assert list(scratch.iterdir()) == []


def test_tar_gz_member_escaping_the_bundle_is_refused(tmp_path):
    write_dump(tmp_path / "dump")
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "dump", arcname="cluster-state")
        tar.add(tmp_path / "dump" / "nodes.json", arcname="../escaped.json")
    with pytest.raises(BundleError, match="cannot extract bundle"):
        SnapshotSource(archive)
    assert not (tmp_path / "escaped.json").exists()


def test_not_a_bundle_and_corrupt_files_are_one_line_errors(tmp_path):
    with pytest.raises(BundleError, match="not a snapshot bundle"):
        SnapshotSource(tmp_path)
    write_dump(tmp_path)
    (tmp_path / "shop" / "pods.json").write_text("{not json")
    with pytest.raises(BundleError, match="shop/pods.json: unreadable"):
        SnapshotSource(tmp_path).list("pods", "shop")
    (tmp_path / "shop" / "pods.json").write_text('{"kind": "Pod"}')
    with pytest.raises(BundleError, match="not a Kubernetes List"):
        SnapshotSource(tmp_path).list("pods", "shop")


@pytest.mark.parametrize("spec, message", [
    ("/nonexistent", "no such snapshot bundle"),
    ("scenario:does-not-exist", "no built-in scenario"),
    ("scenario:Bad_Name", "lower-case"),
    ("", "must be scenario:NAME"),
])
def test_bad_source_parameter_names_the_parameter(spec, message):
    with pytest.raises(ParameterError, match=f"parameter 'source': .*{message}"):
        open_source(spec)


def test_source_none_skips_cluster_questions():
    source = open_source("none")
    assert isinstance(source, NoSource) and source.namespaces() == []
    with pytest.raises(SourceUnavailable, match="source=none"):
        source.list("pods", "default")


def test_a_tarball_cut_at_a_member_boundary_is_refused_not_opened_with_files_missing(tmp_path):
    """tarfile's stream mode reads a gzip stream that stops at a member boundary as the end of the archive
    (a half-copied download): the gzip end marker is checked first, so the bundle is refused."""
    import io
    import tarfile
    import zlib

    from bundles import write_bundle
    from k8srun.errors import BundleError
    from k8srun.sources.snapshot import SnapshotSource

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        tar.add(write_bundle(tmp_path / "src"), arcname="cluster")
    with tarfile.open(fileobj=io.BytesIO(raw.getvalue())) as tar:
        offsets = [member.offset for member in tar.getmembers()]
    boundary = offsets[len(offsets) // 2]  # a header's start: what came before is whole members
    deflate = zlib.compressobj(wbits=31)
    archive = tmp_path / "cut.tar.gz"
    archive.write_bytes(deflate.compress(raw.getvalue()[:boundary]) + deflate.flush(zlib.Z_SYNC_FLUSH))
    with tarfile.open(archive, "r|gz") as stream:  # what the check guards against: a clean, short read
        assert len(list(stream)) == len(offsets) // 2
    with pytest.raises(BundleError, match="cannot extract bundle: the archive is truncated"):
        SnapshotSource(archive)
