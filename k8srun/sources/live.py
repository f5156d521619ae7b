"""The ``live`` source: a real cluster through the official ``kubernetes`` client.

``LiveSource(kubeconfig=None, context=None, timeout_s=10)`` connects with a
kubeconfig file and context, or with the pod's service account when running
in a cluster and no kubeconfig exists. Every call is read-only and returns
the API's own JSON (camelCase dicts, exactly as a snapshot bundle holds them):

- ``list(resource, namespace)`` pages with ``limit=500`` and follows ``continue``, at most
  :data:`MAX_PAGES` pages (a server that keeps sending tokens, or repeats one, is an error);
- ``get`` reads one object (``None`` on 404), in list-item form (no ``kind``/``apiVersion``);
  with no namespace, the first of that name in any namespace (a ``metadata.name`` field selector);
- ``events_for(namespace, kind, name)`` asks the server with a field selector
  ``involvedObject.kind=KIND,involvedObject.name=NAME``, never a full list;
- ``logs(namespace, pod, container, previous=, tail_lines=, limit_bytes=)`` is the log text,
  always asked with both ``tailLines`` and ``limitBytes`` (defaults :data:`LOG_TAIL_LINES`,
  :data:`~k8srun.sources.LOG_LIMIT_BYTES`; the server cuts the tail at ``limitBytes``);
- ``meta()`` is ``{"kind": "live", "description": "live:CONTEXT", "server": URL,
  "context": CONTEXT, "cluster_version": {"major": "1", "minor": "30", "gitVersion":
  "v1.30.2", ...}}`` (the server's ``/version`` object, as snapshots keep it;
  ``version_error`` instead when ``/version`` could not be read).

Time bounds: ``budget_s`` (``k8srun capture --max-time``), when given, bounds all calls
together: once spent, every call fails at once, saying so. ``timeout_s`` bounds each call *as a whole* — connect, headers and body —
not only each read (urllib3's timeouts are per read, so a server trickling a byte a
second would never trip them): at the deadline the call's sockets are shut down. An
exec credential plugin of the kubeconfig gets ``timeout_s`` too (the kubernetes client
runs it with none, and logs and ignores its failures); one that hangs, fails or answers
garbage is a :class:`SourceError` naming it.

Failures become one-line :class:`~k8srun.errors.SourceError` subclasses
(defined in :mod:`k8srun.errors`, importable from here too):
:class:`AuthenticationFailed` (401), :class:`Forbidden` (403, naming user,
verb, resource and namespace), :class:`ApiUnreachable` (refused, DNS, TLS,
timeout; which one is read from the urllib3/ssl/socket exception types, never
their text) and :class:`ApiRequestFailed` (any other status, and answers that are not the
API's: an HTML page, JSON that is not an object, a list without ``items``). ``kubernetes``
is imported here only, when a live source is opened.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..errors import ApiRequestFailed, ApiUnreachable, AuthenticationFailed, Forbidden, SourceError
from ..params import TAIL_LINES_MAX, timeout_seconds
from ..resources import CATALOGUE, ApiResource
from . import LOG_LIMIT_BYTES, Source

PAGE_SIZE = 500
#: most pages one list follows (``PAGE_SIZE`` objects each): past it the list is unavailable, not cut short
MAX_PAGES = 200
#: ``tailLines`` asked for when the caller gives none (``limitBytes`` is always asked too)
LOG_TAIL_LINES = TAIL_LINES_MAX

#: API group -> kubernetes.client class serving it
_API_CLASSES = {"": "CoreV1Api", "apps": "AppsV1Api", "batch": "BatchV1Api",
                "discovery.k8s.io": "DiscoveryV1Api", "storage.k8s.io": "StorageV1Api",
                "coordination.k8s.io": "CoordinationV1Api"}


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


# ---------------------------------------------------------------- time bounds

_current = threading.local()


class _Deadline:
    """The overall time bound of one API call: at ``seconds`` the call's sockets are shut down.

    urllib3 bounds each connect and each read, so a server sending a byte a
    second is never "timed out"; this bounds the whole call instead. Used as
    ``with _Deadline(s) as deadline: ...``; the connections of the calls made
    inside (this thread) register their sockets through :func:`_watched_pools`.
    """

    def __init__(self, seconds: float):
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> "_Deadline":
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
        _current.deadline = self._outer


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


def _watched_pools() -> dict:
    """urllib3 pool classes whose connections register their sockets with the current :class:`_Deadline`."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Watched:
        def _new_conn(self):
            sock = super()._new_conn()  # the raw TCP socket, before any TLS handshake
            deadline = getattr(_current, "deadline", None)
            if deadline is not None:
                deadline.watch(sock)
            return sock

        def request(self, *args, **kwargs):
            deadline = getattr(_current, "deadline", None)
            if deadline is not None:
                deadline.watch(self.sock)  # a kept-alive connection; None when it connects anew
            return super().request(*args, **kwargs)

    class WatchedHTTPConnection(Watched, HTTPConnection):
        pass

    class WatchedHTTPSConnection(Watched, HTTPSConnection):
        pass

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    return {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}


def _bound_calls(api_client) -> None:
    """Make every call of ``api_client`` honour :class:`_Deadline` (plain and HTTP(S)-proxied pools)."""
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    manager = api_client.rest_client.pool_manager
    if manager.pool_classes_by_scheme == {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}:
        manager.pool_classes_by_scheme = _watched_pools()


class _ExecPluginFailed(BaseException):
    """An exec credential plugin hung, failed or answered garbage.

    A BaseException on purpose: the kubernetes client catches ``Exception``
    around the plugin, logs it and goes on without credentials.
    """


def _bounded_exec_provider(timeout_s: float):
    """The kubernetes client's ExecProvider, running the plugin with a time bound and checking its answer."""
    from kubernetes.config.exec_provider import ExecProvider

    class BoundedExecProvider(ExecProvider):
        def run(self, previous_response=None):
            command = " ".join(str(a) for a in self.args)[:200]
            interactive = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
            info = {"apiVersion": self.api_version, "kind": "ExecCredential",
                    "spec": {"interactive": interactive}}
            if previous_response:
                info["spec"]["response"] = previous_response
            if self.cluster:
                info["spec"]["cluster"] = self.cluster.value
            env = {**self.env, "KUBERNETES_EXEC_INFO": json.dumps(info)}
            try:
                process = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                           stderr=sys.stderr if interactive else subprocess.PIPE,
                                           stdin=sys.stdin if interactive else subprocess.DEVNULL,
                                           cwd=self.cwd, env=env, text=True, start_new_session=True)
            except OSError as exc:
                raise _ExecPluginFailed(f"exec credential plugin {command!r} cannot start: "
                                        f"{exc.strerror or exc}") from None
            try:
                stdout, stderr = process.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise _ExecPluginFailed(f"exec credential plugin {command!r} gave no answer within "
                                        f"{timeout_s:g}s (timeout_s); killed") from None
            if process.returncode != 0:
                last = (stderr or "").strip().splitlines()[-1:] or [""]
                raise _ExecPluginFailed(f"exec credential plugin {command!r} exited {process.returncode}"
                                        + (f": {last[0][:200]}" if last[0] else ""))
            try:
                data = json.loads(stdout)
                status = data["status"]
                if data.get("apiVersion") != self.api_version or not isinstance(status, dict) or \
                        not ("token" in status or {"clientCertificateData", "clientKeyData"} <= set(status)):
                    raise ValueError(data)
            except (ValueError, TypeError, KeyError):
                raise _ExecPluginFailed(f"exec credential plugin {command!r} did not answer an ExecCredential "
                                        f"({self.api_version}) with a token or client certificate") from None
            return status

    return BoundedExecProvider


class LiveSource(Source):
    """Read-only :class:`Source` over a live cluster (kubeconfig/context or in-cluster)."""

    kind = "live"
    #: the namespace the kubeconfig context pins (``contexts[].context.namespace``), "" when none
    context_namespace: str = ""

    def __init__(self, kubeconfig: str | os.PathLike | None = None, context: str | None = None,
                 timeout_s: float = 10, *, budget_s: float | None = None):
        from kubernetes import client, config
        from kubernetes.config import kube_config

        self.timeout_s = timeout_seconds("timeout_s", timeout_s)
        self._budget_end = time.monotonic() + budget_s if budget_s else None
        self.budget_s = budget_s
        configuration = client.Configuration()
        path = Path(kubeconfig).expanduser() if kubeconfig else _default_kubeconfig()
        kube_config.ExecProvider = _bounded_exec_provider(self.timeout_s)  # also used on token refresh
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
                chosen = next((c for c in contexts if c["name"] == self.context), {})
                pinned = (chosen.get("context") or {}).get("namespace") if isinstance(chosen, dict) else None
                self.context_namespace = pinned if isinstance(pinned, str) else ""
                config.load_kube_config(config_file=str(path), context=context,
                                        client_configuration=configuration, persist_config=False)
        except SourceError:
            raise
        except _ExecPluginFailed as exc:
            raise SourceError(f"kubeconfig {path}: {exc}", where=f"kubeconfig {path}", reason=str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the client raises anything on a malformed file
            reason = _first_line(exc) if isinstance(exc, config.ConfigException) else \
                f"cannot be loaded: {_first_line(exc)}"
            raise SourceError(f"kubeconfig {path}: {reason}", where=f"kubeconfig {path}", reason=reason) from None
        configuration.retries = 0  # timeout_s bounds each call; urllib3 retries would multiply it
        self.server = configuration.host
        self.description = f"live:{self.context}"
        self._client = client
        self._api_client = client.ApiClient(configuration)
        _bound_calls(self._api_client)
        self._apis: dict[str, object] = {}

    # ------------------------------------------------------------ calls
    def _api(self, group: str):
        name = _API_CLASSES[group]
        if name not in self._apis:
            self._apis[name] = getattr(self._client, name)(self._api_client)
        return self._apis[name]

    def _request(self, function, *args, **kwargs):
        """The HTTP response of one client call, body read, within ``timeout_s`` overall.

        Raises ApiException (an error status), ApiUnreachable (no complete answer).
        """
        from urllib3.exceptions import HTTPError

        seconds = self.timeout_s
        if self._budget_end is not None:
            left = self._budget_end - time.monotonic()
            if left <= 0:
                reason = f"not asked: the time bound of {self.budget_s:g}s for all calls ran out"
                raise SourceError(f"API server {self.server}: {reason}", where=self.server, reason=reason)
            seconds = min(seconds, left)
        started = time.monotonic()
        with _Deadline(seconds) as deadline:
            try:
                response = function(*args, _preload_content=False, _request_timeout=self.timeout_s, **kwargs)
                response.data  # noqa: B018 - read the body within the deadline
                return response
            except (HTTPError, OSError) as exc:
                reason = _short_reason(exc, self.timeout_s)
                # the whole-call bound ran out, whichever timer saw it first: a server trickling a byte
                # a second also trips the per-read timeout (timeout_s) at about the same moment
                if deadline.expired or (reason.startswith("no answer within")
                                        and time.monotonic() - started >= seconds):
                    reason = f"no complete answer within {seconds:g}s (timed out)"
                raise ApiUnreachable(self.server, reason) from None
            except _ExecPluginFailed as exc:  # a token refresh ran the plugin
                raise SourceError(f"API server {self.server}: {exc}", where=self.server, reason=str(exc)) from None

    def _call(self, verb: str, resource: ApiResource, namespace: str | None, method: str, *args, **kwargs):
        """The raw HTTP response of one client call (body read), or a one-line SourceError."""
        from kubernetes.client.exceptions import ApiException

        function = getattr(self._api(resource.group), method)
        try:
            return self._request(function, *args, **kwargs)
        except ApiException as exc:
            raise self._api_error(exc, verb, resource, namespace) from None

    def _not_the_api(self, response, what: str, verb: str, resource: ApiResource,
                     namespace: str | None) -> ApiRequestFailed:
        """An answer that is not the Kubernetes API's (a proxy or login page, JSON of another shape)."""
        content_type = (response.headers.get("Content-Type") or "no content type").split(";")[0]
        return ApiRequestFailed(self.server, response.status, response.reason or "", f"the answer ({content_type}) "
                                f"is {what}: not the Kubernetes API (a proxy or login page in front of it?)",
                                verb=verb, resource=resource.plural, namespace=namespace,
                                cluster_scoped=not resource.namespaced)

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

    def _json(self, response, verb: str, resource: ApiResource, namespace: str | None) -> dict:
        """The response body as a JSON object, or ApiRequestFailed saying what it is instead."""
        try:
            found = json.loads(response.data)
        except (ValueError, RecursionError):
            raise self._not_the_api(response, "not JSON", verb, resource, namespace) from None
        if not isinstance(found, dict):
            raise self._not_the_api(response, "JSON but not an object", verb, resource, namespace)
        return found

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
        token, seen = None, set()
        for _ in range(MAX_PAGES):
            paging = {"_continue": token} if token else {}
            response = self._call("list", api_resource, namespace, method, *args, limit=PAGE_SIZE,
                                  **paging, **selectors)
            page = self._json(response, "list", api_resource, namespace)
            page_items = page.get("items")
            if page_items is None and "items" not in page or not isinstance(page_items or [], list):
                raise self._not_the_api(response, f"not a {api_resource.list_kind} (no items)", "list",
                                        api_resource, namespace)
            if not all(isinstance(i, dict) and isinstance(i.get("metadata"), dict) for i in page_items or []):
                raise self._not_the_api(response, f"a {api_resource.list_kind} whose items are not all objects",
                                        "list", api_resource, namespace)
            items += page_items or []
            metadata = page.get("metadata") if isinstance(page.get("metadata"), dict) else {}
            token = metadata.get("continue")
            if not token:
                return items
            if not isinstance(token, str) or token in seen:
                raise self._paging_error(api_resource, namespace, "it sent the same continue token twice")
            seen.add(token)
        raise self._paging_error(api_resource, namespace, f"it still sent a continue token after {MAX_PAGES} "
                                 f"pages of {PAGE_SIZE}")

    def _paging_error(self, resource: ApiResource, namespace: str | None, why: str) -> SourceError:
        scope = f" in namespace {namespace}" if namespace else ("" if not resource.namespaced else " in any namespace")
        reason = f"listing {resource.plural}{scope} stopped: {why}"
        return SourceError(f"API server {self.server}: {reason}", where=self.server, reason=reason)

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
        found = self._json(response, "get", api_resource, namespace)
        found.pop("kind", None)  # the form list items (and bundle files) have
        found.pop("apiVersion", None)
        return found

    def events_for(self, namespace: str, kind: str, name: str) -> list[dict]:
        return self._list_pages(CATALOGUE["events"], namespace,
                                field_selector=f"involvedObject.kind={kind},involvedObject.name={name}")

    def logs(self, namespace: str, pod: str, container: str, *, previous: bool = False,
             tail_lines: int | None = None, limit_bytes: int | None = LOG_LIMIT_BYTES) -> str:
        options = {"container": container, "previous": previous,
                   "tail_lines": int(tail_lines or LOG_TAIL_LINES), "limit_bytes": int(limit_bytes or LOG_LIMIT_BYTES)}
        response = self._call("get logs of", CATALOGUE["pods"], namespace, "read_namespaced_pod_log", pod,
                              namespace, **options)
        return response.data.decode("utf-8", errors="replace")

    def version(self) -> dict:
        """The server's ``/version`` object; SourceError when the server cannot be used at all.

        :func:`k8srun.sources.check_source` asks it before a runbook starts:
        unreachable, credentials rejected or not the Kubernetes API.
        """
        from kubernetes.client.exceptions import ApiException

        try:
            response = self._request(self._client.VersionApi(self._api_client).get_code)
        except ApiException as exc:
            if exc.status == 401:
                raise AuthenticationFailed(self.server, self.context, exc.status) from None
            raise ApiRequestFailed(self.server, exc.status, exc.reason or "", "", verb="get", resource="/version",
                                   namespace=None, cluster_scoped=True) from None
        found = self._json(response, "get", _VERSION, None)
        if not found.get("gitVersion"):
            raise self._not_the_api(response, "a JSON object without gitVersion", "get", _VERSION, None)
        return found

    def default_namespace(self) -> str:
        """The namespace the context pins, else ``default`` (what kubectl uses without ``-n``)."""
        return self.context_namespace or "default"

    def meta(self) -> dict:
        info = {"kind": self.kind, "description": self.description, "server": self.server,
                "context": self.context}
        try:
            info["cluster_version"] = self.version()
        except SourceError as exc:  # meta() describes, never fails
            info["version_error"] = exc.reason
        return info

    def close(self) -> None:
        self._api_client.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


#: ``/version`` described as a resource, for error messages
_VERSION = ApiResource(group="", version="", kind="Version", plural="/version", namespaced=False)
