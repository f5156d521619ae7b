"""The ``live`` source: a real cluster through the official ``kubernetes`` client.

``LiveSource(kubeconfig=None, context=None, timeout_s=10)`` connects with a
kubeconfig file and context, or with the pod's service account when running
in a cluster and no kubeconfig exists. Every call is read-only and returns
the API's own JSON (camelCase dicts, exactly as a snapshot bundle holds them):

- ``list(resource, namespace)`` pages with ``limit=500`` and follows ``continue``;
- ``get`` reads one object (``None`` on 404), in list-item form (no ``kind``/``apiVersion``);
  with no namespace, the first of that name in any namespace (a ``metadata.name`` field selector);
- ``events_for(namespace, kind, name)`` asks the server with a field selector
  ``involvedObject.kind=KIND,involvedObject.name=NAME``, never a full list;
- ``logs(namespace, pod, container, previous=, tail_lines=)`` is the log text;
- ``meta()`` is ``{"kind": "live", "description": "live:CONTEXT", "server": URL,
  "context": CONTEXT, "cluster_version": {"major": "1", "minor": "30", "gitVersion":
  "v1.30.2", ...}}`` (the server's ``/version`` object, as snapshots keep it;
  ``version_error`` instead when ``/version`` could not be read).

Failures become one-line :class:`~k8srun.errors.SourceError` subclasses
(defined in :mod:`k8srun.errors`, importable from here too):
:class:`AuthenticationFailed` (401), :class:`Forbidden` (403, naming user,
verb, resource and namespace), :class:`ApiUnreachable` (refused, DNS, TLS,
timeout; which one is read from the urllib3/ssl/socket exception types, never
their text) and :class:`ApiRequestFailed` (any other status). ``kubernetes``
is imported here only, when a live source is opened.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
from pathlib import Path

from ..errors import ApiRequestFailed, ApiUnreachable, AuthenticationFailed, Forbidden, SourceError
from ..params import positive_number
from ..resources import CATALOGUE, ApiResource
from . import Source

PAGE_SIZE = 500

#: API group -> kubernetes.client class serving it
_API_CLASSES = {"": "CoreV1Api", "apps": "AppsV1Api", "batch": "BatchV1Api",
                "discovery.k8s.io": "DiscoveryV1Api", "storage.k8s.io": "StorageV1Api"}


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _default_kubeconfig() -> Path:
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), "")
    return Path(first).expanduser() if first else Path("~/.kube/config").expanduser()


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` then what it wraps: urllib3's ``reason``, ``__cause__``/``__context__``, exceptions in args."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(found) < 20:
        current = todo.pop(0)
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        reason = getattr(current, "reason", None)
        todo.append(reason if isinstance(reason, BaseException) else None)
        todo.append(current.__cause__ or (None if current.__suppress_context__ else current.__context__))
        todo += [arg for arg in current.args if isinstance(arg, BaseException)]
    return found


def _short_reason(exc: BaseException, timeout_s: float) -> str:
    """Why a call got no usable answer, in a few words, chosen by the types of ``exc`` and its causes."""
    from kubernetes.client.exceptions import ApiException
    from urllib3 import exceptions as urllib3_errors

    if isinstance(exc, ApiException):
        return f"{exc.status} {exc.reason}"
    causes = _causes(exc)

    def first(*types: type) -> BaseException | None:
        return next((c for c in causes if isinstance(c, types)), None)

    unresolved = first(socket.gaierror)
    if unresolved is not None or first(urllib3_errors.NameResolutionError) is not None:
        detail = getattr(unresolved, "strerror", None)  # "Name or service not known"
        return "DNS lookup failed" + (f": {detail.lower()}" if detail else "")
    if (cert := first(ssl.SSLCertVerificationError)) is not None:
        detail = getattr(cert, "verify_message", None)  # set by the ssl module: "certificate has expired"
        return "TLS failure: certificate verify failed" + (f": {detail}" if detail else "")
    if (tls := first(ssl.SSLError)) is not None:
        code = getattr(tls, "reason", None)  # set by the ssl module: a short code, e.g. WRONG_VERSION_NUMBER
        return "TLS failure: " + (code.lower().replace("_", " ") if code else tls.strerror or str(tls))
    if (tls := first(urllib3_errors.SSLError)) is not None:
        return f"TLS failure: {tls}"
    # urllib3 2 derives NewConnectionError from ConnectTimeoutError: a refused connection is no timeout
    if any(isinstance(c, (TimeoutError, urllib3_errors.TimeoutError))
           and not isinstance(c, urllib3_errors.NewConnectionError) for c in causes):
        return f"no answer within {timeout_s:g}s (timed out)"
    if (os_error := next((c for c in causes if isinstance(c, OSError) and c.strerror), None)) is not None:
        return os_error.strerror.lower()  # connection refused, connection reset by peer, no route to host
    innermost = str(causes[-1]).splitlines()[0] if str(causes[-1]) else type(causes[-1]).__name__
    if first(urllib3_errors.ProtocolError) is not None:
        return f"connection closed without an answer ({innermost})"
    return innermost


class LiveSource(Source):
    """Read-only :class:`Source` over a live cluster (kubeconfig/context or in-cluster)."""

    kind = "live"

    def __init__(self, kubeconfig: str | os.PathLike | None = None, context: str | None = None,
                 timeout_s: float = 10):
        from kubernetes import client, config

        self.timeout_s = positive_number("timeout_s", timeout_s)
        configuration = client.Configuration()
        path = Path(kubeconfig).expanduser() if kubeconfig else _default_kubeconfig()
        try:
            if kubeconfig is None and not path.exists() and os.environ.get("KUBERNETES_SERVICE_HOST"):
                config.load_incluster_config(client_configuration=configuration)
                self.context = "in-cluster"
            else:
                if not path.exists():
                    raise SourceError(f"kubeconfig {path} does not exist and not running in a pod: "
                                      "pass kubeconfig=PATH (-p kubeconfig PATH)", where=f"kubeconfig {path}")
                contexts, active = config.list_kube_config_contexts(str(path))
                self.context = context or (active or {}).get("name", "")
                if context and context not in {c["name"] for c in contexts}:
                    raise SourceError(f"kubeconfig {path} has no context {context!r} "
                                      f"(have: {', '.join(c['name'] for c in contexts)})",
                                      where=f"kubeconfig {path}")
                config.load_kube_config(config_file=str(path), context=context,
                                        client_configuration=configuration, persist_config=False)
        except config.ConfigException as exc:
            reason = str(exc).splitlines()[0]
            raise SourceError(f"kubeconfig {path}: {reason}", where=f"kubeconfig {path}", reason=reason) from None
        configuration.retries = 0  # timeout_s bounds each call; urllib3 retries would multiply it
        self.server = configuration.host
        self.description = f"live:{self.context}"
        self._client = client
        self._api_client = client.ApiClient(configuration)
        self._apis: dict[str, object] = {}

    # ------------------------------------------------------------ calls
    def _api(self, group: str):
        name = _API_CLASSES[group]
        if name not in self._apis:
            self._apis[name] = getattr(self._client, name)(self._api_client)
        return self._apis[name]

    def _call(self, verb: str, resource: ApiResource, namespace: str | None, method: str, *args, **kwargs):
        """The raw HTTP response of one client call, or a one-line SourceError."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        function = getattr(self._api(resource.group), method)
        try:
            return function(*args, _preload_content=False, _request_timeout=self.timeout_s, **kwargs)
        except ApiException as exc:
            raise self._api_error(exc, verb, resource, namespace) from None
        except (HTTPError, OSError) as exc:
            raise ApiUnreachable(self.server, _short_reason(exc, self.timeout_s)) from None

    def _api_error(self, exc, verb: str, resource: ApiResource, namespace: str | None) -> SourceError:
        try:
            message = json.loads(exc.body or "{}").get("message", "")
        except (ValueError, AttributeError):
            message = ""
        if exc.status == 401:
            return AuthenticationFailed(self.server, self.context, exc.status)
        if exc.status == 403:
            user = re.search(r'User "([^"]*)"', message)  # the Status names the user only in its message
            return Forbidden(user.group(1) if user else "(unknown user)", verb, resource.plural, namespace,
                             cluster_scoped=not resource.namespaced, server=self.server)
        return ApiRequestFailed(self.server, exc.status, exc.reason, message, verb=verb, resource=resource.plural,
                                namespace=namespace, cluster_scoped=not resource.namespaced)

    @staticmethod
    def _json(response) -> dict:
        return json.loads(response.data)

    def _resource(self, resource: str) -> ApiResource:
        if resource not in CATALOGUE:
            raise SourceError(f"unknown resource {resource!r} (have: {', '.join(CATALOGUE)})", where=self.server)
        return CATALOGUE[resource]

    def _list_pages(self, api_resource: ApiResource, namespace: str | None, **selectors) -> list[dict]:
        snake = _snake(api_resource.kind)
        if not api_resource.namespaced:
            method, args = f"list_{snake}", ()
        elif namespace:
            method, args = f"list_namespaced_{snake}", (namespace,)
        else:
            method, args = f"list_{snake}_for_all_namespaces", ()
        items: list[dict] = []
        token = None
        while True:
            paging = {"_continue": token} if token else {}
            page = self._json(self._call("list", api_resource, namespace, method, *args, limit=PAGE_SIZE,
                                         **paging, **selectors))
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    # ------------------------------------------------------- interface
    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        return self._list_pages(self._resource(resource), namespace)

    def get(self, resource: str, namespace: str | None, name: str) -> dict | None:
        api_resource = self._resource(resource)
        if api_resource.namespaced and not namespace:  # any namespace: one list call selecting the name
            found = self._list_pages(api_resource, None, field_selector=f"metadata.name={name}")
            return found[0] if found else None
        snake = _snake(api_resource.kind)
        try:
            if api_resource.namespaced:
                response = self._call("get", api_resource, namespace, f"read_namespaced_{snake}", name, namespace)
            else:
                response = self._call("get", api_resource, None, f"read_{snake}", name)
        except ApiRequestFailed as exc:
            if exc.status == 404:
                return None
            raise
        found = self._json(response)
        found.pop("kind", None)  # the form list items (and bundle files) have
        found.pop("apiVersion", None)
        return found

    def events_for(self, namespace: str, kind: str, name: str) -> list[dict]:
        return self._list_pages(CATALOGUE["events"], namespace,
                                field_selector=f"involvedObject.kind={kind},involvedObject.name={name}")

    def logs(self, namespace: str, pod: str, container: str, *, previous: bool = False,
             tail_lines: int | None = None) -> str:
        options = {"container": container, "previous": previous}
        if tail_lines:
            options["tail_lines"] = int(tail_lines)
        response = self._call("get logs of", CATALOGUE["pods"], namespace, "read_namespaced_pod_log", pod,
                              namespace, **options)
        return response.data.decode("utf-8", errors="replace")

    def meta(self) -> dict:
        info = {"kind": self.kind, "description": self.description, "server": self.server,
                "context": self.context}
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            version = self._client.VersionApi(self._api_client).get_code(
                _preload_content=False, _request_timeout=self.timeout_s)
            info["cluster_version"] = self._json(version)
        except (ApiException, HTTPError, OSError, ValueError) as exc:  # meta() describes, never fails
            info["version_error"] = _short_reason(exc, self.timeout_s)
        return info

    def close(self) -> None:
        self._api_client.close()
