"""Redaction (k8srun.redact): every rule has a text that produces it and a healthy neighbour it must keep.

The corpus forms of ``tests/secrets_corpus.py`` are redacted one by one here;
``tests/test_secrets_corpus.py`` plants them in a bundle and follows them
through every sink. Time: ``benchmarks/redact.py`` measures linearity; the
test below only checks, in a subprocess under ``timeout``, that a 10 MB line
and 400 KB lines of near-matches finish.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8srun.errors import ParameterError
from k8srun.redact import (ENV_DISABLE, ENV_PATTERNS, REDACTED, Redactor, _check_bounded, is_secret_name,
                           redact_display, redact_html, redact_notebook, redact_object, redact_text,
                           redaction_counts, redaction_enabled, redaction_status)
from secrets_corpus import ORDINARY, SECRETS

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"
ROOT = Path(__file__).parent.parent
BODY = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7o4qne60TB3wo",
        "pZDmvY5Hr9VQnAjfMXgqDJmmgjJ6OBGZkFqjiOEwyWGgSj0LBhESE6HsXHXvUoFz"]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


#: rule name -> (a text it must redact, a healthy neighbour it must keep byte for byte)
RULE_CASES = {
    "private key block": ("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(BODY) + "\n-----END RSA PRIVATE KEY-----",
                          "-----BEGIN CERTIFICATE-----\n" + "\n".join(BODY) + "\n-----END CERTIFICATE-----"),
    "private key block cut short": ("x\n-----BEGIN PRIVATE KEY-----\n" + "\n".join(BODY) + "\n",
                                    "--tls-private-key-file /etc/kubernetes/pki/apiserver.key"),
    "private key body at the start": ("\n".join(BODY) + "\nserver started\n",
                                      "\n".join(BODY) + "\n-----END CERTIFICATE-----\n"),
    "private key body (BEGIN cut off)": ("tail\n" + "\n".join(BODY) + "\nAbCd==\n-----END PRIVATE KEY-----\nafter",
                                         "log\n" + "\n".join(BODY) + "\n-----END CERTIFICATE-----\n"),
    "AWS Access Key": ("key AKIAIOSFODNN7EXAMPLE used", "AKIA is the prefix of an access key id"),
    "GitHub Token": ("ghp_" + "a1B2" * 9, "ghp_short is not a token"),
    "GitLab Token": ("glpat-" + "x1Y2z3" * 4, "glpat- prefix"),
    "Slack Token": ("xoxb-1234-5678-abcdefABCDEF", "xoxb- is a bot token prefix"),
    "Stripe Access Key": ("sk_live_" + "a1B2c3D4" * 5, "sk_test_ keys and sk_live_ prefix"),
    "SendGrid API Key": ("SG." + "a" * 22 + "." + "b" * 43, "SG.wide settings"),
    "PyPI Token": ("pypi-AgEIcHlwaS5vcmc" + "x" * 70, "pypi-mirror"),
    "OpenAI Token": ("sk-" + "a" * 20 + "T3BlbkFJ" + "b" * 20, "sk-learn"),
    "Square OAuth Secret": ("sq0csp-" + "a" * 43, "sq0csp-short"),
    "Azure Storage Account access key": ("AccountKey=" + "a" * 86 + "==;", "AccountKeyName=primary"),
    "GitHub fine-grained token": ("github_pat_" + "A1b2" * 20, "github_pat_short"),
    "Google API key": ("key AIza" + "a1B2c3D4e5" * 4, "AIza is a prefix"),
    "JSON Web Token": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9 alone"),
    "password in URL": ("postgres://app:hunter2@db:5432/shop", "https://example.com:8443/docs?user=app"),
    "password in DSN": ("app:hunter2@tcp(db:3306)/shop", "app@tcp(db:3306)/shop"),
    "Azure SAS signature": ("https://a.blob.core.windows.net/c?sv=2022&sig=abc%3D&se=1", "config?signal=2&design=3"),
    "SQL password": ("ALTER USER app WITH PASSWORD 'hunter2';", "password reset requested for user 'bob'"),
    "flag value": ("app --db-password hunter2 --port 5432", "app --token-ttl 5m --port 5432"),
    "curl -u user:password": ("curl -u admin:hunter2 https://x", "docker run -u 1000:1000 busybox"),
    "mysql -p": ("mysql -h db -u root -phunter2 shop", "mysql -h db -u root -P 3306 shop"),
    "redis-cli -a": ("redis-cli -h cache -a hunter2 ping", "redis-cli -h cache --scan"),
    "registry login -p": ("docker login -u ci -p hunter2 reg.io", "docker run -p 8080:80 nginx"),
    "sshpass -p": ("sshpass -p hunter2 ssh ops@bastion", "ssh -p 2222 ops@bastion"),
    "openssl pass:": ("openssl rsa -in k -passin pass:hunter2", "openssl rsa -in k -passin env:KEY_PASS"),
    "flag value list": ('["--token", "hunter2"]', '["--token-ttl", "5m"]'),
    "quoted key": ('{"password": "hunter2"}', '{"password_min_length": 8, "secretName": "db"}'),
    "escaped quoted key": ('{\\"token\\":\\"hunter2\\"}', '{\\"token_ttl\\":\\"5m\\"}'),
    "name/value pair": ('{"name": "DB_PASSWORD", "value": "hunter2"}', '{"name": "TOKEN_TTL", "value": "5m"}'),
    "docker config auth": ('{"auths": {"r": {"auth": "Y2k6aHVudGVyMg=="}}}', '{"auth": "none"}'),
    "assignment": ("DB_PASSWORD=hunter2 user=app", "token_ttl=5m password_min_length=8 bypass=true"),
    "YAML key": ("  password: hunter2", "  secretName: db-credentials"),
    "key: value in text": ("login with password: Tr0ub4dor", "error validating token: token expired"),
    "HTTP header": ("> Cookie: session=hunter2; theme=dark", "X-Request-Id: 42"),
    "bearer token": ("retrying with Bearer abcDEF123456", "the bearer token expired"),
    "TLS session secret": ("    Resumption PSK: 9F2A0B77C1", "    PSK identity hint: None"),
    "base64 of a secret": (_b64("password=hunter2 user=app"), _b64("hello from the cart service")),
}


def test_every_rule_has_a_producing_case_and_a_healthy_neighbour():
    names = {rule.name for rule in Redactor().rules} | {"private key body (BEGIN cut off)", "base64 of a secret"}
    assert names == set(RULE_CASES)


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_rule_redacts_its_form_and_keeps_its_neighbour(rule):
    producing, healthy = RULE_CASES[rule]
    redactor = Redactor()
    cleaned = redactor.redact_text(producing)
    assert REDACTED in cleaned and redactor.counts[rule] >= 1, (cleaned, dict(redactor.counts))
    assert "hunter2" not in cleaned and "aHVudGVy" not in cleaned
    assert redactor.redact_text(healthy) == healthy


@pytest.mark.parametrize("secret", SECRETS, ids=[s.form for s in SECRETS])
def test_every_corpus_form_is_redacted(secret):
    cleaned = redact_text(secret.text)
    assert secret.marker not in cleaned and secret.value not in cleaned, cleaned


@pytest.mark.parametrize("ordinary", ORDINARY)
def test_ordinary_text_is_kept(ordinary):
    assert redact_text(ordinary) == ordinary


def test_redacted_values_keep_their_quotes_and_what_follows():
    assert redact_text("GET /cb?token=abc&state=xyz") == "GET /cb?token=[REDACTED]&state=xyz"
    assert redact_text('{"api_token": "abc", "user": "app"}') == '{"api_token": "[REDACTED]", "user": "app"}'
    assert redact_text("dsn postgres://app:p@ss@db:5432/shop") == "dsn postgres://app:[REDACTED]@db:5432/shop"
    assert redact_text("x\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nnext line\n") == "x\n[REDACTED]\nnext line\n"
    assert redact_text(redact_text("password=hunter2")) == "password=[REDACTED]"


def test_openssl_session_secrets_are_redacted_and_certificates_kept():
    raw = (FIXTURES / "openssl-s-client--valid.out").read_text()
    cleaned = redact_text(raw)
    psk_lines = [line for line in cleaned.splitlines() if "Resumption PSK:" in line]
    assert psk_lines and all(line.strip() == f"Resumption PSK: {REDACTED}" for line in psk_lines)
    assert cleaned.count("-----BEGIN CERTIFICATE-----") == raw.count("-----BEGIN CERTIFICATE-----") > 0
    assert "PSK identity: None" in cleaned


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.out")))
def test_recorded_tool_outputs_lose_nothing_but_session_secrets(fixture):
    """Real outputs of iptables-save, ip, sysctl, ping, dig, fio...: redaction must not eat evidence."""
    raw = (FIXTURES / fixture).read_text(errors="surrogateescape")
    cleaned = redact_text(raw)
    assert cleaned.replace(REDACTED, "") == raw or "openssl" in fixture, \
        [line for line in cleaned.splitlines() if REDACTED in line][:3]


def test_names_of_secrets_and_names_that_merely_mention_one():
    assert all(map(is_secret_name, ["DB_PASSWORD", "api-token", "apiKey", "X-Auth-Token", "client_secret",
                                    "example.com/db-password", "MYSQL_PWD", "REDIS_PASS", "AccountKey"]))
    assert not any(map(is_secret_name, ["TOKEN_TTL", "secretName", "DB_PASSWORD_FILE", "bypass", "token_type",
                                        "secretKeyRef", "imagePullSecrets", "password_min_length", "max_tokens"]))


# ------------------------------------------------------------------ objects

def _pod() -> dict:
    container = {
        "name": "api", "image": "shop/api:1.2", "command": ["mysql"],
        "args": ["-u", "root", "-p", "hunter2", "--token", "tok3n", "--password=pw1", "--token-ttl", "5m"],
        "env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "DATABASE_URL", "value": "postgres://app:dsnpw@db/shop"},
                {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
                {"name": "TOKEN_TTL", "value": "5m"},
                {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "token"}}}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "httpHeaders": [
            {"name": "X-Auth-Token", "value": "hdrpw"}, {"name": "Accept", "value": "application/json"}]}},
        "readinessProbe": {"exec": {"command": ["redis-cli", "-a", "redispw", "ping"]}},
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "curl -u admin:hookpw http://x/drain"]}}},
    }
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-1", "namespace": "shop", "labels": {"app": "api", "vault-token": "lbl9pw"},
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"env": "hunter2"}',
                                         "example.com/api-token": "annpw", "team": "a"}},
            "spec": {"containers": [container], "volumes": [{"name": "creds", "secret": {"secretName": "db-creds"}}]},
            "status": {"containerStatuses": [{"name": "api", "state": {"waiting": {
                "reason": "CrashLoopBackOff", "message": "connect postgres://app:msgpw@db failed"}}}]}}


def test_redact_object_covers_env_argv_probes_hooks_labels_annotations_and_statuses():
    pod = _pod()
    cleaned = redact_object(pod)
    text = json.dumps(cleaned)
    for secret in ("hunter2", "tok3n", "pw1", "dsnpw", "AKIAIOSFODNN7EXAMPLE", "hdrpw", "redispw", "hookpw",
                   "lbl9pw", "annpw", "msgpw", "last-applied"):
        assert secret not in text, secret
    container = cleaned["spec"]["containers"][0]
    assert container["args"] == ["-u", "root", "-p", REDACTED, "--token", REDACTED, f"--password={REDACTED}",
                                 "--token-ttl", "5m"]
    assert container["env"][1] == {"name": "LOG_LEVEL", "value": "debug"}
    assert container["env"][4] == {"name": "TOKEN_TTL", "value": "5m"}
    assert container["env"][5] == pod["spec"]["containers"][0]["env"][5]  # a Secret reference is evidence
    assert container["livenessProbe"]["httpGet"]["httpHeaders"][1]["value"] == "application/json"
    assert cleaned["spec"]["volumes"] == pod["spec"]["volumes"]  # Secret names are kept
    assert cleaned["metadata"]["annotations"]["team"] == "a" and cleaned["metadata"]["labels"]["app"] == "api"
    assert list(container) == list(pod["spec"]["containers"][0])  # same keys, same order
    assert pod["spec"]["containers"][0]["env"][0]["value"] == "hunter2"  # a copy


def test_redact_object_of_cluster_scoped_kinds_and_healthy_objects():
    storage_class = {"metadata": {"name": "smb"}, "provisioner": "smb.csi.k8s.io",
                     "parameters": {"adminPassword": "scpw", "csi.storage.k8s.io/provisioner-secret-name": "smb-creds"},
                     "mountOptions": ["vers=3.0", "password=mntpw"]}
    cleaned = redact_object(storage_class)
    assert "scpw" not in json.dumps(cleaned) and "mntpw" not in json.dumps(cleaned)
    assert cleaned["parameters"]["csi.storage.k8s.io/provisioner-secret-name"] == "smb-creds"
    healthy = json.loads((ROOT / "k8srun" / "scenarios" / "pod-crashloop" / "default" / "pods.json").read_text())
    assert redact_object(healthy) == healthy


def test_built_in_scenarios_pass_through_unchanged():
    """Recorded clusters hold no secrets: not one of their strings may change."""
    changed = []
    for path in sorted((ROOT / "k8srun" / "scenarios").rglob("*")):
        if path.suffix in (".json", ".txt") and path.is_file():
            text = path.read_text(errors="surrogateescape")
            if redact_text(text) != text:
                changed.append(str(path.relative_to(ROOT)))
    assert not changed


# ------------------------------------------------------------------ sinks

def test_display_bundles_are_redacted_and_html_stays_escaped():
    secret = "q&zz<w>rd9"
    escaped = secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    bundle = {"text/html": f"<pre>connecting with password=&quot;{escaped}&quot; as app</pre>"
                           f"<a href='https://u:{escaped}@h/'>link</a><td>X-Auth-Token: {escaped}</td>",
              "text/plain": f'password="{secret}"',
              "application/vnd.k8srun.findings+json": [{"detail": f"X-Auth-Token: {secret}",
                                                        "evidence": {"rows": [{"dsn": f"mysql://a:{secret}@db"}]}}]}
    cleaned = redact_display(bundle)
    dumped = json.dumps(cleaned)
    assert "zz" not in dumped and "rd9" not in dumped, dumped
    assert cleaned["text/html"].startswith('<pre>connecting with password="[REDACTED]" as app</pre>')
    healthy = "<table><tr><td>token_ttl=5m &amp; more &lt;ok&gt;</td></tr></table>"
    assert redact_html(healthy) == healthy


def test_notebook_streams_tracebacks_and_injected_parameters_are_redacted():
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('source = "postgres://app:nbpw@db/x"')
    parameters.metadata["tags"] = ["injected-parameters"]
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="DB_PASSWORD=nbpw\n"),
                    nbformat.v4.new_output("error", ename="ValueError", evalue="bad token=nbpw",
                                           traceback=["ValueError: bad token=nbpw"]),
                    nbformat.v4.new_output("display_data", data={"text/plain": "password=nbpw"})]
    notebook.cells = [parameters, cell]
    assert "nbpw" not in nbformat.writes(redact_notebook(notebook))


# ------------------------------------------------------------------ switch, counts, patterns

def test_redaction_is_on_by_default_and_off_only_when_asked(monkeypatch):
    monkeypatch.delenv(ENV_DISABLE, raising=False)
    assert redaction_enabled() and redaction_status().startswith("on")
    before = redaction_counts().get("assignment", 0)
    assert redact_text("password=hunter2") == "password=[REDACTED]"
    assert redaction_counts()["assignment"] == before + 1
    monkeypatch.setenv(ENV_DISABLE, "1")
    assert not redaction_enabled() and redaction_status().startswith("OFF")
    assert redact_text("password=hunter2") == "password=hunter2"
    assert redact_object({"password": "hunter2"}) == {"password": "hunter2"}


def test_user_patterns_file_adds_counted_rules(tmp_path, monkeypatch):
    patterns = tmp_path / "redact.yaml"
    patterns.write_text("patterns:\n  - name: acme key\n    regex: 'acme_[a-z0-9]{8,32}'\n"
                        "  - name: session id\n    regex: 'sess=(?P<secret>[0-9a-f]{16,64})'\n")
    monkeypatch.setenv(ENV_PATTERNS, str(patterns))
    assert redact_text("key acme_0123abcd sess=0123456789abcdef0 ok") == f"key {REDACTED} sess={REDACTED} ok"
    assert redact_text(_b64("acme_0123abcdef")) == REDACTED  # base64 of a user pattern too
    assert redaction_counts()["acme key"] >= 1 and redaction_counts()["session id"] == 1
    assert str(patterns) in redaction_status()


@pytest.mark.parametrize("content, reason", [
    ("patterns:\n  - name: any\n    regex: 'acme_.*'\n", "not linear-time: unbounded repeat"),
    ("patterns:\n  - name: nested\n    regex: '(?:a{1,1000}){1,1000}'\n", "steps per position"),
    ("patterns:\n  - name: broken\n    regex: 'acme_[a-z'\n", "not a valid regex"),
    ("patterns:\n  - regex: 'acme'\n", "needs a string 'name'"),
    ("patterns:\n  - {name: a, regex: x}\n  - {name: a, regex: y}\n", "used twice"),
    ("- acme\n", "a mapping with a list 'patterns'"),
])
def test_a_bad_patterns_file_is_a_clear_parameter_error(tmp_path, monkeypatch, content, reason):
    patterns = tmp_path / "redact.yaml"
    patterns.write_text(content)
    monkeypatch.setenv(ENV_PATTERNS, str(patterns))
    with pytest.raises(ParameterError, match=reason) as raised:
        redact_text("x")
    assert raised.value.param == ENV_PATTERNS


def test_every_k8srun_rule_is_bounded():
    """Our regexes have no unbounded repeat (detect-secrets' are measured by benchmarks/redact.py)."""
    ours = [rule for rule in Redactor().rules if rule.origin == "k8srun"]
    assert ours and all(_check_bounded(rule.pattern.pattern, 2 ** 20) is None for rule in ours), \
        [(r.name, _check_bounded(r.pattern.pattern, 2 ** 20)) for r in ours if _check_bounded(r.pattern.pattern, 2 ** 20)]


def test_a_10_mb_line_and_near_match_lines_finish():
    """No timing assertion (see benchmarks/redact.py for ratios): only that pathological lines end."""
    script = ("import sys; sys.path.insert(0, 'benchmarks'); import redact as bench\n"
              "from k8srun.redact import redact_text\n"
              "redact_text(bench._line(bench.NEAR_MISSES['ordinary log line'], 10_000_000))\n"
              "redact_text(bench._line('QUJD', 10_000_000))\n"
              "for fragment in bench.NEAR_MISSES.values():\n"
              "    redact_text(bench._line(fragment, 400_000))\n")
    done = subprocess.run(["timeout", "240", sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def _pieces() -> list[str]:
    """Fragments that start, complete or almost complete matches of every rule, and the batch separator."""
    pem = ["-----BEGIN RSA PRIVATE KEY-----\n", "MIIEowIBAAKCAQEAx" * 4 + "\n", "-----END RSA PRIVATE KEY-----"]
    return [s.text for s in SECRETS] + ORDINARY + pem + ["\n", "\n\x00\n", " ", "=", ":", '"', "İ", "token",
                                                         "secret", "value", "--password"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_pieces()), max_size=5).map("".join), min_size=1, max_size=8))
def test_a_batch_of_strings_is_redacted_as_each_string_alone(texts):
    """Strings are redacted together (each rule over the strings holding its hints, joined): the result and
    the counts are those of redacting each string alone, whatever a string holds (the separator itself, a
    PEM block split across two strings, a character whose lowercase is longer)."""
    together, alone = Redactor(), Redactor()
    assert together.redact_many(texts) == [alone.redact_text(t) for t in texts]
    assert together.counts == alone.counts
