"""Every parameter that reaches a command or an API call is validated."""

from __future__ import annotations

import pytest

from k8srun import params, registry
from k8srun.errors import ParameterError

CRASHLOOP = registry.get("pod-crashloop")  # declares namespace, pod, container, tail_lines, timeout_s


@pytest.mark.parametrize("value", ["x;rm -rf /", "UPPER", "-lead", "a" * 64, "a b", "../etc", "$(id)",
                                   "default\n"])
def test_namespace_rejects_non_dns1123(value):
    with pytest.raises(ParameterError, match="parameter 'namespace': not a valid DNS-1123 label"):
        CRASHLOOP.validate({"namespace": value})


def test_valid_values_pass_and_are_cleaned():
    cleaned = CRASHLOOP.validate({"namespace": "kube-system", "pod": "api-7c9f.x", "timeout_s": "2.5",
                                  "tail_lines": "150"})
    assert cleaned == {"namespace": "kube-system", "pod": "api-7c9f.x", "timeout_s": 2.5, "tail_lines": 150}
    assert params.port("port", "8080") == 8080


@pytest.mark.parametrize("name, value, message", [
    ("timeout_s", -1, "greater than 0"), ("tail_lines", "1.5", "positive integer"),
    ("pod", "Pod_1", "DNS-1123 name"), ("pod", "web-0\n", "DNS-1123 name"),
    ("timeout_s", "nan", "finite"), ("timeout_s", float("inf"), "finite"),
])
def test_bad_values_name_the_parameter(name, value, message):
    with pytest.raises(ParameterError, match=f"parameter '{name}': .*{message}"):
        CRASHLOOP.validate({name: value})


@pytest.mark.parametrize("value, message", [("0", "between 1 and 65535"), ("http", "not a port")])
def test_bad_ports_name_the_parameter(value, message):
    with pytest.raises(ParameterError, match=f"parameter 'port': .*{message}"):
        params.port("port", value)


def test_ip_address_validation():
    assert params.ip_address("dest", " 10.244.1.5 ") == "10.244.1.5"
    with pytest.raises(ParameterError, match="parameter 'dest': not an IP address"):
        params.ip_address("dest", "10.0.0.256")
