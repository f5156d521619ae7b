"""pod-crashloop: CRASH-001..007, one pod per crash cause in payments, with current and previous logs.

Next to a healthy gateway: api OOMKilled (CRASH-001); ledger exits 1 with a
traceback, notifier's entrypoint is missing (StartError), fx-sync's script
is not found (exit 127) (CRASH-002); fraud-check restarted by a failing
liveness probe (CRASH-003); statements never Ready, its readiness probe on
the wrong port (CRASH-004); payouts and reconciler miss a ConfigMap / a Secret
key (CRASH-005); settlement's init container cannot reach postgres
(CRASH-006); risk-model killed by liveness while loading its model (CRASH-007).
"""

from scenariokit.apps import oom_killed_api
from scenariokit.base import base_cluster
from scenariokit.cluster import Cluster
from scenariokit.events import restart_events, rollout_events
from scenariokit.objects import (DAY, MIN, container, env_secret, env_value, exited, http_probe, log_lines, stuck,
                                 up, web_container)
from scenariokit.storage import bound_local_claim
from scenariokit.workloads import healthy_deployment

SCENARIO = {
    "description": "One pod per crash cause in payments: OOMKilled, exit 1 / StartError / exit 127, "
                   "liveness 500s, readiness refused, missing ConfigMap / Secret key, failing init "
                   "container, slow start killed by liveness",
    "runbook": "pod-crashloop", "namespace": "payments",
    "expected_codes": ["CRASH-001", "CRASH-002", "CRASH-003", "CRASH-004", "CRASH-005", "CRASH-006",
                       "CRASH-007"],
    "absent_codes": []}


def build() -> Cluster:
    c = base_cluster("pod-crashloop")
    c.namespace("payments", 60 * DAY)
    ns = "payments"
    healthy_deployment(c, ns, "gateway", "registry.example.com/payments/gateway:2.2.0", "2.2.0",
                       ["worker-1", "worker-2"], started_ago=2 * DAY, cpu="200m", memory="256Mi")
    c.configmap(ns, "gateway-routes", ["routes.yaml"])
    c.configmap(ns, "ledger-config", ["LEDGER_CURRENCY", "LEDGER_WORKERS"])

    # CRASH-001: OOMKilled, CrashLoopBackOff
    oom_killed_api(c, node="worker-1", rolled_out_ago=52 * MIN, run_start=3 * MIN + 20, backoffs=212,
                   backoff_last_ago=41, pid=48213)

    # CRASH-002: exits 1 with a stack trace
    ledger = c.deployment(ns, "ledger", [container(
        "ledger", "registry.example.com/payments/ledger:5.0.1", command=["python", "-m", "ledger.main"],
        ports=(("http", 8000),),
        env_from=[{"configMapRef": {"name": "ledger-config"}}],
        requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "256Mi"})],
        created_ago=30 * DAY, rs_created_ago=41 * MIN, revision=4)
    run_start = 2 * MIN + 2
    previous = log_lines(run_start, (0.0, "INFO ledger.main: starting ledger 5.0.1"),
                         (0.2, "INFO ledger.settings: reading settings from environment"), fmt="py") + (
        "Traceback (most recent call last):\n"
        '  File "<frozen runpy>", line 198, in _run_module_as_main\n'
        '  File "<frozen runpy>", line 88, in _run_code\n'
        '  File "/app/ledger/main.py", line 42, in <module>\n'
        "    main()\n"
        '  File "/app/ledger/main.py", line 31, in main\n'
        "    settings = load_settings(os.environ)\n"
        "               ^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        '  File "/app/ledger/settings.py", line 18, in load_settings\n'
        '    workers = int(env["LEDGER_WORKERS"])\n'
        "              ^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "ValueError: invalid literal for int() with base 10: 'eight'\n")
    pod = c.replica(ledger, node="worker-2", created_ago=41 * MIN, runs={"ledger": stuck(
        "CrashLoopBackOff", restarts=8, last=exited(1, "Error", run_start, run_start - 1), previous_log=previous)})
    rollout_events(c, ledger, pod, 41 * MIN)
    restart_events(c, pod, "ledger", first_ago=41 * MIN - 2, starts=9, last_start_ago=run_start,
                   backoffs=180, backoff_last_ago=17)
    c.service(ns, "ledger", {"app": "ledger"}, [("http", 80, "http")], created_ago=30 * DAY)

    # CRASH-002: the entrypoint does not exist in the image (containerd StartError, exit 128)
    start_error = ('failed to create containerd task: failed to create shim task: OCI runtime create failed: '
                   'runc create failed: unable to start container process: exec: "/app/start.sh": '
                   'stat /app/start.sh: no such file or directory: unknown')
    notifier = c.deployment(ns, "notifier", [container(
        "notifier", "registry.example.com/payments/notifier:1.0.0", command=["/app/start.sh"],
        requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"})],
        created_ago=27 * MIN)
    pod = c.replica(notifier, node="worker-1", created_ago=27 * MIN, runs={"notifier": stuck(
        "CrashLoopBackOff", restarts=7, last=exited(128, "StartError", None, 4 * MIN + 12, start_error))})
    rollout_events(c, notifier, pod, 27 * MIN)
    restart_events(c, pod, "notifier", first_ago=27 * MIN - 2, starts=8, last_start_ago=4 * MIN + 12,
                   backoffs=117, backoff_last_ago=26, start_failure=start_error)

    # CRASH-002: a shell wrapper runs a script that is not there (exit 127)
    fx = c.deployment(ns, "fx-sync", [container(
        "fx-sync", "registry.example.com/payments/fx-sync:0.9.0",
        command=["/bin/sh", "-c", "/app/sync.sh --interval 60"],
        requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"})],
        created_ago=33 * MIN)
    pod = c.replica(fx, node="worker-2", created_ago=33 * MIN, runs={"fx-sync": stuck(
        "CrashLoopBackOff", restarts=8, last=exited(127, "Error", 1 * MIN + 40, 1 * MIN + 40),
        previous_log="/bin/sh: 1: /app/sync.sh: not found\n")})
    rollout_events(c, fx, pod, 33 * MIN)
    restart_events(c, pod, "fx-sync", first_ago=33 * MIN - 2, starts=9, last_start_ago=1 * MIN + 40,
                   backoffs=140, backoff_last_ago=52)

    # CRASH-003: runs for minutes, then /healthz answers 500 and the kubelet restarts it
    fraud = c.deployment(ns, "fraud-check", [container(
        "fraud-check", "registry.example.com/payments/fraud-check:1.12.3", ports=(("http", 8080),),
        env=[env_value("REDIS_ADDR", "redis.payments.svc.cluster.local:6379")],
        requests={"cpu": "200m", "memory": "256Mi"}, limits={"memory": "512Mi"},
        liveness=http_probe("/healthz", "http", initial=15, period=10))],
        created_ago=45 * DAY, rs_created_ago=3 * DAY)
    current_start = 1 * MIN + 35
    redis_down = "redis ping: dial tcp 10.96.41.87:6379: i/o timeout"
    current = log_lines(current_start, (0.0, 'level=info msg="starting fraud-check" version=1.12.3'),
                        (0.6, 'level=info msg="listening" addr=:8080'),
                        (25.1, f'level=error msg="health check failed" err="{redis_down}"'),
                        (35.1, f'level=error msg="health check failed" err="{redis_down}"'),
                        (45.1, f'level=error msg="health check failed" err="{redis_down}"'), fmt="none")
    previous = log_lines(15 * MIN, (0.0, 'level=info msg="starting fraud-check" version=1.12.3'),
                         (0.6, 'level=info msg="listening" addr=:8080'),
                         (300.4, 'level=info msg="scored" requests=18231 p99_ms=41'),
                         (700.2, f'level=error msg="health check failed" err="{redis_down}"'),
                         (710.2, f'level=error msg="health check failed" err="{redis_down}"'),
                         (720.2, f'level=error msg="health check failed" err="{redis_down}"'), fmt="none")
    pod = c.replica(fraud, node="worker-2", created_ago=3 * DAY, runs={"fraud-check": up(
        current_start, restarts=4, last=exited(143, "Error", 15 * MIN, current_start + 8), log=current,
        previous_log=previous)})
    node = pod["spec"]["nodeName"]
    common = {"component": "kubelet", "host": node, "field_path": "spec.containers{fraud-check}"}
    c.event("Pod", pod, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500",
            type_="Warning", first_ago=58 * MIN, last_ago=50, count=14, **common)
    c.event("Pod", pod, "Killing", "Container fraud-check failed liveness probe, will be restarted",
            first_ago=57 * MIN + 40, last_ago=current_start + 38, count=4, **common)
    c.event("Pod", pod, "Pulled", 'Container image "registry.example.com/payments/fraud-check:1.12.3" already '
            "present on machine", first_ago=57 * MIN + 9, last_ago=current_start, count=4, **common)
    c.event("Pod", pod, "Created", "Created container fraud-check", first_ago=57 * MIN + 9,
            last_ago=current_start, count=4, **common)
    c.event("Pod", pod, "Started", "Started container fraud-check", first_ago=57 * MIN + 9,
            last_ago=current_start, count=4, **common)
    c.service(ns, "fraud-check", {"app": "fraud-check"}, [("http", 80, "http")], created_ago=45 * DAY)

    # CRASH-004: running, never Ready: the app listens on 9090, readiness probes 8080
    statements = c.deployment(ns, "statements", [web_container(
        "statements", "registry.example.com/payments/statements:2.8.0", cpu="100m", memory="128Mi",
        env=[env_value("PORT", "9090")], liveness=None)], created_ago=38 * MIN)
    started = 38 * MIN - 4
    pod = c.replica(statements, node="worker-2", created_ago=38 * MIN, runs={"statements": up(
        started, ready=False, log=log_lines(started, (0.0, "INFO  starting statements version=2.8.0"),
                                            (0.7, "INFO  renderer pool ready workers=4"),
                                            (0.9, "INFO  http server listening addr=:9090")))})
    rollout_events(c, statements, pod, 38 * MIN)
    c.started_events(pod, ago=started)
    ip = pod["status"]["podIP"]
    c.event("Pod", pod, "Unhealthy", f'Readiness probe failed: Get "http://{ip}:8080/ready": dial tcp {ip}:8080: '
            "connect: connection refused", component="kubelet", host="worker-2", type_="Warning",
            first_ago=started - 1, last_ago=3, count=455, field_path="spec.containers{statements}")
    c.service(ns, "statements", {"app": "statements"}, [("http", 80, "http")], created_ago=38 * MIN)

    # CRASH-005: CreateContainerConfigError (missing ConfigMap; missing key in a Secret)
    for name, image, spec_extra, message in (
            ("payouts", "registry.example.com/payments/payouts:4.1.0",
             {"env_from": [{"configMapRef": {"name": "payments-config"}}]},
             'configmap "payments-config" not found'),
            ("reconciler", "registry.example.com/payments/reconciler:2.3.3",
             {"env": [env_value("DB_HOST", "postgres.payments.svc.cluster.local"),
                      env_secret("DB_PASSWORD", "db-credentials", "DB_PASSWORD")]},
             "couldn't find key DB_PASSWORD in Secret payments/db-credentials")):
        work = c.deployment(ns, name, [web_container(name, image, **spec_extra)], created_ago=21 * MIN)
        pod = c.replica(work, node="worker-1", created_ago=21 * MIN,
                        runs={name: stuck("CreateContainerConfigError", message)})
        rollout_events(c, work, pod, 21 * MIN)
        node_name = pod["spec"]["nodeName"]
        c.scheduler_event(pod, "Scheduled", f"Successfully assigned {ns}/{pod['metadata']['name']} to {node_name}",
                          first_ago=21 * MIN - 1)
        common = {"component": "kubelet", "host": node_name, "field_path": f"spec.containers{{{name}}}"}
        c.event("Pod", pod, "Pulled", f'Container image "{image}" already present on machine',
                first_ago=21 * MIN - 2, last_ago=14, count=97, **common)
        c.event("Pod", pod, "Failed", f"Error: {message}", type_="Warning", first_ago=21 * MIN - 2,
                last_ago=14, count=97, **common)
        c.service(ns, name, {"app": name}, [("http", 80, "http")], created_ago=21 * MIN)

    # CRASH-006: the init container cannot reach postgres, the app never starts
    wait_script = ("timeout 60 sh -c 'until nc -z -w 2 postgres.payments.svc.cluster.local 5432; do "
                   "echo waiting for postgres.payments.svc.cluster.local:5432 ...; sleep 5; done' "
                   "|| { echo 'waiting for postgres.payments.svc.cluster.local:5432 ... timed out after 60s'; exit 1; }")
    settlement = c.deployment(
        ns, "settlement", [web_container("settlement", "registry.example.com/payments/settlement:7.0.2")],
        init_containers=[container("wait-for-db", "busybox:1.36", command=["sh", "-c", wait_script],
                                   requests={"cpu": "10m", "memory": "16Mi"})],
        created_ago=44 * MIN)
    run_start = 5 * MIN + 30
    previous = "".join("waiting for postgres.payments.svc.cluster.local:5432 ...\n"
                       "nc: bad address 'postgres.payments.svc.cluster.local'\n" for _ in range(12))
    previous += "waiting for postgres.payments.svc.cluster.local:5432 ... timed out after 60s\n"
    pod = c.replica(settlement, node="worker-1", created_ago=44 * MIN,
                    init_runs={"wait-for-db": stuck("CrashLoopBackOff", restarts=6, previous_log=previous,
                                                    last=exited(1, "Error", run_start, run_start - 60))},
                    runs={"settlement": stuck("PodInitializing")})
    rollout_events(c, settlement, pod, 44 * MIN)
    restart_events(c, pod, "wait-for-db", first_ago=44 * MIN - 2, starts=7, last_start_ago=run_start,
                   backoffs=38, backoff_last_ago=12, init=True)
    c.service(ns, "settlement", {"app": "settlement"}, [("http", 80, "http")], created_ago=44 * MIN)

    # CRASH-007: a 2.1 GB model takes longer to load than liveness allows (no startupProbe)
    model = c.deployment(ns, "risk-model", [container(
        "risk-model", "registry.example.com/payments/risk-model:2.7.0", ports=(("http", 8080),),
        requests={"cpu": "500m", "memory": "3Gi"}, limits={"memory": "4Gi"},
        liveness=http_probe("/healthz", "http", initial=5, period=5),
        mounts=[{"name": "models", "readOnly": True, "mountPath": "/models"}])],
        volumes=[{"name": "models", "persistentVolumeClaim": {"claimName": "risk-models", "readOnly": True}}],
        grace=5, created_ago=6 * MIN + 30)

    def model_log(start_ago: float, upto: int) -> str:
        lines = [(0.0, "INFO risk_model.server: risk-model 2.7.0 starting"),
                 (0.4, "INFO risk_model.loader: loading 2.1 GB model from /models/risk-v7.onnx")]
        lines += [(float(s), f"INFO risk_model.loader: still loading after {s}s ({s * 37 // 10}%)")
                  for s in range(10, upto + 1, 10)]
        return log_lines(start_ago, *lines, fmt="py")

    current_start, last_start, last_end = 8, 62, 36
    pod = c.replica(model, node="worker-1", created_ago=6 * MIN + 30, runs={"risk-model": up(
        current_start, restarts=3, last=exited(137, "Error", last_start, last_end),
        log=model_log(current_start, 0), previous_log=model_log(last_start, 20))})
    rollout_events(c, model, pod, 6 * MIN + 30)
    ip = pod["status"]["podIP"]
    common = {"component": "kubelet", "host": "worker-1", "field_path": "spec.containers{risk-model}"}
    restart_events(c, pod, "risk-model", first_ago=6 * MIN + 28, starts=4, last_start_ago=current_start,
                   backoffs=3, backoff_last_ago=last_end - 2)
    c.event("Pod", pod, "Unhealthy", f'Liveness probe failed: Get "http://{ip}:8080/healthz": dial tcp {ip}:8080: '
            "connect: connection refused", type_="Warning", first_ago=6 * MIN + 18, last_ago=3, count=10, **common)
    c.event("Pod", pod, "Killing", "Container risk-model failed liveness probe, will be restarted",
            first_ago=6 * MIN + 8, last_ago=last_end + 5, count=3, **common)
    bound_local_claim(c, ns, "risk-models", "10Gi", node="worker-1", created_ago=60 * DAY)
    c.service(ns, "risk-model", {"app": "risk-model"}, [("http", 80, "http")], created_ago=6 * MIN + 30)

    return c

