"""One exception hierarchy: every k8srun exception lives in k8srun.errors under K8srunError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import k8srun
from k8srun import errors
from k8srun.errors import (ApiRequestFailed, ApiUnreachable, BundleError, Forbidden, K8srunError, LabError,
                           NoClusterSource, ParameterError, SelectorError, SourceError, SourceUnavailable)


def _modules():
    yield k8srun
    for info in pkgutil.walk_packages(k8srun.__path__, prefix="k8srun."):
        yield importlib.import_module(info.name)


def _exception_classes_defined_in(module) -> list[type]:
    # warning categories (targets.node.DebugPodLeftBehind) are issued with warnings.warn, never raised
    return [cls for _, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__ and issubclass(cls, Exception) and not issubclass(cls, Warning)]


def test_every_exception_class_of_the_package_is_defined_in_errors():
    elsewhere = {f"{module.__name__}.{cls.__name__}" for module in _modules()
                 for cls in _exception_classes_defined_in(module) if module is not errors}
    assert elsewhere == set(), "define these in k8srun/errors.py (re-export them from their old module)"


def test_every_error_derives_from_the_root_and_is_documented():
    classes = _exception_classes_defined_in(errors)
    assert K8srunError in classes and NoClusterSource in classes
    for cls in classes:
        assert issubclass(cls, K8srunError), cls
        assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring"


def test_old_import_paths_give_the_same_classes():
    from k8srun.lab.system import LabError as lab_error, LabUnavailableError
    from k8srun.serve.selectors import SelectorError as selector_error
    from k8srun.serve.server import ApiError
    from k8srun.sources import SourceUnavailable as source_unavailable
    from k8srun.sources.live import AuthenticationFailed, Forbidden as forbidden
    from k8srun.targets import TargetError
    from k8srun.widgets import WidgetInputError

    assert (lab_error, selector_error, source_unavailable, forbidden) == \
        (LabError, SelectorError, SourceUnavailable, Forbidden)
    for cls in (LabUnavailableError, ApiError, AuthenticationFailed, TargetError, WidgetInputError):
        assert cls is getattr(errors, cls.__name__)


def test_parameter_error_names_the_parameter_in_one_line():
    error = ParameterError("namespace", "Bad_NS", "must be a DNS-1123 name")
    assert (error.param, error.value, error.reason) == ("namespace", "Bad_NS", "must be a DNS-1123 name")
    assert str(error) == "parameter 'namespace': must be a DNS-1123 name (got 'Bad_NS')"
    assert isinstance(error, ValueError)


def test_forbidden_carries_what_was_denied():
    denied = Forbidden("alice", "list", "pods", "shop", server="https://10.0.0.1:6443")
    assert (denied.user, denied.verb, denied.resource, denied.namespace, denied.where) == \
        ("alice", "list", "pods", "shop", "https://10.0.0.1:6443")
    assert str(denied) == \
        "forbidden: user alice cannot list pods in namespace shop (grant the k8srun read-only role)"
    assert str(Forbidden("bob", "list", "pods", None)).startswith("forbidden: user bob cannot list pods in any ")
    assert str(Forbidden("bob", "get", "nodes", None, cluster_scoped=True)).startswith(
        "forbidden: user bob cannot get nodes (grant")


def test_source_errors_carry_where_and_reason():
    unreachable = ApiUnreachable("https://api:6443", "connection refused")
    assert (unreachable.where, unreachable.reason) == ("https://api:6443", "connection refused")
    assert str(unreachable) == "API server https://api:6443 unreachable: connection refused"
    failed = ApiRequestFailed("https://api:6443", 500, "Internal Server Error", "etcd timeout", verb="list",
                              resource="pods", namespace="shop")
    assert (failed.status, failed.resource, failed.namespace) == (500, "pods", "shop")
    assert str(failed) == \
        "API server https://api:6443 answered 500 Internal Server Error to list pods in namespace shop: etcd timeout"
    missing = BundleError("/tmp/b: no such bundle", path="/tmp/b")
    assert (missing.path, missing.where, missing.reason) == (Path("/tmp/b"), "/tmp/b", "/tmp/b: no such bundle")
    assert isinstance(missing, SourceError) and SourceError("x").where == ""


def test_no_cluster_source_is_a_source_unavailable_with_the_skipped_message():
    from k8srun.sources import NoSource

    with pytest.raises(NoClusterSource) as raised:
        NoSource().list("pods")
    assert isinstance(raised.value, SourceUnavailable)
    assert str(raised.value) == "no cluster source (source=none): cluster section skipped"
    assert raised.value.where == "none"


def test_selector_and_lab_errors_carry_their_input():
    selector = SelectorError("field", "status.phase", "want PATH=VALUE or PATH!=VALUE")
    assert (selector.kind, selector.term) == ("field", "status.phase")
    assert str(selector) == "cannot parse field selector term 'status.phase': want PATH=VALUE or PATH!=VALUE"
    assert LabError("`ip link` failed", command=["ip", "link"]).command == ("ip", "link")
    assert LabError("the lab is not up").command is None
