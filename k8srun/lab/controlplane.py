"""The lab's control plane: a real 3-member etcd cluster, a slow-able disk and an HTTPS API-server stand-in.

``k8srun lab up --control-plane`` builds it, ``k8srun lab break|fix FAULT``
breaks it, ``k8srun lab down`` removes it (with the network lab, if up).

Why a separate component of the lab, not part of ``lab up``: it lives on the
loopback interface of the machine, needs none of the network lab's
namespaces, and takes two seconds to build, so the control-plane runbook's
tests (and a student) need not build ten namespaces to break etcd. It shares
the lab's machine-wide lock (:func:`control_plane_session`), so it is one
user at a time with the network lab.

What it makes (state in :func:`cp_dir`: ``$K8SRUN_LAB_DIR-control-plane``,
default ``/run/k8srun-lab-control-plane``; ``state.json`` names every
process, the loop device, the image and the throttle):

==================  ======================================  ===================================
thing               where                                   notes
==================  ======================================  ===================================
etcd-1, -2, -3      client ``http://127.0.10.N:2379``,      ``etcd`` (Debian etcd-server), heartbeat
                    peer ``:2380``, data ``<dir>/etcd-N``    50 ms, election 500 ms (lab speed)
etcd-3's data dir   ext4 on a loop device (``<dir>/disk``)   image in ``/dev/shm`` (memory: a fast
                                                            disk until a fault slows it)
API-server stand-in ``https://127.0.10.100:6443``           :mod:`k8srun.lab.apiserver`; cert from
                                                            the lab CA (``ca.pem`` in the dir)
kubeconfig          ``<dir>/kubeconfig``                    context ``k8srun-lab``, user
                                                            ``lab-admin`` with a random token
==================  ======================================  ===================================

Faults (name -> expected finding):

==========================  ========  ==============================================================
``etcd-member-down``        ETCD-001  etcd-2 stopped
``etcd-even-members``       ETCD-002  a 4th member etcd-4 (127.0.10.4) added and started
``etcd-leader-churn``       ETCD-003  a churner kills the leader (SIGKILL) and restarts it, every
                                      ~1.5 s, until fixed
``etcd-slow-disk``          ETCD-004  cgroup-v1 ``blkio.throttle.write_iops_device`` = 40 on the
                                      loop device (root blkio cgroup: every writer, as a slow disk)
``etcd-db-near-quota``      ETCD-005  etcd-1 restarted with ``--quota-backend-bytes`` 8 MiB and
                                      ~7 MiB of keys written under ``/k8srun-lab/filler/``
``apiserver-etcd-unready``  CP-005    the stand-in's ``--etcd-servers`` point at a closed port:
                                      ``[-]etcd failed`` in /readyz, 500
``apiserver-unauthorized``  CP-003    the kubeconfig's token is no longer accepted (401)
``apiserver-forbidden``     CP-004    RBAC grants lab-admin nothing: listing pods is 403
``kubeconfig-bad-server``   CP-001    the kubeconfig's server is ``http://`` (the stand-in is HTTPS)
==========================  ========  ==============================================================

The slow disk is a throttle in the *root* blkio cgroup on the loop device's
``MAJ:MIN`` (this machine mounts cgroup v1 blkio at ``/sys/fs/cgroup/blkio``):
it slows every process writing to that device — etcd-3 and the runbook's
fio alike — which is what a slow disk does; a child cgroup would slow only
its own members. No cgroup directory is created; fix and down write the
rule back to 0.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import LabError
from . import certs
from .state import state_dir
from .system import machine_lock, process_alive, process_cmdline, run, stop_process

HOST_PREFIX = "127.0.10."
MEMBERS = ("etcd-1", "etcd-2", "etcd-3")
EXTRA_MEMBER = "etcd-4"
SLOW_MEMBER = "etcd-3"          # its data dir is on the loop device
QUOTA_MEMBER = "etcd-1"         # restarted with a small quota by etcd-db-near-quota
QUOTA_BYTES = 8 * 1024 * 1024
QUOTA_FILL = 0.85
APISERVER_ADDRESS, APISERVER_PORT = "127.0.10.100", 6443
CLOSED_ETCD = "http://127.0.10.1:2999"
THROTTLE_IOPS = 40
BLKIO = Path("/sys/fs/cgroup/blkio")
IMAGE_MB = 192
CONTEXT = "k8srun-lab"
USER = "lab-admin"
LOCK = "k8srun-fault-lab"
READY_TIMEOUT_S = 20.0


def member_ip(name: str) -> str:
    return HOST_PREFIX + name.rsplit("-", 1)[1]


def client_url(name: str) -> str:
    return f"http://{member_ip(name)}:2379"


def peer_url(name: str) -> str:
    return f"http://{member_ip(name)}:2380"


def endpoints(members: tuple[str, ...] = MEMBERS) -> list[str]:
    """The client URLs of the members (what ``-p etcd_endpoints`` takes)."""
    return [client_url(m) for m in members]


def cp_dir() -> Path:
    """The control plane's state directory: ``<lab state dir>-control-plane``."""
    base = state_dir()
    return base.with_name(base.name + "-control-plane")


def kubeconfig_path() -> Path:
    return cp_dir() / "kubeconfig"


def data_dir(name: str, directory: Path | None = None) -> Path:
    directory = directory or cp_dir()
    return directory / "disk" / name if name == SLOW_MEMBER else directory / name


# ------------------------------------------------------------------ state

def _state_path(directory: Path | None = None) -> Path:
    return (directory or cp_dir()) / "state.json"


def load() -> dict | None:
    """The control plane's state, or None when it is not up."""
    try:
        return json.loads(_state_path().read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabError(f"{_state_path()} is unreadable ({exc}): run `k8srun lab down`") from None


def save(state: dict) -> None:
    path = _state_path()
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(state, indent=2) + "\n")
    scratch.replace(path)


def is_up() -> bool:
    return load() is not None


# --------------------------------------------------------------- processes

#: PIDs this Python process spawned: reaped by down() even when another process (a `lab break` CLI, the
#: churner) stopped them, so no zombie is left behind in a long-lived parent (a test worker)
_SPAWNED: set[int] = set()


def _reap_spawned() -> None:
    for pid in list(_SPAWNED):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                _SPAWNED.discard(pid)
        except ChildProcessError:
            _SPAWNED.discard(pid)


def _spawn(argv: list[str], log: Path) -> int:
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
               (os.POSIX_SPAWN_DUP2, 1, 2)]
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsid=True)
    _SPAWNED.add(pid)
    return pid


def etcd_argv(name: str, cluster: list[str], *, new: bool, quota: int | None = None,
              directory: Path | None = None) -> list[str]:
    """The argv of member ``name`` (``cluster``: the names in --initial-cluster)."""
    argv = [shutil.which("etcd") or "etcd", "--name", name, "--data-dir", str(data_dir(name, directory)),
            "--listen-client-urls", client_url(name), "--advertise-client-urls", client_url(name),
            "--listen-peer-urls", peer_url(name), "--initial-advertise-peer-urls", peer_url(name),
            "--initial-cluster", ",".join(f"{m}={peer_url(m)}" for m in cluster),
            "--initial-cluster-state", "new" if new else "existing", "--initial-cluster-token", "k8srun-lab",
            "--heartbeat-interval", "50", "--election-timeout", "500", "--logger", "zap",
            "--log-outputs", "stderr"]
    if quota:
        argv += ["--quota-backend-bytes", str(quota)]
    return argv


def _pid_file(name: str) -> Path:
    return cp_dir() / f"{name}.pid"


def member_pid(name: str) -> int | None:
    """The running member's PID (pid files are the truth: the churner restarts members too)."""
    try:
        pid, _, argv = _pid_file(name).read_text().partition("\n")
        pid_n = int(pid)
    except (FileNotFoundError, ValueError):
        return None
    return pid_n if process_alive(pid_n, json.loads(argv)) else None


def start_member(name: str, argv: list[str]) -> int:
    pid = _spawn(argv, cp_dir() / f"{name}.log")
    scratch = _pid_file(name).with_suffix(".tmp")
    scratch.write_text(f"{pid}\n{json.dumps(argv)}")
    scratch.replace(_pid_file(name))
    return pid


def stop_member(name: str, sig: int = signal.SIGTERM) -> None:
    try:
        pid, _, argv = _pid_file(name).read_text().partition("\n")
    except FileNotFoundError:
        return
    if sig == signal.SIGKILL:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    stop_process(int(pid), json.loads(argv))


def member_argv(name: str) -> list[str] | None:
    try:
        return json.loads(_pid_file(name).read_text().partition("\n")[2])
    except FileNotFoundError:
        return None


def etcd_health(url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout_s) as answer:
            return json.loads(answer.read().decode()).get("health") == "true"
    except (OSError, ValueError):
        return False


def etcd_call(url: str, api: str, body: dict, timeout_s: float = 2.0) -> dict:
    """One call of etcd's JSON gateway (``/v3/...``)."""
    request = urllib.request.Request(url + api, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:
        return json.loads(answer.read().decode())


def wait_until(what: str, test: Callable[[], bool], timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        if time.monotonic() > deadline:
            raise LabError(f"control plane: {what} not ready after {timeout_s:g} s (logs in {cp_dir()})")
        time.sleep(0.05)


# ------------------------------------------------------------------ disk

def _image_path() -> Path:
    digest = hashlib.sha256(str(cp_dir()).encode()).hexdigest()[:12]
    return Path("/dev/shm") / f"k8srun-lab-etcd-{digest}.img"


def make_disk(state: dict) -> None:
    """A loop-mounted ext4 image (in /dev/shm) at ``<dir>/disk``."""
    image = _image_path()
    state["image"] = str(image)
    save(state)
    with open(image, "wb") as out:
        out.truncate(IMAGE_MB * 1024 * 1024)
    run(["mkfs.ext4", "-q", "-F", str(image)], timeout=30)
    device = run(["losetup", "--find", "--show", str(image)]).stdout.strip()
    state["loop"] = device
    save(state)
    mount = cp_dir() / "disk"
    mount.mkdir(exist_ok=True)
    run(["mount", device, str(mount)])
    state["mount"] = str(mount)
    rdev = os.stat(device).st_rdev
    state["device"] = f"{os.major(rdev)}:{os.minor(rdev)}"
    save(state)


def set_throttle(device: str, iops: int) -> None:
    """Root blkio cgroup write IOPS limit on ``device`` (``MAJ:MIN``); 0 removes it."""
    path = BLKIO / "blkio.throttle.write_iops_device"
    if not path.exists():
        raise LabError(f"{path} missing: this machine has no cgroup-v1 blkio controller at {BLKIO} "
                       "(etcd-slow-disk needs it)")
    path.write_text(f"{device} {iops}\n")


def throttled(device: str) -> int:
    path = BLKIO / "blkio.throttle.write_iops_device"
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == device:
                return int(parts[1])
    return 0


# --------------------------------------------------------------- certs / kubeconfig

def _issue_apiserver_cert(directory: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    certs.create_ca(directory)
    ca_cert = x509.load_pem_x509_certificate((directory / certs.CA_FILE).read_bytes())
    ca_key = serialization.load_pem_private_key((directory / certs.CA_KEY_FILE).read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    names = [x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default.svc"),
             x509.IPAddress(ipaddress.ip_address(APISERVER_ADDRESS))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / "apiserver.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs._write_key(directory / "apiserver-key.pem", key)


def write_kubeconfig(state: dict, *, scheme: str = "https") -> None:
    """``<dir>/kubeconfig`` (mode 0600): the stand-in, the lab CA, the lab-admin token."""
    import yaml

    ca = base64.b64encode((cp_dir() / certs.CA_FILE).read_bytes()).decode()
    config = {"apiVersion": "v1", "kind": "Config", "current-context": CONTEXT, "preferences": {},
              "clusters": [{"name": CONTEXT, "cluster": {"server": f"{scheme}://{APISERVER_ADDRESS}:{APISERVER_PORT}",
                                                         "certificate-authority-data": ca}}],
              "users": [{"name": USER, "user": {"token": state["token"]}}],
              "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": USER}}]}
    fd = os.open(kubeconfig_path(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(config, out, sort_keys=False)


def _apiserver_config(state: dict) -> dict:
    faults = state["faults"]
    token = secrets.token_hex(24) if "apiserver-unauthorized" in faults else state["token"]
    return {"address": APISERVER_ADDRESS, "port": APISERVER_PORT, "cert": str(cp_dir() / "apiserver.pem"),
            "key": str(cp_dir() / "apiserver-key.pem"), "tokens": {token: USER},
            "forbidden": [USER] if "apiserver-forbidden" in faults else [],
            "etcd_servers": [CLOSED_ETCD] if "apiserver-etcd-unready" in faults else endpoints()}


def write_apiserver_config(state: dict) -> None:
    path = cp_dir() / "apiserver.json"
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(_apiserver_config(state), out)
    path.with_suffix(".tmp").replace(path)


def _listening(address: str, port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=0.5):
        return True
    return False


def _apiserver_listening() -> bool:
    return _listening(APISERVER_ADDRESS, APISERVER_PORT)


def _ports_in_use() -> list[str]:
    """The control plane's addresses something already listens on (another control plane, under another dir)."""
    wanted = [(member_ip(m), port) for m in (*MEMBERS, EXTRA_MEMBER) for port in (2379, 2380)]
    return [f"{a}:{p}" for a, p in [*wanted, (APISERVER_ADDRESS, APISERVER_PORT)] if _listening(a, p)]


# ------------------------------------------------------------------ up / down

def up() -> bool:
    """Build the control plane; False when it is already up."""
    for tool in ("etcd", "etcdctl", "mkfs.ext4", "losetup", "mount"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} not found: apt-get install etcd-server etcd-client e2fsprogs mount")
    if is_up():
        return False
    busy = _ports_in_use()
    if busy:
        raise LabError(f"something already listens on {', '.join(busy)}: another control plane is up "
                       "(`k8srun lab down` with the K8SRUN_LAB_DIR it was built with)")
    directory = cp_dir()
    if directory.exists() and any(directory.iterdir()):
        raise LabError(f"{directory} exists and is not a control plane: run `k8srun lab down` first")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    state = {"faults": [], "token": secrets.token_urlsafe(32), "processes": {}}
    save(state)
    try:
        make_disk(state)
        for name in MEMBERS:
            start_member(name, etcd_argv(name, list(MEMBERS), new=True))
        for name in MEMBERS:
            wait_until(f"etcd {name}", lambda name=name: member_pid(name) is not None and etcd_health(client_url(name)))
        _issue_apiserver_cert(directory)
        write_apiserver_config(state)
        write_kubeconfig(state)
        argv = [sys.executable, "-m", "k8srun.lab.apiserver", str(directory / "apiserver.json")]
        pid = _spawn(argv, directory / "apiserver.log")
        state["processes"]["apiserver"] = {"pid": pid, "argv": argv}
        save(state)
        wait_until("API-server stand-in", lambda: process_alive(pid, argv) and _apiserver_listening())
    except BaseException:
        down()
        raise
    return True


def down() -> list[str]:
    """Stop every process, drop the throttle, unmount, detach, delete the image and the dir."""
    directory = cp_dir()
    try:
        state = load()
    except LabError:
        state = None
    if state is None and not directory.exists():
        return []
    state = state or {}
    removed: list[str] = []
    churn = state.get("processes", {}).get("churn")
    if churn:
        stop_process(churn["pid"], churn["argv"])
        removed.append(f"process churn (pid {churn['pid']})")
    for name in (*MEMBERS, EXTRA_MEMBER):
        pid = member_pid(name)
        if pid is not None:
            stop_member(name)
            removed.append(f"process {name} (pid {pid})")
    api = state.get("processes", {}).get("apiserver")
    if api:
        stop_process(api["pid"], api["argv"])
        removed.append(f"process apiserver (pid {api['pid']})")
    if state.get("device"):
        with contextlib.suppress(LabError, OSError):
            if throttled(state["device"]):
                set_throttle(state["device"], 0)
                removed.append(f"blkio throttle on {state['device']}")
    if state.get("mount") and os.path.ismount(state["mount"]):
        run(["umount", state["mount"]])
        removed.append(f"mount {state['mount']}")
    if state.get("loop"):
        listed = run(["losetup", "-n", "-O", "BACK-FILE", state["loop"]], check=False).stdout.strip()
        if listed and Path(listed).name == Path(state.get("image", "")).name:
            run(["losetup", "-d", state["loop"]])
            removed.append(f"loop device {state['loop']}")
    _reap_spawned()
    image = Path(state.get("image") or _image_path())
    if image.exists():
        image.unlink()
        removed.append(str(image))
    if directory.exists() and (_state_path(directory).exists() or not any(directory.iterdir())):
        if os.path.ismount(directory / "disk"):
            raise LabError(f"{directory / 'disk'} is still mounted: not removing {directory}")
        shutil.rmtree(directory)
        removed.append(str(directory))
    return removed


@contextlib.contextmanager
def control_plane_session(*, wait_s: float = 600.0) -> Iterator[dict]:
    """Hold the lab's machine-wide lock, bring a fresh control plane up, yield its state, always take it down."""
    with machine_lock(LOCK, wait_s):
        if not up():
            raise LabError("a control plane is already up: run `k8srun lab down` first")
        try:
            yield load()
        finally:
            down()


# ------------------------------------------------------------------ faults

@dataclass(frozen=True)
class CpFault:
    """A control-plane fault (see the module table)."""

    name: str
    finding: str
    description: str
    symptom: str
    where: str = "control plane"


def _leader(members: tuple[str, ...] = MEMBERS) -> str | None:
    for name in members:
        with contextlib.suppress(OSError, ValueError):
            status = etcd_call(client_url(name), "/v3/maintenance/status", {}, timeout_s=0.5)
            if status.get("leader") and status.get("leader") == status.get("header", {}).get("member_id"):
                return name
    return None


def _ensure_members() -> None:
    """Start every member that is not running (with the argv it last ran with)."""
    for name in MEMBERS:
        if member_pid(name) is None:
            argv = member_argv(name) or etcd_argv(name, list(MEMBERS), new=False)
            start_member(name, argv)
    for url in endpoints():
        wait_until(f"etcd {url}", lambda url=url: etcd_health(url))


def churn_loop(period_s: float = 1.5) -> None:
    """Kill the leader and restart it, forever (the churner process of etcd-leader-churn)."""
    while True:
        leader = _leader()
        if leader is not None:
            argv = member_argv(leader)
            stop_member(leader, signal.SIGKILL)
            time.sleep(0.3)
            start_member(leader, argv)
        time.sleep(period_s)


def _fill_quota() -> None:
    """Write values until the quota member's db is at QUOTA_FILL of its quota."""
    writer = client_url("etcd-2")
    value = base64.b64encode(os.urandom(192 * 1024)).decode()
    for index in range(200):
        status = etcd_call(client_url(QUOTA_MEMBER), "/v3/maintenance/status", {})
        if int(status.get("dbSize", 0)) >= QUOTA_FILL * QUOTA_BYTES:
            return
        key = base64.b64encode(f"/k8srun-lab/filler/{index:04d}".encode()).decode()
        etcd_call(writer, "/v3/kv/put", {"key": key, "value": value}, timeout_s=5)
        time.sleep(0.05)
    raise LabError("etcd-db-near-quota: the db did not grow to the quota")


def _restart_quota_member(quota: int | None) -> None:
    stop_member(QUOTA_MEMBER)
    start_member(QUOTA_MEMBER, etcd_argv(QUOTA_MEMBER, list(MEMBERS), new=False, quota=quota))
    wait_until(f"etcd {QUOTA_MEMBER}", lambda: etcd_health(client_url(QUOTA_MEMBER)))


def _etcdctl(*args: str) -> str:
    return run(["etcdctl", f"--endpoints={','.join(endpoints())}", "--dial-timeout=1s", "--command-timeout=5s",
                *args], timeout=15).stdout


def _retry(action: Callable[[], object], timeout_s: float = 15.0) -> None:
    """``action`` until it succeeds: etcd refuses reconfiguration for a few seconds after a member restarts
    ("etcdserver: unhealthy cluster")."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            action()
            return
        except LabError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def apply(name: str, state: dict) -> None:
    """Apply fault ``name`` (it is already in ``state['faults']``)."""
    if name == "etcd-member-down":
        stop_member("etcd-2")
    elif name == "etcd-even-members":
        _retry(lambda: _etcdctl("member", "add", EXTRA_MEMBER, f"--peer-urls={peer_url(EXTRA_MEMBER)}"))
        cluster = [*MEMBERS, EXTRA_MEMBER]
        data_dir(EXTRA_MEMBER).mkdir(mode=0o700, exist_ok=True)
        start_member(EXTRA_MEMBER, etcd_argv(EXTRA_MEMBER, cluster, new=False))
        wait_until(f"etcd {EXTRA_MEMBER}", lambda: etcd_health(client_url(EXTRA_MEMBER)))
    elif name == "etcd-leader-churn":
        argv = [sys.executable, "-c", "from k8srun.lab.controlplane import churn_loop; churn_loop()"]
        pid = _spawn(argv, cp_dir() / "churn.log")
        state["processes"]["churn"] = {"pid": pid, "argv": argv}
    elif name == "etcd-slow-disk":
        set_throttle(state["device"], THROTTLE_IOPS)
    elif name == "etcd-db-near-quota":
        _restart_quota_member(QUOTA_BYTES)
        _fill_quota()
    elif name == "kubeconfig-bad-server":
        write_kubeconfig(state, scheme="http")
    else:  # the stand-in's faults: its config is re-read on every request
        write_apiserver_config(state)


def revert(name: str, state: dict) -> None:
    """Revert fault ``name`` (already removed from ``state['faults']``)."""
    if name == "etcd-member-down":
        _ensure_members()
    elif name == "etcd-even-members":
        members = json.loads(_etcdctl("member", "list", "-w", "json"))
        for member in members.get("members", []):
            if member.get("name") == EXTRA_MEMBER or peer_url(EXTRA_MEMBER) in member.get("peerURLs", []):
                _retry(lambda member=member: _etcdctl("member", "remove", format(int(member["ID"]), "x")))
        stop_member(EXTRA_MEMBER)
        shutil.rmtree(data_dir(EXTRA_MEMBER), ignore_errors=True)
        _pid_file(EXTRA_MEMBER).unlink(missing_ok=True)
    elif name == "etcd-leader-churn":
        churn = state["processes"].pop("churn", None)
        if churn:
            stop_process(churn["pid"], churn["argv"])
        _ensure_members()
    elif name == "etcd-slow-disk":
        set_throttle(state["device"], 0)
    elif name == "etcd-db-near-quota":
        _etcdctl("del", "--prefix", "/k8srun-lab/filler/")
        _restart_quota_member(None)
    elif name == "kubeconfig-bad-server":
        write_kubeconfig(state)
    else:
        write_apiserver_config(state)


FAULTS: dict[str, CpFault] = {f.name: f for f in (
    CpFault("etcd-member-down", "ETCD-001", "etcd-2 stopped", "etcdctl endpoint health: etcd-2 unhealthy"),
    CpFault("etcd-even-members", "ETCD-002", "a 4th member etcd-4 joined", "member list shows 4 members"),
    CpFault("etcd-leader-churn", "ETCD-003", "the leader is killed and restarted every ~1.5 s",
            "etcd_server_leader_changes_seen_total climbs; 'etcdserver: leader changed'"),
    CpFault("etcd-slow-disk", "ETCD-004", f"write IOPS of etcd-3's disk throttled to {THROTTLE_IOPS}/s",
            "fio fdatasync p99 far above 10 ms in etcd-3's data dir"),
    CpFault("etcd-db-near-quota", "ETCD-005", f"etcd-1's quota {QUOTA_BYTES // 2**20} MiB, db filled to "
            f"{QUOTA_FILL:.0%}", "endpoint status: db size near the quota"),
    CpFault("apiserver-etcd-unready", "CP-005", "the API server's --etcd-servers point at a closed port",
            "/readyz?verbose: [-]etcd failed: reason withheld (500)"),
    CpFault("apiserver-unauthorized", "CP-003", "the kubeconfig's token is no longer accepted",
            "error: You must be logged in to the server (Unauthorized)"),
    CpFault("apiserver-forbidden", "CP-004", "RBAC grants lab-admin nothing",
            'pods is forbidden: User "lab-admin" cannot list resource "pods"'),
    CpFault("kubeconfig-bad-server", "CP-001", "the kubeconfig's server URL is http:// (the API server is HTTPS)",
            "kubectl: the server rejected the plain-HTTP request / connection reset"),
)}


def _toggle(name: str, on: bool) -> bool:
    """Apply (``on``) or revert fault ``name``; False when there was nothing to do."""
    state = load()
    if state is None:
        raise LabError("the control plane is not up: run `k8srun lab up --control-plane` first")
    if (name in state["faults"]) == on:
        return False
    change, undo = (state["faults"].append, state["faults"].remove) if on else \
        (state["faults"].remove, state["faults"].append)
    change(name)
    try:
        (apply if on else revert)(name, state)
    except BaseException:
        undo(name)
        raise
    finally:
        save(state)
    return True


def break_fault(name: str) -> bool:
    """Apply ``name``; False when it was already applied."""
    return _toggle(name, True)


def fix_fault(name: str) -> bool:
    """Revert ``name``; False when it was not applied."""
    return _toggle(name, False)


def status() -> list[dict]:
    """One row per process of the control plane: name, pid, address, running."""
    state = load() or {}
    rows = [{"name": name, "pid": member_pid(name) or "stopped", "address": client_url(name),
             "healthy": etcd_health(client_url(name), 0.5)} for name in (*MEMBERS, EXTRA_MEMBER)
            if _pid_file(name).exists()]
    api = state.get("processes", {}).get("apiserver")
    if api:
        rows.append({"name": "apiserver", "pid": api["pid"], "address": f"https://{APISERVER_ADDRESS}:{APISERVER_PORT}",
                     "healthy": process_cmdline(api["pid"]) is not None})
    return rows


__all__ = ["FAULTS", "up", "down", "break_fault", "fix_fault", "control_plane_session", "endpoints",
           "kubeconfig_path", "data_dir", "status"]
