"""The certificates of a PEM file or a kubeconfig, without a secret: ``python -m k8srun.probes.certfile``.

Usage::

    python -m k8srun.probes.certfile --pem /etc/kubernetes/pki/apiserver.crt
    python -m k8srun.probes.certfile --kubeconfig /root/.kube/config

Prints one JSON object and exits 0 whenever the file was looked at (a
missing or unreadable file is ``error`` in the JSON); exit 2 for bad
arguments. Run at the target by the tls runbook (the file is the target's).

- ``--pem``: every ``CERTIFICATE`` block of the file, in order (a bundle, a
  chain, a ``cert+key`` file). Private-key blocks are *counted*
  (``key_blocks``), never printed.
- ``--kubeconfig``: every cluster's CA (``certificate-authority-data``, or
  the file ``certificate-authority`` names, relative to the kubeconfig) and
  every user's client certificate (``client-certificate-data`` /
  ``client-certificate``), each certificate of them. Tokens, passwords,
  client keys, exec and auth-provider settings are not read at all
  (``key_blocks`` counts the users with a client key; ``token_users`` the users
  with a token or password, so "a user without a certificate" is explained).

Output::

    {"file": "/root/.kube/config", "kind": "pem" | "kubeconfig", "error": null | "one line",
     "key_blocks": 1, "token_users": 0,
     "certificates": [{"origin": "cluster lab: certificate-authority-data", "role": "ca" | "client" | "file",
                       "index": 0, "pem": "-----BEGIN CERTIFICATE-----\\n..."}],
     "problems": ["user admin: client-certificate-data is not base64"]}

A certificate's PEM is public; the checks read subject, dates and keys from it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from pathlib import Path

_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.S)
_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
MAX_BYTES = 4 * 1024 * 1024


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise OSError(f"larger than {MAX_BYTES} bytes: not a certificate file")
    return data


def pem_certificates(data: bytes) -> list[str]:
    """The CERTIFICATE blocks of ``data`` as text, in order (anything else is left out)."""
    return [block.decode("ascii", "replace").replace("\r\n", "\n") + "\n" for block in _CERT.findall(data)]


def from_pem(path: Path) -> dict:
    out = {"file": str(path), "kind": "pem", "error": None, "key_blocks": 0, "token_users": 0,
           "certificates": [], "problems": []}
    try:
        data = _read(path)
    except OSError as exc:
        out["error"] = f"cannot read {path}: {exc.strerror or exc}"
        return out
    out["key_blocks"] = len(_KEY.findall(data))
    out["certificates"] = [{"origin": f"{path.name} #{i + 1}", "role": "file", "index": i, "pem": pem}
                           for i, pem in enumerate(pem_certificates(data))]
    if not out["certificates"]:
        out["error"] = "no CERTIFICATE block in the file" + (" (it holds a private key only)"
                                                              if out["key_blocks"] else "")
    return out


def _material(entry: dict, data_key: str, file_key: str, base: Path, who: str, problems: list[str]
              ) -> tuple[bytes | None, str]:
    if entry.get(data_key):
        try:
            return base64.b64decode(str(entry[data_key]), validate=False), data_key
        except (ValueError, binascii.Error):
            problems.append(f"{who}: {data_key} is not base64")
            return None, data_key
    if entry.get(file_key):
        path = Path(str(entry[file_key]))
        path = path if path.is_absolute() else base / path
        try:
            return _read(path), f"{file_key} {path}"
        except OSError as exc:
            problems.append(f"{who}: {file_key} {path} cannot be read ({exc.strerror or exc})")
    return None, ""


def from_kubeconfig(path: Path) -> dict:
    import yaml

    out = {"file": str(path), "kind": "kubeconfig", "error": None, "key_blocks": 0, "token_users": 0,
           "certificates": [], "problems": []}
    try:
        config = yaml.safe_load(_read(path))
    except OSError as exc:
        out["error"] = f"cannot read {path}: {exc.strerror or exc}"
        return out
    except yaml.YAMLError as exc:
        out["error"] = f"not YAML: {str(exc).splitlines()[0]}"
        return out
    if not isinstance(config, dict):
        out["error"] = "not a kubeconfig (not a mapping)"
        return out
    sections = (("clusters", "cluster", "certificate-authority-data", "certificate-authority", "ca"),
                ("users", "user", "client-certificate-data", "client-certificate", "client"))
    for section, key, data_key, file_key, role in sections:
        items = config.get(section)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get(key), dict):
                continue
            entry, who = item[key], f"{key} {item.get('name')}"
            if role == "client":
                out["key_blocks"] += bool(entry.get("client-key-data") or entry.get("client-key"))
                out["token_users"] += bool(entry.get("token") or entry.get("tokenFile") or entry.get("password"))
            data, where = _material(entry, data_key, file_key, path.parent, who, out["problems"])
            if data is None:
                continue
            pems = pem_certificates(data)
            if not pems:
                out["problems"].append(f"{who}: {where} holds no PEM certificate")
            out["certificates"] += [{"origin": f"{who}: {where}", "role": role, "index": i, "pem": pem}
                                    for i, pem in enumerate(pems)]
    if not out["certificates"] and not out["problems"]:
        out["error"] = "no certificate in the kubeconfig (no CA data and no client certificate)"
    return out


def _path(text: str) -> Path:
    if not text or "\0" in text or "\n" in text:
        raise argparse.ArgumentTypeError("must be a file path")
    return Path(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k8srun.probes.certfile", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--pem", type=_path)
    which.add_argument("--kubeconfig", type=_path)
    args = parser.parse_args(argv)
    result = from_pem(args.pem) if args.pem else from_kubeconfig(args.kubeconfig)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
