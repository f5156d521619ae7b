"""`k8srun capture` from `k8srun serve` of a bundle: the captured bundle reads back the same."""

from __future__ import annotations

import json

import pytest

from bundles import started_containers, write_bundle
from k8srun.capture import capture_bundle
from k8srun.cli import main as cli_main
from k8srun.errors import BundleError
from k8srun.serve import serving
from k8srun.sources import RESOURCES, scenario_names, scenarios_dir
from k8srun.sources.live import LiveSource
from k8srun.sources.snapshot import SnapshotSource


@pytest.fixture
def original(tmp_path):
    with SnapshotSource(write_bundle(tmp_path / "original", extra_pods=2)) as source:
        yield source


def _available(source, resource):
    try:
        return source.list(resource)
    except BundleError:
        return None


def _assert_same_snapshot(captured: SnapshotSource, original: SnapshotSource) -> None:
    for resource in RESOURCES:
        expected = _available(original, resource)
        if expected is not None:
            assert captured.list(resource) == expected, resource
    for ns, pod, container in started_containers(original):
        assert captured.logs(ns, pod, container) == original.logs(ns, pod, container)
        try:
            previous = original.logs(ns, pod, container, previous=True)
        except BundleError:
            continue
        assert captured.logs(ns, pod, container, previous=True) == previous


def test_capture_through_the_api_reads_back_as_the_same_snapshot(original, tmp_path):
    with serving(original) as (_, kubeconfig), LiveSource(kubeconfig) as live:
        record = capture_bundle(live, tmp_path / "captured", progress=False)
    assert record["errors"] == []
    assert record["cluster_version"]["gitVersion"] == "v1.30.2"
    assert record["namespaces"] == ["default", "kube-system", "shop"]
    assert set(record["gathered"]) == set(RESOURCES)
    assert record["counts"]["pods"] == 6 and record["counts"]["previous_logs"] == 1
    with SnapshotSource(tmp_path / "captured") as captured:
        _assert_same_snapshot(captured, original)
        assert captured.meta()["captured_at"] == record["captured_at"].replace("Z", "+00:00")
        assert captured.meta()["cluster_version"]["gitVersion"] == "v1.30.2"
    files = {p.relative_to(tmp_path / "captured").as_posix() for p in (tmp_path / "captured").rglob("*")}
    assert {"nodes.json", "k8srun.json", "default/pods.json", "default/replication-controllers.json",
            "default/api-7f9c/logs.txt", "default/api-7f9c/logs-previous.txt"} <= files
    assert "default/pending-1/logs.txt" not in files  # never started: nothing to fetch, not an error


@pytest.mark.parametrize("scenario", scenario_names())
def test_capture_of_each_built_in_scenario_reads_back_the_same(scenario, tmp_path):
    with SnapshotSource(scenarios_dir() / scenario) as original, serving(original) as (_, kubeconfig), \
            LiveSource(kubeconfig) as live:
        capture_bundle(live, tmp_path / "captured", progress=False)
        with SnapshotSource(tmp_path / "captured") as captured:
            _assert_same_snapshot(captured, original)


def test_a_forbidden_resource_is_recorded_and_the_rest_captured(original, tmp_path):
    with serving(original, forbidden={"configmaps"}) as (_, kubeconfig), LiveSource(kubeconfig) as live:
        record = capture_bundle(live, tmp_path / "captured", progress=False)
    assert [e["what"] for e in record["errors"]] == ["configmaps in all namespaces"]
    assert record["errors"][0]["error"].startswith("forbidden: user k8srun-snapshot cannot list configmaps")
    assert "configmaps" not in record["gathered"]
    with SnapshotSource(tmp_path / "captured") as captured:
        assert json.loads((tmp_path / "captured" / "k8srun.json").read_text())["errors"] == record["errors"]
        with pytest.raises(BundleError, match="configmaps not in this bundle"):
            captured.list("configmaps")
        assert captured.list("pods") == original.list("pods")


def test_chosen_namespaces_without_rights_to_list_namespaces_still_read_back(original, tmp_path):
    """Namespace-scoped RBAC: listing namespaces is denied, the chosen namespace is captured and readable."""
    with serving(original, forbidden={"namespaces"}) as (_, kubeconfig), LiveSource(kubeconfig) as live:
        record = capture_bundle(live, tmp_path / "captured", namespaces=["default"], progress=False)
    assert [e["what"] for e in record["errors"]] == ["namespaces"]
    assert not (tmp_path / "captured" / "namespaces.json").exists()  # "not gathered", not "no namespaces"
    with SnapshotSource(tmp_path / "captured") as captured:
        assert captured.namespaces() == ["default"]
        assert captured.list("pods") == original.list("pods", "default")


def test_configmap_values_env_secrets_and_log_secrets_never_reach_the_bundle(tmp_path):
    root = write_bundle(tmp_path / "original")
    configmaps = json.loads((root / "default" / "configmaps.json").read_text())
    configmaps["items"][0]["data"] = {"DB_HOST": "db.internal", "DB_PASSWORD": "hunter2"}
    configmaps["items"][0]["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"DB_PASSWORD":"hunter2"}}', "team": "a"}
    (root / "default" / "configmaps.json").write_text(json.dumps(configmaps))
    logs = root / "kube-system" / "coredns-abc" / "logs.txt"
    logs.write_text(logs.read_text().replace("line 2", "connecting with password=hunter2"))
    pods = json.loads((root / "default" / "pods.json").read_text())
    pods["items"][0]["spec"]["containers"][0]["env"] = [{"name": "DB_PASSWORD", "value": "hunter2"}]
    (root / "default" / "pods.json").write_text(json.dumps(pods))
    with SnapshotSource(root) as original, serving(original) as (_, kubeconfig), LiveSource(kubeconfig) as live:
        capture_bundle(live, tmp_path / "captured", progress=False)
    captured_text = "".join(p.read_text() for p in (tmp_path / "captured").rglob("*") if p.is_file())
    assert "hunter2" not in captured_text
    with SnapshotSource(tmp_path / "captured") as captured:
        configmap = captured.get("configmaps", "default", "app-config")
        assert configmap["data"] == {"DB_HOST": "", "DB_PASSWORD": ""}
        assert configmap["metadata"]["annotations"] == {"team": "a"}
        assert "password=[REDACTED]" in captured.logs("kube-system", "coredns-abc", "app")


def test_tar_gz_bundle_loads(original, tmp_path):
    with serving(original) as (_, kubeconfig), LiveSource(kubeconfig) as live:
        capture_bundle(live, tmp_path / "snap.tar.gz", progress=False)
    with SnapshotSource(tmp_path / "snap.tar.gz") as captured:
        assert captured.list("nodes") == original.list("nodes")
        assert captured.logs("default", "api-7f9c", "app", previous=True) == \
            original.logs("default", "api-7f9c", "app", previous=True)


# the read-only server answers the debug pod's DELETE with 405 too, so the target warns it may be left behind
@pytest.mark.filterwarnings("ignore::k8srun.targets.node.DebugPodLeftBehind")
def test_cli_captures_chosen_namespaces_and_records_unreachable_nodes(original, tmp_path, capsys):
    out = tmp_path / "cli-bundle"
    with serving(original) as (_, kubeconfig):
        code = cli_main(["capture", "--kubeconfig", kubeconfig, "--out", str(out), "--namespaces", "default",
                         "--nodes", "node-a"])
    assert code == 0
    printed = capsys.readouterr()
    assert f"wrote {out}:" in printed.out and "1 previous logs" in printed.out
    # the snapshot server is read-only, so `kubectl debug node/node-a` cannot make its pod: recorded, not fatal
    assert "not gathered: iptables-save on node:node-a" in printed.err
    assert (out / "hosts" / "node-a" / "iptables-save.json").exists()
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["default", "hosts"]
    with SnapshotSource(out) as captured:
        assert captured.namespaces() == ["default"]
        assert captured.list("pods") == original.list("pods", "default")


def test_cli_names_a_missing_kubeconfig_and_bad_namespaces(tmp_path, capsys):
    assert cli_main(["capture", "--kubeconfig", str(tmp_path / "none"), "--out", str(tmp_path / "b")]) == 2
    assert cli_main(["capture", "--namespaces", "Bad_NS"]) == 2
    err = capsys.readouterr().err
    assert f"kubeconfig {tmp_path / 'none'} does not exist" in err
    assert "parameter '--namespaces'" in err
    assert not (tmp_path / "b").exists()


def test_cli_overwrite_is_refused_before_any_api_call(original, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with serving(original) as (_, kubeconfig):
        assert cli_main(["capture", "--kubeconfig", kubeconfig, "--out", str(tmp_path / "taken")]) == 2
    assert "already exists; choose a new path" in capsys.readouterr().err
    assert (tmp_path / "taken" / "file").read_text() == "x"


def test_node_facts_of_a_local_target_are_saved_and_replay_identically(original, tmp_path):
    from k8srun.capture import node_targets
    from k8srun.targets import open_target
    from k8srun.targets.commands import NODE_FACTS

    with serving(original) as (_, kubeconfig), LiveSource(kubeconfig) as live:
        record = capture_bundle(live, tmp_path / "b", nodes=node_targets("local"), progress=False)
    ran = node_targets("local")[0]
    with SnapshotSource(tmp_path / "b") as captured:
        replay = open_target("local", source=captured)
        route = replay.run("ip-route", NODE_FACTS["ip-route"])
    assert f"hosts/{ran.host}" in record["gathered"] and record["counts"]["node_commands"] == len(NODE_FACTS)
    assert route.error is None and json.loads(route.stdout) == json.loads(ran.run("ip-route", NODE_FACTS["ip-route"]).stdout)


@pytest.mark.netns
def test_node_facts_of_a_netns_target(original, tmp_path):
    import subprocess

    from k8srun.capture import node_targets
    from k8srun.parsers import frame

    name = f"k8c-{tmp_path.name[-8:]}".replace("_", "-").lower()
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        with serving(original) as (_, kubeconfig), LiveSource(kubeconfig) as live:
            capture_bundle(live, tmp_path / "b", nodes=node_targets(f"netns:{name}"), progress=False)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)
    host = tmp_path / "b" / "hosts" / f"netns_{name}"
    links = frame("ip-json-link", (host / "ip-link.txt").read_text())
    assert list(links["ifname"]) == ["lo"]  # the namespace's own view, not the host's
    assert json.loads((host / "ip-link.json").read_text())["target"] == f"netns:{name}"
