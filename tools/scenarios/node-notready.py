"""node-notready: worker-2 NotReady after its disk filled up — evictions, a hung then dead containerd (PLEG,
runtime down), a client certificate that could not be rotated.

The story on worker-2 (joined 363 days ago; capture at 14:05:00 UTC):

- 13:02 the root filesystem crosses the eviction threshold: DiskPressure True,
  the eviction manager reclaims ephemeral-storage and evicts pods (NODE-003,
  NODE-002 "evictions", still going at the end);
- 13:12 the kubelet's client certificate (issued at join, one year, 2 days
  left) is due for rotation long since; the new pair cannot be written: "no
  space left on device" (NODE-002 "certificate", NODE-004 warning: rotation
  missed);
- 13:18 containerd stops answering (CRI calls DeadlineExceeded), 13:21:41
  "PLEG is not healthy": Ready False, KubeletNotReady (NODE-001, NODE-002
  "PLEG");
- 13:24 containerd dies: "dial unix /run/containerd/containerd.sock: connect:
  connection refused", "container runtime is down" until the end (NODE-002
  "runtime down").

cp-1 and worker-1 are healthy; nothing else in the base cluster changes but
worker-2's conditions and taints, the Node events and worker-2's age.

**The node outputs under hosts/worker-2/ are hand-written, not recorded**: no
kubelet can run in this sandbox (nor in the fault lab). :func:`write_hosts`
writes them — the kubelet journal (``journalctl -u kubelet -o short-iso -n
2000 --no-pager`` as run over ``ssh:worker-2``; lines in the real klog and
journald formats, repeated lines thinned to one every 30 s) and the
certificates (``openssl x509 -in …``: PEM of certificates made here with
``cryptography``; kubelet-server-current.pem absent, as with
serverTLSBootstrap off) — and the ``recorded`` key of k8srun.json saying so.
Run it after ``tools/build_scenarios.py node-notready``::

    .venv/bin/python tools/scenarios/node-notready.py   # (re)writes hosts/ and "recorded"
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenariokit.base import base_cluster  # noqa: E402
from scenariokit.cluster import Cluster  # noqa: E402
from scenariokit.objects import CAPTURED_AT, DAY, MIN, when  # noqa: E402

SCENARIO = {
    "description": "worker-2 NotReady: disk full, evictions, containerd hung (PLEG) then down, the client "
                   "certificate's rotation failing; its kubelet journal and certificates (hand-written)",
    "runbook": "node-notready", "namespace": "default",
    "expected_codes": ["NODE-001", "NODE-002", "NODE-003", "NODE-004"],
    "absent_codes": []}

NODE, PID, TARGET = "worker-2", 1187, "ssh:worker-2"
JOINED_AGO = 363 * DAY
#: seconds before capture of each turn of the story
DISK_FULL, ROTATION, HUNG, NOT_READY, RUNTIME_DEAD, HEARTBEAT = 3775, 3150, 2780, 2599, 2450, 19
PKI = "/var/lib/kubelet/pki"


def build() -> Cluster:
    c = base_cluster("node-notready", workers={NODE: {"created_ago": JOINED_AGO}})
    node = c.node_named(NODE)
    pleg_age = f"{(NOT_READY - HEARTBEAT) // 60 + 3}m{(NOT_READY - HEARTBEAT) % 60}.512208416s"
    states = {"MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
                                 JOINED_AGO - 600),
              "DiskPressure": ("True", "KubeletHasDiskPressure", "kubelet has disk pressure", DISK_FULL),
              "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
                              JOINED_AGO - 600),
              "Ready": ("False", "KubeletNotReady", f"[container runtime is down, PLEG is not healthy: pleg was "
                                                    f"last seen active {pleg_age} ago; threshold is 3m0s]", NOT_READY)}
    node["status"]["conditions"] = [
        {"type": kind, "status": status, "lastHeartbeatTime": when(HEARTBEAT), "lastTransitionTime": when(since),
         "reason": reason, "message": message} for kind, (status, reason, message, since) in states.items()]
    node["spec"]["taints"] = [
        {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule", "timeAdded": when(DISK_FULL - 5)},
        {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": when(NOT_READY - 4)},
        {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": when(NOT_READY - 4)}]
    c.event("Node", node, "NodeHasDiskPressure", f"Node {NODE} status is now: NodeHasDiskPressure",
            component="kubelet", host=NODE, first_ago=DISK_FULL)
    c.event("Node", node, "EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", component="kubelet",
            host=NODE, type_="Warning", first_ago=DISK_FULL, last_ago=175, count=13)
    c.event("Node", node, "NodeNotReady", f"Node {NODE} status is now: NodeNotReady", component="kubelet",
            host=NODE, first_ago=NOT_READY)
    return c


# ------------------------------------------------- the hand-written node outputs

def _stamp(ago: float) -> tuple[str, str]:
    """(journald short-iso prefix time, klog mmdd hh:mm:ss.micro) ``ago`` seconds before capture."""
    jitter = (math.ceil(ago) * 7919) % 400_000  # stable, the same for lines a fraction of a second apart
    moment = CAPTURED_AT - dt.timedelta(seconds=ago) + dt.timedelta(microseconds=jitter)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000"), moment.strftime("%m%d %H:%M:%S.%f")


def _klog(ago: float, level: str, source: str, text: str) -> tuple[float, str]:
    prefix, klog = _stamp(ago)
    return ago, f"{prefix} {NODE} kubelet[{PID}]: {level}{klog} {PID:>7} {source}] {text}"


def _systemd(ago: float, text: str) -> tuple[float, str]:
    return ago, f"{_stamp(ago)[0]} {NODE} systemd[1]: {text}"


def journal() -> str:
    """worker-2's kubelet journal as ``journalctl -u kubelet -o short-iso --no-pager`` prints it."""
    sock = 'dial unix /run/containerd/containerd.sock: connect: connection refused'
    refused = f'rpc error: code = Unavailable desc = connection error: desc = \\"transport: Error while dialing: {sock}\\"'
    start = 6 * 3600 + 5 * MIN
    lines = [_systemd(start, "Started kubelet.service - kubelet: The Kubernetes Node Agent."),
             _klog(start, "I", "server.go:484", '"Kubelet version" kubeletVersion="v1.30.4"'),
             _klog(start - 1, "I", "kuberuntime_manager.go:261", '"Container runtime initialized" '
                   'containerRuntime="containerd" version="1.7.22" apiVersion="v1"'),
             _klog(start - 1, "I", "kubelet.go:2337", '"Starting kubelet main sync loop"'),
             _klog(start - 1, "E", "kubelet.go:2361", '"Skipping pod synchronization" err="[container runtime status '
                   'check may not have completed yet, PLEG is not healthy: pleg has yet to be successful]"'),
             _klog(start - 2, "I", "kubelet_node_status.go:503", '"Fast updating node status as it just became ready"')]
    for ago in range(DISK_FULL, 170, -300):  # the eviction manager, every 5 min in this thinned copy
        lines += [_klog(ago, "I", "eviction_manager.go:369", '"Eviction manager: attempting to reclaim" '
                        'resourceName="ephemeral-storage"'),
                  _klog(ago - 0.2, "I", "image_gc_manager.go:404", '"Attempting to delete unused images"'),
                  _klog(ago - 0.4, "I", "eviction_manager.go:380", '"Eviction manager: must evict pod(s) to reclaim" '
                        'resourceName="ephemeral-storage"')]
    lines.append(_klog(DISK_FULL - 1, "I", "eviction_manager.go:616", '"Eviction manager: pod is evicted '
                       'successfully" pod="shop/report-7c9d6f5b8-x2l4q"'))
    for ago in (ROTATION, ROTATION - 120, ROTATION - 360, ROTATION - 840, ROTATION - 1800, 240):
        stamp = (CAPTURED_AT - dt.timedelta(seconds=ago)).strftime("%Y-%m-%d-%H-%M-%S")
        lines.append(_klog(ago, "E", "certificate_manager.go:590", '"Unhandled Error" err="kubernetes.io/kube-apiserver-'
                           'client-kubelet: Unable to store the new cert/key pair: open /var/lib/kubelet/pki/'
                           f'kubelet-client-{stamp}.pem: no space left on device"'))
    lines += [_klog(HUNG, "E", "remote_runtime.go:407", '"ListContainers with filter from runtime service failed" '
                    'err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" '
                    'filter="&ContainerFilter{Id:,State:nil,PodSandboxId:,LabelSelector:map[string]string{},}"'),
              _klog(HUNG - 0.1, "E", "generic.go:238", '"GenericPLEG: Unable to retrieve pods" err="rpc error: code = '
                    'DeadlineExceeded desc = context deadline exceeded"')]
    for ago in range(NOT_READY, RUNTIME_DEAD, -30):
        seen = NOT_READY - ago + 180
        lines.append(_klog(ago, "E", "kubelet.go:2407", '"Skipping pod synchronization" err="PLEG is not healthy: pleg '
                           f'was last seen active {seen // 60}m{seen % 60}.4123s ago; threshold is 3m0s"'))
    lines.append(_klog(NOT_READY - 0.05, "I", "setters.go:580", f'"Node became not ready" node="{NODE}"'))
    for ago in range(RUNTIME_DEAD, 5, -30):
        seen = NOT_READY - ago + 180
        lines += [_klog(ago, "E", "remote_runtime.go:633", f'"Status from runtime service failed" err="{refused}"'),
                  _klog(ago - 0.1, "E", "kubelet.go:2885", f'"Container runtime sanity check failed" err="{refused}"'),
                  _klog(ago - 0.2, "E", "kubelet.go:2407", '"Skipping pod synchronization" err="[container runtime is '
                        f'down, PLEG is not healthy: pleg was last seen active {seen // 60}m{seen % 60}.4123s ago; '
                        'threshold is 3m0s]"')]
    return "".join(line + "\n" for _, line in sorted(lines, key=lambda item: -item[0]))


def certificates() -> dict[str, str]:
    """file name -> ``openssl x509 -in`` output (PEM of the certificate only; never the key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def key(seed: int):
        return ec.derive_private_key(seed, ec.SECP256R1())

    def name(**parts):
        oids = {"O": NameOID.ORGANIZATION_NAME, "CN": NameOID.COMMON_NAME}
        return x509.Name([x509.NameAttribute(oids[k], v) for k, v in parts.items()])

    def cert(subject, issuer, signer, public, start, days, usage, sans=()):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public)
                   .serial_number(int.from_bytes(subject.rfc4514_string().encode()[:12], "big"))
                   .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]),
                                            critical=False)
        return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()

    joined = (CAPTURED_AT - dt.timedelta(seconds=JOINED_AGO)).replace(microsecond=0)
    ca_key, client_key, serving_key = key(0xC0FFEE01), key(0xC0FFEE02), key(0xC0FFEE03)
    client = cert(name(O="system:nodes", CN=f"system:node:{NODE}"), name(CN="kubernetes"), ca_key,
                  client_key.public_key(), joined, 365, ExtendedKeyUsageOID.CLIENT_AUTH)
    since = dt.datetime(2026, 5, 12, 8, 0, 4, tzinfo=dt.timezone.utc)
    stamp = int(since.timestamp())
    serving = cert(name(CN=f"{NODE}@{stamp}"), name(CN=f"{NODE}-ca@{stamp}"), serving_key, serving_key.public_key(),
                   since, 365, ExtendedKeyUsageOID.SERVER_AUTH, sans=(NODE,))
    return {"kubelet-client-current.pem": client, "kubelet.crt": serving}


def write_hosts(root: Path) -> None:
    """Write hosts/worker-2/ (journal, certificates) and the ``recorded`` key of ``root``/k8srun.json."""
    folder = root / "hosts" / NODE
    folder.mkdir(parents=True, exist_ok=True)
    started = CAPTURED_AT - dt.timedelta(seconds=20)

    def save(command_id: str, argv: list[str], stdout: str, stderr: str = "", exit_code: int = 0) -> None:
        (folder / f"{command_id}.txt").write_text(stdout, encoding="utf-8")
        meta = {"target": TARGET, "argv": argv, "exit_code": exit_code, "stderr": stderr, "duration_s": 0.05,
                "started_at": started.isoformat(), "error": None if exit_code == 0 else f"exit code {exit_code}"}
        (folder / f"{command_id}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    save("kubelet-journal", ["journalctl", "-u", "kubelet", "-o", "short-iso", "-n", "2000", "--no-pager"], journal())
    certs = certificates()
    ids = {"kubelet-client-current.pem": "kubelet-cert-client-current",
           "kubelet-server-current.pem": "kubelet-cert-server-current", "kubelet.crt": "kubelet-cert-kubelet-crt"}
    for file, command_id in ids.items():
        argv = ["openssl", "x509", "-in", f"{PKI}/{file}"]
        if file in certs:
            save(command_id, argv, certs[file])
        else:
            save(command_id, argv, "", exit_code=1,
                 stderr=f"Could not open file or uri for loading certificate from {PKI}/{file}\n"
                        "40C7B2D1B17F0000:error:80000002:system library:file_open:No such file or directory:"
                        f"../providers/implementations/storemgmt/file_store.c:267:calling stat({PKI}/{file})\n"
                        "Unable to load certificate\n")
    info_path = root / "k8srun.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["recorded"] = {"runbook": "node-notready",
                        "parameters": {"target": TARGET, "node": "", "journal": "", "pki_dir": PKI, "timeout_s": 10},
                        "source": "scenario node-notready", "target": TARGET,
                        "commands": sorted(p.stem for p in folder.glob("*.json")),
                        "from": "hand-written (no kubelet in this sandbox): tools/scenarios/node-notready.py",
                        "findings": SCENARIO["expected_codes"]}
    from scenariokit.bundle import go_json

    info_path.write_text(go_json(info), encoding="utf-8")


if __name__ == "__main__":
    from scenariokit import DEFAULT_OUT, build_scenario

    write_hosts(build_scenario("node-notready", DEFAULT_OUT))
