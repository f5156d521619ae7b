"""Sample applications that several scenarios run, each with its failure.

Each function adds a Deployment, its one pod, the events that tell the
story and its Service to a :class:`~scenariokit.cluster.Cluster`, and
returns the pod dict:

- :func:`oom_killed_api`: payments/api 3.4.2 (memory limit 256Mi) is
  OOMKilled 14 s into every run and sits in CrashLoopBackOff after 9 restarts
  (its previous log: :func:`oom_previous_log`), with the node's SystemOOM event;
- :func:`cart_missing_image`: shop/cart rolled out to tag v2.3.1, which the
  registry does not have (ImagePullBackOff).
"""

from __future__ import annotations

from .cluster import Cluster
from .events import NOT_FOUND, image_pull_events, pull_error, restart_events, rollout_events
from .objects import DAY, MIN, exited, log_lines, stuck, web_container


def oom_previous_log(start_ago: float) -> str:
    """payments-api's log up to its OOM kill, for a run started ``start_ago``."""
    return log_lines(start_ago, (0.0, "INFO  starting payments-api version=3.4.2 commit=9f1c2ab"),
                     (0.3, "INFO  connected to postgres host=postgres.payments.svc.cluster.local:5432 pool=20"),
                     (0.5, "INFO  loading exchange-rate cache entries=1200000"),
                     (4.8, "INFO  listening on :8080"),
                     (9.1, "WARN  heap usage high used=231MiB limit=256MiB"),
                     (11.6, "INFO  settlement batch started batch=88412 items=54000"),
                     (13.9, "WARN  heap usage high used=252MiB limit=256MiB"))


def oom_killed_api(c: Cluster, *, node: str, rolled_out_ago: float, run_start: float, backoffs: int,
                   backoff_last_ago: float, pid: int) -> dict:
    """payments/api rolled out ``rolled_out_ago``, its last run started ``run_start`` ago and was
    OOMKilled 14 s later; ``backoffs`` BackOff events, the last ``backoff_last_ago``; the victim ``pid``."""
    api = c.deployment("payments", "api", [web_container("api", "registry.example.com/payments/api:3.4.2",
                                                         cpu="250m", memory="128Mi", memory_limit="256Mi")],
                       created_ago=60 * DAY, rs_created_ago=rolled_out_ago, revision=12)
    run_end = run_start - 14
    pod = c.replica(api, node=node, created_ago=rolled_out_ago, runs={"api": stuck(
        "CrashLoopBackOff", restarts=9, last=exited(137, "OOMKilled", run_start, run_end),
        previous_log=oom_previous_log(run_start))})
    rollout_events(c, api, pod, rolled_out_ago)
    restart_events(c, pod, "api", first_ago=rolled_out_ago - 2, starts=10, last_start_ago=run_start,
                   backoffs=backoffs, backoff_last_ago=backoff_last_ago)
    c.event("Node", c.node_named(node), "SystemOOM", "System OOM encountered, victim process: payments-api, "
            f"pid: {pid}", component="kubelet", host=node, type_="Warning", first_ago=rolled_out_ago - MIN,
            last_ago=run_end, count=10)
    c.service("payments", "api", {"app": "api"}, [("http", 80, "http")], created_ago=60 * DAY)
    return pod


def cart_missing_image(c: Cluster, *, node: str, rolled_out_ago: float, last_pull_ago: float, pulls: int,
                       backoffs: int, last_backoff_ago: float) -> dict:
    """shop/cart rolled out ``rolled_out_ago`` to an image tag that does not exist: ``pulls`` failed
    pulls (the last ``last_pull_ago``), ``backoffs`` ImagePullBackOff events (the last ``last_backoff_ago``)."""
    image = "registry.example.com/shop/cart:v2.3.1"
    cart = c.deployment("shop", "cart", [web_container("cart", image, cpu="250m", memory="256Mi")],
                        created_ago=20 * DAY, rs_created_ago=rolled_out_ago, revision=7)
    pod = c.replica(cart, node=node, created_ago=rolled_out_ago,
                    runs={"cart": stuck("ImagePullBackOff", f'Back-off pulling image "{image}"')})
    rollout_events(c, cart, pod, rolled_out_ago)
    image_pull_events(c, pod, "cart", pull_error(NOT_FOUND, image), first_ago=rolled_out_ago - 2,
                      last_ago=last_pull_ago, pulls=pulls, backoffs=backoffs, last_backoff_ago=last_backoff_ago)
    c.service("shop", "cart", {"app": "cart"}, [("http", 80, "http")])
    return pod
