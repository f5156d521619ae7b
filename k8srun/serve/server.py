"""A read-only Kubernetes REST API over any :class:`~k8srun.sources.Source`.

:class:`SnapshotApi` answers one request at a time as ``(status, content_type,
body)``; :func:`serving` runs it behind a standard-library
``ThreadingHTTPServer`` on 127.0.0.1 (plain HTTP) and writes a kubeconfig for
it. What it serves, enough for the real ``kubectl`` to ``get``, ``describe``,
``logs`` and ``cluster-info dump``:

==========================================  ==================================
``/version``, ``/api``, ``/apis``,          discovery (legacy format; kubectl
``/api/v1``, ``/apis/<group>/<version>``    falls back to it from aggregated)
``<prefix>[/namespaces/NS]/<plural>``       a List, with ``limit``/``continue``,
                                            ``labelSelector``, ``fieldSelector``
``<prefix>[/namespaces/NS]/<plural>/NAME``  one object (404 as a ``Status``)
``/api/v1/namespaces/NS/pods/P/log``        ``container``, ``previous``,
                                            ``tailLines``, ``limitBytes``
==========================================  ==================================

Objects and logs leave the server redacted (:func:`k8srun.redact.redact_bundle_object`:
ConfigMaps keep keys only; logs are redacted whole, then tailed), so even a
plain dump served does not leak what the bundle holds.

A snapshot bundle is served by index (:mod:`k8srun.serve.store`): each List
file is split once (in the background from the start, or when first asked),
a GET decodes one object, a list page only its objects, field selectors on
``metadata.name`` / ``involvedObject.name`` go through the index; the listen
backlog is 128 (socketserver's 5 stalls clients connecting while it is busy).
Other sources (and files the index cannot split) are listed through the Source.

Requests whose ``Accept`` asks for ``as=Table`` get a server-side Table
(:mod:`k8srun.serve.tables`). Every write verb gets 405 and watches get 400,
each with a ``Status`` saying the snapshot is read-only. Every request is
appended to ``request_log`` (when given) as ``{"method", "path", "query",
"accept"}``; resources named in ``forbidden`` answer 403 like an RBAC denial.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import select
import signal
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import msgspec
import yaml

from ..errors import ApiError, SelectorError, SourceError
from ..redact import default_redactor, redact_bundle_object, redact_object, redact_text
from ..sources import Source
from ..resources import CATALOGUE, ApiResource, group_versions
from .selectors import field_matcher, label_matcher
from .store import ObjectStore
from .tables import to_table

#: the user name of the kubeconfig and of 403 messages
SNAPSHOT_USER = "k8srun-snapshot"

_ALL_CATEGORY = {"pods", "services", "deployments", "replicasets", "daemonsets", "statefulsets", "jobs",
                 "replicationcontrollers"}
_SNAPSHOT_RESOURCE_VERSION = "1"

Response = tuple[int, str, bytes]


def status_object(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    """A ``v1 Status`` failure, as the API server returns errors."""
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": redact_text(message), "reason": reason, "code": code}
    if details:
        status["details"] = details
    return status


def _json(body: object, code: int = 200) -> Response:
    try:
        data = _ENCODE(body)  # msgspec: a fifth of json.dumps' time on an object, under the interpreter lock
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        data = json.dumps(body).encode()
    return code, "application/json", data


_ENCODE = msgspec.json.Encoder().encode


def _count(query: dict, key: str) -> int | None:
    """A non-negative integer query parameter, or None when absent or not ASCII digits."""
    value = query.get(key, "")
    return int(value) if value.isascii() and value.isdigit() else None


def _encode_continue(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_continue(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "BadRequest", f"continue key is not valid: {token!r}") from None
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(400, "BadRequest", f"continue key is not valid: {token!r}")
    return offset


def _version_info(source: Source) -> dict:
    """``/version``: the recorded version object, else the newest kubelet's version."""
    recorded = source.meta().get("cluster_version") or {}
    git_version = str(recorded.get("gitVersion") or "")
    if not git_version:
        try:
            nodes = source.list("nodes")
        except SourceError:
            nodes = []
        kubelets = [n.get("status", {}).get("nodeInfo", {}).get("kubeletVersion") for n in nodes]
        git_version = next((v for v in kubelets if v), "v0.0.0-snapshot")
    major, _, rest = git_version.lstrip("v").partition(".")
    info = {"major": major, "minor": rest.split(".", 1)[0], "gitVersion": git_version, "gitCommit": "",
            "gitTreeState": "", "buildDate": "", "goVersion": "", "compiler": "", "platform": "linux/amd64"}
    return {**info, **{k: v for k, v in recorded.items() if v}}


class SnapshotApi:
    """Answers Kubernetes API requests from a Source, read-only."""

    def __init__(self, source: Source, *, forbidden: frozenset[str] | set[str] = frozenset(),
                 request_log: list | None = None):
        self.source = source
        self.forbidden = frozenset(forbidden)
        self.request_log = request_log
        self.server_address = ""
        self._redacted: dict[tuple[str, str | None, int], list[dict]] = {}
        #: a bundle's objects by index: one object decoded per GET, one page per list (serve.store)
        self.store = ObjectStore.of(source)
        self._namespace_names: set[str] | None = None

    def warm(self, stop: threading.Event | None = None) -> None:
        """Index the bundle's files ahead of the requests (serve.store), until ``stop`` is set.

        Run in the background by :func:`serving`: the first request for a
        namespace then finds its files indexed instead of waiting for them.
        """
        if self.store is None:
            return
        for plural in ("pods", "events", "services", "endpoints", "nodes"):
            try:
                for _ in self.store.indexes(plural, None) or ():
                    if stop is not None and stop.is_set():
                        return
            except Exception:  # noqa: BLE001 - a request for it will say what is wrong
                continue

    def handle(self, method: str, target: str, accept: str) -> Response:
        """``(status, content type, body)`` for one request."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if self.request_log is not None:
            self.request_log.append({"method": method, "path": parts.path, "query": query, "accept": accept})
        try:
            if method not in ("GET", "HEAD"):
                raise ApiError(405, "MethodNotAllowed",
                               f"{method} is not allowed: this API serves a read-only snapshot")
            if query.get("watch") in ("true", "1") or "/watch/" in parts.path + "/":
                raise ApiError(400, "BadRequest", "watch is not supported: this API serves a snapshot "
                               "that never changes")
            return self._get(parts.path.rstrip("/") or "/", query, accept)
        except ApiError as exc:
            return _json(status_object(exc.code, exc.reason, exc.message, exc.details), exc.code)
        except SelectorError as exc:
            return _json(status_object(400, "BadRequest", str(exc)), 400)
        except SourceError as exc:
            return _json(status_object(503, "ServiceUnavailable", f"snapshot cannot answer: {exc}"), 503)
        except Exception as exc:  # a malformed object in the bundle: answer, never drop the connection
            return _json(status_object(500, "InternalError", f"cannot serve {parts.path}: "
                                       f"{type(exc).__name__}: {exc}"), 500)

    # -- routing ---------------------------------------------------------------------------------

    def _get(self, path: str, query: dict, accept: str) -> Response:
        if path == "/version":
            return _json(_version_info(self.source))
        if path == "/api":
            return _json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}]})
        if path == "/apis":
            return _json(self._group_list())
        segments = path.strip("/").split("/")
        if segments[0] == "api" and len(segments) >= 2:
            group_version, rest = segments[1], segments[2:]
        elif segments[0] == "apis" and len(segments) >= 3:
            group_version, rest = "/".join(segments[1:3]), segments[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        resources = group_versions().get(group_version)
        if resources is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return _json(self._resource_list(group_version, resources))
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        by_plural = {r.plural: r for r in resources}
        resource = by_plural.get(rest[0])
        if resource is None or (namespace and not resource.namespaced) or len(rest) > 3 or \
                (len(rest) > 1 and resource.namespaced and not namespace):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if resource.plural in self.forbidden:
            self._deny(resource, namespace, "get" if len(rest) > 1 else "list")
        if len(rest) == 1:
            return self._list(resource, namespace, query, accept)
        name = rest[1]
        if len(rest) == 3:
            if resource.plural == "pods" and rest[2] == "log" and namespace:
                return self._log(namespace, name, query)
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return self._object(resource, namespace, name, query, accept)

    def _deny(self, resource: ApiResource, namespace: str | None, verb: str) -> None:
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        raise ApiError(403, "Forbidden",
                       f'{resource.plural} is forbidden: User "{SNAPSHOT_USER}" cannot {verb} resource '
                       f'"{resource.plural}" in API group "{resource.group}"{where}',
                       {"kind": resource.plural})

    # -- discovery -------------------------------------------------------------------------------

    @staticmethod
    def _group_list() -> dict:
        groups = []
        for group_version in group_versions():
            if "/" not in group_version:
                continue
            name, version = group_version.split("/")
            entry = {"groupVersion": group_version, "version": version}
            groups.append({"name": name, "versions": [entry], "preferredVersion": entry})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    @staticmethod
    def _resource_list(group_version: str, resources: list[ApiResource]) -> dict:
        entries = []
        for r in resources:
            entry = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                     "kind": r.kind, "verbs": ["get", "list"]}
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.plural in _ALL_CATEGORY:
                entry["categories"] = ["all"]
            entries.append(entry)
            if r.plural == "pods":
                entries.append({"name": "pods/log", "singularName": "", "namespaced": True,
                                "kind": "Pod", "verbs": ["get"]})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": entries}

    # -- objects ---------------------------------------------------------------------------------

    def _namespaces(self) -> list[dict]:
        try:
            return self.source.list("namespaces")
        except SourceError:
            return [{"metadata": {"name": name}, "status": {"phase": "Active"}}
                    for name in self.source.namespaces()]

    def _all(self, resource: ApiResource, namespace: str | None) -> list[dict]:
        """Every object of ``resource`` (in ``namespace``) as it may leave the server: redacted, once."""
        key = (resource.plural, namespace, id(default_redactor()))  # a new redactor when its settings change
        if key not in self._redacted:
            self._redacted[key] = [redact_bundle_object(resource.plural, o) for o in self._read(resource, namespace)]
        return self._redacted[key]

    def _known_namespace(self, namespace: str) -> bool:
        if self._namespace_names is None:
            self._namespace_names = {n["metadata"]["name"] for n in self._namespaces()}
        return namespace in self._namespace_names

    def _read(self, resource: ApiResource, namespace: str | None) -> list[dict]:
        if resource.plural == "namespaces":
            return self._namespaces()
        if namespace and not self._known_namespace(namespace):
            return []  # the API server lists nothing in a namespace that does not exist
        return self.source.list(resource.plural, namespace)

    def _indexed_page(self, resource: ApiResource, namespace: str | None, query: dict,
                      offset: int, limit: int) -> tuple[list[dict], bool, int | None] | None:
        """A page from the bundle's object index (serve.store), redacted; None when it cannot answer."""
        if self.store is None or resource.plural == "namespaces":
            return None
        if namespace and not self._known_namespace(namespace):
            return [], False, 0
        selected = query.get("labelSelector") or query.get("fieldSelector")
        labels, fields = label_matcher(query.get("labelSelector")), field_matcher(query.get("fieldSelector"))
        try:
            found = self.store.select(resource.plural, namespace, (lambda o: labels(o) and fields(o)) if selected
                                      else None, query.get("fieldSelector"), offset, limit)
        except SourceError:
            return None  # the source says why (list), as before
        if found is None:
            return None
        return found

    def _list(self, resource: ApiResource, namespace: str | None, query: dict, accept: str) -> Response:
        _check_field_labels(resource, query.get("fieldSelector") or "")
        labels, fields = label_matcher(query.get("labelSelector")), field_matcher(query.get("fieldSelector"))
        offset = _decode_continue(query["continue"]) if query.get("continue") else 0
        limit = _count(query, "limit") or 0
        metadata: dict = {"resourceVersion": _SNAPSHOT_RESOURCE_VERSION}
        indexed = self._indexed_page(resource, namespace, query, offset, limit)
        include = query.get("includeObject") or "Metadata"
        if indexed is not None:
            page, more, remaining = indexed
            if "as=Table" in accept and include != "Object" and resource.plural not in ("configmaps", "secrets"):
                # the rows hold the cells and the metadata: only those are redacted, not whole objects
                # (managedFields, which kubectl never shows, are left out of the rows' metadata)
                page = [{**o, "metadata": {k: v for k, v in (o.get("metadata") or {}).items()
                                           if k != "managedFields"}} for o in page]
                typed = [{"kind": resource.kind, "apiVersion": resource.group_version, **o} for o in page]
                table = to_table(resource.kind, typed, self.source.now(), include, {})
                table = redact_object(table)
                table["metadata"] = {**metadata, **({"continue": _encode_continue(offset + len(page))} if more else {}),
                                     **({"remainingItemCount": remaining} if more and remaining is not None else {})}
                return _json(table)
            page = [redact_bundle_object(resource.plural, o) for o in page]
            if more:
                metadata["continue"] = _encode_continue(offset + len(page))
                if remaining is not None:
                    metadata["remainingItemCount"] = remaining
        else:
            objects = [o for o in self._all(resource, namespace) if labels(o) and fields(o)]
            end = offset + limit if limit else len(objects)
            page = objects[offset:end]
            if end < len(objects):
                metadata["continue"] = _encode_continue(end)
                metadata["remainingItemCount"] = len(objects) - end
        if "as=Table" in accept:
            typed = [{"kind": resource.kind, "apiVersion": resource.group_version, **o} for o in page]
            return _json(to_table(resource.kind, typed, self.source.now(),
                                  query.get("includeObject") or "Metadata", metadata))
        return _json({"kind": f"{resource.kind}List", "apiVersion": resource.group_version,
                      "metadata": metadata, "items": page})

    def _get_object(self, resource: ApiResource, namespace: str | None, name: str) -> dict:
        found = NotImplemented
        if self.store is not None and resource.plural != "namespaces" and \
                (not namespace or self._known_namespace(namespace)):
            try:
                found = self.store.get(resource.plural, namespace, name)
            except SourceError:
                found = NotImplemented
            if found is not None and found is not NotImplemented:
                found = redact_bundle_object(resource.plural, found)
        if found is NotImplemented:
            found = next((o for o in self._all(resource, namespace) if o["metadata"]["name"] == name), None)
        if found is None:
            raise ApiError(404, "NotFound", f'{resource.plural}{"." + resource.group if resource.group else ""} '
                           f'"{name}" not found', {"name": name, "group": resource.group, "kind": resource.plural})
        return {"kind": resource.kind, "apiVersion": resource.group_version, **found}

    def _object(self, resource: ApiResource, namespace: str | None, name: str, query: dict,
                accept: str) -> Response:
        found = self._get_object(resource, namespace, name)
        if "as=Table" in accept:
            return _json(to_table(resource.kind, [found], self.source.now(),
                                  query.get("includeObject") or "Metadata",
                                  {"resourceVersion": _SNAPSHOT_RESOURCE_VERSION}))
        return _json(found)

    def _log(self, namespace: str, pod_name: str, query: dict) -> Response:
        pod = self._get_object(CATALOGUE["pods"], namespace, pod_name)
        containers = [c["name"] for c in pod.get("spec", {}).get("containers") or []]
        init_containers = [c["name"] for c in pod.get("spec", {}).get("initContainers") or []]
        container = query.get("container") or ""
        if not container:
            if len(containers) != 1:
                message = (f"a container name must be specified for pod {pod_name}, "
                           f"choose one of: [{' '.join(containers)}]")
                if init_containers:
                    message += f" or one of the init containers: [{' '.join(init_containers)}]"
                raise ApiError(400, "BadRequest", message)
            container = containers[0]
        if container not in containers + init_containers:
            raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {pod_name}")
        try:  # redacted whole, then tailed: a private key cut by the tail is still caught
            text = redact_text(self.source.logs(namespace, pod_name, container,
                                                previous=query.get("previous") == "true"))
        except SourceError as exc:
            raise ApiError(400, "BadRequest", str(exc)) from None
        tail_lines = _count(query, "tailLines")
        if tail_lines:
            text = "".join(text.splitlines(keepends=True)[-tail_lines:])
        body = text.encode()
        limit_bytes = _count(query, "limitBytes")
        if limit_bytes is not None:
            body = body[:limit_bytes]
        return 200, "text/plain", body


#: field labels the API server accepts in a fieldSelector, by resource (besides metadata.name/namespace)
FIELD_LABELS: dict[str, frozenset[str]] = {plural: frozenset(labels) for plural, labels in {
    "pods": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"),
    "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "source", "type"),
    "nodes": ("spec.unschedulable",), "namespaces": ("status.phase",), "services": ("spec.clusterIP", "spec.type"),
    "replicasets": ("status.replicas",), "replicationcontrollers": ("status.replicas",),
    "jobs": ("status.successful",),
}.items()}
_FIELD_TERM = re.compile(r"\s*([^!=\s]+)")


def _check_field_labels(resource: ApiResource, selector: str) -> None:
    """ApiError 400 naming the first field label the API server would not support for ``resource``."""
    supported = {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(resource.plural, frozenset())
    for term in re.split(r"(?<!\\),", selector):
        match = _FIELD_TERM.match(term)
        if match and term.strip() and match.group(1) not in supported:
            raise ApiError(400, "BadRequest", f'Unable to find "{resource.group_version}, Resource='
                           f'{resource.plural}" that match field selector "{selector[:200]}": '
                           f"field label not supported: {match.group(1)[:100]}")


#: the most request body read (every write is refused: a body is only drained to keep the connection)
MAX_BODY_BYTES = 64 * 1024
#: the longest one request may take to arrive and be answered, and each read of it
REQUEST_DEADLINE_S = 30
READ_TIMEOUT_S = 10


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    timeout = READ_TIMEOUT_S  # per read: a client that stops sending does not hold a thread
    server: "_Server"

    def handle_one_request(self) -> None:
        """One request within REQUEST_DEADLINE_S, however slowly the client sends it (then the socket closes)."""
        self.server.deadlines.start(self)
        try:
            super().handle_one_request()
        except OSError:  # the deadline or the client hung up
            self.close_connection = True
        finally:
            self.server.deadlines.done(self)

    def _hang_up(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _body_ok(self) -> bool:
        """Drain a small body; answer 400/413 (and close) for a malformed, chunked or large one."""
        text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            problem = (400, "BadRequest", "Transfer-Encoding is not supported: this API serves a read-only snapshot")
        elif text is None:
            return True
        elif not (text.strip().isascii() and text.strip().isdigit()):
            problem = (400, "BadRequest", f"malformed Content-Length header {text[:40]!r}")
        elif int(text) > MAX_BODY_BYTES:
            problem = (413, "RequestEntityTooLarge", f"request body of {text.strip()[:20]} bytes is too large: "
                       "this API serves a read-only snapshot")
        else:
            self.rfile.read(int(text))
            return True
        self.close_connection = True
        self._send(*_json(status_object(problem[0], problem[1], problem[2]), problem[0]), close=True)
        return False

    def _answer(self) -> None:
        if not self._body_ok():
            return
        code, content_type, body = self.server.api.handle(self.command, self.path, self.headers.get("Accept", ""))
        self._send(code, content_type, body)

    def _send(self, code: int, content_type: str, body: bytes, *, close: bool = False) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        """Requests go to ``request_log``, not stderr."""


class _Deadlines:
    """Hangs up the requests that outlive REQUEST_DEADLINE_S: one thread for the server, checking every
    quarter of a second (a ``threading.Timer`` per request cost a thread start each: a quarter of the
    server's throughput on single-object GETs)."""

    TICK_S = 0.25

    def __init__(self) -> None:
        self._due: dict[_Handler, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="k8srun-serve-deadlines", daemon=True)
        self._thread.start()

    def start(self, handler: "_Handler") -> None:
        with self._lock:
            self._due[handler] = time.monotonic() + REQUEST_DEADLINE_S

    def done(self, handler: "_Handler") -> None:
        with self._lock:
            self._due.pop(handler, None)

    def _run(self) -> None:
        while not self._stop.wait(self.TICK_S):
            now = time.monotonic()
            with self._lock:
                late = [h for h, due in self._due.items() if due <= now]
                for handler in late:
                    del self._due[handler]
            for handler in late:
                handler._hang_up()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    #: listen backlog: socketserver's default of 5 stalls clients that connect while the server is busy
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: SnapshotApi, listener: socket.socket | None = None):
        """Listen on ``address``, or serve on ``listener`` (bound and listening: a forked worker's)."""
        super().__init__(address, _Handler, bind_and_activate=listener is None)
        if listener is not None:
            self.socket.close()
            self.socket = listener
            self.server_address = listener.getsockname()
            self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]
        self.api = api
        self.deadlines = _Deadlines()

    def server_close(self) -> None:
        super().server_close()
        self.deadlines.close()

    def handle_error(self, request, client_address) -> None:
        """A client hanging up is routine (no traceback); anything else is one line on stderr."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            print(f"k8srun serve: request from {client_address[0]} failed: {type(error).__name__}: "
                  f"{str(error)[:200]}", file=sys.stderr)


def kubeconfig_text(url: str) -> str:
    """A kubeconfig whose current context points at ``url`` (a placeholder token user)."""
    name = SNAPSHOT_USER
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {"token": "read-only-snapshot"}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}],
        "current-context": name,
    }, sort_keys=False)


@contextlib.contextmanager
def serving(source: Source, port: int = 0, *, host: str = "127.0.0.1", kubeconfig_dir: str | Path | None = None,
            forbidden: frozenset[str] | set[str] = frozenset(),
            request_log: list | None = None) -> Iterator[tuple[str, str]]:
    """Serve ``source`` in a background thread; yields ``(url, kubeconfig path)``, stops on exit."""
    api = SnapshotApi(source, forbidden=forbidden, request_log=request_log)
    try:
        server = _Server((host, port), api)
    except OSError as exc:
        raise SourceError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
    bound_host, bound_port = server.server_address[:2]
    api.server_address = f"{bound_host}:{bound_port}"
    url = f"http://{bound_host}:{bound_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="k8srun-serve", daemon=True)
    with tempfile.TemporaryDirectory(prefix="k8srun-serve-", dir=kubeconfig_dir) as config_dir:
        kubeconfig = Path(config_dir) / "kubeconfig"
        kubeconfig.write_text(kubeconfig_text(url))
        thread.start()
        stop_warming = threading.Event()
        threading.Thread(target=api.warm, args=(stop_warming,), name="k8srun-serve-index", daemon=True).start()
        try:
            yield url, str(kubeconfig)
        finally:
            stop_warming.set()
            server.shutdown()
            server.server_close()
            thread.join()


#: ``k8srun serve --workers`` default: one process per core, at most this many
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Processes ``k8srun serve`` answers from by default: one per core (at most MAX_DEFAULT_WORKERS)."""
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


@contextlib.contextmanager
def serving_processes(source: Source, port: int = 0, *, host: str = "127.0.0.1", workers: int = 2,
                      kubeconfig_dir: str | Path | None = None) -> Iterator[tuple[str, str, list[int]]]:
    """:func:`serving` in ``workers`` processes; yields ``(url, kubeconfig path, worker pids)``.

    One interpreter answers one request at a time (its lock): on a busy
    snapshot the answers queue behind each other's redaction and JSON. So
    the socket is bound here, then ``workers`` processes are forked (before
    this process starts any thread) and each accepts on it with its own
    index, redactor and threads — as pre-fork servers do. Leaving the block
    stops them (SIGTERM, then SIGKILL after 5 s) and closes the socket; a
    worker stops quietly on SIGINT/SIGTERM (Ctrl-C reaches the whole group).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=_Server.request_queue_size)
    except OSError as exc:
        raise SourceError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
    bound_host, bound_port = listener.getsockname()[:2]
    url = f"http://[{bound_host}]:{bound_port}" if family == socket.AF_INET6 else f"http://{bound_host}:{bound_port}"
    pids: list[int] = []
    ready_read = ready_write = -1
    stopping = {signal.SIGINT, signal.SIGTERM}
    try:
        with tempfile.TemporaryDirectory(prefix="k8srun-serve-", dir=kubeconfig_dir) as config_dir:
            kubeconfig = Path(config_dir) / "kubeconfig"
            kubeconfig.write_text(kubeconfig_text(url))
            sys.stdout.flush()
            sys.stderr.flush()
            ready_read, ready_write = os.pipe()
            parent = os.getpid()
            signal.pthread_sigmask(signal.SIG_BLOCK, stopping)  # a child takes them once its handlers are set
            try:
                for _ in range(max(1, workers)):
                    pid = os.fork()
                    if pid == 0:
                        os.close(ready_read)
                        _worker(source, listener, ready_write, stopping, parent)  # never returns
                    pids.append(pid)
            finally:
                os.close(ready_write)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
            _await_ready(ready_read, len(pids))
            yield url, str(kubeconfig), pids
    finally:
        _stop_workers(pids)  # no worker outlives this block
        if ready_read >= 0:
            os.close(ready_read)
        listener.close()


#: how long the workers may take to start (their threads up, before any indexing)
WORKER_START_S = 30


def _await_ready(ready: int, count: int) -> None:
    """Wait for a byte from each of ``count`` workers; SourceError when one ends (or hangs) first."""
    got, deadline = 0, time.monotonic() + WORKER_START_S
    while got < count:
        left = deadline - time.monotonic()
        readable, _, _ = select.select([ready], [], [], max(0.0, left))
        data = os.read(ready, count - got) if readable else b""
        if not data:
            raise SourceError(f"{count - got} of {count} serve worker processes did not start "
                              f"(see the line above, if any)")
        got += len(data)


def _worker(source: Source, listener: socket.socket, ready: int, stopping: set, parent: int) -> None:
    """A forked worker's life: its threads started, a byte on ``ready``, then serve on ``listener`` until
    SIGTERM/SIGINT (blocked until its handlers are set); leaves with ``os._exit`` (the parent owns the
    temporary files, the socket and the source's clean-up)."""
    code = 0
    try:
        for signum in stopping:
            signal.signal(signum, lambda *_: os._exit(0))
        _die_with_parent(parent)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
        api = SnapshotApi(source)
        host, port = listener.getsockname()[:2]
        api.server_address = f"{host}:{port}"
        server = _Server((host, port), api, listener)
        threading.Thread(target=api.warm, name="k8srun-serve-index", daemon=True).start()
        os.write(ready, b"1")
        os.close(ready)
        server.serve_forever(0.05)
    except BaseException as exc:  # noqa: BLE001 - one line, then the parent sees the exit code
        print(f"k8srun serve: worker {os.getpid()} failed: {type(exc).__name__}: {str(exc)[:200]}",
              file=sys.stderr, flush=True)
        code = 1
    finally:
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    """SIGTERM to this worker when the serving process dies, even by SIGKILL (Linux prctl
    PR_SET_PDEATHSIG), so no worker is left serving a snapshot nobody stops; gone already: exit."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's own stop is all there is
        pass
    if os.getppid() != parent:
        os._exit(0)


def _stop_workers(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    waiting = set(pids)
    while waiting:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                waiting.discard(pid)
        if waiting and time.monotonic() > deadline:
            for pid in waiting:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        if waiting:
            time.sleep(0.02)
