"""The built-in recorded scenarios are well-formed snapshot bundles.

Checks every ``k8srun/scenarios/*`` directory against kubectl's
``cluster-info dump`` layout, the logs framing, the scenario contract
(``scenario.yaml``) and the generator: ``tools/build_scenarios.py`` (the
recipes ``tools/scenarios/<name>.py`` on ``tools/scenariokit``) must
reproduce the committed cluster part byte for byte and leave the recorded
part (``hosts/``, the ``recorded`` key of ``k8srun.json``) alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from k8srun.model import catalogue
from k8srun.resources import CATALOGUE

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "k8srun" / "scenarios"
GENERATOR = REPO / "tools" / "build_scenarios.py"
sys.path.insert(0, str(GENERATOR.parent))
from scenariokit import build, build_scenario, recipe_names  # noqa: E402

NAMES = sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))

LIST_KINDS = {r.file_stem: (r.list_kind, r.group_version) for r in CATALOGUE.values()}
TOP_LEVEL = ("nodes", "namespaces", "persistentvolumes", "storageclasses")
# what a plain `kubectl cluster-info dump` writes per namespace, then k8srun's additions
PER_NAMESPACE = ("events", "replication-controllers", "services", "daemonsets", "deployments",
                 "replicasets", "pods", "endpoints", "endpointslices", "persistentvolumeclaims",
                 "statefulsets", "jobs", "configmaps", "leases")
# kind of an ownerReference / involvedObject -> file holding such objects
KIND_FILES = {"Pod": "pods", "ReplicaSet": "replicasets", "Deployment": "deployments",
              "DaemonSet": "daemonsets", "StatefulSet": "statefulsets", "Job": "jobs",
              "Service": "services", "PersistentVolumeClaim": "persistentvolumeclaims",
              "ReplicationController": "replication-controllers", "Endpoints": "endpoints"}
_BLOCK = re.compile(r"==== START logs for container (?P<c>\S+) of pod (?P<ns>[^/\s]+)/(?P<pod>\S+) ====\n"
                    r"(?P<body>.*?)==== END logs for container (?P=c) of pod (?P=ns)/(?P=pod) ====\n",
                    re.S)


def log_blocks(text: str) -> list[tuple[str, str, str, str]]:
    """``logs.txt`` -> [(namespace, pod, container, body)]; ValueError when framing is broken."""
    blocks, pos = [], 0
    for match in _BLOCK.finditer(text):
        if match.start() != pos:
            raise ValueError(f"text outside a START/END block at offset {pos}")
        blocks.append((match["ns"], match["pod"], match["c"], match["body"]))
        pos = match.end()
    if pos != len(text):
        raise ValueError(f"unterminated or malformed block at offset {pos}")
    return blocks


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def items(root: Path, stem: str, namespace: str | None = None) -> list[dict]:
    path = root / namespace / f"{stem}.json" if namespace else root / f"{stem}.json"
    return load(path)["items"]


def namespaces_of(root: Path) -> list[str]:
    return [ns["metadata"]["name"] for ns in items(root, "namespaces")]


def recorded(rel: Path) -> bool:
    """Whether ``rel`` belongs to the recorded part (node command outputs), not the cluster part."""
    return rel.parts[0] == "hosts"


def cluster_part(root: Path) -> dict[str, object]:
    """Relative path -> bytes of every cluster file (k8srun.json: parsed, without its ``recorded`` key)."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not recorded(rel):
            files[rel.as_posix()] = path.read_bytes()
    info = json.loads(files["k8srun.json"])
    info.pop("recorded", None)
    files["k8srun.json"] = info
    return files


@pytest.fixture(scope="module", params=NAMES)
def bundle(request) -> Path:
    return SCENARIOS / request.param


def test_the_five_scenarios_exist():
    assert {"pod-pending", "pending-no-nodes", "pod-crashloop", "triage", "healthy"} <= set(NAMES)


def test_log_block_parser_accepts_a_log_without_trailing_newline():
    text = ("==== START logs for container a of pod ns/p ====\nline 1\nno newline"
            "==== END logs for container a of pod ns/p ====\n"
            "==== START logs for container b of pod ns/p ====\n==== END logs for container b of pod ns/p ====\n")
    assert log_blocks(text) == [("ns", "p", "a", "line 1\nno newline"), ("ns", "p", "b", "")]


def test_log_block_parser_rejects_a_missing_end_marker():
    with pytest.raises(ValueError):
        log_blocks("==== START logs for container a of pod ns/p ====\nline\n")


def test_files_are_kubectl_lists(bundle):
    files = [bundle / f"{stem}.json" for stem in TOP_LEVEL]
    files += [bundle / ns / f"{stem}.json" for ns in namespaces_of(bundle) for stem in PER_NAMESPACE]
    for path in files:
        doc = load(path)
        kind, api_version = LIST_KINDS[path.stem]
        assert list(doc) == ["kind", "apiVersion", "metadata", "items"], path
        assert (doc["kind"], doc["apiVersion"]) == (kind, api_version), path
        assert doc["metadata"]["resourceVersion"].isdigit(), path
        for item in doc["items"]:
            assert "kind" not in item and "apiVersion" not in item, f"{path}: typed lists carry no item kind"
            meta = item["metadata"]
            assert meta["name"] and meta["uid"] and meta["resourceVersion"].isdigit(), path
            if path.parent != bundle:
                assert meta["namespace"] == path.parent.name, f"{path}: {meta['name']} in wrong namespace"
        names = [i["metadata"]["name"] for i in doc["items"]]
        assert names == sorted(names) and len(set(names)) == len(names), f"{path}: not sorted/unique by name"
    unexpected = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*.json")
                  if not recorded(p.relative_to(bundle))} - {p.relative_to(bundle).as_posix() for p in files} - {
        "k8srun.json"}
    assert not unexpected, f"files outside the bundle layout: {sorted(unexpected)}"


def test_k8srun_json(bundle):
    info = load(bundle / "k8srun.json")
    assert info["format"] == 1 and info["captured_at"] == "2026-11-20T14:05:00Z"
    assert info["cluster_version"]["gitVersion"].startswith("v1.30.") and info["errors"] == []
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")
               if p.is_file() and p.name not in ("k8srun.json", "scenario.yaml") and not recorded(p.relative_to(bundle))}
    assert set(info["gathered"]) == on_disk


def test_no_secret_ever(bundle):
    assert not list(bundle.rglob("secrets.json"))
    for ns in namespaces_of(bundle):
        for cm in items(bundle, "configmaps", ns):
            assert set(cm.get("data", {}).values()) <= {""}, f"{ns}/{cm['metadata']['name']} holds values"
            assert "binaryData" not in cm


def test_every_pod_has_logs_for_its_containers_in_order(bundle):
    for ns in namespaces_of(bundle):
        for pod in items(bundle, "pods", ns):
            name = pod["metadata"]["name"]
            spec, status = pod["spec"], pod["status"]
            expected = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]]
            blocks = log_blocks((bundle / ns / name / "logs.txt").read_text(encoding="utf-8"))
            assert [(b[0], b[1]) for b in blocks] == [(ns, name)] * len(blocks)
            assert [b[2] for b in blocks] == expected, f"{ns}/{name}"
            restarted = [s["name"] for s in status.get("initContainerStatuses", []) + status.get("containerStatuses", [])
                         if s.get("lastState", {}).get("terminated")]
            previous = bundle / ns / name / "logs-previous.txt"
            if restarted:
                assert [b[2] for b in log_blocks(previous.read_text(encoding="utf-8"))] == restarted
            else:
                assert not previous.exists(), f"{ns}/{name} has previous logs but no previous run"


def _index(bundle: Path) -> dict[tuple[str, str, str], dict]:
    """(kind, namespace, name) -> object, for every object of the bundle."""
    index = {("Node", "", n["metadata"]["name"]): n for n in items(bundle, "nodes")}
    for ns in namespaces_of(bundle):
        for kind, stem in KIND_FILES.items():
            for obj in items(bundle, stem, ns):
                index[(kind, ns, obj["metadata"]["name"])] = obj
    return index


def test_event_objects_exist(bundle):
    index = _index(bundle)
    for ns in namespaces_of(bundle):
        for event in items(bundle, "events", ns):
            ref = event["involvedObject"]
            if ref["kind"] == "Node":
                assert ("Node", "", ref["name"]) in index, event["metadata"]["name"]
                continue
            assert ref["namespace"] == ns
            obj = index.get((ref["kind"], ns, ref["name"]))
            assert obj is not None, f"{event['metadata']['name']}: no {ref['kind']} {ns}/{ref['name']}"
            assert obj["metadata"]["uid"] == ref["uid"]
            if "fieldPath" in ref:
                group, cname = re.fullmatch(r"spec\.(containers|initContainers)\{(.+)\}", ref["fieldPath"]).groups()
                assert cname in [c["name"] for c in obj["spec"].get(group, [])]
            assert event["type"] in ("Normal", "Warning")
            assert event["lastTimestamp"] or event["eventTime"]


def test_owner_references_resolve(bundle):
    index = _index(bundle)
    for (kind, ns, name), obj in index.items():
        for owner in obj["metadata"].get("ownerReferences", []):
            target = index.get((owner["kind"], "" if owner["kind"] == "Node" else ns, owner["name"]))
            assert target is not None, f"{kind} {ns}/{name}: owner {owner['kind']} {owner['name']} missing"
            assert target["metadata"]["uid"] == owner["uid"]
    for ns in namespaces_of(bundle):  # endpoint slices point at pods that exist
        for eps in items(bundle, "endpointslices", ns):
            for endpoint in eps["endpoints"] or []:
                ref = endpoint.get("targetRef")
                if ref:
                    assert index[("Pod", ns, ref["name"])]["metadata"]["uid"] == ref["uid"]


def _millis(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def _bytes(quantity: str) -> int:
    factors = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(quantity[:-2]) * factors[quantity[-2:]] if quantity[-2:] in factors else int(quantity)


def test_scheduled_pods_fit_their_nodes(bundle):
    """The recorded scheduler decisions are arithmetically possible."""
    nodes = {n["metadata"]["name"]: n["status"]["allocatable"] for n in items(bundle, "nodes")}
    used = {name: {"cpu": 0, "memory": 0} for name in nodes}
    for ns in namespaces_of(bundle):
        for pod in items(bundle, "pods", ns):
            node = pod["spec"].get("nodeName")
            if not node:
                continue
            for c in pod["spec"]["containers"]:
                requests = c["resources"].get("requests", {})
                used[node]["cpu"] += _millis(requests.get("cpu", "0"))
                used[node]["memory"] += _bytes(requests.get("memory", "0"))
    for name, alloc in nodes.items():
        assert used[name]["cpu"] <= _millis(alloc["cpu"]), name
        assert used[name]["memory"] <= _bytes(alloc["memory"]), name


def test_unschedulable_pods_carry_the_scheduler_message(bundle):
    for ns in namespaces_of(bundle):
        events = items(bundle, "events", ns)
        for pod in items(bundle, "pods", ns):
            scheduled = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
            failed = [e for e in events if e["involvedObject"]["name"] == pod["metadata"]["name"]
                      and e["reason"] == "FailedScheduling"]
            if pod["spec"].get("nodeName"):
                assert scheduled["status"] == "True" and not failed
            else:
                assert scheduled["reason"] == "Unschedulable"
                assert scheduled["message"].startswith(f"0/{len(items(bundle, 'nodes'))} nodes are available: ")
                assert [e["message"] for e in failed] == [scheduled["message"]]


def test_scenario_contract(bundle):
    contract = yaml.safe_load((bundle / "scenario.yaml").read_text(encoding="utf-8"))
    assert list(contract) == ["description", "runbook", "namespace", "expected_codes", "absent_codes"]
    assert isinstance(contract["description"], str) and "\n" not in contract["description"].strip()
    codes = catalogue()
    runbooks = {info.runbook for info in codes.values()}
    assert contract["runbook"] in runbooks
    assert contract["namespace"] in namespaces_of(bundle)
    for code in contract["expected_codes"] + contract["absent_codes"]:
        assert code in codes, f"{code} not in k8srun/codes.yaml"
    assert not set(contract["expected_codes"]) & set(contract["absent_codes"])


def test_healthy_scenario_is_healthy():
    root = SCENARIOS / "healthy"
    for ns in namespaces_of(root):
        for pod in items(root, "pods", ns):
            ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
            assert pod["status"]["phase"] == "Running" and ready["status"] == "True", pod["metadata"]["name"]
        assert {e["type"] for e in items(root, "events", ns)} <= {"Normal"}
        for endpoints in items(root, "endpoints", ns):
            assert endpoints.get("subsets"), f"Service {ns}/{endpoints['metadata']['name']} has no endpoints"
    for node in items(root, "nodes"):
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True" and not node["spec"].get("unschedulable")


def test_faulty_scenarios_show_their_faults():
    """The counterpart of the healthy test: each fault is visible in status and events."""
    pending = SCENARIOS / "pod-pending"
    unscheduled = [p for p in items(pending, "pods", "shop") if not p["spec"].get("nodeName")]
    assert len(unscheduled) == 4
    waiting = {s["state"]["waiting"]["reason"] for p in items(pending, "pods", "shop")
               for s in p["status"].get("containerStatuses", []) if "waiting" in s["state"]}
    assert waiting == {"ErrImagePull", "ImagePullBackOff"}
    crash = SCENARIOS / "pod-crashloop"
    last_reasons = {s["lastState"]["terminated"]["reason"] for p in items(crash, "pods", "payments")
                    for s in p["status"].get("containerStatuses", []) + p["status"].get("initContainerStatuses", [])
                    if s["lastState"].get("terminated")}
    assert {"OOMKilled", "Error", "StartError"} <= last_reasons
    warnings = {e["reason"] for e in items(crash, "events", "payments") if e["type"] == "Warning"}
    assert {"BackOff", "Unhealthy", "Failed"} <= warnings
    lost = SCENARIOS / "pending-no-nodes"
    ready = [next(c for c in n["status"]["conditions"] if c["type"] == "Ready")["status"] for n in items(lost, "nodes")]
    assert ready.count("Unknown") == 1


def test_every_scenario_has_a_recipe():
    assert recipe_names() == NAMES


def test_generator_reproduces_the_committed_bundles(tmp_path):
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES
    for name in NAMES:
        assert cluster_part(tmp_path / name) == cluster_part(SCENARIOS / name), \
            f"{name}: regenerate with tools/build_scenarios.py"


def test_generator_builds_only_the_named_scenarios(tmp_path):
    run = subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path), "healthy"],
                         check=True, capture_output=True, text=True)
    assert run.stdout.split() == [str(tmp_path / "healthy")]
    assert [p.name for p in tmp_path.iterdir()] == ["healthy"]
    bad = subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path), "no-such-scenario"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no-such-scenario" in bad.stderr


def test_the_cluster_part_is_reproducible(tmp_path):
    """Two builds into two folders are identical, and equal the committed files."""
    first, second = build(tmp_path / "first"), build(tmp_path / "second")
    assert [p.name for p in first] == [p.name for p in second] == NAMES
    for one, other in zip(first, second):
        assert cluster_part(one) == cluster_part(other) == cluster_part(SCENARIOS / one.name), one.name


@pytest.mark.parametrize("name", NAMES)
def test_a_rebuild_keeps_the_recorded_part(tmp_path, name):
    """hosts/ and the ``recorded`` key survive; stale cluster files go; other files stay."""
    root = tmp_path / name
    shutil.copytree(SCENARIOS / name, root)
    hosts = {"hosts/x/cmd.txt": b"raw output\n", "hosts/x/cmd.json": b'{"exit_code": 0}'}
    for rel, data in hosts.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    record = {"lab": "fault lab", "hosts": {"x": ["cmd"]}, "labels": {"b": "2", "a": "<1>"}}
    info = load(root / "k8srun.json")
    (root / "k8srun.json").write_text(json.dumps({**info, "recorded": record}, indent=2), encoding="utf-8")
    stale = ["gone/pods.json", "gone/gone-pod/logs.txt", f"{namespaces_of(root)[0]}/old-pod/logs-previous.txt"]
    for rel in stale:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("{}", encoding="utf-8")
    (root / "NOTES.md").write_text("not a cluster file\n", encoding="utf-8")
    recorded_info = (root / "k8srun.json").read_bytes()

    assert build_scenario(name, tmp_path) == root
    assert {rel: (root / rel).read_bytes() for rel in hosts} == hosts
    assert (root / "k8srun.json").read_bytes() == recorded_info  # cluster part unchanged: file untouched
    assert not any((root / rel).exists() for rel in stale) and not (root / "gone").exists()
    assert not (root / stale[2]).parent.exists()
    assert (root / "NOTES.md").exists()
    (root / "NOTES.md").unlink()
    assert cluster_part(root) == cluster_part(SCENARIOS / name)

    # a changed cluster part: k8srun.json is rewritten, recorded kept as it was; what it gathered before goes
    (root / "nodes.json").unlink()
    (root / "legacy.txt").write_text("old\n", encoding="utf-8")
    old = {**info, "gathered": info["gathered"] + ["legacy.txt", "hosts/x/cmd.txt"], "recorded": record}
    (root / "k8srun.json").write_text(json.dumps(old), encoding="utf-8")
    build_scenario(name, tmp_path)
    assert load(root / "k8srun.json")["recorded"] == record
    assert list(load(root / "k8srun.json")["recorded"]["labels"]) == ["b", "a"]
    assert not (root / "legacy.txt").exists()
    assert {rel: (root / rel).read_bytes() for rel in hosts} == hosts
    assert cluster_part(root) == cluster_part(SCENARIOS / name)
