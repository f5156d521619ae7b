"""pod-crashloop checks (CRASH-001..007) on real-format objects and on the built-in scenarios."""

from __future__ import annotations

from functools import partial

import pytest
import yaml

import factories
from factories import container, container_status, running, terminated, waiting
from k8srun import frames
from k8srun.checks import crashloop
from k8srun.model import Severity
from k8srun.sources import scenarios_dir
from k8srun.session import diagnose_runbook

LIVENESS = {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 10,
            "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
READINESS = {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 5,
             "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
LIMIT = {"memory": "128Mi"}

# every object of these tests lives in namespace payments
pod = partial(factories.pod, namespace="payments")
event = partial(factories.event, namespace="payments")
backoff = partial(factories.backoff, namespace="payments")


def run(pods, events=(), previous=None, current=None, endpoints=None, pod_name=""):
    return crashloop.diagnose(pods=frames.pods_frame(pods), containers=frames.containers_frame(pods),
                              events=frames.events_frame(events), previous_logs=previous or {},
                              current_logs=current or {}, endpoints=endpoints, pod=pod_name)


def codes(findings):
    return sorted(f.code for f in findings)


HEALTHY = pod("api-7c9f-q8x2z", containers=[container("api", liveness=LIVENESS, readiness=READINESS)])


def test_healthy_pod_gives_nothing_and_is_not_of_interest():
    assert run([HEALTHY]) == []
    pods = frames.pods_frame([HEALTHY])
    assert crashloop.pods_of_interest(pods).empty


def test_healthy_pod_with_old_probe_noise_gives_nothing():
    """A ready, never-restarted container with a past readiness blip at start-up is fine."""
    noise = [event("api-7c9f-q8x2z", "Unhealthy", "Readiness probe failed: Get \"http://10.244.1.7:8080/ready\": "
                   "dial tcp 10.244.1.7:8080: connect: connection refused", count=1)]
    assert run([HEALTHY], noise) == []


# ---------------------------------------------------------------- CRASH-001

def test_oom_killed_names_the_memory_limit():
    oom = pod("api-7c9f-q8x2z", containers=[container("api", limits=LIMIT)],
              statuses=[container_status("api", backoff("api", "api-7c9f-q8x2z"), last=terminated(137, "OOMKilled"),
                                         restarts=14)])
    found = run([oom], [event("api-7c9f-q8x2z", "BackOff", "Back-off restarting failed container api in pod "
                              "api-7c9f-q8x2z_payments(3c1e)", count=60)],
                previous={("api-7c9f-q8x2z", "api"): "loading ledger cache\nallocated 120MiB\n"})
    assert codes(found) == ["CRASH-001"]  # no CRASH-002 for the same exit
    assert found[0].detail == ("container api of payments/api-7c9f-q8x2z OOMKilled (exit 137) with memory "
                               "limit 128Mi; 14 restarts")
    assert found[0].evidence["container_status"]["last_reason"] == "OOMKilled"
    assert found[0].evidence["previous_log_tail"][-1] == "allocated 120MiB"


# ---------------------------------------------------------------- CRASH-002

PYTHON_TRACE = "\n".join([f"INFO worker {i} booting" for i in range(30)] + [
    "Traceback (most recent call last):", '  File "/app/main.py", line 12, in <module>',
    "    db = connect(os.environ[\"DATABASE_URL\"])", "KeyError: 'DATABASE_URL'"]) + "\n"


def test_nonzero_exit_with_log_tail():
    crash = pod("api-7c9f-q8x2z", containers=("api",),
                statuses=[container_status("api", backoff("api", "api-7c9f-q8x2z"), last=terminated(1), restarts=6)])
    found = run([crash], previous={("api-7c9f-q8x2z", "api"): PYTHON_TRACE})
    assert codes(found) == ["CRASH-002"]
    assert "exits with code 1 (Error: application error); 6 restarts" in found[0].detail
    assert "KeyError: 'DATABASE_URL'" in found[0].detail
    tail = found[0].evidence["previous_log_tail"]
    assert len(tail) == 20 and tail[-1] == "KeyError: 'DATABASE_URL'"


@pytest.mark.parametrize("code, reason, message, words", [
    (127, "Error", None, "command not found"),
    (126, "Error", None, "command not executable"),
    (128, "StartError", 'failed to create containerd task: failed to create shim task: OCI runtime create failed: '
     'runc create failed: unable to start container process: exec: "/app/serve": stat /app/serve: no such file '
     'or directory: unknown', 'exec: "/app/serve"'),
])
def test_exit_codes_are_explained(code, reason, message, words):
    crash = pod("api-7c9f-q8x2z", containers=("api",),
                statuses=[container_status("api", backoff("api", "api-7c9f-q8x2z"),
                                           last=terminated(code, reason, message=message),
                        restarts=3)])
    found = run([crash], previous={("api-7c9f-q8x2z", "api"): "/bin/sh: 1: gunicorn: not found\n"})
    assert codes(found) == ["CRASH-002"] and words in found[0].detail and f"code {code}" in found[0].detail


def test_blank_termination_message_falls_back_to_the_log():
    """An app that wrote only a newline to /dev/termination-log."""
    crash = pod("api-7c9f-q8x2z", containers=("api",),
                statuses=[container_status("api", backoff("api", "api-7c9f-q8x2z"), last=terminated(3, message="\n"),
                                           restarts=2)])
    found = run([crash], previous={("api-7c9f-q8x2z", "api"): "fatal: cannot bind :8080\n"})
    assert codes(found) == ["CRASH-002"] and "last log line: fatal: cannot bind :8080" in found[0].detail


def test_clean_exit_is_not_a_failure():
    done = pod("api-7c9f-q8x2z", containers=("api",),
               statuses=[container_status("api", running(), last=terminated(0, "Completed"), restarts=1)])
    assert run([done]) == []


# ------------------------------------------------------- CRASH-003 / CRASH-007

def liveness_events(pod_name, container="api", count=30):
    return [event(pod_name, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", count=count),
            event(pod_name, "Killing", f"Container {container} failed liveness probe, will be restarted",
                  type_="Normal", count=count // 3)]


def test_liveness_kill_after_a_long_run_is_crash_003():
    hung = pod("api-7c9f-q8x2z", containers=[container("api", liveness=LIVENESS)],
               statuses=[container_status("api", running(), ready=False, restarts=9, last=terminated(
                   137, started="2024-05-14T08:00:00Z", finished="2024-05-14T09:40:00Z"))])
    found = run([hung], liveness_events("api-7c9f-q8x2z"))
    assert codes(found) == ["CRASH-003"]  # exit 137 of a kubelet kill is not CRASH-002
    assert "liveness probe failed 30 times (HTTP probe failed with statuscode: 500)" in found[0].detail
    assert "9 restarts" in found[0].detail
    assert {e["reason"] for e in found[0].evidence["events"]} == {"Unhealthy", "Killing"}


def test_liveness_kill_at_the_first_chance_without_startup_probe_is_crash_007():
    # budget: 10 + 3 x 10 = 40 s; the run lasted 42 s, killed as soon as the probe allowed
    slow = pod("api-7c9f-q8x2z", containers=[container("api", liveness=LIVENESS)],
               statuses=[container_status("api", backoff("api", "api-7c9f-q8x2z"), restarts=5, last=terminated(
                   143, "Error", started="2024-05-14T09:55:00Z", finished="2024-05-14T09:55:42Z"))])
    found = run([slow], liveness_events("api-7c9f-q8x2z"))
    assert codes(found) == ["CRASH-007"]
    assert found[0].severity == Severity.WARNING
    assert "the last run lasted 42s" in found[0].detail and "40s" in found[0].detail


def test_logs_saying_start_takes_longer_than_budget_is_crash_007():
    slow = pod("api-7c9f-q8x2z", containers=[container("api", liveness=LIVENESS)],
               statuses=[container_status("api", backoff("api", "api-7c9f-q8x2z"), restarts=5, last=terminated(
                   137, started="2024-05-14T09:00:00Z", finished="2024-05-14T09:50:00Z"))])
    logs = "2024-05-14T09:55:00Z INFO loading model weights, this takes about 90s\n"
    found = run([slow], liveness_events("api-7c9f-q8x2z"), previous={("api-7c9f-q8x2z", "api"): logs})
    assert codes(found) == ["CRASH-007"] and "start-up takes 90s but liveness allows 40s" in found[0].detail


def test_with_a_startup_probe_a_quick_kill_is_crash_003():
    startup = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 30}
    guarded = pod("api-7c9f-q8x2z", containers=[container("api", liveness=LIVENESS, startup=startup)],
                  statuses=[container_status("api", running(), ready=False, restarts=5, last=terminated(
                      137, started="2024-05-14T09:55:00Z", finished="2024-05-14T09:55:42Z"))])
    assert codes(run([guarded], liveness_events("api-7c9f-q8x2z"))) == ["CRASH-003"]


def test_liveness_events_of_a_sibling_are_not_blamed_on_this_container():
    two = pod("api-7c9f-q8x2z", containers=[container("api", liveness=LIVENESS),
                                            container("sidecar", liveness=LIVENESS)],
              statuses=[container_status("api"), container_status("sidecar", running(), ready=False, restarts=4,
                                                                  last=terminated(137, started="2024-05-14T08:00:00Z",
                                                                                  finished="2024-05-14T09:40:00Z"))])
    found = run([two], liveness_events("api-7c9f-q8x2z", container="sidecar"))
    assert codes(found) == ["CRASH-003"] and "container sidecar" in found[0].detail


def test_liveness_budget_defaults():
    assert crashloop.liveness_budget_s({}) == 30
    assert crashloop.liveness_budget_s(LIVENESS) == 40


# ---------------------------------------------------------------- CRASH-004

def not_ready_pod():
    return pod("web-5d8b-k2j4x", containers=[container("web", readiness=READINESS)],
               statuses=[container_status("web", running(), ready=False)])


READINESS_FAILED = ('Readiness probe failed: Get "http://10.244.1.7:8080/ready": dial tcp 10.244.1.7:8080: '
                    'connect: connection refused')


def test_readiness_failing_names_the_lost_endpoint():
    endpoints = frames.endpoints_frame([factories.endpoints("web", "payments",
                                                            not_ready=[("10.244.1.7", "web-5d8b-k2j4x")])])
    found = run([not_ready_pod()], [event("web-5d8b-k2j4x", "Unhealthy", READINESS_FAILED, count=42)],
                endpoints=endpoints)
    assert codes(found) == ["CRASH-004"]
    assert "readiness probe failed 42 times" in found[0].detail and "ready endpoints of web" in found[0].detail
    assert found[0].evidence["endpoints"] == [{"service": "web", "ip": "10.244.1.7", "port": 8080, "ready": False}]


def test_ready_container_with_readiness_events_gives_nothing():
    ready = pod("web-5d8b-k2j4x", containers=[container("web", readiness=READINESS)])
    assert run([ready], [event("web-5d8b-k2j4x", "Unhealthy", READINESS_FAILED)]) == []


# ---------------------------------------------------------------- CRASH-005

def config_pod(message):
    env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}},
           {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "log_level"}}}]
    return pod("api-7c9f-q8x2z", containers=[container("api", env=env)],
               statuses=[container_status("api", waiting("CreateContainerConfigError", message))],
               phase="Pending")


@pytest.mark.parametrize("message, what, via", [
    ('secret "db-creds" not found', "Secret db-creds is missing", "env DB_PASSWORD"),
    ("couldn't find key log_level in ConfigMap payments/api-config", "key log_level of ConfigMap api-config",
     "env LOG_LEVEL"),
])
def test_create_container_config_error_names_what_is_missing(message, what, via):
    found = run([config_pod(message)], [event("api-7c9f-q8x2z", "Failed", f"Error: {message}", count=8)])
    assert codes(found) == ["CRASH-005"]
    assert what in found[0].detail and f"referenced by {via}" in found[0].detail
    assert len(found[0].evidence["config_refs"]) == 1


# ---------------------------------------------------------------- CRASH-006

def test_failing_init_container_with_its_log():
    init = [container("wait-for-db", image="busybox:1.36", ports=(),
                      command=["sh", "-c", "until nc -z postgres 5432; do sleep 2; done"]),
            container("migrate", image="registry.example.com/payments/migrate:2.3.1", ports=())]
    stuck = pod("api-7c9f-q8x2z", containers=("api",), phase="Pending",
                statuses=[container_status("api", waiting("PodInitializing"))], init_containers=init,
                init_statuses=[container_status("wait-for-db", terminated(0), ready=True),
                               container_status("migrate", backoff("migrate", "api-7c9f-q8x2z"),
                                                last=terminated(2), restarts=4)])
    logs = "running migrations\nERROR: relation \"ledger\" already exists\n"
    found = run([stuck], previous={("api-7c9f-q8x2z", "migrate"): logs})
    assert codes(found) == ["CRASH-006"]
    assert ("init container migrate of payments/api-7c9f-q8x2z fails (exit 2, Error" in found[0].detail
            and "so the app containers (api) never start" in found[0].detail and "already exists" in found[0].detail)
    pods = frames.pods_frame([stuck])
    assert crashloop.pods_of_interest(pods)["name"].tolist() == ["api-7c9f-q8x2z"]


def test_completed_init_containers_give_nothing():
    done = pod("api-7c9f-q8x2z", containers=("api",), init_containers=("migrate",))  # init done, api running
    assert run([done]) == []


def test_named_pod_and_container_filter():
    crash = pod("api-7c9f-q8x2z", containers=("api",),
                statuses=[container_status("api", backoff("api", "api-7c9f-q8x2z"), last=terminated(1), restarts=6)])
    assert run([crash, HEALTHY | {"metadata": {"name": "other-0", "namespace": "payments"}}],
               pod_name="other-0") == []
    found = crashloop.diagnose(pods=frames.pods_frame([crash]), containers=frames.containers_frame([crash]),
                               events=None, previous_logs=None, current_logs=None, container="sidecar")
    assert found == []


# ------------------------------------------------------------- scenarios

def scenario_findings(name):
    """Run pod-crashloop's own gather + diagnose on a built-in scenario (what the notebook does); (spec, findings)."""
    spec = yaml.safe_load((scenarios_dir() / name / "scenario.yaml").read_text())
    return spec, diagnose_runbook("pod-crashloop", source=f"scenario:{name}").findings


def test_scenario_expected_codes():
    spec, found = scenario_findings("pod-crashloop")
    produced = {f.code for f in found}
    expected = {c for c in spec.get("expected_codes") or [] if c.startswith("CRASH-")}
    assert expected <= produced, f"missing {expected - produced}; got {[f.detail for f in found]}"
    assert not produced & set(spec.get("absent_codes") or []), [f.detail for f in found]


def test_healthy_scenario_has_no_error_findings():
    _, found = scenario_findings("healthy")
    assert [f.detail for f in found if f.severity >= Severity.ERROR] == []


def test_an_old_crash_of_a_container_that_is_up_again_is_only_a_warning():
    recovered = pod("api-7c9f-q8x2z", containers=[container("api", limits=LIMIT)],
                    statuses=[container_status("api", running(), last=terminated(137, "OOMKilled"), restarts=1)])
    found = run([recovered])
    assert codes(found) == ["CRASH-001"] and found[0].severity == Severity.WARNING
    assert "running and Ready now" in found[0].detail
