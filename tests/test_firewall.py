"""The firewall runbook (FW-001..003): pure parts, the probe, recorded scenarios, our own namespaces, the fault lab.

- pure: rule matching on a real ``iptables-save -c`` (captured from a netns router, tests/fixtures/firewall/)
  and hypothesis on port lists and mutated dumps, parameters, command shapes, the timeline picture;
- the probe on loopback: refused, HTTP status, reset after the request (a server that aborts);
- offline: the default scenario (recorded from the lab under firewall-reject, two hosts), a replay from
  "another machine", no dest / no source;
- live, our own topology (k8f- namespaces: client ── router ── server, our REJECT/DROP/string rules);
- live, the fault lab: CLI runs (healthy, firewall-drop under 20 s) and diagnose_runbook for the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8srun.checks import firewall
from k8srun.errors import ParameterError, ParseError
from k8srun.parsers import connect_probe, ip_route_get, iptables_save
from k8srun.probes import connect as probe_module
from k8srun.session import diagnose_runbook
from k8srun.sources import scenarios_dir
from netns_kit import routed_triangle, sh

HERE = Path(__file__).parent / "fixtures" / "firewall"
FW = ("FW-001", "FW-002", "FW-003")


def status(rb) -> dict[str, str]:
    table = rb.checks_table()
    return dict(zip(table["code"], table["status"]))


def codes(rb) -> list[str]:
    return sorted({f.code for f in rb.findings})


def one(rb, code: str):
    (found,) = [f for f in rb.findings if f.code == code]
    return found


# ------------------------------------------------------------------ pure: matching rules

def router_dump(name: str) -> pd.DataFrame:
    return iptables_save.frame((HERE / name).read_text())


def test_rules_of_a_real_router_judged_against_a_dnat_flow():
    """tests/fixtures/firewall/router-*.txt: iptables-save -c of a netns router before/after one probe of
    10.96.5.5:80 (DNAT to 10.58.2.10:8080) that a multiport REJECT icmp-host-unreachable took."""
    before, after = router_dump("router-before.txt"), router_dump("router-after.txt")
    flows = firewall.flows("10.96.5.5", 80, "tcp", before)
    assert list(zip(flows["dest"], flows["port"], flows["how"])) == [
        ("10.96.5.5", 80, "as sent"), ("10.58.2.10", 8080, "DNAT PREROUTING #1")]
    rules = firewall.rule_table(before, after, flows, "10.58.1.10", None)
    got = {int(r.position): (r.match, r.not_evaluated, r.moved) for r in rules.itertuples()}
    assert got == {1: ("yes", "", 1),                      # --dports 22,8000:8100 holds the DNATed 8080
                   2: ("no", "", 0),                       # udp 53
                   3: ("no", "", 0),                       # -s 10.58.9.0/24: our source is 10.58.1.10
                   4: ("no", "-m mark", 0),                # dport 443 decides, the mark is not evaluated
                   5: ("no", "", 0),                       # -d 10.58.2.99
                   6: ("no", "", 0),                       # string GET /admin: no request sent
                   7: ("no", "out-interface r1", 0)}       # dport 9090
    assert rules.iloc[0]["reject_with"] == "icmp-host-unreachable"
    # with the request the probe sends for /admin, the string rule matches (and only then)
    with_request = firewall.rule_table(before, None, flows, "10.58.1.10", "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")
    assert with_request.set_index("position").loc[6, "match"] == "yes"
    assert with_request["moved"].isna().all()  # no second read: no counter delta, never a guessed 0
    # the probe that ran between the two reads, and the client's route: the rule is FW-001, and FW-003 too
    probe = connect_probe.parse((HERE / "probe-clusterip-host-unreachable.json").read_text())[0]
    route = ip_route_get.frame((HERE / "client-route-get.json").read_text(), "", 0)
    found = firewall.diagnose(probe=probe, rules=rules, route=route, rules_target="netns:router",
                              source=route.iloc[0]["prefsrc"])
    assert [f.code for f in found] == ["FW-001", "FW-003"]
    assert {f.subject for f in found} == {"flow tcp 10.58.1.10 → 10.96.5.5:80"}
    assert "packets 0 → 1 (+1 during the probe)" in found[0].detail and "via 10.58.1.1 dev c0" in found[1].detail
    unrouted = ip_route_get.frame("", "RTNETLINK answers: Network is unreachable", 2)
    assert [f.code for f in firewall.diagnose(probe=probe, rules=rules, route=unrouted)] == ["FW-001"]


@pytest.mark.parametrize("rule, flow, expected", [
    ("-A F -p tcp -m tcp ! --dport 8080 -j DROP", {"dport": 8080}, "no"),
    ("-A F -p tcp -m tcp ! --dport 8080 -j DROP", {"dport": 80}, "yes"),
    ("-A F -p udp -j DROP", {}, "no"),
    ("-A F -p all -d 10.0.0.0/8 -j DROP", {}, "yes"),
    ("-A F ! -d 10.0.0.0/8 -j DROP", {}, "no"),
    ("-A F -s 10.1.0.0/16 -j DROP", {"source": None}, "maybe"),
    ("-A F -m set --match-set blocked dst -j DROP", {}, "maybe"),
    ("-A F -m conntrack --ctstate INVALID -j DROP", {}, "no"),
    ("-A F -m conntrack --ctstate NEW -j REJECT", {}, "yes"),
    ("-A F -m state ! --state ESTABLISHED,RELATED -j REJECT", {}, "yes"),
    ("-A F -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j REJECT", {}, "yes"),  # --syn as iptables-save writes it
    ("-A F -p tcp -m tcp --tcp-flags SYN,ACK ACK -j REJECT", {}, "no"),
    ("-A F -p tcp -m tcp --tcp-flags SYN,ACK ACK -j REJECT", {"request": "GET / HTTP/1.1"}, "yes"),
    ("-A F -f -j DROP", {}, "no"),
    ("-A F -p tcp -m tcp --dport 8000:9000 -j DROP", {}, "yes"),
    ("-A F -p tcp -m multiport --dports 22,443 -j DROP", {}, "no"),
    ("-A F -p tcp -m string --hex-string \"|47 45 54| /adm\" --algo bm -j DROP", {"request": "GET /admin"}, "yes"),
    ("-A F -p tcp -m string --string \"get /ADMIN\" --algo kmp --icase -j DROP", {"request": "GET /admin"}, "yes"),
    ("-A F -p tcp -m string --string \"POST\" --algo bm -j DROP", {"request": "GET /admin"}, "no"),
    ("-A F -i eth0 -p tcp -j DROP", {}, "maybe"),
])
def test_match_rule(rule, flow, expected):
    (row,) = iptables_save.parse(f"*filter\n:F - [0:0]\n{rule}\nCOMMIT\n")[1:]
    base = {"protocol": "tcp", "dest": "10.2.3.4", "dport": 8080, "source": "10.9.9.9", "request": None}
    verdict, why, unknown = firewall.match_rule(row, {**base, **flow})
    assert verdict == expected, (why, unknown)
    assert (verdict == "maybe") == bool(unknown) or verdict == "no"


@settings(max_examples=200, deadline=None)
@given(port=st.integers(1, 65535), parts=st.lists(st.tuples(st.integers(1, 65535), st.integers(0, 500)),
                                                   min_size=1, max_size=4))
def test_port_lists_agree_with_a_reference(port, parts):
    text = ",".join(f"{low}:{min(65535, low + span)}" if span else str(low) for low, span in parts)
    expected = any(low <= port <= min(65535, low + span) for low, span in parts)
    assert firewall._in_ports(port, text) is expected


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_matching_every_rule_of_a_mutated_real_dump_never_raises(data):
    lines = (HERE / "router-after.txt").read_text().splitlines()
    at = data.draw(st.integers(0, len(lines) - 1))
    lines[at] = lines[at][:data.draw(st.integers(0, len(lines[at])))] + data.draw(st.text(max_size=12))
    try:
        before = iptables_save.frame("\n".join(lines) + "\n")
    except ParseError:
        return
    flow = firewall.flows(data.draw(st.sampled_from(["10.96.5.5", "10.58.2.10", "fd00::1"])),
                          data.draw(st.integers(1, 65535)), data.draw(st.sampled_from(["tcp", "udp"])), before)
    rules = firewall.rule_table(before, before, flow, data.draw(st.sampled_from([None, "10.58.1.10"])),
                                data.draw(st.sampled_from([None, "GET /admin HTTP/1.1\r\n\r\n"])))
    assert set(rules["match"]) <= {"yes", "no", "maybe"} and list(rules.columns) == firewall.RULE_COLUMNS
    assert (rules["moved"].dropna() == 0).all()


# ------------------------------------------------------------------ parameters, commands, picture

@pytest.mark.parametrize("name, bad", [("dest", "a b"), ("dest", "-x"), ("url", "https://web/"), ("url", "ftp://x/"),
                                       ("url", "http://web/a b"), ("protocol", "icmp"), ("port", 0),
                                       ("rules_target", "bogus:x"), ("rules_target", "netns:")])
def test_bad_parameters_are_refused(name, bad):
    with pytest.raises(ParameterError):
        firewall.RUNBOOK.validate({"dest": "10.0.0.1", name: bad})


def test_good_parameters_are_cleaned():
    cleaned = firewall.RUNBOOK.validate({"dest": "Web.Default", "port": "8080", "protocol": "UDP",
                                         "url": "http://web.default:8080/admin?x=1", "rules_target": "netns:k8l-node-a"})
    assert (cleaned["dest"], cleaned["port"], cleaned["protocol"], cleaned["rules_target"]) == (
        "web.default", 8080, "udp", "netns:k8l-node-a")
    assert firewall.RUNBOOK.validate({"dest": "fd00::0001"})["dest"] == "fd00::1"


def test_probe_commands_one_id_per_argv_and_bounded_steps():
    plain = firewall.probe_command("10.96.0.50", 80, "tcp", "", 10, python="/py")
    with_url = firewall.probe_command("10.96.0.50", 80, "tcp", "http://web/admin", 10, python="/py")
    other_url = firewall.probe_command("10.96.0.50", 80, "tcp", "http://web/", 10, python="/py")
    assert plain.build({}) == ("connect-tcp-10.96.0.50-80", ("/py", "-m", "k8srun.probes.connect", "--dest",
                                                             "10.96.0.50", "--port", "80", "--protocol", "tcp",
                                                             "--timeout", "2"))
    assert with_url.build({})[0].startswith("connect-tcp-10.96.0.50-80-url-")
    assert len({plain.build({})[0], with_url.build({})[0], other_url.build({})[0]}) == 3
    assert (firewall.step_timeout(1), firewall.step_timeout(10), firewall.step_timeout(3600)) == (0.5, 2.0, 3.0)
    assert firewall.IPTABLES_AFTER.build({}) == ("iptables-save-after-probe", ("iptables-save", "-c"))
    assert firewall.IPTABLES_AFTER.name != firewall.IPTABLES_SAVE.name  # a failed re-read does not unmake the first


def _probe_row(name: str) -> dict:
    return connect_probe.parse((Path(__file__).parent / "fixtures" / "cmd" / f"connect-probe--{name}.out").read_text())[0]


def test_the_timeline_draws_what_came_back_and_where_the_rule_sits():
    before, after = router_dump("router-before.txt"), router_dump("router-after.txt")
    flows = firewall.flows("10.96.5.5", 80, "tcp", before)
    rules = firewall.rule_table(before, after, flows, "10.58.1.10", None)
    svg = str(firewall.timeline_chart(_probe_row("icmp-host-unreachable"), rules, target="netns:c",
                                      rules_target="netns:r", flow_frame=flows))
    assert "data-step='answer' data-outcome='unreachable'" in svg and "ICMP host-unreachable from 10.58.1.1" in svg
    assert "class='fw-rule' data-chain='K8F-FILTER' data-moved='1'" in svg and "DNAT → 10.58.2.10:8080" in svg
    quiet = firewall.rule_table(before, before, flows, "10.58.1.10", None)
    dropped = str(firewall.timeline_chart(_probe_row("timeout"), quiet))
    assert "data-outcome='timeout'" in dropped and "fw-no-rule" in dropped and "fw-rule'" not in dropped
    l7 = str(firewall.timeline_chart(_probe_row("l7-reset"), quiet))
    assert "data-step='request' data-outcome='reset'" in l7 and "GET /admin HTTP/1.1" in l7


# ------------------------------------------------------------------ the probe on loopback

class _Web(BaseHTTPRequestHandler):
    """/admin -> RST after reading the request (SO_LINGER 0), /rbac -> 403 as Envoy says it, /private -> plain 403."""

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/admin":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            self.connection.close()
            return
        status, body, server = {"/rbac": (403, b"RBAC: access denied", "envoy"),
                                "/private": (403, b"Forbidden", "web")}.get(self.path, (200, b"hello", "web"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def version_string(self):
        return {"/rbac": "envoy"}.get(self.path, "web")

    def log_message(self, *args):
        pass


WEB_SERVER = textwrap.dedent('''
    import socket, sys
    from http.server import ThreadingHTTPServer
    sys.path.insert(0, sys.argv[3])
    from test_firewall import _Web
    ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), _Web).serve_forever()
''')


@pytest.fixture(scope="module")
def loopback_web():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Web)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_probe_on_loopback(loopback_web, capsys):
    port = loopback_web
    ok = probe_module.probe("127.0.0.1", port, url=f"http://web.default:{port}/", timeout_s=2)
    assert (ok["outcome"], ok["l7"], ok["http_status"], ok["http_body"]) == ("open", "http", 200, "hello")
    reset = probe_module.probe("127.0.0.1", port, url=f"http://web.default:{port}/admin", timeout_s=2)
    assert (reset["outcome"], reset["l7"], reset["l7_errno"]) == ("open", "reset", "ECONNRESET")
    assert reset["request"].startswith("GET /admin HTTP/1.1\r\nHost: web.default:")
    rbac = probe_module.probe("127.0.0.1", port, url=f"http://x:{port}/rbac", timeout_s=2)
    assert (rbac["http_status"], rbac["http_server"], rbac["http_body"]) == (403, "envoy", "RBAC: access denied")
    with socket.socket() as closed:  # a port nothing listens on: RST, no ICMP
        closed.bind(("127.0.0.1", 0))
        free = closed.getsockname()[1]
    refused = probe_module.probe("127.0.0.1", free, timeout_s=1)
    assert (refused["outcome"], refused["errno"], refused["icmp"]) == ("refused", "ECONNREFUSED", None)
    udp = probe_module.probe("127.0.0.1", free, protocol="udp", timeout_s=1)
    assert (udp["outcome"], udp["icmp"]) == ("refused", "port-unreachable")
    for bad in (["--dest", "a b", "--port", "1"], ["--dest", "x", "--port", "0"], ["--dest", "x", "--port", "1",
                "--url", "https://x/"], ["--dest", "x", "--port", "1", "--protocol", "udp", "--url", "http://x/"]):
        with pytest.raises(SystemExit) as exited:
            probe_module.main(bad)
        assert exited.value.code == 2
    capsys.readouterr()
    assert probe_module.main(["--dest", "no-such-name.invalid", "--port", "80", "--timeout", "0.5"]) == 0
    (row,) = connect_probe.parse(capsys.readouterr().out)
    assert row["outcome"] == "error" and "does not resolve" in row["detail"]


def test_an_ipv6_flow_is_probed_and_what_cannot_be_judged_says_so():
    with socket.socket(socket.AF_INET6) as server:
        server.bind(("::1", 0))
        server.listen()
        rb = diagnose_runbook("firewall", source="none", target="local", dest="::1", port=server.getsockname()[1])
    assert rb._evidence["probe"]["outcome"] == "open" and rb.findings == []
    assert status(rb) == {"FW-001": "NOT CHECKED", "FW-002": "NOT CHECKED", "FW-003": "NOT CHECKED"}
    assert "ip6tables-save is not read" in " ".join(u.reason for u in rb.unavailable)


def test_fw002_decisions_on_probe_rows():
    """A filtering proxy's 403 is FW-002, the application's own 403 is not; L4 failures are not FW-002."""
    empty = pd.DataFrame(columns=firewall.RULE_COLUMNS)
    base = {**_probe_row("open-http"), "url": "http://web/x"}
    proxy = {**base, "http_status": 403, "http_reason": "Forbidden", "http_server": "envoy",
             "http_body": "RBAC: access denied"}
    (found,) = firewall.l7_blocked(proxy, empty, "netns:r", "flow")
    assert found.code == "FW-002" and "filtering proxy (body says 'RBAC: access denied')" in found.detail
    assert firewall.l7_blocked({**base, "http_status": 403, "http_server": "web", "http_body": "no"}, empty, "r", "f") == []
    assert firewall.l7_blocked({**base, "l7": "timeout"}, empty, "r", "f") == []  # slow server, no rule moved
    assert firewall.l7_blocked({**_probe_row("timeout"), "url": "http://web/"}, empty, "r", "f") == []


# ------------------------------------------------------------------ offline: recorded scenarios

@pytest.mark.parametrize("name, expected", [("firewall-host-unreachable", ["FW-001", "FW-003"]),
                                            ("firewall-l7", ["FW-002"])])
def test_the_other_recorded_scenarios(name, expected):
    rb = diagnose_runbook("firewall", source=f"scenario:{name}")
    assert codes(rb) == expected
    assert status(rb) == {**{c: "OK" for c in FW}, **dict.fromkeys(expected, "FOUND"),
                          **({"FW-002": "NOT CHECKED"} if name == "firewall-host-unreachable" else {})}  # no url
    probe = rb._evidence["probe"]
    if name == "firewall-l7":
        assert (probe["outcome"], probe["l7"]) == ("open", "reset")
        assert "-m string --string \"GET /admin\"" in one(rb, "FW-002").evidence["rules"][0]["rule"]
    else:
        assert (probe["errno"], probe["icmp"]) == ("EHOSTUNREACH", "host-unreachable")


def test_default_scenario_names_the_rule_and_its_counter():
    rb = diagnose_runbook("firewall", source="scenario:firewall")
    assert codes(rb) == ["FW-001"]
    assert status(rb) == {"FW-001": "FOUND", "FW-002": "NOT CHECKED", "FW-003": "OK"}
    found = one(rb, "FW-001")
    assert found.subject == "flow tcp 10.244.1.10 → 10.96.0.50:80"
    rule = found.evidence["rule"]
    assert rule["chain"] == "FORWARD" and "firewall-reject" in rule["rule"] and rule["moved"] >= 1
    assert rule["packets_after"] == rule["packets_before"] + rule["moved"]
    assert "ICMP port-unreachable" in found.detail and "DNAT KUBE-SEP-" in found.detail
    assert "tcp to 10.96.0.50:80 (Service default/web:http) refused" in found.detail  # named by the lab's API
    assert [u.reason for u in rb.unavailable] == ["the L4 connect failed (refused): no request was sent"]
    assert list(rb.verdicts()["verdict"]) == ["FOUND"]


def test_a_recording_made_with_another_python_replays(tmp_path):
    copy = tmp_path / "firewall"
    shutil.copytree(scenarios_dir() / "firewall", copy)
    (meta_path,) = (copy / "hosts").glob("*/connect-*.json")
    meta = json.loads(meta_path.read_text())
    meta["argv"][0] = "/opt/elsewhere/venv/bin/python3"
    meta_path.write_text(json.dumps(meta))
    assert codes(diagnose_runbook("firewall", source=str(copy))) == ["FW-001"]
    for path in (copy / "hosts" / "netns_k8l-node-a").iterdir():  # the rules hop's outputs gone: FW-001 undecided
        path.rename(path.with_name("other-" + path.name))
    gone = diagnose_runbook("firewall", source=str(copy))
    assert status(gone)["FW-001"] == "NOT CHECKED" and codes(gone) == []


def test_without_dest_or_source_nothing_reads_healthy():
    rb = diagnose_runbook("firewall", source="none")
    assert set(status(rb).values()) == {"NOT CHECKED"} and rb.findings == []
    assert "no dest given" in " ".join(u.reason for u in rb.unavailable)
    assert rb.verdicts().empty  # no flow was probed, so none is judged


# ------------------------------------------------------------------ live: our own namespaces

@pytest.fixture(scope="module")
def own_net(tmp_path_factory):
    """client 10.59.1.2 ── router (10.59.1.1 | 10.59.2.1) ── server 10.59.2.2 running _Web on 8080 (k8f- netns)."""
    proc = None
    with routed_triangle("k8f", "10.59") as net:
        try:
            # a ClusterIP-like address the router DNATs to the server, as kube-proxy would
            sh("ip", "netns", "exec", net["router"], "iptables", "-w", "2", "-t", "nat", "-A", "PREROUTING", "-d",
               "10.96.9.9/32", "-p", "tcp", "--dport", "80", "-j", "DNAT", "--to-destination", "10.59.2.2:8080")
            script = tmp_path_factory.mktemp("k8f") / "web.py"
            script.write_text(WEB_SERVER)
            proc = subprocess.Popen(["ip", "netns", "exec", net["server"], sys.executable, str(script), "10.59.2.2",
                                     "8080", str(Path(__file__).parent)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(50):  # until it answers (bounded: 50 probes of at most 0.2 s)
                out = subprocess.run(["ip", "netns", "exec", net["client"], sys.executable, "-m",
                                      "k8srun.probes.connect", "--dest", "10.59.2.2", "--port", "8080", "--timeout",
                                      "0.2"], capture_output=True, text=True, timeout=10).stdout
                if '"open"' in out:
                    break
            yield net
        finally:
            if proc is not None:
                os.kill(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)


def own_run(net, *, rules_on: str = "router", **values):
    values = {"dest": "10.59.2.2", "port": 8080, "timeout_s": 3, **values}
    return diagnose_runbook("firewall", source="none", target=f"netns:{net['client']}",
                            rules_target=f"netns:{net[rules_on]}" if rules_on != "client" else "", **values)


class rule:  # noqa: N801 - a context manager read as a phrase: `with rule(net, "router", "FORWARD", ...)`
    """Insert an iptables rule in a namespace of ours for the block, delete it after."""

    def __init__(self, net, where, chain, *spec):
        self.argv = ["ip", "netns", "exec", net[where], "iptables", "-w", "2"]
        self.chain, self.spec = chain, list(spec)

    def __enter__(self):
        sh(*self.argv, "-I", self.chain, "1", *self.spec)

    def __exit__(self, *exc):
        subprocess.run([*self.argv, "-D", self.chain, *self.spec], capture_output=True, timeout=10)


@pytest.mark.netns
def test_own_topology_healthy_with_a_rule_that_does_not_match(own_net):
    with rule(own_net, "router", "FORWARD", "-p", "tcp", "--dport", "9999", "-j", "REJECT"):
        rb = own_run(own_net, url="http://web.default/")
    assert rb.findings == [] and set(status(rb).values()) == {"OK"}
    assert rb.unavailable == [] and rb._evidence["dest_is"] == []  # no cluster source: no label, nothing missing
    probe = rb._evidence["probe"]
    assert (probe["outcome"], probe["l7"], probe["http_status"]) == ("open", "http", 200)
    assert list(rb._evidence["rules"]["match"]) == ["no"]
    assert list(rb.verdicts()["subject"]) == ["flow tcp 10.59.1.2 → 10.59.2.2:8080"]


@pytest.mark.netns
@pytest.mark.parametrize("where, chain, spec, values, expected, outcome", [
    ("router", "FORWARD", ["-p", "tcp", "--dport", "8080", "-j", "REJECT"], {}, ["FW-001"], "refused"),
    ("router", "FORWARD", ["-p", "tcp", "--dport", "8080", "-j", "REJECT", "--reject-with", "tcp-reset"], {},
     ["FW-001"], "refused"),
    ("router", "FORWARD", ["-p", "tcp", "--dport", "8080", "-j", "DROP"], {}, ["FW-001"], "timeout"),
    ("router", "FORWARD", ["-p", "tcp", "-d", "10.59.2.0/24", "-j", "REJECT", "--reject-with", "icmp-host-unreachable"],
     {}, ["FW-001", "FW-003"], "unreachable"),
    ("router", "FORWARD", ["-p", "tcp", "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"],
     {"dest": "10.96.9.9", "port": 80}, ["FW-001", "FW-003"], "unreachable"),
    ("router", "FORWARD", ["-p", "tcp", "--dport", "8080", "-m", "string", "--string", "GET /admin", "--algo", "bm",
                           "-j", "REJECT", "--reject-with", "tcp-reset"],
     {"url": "http://web.default/admin"}, ["FW-002"], "open"),
    ("client", "OUTPUT", ["-p", "tcp", "-d", "10.59.2.2", "-j", "DROP"], {}, ["FW-001"], "timeout"),
    ("router", "FORWARD", ["-p", "udp", "--dport", "53", "-j", "DROP"], {"protocol": "udp", "port": 53}, ["FW-001"],
     "no-reply"),
    ("router", "FORWARD", ["-p", "udp", "--dport", "53", "-j", "REJECT"], {"protocol": "udp", "port": 53}, ["FW-001"],
     "refused"),
], ids=["reject", "tcp-reset", "drop", "host-unreachable", "admin-prohibited-via-dnat", "l7-string", "own-output",
        "udp-drop", "udp-reject"])
def test_own_topology_broken_variants(own_net, where, chain, spec, values, expected, outcome):
    with rule(own_net, where, chain, *spec):
        rb = own_run(own_net, rules_on=where, **values)
    assert codes(rb) == expected and rb._evidence["probe"]["outcome"] == outcome
    proof = one(rb, expected[0]).evidence["rules"][0]
    assert proof["chain"] == chain and proof["moved"] >= 1
    if values.get("dest") == "10.96.9.9":  # judged as the DNATed flow the router's filter sees
        assert "10.59.2.2:8080 (DNAT PREROUTING #1)" in proof["flow"]


@pytest.mark.netns
def test_own_topology_not_a_filter_and_not_checked_places(own_net):
    nothing = own_run(own_net, port=8081)  # nothing listens: RST from the server, no rule moved
    assert nothing.findings == [] and status(nothing)["FW-001"] == "OK"
    assert nothing._evidence["probe"]["outcome"] == "refused" and nothing._evidence["probe"]["icmp"] is None
    udp = own_run(own_net, protocol="udp", port=53)  # the server's own ICMP port unreachable: not a filter
    assert udp.findings == [] and udp._evidence["probe"]["icmp_from"] == "10.59.2.2"
    proxy = own_run(own_net, url="http://web.default/rbac")
    assert codes(proxy) == ["FW-002"] and "RBAC: access denied" in one(proxy, "FW-002").detail
    app = own_run(own_net, url="http://web.default/private")  # the application's own 403
    assert app.findings == [] and app._evidence["probe"]["http_status"] == 403
    with rule(own_net, "router", "FORWARD", "-p", "tcp", "--dport", "8080", "-j", "DROP"):
        elsewhere = own_run(own_net, rules_on="client")  # rules read where the filter is not
    assert elsewhere.findings == [] and elsewhere._evidence["probe"]["outcome"] == "timeout"


# ------------------------------------------------------------------ live: the fault lab

def k8srun(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "k8srun.cli", *args], capture_output=True, text=True, timeout=300)


LAB_FLOW = ("-p", "source", "lab", "-p", "target", "netns:k8l-pod-a", "-p", "rules_target", "netns:k8l-node-a",
            "-p", "dest", "10.96.0.50", "-p", "port", "80", "-p", "url", "http://web.default/")


def run_lab(report: Path) -> dict:
    done = k8srun("run", "firewall", *LAB_FLOW, "--out", str(report), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((report / "firewall.findings.json").read_text())


@pytest.mark.netns
def test_lab_healthy_through_the_cli_and_its_report_replays(fault_lab, tmp_path):
    report = run_lab(tmp_path / "healthy")
    assert not {f["code"] for f in report["findings"]} & set(FW) and report["not_checked"] == []
    assert {p.name for p in (tmp_path / "healthy" / "hosts").iterdir()} == {"netns_k8l-pod-a", "netns_k8l-node-a"}
    replay = diagnose_runbook("firewall", source=str(tmp_path / "healthy"))  # both places replay
    assert replay.findings == [] and set(status(replay).values()) == {"OK"}
    assert replay._evidence["probe"]["http_status"] == 200


@pytest.mark.netns
def test_lab_firewall_drop_through_the_cli_in_under_20_s(fault_lab, tmp_path):
    from k8srun.lab import control

    control.break_fault("firewall-drop", fault_lab)
    try:
        started = time.monotonic()
        report = run_lab(tmp_path)
        took = time.monotonic() - started
    finally:
        control.fix_fault("firewall-drop", fault_lab)
    assert took < 20, f"{took:.1f} s"
    (found,) = [f for f in report["findings"] if f["code"] in FW]
    assert found["code"] == "FW-001" and found["evidence"]["probe"]["outcome"] == "timeout"
    assert "firewall-drop" in found["evidence"]["rule"]["rule"] and found["evidence"]["rule"]["moved"] >= 1


@pytest.mark.netns
@pytest.mark.parametrize("fault, values, expected", [
    ("firewall-reject", {"dest": "10.244.2.10", "port": 8080}, ["FW-001"]),
    ("firewall-host-unreachable", {"dest": "10.244.2.10", "port": 8080}, ["FW-001", "FW-003"]),
    ("firewall-l7", {"dest": "10.244.2.10", "port": 8080, "url": "http://10.244.2.10:8080/admin",
                     "rules_target": "netns:k8l-node-b"}, ["FW-002"]),
    ("dns-down", {"dest": "10.96.0.10", "port": 53}, ["FW-001"]),  # kube-proxy's REJECT for kube-dns
])
def test_lab_firewall_faults(fault_lab, fault, values, expected):
    from k8srun.lab import control

    values = {"target": "netns:k8l-pod-a", "rules_target": "netns:k8l-node-a", **values}
    control.break_fault(fault, fault_lab)
    try:
        rb = diagnose_runbook("firewall", source="lab", **values)
        other_path = diagnose_runbook("firewall", source="lab", **{**values, "url": "http://10.244.2.10:8080/"}) \
            if fault == "firewall-l7" else None
    finally:
        control.fix_fault(fault, fault_lab)
    assert codes(rb) == expected
    proof = one(rb, expected[-1] if fault == "firewall-l7" else "FW-001").evidence["rules"][0]
    assert proof["moved"] >= 1
    if fault == "dns-down":
        assert proof["chain"] == "KUBE-SERVICES" and "kube-system/kube-dns:dns-tcp has no endpoints" in proof["rule"]
        assert "Service without ready endpoints" in one(rb, "FW-001").detail
        assert "(Service kube-system/kube-dns:dns-tcp)" in one(rb, "FW-001").detail
    else:
        assert f"k8srun-lab {fault}" in proof["rule"]
    if fault == "firewall-host-unreachable":
        assert "'No route to host' (ICMP host-unreachable" in one(rb, "FW-003").detail
        assert one(rb, "FW-003").evidence["route"]["routed"] is True
    if other_path is not None:  # the same flow without /admin passes the string rule
        assert other_path.findings == [] and other_path._evidence["probe"]["http_status"] == 200


def test_an_address_is_named_after_its_pod_never_after_a_host_network_pod_with_that_address(tmp_path):
    """firewall and dns name an address's owner from the session's pods frame (cached, a few fields):
    the pod whose IP it is, not a host-network pod (kube-proxy) whose podIP is its node's address,
    though that one comes first."""
    from bundles import write_bundle
    from k8srun.checks import dns
    from k8srun.session import Session

    root = write_bundle(tmp_path / "bundle", extra_pods=1)
    listing = json.loads((root / "default" / "pods.json").read_text())
    proxy = json.loads(json.dumps(listing["items"][0]))
    proxy["metadata"]["name"] = "node-agent-a"
    proxy["spec"]["hostNetwork"] = True
    proxy["status"]["podIP"] = "127.0.0.1"  # the node's address, as for every host-network pod
    listing["items"].insert(0, proxy)
    (root / "default" / "pods.json").write_text(json.dumps(listing))
    shop = json.loads((root / "shop" / "pods.json").read_text())
    shop["items"][0]["status"]["podIP"] = "127.0.0.1"  # cart-0 answers on this address (its pod network)
    (root / "shop" / "pods.json").write_text(json.dumps(shop))

    rb = Session.start("firewall", source=str(root), show=False, target="local")
    assert firewall.dest_names(rb, "127.0.0.1", 80, "tcp") == ["pod shop/cart-0"]
    assert firewall.dest_names(rb, "10.9.9.9", 80, "tcp") == []
    rb = Session.start("dns", source=str(root), show=False, target="local")
    assert dns.pod_namespace(rb) == "shop"  # 127.0.0.1 is an address of this machine (local target)
