"""Probe: a kubeconfig as ``kubectl config view --minify`` would show it, without a secret.

``python -m k8srun.probes.kubeconfig --kubeconfig PATH [--context NAME]``
prints one JSON object (exit 0 whatever the file holds; 2 = usage error)::

    {"file": "/root/.kube/config", "exists": true, "error": null,     # error: why it is unusable
     "current_context": "lab", "context": "lab", "contexts": ["lab"],  # context: the one chosen
     "cluster": "lab", "user": "admin", "namespace": null,
     "server": "https://127.0.0.1:6443", "scheme": "https", "host": "127.0.0.1", "port": 6443,
     "server_error": null,                    # unparsable URL / http:// where https is expected
     "ca": "data" | "file" | "insecure-skip-tls-verify" | "system roots",
     "ca_file_exists": null, "ca_not_after": "2027-...", "ca_subject": "CN=kubernetes",
     "auth": "token" | "token-file" | "client-cert" | "exec" | "oidc" | "auth-provider" | "basic" | "none",
     "auth_detail": "exec command aws-iam-authenticator",  # never a value
     "client_cert_subject": "CN=admin,O=system:masters", "client_cert_not_after": "...",
     "client_cert_expired": false, "client_cert_error": null}

Never printed: tokens, passwords, client keys, exec arguments and env,
auth-provider config (id/refresh tokens). Read by the control-plane runbook
(parser ``kubeconfig_view`` in :mod:`k8srun.parsers.controlplane`) and used
by :mod:`k8srun.probes.apiserver` through :func:`load` (which keeps the
credentials in memory only).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Credentials:
    """What a request needs (in memory only; never printed)."""

    token: str | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    username: str | None = None
    password: str | None = None


@dataclass
class Loaded:
    """The chosen context, its safe view and its credentials."""

    view: dict
    ca_pem: bytes | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    credentials: Credentials = field(default_factory=Credentials)


def _by_name(items: object, name: str, key: str) -> dict | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name") == name:
            value = item.get(key)
            return value if isinstance(value, dict) else {}
    return None


def _material(entry: dict, data_key: str, file_key: str, base: Path) -> tuple[bytes | None, str | None]:
    """(bytes, where) of a ``*-data`` (base64) or file field; where = "data" / "file"; ValueError when unreadable."""
    if entry.get(data_key):
        try:
            return base64.b64decode(str(entry[data_key]), validate=False), "data"
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{data_key} is not base64 ({exc})") from None
    if entry.get(file_key):
        path = Path(str(entry[file_key]))
        path = path if path.is_absolute() else base / path
        try:
            return path.read_bytes(), "file"
        except OSError as exc:
            raise ValueError(f"{file_key} {path}: {exc.strerror or exc}") from None
    return None, None


def _cert_facts(pem: bytes) -> tuple[str, str, bool]:
    """(subject, notAfter ISO, expired) of the first certificate in ``pem``."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(pem) if b"-----BEGIN" in pem else x509.load_der_x509_certificate(pem)
    not_after = cert.not_valid_after_utc
    return cert.subject.rfc4514_string(), not_after.isoformat(), not_after < dt.datetime.now(dt.timezone.utc)


def _server(view: dict, server: object) -> None:
    view["server"] = server if isinstance(server, str) else None
    if not isinstance(server, str) or not server.strip():
        view["server_error"] = "the cluster entry has no server URL"
        return
    try:
        parts = urlsplit(server)
        port = parts.port
    except ValueError as exc:
        view["server_error"] = f"unparsable server URL: {exc}"
        return
    view.update(scheme=parts.scheme or None, host=parts.hostname, port=port or (443 if parts.scheme == "https" else None))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        view["server_error"] = "unparsable server URL: expected https://HOST[:PORT]"
    elif parts.scheme == "http":
        view["server_error"] = "http:// where https:// is expected (the API server serves TLS only)"


def load(path: str, context: str = "") -> Loaded:
    """The kubeconfig at ``path`` with ``context`` (empty: current-context) resolved; never raises."""
    import yaml

    view: dict = {"file": path, "exists": os.path.exists(path), "error": None, "current_context": None,
                  "context": None, "contexts": [], "cluster": None, "user": None, "namespace": None,
                  "server": None, "scheme": None, "host": None, "port": None, "server_error": None,
                  "ca": None, "ca_file_exists": None, "ca_subject": None, "ca_not_after": None,
                  "auth": None, "auth_detail": None, "client_cert_subject": None, "client_cert_not_after": None,
                  "client_cert_expired": None, "client_cert_error": None}
    loaded = Loaded(view)
    if not view["exists"]:
        view["error"] = f"no such file: {path}"
        return loaded
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        view["error"] = f"unreadable: {str(exc).splitlines()[0][:200]}"
        return loaded
    if not isinstance(document, dict):
        view["error"] = "not a kubeconfig (no mapping at the top)"
        return loaded
    contexts = document.get("contexts") if isinstance(document.get("contexts"), list) else []
    view["contexts"] = [c.get("name") for c in contexts if isinstance(c, dict)]
    view["current_context"] = document.get("current-context") or None
    chosen = context or view["current_context"]
    if not chosen:
        view["error"] = "no context given and no current-context set"
        return loaded
    view["context"] = chosen
    entry = _by_name(contexts, chosen, "context")
    if entry is None:
        view["error"] = f"context {chosen!r} not found (have: {', '.join(map(str, view['contexts'])) or 'none'})"
        return loaded
    view.update(cluster=entry.get("cluster"), user=entry.get("user"), namespace=entry.get("namespace"))
    base = Path(path).resolve().parent
    cluster = _by_name(document.get("clusters"), str(entry.get("cluster")), "cluster")
    if cluster is None:
        view["error"] = f"cluster {entry.get('cluster')!r} of context {chosen!r} not found"
        return loaded
    _server(view, cluster.get("server"))
    loaded.insecure = bool(cluster.get("insecure-skip-tls-verify"))
    loaded.tls_server_name = cluster.get("tls-server-name") or None
    try:
        loaded.ca_pem, where = _material(cluster, "certificate-authority-data", "certificate-authority", base)
        view["ca"] = "insecure-skip-tls-verify" if loaded.insecure else where or "system roots"
        if loaded.ca_pem:
            view["ca_subject"], view["ca_not_after"], _ = _cert_facts(loaded.ca_pem)
    except ValueError as exc:
        view["ca"] = "file" if cluster.get("certificate-authority") else "data"
        view["ca_file_exists"] = False if cluster.get("certificate-authority") else None
        view["server_error"] = view["server_error"] or f"CA unusable: {exc}"
    user_name = entry.get("user")
    user = _by_name(document.get("users"), str(user_name), "user")
    if user is None:
        view["error"] = f"user {user_name!r} of context {chosen!r} not found"
        return loaded
    _auth(view, user, base, loaded.credentials)
    return loaded


def _auth(view: dict, user: dict, base: Path, credentials: Credentials) -> None:
    if user.get("client-certificate-data") or user.get("client-certificate"):
        view["auth"] = "client-cert"
        try:
            credentials.cert_pem, _ = _material(user, "client-certificate-data", "client-certificate", base)
            credentials.key_pem, _ = _material(user, "client-key-data", "client-key", base)
            subject, not_after, expired = _cert_facts(credentials.cert_pem or b"")
            view.update(client_cert_subject=subject, client_cert_not_after=not_after, client_cert_expired=expired)
            if not credentials.key_pem:
                view["client_cert_error"] = "no client key"
        except ValueError as exc:
            view["client_cert_error"] = str(exc).splitlines()[0][:200]
    if user.get("token") or user.get("tokenFile"):
        view["auth"] = view["auth"] or ("token" if user.get("token") else "token-file")
        if user.get("token"):
            credentials.token = str(user["token"]).strip()
        else:
            token_file = Path(str(user["tokenFile"]))
            try:
                credentials.token = (token_file if token_file.is_absolute() else base / token_file).read_text().strip()
            except OSError as exc:
                view["auth_detail"] = f"token file unreadable: {exc.strerror or exc}"
    if isinstance(user.get("exec"), dict):
        command = str(user["exec"].get("command") or "")
        view["auth"] = view["auth"] or "exec"
        view["auth_detail"] = f"exec command {os.path.basename(command)} (not run by the probe)"
    if isinstance(user.get("auth-provider"), dict):
        name = str(user["auth-provider"].get("name") or "")
        view["auth"] = view["auth"] or ("oidc" if name == "oidc" else "auth-provider")
        view["auth_detail"] = f"auth-provider {name} (not run by the probe)"
    if user.get("username") or user.get("password"):
        view["auth"] = view["auth"] or "basic"
        credentials.username, credentials.password = str(user.get("username") or ""), str(user.get("password") or "")
        view["auth_detail"] = view["auth_detail"] or "basic auth (removed in Kubernetes 1.19)"
    view["auth"] = view["auth"] or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k8srun.probes.kubeconfig", description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--context", default="")
    args = parser.parse_args(argv)
    json.dump(load(args.kubeconfig, args.context).view, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
