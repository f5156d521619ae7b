"""config-syntax (CFG-001..003): broken manifests written here, each problem at its exact line and column.

The corpus is written by the tests (one file per fault, the fault's place
commented in the text); healthy manifests are real-world shaped files in
``tests/fixtures/configsyntax/healthy/`` and the project's own ``deploy/``.
Everything runs offline: the schemas are the ones kubernetes-validate ships.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8srun import kubeschema, manifests
from k8srun.checks import configsyntax
from k8srun.errors import ParameterError
from k8srun.session import diagnose_runbook

ROOT = Path(__file__).resolve().parents[1]
HEALTHY = ROOT / "tests" / "fixtures" / "configsyntax" / "healthy"

#: file -> text; each broken in one place (see FAULTS)
CORPUS = {
    "tab-indentation.yaml": ("apiVersion: v1\n"
                             "kind: ConfigMap\n"
                             "metadata:\n"
                             "  name: tabbed\n"
                             "data:\n"
                             "\tLOG_LEVEL: info\n"),              # line 6: a tab indents
    "bad-indentation.yaml": ("apiVersion: apps/v1\n"
                             "kind: Deployment\n"
                             "metadata:\n"
                             "  name: web\n"
                             "spec:\n"
                             "  replicas: 2\n"
                             "   selector:\n"                     # line 7: one space too deep; ':' at column 12
                             "    matchLabels: {app: web}\n"
                             "  template:\n"
                             "    metadata: {labels: {app: web}}\n"
                             "    spec: {containers: [{name: web, image: web}]}\n"),
    "dedented.yaml": ("apiVersion: apps/v1\n"
                      "kind: Deployment\n"
                      "metadata:\n"
                      "  name: web\n"
                      "spec:\n"
                      "    replicas: 2\n"
                      "  selector:\n"                             # line 7: shallower than its sibling above
                      "    matchLabels: {app: web}\n"
                      "  template:\n"
                      "    metadata: {labels: {app: web}}\n"
                      "    spec: {containers: [{name: web, image: web}]}\n"),
    "duplicate-key.yaml": ("apiVersion: v1\n"
                           "kind: Service\n"
                           "metadata:\n"
                           "  name: web\n"
                           "spec:\n"
                           "  selector:\n"
                           "    app: web\n"
                           "  ports:\n"
                           "    - port: 80\n"
                           "      port: 8080\n"),                 # line 10, column 7: port again
    "contianers.yaml": ("apiVersion: v1\n"
                        "kind: Pod\n"
                        "metadata:\n"
                        "  name: web\n"
                        "spec:\n"
                        "  contianers:\n"                         # line 6, column 3
                        "    - name: web\n"
                        "      image: nginx:1.27\n"),
    "replicas-two.yaml": ("apiVersion: apps/v1\n"
                          "kind: Deployment\n"
                          "metadata:\n"
                          "  name: api\n"
                          "spec:\n"
                          '  replicas: "two"\n'                   # line 6, column 13: the value
                          "  selector:\n"
                          "    matchLabels: {app: api}\n"
                          "  template:\n"
                          "    metadata:\n"
                          "      labels: {app: api}\n"
                          "    spec:\n"
                          "      containers:\n"
                          "        - name: api\n"
                          "          image: registry.example.com/api:1.0\n"),
    "no-name.yaml": ("apiVersion: v1\n"
                     "kind: ConfigMap\n"
                     "metadata:\n"                                # line 3: no name under it
                     "  namespace: shop\n"
                     "data:\n"
                     "  LOG_LEVEL: info\n"),
    "trailing-comma.json": ('{\n'
                            '  "apiVersion": "v1",\n'
                            '  "kind": "ConfigMap",\n'
                            '  "metadata": {"name": "settings"},\n'
                            '  "data": {\n'
                            '    "a": "1",\n'
                            '    "b": "2",\n'                     # line 7, column 13: the last comma
                            '  }\n'
                            '}\n'),
    "second-has-no-kind.yaml": ("apiVersion: v1\n"
                                "kind: ConfigMap\n"
                                "metadata:\n"
                                "  name: first\n"
                                "---\n"
                                "apiVersion: v1\n"                # line 6: the second document, no kind
                                "metadata:\n"
                                "  name: second\n"),
    "second-has-unclosed-quote.yaml": ("apiVersion: v1\n"
                                       "kind: ConfigMap\n"
                                       "metadata:\n"
                                       "  name: first\n"
                                       "---\n"
                                       "apiVersion: v1\n"
                                       "kind: ConfigMap\n"
                                       "metadata:\n"
                                       '  name: "second\n'        # line 9, column 9: the quote never closes
                                       "data: {}\n"),
    "duplicate-key.json": ('{\n'
                           '\t"apiVersion": "v1",\n'
                           '\t"kind": "ConfigMap",\n'
                           '\t"metadata": {"name": "twice"},\n'
                           '\t"data": {"a": "1"},\n'
                           '\t"data": {"b": "2"}\n'                 # line 6, column 2 (after a tab: JSON allows tabs)
                           '}\n'),
    "no-containers.yaml": ("apiVersion: v1\n"
                           "kind: Pod\n"
                           "metadata:\n"
                           "  name: empty\n"
                           "spec:\n"                              # line 5: spec lacks containers
                           "  restartPolicy: Never\n"),
    "removed-api.yaml": ("apiVersion: policy/v1beta1\n"            # line 1, column 13: removed in 1.25
                         "kind: PodDisruptionBudget\n"
                         "metadata:\n"
                         "  name: web\n"
                         "spec:\n"
                         "  minAvailable: 1\n"),
}

#: file -> (code, problem, line, column, suggestion)
FAULTS = {
    "tab-indentation.yaml": ("CFG-001", "tab-indentation", 6, 1, ""),
    "bad-indentation.yaml": ("CFG-001", "syntax", 7, 12, ""),
    "dedented.yaml": ("CFG-001", "syntax", 7, 3, ""),
    "duplicate-key.yaml": ("CFG-001", "duplicate-key", 10, 7, ""),
    "contianers.yaml": ("CFG-002", "unknown-field", 6, 3, "containers"),
    "replicas-two.yaml": ("CFG-002", "wrong-type", 6, 13, ""),
    "no-name.yaml": ("CFG-003", "missing-field", 3, 1, ""),
    "trailing-comma.json": ("CFG-001", "syntax", 7, 13, ""),
    "second-has-no-kind.yaml": ("CFG-003", "missing-field", 6, 1, ""),
    "no-containers.yaml": ("CFG-002", "missing-required", 5, 1, ""),
    "second-has-unclosed-quote.yaml": ("CFG-001", "syntax", 9, 9, ""),
    "duplicate-key.json": ("CFG-001", "duplicate-key", 6, 2, ""),
    "removed-api.yaml": ("CFG-002", "api-version", 1, 13, "policy/v1"),
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def examine(folder: Path, version: str = "1.30", **kwargs) -> dict:
    files, _ = manifests.read_tree(folder)
    return configsyntax.examine(files, kubeschema.schemas(version), **kwargs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("corpus"), CORPUS)


@pytest.fixture(scope="module")
def corpus_run(corpus):
    """One run of the runbook on the corpus folder (no cluster: the pinned default version)."""
    return diagnose_runbook("config-syntax", source="none", path=str(corpus), kubernetes_version="1.30")


# ------------------------------------------------------------ each fault

@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_broken_manifest_is_found_at_its_exact_line_and_column(corpus, name):
    code, kind, line, column, suggestion = FAULTS[name]
    problems = examine(corpus)["problems"]
    mine = problems[problems["file"] == name]
    assert len(mine) == 1, mine[["problem", "line", "column", "message"]].to_string()
    row = mine.iloc[0]
    assert (row["code"], row["problem"], row["line"], row["column"], row["suggestion"]) == \
        (code, kind, line, column, suggestion), row.to_dict()
    assert row["source"] == CORPUS[name].splitlines()[line - 1]  # the offending line, shown as written


def test_the_messages_say_what_is_wrong_in_plain_words(corpus):
    rows = {r["file"]: r for _, r in examine(corpus)["problems"].iterrows()}
    assert rows["tab-indentation.yaml"]["message"] == "tab character used for indentation"
    assert "spaces only" in rows["tab-indentation.yaml"]["hint"]
    assert "indented deeper than the key above" in rows["bad-indentation.yaml"]["hint"]
    assert "does not match the block" in rows["dedented.yaml"]["hint"]
    assert rows["duplicate-key.yaml"]["message"] == "duplicate key 'port' in the same mapping"
    assert rows["contianers.yaml"]["message"] == "unknown field 'contianers' in spec"
    assert rows["replicas-two.yaml"]["message"] == "spec.replicas is string 'two', must be integer"
    assert rows["no-name.yaml"]["message"] == "no metadata.name"
    assert rows["trailing-comma.json"]["message"] == "trailing comma before the end of the object"
    assert "line 8 column 3" in rows["trailing-comma.json"]["hint"]  # where json.JSONDecodeError stopped
    assert rows["second-has-no-kind.yaml"]["message"] == "no kind"
    assert rows["second-has-unclosed-quote.yaml"]["message"] == (
        "found unexpected end of stream (the quoted string opened here is never closed)")
    assert rows["duplicate-key.json"]["message"] == "duplicate key 'data' in the same mapping"
    assert rows["no-containers.yaml"]["message"] == "required field 'containers' is missing from spec"
    assert "served as policy/v1" in rows["removed-api.yaml"]["message"]


def test_the_excerpt_shows_the_line_with_a_caret_under_the_column(corpus):
    rows = {r["file"]: r.to_dict() for _, r in examine(corpus)["problems"].iterrows()}
    assert manifests.excerpt(rows["contianers.yaml"], "here") == (
        "contianers.yaml:6:3\n"
        "5 | spec:\n"
        "6 |   contianers:\n"
        "  |   ^ here")
    tab = manifests.excerpt(rows["tab-indentation.yaml"]).splitlines()
    assert tab[2:] == ["6 | →LOG_LEVEL: info", "  | ^"]  # a tab shown as one visible character


def test_the_runbook_reports_each_fault_as_a_finding_about_its_file_or_object(corpus_run):
    found = {(f.evidence["file"], f.code): f for f in corpus_run.findings}
    for name, (code, _kind, line, column, suggestion) in FAULTS.items():
        f = found[(name, code)]
        assert f.detail.startswith(f"{name}:{line}:{column}: ") and (f.evidence["line"], f.evidence["column"]) == (line, column)
        assert f.evidence["excerpt"].splitlines()[0] == f"{name}:{line}:{column}"
    assert "did you mean 'containers'?" in found[("contianers.yaml", "CFG-002")].detail
    assert found[("contianers.yaml", "CFG-002")].subject == "Pod web at contianers.yaml:1"
    assert found[("tab-indentation.yaml", "CFG-001")].subject == "file tab-indentation.yaml"
    assert found[("duplicate-key.yaml", "CFG-001")].subject == "Service web at duplicate-key.yaml:1"
    assert {f.code for f in corpus_run.findings} == {"CFG-001", "CFG-002", "CFG-003"}
    assert set(corpus_run.checks_table()["status"]) == {"FOUND"}


def test_every_object_and_file_gets_a_verdict(corpus_run):
    verdicts = corpus_run.verdicts().set_index("subject")
    assert verdicts.loc["file tab-indentation.yaml", "verdict"] == "FOUND"
    assert verdicts.loc["ConfigMap first at second-has-no-kind.yaml:1", "verdict"] == "NO CAUSE FOUND"
    assert verdicts.loc["? second at second-has-no-kind.yaml:6", "codes"] == "CFG-003"
    assert verdicts.loc["Deployment api at replicas-two.yaml:1", "codes"] == "CFG-002"


# ------------------------------------------------------------ healthy

def test_healthy_manifests_give_no_cfg_code():
    result = examine(HEALTHY)
    assert result["problems"].empty, result["problems"][["file", "line", "message"]].to_string()
    objects = result["objects"].set_index("subject")
    assert len(objects) == 9  # Deployment + Service, ConfigMap (JSON), Job, 2 List items, Certificate, 2 configs
    assert objects.loc["Kustomization ? at kustomization.yaml:2", "schema"] == (
        "not checked: no schema for kustomize.config.k8s.io/v1beta1 Kustomization (a component's config file)")
    assert objects.loc["Job shop/migrate-* at migrate-job.yaml:2", "schema"].endswith(
        "generateName: kubectl create only (kubectl apply needs metadata.name)")
    assert objects.loc["Certificate shop/shop-tls at certificate.yaml:2", "schema"].startswith("not checked: no schema")
    assert "parsed: no Kubernetes object" in result["files"].set_index("file").loc["app-settings.yml", "status"]


def test_the_projects_own_deploy_manifests_are_clean():
    run = diagnose_runbook("config-syntax", source="none", path=str(ROOT / "deploy"))
    assert run.findings == [] and set(run.checks_table()["status"]) == {"OK"}
    assert len(run.verdicts()) >= 6 and set(run.verdicts()["verdict"]) == {"NO CAUSE FOUND"}


@pytest.mark.parametrize("name,fixed", [
    ("tab-indentation.yaml", ("\t", "  ")),
    ("bad-indentation.yaml", ("   selector", "  selector")),
    ("duplicate-key.yaml", ("    - port: 80\n", "    - name: http\n")),
    ("contianers.yaml", ("contianers", "containers")),
    ("replicas-two.yaml", ('"two"', "2")),
    ("no-name.yaml", ("  namespace: shop", "  name: settings")),
    ("trailing-comma.json", ('"2",', '"2"')),
    ("second-has-no-kind.yaml", ("apiVersion: v1\nmetadata:", "apiVersion: v1\nkind: Secret\nmetadata:")),
    ("no-containers.yaml", ("  restartPolicy: Never\n", "  containers: [{name: a, image: a}]\n")),
    ("removed-api.yaml", ("policy/v1beta1", "policy/v1")),
])
def test_the_same_manifest_fixed_gives_no_code(tmp_path, name, fixed):
    text = CORPUS[name].replace(*fixed)
    assert text != CORPUS[name]
    result = examine(write(tmp_path, {name: text}))
    assert result["problems"].empty, result["problems"][["problem", "line", "message"]].to_string()


def test_the_healthy_run_says_ok_for_every_code_but_partial_for_a_custom_resource(tmp_path):
    run = diagnose_runbook("config-syntax", source="none", path=str(HEALTHY), kubernetes_version="1.30")
    assert run.findings == []
    status = dict(zip(run.checks_table()["code"], run.checks_table()["status"]))
    assert status == {"CFG-001": "OK", "CFG-002": "PARTIAL", "CFG-003": "OK"}
    assert any(u.what == "schema of cert-manager.io/v1 Certificate" for u in run.unavailable)


# ------------------------------------------------------------ the scenario

def test_the_scenario_shows_each_code_offline():
    run = diagnose_runbook("config-syntax")
    assert run._configsyntax["kubernetes_version"] == "1.30"  # the scenario cluster's v1.30.4
    details = sorted(f.detail for f in run.findings)
    assert details == [
        "shop/api.yaml:20:30: spec.template.spec.containers[0].ports[0].containerPort is string '8080', "
        "must be integer (Deployment shop/api)",
        "shop/api.yaml:7:13: spec.replicas is string 'two', must be integer (Deployment shop/api)",
        "shop/ingress.yaml:13:13: duplicate key 'pathType' in the same mapping (Ingress shop/shop)",
        "shop/report-cronjob.yaml:1:13: apiVersion batch/v1beta1 does not serve CronJob in Kubernetes 1.30 "
        "(served as batch/v1) — did you mean 'batch/v1'? (CronJob shop/nightly-report)",
        "shop/settings.yaml:3:1: no metadata.name (ConfigMap shop/?)",
        "shop/web.yaml:16:7: unknown field 'contianers' in spec.template.spec — did you mean 'containers'? "
        "(Deployment shop/web)",
        "shop/worker.yaml:21:1: tab character used for indentation",
    ]


# ------------------------------------------------------------ parameters and versions

def test_kubernetes_version_from_the_parameter_the_source_or_the_pinned_default():
    assert configsyntax.choose_version("1.28", "v1.30.4")[0] == "1.28"
    assert configsyntax.choose_version("", "v1.30.4-gke.1200")[0] == "1.30"
    assert configsyntax.choose_version("", "")[0] == configsyntax.DEFAULT_KUBERNETES_VERSION
    old, note = configsyntax.choose_version("", "v1.21.0")
    assert old == kubeschema.shipped_versions()[0] and "no schemas for Kubernetes 1.21" in note
    assert configsyntax.kubernetes_version("kubernetes_version", "v1.30.4") == "1.30"
    assert configsyntax.kubernetes_version("kubernetes_version", 1.3) == "1.30"  # `-p kubernetes_version 1.30`
    for bad in ("1.2x", "latest", "1.19"):
        with pytest.raises(ParameterError, match="kubernetes_version"):
            configsyntax.kubernetes_version("kubernetes_version", bad)


def test_an_api_removed_in_a_version_is_found_there_and_not_before(tmp_path):
    folder = write(tmp_path, {"flow.yaml": "apiVersion: flowcontrol.apiserver.k8s.io/v1beta2\nkind: FlowSchema\n"
                                           "metadata:\n  name: f\nspec:\n  priorityLevelConfiguration:\n"
                                           "    name: global-default\n"})
    assert examine(folder, "1.28")["problems"].empty  # v1beta2 served until 1.28
    removed = examine(folder, "1.29")["problems"]
    assert list(removed["problem"]) == ["api-version"] and (removed.iloc[0]["line"], removed.iloc[0]["column"]) == (1, 13)


def test_not_strict_makes_unknown_fields_warnings(corpus):
    files, _ = manifests.read_tree(corpus / "contianers.yaml")
    loose = configsyntax.examine(files, kubeschema.schemas("1.30"), strict=False)["problems"]
    assert list(loose["severity"]) == ["warning"]
    assert configsyntax.strict_flag("strict", "no") is False
    with pytest.raises(ParameterError):
        configsyntax.strict_flag("strict", "maybe")


def test_path_parameter_must_name_an_existing_file_or_folder(tmp_path):
    with pytest.raises(ParameterError, match="no such file or folder"):
        configsyntax.manifest_path("path", str(tmp_path / "missing"))
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * (manifests.MAX_FILE_BYTES // 5 + 1))
    with pytest.raises(ParameterError, match="larger than"):
        configsyntax.manifest_path("path", str(big))
    with pytest.raises(ParameterError, match="path"):
        diagnose_runbook("config-syntax", source="none", path=str(tmp_path / "missing"))


def test_relative_path_resolves_against_the_callers_folder(tmp_path, monkeypatch):
    write(tmp_path / "k8s", {"cm.yaml": CORPUS["no-name.yaml"]})
    monkeypatch.chdir(tmp_path)
    run = diagnose_runbook("config-syntax", source="none", path="k8s")
    assert run.parameters["path"] == str(tmp_path / "k8s") and [f.code for f in run.findings] == ["CFG-003"]


def test_no_path_and_no_manifests_in_the_source_is_not_checked():
    run = diagnose_runbook("config-syntax", source="none")
    assert run.findings == [] and set(run.checks_table()["status"]) == {"NOT CHECKED"}
    assert [u.what for u in run.unavailable] == ["manifests"]
    assert str(configsyntax.excerpts(run._configsyntax, "CFG-001")).startswith("not checked")


# ------------------------------------------------------------ bad input

def test_files_that_cannot_be_checked_are_named_and_skipped(tmp_path):
    chart = tmp_path / "chart"
    write(chart, {"Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n"})
    write(chart / "templates", {"deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                               "  name: {{ .Release.Name }}\n"})
    write(tmp_path, {"binary.yaml": "", "template.yaml": "replicas: {{ .Values.replicas }}\n  x: [\n",
                     "bomb.yaml": "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
                         f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg")),
                     "empty.yaml": "", "comments.yaml": "# nothing here\n"})
    (tmp_path / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (tmp_path / "huge.json").write_bytes(b"[" + b"1," * (manifests.MAX_FILE_BYTES // 2) + b"1]")
    run = diagnose_runbook("config-syntax", source="none", path=str(tmp_path))
    skipped = {u.what: u.reason for u in run.unavailable}
    assert skipped["file binary.yaml"].startswith("binary")
    assert "template" in skipped["file template.yaml"]
    assert "Helm chart template" in skipped["file chart/templates/deploy.yaml"]
    assert "more than 200000 nodes" in skipped["file bomb.yaml"]
    assert skipped["file huge.json"].startswith(f"larger than {manifests.MAX_FILE_BYTES} bytes")
    assert run.findings == []  # Chart.yaml, the empty and the comment-only file are fine
    assert set(run.checks_table()["status"]) == {"PARTIAL"}


def test_a_secrets_values_never_show_in_an_excerpt(tmp_path):
    secret = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: c2VjcmV0\n"
              "stringData:\n  token: hunter2-plain\n  retries: 3\n")
    problems = examine(write(tmp_path, {"secret.yaml": secret}))["problems"]
    assert list(problems["field"]) == ["stringData.retries"]  # an integer where a string must be
    shown = manifests.excerpt(problems.iloc[0].to_dict())
    assert "hunter2" not in shown and "<masked>" in shown


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400), st.sampled_from(["f.yaml", "f.json", "f.yml"]))
def test_fuzz_arbitrary_text_never_raises(text, name):
    parsed = manifests.parse(name, text)
    result = configsyntax.examine([manifests.ManifestFile(name, Path(name), len(text), text=text)],
                                  kubeschema.schemas("1.30"))
    assert set(result["problems"]["code"]) <= {"CFG-001", "CFG-002", "CFG-003"}
    for row in parsed.problems:
        assert row["line"] >= 1 and row["column"] >= 1


_FRAGMENT = st.sampled_from(["apiVersion: v1\n", "kind: Pod\n", "metadata:\n", "  name: x\n", "spec:\n",
                             "  containers:\n", "  - name: a\n", "    image: b\n", "\t", "---\n", "  ", ": ",
                             "- ", "[", "]", "{", "}", '"', "'", "&a ", "*a ", "<<: *a\n", "#", "\n", "replicas: two\n",
                             "on: yes\n", "2024-01-01\n", "!!binary aGk=\n", "? complex\n"])


_JSON_FRAGMENT = st.sampled_from(['{', '}', '[', ']', ',', ':', '"apiVersion"', '"v1"', '"kind"', '"Pod"', '"metadata"',
                                  '"name"', '"spec"', '"replicas"', '"two"', '2', 'null', 'true', '\t', '\n', ' ',
                                  '"a"', '"\\u00e9"', '1e400', '-0'])


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.tuples(st.just("f.yaml"), st.lists(_FRAGMENT, max_size=40).map("".join)),
                 st.tuples(st.just("f.json"), st.lists(_JSON_FRAGMENT, max_size=40).map("".join))))
def test_fuzz_manifest_shaped_text_never_raises(case):
    name, text = case
    result = configsyntax.examine([manifests.ManifestFile(name, Path(name), len(text), text=text)],
                                  kubeschema.schemas("1.30"))
    assert set(result["problems"]["code"]) <= {"CFG-001", "CFG-002", "CFG-003"}
    assert configsyntax.diagnose(**result) is not None


# ------------------------------------------------------------ offline, bounded

def test_the_schemas_ship_in_the_package_and_load_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    shipped = kubeschema.shipped_versions()
    assert "1.30" in shipped and configsyntax.DEFAULT_KUBERNETES_VERSION in shipped
    fresh = kubeschema.Schemas("1.30")  # read from the installed wheel's files, not the cache
    assert fresh.lookup("apps/v1", "Deployment") == "io.k8s.api.apps.v1.Deployment"


def test_a_large_folder_is_read_linearly_and_reported_bounded(tmp_path):
    pod = CORPUS["contianers.yaml"]
    write(tmp_path, {f"pod-{i:04d}.yaml": pod.replace("name: web\n", f"name: web-{i}\n", 1) for i in range(400)})
    started = time.monotonic()
    result = examine(tmp_path)
    elapsed = time.monotonic() - started
    assert len(result["objects"]) == 400 and len(result["problems"]) == 400
    findings = configsyntax.diagnose(**result)
    assert len(findings) == configsyntax.FINDINGS_PER_CODE + 1
    assert findings[-1].detail.startswith("380 more CFG-002 problem(s) in 380 file(s)")
    subjects = configsyntax.subjects(**result)
    assert len(subjects) == 300 and subjects[-1].startswith("101 more objects/files")
    assert elapsed < 30, f"{elapsed:.1f}s for 400 files"


def test_read_tree_caps_the_number_of_files(tmp_path):
    write(tmp_path, {f"cm-{i}.yaml": "a: 1\n" for i in range(5)})
    write(tmp_path / ".git", {"x.yaml": "a: ["})
    files, left = manifests.read_tree(tmp_path, max_files=3)
    assert [f.file for f in files] == ["cm-0.yaml", "cm-1.yaml", "cm-2.yaml"] and left == 2


def test_the_notebook_view_shows_each_excerpt_readably_and_redacted(tmp_path):
    """(The CLI run of the scenario, its report size and its notebook: test_run_cli / test_report_html.)"""
    token = "ghp_" + "a1B2" * 9
    leaky = CORPUS["contianers.yaml"] + "  initContainers:\n    - name: init\n      image: init:1\n" \
        f"      args: --token={token}\n"  # a string where a list must be: the excerpt shows this line
    result = {**examine(write(tmp_path, {"contianers.yaml": leaky})), "root": str(tmp_path)}
    page = configsyntax.excerpts(result, "CFG-002")._repr_html_()
    assert "6 |   contianers:" in page and "  |   ^ unknown field &#x27;contianers&#x27; in spec" in page
    assert "did you mean &#x27;containers&#x27;?" in page and "<pre" in page
    assert "12 |       args: --token=" in page and token not in page  # redacted (k8srun.redact)
    assert str(configsyntax.excerpts(result, "CFG-001")) == "no problem found"
