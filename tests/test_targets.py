"""Targets: real commands on local / netns / ssh, a recording kubectl for node:, replay round trips."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import jc
import pandas as pd
import pytest

from k8srun.errors import ParameterError
from k8srun.parsers import iptables_save
from k8srun.targets import CommandResult, TargetError, host_dir, open_target, save_results
from k8srun.targets.node import DebugPodLeftBehind, NodeTarget
from k8srun.targets.process import SshTarget


# ---------------------------------------------------------------- local

def test_local_runs_ip_json_route():
    result = open_target("local").run("ip-route", ["ip", "-j", "route"])
    assert result.ok and result.exit_code == 0 and result.error is None
    assert isinstance(json.loads(result.stdout), list)
    assert result.target == "local" and result.argv == ("ip", "-j", "route")
    assert result.started_at.endswith("+00:00") and result.duration_s >= 0


def test_local_runs_sysctl():
    result = open_target("local").run("sysctl-ip-forward", ["sysctl", "net.ipv4.ip_forward"])
    assert result.ok
    assert jc.parse("sysctl", result.stdout, quiet=True)["net.ipv4.ip_forward"] in (0, 1)


def test_missing_tool_is_an_error_result_naming_tool_and_target():
    target = open_target("local")
    result = target.run("iptables-save", ["k8t-no-such-tool", "-c"])
    assert not result.ok and result.exit_code is None
    assert result.error == "k8t-no-such-tool not found on local"
    row = result.unavailable()
    assert (row.what, row.where, row.reason) == ("iptables-save", "local", result.error)
    assert target.results == [result]


def test_unavailable_refuses_a_successful_result():
    result = open_target("local").run("true", ["true"])
    with pytest.raises(ValueError):
        result.unavailable()


def test_non_zero_exit_is_an_error_result_with_stderr_line():
    result = open_target("local").run("ip-route-get", ["ip", "route", "get", "not-an-address"])
    assert result.exit_code != 0
    assert result.error.startswith(f"ip exited with code {result.exit_code} on local: ")
    assert "\n" not in result.error


def test_timeout_kills_and_reports():
    result = open_target("local").run("sleep", ["sleep", "5"], timeout_s=0.5)
    assert result.error == "sleep timed out after 0.5 s on local"
    assert result.exit_code == -9 and result.duration_s < 3


def test_timeout_kills_grandchildren_holding_the_output_pipe():
    spawner = "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)"
    result = open_target("local").run("spawner", [sys.executable, "-c", spawner], timeout_s=0.5)
    assert "timed out after 0.5 s" in result.error
    assert result.duration_s < 5  # the grandchild sleep was killed too, or communicate() would wait


def test_timeout_does_not_wait_for_a_process_that_left_the_group():
    """A daemon (setsid) holding the output pipe is not ours to kill, but the run still ends in time."""
    escaper = ("import subprocess, time; "
               "print(subprocess.Popen(['setsid', 'sleep', '8']).pid, flush=True); time.sleep(30)")
    result = open_target("local").run("escaper", [sys.executable, "-c", escaper], timeout_s=0.5)
    daemon = int(result.stdout)  # setsid execs sleep in place: this is the sleep's PID
    try:
        assert result.error == f"{sys.executable} timed out after 0.5 s on local"
        assert result.duration_s < 4
    finally:
        os.kill(daemon, signal.SIGKILL)


def test_commands_run_in_the_c_utf8_locale_whatever_the_callers(monkeypatch):
    """Tools like ping print "0,045 ms" under de_DE: parsers must always see the C locale's output."""
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    result = open_target("local").run("locale", ["printenv", "LC_ALL"])
    assert result.stdout == "C.UTF-8\n"


def test_default_timeout_comes_from_the_target():
    result = open_target("local", timeout_s=0.3).run("sleep", ["sleep", "5"])
    assert result.error == "sleep timed out after 0.3 s on local"


def test_run_many_shows_progress_only_for_more_than_a_few(capsys):
    target = open_target("local")
    few = target.run_many({"one": ["true"], "two": ["true"]})
    assert set(few) == {"one", "two"} and "cmd" not in capsys.readouterr().err
    many = target.run_many({f"n{i}": ["true"] for i in range(5)})
    bar = capsys.readouterr().err
    assert all(r.ok for r in many.values()) and "local:" in bar and "0/5" in bar and "cmd/s" in bar
    assert len(target.results) == 7


# ---------------------------------------------------------------- parameters

@pytest.mark.parametrize("spec", ["netns:../etc", "netns:a b", "netns:", "ssh:-oProxyCommand=x",
                                  "ssh:a b", "ssh:host:0", "ssh:host:\u0662\u0662", "ssh:[zz]:22", "ssh:bad user@host",
                                  "node:UPPER", "node:a_b", "node:", "localhost", "", "replay:"])
def test_invalid_target_specs_raise_parameter_error(spec, tmp_path):
    with pytest.raises(ParameterError):
        open_target(spec)


@pytest.mark.parametrize("spec, host", [("netns:pod-a", "netns_pod-a"), ("node:worker-1", "worker-1"),
                                        ("ssh:admin@db-1:2222", "db-1_2222"), ("ssh:10.0.0.5", "10.0.0.5"),
                                        ("ssh:[::1]:22", "__1_22"),
                                        ("local", socket.gethostname().replace("/", "_"))])
def test_valid_target_specs_and_their_host_dirs(spec, host):
    assert host_dir(spec) == host


@pytest.mark.parametrize("command_id", ["a b", "a/b", "../x", "", "Upper", "-x", ".hidden"])
def test_invalid_command_ids_raise(command_id):
    with pytest.raises(ParameterError):
        open_target("local").run(command_id, ["true"])


@pytest.mark.parametrize("argv", ["ls -l", [], [""], ["echo", 3], ["echo", "a\0b"]])
def test_invalid_argv_raises(argv):
    with pytest.raises(ParameterError):
        open_target("local").run("x", argv)


def test_valid_command_id_with_dots_and_underscores():
    assert open_target("local").run("fio.json_v1-2", ["true"]).ok


def test_node_image_is_validated():
    with pytest.raises(ParameterError):
        open_target("node:worker-1", image="--privileged")
    assert open_target("node:worker-1", image="nicolaka/netshoot:v0.13").image == "nicolaka/netshoot:v0.13"


# ---------------------------------------------------------------- ssh

def test_ssh_argv_quotes_the_remote_command():
    target = SshTarget("admin@db-1:2222", timeout_s=7)
    assert target.wrap(("echo", "a b; rm -rf /"), 7) == [
        "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=7", "-p", "2222", "-l", "admin",
        "--", "db-1", "env LC_ALL=C.UTF-8 echo 'a b; rm -rf /'"]


def test_ssh_to_a_closed_port_is_an_error_result():
    if shutil.which("ssh") is None:
        pytest.skip("no ssh client installed")
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = open_target(f"ssh:127.0.0.1:{port}", timeout_s=5).run("uname", ["uname", "-a"])
    assert result.exit_code == 255
    assert result.error.startswith(f"ssh connection for ssh:127.0.0.1:{port} failed: ")
    assert "refused" in result.error


# ---------------------------------------------------------------- node: with a recording kubectl

FAKE_KUBECTL = '''\
#!{python}
"""Stand-in for kubectl (no apiserver here): records argv, runs `chroot /host ARGV` locally."""
import json, os, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
while args[0] in ("--kubeconfig", "--context", "--namespace"):
    args = args[2:]
state = os.environ["FAKE_KUBECTL_LOG"] + ".exit"
if args[0] == "debug":
    node = args[1].split("/", 1)[1]
    if os.environ.get("FAKE_KUBECTL_MODE") == "no-node":
        print(f'Error from server (NotFound): nodes "{{node}}" not found', file=sys.stderr)
        sys.exit(1)
    print(f"Creating debugging pod node-debugger-{{node}}-x7k2q with container debugger on node {{node}}.",
          flush=True)
    command = args[args.index("--") + 1:]
    assert command[:2] == ["chroot", "/host"], command
    try:
        code = subprocess.run(command[2:]).returncode
    except FileNotFoundError:
        print(f"chroot: failed to run command '{{command[2]}}': No such file or directory", file=sys.stderr)
        code = 127
    open(state, "w").write(str(code))
elif args[0] == "get":
    print(open(state).read(), end="")
elif args[0] == "delete":
    if os.environ.get("FAKE_KUBECTL_MODE") == "delete-fails":
        print("error: You must be logged in to the server (Unauthorized)", file=sys.stderr)
        sys.exit(1)
    print(f'pod "{{args[2]}}" deleted')
'''


@pytest.fixture
def kubectl_log(tmp_path, monkeypatch):
    """A recording kubectl first on PATH; yields a function returning the argv it was called with."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(FAKE_KUBECTL.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "kubectl.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    return lambda: [json.loads(line) for line in log.read_text().splitlines()]


def test_node_runs_through_kubectl_debug_and_deletes_the_pod(kubectl_log, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    target = open_target("node:worker-1", kubeconfig=str(kubeconfig), context="prod",
                         namespace="k8srun", image="nicolaka/netshoot:v0.13")
    result = target.run("ip-route", ["ip", "-j", "route"])
    local = open_target("local").run("ip-route", ["ip", "-j", "route"])
    assert result.ok and result.exit_code == 0 and result.target == "node:worker-1"
    assert result.stdout == local.stdout  # the "Creating debugging pod" line is not part of the output
    scope = ["--kubeconfig", str(kubeconfig), "--context", "prod", "--namespace", "k8srun"]
    pod = "node-debugger-worker-1-x7k2q"
    assert kubectl_log() == [
        [*scope, "debug", "node/worker-1", "--profile=sysadmin", "--image=nicolaka/netshoot:v0.13",
         "--stdin=false", "--tty=false", "--attach=true", "--", "chroot", "/host", "ip", "-j", "route"],
        [*scope, "get", "pod", pod, "-o",
         "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}"],
        [*scope, "delete", "pod", pod, "--ignore-not-found", "--wait=false"],
    ]


def test_node_default_image_and_namespace(kubectl_log):
    open_target("node:worker-1").run("true", ["true"])
    debug = kubectl_log()[0]
    assert debug[:3] == ["--namespace", "default", "debug"] and "--image=nicolaka/netshoot" in debug


def test_node_command_exit_code_comes_from_the_container(kubectl_log):
    result = open_target("node:worker-1").run("ip-route-get", ["ip", "route", "get", "not-an-address"])
    assert result.exit_code == 1
    assert result.error.startswith("ip exited with code 1 on node:worker-1: ")
    assert kubectl_log()[-1][2] == "delete"


def test_node_missing_tool_names_tool_and_node_and_cleans_up(kubectl_log):
    result = open_target("node:worker-1").run("iptables-save", ["k8t-no-such-tool"])
    assert result.error == "k8t-no-such-tool not found on node:worker-1"
    assert kubectl_log()[-1][2:4] == ["delete", "pod"]


def test_node_timeout_still_deletes_the_pod(kubectl_log):
    result = open_target("node:worker-1").run("sleep", ["sleep", "5"], timeout_s=1)
    assert result.error == "sleep timed out after 1 s on node:worker-1"
    assert [call[2] for call in kubectl_log()] == ["debug", "delete"]


def test_node_that_does_not_exist_creates_and_deletes_nothing(kubectl_log, monkeypatch):
    monkeypatch.setenv("FAKE_KUBECTL_MODE", "no-node")
    result = open_target("node:worker-9").run("true", ["true"])
    assert result.error == ('kubectl debug exited with code 1 on node:worker-9: '
                            'Error from server (NotFound): nodes "worker-9" not found')
    assert [call[2] for call in kubectl_log()] == ["debug"]


def test_node_pod_that_cannot_be_deleted_is_named_in_a_warning(kubectl_log, monkeypatch):
    monkeypatch.setenv("FAKE_KUBECTL_MODE", "delete-fails")
    with pytest.warns(DebugPodLeftBehind, match="kubectl delete pod -n default node-debugger-worker-1-x7k2q"):
        result = open_target("node:worker-1").run("true", ["true"])
    assert result.ok


def test_node_without_kubectl_is_an_error_result(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = NodeTarget("worker-1").run("true", ["true"])
    assert result.error == "kubectl not found on this machine, needed for node:worker-1"


# ---------------------------------------------------------------- recording and replay (no root)

def test_save_is_byte_exact_and_replay_is_identical(tmp_path):
    target = open_target("local")
    raw = target.run("raw-bytes", ["printf", "\\377\\376ok\\n"])
    failed = target.run("missing", ["k8t-no-such-tool"])
    files = save_results(target.results, tmp_path)
    host = host_dir("local")
    assert (tmp_path / "hosts" / host / "raw-bytes.txt").read_bytes() == b"\xff\xfeok\n"
    assert len(files) == 4
    meta = json.loads((tmp_path / "hosts" / host / "missing.json").read_text())
    assert meta == {"target": "local", "argv": ["k8t-no-such-tool"], "exit_code": None, "stderr": "",
                    "duration_s": 0.0, "started_at": failed.started_at, "error": failed.error}
    replay = open_target(f"replay:{tmp_path}#{host}")
    assert replay.run("raw-bytes", ["printf", "\\377\\376ok\\n"]) == raw
    assert replay.run("missing", ["k8t-no-such-tool"]) == failed
    assert replay.results == [raw, failed]


def test_replay_of_an_uncaptured_command_or_other_argv_is_an_error_result(tmp_path):
    target = open_target("local")
    target.run("ip-route", ["ip", "route"])
    save_results(target.results, tmp_path)
    replay = open_target(f"replay:{tmp_path}")  # the only host is picked
    assert replay.run("ip-route", ["ip", "route"]).ok
    assert replay.run("fio", ["fio", "--version"]).error.endswith("fio not captured in the bundle "
                                                                  f"({replay.spec})")
    other = replay.run("ip-route", ["ip", "-j", "route"])
    assert "captured with a different argv ['ip', 'route']" in other.error


def test_replay_needs_a_host_when_the_bundle_has_several(tmp_path):
    results = [CommandResult(target=spec, command_id="true", argv=("true",), stdout="", stderr="",
                             exit_code=0, duration_s=0.0, started_at="2024-01-01T00:00:00+00:00")
               for spec in ("node:worker-1", "node:worker-2")]
    save_results(results, tmp_path)
    with pytest.raises(ParameterError, match="have: worker-1, worker-2"):
        open_target(f"replay:{tmp_path}")
    with pytest.raises(ParameterError, match="not recorded"):
        open_target(f"replay:{tmp_path}#worker-3")
    assert open_target(f"replay:{tmp_path}#worker-2").run("true", ["true"]) == results[1]


def test_save_refuses_one_id_for_two_argvs(tmp_path):
    target = open_target("local")
    target.run("probe", ["true"])
    target.run("probe", ["echo", "x"])
    with pytest.raises(TargetError, match="give each argv its own command id"):
        save_results(target.results, tmp_path)
    assert not (tmp_path / "hosts").exists()
    target.run("probe", ["echo", "x"])
    save_results(target.results[1:], tmp_path)  # the same argv twice is fine: the last one is kept


def test_recorded_source_answers_from_its_bundle(tmp_path):
    from k8srun.sources.snapshot import SnapshotSource

    (tmp_path / "nodes.json").write_text('{"kind": "NodeList", "apiVersion": "v1", "items": []}')
    recorded = CommandResult(target="netns:client", command_id="ip-route", argv=("ip", "route"),
                             stdout="default via 10.0.0.1 dev eth0\n", stderr="", exit_code=0,
                             duration_s=0.01, started_at="2024-01-01T00:00:00+00:00")
    save_results([recorded], tmp_path)
    source = SnapshotSource(tmp_path)
    assert open_target("netns:client", source=source).run("ip-route", ["ip", "route"]) == recorded
    assert open_target("", source=source).run("ip-route", ["ip", "route"]) == recorded
    # a captured bundle joined with a host it did not record: that host runs live, now
    live = open_target("local", source=source)
    assert type(live) is type(open_target("local")) and live.run("true", ["true"]).exit_code == 0
    # a built-in scenario never runs anything: an unrecorded host is a clear error
    scenario = SnapshotSource(tmp_path, kind="scenario", description="scenario:test")
    with pytest.raises(ParameterError, match="not recorded"):
        open_target("netns:server", source=scenario)


# ---------------------------------------------------------------- netns (root)

NS_ADDR = "10.231.7.1/24"
NODE_SET = {
    "ip-addr": ["ip", "-j", "addr"],
    "ip-route": ["ip", "-j", "route"],
    "sysctl-a": ["sysctl", "-a"],
    "iptables-save": ["iptables-save", "-c"],
}


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture(scope="module")
def netns():
    """A namespace with a veth pair, an address, forwarding on and one iptables rule."""
    name = f"k8t-tg-{os.getpid()}"
    sh("ip", "netns", "add", name)
    try:
        inside = ("ip", "netns", "exec", name)
        sh(*inside, "ip", "link", "add", "k8t-v0", "type", "veth", "peer", "name", "k8t-v1")
        sh(*inside, "ip", "addr", "add", NS_ADDR, "dev", "k8t-v0")
        sh(*inside, "ip", "link", "set", "k8t-v0", "up")
        sh(*inside, "ip", "link", "set", "k8t-v1", "up")
        sh(*inside, "sysctl", "-w", "net.ipv4.ip_forward=1")
        if shutil.which("iptables"):
            sh(*inside, "iptables", "-A", "INPUT", "-s", "10.231.7.9/32", "-j", "DROP")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.mark.netns
def test_netns_target_sees_the_namespace_view(netns):
    target = open_target(f"netns:{netns}")
    routes = json.loads(target.run("ip-route", ["ip", "-j", "route"]).stdout)
    assert routes == [{"dst": "10.231.7.0/24", "dev": "k8t-v0", "protocol": "kernel", "scope": "link",
                       "prefsrc": "10.231.7.1", "flags": []}]
    sysctl = target.run("sysctl", ["sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.k8t-v0.forwarding"])
    assert jc.parse("sysctl", sysctl.stdout, quiet=True) == {"net.ipv4.ip_forward": 1,
                                                             "net.ipv4.conf.k8t-v0.forwarding": 1}
    local = open_target("local").run("sysctl", ["sysctl", "net.ipv4.conf.k8t-v0.forwarding"])
    assert local.exit_code != 0 and "k8t-v0" in local.error  # that interface exists only in the namespace


@pytest.mark.netns
def test_netns_missing_tool_names_tool_and_namespace(netns):
    result = open_target(f"netns:{netns}").run("iptables-save", ["k8t-no-such-tool"])
    assert result.error == f"k8t-no-such-tool not found on netns:{netns}"


@pytest.mark.netns
def test_netns_that_does_not_exist_is_a_clear_error_result():
    result = open_target("netns:k8t-never-made").run("ip-route", ["ip", "route"])
    assert result.error.startswith("network namespace 'k8t-never-made' does not exist on this machine")
    assert "netns:k8t-never-made" in result.error


def node_frames(results: dict[str, CommandResult]) -> dict[str, pd.DataFrame]:
    """The DataFrames a runbook would build from the node command set."""
    sysctl = jc.parse("sysctl", results["sysctl-a"].stdout, quiet=True)
    return {
        "ip-addr": pd.json_normalize(json.loads(results["ip-addr"].stdout), "addr_info",
                                     ["ifname", "mtu", "operstate"], record_prefix="addr."),
        "ip-route": pd.json_normalize(json.loads(results["ip-route"].stdout)),
        "sysctl-a": pd.DataFrame(sorted(sysctl.items()), columns=["key", "value"]),
        "iptables-save": iptables_save.frame(results["iptables-save"].stdout),
    }


@pytest.mark.netns
def test_netns_round_trip_through_a_bundle_gives_identical_results_and_frames(netns, tmp_path):
    if shutil.which("iptables-save") is None:
        pytest.skip("iptables not installed (apt-get install iptables)")
    live = open_target(f"netns:{netns}").run_many(NODE_SET)
    assert all(result.ok for result in live.values()), [r.error for r in live.values()]
    save_results(live.values(), tmp_path)
    assert sorted(p.name for p in (tmp_path / "hosts" / f"netns_{netns}").iterdir()) == sorted(
        f"{name}.{ext}" for name in NODE_SET for ext in ("txt", "json"))

    replayed = open_target(f"replay:{tmp_path}#netns_{netns}").run_many(NODE_SET)
    assert replayed == live
    live_frames, replayed_frames = node_frames(live), node_frames(replayed)
    assert "10.231.7.1" in set(live_frames["ip-addr"]["addr.local"])
    assert "10.231.7.9/32" in set(live_frames["iptables-save"]["source"].dropna())
    for name in NODE_SET:
        pd.testing.assert_frame_equal(replayed_frames[name], live_frames[name])
