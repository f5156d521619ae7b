"""k8srun.widgets: real ipywidgets driven without a frontend, static output headless."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from nbclient import NotebookClient
from traitlets.config import Config

from factories import event, k8s_list, pod
from k8srun import widgets
from k8srun.errors import ParameterError
from k8srun.frames import events_frame
from k8srun.sources import NoSource
from k8srun.sources.snapshot import SnapshotSource

# ------------------------------------------------------------------ fixtures


def _logs_file(namespace: str, pod: str, blocks: dict[str, str]) -> str:
    return "".join(f"==== START logs for container {c} of pod {namespace}/{pod} ====\n{text}"
                   f"==== END logs for container {c} of pod {namespace}/{pod} ====\n"
                   for c, text in blocks.items())


WEB_CURRENT = "starting web\nGET /health 200 <ok> & fine\nAuthorization: Bearer s3cr3t-t0ken\n"
WEB_PREVIOUS = "starting web\npanic: config missing\nexit status 2\n"
SIDECAR_CURRENT = "".join(f"sidecar line {i}\n" for i in range(1, 301))


@pytest.fixture
def bundle(tmp_path: Path) -> SnapshotSource:
    """A kubectl cluster-info dump layout: two namespaces, one pod with a previous run."""
    (tmp_path / "nodes.json").write_text(json.dumps(k8s_list("NodeList", [])))
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "pods.json").write_text(json.dumps(k8s_list("PodList", [
        pod("web-7d4b9c-abcde", containers=("web", "sidecar")),
        pod("db-0", phase="Pending", containers=("db",)),
        pod("batch-1", phase="Succeeded", containers=("batch",)),
    ])))
    (shop / "web-7d4b9c-abcde").mkdir()
    (shop / "web-7d4b9c-abcde" / "logs.txt").write_text(_logs_file(
        "shop", "web-7d4b9c-abcde", {"web": WEB_CURRENT, "sidecar": SIDECAR_CURRENT}))
    (shop / "web-7d4b9c-abcde" / "logs-previous.txt").write_text(_logs_file(
        "shop", "web-7d4b9c-abcde", {"web": WEB_PREVIOUS}))
    default = tmp_path / "default"
    default.mkdir()
    hello = pod("hello", "default", containers=("hello",))
    (default / "pods.json").write_text(json.dumps(k8s_list("PodList", [hello])))
    source = SnapshotSource(tmp_path)
    yield source
    source.close()


@pytest.fixture
def events():
    return events_frame([
        event("web-7d4b9c-abcde", "Scheduled", "Successfully assigned shop/web-7d4b9c-abcde", type_="Normal",
              last="2024-05-01T09:00:00Z"),
        event("web-7d4b9c-abcde", "BackOff",
              "Back-off restarting failed container web in pod web-7d4b9c-abcde_shop(uid)",
              last="2024-05-01T09:30:00Z", count=12),
        event("db-0", "FailedScheduling",
              "0/3 nodes are available: 3 Insufficient memory. preemption: <none> & nothing",
              last="2024-05-01T09:20:00Z", count=4),
        event("web-7d4b9c-abcde", "Pulled", 'Container image "example/web:1" already present', type_="Normal",
              last="2024-05-01T09:10:00Z"),
        event("web", "ScalingReplicaSet", "Scaled up replica set web-7d4b9c to 1", kind="Deployment", type_="Normal",
              last="2024-05-01T08:59:00Z"),
    ])


@pytest.fixture
def shell(monkeypatch):
    """A real (terminal-less) IPython shell so display() output can be captured."""
    monkeypatch.delenv("K8SRUN_HEADLESS", raising=False)
    config = Config()
    config.HistoryManager.enabled = False
    instance = InteractiveShell.instance(config=config)
    yield instance
    InteractiveShell.clear_instance()


def _displayed_html(cap) -> str:
    return "".join(output.data.get("text/html", "") for output in cap.outputs)


# ------------------------------------------------------------------ mode

def test_is_interactive_false_without_kernel_and_under_headless_env(monkeypatch, shell):
    assert widgets.is_interactive() is False  # a shell with no kernel: no frontend comm
    InteractiveShell.clear_instance()
    assert widgets.is_interactive() is False  # plain Python
    monkeypatch.setenv("K8SRUN_HEADLESS", "1")
    assert widgets.is_interactive() is False


def _run_in_kernel(cells: list[str], extra_arguments: list[str]) -> list[dict]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=60, kernel_name="python3", extra_arguments=extra_arguments,
                   resources={"metadata": {"path": str(Path(__file__).parent.parent)}}).execute()
    return [cell.outputs for cell in notebook.cells]


def test_real_kernel_is_interactive_unless_started_by_nbclient(monkeypatch, tmp_path):
    monkeypatch.delenv("K8SRUN_HEADLESS", raising=False)
    probe = "from k8srun.widgets import is_interactive; print(is_interactive())"
    headless = _run_in_kernel([probe], [])
    assert headless[0][0]["text"].strip() == "False"
    with_history = _run_in_kernel([probe], [f"--HistoryManager.hist_file={tmp_path / 'history.sqlite'}"])
    assert with_history[0][0]["text"].strip() == "True"


# ------------------------------------------------------------------ pickers

def test_namespace_picker_lists_the_source_namespaces(bundle):
    picker = widgets.namespace_picker(bundle)
    assert list(picker.options) == ["default", "shop"]
    assert picker.value == "default"
    assert widgets.namespace_picker(bundle, "shop").value == "shop"


def test_namespace_picker_offers_an_unknown_namespace_and_rejects_invalid_ones(bundle):
    # the notebook must go on: the gather cells then say the namespace is missing
    assert list(widgets.namespace_picker(bundle, "billing").options) == ["billing", "default", "shop"]
    with pytest.raises(ParameterError, match="DNS-1123"):
        widgets.namespace_picker(bundle, "x;rm -rf /")


def test_namespace_picker_offers_the_asked_namespace_when_listing_fails(bundle):
    (bundle.root / "namespaces.json").write_text("{not json")  # as a 403 on list namespaces would
    picker = widgets.namespace_picker(bundle, "shop")
    assert list(picker.options) == ["shop"] and picker.value == "shop"
    assert list(widgets.namespace_picker(bundle).options) == []


def test_pickers_without_a_cluster_are_empty(monkeypatch, shell):
    monkeypatch.setenv("K8SRUN_HEADLESS", "1")
    with capture_output() as cap:
        box = widgets.linked_pickers(NoSource())
    assert [(list(d.options), d.value) for d in box.children] == [([], None), ([], None)]
    assert _displayed_html(cap) == "<p>namespace: (none in this source), pod: (none matching)</p>"


def test_pod_picker_lists_and_filters_pods(bundle):
    assert list(widgets.pod_picker(bundle, "shop").options) == ["batch-1", "db-0", "web-7d4b9c-abcde"]
    assert list(widgets.pod_picker(bundle, "shop", only={"Pending"}).options) == ["db-0"]
    not_done = widgets.pod_picker(bundle, "shop", only=lambda p: p["status"]["phase"] != "Succeeded")
    assert list(not_done.options) == ["db-0", "web-7d4b9c-abcde"]
    assert widgets.pod_picker(bundle, "shop", value="web-7d4b9c-abcde").value == "web-7d4b9c-abcde"
    assert list(widgets.pod_picker(bundle, "shop", value="web-0").options)[0] == "web-0"


def test_linked_pickers_repopulate_pods_when_namespace_changes(bundle):
    box = widgets.linked_pickers(bundle, "shop", "db-0")
    namespaces, pods = box.children
    assert (namespaces.value, pods.value) == ("shop", "db-0")
    namespaces.value = "default"
    assert list(pods.options) == ["hello"] and pods.value == "hello"
    namespaces.value = "shop"
    assert list(pods.options) == ["batch-1", "db-0", "web-7d4b9c-abcde"] and pods.value == "batch-1"


# ------------------------------------------------------------------ events

def test_events_table_shows_every_event_newest_first(events):
    view = widgets.EventsTable(events, title="Events in shop")
    assert list(view.shown["reason"]) == ["BackOff", "FailedScheduling", "Pulled", "Scheduled",
                                          "ScalingReplicaSet"]
    assert "5 of 5 events" in view.counts.value
    rendered = view.table.value
    assert rendered.index("BackOff") < rendered.index("FailedScheduling") < rendered.index("ScalingReplicaSet")
    assert "2024-05-01T09:30:00Z" in rendered and "Deployment/web" in rendered


def test_events_table_filters_by_type_reason_object_and_message(events):
    view = widgets.EventsTable(events)
    view.type_filter.value = "Warning"
    assert list(view.shown["reason"]) == ["BackOff", "FailedScheduling"]
    assert "2 of 5 events" in view.counts.value
    assert "Scheduled" not in view.table.value.replace("FailedScheduling", "")

    view.type_filter.value = widgets.ALL
    view.object_filter.value = "Pod/web-7d4b9c-abcde"
    assert list(view.shown["reason"]) == ["BackOff", "Pulled", "Scheduled"]

    view.reason_filter.value = "Pulled"
    assert list(view.shown["reason"]) == ["Pulled"]
    assert "1 of 5 events" in view.counts.value

    view.reason_filter.value = widgets.ALL
    view.object_filter.value = widgets.ALL
    view.message_filter.value = "INSUFFICIENT memory"
    assert list(view.shown["name"]) == ["db-0"]
    view.message_filter.value = "no such text"
    assert view.shown.empty and "0 of 5 events" in view.counts.value and "no events" in view.table.value


def test_events_table_choices_come_from_the_frame(events):
    view = widgets.EventsTable(events)
    assert [label for label, _ in view.reason_filter.options] == [
        "All", "BackOff", "FailedScheduling", "Pulled", "ScalingReplicaSet", "Scheduled"]
    assert [label for label, _ in view.object_filter.options] == [
        "All", "Deployment/web", "Pod/db-0", "Pod/web-7d4b9c-abcde"]


def test_events_table_escapes_html_in_messages(events):
    rendered = widgets.EventsTable(events).table.value
    assert "preemption: &lt;none&gt; &amp; nothing" in rendered
    assert "<none>" not in rendered
    assert "overflow-wrap:break-word" in rendered  # long messages wrap, never truncated
    assert "in pod web-7d4b9c-abcde_shop(uid)" in rendered


def test_events_table_empty_frame_and_frame_lacking_columns(events):
    empty = widgets.EventsTable(events.iloc[0:0])
    assert "0 of 0 events" in empty.counts.value and "no events" in empty.table.value
    with pytest.raises(widgets.WidgetInputError, match="lacks columns.*'reason'"):
        widgets.EventsTable(events.drop(columns=["reason"]))


# ------------------------------------------------------------------ logs

def test_log_viewer_shows_current_logs_redacted_and_escaped(bundle):
    view = widgets.LogViewer(bundle, "shop", "web-7d4b9c-abcde", ["web", "sidecar"])
    assert view.text.startswith("starting web\nGET /health 200 <ok> & fine\n")
    assert "s3cr3t-t0ken" not in view.text and "Authorization: [REDACTED]" in view.text
    assert "GET /health 200 &lt;ok&gt; &amp; fine" in view.output.value
    assert view.output.value.startswith("<pre") and "monospace" in view.output.value
    assert "s3cr3t" not in view.output.value
    assert "logs of pod shop/web-7d4b9c-abcde" in view.heading.value


def test_log_viewer_previous_toggle_fetches_the_previous_run(bundle):
    view = widgets.LogViewer(bundle, "shop", "web-7d4b9c-abcde", ["web", "sidecar"])
    assert "container web: current run" in view.heading.value
    view.previous.value = True
    assert view.text == WEB_PREVIOUS
    assert "panic: config missing" in view.output.value
    assert "container web: previous run (kubectl logs --previous)" in view.heading.value  # says which run
    view.previous.value = False
    assert "panic" not in view.output.value and "current run" in view.heading.value


def test_log_viewer_unavailable_previous_run_is_one_line(bundle):
    view = widgets.LogViewer(bundle, "shop", "web-7d4b9c-abcde", ["web", "sidecar"], previous=True)
    assert view.text == WEB_PREVIOUS
    view.container.value = "sidecar"
    assert view.text is None
    assert re.fullmatch(r"<p>logs unavailable: no previous logs of container sidecar[^\n<]*</p>",
                        view.output.value)


def test_log_viewer_container_and_tail_lines(bundle):
    view = widgets.LogViewer(bundle, "shop", "web-7d4b9c-abcde", ["web", "sidecar"], tail_lines=200)
    view.container.value = "sidecar"
    assert view.text.splitlines()[0] == "sidecar line 101" and len(view.text.splitlines()) == 200
    view.tail_lines.value = 50
    assert view.text.splitlines()[0] == "sidecar line 251"
    assert 5000 in view.tail_lines.options


def test_log_viewer_rejects_bad_arguments(bundle):
    with pytest.raises(ParameterError, match="tail_lines"):
        widgets.LogViewer(bundle, "shop", "web-7d4b9c-abcde", ["web"], tail_lines=0)
    with pytest.raises(widgets.WidgetInputError, match="no containers"):
        widgets.LogViewer(bundle, "shop", "web-7d4b9c-abcde", [])


# ------------------------------------------------------------------ headless

def test_headless_events_table_displays_static_html_newest_first(monkeypatch, shell, events):
    monkeypatch.setenv("K8SRUN_HEADLESS", "1")
    with capture_output() as cap:
        result = widgets.events_table(events, title="Events <shop>")
    assert result is None
    rendered = _displayed_html(cap)
    assert "<h4>Events &lt;shop&gt;</h4>" in rendered and "5 events, newest first" in rendered
    assert rendered.index("BackOff") < rendered.index("Pulled") < rendered.index("ScalingReplicaSet")
    assert "&lt;none&gt; &amp; nothing" in rendered
    assert all("widget-view" not in mime for o in cap.outputs for mime in o.data)


def test_headless_log_viewer_displays_every_container_current_and_previous(monkeypatch, shell, bundle):
    monkeypatch.setenv("K8SRUN_HEADLESS", "1")
    with capture_output() as cap:
        result = widgets.log_viewer(bundle, "shop", "web-7d4b9c-abcde", ["web", "sidecar"])
    assert result is None
    rendered = _displayed_html(cap)
    headers = re.findall(r"<h4>(.*?)</h4>", rendered)
    assert headers == [f"shop/web-7d4b9c-abcde container {c}: {run} run (last 200 lines)"
                       for c in ("web", "sidecar") for run in ("current", "previous")]
    assert "GET /health 200 &lt;ok&gt; &amp; fine" in rendered and "panic: config missing" in rendered
    assert "sidecar line 300" in rendered and "sidecar line 100\n" not in rendered
    assert "logs unavailable: no previous logs of container sidecar" in rendered
    assert "s3cr3t" not in rendered


def test_headless_pickers_return_dropdowns_and_state_the_choice(monkeypatch, shell, bundle):
    monkeypatch.setenv("K8SRUN_HEADLESS", "1")
    with capture_output() as cap:
        namespace = widgets.namespace_picker(bundle, "shop")
        pod = widgets.pod_picker(bundle, "shop", only={"Pending"})
    assert (namespace.value, pod.value) == ("shop", "db-0")
    assert _displayed_html(cap) == "<p>namespace: shop</p><p>pod: shop/db-0</p>"


def test_interactive_views_display_the_widget(monkeypatch, shell, events, bundle):
    """A kernel-attached shell is what makes views interactive; emulate only its ``kernel`` attribute."""
    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    assert widgets.is_interactive() is True
    monkeypatch.setenv("K8SRUN_HEADLESS", "0")
    assert widgets.is_interactive() is True
    with capture_output() as cap:
        view = widgets.events_table(events)
        logs = widgets.log_viewer(bundle, "shop", "web-7d4b9c-abcde", ["web"], previous=True)
    assert isinstance(view, widgets.EventsTable) and isinstance(logs, widgets.LogViewer)
    assert logs.text == WEB_PREVIOUS
    assert [o.data["application/vnd.jupyter.widget-view+json"]["model_id"] for o in cap.outputs] == [
        view.model_id, logs.model_id]


def test_nbclient_run_of_views_leaves_static_evidence_in_the_notebook(monkeypatch, bundle):
    monkeypatch.delenv("K8SRUN_HEADLESS", raising=False)
    outputs = _run_in_kernel([
        "from k8srun import widgets\nfrom k8srun.sources.snapshot import SnapshotSource\n"
        f"source = SnapshotSource({str(bundle.root)!r})",
        "widgets.log_viewer(source, 'shop', 'web-7d4b9c-abcde', ['web'])",
    ], [])
    assert outputs[1], "the log viewer cell displayed nothing"
    assert [sorted(o["data"]) for o in outputs[1]] == [["text/html", "text/plain"]]
    assert "panic: config missing" in outputs[1][0]["data"]["text/html"]



def test_linked_pickers_offer_all_pods_first_and_keep_it_on_namespace_change(bundle):
    box = widgets.linked_pickers(bundle, "shop", None, allow_all=True)
    namespaces, pods = box.children
    assert pods.value == "" and pods.options[0] == (widgets.ALL_PODS, "")
    assert [value for _, value in pods.options[1:]] == ["batch-1", "db-0", "web-7d4b9c-abcde"]
    pods.value = "db-0"
    namespaces.value = "default"
    assert pods.value == "" and [v for _, v in pods.options] == ["", "hello"]
