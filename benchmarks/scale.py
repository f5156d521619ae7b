"""Scale: k8srun on a bundle at Kubernetes' published limits (issue 13), each figure next to its goal.

Generates bundles with :mod:`genbundle` (scale 1.0: 5,000 nodes, 150,000 pods
in 50 namespaces, 10,000 Services with Endpoints, 300,000 events) and measures,
in one run:

- the bare parse: ``json.load`` of every file of the bundle (the floor any
  reader of the JSON pays), and the ratio of each cold run to it;
- ``k8srun run triage`` cold (no cache) and warm (the columnar cache written
  by the cold run), wall time and peak RSS of the whole process tree (CLI +
  papermill + kernel, sampled every 50 ms), the report's size;
- ``k8srun run pod-pending`` / ``pod-crashloop`` on one namespace, after
  triage (a second runbook on the same bundle: the cache is reused);
- linear growth: the warm in-process triage diagnosis at scales 0.1, 0.3, 1.0
  (``--scales``) and the ratio of time per pod between the largest and the
  smallest (1.0 = linear);
- ``k8srun serve``: seconds from start to the first answer of an
  all-namespaces pod page, ``kubectl get pods -A`` (when kubectl is on PATH,
  else the same paged requests kubectl makes), single-pod GET and
  field-selected event list latency (p50/p99) at 20 concurrent clients, the
  server's RSS;
- ``import k8srun`` and ``k8srun list``.

    python benchmarks/scale.py [--scale 1.0] [--scales 0.1,0.3,1.0] [--work /tmp/k8srun-scale]

Bundles are generated once into ``--work`` and reused (``--regenerate`` to
redo). The cache goes to ``--work``/cache (``K8SRUN_CACHE_DIR``), emptied
before the cold runs. Nothing is asserted: every figure is printed with its
goal and "ok"/"MISS".
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genbundle  # noqa: E402

PYTHON = sys.executable
K8SRUN = [PYTHON, "-m", "k8srun.cli"]
GB = 2**30
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"  # what kubectl get asks for


def tree_rss(proc: psutil.Process) -> int:
    """RSS of a process and all its descendants, bytes."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(argv: list[str], env: dict | None = None, timeout: float = 1800) -> dict:
    """Run ``argv``; wall seconds, peak process-tree RSS, exit code, output tail."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    watched = psutil.Process(proc.pid)
    peak = 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        peak = max(peak, tree_rss(watched))
        if time.perf_counter() - start > timeout:
            proc.kill()
        time.sleep(0.05)
    reader.join(5)
    return {"wall": time.perf_counter() - start, "peak_rss": peak, "rc": proc.returncode,
            "tail": "".join(output[-5:])}


def bare_parse(bundle: Path) -> float:
    """Seconds to json.load every .json file of the bundle (one at a time, dropped after)."""
    import json as stdlib_json
    start = time.perf_counter()
    for path in sorted(bundle.rglob("*.json")):
        with open(path, "rb") as handle:
            stdlib_json.load(handle)
    return time.perf_counter() - start


def line(what: str, value: str, goal: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISS")
    print(f"  {what:<58} {value:>18}   {goal:<22} {verdict}", flush=True)


def bundle_at(work: Path, scale: float, regenerate: bool) -> tuple[Path, dict]:
    path = work / f"bundle-{scale:g}"
    info = path / "k8srun.json"
    if regenerate and path.exists():
        shutil.rmtree(path)
    if not info.exists():
        start = time.perf_counter()
        counts = genbundle.generate(path, scale)
        counts["seconds"] = round(time.perf_counter() - start, 1)
        (work / f"bundle-{scale:g}.counts.json").write_text(json.dumps(counts))
    counts = json.loads((work / f"bundle-{scale:g}.counts.json").read_text())
    return path, counts


def run_runbook(runbook: str, bundle: Path, out: Path, env: dict, **params: str) -> dict:
    argv = [*K8SRUN, "run", runbook, "-p", "source", str(bundle), "--out", str(out), "--no-progress",
            "--max-time", "900"]
    for name, value in params.items():
        argv += ["-p", name, value]
    if out.exists():
        shutil.rmtree(out)
    result = measure(argv, env)
    html = next(out.glob("*.html"), None) if out.exists() else None
    result["html_bytes"] = html.stat().st_size if html else 0
    findings = next(out.glob("*findings.json"), out / "findings.json") if out.exists() else out / "findings.json"
    result["findings_bytes"] = findings.stat().st_size if findings.exists() else 0
    try:
        result["findings"] = len(json.loads(findings.read_text()).get("findings", []))
    except (OSError, ValueError, AttributeError):
        result["findings"] = -1
    return result


_DIAGNOSE = """
import json, sys, time
start = time.perf_counter()
from k8srun.session import Session
rb = Session.start("triage", show=False, source=sys.argv[1])
rb.diagnose()
print(json.dumps({"seconds": time.perf_counter() - start, "findings": len(rb.findings)}))
"""


def diagnose_time(bundle: Path, env: dict) -> float:
    """Seconds of an in-process triage diagnosis (session start + gather + diagnose), warm cache."""
    out = subprocess.run([PYTHON, "-c", _DIAGNOSE, str(bundle)], env=env, capture_output=True, text=True,
                         timeout=900)
    last = [l for l in out.stdout.splitlines() if l.startswith("{\"seconds\"")]
    return json.loads(last[-1])["seconds"] if last else float("nan")


def _get(url: str, timeout: float = 60) -> tuple[float, int, bytes]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read()
        return time.perf_counter() - start, response.status, body


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def serve_figures(bundle: Path, env: dict, counts: dict) -> None:
    start = time.perf_counter()
    proc = subprocess.Popen([*K8SRUN, "serve", str(bundle)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True)
    try:
        url = kubeconfig = ""
        for text in proc.stdout:
            if "read-only at " in text:
                url = text.rsplit(" ", 1)[-1].strip()
            if text.startswith("kubeconfig: "):
                kubeconfig = text.split(": ", 1)[1].strip()
                break
        first = urllib.request.Request(f"{url}/api/v1/pods?limit=500", headers={"Accept": TABLE})
        urllib.request.urlopen(first, timeout=120).read()  # kubectl get pods -A's first request
        waited = time.perf_counter() - start
        line("serve: start to the first page of kubectl get pods -A", f"{waited:.1f} s", "<= 5 s", waited <= 5)
        kubectl = shutil.which("kubectl")
        t0 = time.perf_counter()
        if kubectl:
            done = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "get", "pods", "-A", "--no-headers"],
                                  capture_output=True, text=True, timeout=900)
            rows = len(done.stdout.splitlines())
            how = "kubectl get pods -A"
        else:  # the requests kubectl makes: Table pages of 500
            rows, token = 0, ""
            while True:
                request = urllib.request.Request(
                    f"{url}/api/v1/pods?limit=500" + (f"&continue={token}" if token else ""),
                    headers={"Accept": TABLE})
                with urllib.request.urlopen(request, timeout=120) as response:
                    page = json.loads(response.read())
                rows += len(page.get("rows", []))
                token = page.get("metadata", {}).get("continue", "")
                if not token:
                    break
            how = "paged Table list of every pod (as kubectl)"
        seconds = time.perf_counter() - t0
        line(f"serve: {how}", f"{seconds:.1f} s", f"completes ({counts['pods']} pods)", rows >= counts["pods"])
        # 20 concurrent clients: single pod GETs and field-selected event lists of random pods
        names = []
        for ns in random.Random(1).sample(sorted(p.name for p in bundle.iterdir() if p.is_dir()), 10):
            _, _, body = _get(f"{url}/api/v1/namespaces/{ns}/pods?limit=50")
            names += [(ns, item["metadata"]["name"]) for item in json.loads(body)["items"]]
        rng = random.Random(2)
        targets = [rng.choice(names) for _ in range(400)]
        for kind, make in (("single-pod GET", lambda ns, n: f"{url}/api/v1/namespaces/{ns}/pods/{n}"),
                           ("field-selected event list", lambda ns, n: f"{url}/api/v1/namespaces/{ns}/events?"
                            f"fieldSelector=involvedObject.name%3D{n},involvedObject.namespace%3D{ns},"
                            "involvedObject.kind%3DPod")):
            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                latencies = [r[0] for r in pool.map(lambda t: _get(make(*t)), targets)]
            p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
            line(f"serve: {kind} p50 / p99 (20 clients, {len(targets)} requests)",
                 f"{p50 * 1000:.0f} / {p99 * 1000:.0f} ms", "p99 <= 50 ms", p99 <= 0.05)
        line("serve: RSS after these", f"{tree_rss(psutil.Process(proc.pid)) / GB:.2f} GB", "(printed)")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the bundle the goals are measured on")
    parser.add_argument("--scales", default="0.1,0.3,1.0", help="scales of the linear-growth figure")
    parser.add_argument("--work", default="/tmp/k8srun-scale")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--no-serve", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "K8SRUN_CACHE_DIR": str(work / "cache")}
    print(f"k8srun scale benchmark, {time.strftime('%Y-%m-%d %H:%M:%S')}, load {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, {os.cpu_count()} cores", flush=True)
    bundle, counts = bundle_at(work, args.scale, args.regenerate)
    print(f"bundle scale {args.scale:g}: {counts['nodes']} nodes, {counts['pods']} pods in {counts['namespaces']} "
          f"namespaces, {counts['services']} Services, {counts['events']} events, "
          f"{counts['bytes'] / GB:.2f} GB of JSON ({bundle})", flush=True)
    parse = bare_parse(bundle)
    line("bare json.load of every file", f"{parse:.1f} s", "(the floor)")

    shutil.rmtree(work / "cache", ignore_errors=True)
    cold = run_runbook("triage", bundle, work / "report-triage-cold", env)
    line("k8srun run triage, cold (no cache)", f"{cold['wall']:.1f} s", "<= 60 s", cold["wall"] <= 60)
    line("  its ratio to the bare parse", f"{cold['wall'] / parse:.2f}x", "")
    line("  peak RSS, process tree (CLI + kernel)", f"{cold['peak_rss'] / GB:.2f} GB", "<= 2 GB",
         cold["peak_rss"] <= 2 * GB)
    warm = run_runbook("triage", bundle, work / "report-triage-warm", env)
    line("k8srun run triage, warm (columnar cache)", f"{warm['wall']:.1f} s", "<= 60 s", warm["wall"] <= 60)
    line("  peak RSS, process tree", f"{warm['peak_rss'] / GB:.2f} GB", "<= 2 GB", warm["peak_rss"] <= 2 * GB)
    line("  HTML report", f"{warm['html_bytes'] / 2**20:.2f} MB", "< 5 MB", 0 < warm["html_bytes"] < 5 * 2**20)
    line("  findings.json", f"{warm['findings_bytes'] / 2**10:.0f} KB ({warm['findings']} findings)", "small")
    if cold["rc"] not in (0, 3) or warm["rc"] not in (0, 3):
        print("  triage exit codes", cold["rc"], warm["rc"], cold["tail"], warm["tail"])

    pinned_ns = counts["pinned"].split("/")[0]
    for runbook in ("pod-pending", "pod-crashloop"):
        floor = measure([*K8SRUN, "run", runbook, "--out", str(work / f"report-{runbook}-scenario"), "--no-progress"],
                        env)
        result = run_runbook(runbook, bundle, work / f"report-{runbook}", env, namespace=pinned_ns)
        line(f"k8srun run {runbook} -p namespace {pinned_ns} (2nd runbook)", f"{result['wall']:.1f} s",
             "<= 15 s; <= 10 s", result["wall"] <= 10)
        line(f"  the same runbook on its built-in scenario (papermill floor)", f"{floor['wall']:.1f} s", "")
        line("  peak RSS, process tree", f"{result['peak_rss'] / GB:.2f} GB", "")
        line("  findings.json / HTML", f"{result['findings_bytes'] / 2**10:.0f} KB / "
             f"{result['html_bytes'] / 2**20:.2f} MB", "small")

    scales = [float(s) for s in args.scales.split(",") if s]
    times = {}
    for scale in scales:
        path, scale_counts = bundle_at(work, scale, args.regenerate)
        if scale != args.scale:
            run_runbook("triage", path, work / f"report-triage-{scale:g}", env)  # writes its cache
        times[scale] = (diagnose_time(path, env), scale_counts["pods"])
        line(f"triage diagnosis in-process, warm, scale {scale:g} ({scale_counts['pods']} pods)",
             f"{times[scale][0]:.2f} s", "")
    low, high = min(scales), max(scales)
    per_pod = {s: t / n for s, (t, n) in times.items()}
    ratio = per_pod[high] / per_pod[low]
    line(f"  time, scale {high:g} / scale {low:g} ({times[high][1] / times[low][1]:.0f}x the pods)",
         f"{times[high][0] / times[low][0]:.2f}x", "")
    line(f"  time per pod, scale {high:g} / scale {low:g}", f"{ratio:.2f}", "<= 1 (linear or better)", ratio <= 1.5)

    if not args.no_serve:
        serve_figures(bundle, env, counts)

    t = measure([PYTHON, "-c", "import k8srun"])
    line("import k8srun", f"{t['wall']:.2f} s", "<= 0.3 s", t["wall"] <= 0.3)
    t = measure([*K8SRUN, "list"])
    line("k8srun list", f"{t['wall']:.2f} s", "<= 0.5 s", t["wall"] <= 0.5)
    print(f"done, load {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
