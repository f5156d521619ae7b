"""Golden tests of k8srun.parsers: real captured outputs → expected rows.

Fixtures: ``tests/fixtures/cmd/<parser>--<case>.out`` and ``.json``,
discovered by glob (``capture.py`` there regenerates them).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from k8srun.errors import ParseError
from k8srun.parsers import PARSERS, fio, ip_route_get, iptables_save, ipvsadm, jc_wrappers, parse
from k8srun.parsers import frame as parser_frame
from k8srun.targets import CommandResult
from k8srun.targets.replay import load_result

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"
#: ``ip -j route get`` answers captured from real ip (tests/fixtures/cmd/routing-sysctl/capture.py)
ROUTE_GET_CAPTURED = FIXTURES / "routing-sysctl" / "hosts" / "netns_rtc-a"
GOLDEN = sorted(FIXTURES.glob("*--*.out"))


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.out").read_text()


@pytest.mark.parametrize("out", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden(out: Path):
    parser = out.name.split("--", 1)[0]
    expected = json.loads(out.with_suffix(".json").read_text())
    assert parse(parser, out.read_text()) == expected


def test_every_parser_has_a_golden_fixture():
    assert {p.name.split("--", 1)[0] for p in GOLDEN} == set(PARSERS)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_empty_input_gives_empty_frame_with_columns(name):
    df = parser_frame(name, "")
    assert df.empty and len(df.columns) >= 2
    assert list(df.columns) == list(parser_frame(name, fixture(next(
        p.stem for p in GOLDEN if p.name.startswith(name + "--")))).columns)


def test_unknown_parser_name():
    with pytest.raises(ParseError, match="no parser"):
        parse("nope", "")


# --- iptables-save ---------------------------------------------------------

def test_iptables_rule_structure():
    rows = iptables_save.parse(fixture("iptables-save--nft-counters"))
    quoted = next(r for r in rows if r["chain"] == "INPUT" and r["kind"] == "rule")
    assert quoted["comment"] == 'quoted "name" with \\ backslash'
    assert {"module": "udp", "option": "dport", "value": "53", "negated": True} in quoted["matches"]
    assert (quoted["packets"], quoted["bytes"]) == (0, 0)
    masq = next(r for r in rows if r["chain"] == "KUBE-SVC-LAB7WEB4SVCHASH0" and r["position"] == 1)
    assert masq["source"] == "!10.244.0.0/16" and masq["target"] == "KUBE-MARK-MASQ"
    dnat = next(r for r in rows if r["chain"] == "KUBE-SEP-LAB7POD1SEPHASH0" and r["target"] == "DNAT")
    assert dnat["target_options"] == {"to-destination": "10.244.1.5:8080"}
    prerouting = next(r for r in rows if r["kind"] == "chain" and r["chain"] == "PREROUTING")
    assert prerouting["policy"] == "ACCEPT" and prerouting["packets"] is not None


def test_iptables_counters_in_rule_and_goto():
    rows = iptables_save.parse("*filter\n:X - [0:0]\n-A X -s 10.0.0.1/32 -c 12 3400 -g Y\nCOMMIT\n")
    assert (rows[1]["packets"], rows[1]["bytes"], rows[1]["target"], rows[1]["goto"]) == (12, 3400, "Y", True)


@pytest.mark.parametrize("bad", ["-A X -j ACCEPT\n", "*nat\n-A X -m comment --comment \"open\n",
                                 "*nat\n[1:2]\n", "*nat\n-A X ! \n", "hello world\n"])
def test_iptables_garbage_raises_parse_error(bad):
    with pytest.raises(ParseError):
        iptables_save.parse(bad)


@pytest.mark.parametrize("case", ["nft-kube-proxy", "nft-counters", "legacy-counters"])
def test_kube_proxy_services_from_text_equals_from_rows(case):
    text = fixture(f"iptables-save--{case}")
    from_text = iptables_save.kube_proxy_services(text)
    pd.testing.assert_frame_equal(from_text, iptables_save.kube_proxy_services(iptables_save.parse(text)))
    web = from_text[from_text.service == "lab/web:http"]
    assert list(web.backend_ip) == ["10.244.1.5", "10.244.2.5"]
    assert list(web.share) == [0.5, 0.5] and web.masquerade.all() and (web.status == "ok").all()
    empty = from_text[from_text.service == "lab/empty:http"].iloc[0]
    assert (empty.status, empty.cluster_ip, empty.node_port) == ("no-endpoints", "10.96.0.60", 30090)


def test_kube_proxy_node_port_only_where_written():
    nft = iptables_save.kube_proxy_services(fixture("iptables-save--nft-kube-proxy"))
    legacy = iptables_save.kube_proxy_services(fixture("iptables-save--legacy-counters"))
    assert nft.loc[nft.service == "lab/web:http", "node_port"].tolist() == [30080, 30080]
    assert legacy.loc[legacy.service == "lab/web:http", "node_port"].isna().all()


@pytest.mark.parametrize("bad", ["*filter\n:X - [0:0]\n-A X -c 1\u00b2 2 -j ACCEPT\nCOMMIT\n",
                                 "*filter\n:X - [0:0]\n-A X -c \u0661 2 -j ACCEPT\nCOMMIT\n"])
def test_iptables_counters_must_be_ascii_numbers(bad):
    with pytest.raises(ParseError, match="-c needs two counters"):
        iptables_save.parse(bad)


def test_kube_proxy_garbled_numbers():
    """A port that is not an ASCII number is no port; a probability that is no number is a ParseError."""
    text = fixture("iptables-save--nft-kube-proxy")
    ports = iptables_save.kube_proxy_services(text.replace("--dport 80 ", "--dport 8\u00b2 "))
    assert ports.loc[ports.service == "lab/web:http", "port"].isna().all()
    with pytest.raises(ParseError, match="--probability '0.5x"):
        iptables_save.kube_proxy_services(text.replace("--probability 0.5", "--probability 0.5x"))


@pytest.mark.parametrize("bad", ["TCP  10.96.0.10:5\u00b2 rr\n", "FWM  1\u00b2 rr\n",
                                 "TCP  10.96.0.10:53 rr\n  -> 10.244.0.2:53   Masq    1\u00b2      0          0\n",
                                 "TCP  10.96.0.10:53 rr persistent \u00b2\n"])
def test_ipvsadm_numbers_must_be_ascii(bad):
    with pytest.raises(ParseError):
        ipvsadm.parse(bad)


# iptables-save / ip6tables-save (v1.8.9, nf_tables) of kube-proxy-style rules loaded into a scratch netns
SESSION_AFFINITY_DUMP = """\
# Generated by iptables-save v1.8.9 (nf_tables) on Thu Nov 26 07:11:55 2026
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-EXT-AFF4WEB0SVCHASH0 - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-SEP-AFF4POD1SEPHASH0 - [0:0]
:KUBE-SEP-AFF4POD2SEPHASH0 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AFF4WEB0SVCHASH0 - [0:0]
-A KUBE-EXT-AFF4WEB0SVCHASH0 -m comment --comment "masquerade traffic for lab/sticky:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-AFF4WEB0SVCHASH0 -j KUBE-SVC-AFF4WEB0SVCHASH0
-A KUBE-NODEPORTS -p tcp -m comment --comment "lab/sticky:http" -m tcp --dport 30070 -j KUBE-EXT-AFF4WEB0SVCHASH0
-A KUBE-SEP-AFF4POD1SEPHASH0 -s 10.244.1.5/32 -m comment --comment "lab/sticky:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AFF4POD1SEPHASH0 -p tcp -m comment --comment "lab/sticky:http" -m recent --set --name KUBE-SEP-AFF4POD1SEPHASH0 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-AFF4POD2SEPHASH0 -s 10.244.2.5/32 -m comment --comment "lab/sticky:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AFF4POD2SEPHASH0 -p tcp -m comment --comment "lab/sticky:http" -m recent --set --name KUBE-SEP-AFF4POD2SEPHASH0 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.2.5:8080
-A KUBE-SERVICES -d 10.96.0.70/32 -p tcp -m comment --comment "lab/sticky:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AFF4WEB0SVCHASH0
-A KUBE-SVC-AFF4WEB0SVCHASH0 ! -s 10.244.0.0/16 -d 10.96.0.70/32 -p tcp -m comment --comment "lab/sticky:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-AFF4WEB0SVCHASH0 -m comment --comment "lab/sticky:http -> 10.244.1.5:8080" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-AFF4POD1SEPHASH0 --mask 255.255.255.255 --rsource -j KUBE-SEP-AFF4POD1SEPHASH0
-A KUBE-SVC-AFF4WEB0SVCHASH0 -m comment --comment "lab/sticky:http -> 10.244.2.5:8080" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-AFF4POD2SEPHASH0 --mask 255.255.255.255 --rsource -j KUBE-SEP-AFF4POD2SEPHASH0
-A KUBE-SVC-AFF4WEB0SVCHASH0 -m comment --comment "lab/sticky:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AFF4POD1SEPHASH0
-A KUBE-SVC-AFF4WEB0SVCHASH0 -m comment --comment "lab/sticky:http -> 10.244.2.5:8080" -j KUBE-SEP-AFF4POD2SEPHASH0
COMMIT
# Completed on Thu Nov 26 07:11:55 2026
"""
IPV6_DUMP = """\
# Generated by ip6tables-save v1.8.9 (nf_tables) on Thu Nov 26 07:11:55 2026
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SEP-V6POD1SEPHASH000 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-V6WEB0SVCHASH000 - [0:0]
-A KUBE-SEP-V6POD1SEPHASH000 -s fd00:10:244:1::5/128 -m comment --comment "lab/web6:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-V6POD1SEPHASH000 -p tcp -m comment --comment "lab/web6:http" -m tcp -j DNAT --to-destination [fd00:10:244:1::5]:8080
-A KUBE-SERVICES -d fd00:10:96::50/128 -p tcp -m comment --comment "lab/web6:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-V6WEB0SVCHASH000
-A KUBE-SVC-V6WEB0SVCHASH000 ! -s fd00:10:244::/56 -d fd00:10:96::50/128 -p tcp -m comment --comment "lab/web6:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-V6WEB0SVCHASH000 -m comment --comment "lab/web6:http -> [fd00:10:244:1::5]:8080" -j KUBE-SEP-V6POD1SEPHASH000
COMMIT
# Completed on Thu Nov 26 07:11:55 2026
"""


@pytest.mark.parametrize("from_rows", [False, True])
def test_kube_proxy_session_affinity_rules_are_not_endpoints(from_rows):
    """ClientIP affinity adds one `-m recent --rcheck` jump per endpoint before the statistic ones."""
    dump = iptables_save.parse(SESSION_AFFINITY_DUMP) if from_rows else SESSION_AFFINITY_DUMP
    sticky = iptables_save.kube_proxy_services(dump)
    assert list(sticky.backend_ip) == ["10.244.1.5", "10.244.2.5"]
    assert list(sticky.share) == [0.5, 0.5] and list(sticky.probability) == [0.5, 1.0]
    assert list(sticky.node_port) == [30070, 30070] and (sticky.status == "ok").all()


@pytest.mark.parametrize("from_rows", [False, True])
def test_kube_proxy_ipv6_addresses_have_no_prefix_or_brackets(from_rows):
    dump = iptables_save.parse(IPV6_DUMP) if from_rows else IPV6_DUMP
    web6 = iptables_save.kube_proxy_services(dump).iloc[0]
    assert (web6.cluster_ip, web6.backend_ip, web6.backend_port) == ("fd00:10:96::50", "fd00:10:244:1::5", 8080)
    assert web6.masquerade and web6.status == "ok"


def test_kube_proxy_external_ip_reject_does_not_replace_the_node_port():
    """kube-proxy writes one no-endpoints REJECT per node port and one per external IP (service port)."""
    rejects = ('-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "lab/empty:http has no endpoints" '
               "-m addrtype --dst-type LOCAL -m tcp --dport 30090 -j REJECT --reject-with icmp-port-unreachable\n"
               '-A KUBE-EXTERNAL-SERVICES -d 192.168.99.11/32 -p tcp -m comment --comment '
               '"lab/empty:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n')
    text = ("*filter\n:KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-SERVICES - [0:0]\n"
            '-A KUBE-SERVICES -d 10.96.0.60/32 -p tcp -m comment --comment "lab/empty:http has no endpoints" '
            "-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n" + rejects + "COMMIT\n")
    for dump in (text, iptables_save.parse(text)):
        empty = iptables_save.kube_proxy_services(dump).iloc[0]
        assert (empty.status, empty.port, empty.node_port) == ("no-endpoints", 80, 30090)


def test_kube_proxy_empty_table_has_columns():
    assert list(iptables_save.kube_proxy_services("").columns) == iptables_save.SERVICE_COLUMNS


def test_kube_proxy_stale_and_missing_dnat():
    text = fixture("iptables-save--nft-kube-proxy").replace(
        "-j DNAT --to-destination 10.244.2.5:8080", "-j ACCEPT")
    services = iptables_save.kube_proxy_services(text)
    assert services.loc[services.sep_chain == "KUBE-SEP-LAB7POD2SEPHASH0", "status"].item() == "no-dnat"


def _benchmark_module():
    spec = importlib.util.spec_from_file_location(
        "benchmark_iptables_save", Path(__file__).parents[1] / "benchmarks" / "iptables_save.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_generator_round_trips_through_the_parser():
    dump = _benchmark_module().kube_proxy_dump(services=100, endpoints=4)
    services = iptables_save.kube_proxy_services(dump)
    assert services.service.nunique() == 100
    ok = services[services.status == "ok"]
    assert len(ok) == 99 * 4 and ok.backend_ip.notna().all()
    assert ok.groupby("service").share.sum().round(6).eq(1.0).all()
    assert services[services.status == "no-endpoints"].service.tolist() == ["ns2/svc99:http"]
    assert ok.node_port.notna().sum() == 10 * 4  # services 0, 10, ..., 90
    pd.testing.assert_frame_equal(services, iptables_save.kube_proxy_services(iptables_save.parse(dump)))


# --- ip -j route get: stdout, stderr and exit code (not in PARSERS) ----------

@pytest.mark.parametrize("dest, routed, kind, gateway, dev, error", [
    ("10.99.0.1", True, "unicast", "10.82.0.1", "rtc-a-eth0", None),
    ("10.82.0.1", True, "unicast", None, "rtc-a-eth0", None),
    ("10.82.0.2", True, "local", None, "lo", None),
    ("10.90.1.1", False, "unreachable", None, None, "RTNETLINK answers: No route to host"),
    ("10.90.2.1", False, "prohibit", None, None, "RTNETLINK answers: Permission denied"),
    ("10.90.3.1", False, "blackhole", None, None, "RTNETLINK answers: Invalid argument"),
    ("10.99.0.2", False, "none", None, None, "RTNETLINK answers: Network is unreachable"),
])
def test_route_get_answers_captured_from_ip(dest, routed, kind, gateway, dev, error):
    result = load_result(ROUTE_GET_CAPTURED, f"ip-route-get-{dest}")
    [row] = ip_route_get.parse(result.stdout, result.stderr, result.exit_code)
    assert (row["routed"], row["type"], row["gateway"], row["dev"], row["error"]) == (routed, kind, gateway,
                                                                                      dev, error)
    assert row["dst"] == (dest if routed else None) and row["meaning"]
    assert (row["mtu"], row["learned"], row["expires_s"]) == (None, False, None)
    answer = ip_route_get.frame_result(result)
    assert list(answer.columns) == ip_route_get.COLUMNS and answer.to_dict("records") == [row]


def test_route_get_tells_a_learned_mtu_from_a_configured_one_and_none():
    """The mtu columns, on ip -j route get output captured from the fault lab (fixture mtu, before/after a probe)."""
    fresh = ip_route_get.frame(fixture("ip-json-route--lab-route-get"))
    learned = ip_route_get.frame(fixture("ip-json-route--lab-route-get-learned"))
    assert fresh.iloc[0][["routed", "dev", "gateway"]].tolist() == [True, "k8l-na-eth0", "192.168.10.1"]
    assert pd.isna(fresh.iloc[0]["mtu"]) and not fresh.iloc[0]["learned"]
    assert learned.iloc[0][["mtu", "learned", "expires_s"]].tolist() == [1400, True, 599]
    [configured] = ip_route_get.parse('[{"dst":"10.0.0.1","dev":"eth0","metrics":[{"mtu":1300}]}]')
    assert (configured["mtu"], configured["learned"], configured["expires_s"]) == (1300, False, None)


@pytest.mark.parametrize("stdout, stderr, exit_code, reason", [
    ("", "Error: inet prefix is expected rather than \"x\".\n", 1, "exited with code 1"),
    ("", "RTNETLINK answers: Operation not supported\n", 2, "without a route lookup answer"),
    ("", "", 2, "ip said: nothing"),
    ("", "", 0, "expected one route, got 0"),      # empty output of exit 0 is no answer, never "no route"
    ("[]", "", 0, "expected one route, got 0"),
    ("not json", "", 0, "invalid JSON"),
    ("", "", None, "exited with code None"),
    ('[{"dst":"10.0.0.1","metrics":[{"mtu":"big"}]}]', "", 0, "not a positive integer"),
    ('[{"dst":"10.0.0.1","metrics":{"mtu":1400}}]', "", 0, "metrics should be a list"),
    ('[{"dst":"10.0.0.1","expires":"soon"}]', "", 0, "not a number of seconds"),
])
def test_route_get_non_answers_raise_parse_error(stdout, stderr, exit_code, reason):
    with pytest.raises(ParseError, match=reason):
        ip_route_get.parse(stdout, stderr, exit_code)
    result = CommandResult("local", "ip-route-get-10.0.0.1", ("ip", "-j", "route", "get", "10.0.0.1"), stdout, stderr,
                           exit_code, 0.0, "2024-01-01T00:00:00+00:00")
    with pytest.raises(ParseError, match=reason):
        ip_route_get.frame_result(result)


def test_route_get_is_not_a_text_parser():
    """Its answer needs stderr and the exit code, and empty text is no answer: not in PARSERS (see its module doc)."""
    assert ip_route_get.NAME not in PARSERS


# --- fio, ping, the others -------------------------------------------------

def test_fio_summary_reads_fsync_percentiles():
    summary = fio.summary(fixture("fio--etcd-tmp"))
    assert summary["fio_version"].startswith("fio-3")
    assert 0 < summary["fsync_p99_ms"] <= summary["fsync_p99_9_ms"]
    # fio's percentiles are histogram bucket bounds: p99.9 may sit just above the exact max
    assert summary["fsync_p99_9_ms"] == pytest.approx(summary["fsync_max_ms"], rel=0.1) or \
        summary["fsync_p99_9_ms"] < summary["fsync_max_ms"]
    assert summary["fsyncs"] > 0


def test_fio_summary_without_fdatasync_raises():
    with pytest.raises(ParseError, match="fdatasync"):
        fio.summary('{"jobs": [{"jobname": "x", "write": {}}]}')


def test_ping_df_probe_reports_hop_and_mtu():
    frag = jc_wrappers.parse_ping(fixture("ping--df-frag-needed"))[0]
    assert (frag["frag_needed_from"], frag["frag_needed_mtu"], frag["received"]) == ("10.200.0.1", 1400, 0)
    ok = jc_wrappers.parse_ping(fixture("ping--ok"))[0]
    assert ok["frag_needed_mtu"] is None and ok["packet_loss_percent"] == 0.0


def test_jc_errors_become_parse_errors():
    with pytest.raises(ParseError):
        jc_wrappers.parse_ss("garbage\nfoo bar")
    with pytest.raises(ParseError):
        jc_wrappers.parse_ip_route("garbage here\n")
    with pytest.raises(ParseError):
        jc_wrappers.parse_dig("garbage\n")
