"""routing-sysctl: unreachable / connection timeouts from routes and kernel parameters.

Codes ROUTE-001, ROUTE-002, SYS-001, SYS-002, SYS-003 (RUNBOOKS.md). The
evidence is four node commands on the run's target — three shared node
facts (:data:`k8srun.evidence.NODE_FACTS`, so a captured bundle replays
here) and the kernel's own route lookup for ``dest``:

==================  ================================  ===============================================
evidence name       command                           read for
==================  ================================  ===============================================
``ip-route``        ``ip -j route show table all``    default route, which interfaces carry routes
``ip-route-get``    ``ip -j route get DEST``          the route the kernel picks (exit 2 = no route:
                                                      an answer, :mod:`k8srun.parsers.ip_route_get`;
                                                      :data:`k8srun.evidence.ROUTE_GET`, shared with mtu)
``sysctl-a``        ``sysctl -a``                     ``net.ipv4.ip_forward``, ``net.bridge.*`` (absent
                                                      = ``/proc/sys/net/bridge`` missing = br_netfilter
                                                      not loaded), ``net.ipv4.conf.*.rp_filter``
``ip-link``         ``ip -j -d link show``            bridges and their veth ports
==================  ================================  ===============================================

How each code decides (IPv4 only: the sysctls read are IPv4's, ``dest``
must be an IPv4 address; a route row whose family cannot be told — a
dev-only ``default`` — counts as IPv4):

- **ROUTE-001** (error): ``ip route get DEST`` fails — no route matches
  ("Network is unreachable": no specific route and no default route), or a
  reject route (unreachable / prohibit / blackhole) matches. Without ``dest``
  the check is NOT CHECKED (skipped row), never OK.
- **ROUTE-002** (warning): no usable IPv4 default route — none of type
  unicast in table ``main`` or ``default`` (the tables the kernel consults
  without extra ``ip rule`` entries). A default only in another table, or
  of a reject type, is named in the detail.
- **SYS-001** (error): ``net.ipv4.ip_forward = 0`` on a machine that must
  forward. Parameter ``forwarding``: ``yes`` / ``no`` decides; ``auto``
  (default) means *must forward when its IPv4 routes (any table but local)
  leave through two or more interfaces other than lo* — a router, a node
  with a pod bridge (cni0's connected route), per-pod veth routes (Calico,
  Cilium) or an overlay device (flannel.1). A pod or a single-homed host
  does not forward.
- **SYS-002** (error): a bridge carries pod traffic — a ``bridge`` with at
  least one ``veth`` port (cni0, cbr0, docker0 with pods' host ends) — and
  ``net.bridge.bridge-nf-call-iptables`` is not 1, or no ``net.bridge.*``
  key exists at all (br_netfilter not loaded): bridged pod-to-pod traffic
  then skips iptables (kube-proxy's DNAT replies, NetworkPolicy). No pod
  bridge: nothing to check, OK.
- **SYS-003** (warning): strict ``rp_filter`` (effective value 1, where
  effective = max(``conf.all``, ``conf.<iface>``) as the kernel applies it)
  on an interface where it matters: one carrying routes to more than a
  single address (a subnet, a default, an overlay) while at least two
  interfaces do — only then can a reply or a forwarded packet arrive on an
  interface other than the one its source is routed through, and strict
  mode drops it silently. Per-pod host routes (a /32 without gateway on a
  Calico/Cilium veth) are symmetric by construction, so strict mode there
  (Calico's anti-spoofing) is not reported.

A sysctl key these checks need that ``sysctl -a`` did not print becomes an
"evidence unavailable" row named after the key, and its code NOT CHECKED.

Tables for the notebook (pure functions):

- ``ipv4_routes(routes)``: the IPv4 routes of every table but local
  (ROUTE_COLUMNS of :mod:`k8srun.parsers.ip_json`).
- ``kernel_parameters(sysctls)``: key, value, meaning — ip_forward,
  bridge-nf-call-iptables (``absent`` when br_netfilter is not loaded),
  rp_filter of all/default.
- ``node_role(routes, links, forwarding)``: question, answer, because —
  must it forward, which bridges carry pods, where rp_filter matters.
- ``rp_filter_table(sysctls, routes)``: interface, value, all, effective,
  mode (off/strict/loose), matters.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import params
from ..errors import ParameterError
from ..evidence import IP_LINK, IP_ROUTE, ROUTE_GET, SYSCTL_ALL
from ..model import Finding, finding
from ..parsers import ip_route_get
from ..parsers.ip_json import ROUTE_COLUMNS
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook

IP_FORWARD = "net.ipv4.ip_forward"
BRIDGE_NF_CALL_IPTABLES = "net.bridge.bridge-nf-call-iptables"
RP_FILTER_ALL = "net.ipv4.conf.all.rp_filter"
RP_FILTER_DEFAULT = "net.ipv4.conf.default.rp_filter"
#: keys without which a code cannot be decided (absent keys -> evidence unavailable)
NEEDED_KEYS = (IP_FORWARD, RP_FILTER_ALL)
RP_MODES = {0: "off", 1: "strict", 2: "loose"}
FORWARDING_CHOICES = ("auto", "yes", "no")
RP_FILTER_COLUMNS = ["interface", "value", "all", "effective", "mode", "matters"]
ROLE_COLUMNS = ["question", "answer", "because"]
KERNEL_COLUMNS = ["key", "value", "meaning"]
_MAIN_TABLES = (None, "main", "default", "254", "253")
#: destinations a ROUTE-002 detail names before "and N more"
ROUTES_NAMED = 8


def ipv4(name: str, value: Any) -> str:
    """An IPv4 address (the sysctls this runbook reads are IPv4's)."""
    address = params.ip_address(name, value)
    if ":" in address:
        raise ParameterError(name, value, "must be an IPv4 address (routing-sysctl reads IPv4 routes and sysctls)")
    return address


def forwarding_choice(name: str, value: Any) -> str:
    """auto / yes / no (YAML true/false from ``-p forwarding yes`` accepted)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip().lower()
    if text not in FORWARDING_CHOICES:
        raise ParameterError(name, value, "must be auto, yes or no")
    return text


RUNBOOK = Runbook(
    name="routing-sysctl",
    description="Unreachable / connection timeout: routes, ip route get, ip_forward, br_netfilter, rp_filter",
    scenario="routing-sysctl",
    parameters=(*CLUSTER, TARGET,
                Parameter("dest", "", "IPv4 address that cannot be reached; empty means the recorded one "
                          "(ROUTE-001 is not checked without it)", ipv4),
                Parameter("forwarding", "auto", "must the target forward pod traffic? auto: yes when its "
                          "routes leave through two or more interfaces; yes; no", forwarding_choice),
                TIMEOUT),
)

REQUIRES: dict[str, list[str]] = {
    "ROUTE-001": [ROUTE_GET.name],
    "ROUTE-002": [IP_ROUTE.name],
    "SYS-001": [SYSCTL_ALL.name, IP_ROUTE.name, IP_FORWARD],
    "SYS-002": [SYSCTL_ALL.name, IP_LINK.name],
    "SYS-003": [SYSCTL_ALL.name, IP_ROUTE.name, RP_FILTER_ALL],
}


# ------------------------------------------------------------------ routes

def _is_ipv4(row: pd.Series) -> bool:
    for text in (row["dst"], row["gateway"], row["prefsrc"]):
        if isinstance(text, str) and ":" in text:
            return False
        if isinstance(text, str) and "." in text:
            return True
    return True  # a dev-only "default": counted as IPv4 (module doc)


def ipv4_routes(routes: pd.DataFrame) -> pd.DataFrame:
    """The IPv4 routes of every table except ``local`` (the kernel's own addresses)."""
    if routes.empty:
        return routes.reindex(columns=ROUTE_COLUMNS)
    kept = routes[routes.apply(_is_ipv4, axis=1) & (routes["table"] != "local")]
    return kept.reset_index(drop=True)


def _unicast(routes: pd.DataFrame) -> pd.DataFrame:
    return routes[routes["type"] == "unicast"]


def default_routes(routes: pd.DataFrame) -> pd.DataFrame:
    """IPv4 ``default`` routes of any type in any table but local."""
    v4 = ipv4_routes(routes)
    return v4[v4["dst"] == "default"]


def usable_default_routes(routes: pd.DataFrame) -> pd.DataFrame:
    """Unicast IPv4 default routes in table main or default (what plain traffic uses)."""
    defaults = _unicast(default_routes(routes))
    return defaults[defaults["table"].isin(_MAIN_TABLES) | defaults["table"].isna()]


def _host_route(row: pd.Series) -> bool:
    """A route to one address without a gateway (a per-pod veth route: ``10.0.0.5 dev cali123``)."""
    dst, gateway = row["dst"], row["gateway"]
    return dst != "default" and ("/" not in dst or dst.endswith("/32")) and not isinstance(gateway, str)


def routed_interfaces(routes: pd.DataFrame) -> pd.DataFrame:
    """interface, destinations (list), broad (routes to more than one address) — lo left out."""
    rows = []
    unicast = _unicast(ipv4_routes(routes))
    unicast = unicast[unicast["dev"].notna() & (unicast["dev"] != "lo")]
    for dev, group in unicast.groupby("dev", sort=True):
        rows.append({"interface": dev, "destinations": list(group["dst"]),
                     "broad": not group.apply(_host_route, axis=1).all()})
    return pd.DataFrame(rows, columns=["interface", "destinations", "broad"])


def must_forward(routes: pd.DataFrame, forwarding: str = "auto") -> tuple[bool, str]:
    """Whether the target must forward IPv4, and why (the ``forwarding`` parameter, else its routes)."""
    if forwarding in ("yes", "no"):
        return forwarding == "yes", f"forwarding={forwarding} was given"
    interfaces = list(routed_interfaces(routes)["interface"])
    if len(interfaces) >= 2:
        return True, f"its IPv4 routes leave through {len(interfaces)} interfaces ({', '.join(interfaces)})"
    only = f" (only {interfaces[0]})" if interfaces else ""
    return False, f"its IPv4 routes leave through {len(interfaces)} interface{only}: nothing to forward between"


# ------------------------------------------------------------------ links

def pod_bridges(links: pd.DataFrame) -> pd.DataFrame:
    """bridge, ports: the bridges with at least one veth port (pods' host ends)."""
    if links.empty:
        return pd.DataFrame(columns=["bridge", "ports"])
    bridges = links.loc[links["kind"] == "bridge", "ifname"]
    rows = []
    for bridge in bridges:
        ports = links[(links["master"] == bridge) & (links["kind"] == "veth")]["ifname"]
        if len(ports):
            rows.append({"bridge": bridge, "ports": sorted(ports)})
    return pd.DataFrame(rows, columns=["bridge", "ports"])


# ----------------------------------------------------------------- sysctls

def sysctl_value(sysctls: pd.DataFrame, key: str) -> str | None:
    """The value ``sysctl -a`` printed for ``key`` (None when it printed no such key)."""
    values = sysctls.loc[sysctls["key"] == key, "value"] if not sysctls.empty else []
    return str(values.iloc[-1]).strip() if len(values) else None


def br_netfilter_loaded(sysctls: pd.DataFrame) -> bool:
    """Whether any ``net.bridge.*`` key exists (``/proc/sys/net/bridge`` is there only with br_netfilter)."""
    return bool(not sysctls.empty and sysctls["key"].str.startswith("net.bridge.").any())


def absent_keys(sysctls: pd.DataFrame) -> list[str]:
    """The :data:`NEEDED_KEYS` a ``sysctl -a`` output lacks."""
    return [key for key in NEEDED_KEYS if sysctl_value(sysctls, key) is None]


def _number(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def rp_filter_table(sysctls: pd.DataFrame, routes: pd.DataFrame) -> pd.DataFrame:
    """One row per interface in ``net.ipv4.conf``: its rp_filter, all's, the effective max, and whether it matters."""
    if sysctls.empty:
        return pd.DataFrame(columns=RP_FILTER_COLUMNS)
    everywhere = _number(sysctl_value(sysctls, RP_FILTER_ALL))
    routed = routed_interfaces(routes)
    broad = set(routed.loc[routed["broad"], "interface"]) if len(routed) else set()
    matters = broad if len(broad) >= 2 else set()
    rows = []
    pattern = sysctls["key"].str.fullmatch(r"net\.ipv4\.conf\.[^.]+\.rp_filter")
    for key, value in sysctls.loc[pattern, ["key", "value"]].itertuples(index=False):
        interface = key.split(".")[3].replace("/", ".")  # sysctl writes eth0.100 as eth0/100
        if interface in ("all", "default"):
            continue
        own = _number(value)
        effective = None if own is None or everywhere is None else max(own, everywhere)
        rows.append({"interface": interface, "value": own, "all": everywhere, "effective": effective,
                     "mode": RP_MODES.get(effective, "unknown"), "matters": interface in matters})
    return pd.DataFrame(rows, columns=RP_FILTER_COLUMNS)


def kernel_parameters(sysctls: pd.DataFrame) -> pd.DataFrame:
    """The keys this runbook reads, with what their value means here."""
    forward = sysctl_value(sysctls, IP_FORWARD)
    bridge = sysctl_value(sysctls, BRIDGE_NF_CALL_IPTABLES)
    rows = [{"key": IP_FORWARD, "value": forward,
             "meaning": {"1": "forwards IPv4 between interfaces", "0": "does not forward"}.get(forward, "not printed")},
            {"key": BRIDGE_NF_CALL_IPTABLES, "value": bridge if bridge is not None else "absent",
             "meaning": ("br_netfilter not loaded: /proc/sys/net/bridge is missing" if not br_netfilter_loaded(sysctls)
                         else "bridged traffic passes iptables" if bridge == "1"
                         else "bridged traffic skips iptables")}]
    for key in (RP_FILTER_ALL, RP_FILTER_DEFAULT):
        value = sysctl_value(sysctls, key)
        mode = RP_MODES.get(_number(value), "not printed")
        rows.append({"key": key, "value": value, "meaning": f"{mode} (default: applies to new interfaces)"
                     if key == RP_FILTER_DEFAULT else f"{mode} (at least this strict on every interface)"})
    return pd.DataFrame(rows, columns=KERNEL_COLUMNS)


def node_role(routes: pd.DataFrame, links: pd.DataFrame, forwarding: str = "auto") -> pd.DataFrame:
    """What the checks decided: must it forward, which bridges carry pods, where rp_filter matters."""
    forwards, why = must_forward(routes, forwarding)
    bridges = pod_bridges(links)
    routed = routed_interfaces(routes)
    broad = list(routed.loc[routed["broad"], "interface"]) if len(routed) else []
    rows = [{"question": "must it forward IPv4 (SYS-001)?", "answer": "yes" if forwards else "no", "because": why},
            {"question": "bridges carrying pod traffic (SYS-002)?",
             "answer": ", ".join(bridges["bridge"]) or "none",
             "because": "; ".join(f"{r.bridge} has veth ports {', '.join(r.ports)}" for r in bridges.itertuples())
             or "no bridge with veth ports: bridge-nf-call-iptables does not matter here"},
            {"question": "where does rp_filter matter (SYS-003)?",
             "answer": ", ".join(broad) if len(broad) >= 2 else "nowhere",
             "because": f"{len(broad)} interface(s) carry routes to more than one address"
             + ("" if len(broad) >= 2 else ": replies cannot come in elsewhere than they go out")}]
    return pd.DataFrame(rows, columns=ROLE_COLUMNS)


# ------------------------------------------------------------------ checks

def _route_rows(routes: pd.DataFrame, limit: int = 20) -> list[dict]:
    return [{k: r[k] for k in ("dst", "gateway", "dev", "type", "table")}
            for _, r in ipv4_routes(routes).head(limit).iterrows()]


def no_route_to_dest(route_get: pd.DataFrame, routes: pd.DataFrame, dest: str) -> list[Finding]:
    """ROUTE-001: the kernel's route lookup for ``dest`` fails."""
    if route_get.empty or bool(route_get.iloc[0]["routed"]):
        return []
    answer = route_get.iloc[0]
    remedy = None
    if answer["type"] != "none":
        remedy = (f"Remove or narrow the '{answer['type']}' route that matches {dest} "
                  f"(`ip route show table all | grep {answer['type']}`), or add a more specific route.")
    return [finding("ROUTE-001", f"ip route get {dest}: {answer['error']} — {answer['meaning']}",
                    {"dest": dest, "ip_route_get": answer.to_dict(), "routes": _route_rows(routes)},
                    remedy=remedy)]


def no_default_route(routes: pd.DataFrame) -> list[Finding]:
    """ROUTE-002: no usable IPv4 default route (unicast, table main/default)."""
    if not usable_default_routes(routes).empty:
        return []
    v4 = ipv4_routes(routes)
    main = v4[v4["table"].isin(_MAIN_TABLES) | v4["table"].isna()]
    shown = ", ".join(main["dst"].head(ROUTES_NAMED)) + (f" and {len(main) - ROUTES_NAMED} more"
                                                           if len(main) > ROUTES_NAMED else "")
    detail = "no IPv4 default route in table main: " + (f"routes only to {shown}" if len(main)
                                                         else "no IPv4 routes at all")
    others = default_routes(routes)
    for _, route in others.iterrows():
        if route["type"] != "unicast":
            detail += f"; the default route is of type {route['type']} (it rejects what no other route takes)"
        else:
            detail += (f"; a default route exists only in table {route['table']} "
                       "(used only for traffic an `ip rule` sends there)")
    return [finding("ROUTE-002", detail, {"routes": _route_rows(routes)})]


def forwarding_disabled(sysctls: pd.DataFrame, routes: pd.DataFrame, forwarding: str = "auto") -> list[Finding]:
    """SYS-001: ``net.ipv4.ip_forward = 0`` although the machine must forward."""
    value = sysctl_value(sysctls, IP_FORWARD)
    forwards, why = must_forward(routes, forwarding)
    if value != "0" or not forwards:
        return []
    return [finding("SYS-001", f"{IP_FORWARD} = 0, but this machine must forward: {why}",
                    {IP_FORWARD: value, "interfaces": list(routed_interfaces(routes)["interface"]),
                     "forwarding": forwarding})]


def bridge_netfilter_off(sysctls: pd.DataFrame, links: pd.DataFrame) -> list[Finding]:
    """SYS-002: a bridge carries pods, and bridged traffic skips iptables (sysctl 0 or br_netfilter not loaded)."""
    bridges = pod_bridges(links)
    if bridges.empty:
        return []
    value = sysctl_value(sysctls, BRIDGE_NF_CALL_IPTABLES)
    if not br_netfilter_loaded(sysctls):
        why = "/proc/sys/net/bridge is missing (no net.bridge.* key in sysctl -a): br_netfilter is not loaded"
    elif value != "1":
        why = f"{BRIDGE_NF_CALL_IPTABLES} = {value if value is not None else 'absent'}"
    else:
        return []
    carried = "; ".join(f"{r.bridge} (ports {', '.join(r.ports)})" for r in bridges.itertuples())
    return [finding("SYS-002", f"{why}, so pod traffic bridged on {carried} skips iptables "
                    "(kube-proxy DNAT replies, NetworkPolicy)",
                    {BRIDGE_NF_CALL_IPTABLES: value, "br_netfilter_loaded": br_netfilter_loaded(sysctls),
                     "pod_bridges": bridges})]


def strict_rp_filter(sysctls: pd.DataFrame, routes: pd.DataFrame) -> list[Finding]:
    """SYS-003: effective rp_filter 1 (strict) on interfaces where replies may come in elsewhere."""
    table = rp_filter_table(sysctls, routes)
    strict = table[table["matters"] & (table["effective"] == 1)]
    if strict.empty:
        return []
    names = ", ".join(strict["interface"])
    source = "conf.all" if (strict["all"] == 1).all() else "the interface's own value"
    return [finding("SYS-003", f"strict rp_filter (effective 1, from {source}) on {names}: a packet whose source "
                    "is routed out through another interface is dropped without a trace",
                    {"rp_filter": strict})]


def diagnose(*, routes: pd.DataFrame, route_get: pd.DataFrame, sysctls: pd.DataFrame, links: pd.DataFrame,
             dest: str = "", forwarding: str = "auto") -> list[Finding]:
    """Every ROUTE/SYS finding from the four frames (empty frames give no finding)."""
    return [*no_route_to_dest(route_get, routes, dest), *no_default_route(routes),
            *forwarding_disabled(sysctls, routes, forwarding), *bridge_netfilter_off(sysctls, links),
            *strict_rp_filter(sysctls, routes)]


# ------------------------------------------------------------------ gather

def route_to_dest(rb) -> pd.DataFrame:
    """``ip -j route get DEST`` on the target as one answer row (empty + a visible row when not answered).

    Exit 2 with the kernel's lookup error is an answer ("no route");
    no ``dest``, a missing ``ip``, a timeout or an unknown error is not:
    evidence ``ip-route-get`` is then missing and ROUTE-001 NOT CHECKED.
    Calling it again re-shows nothing.
    """
    if not rb.parameters.get("dest"):
        if ROUTE_GET.name not in rb.missing_evidence:
            rb.missing_evidence.add(ROUTE_GET.name)
            rb.note_unavailable(ROUTE_GET.title, "no dest given (-p dest IP)", skipped=True)
        return pd.DataFrame(columns=ip_route_get.COLUMNS)
    return rb.node(ROUTE_GET)


def read_sysctls(rb) -> pd.DataFrame:
    """``sysctl -a`` on the target; each needed key it lacks becomes a visible row (once) and missing evidence."""
    sysctls = rb.node(SYSCTL_ALL)
    if SYSCTL_ALL.name not in rb.missing_evidence:
        for key in absent_keys(sysctls):
            if key not in rb.missing_evidence:
                rb.missing_evidence.add(key)
                rb.note_unavailable(f"sysctl {key}", "not in the output of sysctl -a")
    return sysctls


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb`` (cached there)."""
    return {"routes": rb.node(IP_ROUTE), "route_get": route_to_dest(rb), "sysctls": read_sysctls(rb),
            "links": rb.node(IP_LINK), "dest": rb.parameters.get("dest", ""),
            "forwarding": rb.parameters.get("forwarding", "auto")}
