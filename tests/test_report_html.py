"""The HTML report is a self-contained document: it renders offline in a real browser, findings first.

Every registered runbook runs once on its built-in scenario (module fixture);
each report is then opened in headless Chromium (Debian's ``chromium``) with
the network cut off (every host resolves nowhere, a dead proxy), and the DOM
the browser built is checked, as a reader would see it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from k8srun import registry
from k8srun.report import run_runbook

BUDGET_BYTES = 150 * 1024
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BOOKS = registry.names()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return {name: run_runbook(name, {}, out / name, progress=False).html for name in BOOKS}


class _Resources(HTMLParser):
    """Every URL the document would fetch by itself (not links a reader may follow)."""

    def __init__(self):
        super().__init__()
        self.fetched: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "embed", "source", "video", "audio") and attrs.get("src"):
            self.fetched.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.fetched.append(attrs["href"])
        if tag == "object" and attrs.get("data"):
            self.fetched.append(attrs["data"])


@pytest.mark.parametrize("name", BOOKS)
def test_report_fetches_nothing_and_fits_the_budget(reports, name):
    text = reports[name].read_text(encoding="utf-8")
    size = len(text.encode("utf-8"))
    print(f"{name}: report {size / 1024:.0f} KB (budget {BUDGET_BYTES // 1024} KB)")
    assert size <= BUDGET_BYTES
    parser = _Resources()
    parser.feed(text)
    assert [u for u in parser.fetched if not u.startswith("data:")] == []
    assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", text)
    assert "widget-state+json" not in text and "require.js" not in text and "MathJax" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-system-deps.sh)")
@pytest.mark.parametrize("name", BOOKS)
def test_report_reads_right_in_an_offline_browser(reports, name, tmp_path):
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path}",
         "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "--dump-dom",
         reports[name].as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert "k8srun-header" in dom
    findings_at = dom.find("<h2>Findings</h2>")
    assert 0 <= findings_at < dom.find("<hr>"), "the findings come before the evidence"
    assert dom.count("class=\"k8srun-findings\"") == 1, "the findings table appears once"
    visible = re.sub(r"<[^>]+>", " ", dom[dom.find("<body"):])
    for bad in ("Error displaying widget", "Working in JupyterLab", "{'", "<NA>", " NaN "):
        assert bad not in visible, f"{bad!r} shows in the {name} report"
    # a Python traceback may only be quoted from an application's logs (<pre> blocks), never k8srun's own
    outside_logs = re.sub(r"<pre[^>]*>.*?</pre>", " ", dom, flags=re.S)
    assert "Traceback" not in outside_logs and "output_error" not in dom


def test_events_timeline_chart_is_drawn_in_triage_and_the_pod_runbooks(reports):
    import base64

    drawn = set()
    for name, path in reports.items():
        for data in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", path.read_text(encoding="utf-8")):
            if "Warning events over time" in base64.b64decode(data).decode("utf-8"):
                drawn.add(name)
    assert {"triage", "pod-pending", "pod-crashloop"} <= drawn
