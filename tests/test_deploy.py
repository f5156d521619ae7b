"""The shipped RBAC: k8srun can read all it reads, and nothing else (never Secrets, never a write)."""

from __future__ import annotations

from pathlib import Path

import yaml

from k8srun.resources import CATALOGUE

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _documents(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def _granted(rules: list[dict]) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def test_reader_role_covers_every_resource_k8srun_reads_with_get_and_list():
    role = next(d for d in _documents("rbac-readonly.yaml") if d["kind"] == "ClusterRole")
    granted = _granted(role["rules"])
    for resource in CATALOGUE.values():
        assert {"get", "list"} <= granted.get((resource.group, resource.plural), set()), resource.plural
    assert {"get"} <= granted[("", "pods/log")]


def test_reader_role_is_read_only_and_never_touches_secrets():
    for document in _documents("rbac-readonly.yaml"):
        for rule in document.get("rules", []):
            assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
            assert "secrets" not in rule.get("resources", []) and "*" not in rule.get("resources", [])
            assert "*" not in rule.get("apiGroups", [])


def test_the_node_debug_exception_is_one_namespace_and_pods_only():
    documents = _documents("rbac-node-debug.yaml")
    assert {d["kind"] for d in documents} == {"Role", "RoleBinding"}  # never cluster-wide
    role = next(d for d in documents if d["kind"] == "Role")
    granted = _granted(role["rules"])
    assert set(granted) == {("", "pods"), ("", "pods/attach"), ("", "pods/log")}
    assert "create" in granted[("", "pods")] and "delete" in granted[("", "pods")]
