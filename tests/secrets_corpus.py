"""A seeded corpus of fake secrets in every form k8srun must redact, and the ordinary strings it must keep.

``SECRETS`` is a list of :class:`Secret`: ``form`` names the shape, ``text``
is a line (or block) as it would appear in a log, an event or a command
output, ``value`` the sensitive part and ``marker`` a unique substring of the
value (``LEAK042``-like, or the tail of an encoded value) so a leak names its
secret. Values are generated deterministically from the form name (no
randomness between runs). ``OBJECT_SECRETS`` are secrets that live in object
*structure* (env by name, argv items, probe headers, labels...), planted by
:func:`plant_bundle`. ``ORDINARY`` are strings that must survive redaction.

:func:`plant_bundle(root)` writes the bundle of ``tests/bundles.py`` with every
secret planted: logs, previous logs, events, waiting / terminated / condition
messages, probes, args (flag and value in one item and in two), env (by name
and by shape), lifecycle hooks, annotations and labels on namespaced and
cluster-scoped objects (namespaces, nodes, PVs, StorageClasses), ConfigMap
values, and node command outputs (``hosts/<host>/<id>.txt|.json``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from bundles import write_bundle

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class Secret:
    """One planted secret: where it goes is decided by plant_bundle."""

    form: str
    value: str
    text: str
    marker: str
    #: False for secrets that no sink may ever show even with redaction off (ConfigMap values)
    reaches_outputs: bool = True


def _fill(seed: str, length: int, alphabet: str = _ALNUM) -> str:
    out, counter = [], 0
    while len(out) < length:
        digest = hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        out += [alphabet[b % len(alphabet)] for b in digest]
        counter += 1
    return "".join(out[:length])


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _pem_body(seed: str, marker: str, lines: int = 6) -> list[str]:
    """Base64 lines of PEM width, each carrying the marker (so any leaked line is attributable)."""
    return [_fill(f"{seed}{i}", 64 - len(marker) - 2, _ALNUM + "+/") + marker + _fill(f"{seed}x{i}", 2)
            for i in range(lines)]


def _pem(kind: str, seed: str, marker: str) -> str:
    return "\n".join([f"-----BEGIN {kind}-----", *_pem_body(seed, marker), f"-----END {kind}-----"])


def _text_secrets() -> list[Secret]:
    made: list[Secret] = []

    def add(form: str, make, *, marker_case: str = "upper", reaches: bool = True) -> None:
        n = len(made) + 1
        marker = f"LEAK{n:03d}" if marker_case == "upper" else f"leak{n:03d}"
        value, text = make(marker, form)
        made.append(Secret(form, value, text, marker if marker in value else value[-12:], reaches))

    def pw(m, f, n=14):
        return _fill(f, n) + m

    def pw_form(form: str, template: str) -> None:
        """A password-like value (letters, digits, marker) in ``template`` at ``{v}``."""
        add(form, lambda m, f: (v := pw(m, f), template.replace("{v}", v)))

    # token prefixes (detect-secrets plugins and ours)
    add("aws access key id AKIA", lambda m, f: (v := "AKIA" + _fill(f, 9, _ALNUM[:26] + "0123456789") + m,
                                                f"aws configure set aws_access_key_id {v}"))
    add("aws session key id ASIA", lambda m, f: (v := "ASIA" + _fill(f, 9, _ALNUM[:26]) + m, f"using key {v} for s3"))
    add("github ghp_", lambda m, f: (v := "ghp_" + _fill(f, 29) + m, f"git clone https://{v}@github.com/acme/app"))
    add("github gho_", lambda m, f: (v := "gho_" + _fill(f, 29) + m, f"oauth token {v} issued"))
    add("github ghs_", lambda m, f: (v := "ghs_" + _fill(f, 29) + m, f"installation token: {v}"))
    add("github github_pat_", lambda m, f: (v := "github_pat_" + _fill(f, 22) + "_" + _fill(f + "2", 52) + m,
                                            f"GH auth with {v}"))
    for kind in "bpar":
        add(f"slack xox{kind}-", lambda m, f, kind=kind: (
            v := f"xox{kind}-1234567890-2345678901-" + _fill(f, 17) + m, f"slack client created with {v}"))
    add("slack webhook", lambda m, f: (v := "https://hooks.slack.com/services/T0ACME01/B0ACME02/" + _fill(f, 17) + m,
                                       f"posting alert to {v}"))
    add("stripe sk_live_", lambda m, f: (v := "sk_live_" + _fill(f, 40) + m, f"stripe key loaded: {v}"))
    add("google AIza", lambda m, f: (v := "AIza" + _fill(f, 28) + m, f"geocoder key {v}"))
    add("gitlab glpat-", lambda m, f: (v := "glpat-" + _fill(f, 13) + m, f"gitlab runner token {v}"))
    add("sendgrid SG.", lambda m, f: (v := "SG." + _fill(f, 22) + "." + _fill(f + "2", 36) + m, f"mailer using {v}"))
    add("openai sk-", lambda m, f: (v := "sk-" + _fill(f, 20) + "T3BlbkFJ" + _fill(f + "2", 13) + m,
                                    f"llm client {v}"))
    add("azure storage AccountKey", lambda m, f: (v := _fill(f, 79, _ALNUM + "+/") + m + "==",
                                                  "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" + v
                                                  + ";EndpointSuffix=core.windows.net"))
    add("azure SAS sig=", lambda m, f: (v := _fill(f, 30) + m + "%3D",
                                        f"GET https://acme.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig={v}&se=2030"))
    add("JWT", lambda m, f: (v := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ." + _fill(f, 30) + m,
                             f"token review for {v} ok"))
    add("bearer token", lambda m, f: (v := _fill(f, 24) + m, f"retrying request with bearer {v}"))
    # headers
    add("Authorization: Bearer header", lambda m, f: (v := pw(m, f, 24), f"> Authorization: Bearer {v}"))
    add("Authorization: Basic header", lambda m, f: (v := _b64("admin:" + pw(m, f)), f"curl -H 'Authorization: Basic {v}' x"))
    pw_form("Proxy-Authorization header", "Proxy-Authorization: Basic {v}")
    pw_form("X-Auth-Token header", "probe headers: X-Auth-Token: {v}")
    pw_form("X-Api-Key header", '-H "X-Api-Key: {v}"')
    add("X-Amz-Security-Token header", lambda m, f: (v := pw(m, f, 30), f"x-amz-security-token:{v}"))
    pw_form("Cookie header", "Cookie: session={v}; theme=dark")
    pw_form("Set-Cookie header", "< Set-Cookie: sid={v}; Path=/; HttpOnly")
    # command forms
    pw_form("curl -u user:password", "+ curl -sS -u admin:{v} https://api.internal/v1/x")
    pw_form("mysql -pPASSWORD", "+ mysql -h db -u root -p{v} shop -e 'select 1'")
    pw_form("mysql -p PASSWORD", "exec mysqldump -u backup -p {v} --all-databases")
    pw_form("mysql --password=", "mariadb --user=app --password={v} shop")
    pw_form("redis-cli -a", "redis-cli -h cache -p 6379 -a {v} ping")
    pw_form("docker login -p", "docker login -u ci -p {v} registry.acme.io")
    pw_form("helm registry login -p", "helm registry login reg.acme.io -u ci -p {v}")
    pw_form("sshpass -p", "sshpass -p {v} ssh ops@bastion")
    pw_form("openssl -passin pass:", "openssl rsa -in key.pem -passin pass:{v} -out x")
    pw_form("psql PGPASSWORD=", "PGPASSWORD={v} psql -h db -U app")
    pw_form("SQL PASSWORD '...'", "ALTER USER app WITH PASSWORD '{v}';")
    pw_form("SQL IDENTIFIED BY", "CREATE USER 'ro'@'%' IDENTIFIED BY '{v}';")
    pw_form("kubectl --from-literal", "kubectl create secret generic db --from-literal=password={v}")
    pw_form("helm --set", "helm upgrade app ./chart --set db.password={v}")
    pw_form("flag --db-password VALUE", "starting: app --db-password {v} --port 5432")
    pw_form("flag --api-key=VALUE", "args: --api-key={v} --verbose")
    pw_form("flag list text", 'argv ["--token", "{v}", "--v=2"]')
    # assignments, keys
    pw_form("env DB_PASSWORD=", "export DB_PASSWORD={v} DB_USER=app")
    pw_form("env REDIS_PASS=", "REDIS_PASS={v}")
    pw_form("env MYSQL_PWD=", "MYSQL_PWD={v} mysql -u root")
    add("AWS_SECRET_ACCESS_KEY=", lambda m, f: (v := _fill(f, 33, _ALNUM + "/+") + m,
                                                f"AWS_SECRET_ACCESS_KEY={v}"))
    pw_form("query access_token=", "GET /cb?code=abc&access_token={v}&state=xyz 302")
    pw_form("query client_secret=", "POST /token client_id=app&client_secret={v}")
    pw_form("passphrase=", 'unlocking with passphrase="{v}"')
    pw_form("signature=", "webhook signature={v} verified")
    pw_form("npm _authToken", "//registry.npmjs.org/:_authToken={v}")
    pw_form("JSON password", '{"level":"debug","db":{"user":"app","password":"{v}"}}')
    pw_form("escaped JSON password", '{"msg":"config {\\"password\\":\\"{v}\\"}"}')
    pw_form("python dict client_secret", "oauth config {'client_secret': '{v}'}")
    pw_form("JSON name/value env", 'env: {"name": "API_TOKEN", "value": "{v}"}')
    pw_form("YAML password:", "  password: {v}")
    pw_form("YAML camelCase dbPassword:", "    dbPassword: {v}")
    pw_form("YAML api-key:", "api-key: {v}")
    pw_form("YAML secret:", "- secret: {v}")
    add("docker config auth", lambda m, f: (v := _b64("ci:" + pw(m, f)), f'{{"auths":{{"reg.acme.io":{{"auth":"{v}"}}}}}}'))
    add("TLS Master-Key", lambda m, f: (v := _fill(f, 40, "0123456789ABCDEF") + "DEAD" + m[4:],
                                        f"    Master-Key: {v}"))
    # URLs and DSNs
    pw_form("postgres URL", "connecting to postgres://app:{v}@db:5432/shop")
    pw_form("redis URL no user", "cache at redis://:{v}@redis:6379/0")
    pw_form("mongodb+srv URL", "MONGO_URL=mongodb+srv://svc:{v}@cluster0.acme.net/db")
    pw_form("amqp URL", "broker amqp://guest:{v}@rabbit:5672//")
    pw_form("https URL credentials", "fetching https://deploy:{v}@git.acme.io/app.git")
    pw_form("Go MySQL DSN", "dsn=app:{v}@tcp(mysql:3306)/shop?parseTime=true")
    pw_form("JDBC password=", "jdbc:postgresql://db/shop?user=app&password={v}")
    # private keys
    add("PEM RSA private key", lambda m, f: (v := _pem_body(f, m)[2], _pem("RSA PRIVATE KEY", f, m)))
    add("PEM EC private key", lambda m, f: (v := _pem_body(f, m)[2], _pem("EC PRIVATE KEY", f, m)))
    add("OpenSSH private key", lambda m, f: (v := _pem_body(f, m)[2], _pem("OPENSSH PRIVATE KEY", f, m)))
    add("PGP private key block", lambda m, f: (v := _pem_body(f, m)[2], _pem("PGP PRIVATE KEY BLOCK", f, m)))
    add("PEM key cut by the end of the text", lambda m, f: (
        v := _pem_body(f, m)[2], "\n".join(["-----BEGIN PRIVATE KEY-----", *_pem_body(f, m)])))
    add("PEM key body, BEGIN cut off (orphan)", lambda m, f: (
        v := _pem_body(f, m)[2], "\n".join([*_pem_body(f, m), "-----END PRIVATE KEY-----"])))
    add("JSON service-account key", lambda m, f: (
        v := _pem_body(f, m)[1],
        json.dumps({"type": "service_account", "project_id": "acme", "private_key_id": "k1",
                    "private_key": _pem("PRIVATE KEY", f, m) + "\n", "client_email": "sa@acme.iam"})))
    # base64 of the above
    add("base64 of password=", lambda m, f: (v := _b64(f"password={pw(m, f)}"), f"config blob {v}"))
    add("base64 of AKIA key", lambda m, f: (v := _b64("aws_access_key_id = AKIA" + _fill(f, 9, _ALNUM[:26]) + m),
                                            f"AWS_CONFIG_B64={v}"))
    add("base64 of PEM key (client-key-data)", lambda m, f: (v := _b64(_pem("RSA PRIVATE KEY", f, m) + "\n"),
                                                             f"    client-key-data: {v}"))
    add("base64 of DSN", lambda m, f: (v := _b64(f"postgres://app:{pw(m, f)}@db/shop"), f"DATABASE_URL_B64 {v}"))
    add("base64url of token header", lambda m, f: (
        v := base64.urlsafe_b64encode(f"X-Auth-Token: {pw(m, f)}??>>".encode()).decode().rstrip("="),
        f"state={v}"))
    return made


SECRETS: list[Secret] = _text_secrets()


def _object_secrets() -> list[Secret]:
    """Secrets that live in object structure (planted by plant_bundle; text is their context)."""
    forms = ["env value by name", "env value by shape (DSN)", "env value by shape (AKIA)",
             "env value by shape (service-account JSON)", "args --token VALUE (two items)",
             "command mysql + args -p VALUE (two items)", "args --password=VALUE (one item)",
             "args -pVALUE after mysql (one item)", "probe httpHeaders X-Auth-Token", "probe httpHeaders Authorization",
             "probe exec command", "lifecycle postStart exec", "annotation by name",
             "annotation by shape", "label by name", "namespace annotation", "node annotation",
             "PV csi volumeAttributes", "PV mountOptions", "StorageClass parameters", "StorageClass mountOptions",
             "configmap value", "configmap value in a file", "waiting message", "terminated message",
             "condition message", "event message", "kubeconfig token", "kubeconfig server URL password"]
    made = []
    for i, form in enumerate(forms, start=len(SECRETS) + 1):
        marker = f"LEAK{i:03d}"
        value = _fill(form, 12) + marker
        # ConfigMap values are never kept, a kubeconfig's token is only ever sent to the server
        made.append(Secret(form, value, "", marker,
                           reaches_outputs=not form.startswith("configmap") and form != "kubeconfig token"))
    return made


OBJECT_SECRETS: list[Secret] = _object_secrets()
ALL_SECRETS: list[Secret] = SECRETS + OBJECT_SECRETS

#: strings that look near a secret but are not: each must survive redaction
ORDINARY = [
    "token_ttl=5m", "--token-ttl 5m", "password_min_length=8", "secretName: db-credentials",
    "DB_PASSWORD_FILE=/run/secrets/db-password", "password-reset-service", "bypass=true",
    "secret \"db-credentials\" not found", "--tls-private-key-file /etc/kubernetes/pki/apiserver.key",
    "max_tokens=512", "token expired", "see https://example.com/docs for details",
    "mysql -h db -u root --port 3306 shop", "docker run -p 8080:80 nginx",
    _b64("hello from the cart service, nothing to see here"),
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "-----BEGIN CERTIFICATE-----",
]


def _by_form(form: str) -> Secret:
    return next(s for s in ALL_SECRETS if s.form == form)


# ------------------------------------------------------------------ planting

def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def _log_block(ns: str, pod: str, container: str, text: str) -> str:
    return (f"==== START logs for container {container} of pod {ns}/{pod} ====\n{text}"
            f"==== END logs for container {container} of pod {ns}/{pod} ====\n")


#: the log tail pod-crashloop reads (its tail_lines default)
TAIL_LINES = 200

#: where the text secrets go, in turn
TEXT_PLACES = ["current log", "previous log", "event message", "waiting message", "terminated message",
               "condition message", "annotation", "node output"]


def placements() -> dict[str, str]:
    """form -> where plant_bundle puts it."""
    out = {s.form: TEXT_PLACES[i % len(TEXT_PLACES)] for i, s in enumerate(SECRETS)}
    # multi-line secrets belong in logs (a message or annotation is one line in most views)
    for s in SECRETS:
        if "\n" in s.text:
            out[s.form] = "previous log" if "orphan" in s.form or "cut" in s.form else "current log"
    out.update({s.form: "object structure" for s in OBJECT_SECRETS})
    return out


def plant_bundle(root: Path, node_scenario: Path) -> Path:
    """The tests/bundles.py bundle with every secret of ALL_SECRETS planted (module docstring).

    ``node_scenario``: a recorded scenario with node outputs (the mtu one): its ``hosts/`` and recorded
    run are copied, and secrets planted in every command's stderr, text outputs and one failed command's
    error.
    """
    write_bundle(root)
    where = placements()
    by_place: dict[str, list[Secret]] = {}
    for s in SECRETS:
        by_place.setdefault(where[s.form], []).append(s)
    obj = {s.form: s.value for s in OBJECT_SECRETS}
    ordinary_log = "\n".join(ORDINARY) + "\n"

    # logs of the crash-looping pod (pod-crashloop shows them): current and previous
    current = "".join(s.text + "\n" for s in by_place["current log"]) + ordinary_log
    # previous log: a private key whose BEGIN line falls just outside a 200-line tail (what pod-crashloop
    # reads), then the other secrets, all inside the tail
    orphan = next(s for s in by_place["previous log"] if "orphan" in s.form)
    others = "".join(s.text + "\n" for s in sorted(by_place["previous log"], key=lambda s: "cut by" in s.form)
                     if s is not orphan)  # the key cut by the end of the text last
    key_lines = orphan.text.count("\n") + 1  # body lines + END
    filler = "".join(f"panic line {i}\n" for i in range(TAIL_LINES - key_lines - others.count("\n") + 2))
    previous = f"starting\n-----BEGIN PRIVATE KEY-----\n{orphan.text}\n{filler}{others}"
    pod_dir = root / "default" / "api-7f9c"
    (pod_dir / "logs.txt").write_text(_log_block("default", "api-7f9c", "app", current))
    (pod_dir / "logs-previous.txt").write_text(_log_block("default", "api-7f9c", "app", previous))

    # events
    events = _load(root / "default" / "events.json")
    template = events["items"][0]
    for i, s in enumerate(by_place["event message"] + [_by_form("event message")]):
        event = json.loads(json.dumps(template))
        event["metadata"]["name"] = f"api-7f9c.secret{i:03d}"
        event["reason"] = "Unhealthy"
        event["message"] = (f"Readiness probe failed: {s.text}" if s.text else
                            f"Readiness probe failed: HTTP 401 X-Auth-Token: {s.value}")
        events["items"].append(event)
    _save(root / "default" / "events.json", events)

    # pods: messages, probes, args, env, lifecycle, annotations, labels
    pods = _load(root / "default" / "pods.json")
    api = next(p for p in pods["items"] if p["metadata"]["name"] == "api-7f9c")
    status = api["status"]["containerStatuses"][0]
    status["state"]["waiting"]["message"] = " | ".join(
        [f"back-off: {s.text}" for s in by_place["waiting message"]] + [f"couldn't use DATABASE_URL=postgres://app:{obj['waiting message']}@db/shop"])
    status["lastState"]["terminated"]["message"] = " | ".join(
        [s.text for s in by_place["terminated message"]] + [f"panic: password={obj['terminated message']}"])
    api["status"]["conditions"].append({"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady",
                                        "message": " | ".join([s.text for s in by_place["condition message"]]
                                                              + [f"token={obj['condition message']}"])})
    api["metadata"]["annotations"] = {
        **{f"example.com/note-{i}": s.text for i, s in enumerate(by_place["annotation"])},
        "example.com/api-token": obj["annotation by name"],
        "example.com/db": f"postgres://app:{obj['annotation by shape']}@db:5432/shop",
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"env": obj["env value by name"]}),
    }
    api["metadata"]["labels"]["vault-token"] = obj["label by name"]
    sa_json = json.dumps({"type": "service_account", "private_key": _pem("PRIVATE KEY", "sa-env",
                                                                       obj["env value by shape (service-account JSON)"])})
    container = api["spec"]["containers"][0]
    container["command"] = ["mysql"]
    container["args"] = ["-u", "root", "-p", obj["command mysql + args -p VALUE (two items)"],
                         "--token", obj["args --token VALUE (two items)"],
                         f"--password={obj['args --password=VALUE (one item)']}", "--token-ttl", "5m"]
    container["env"] = [
        {"name": "DB_PASSWORD", "value": obj["env value by name"]},
        {"name": "DATABASE_URL", "value": f"postgres://app:{obj['env value by shape (DSN)']}@db/shop"},
        {"name": "AWS_ACCESS_KEY_ID", "value": "AKIA" + obj["env value by shape (AKIA)"][-16:].upper()},
        {"name": "GOOGLE_CREDENTIALS", "value": sa_json},
        {"name": "TOKEN_TTL", "value": "5m"},
        {"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db-password"},
        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "token"}}},
    ]
    container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080, "httpHeaders": [
        {"name": "X-Auth-Token", "value": obj["probe httpHeaders X-Auth-Token"]},
        {"name": "Authorization", "value": f"Bearer {obj['probe httpHeaders Authorization']}"},
        {"name": "X-Request-Source", "value": "password-reset-service"}]}}
    container["readinessProbe"] = {"exec": {"command": ["sh", "-c",
                                                        f"redis-cli -a {obj['probe exec command']} ping"]}}
    container["lifecycle"] = {"postStart": {"exec": {"command": [
        "sh", "-c", f"curl -u admin:{obj['lifecycle postStart exec']} http://localhost/ready"]}}}
    web = next(p for p in pods["items"] if p["metadata"]["name"] == "web-0")
    web["spec"]["containers"][0]["command"] = ["mysql", f"-p{obj['args -pVALUE after mysql (one item)']}"]
    _save(root / "default" / "pods.json", pods)

    # configmaps: values a bundle never keeps
    configmaps = _load(root / "default" / "configmaps.json")
    configmaps["items"][0]["data"] = {"DB_PASSWORD": obj["configmap value"],
                                      "app.yaml": f"db:\n  password: {obj['configmap value in a file']}\n",
                                      "LOG_LEVEL": "debug"}
    _save(root / "default" / "configmaps.json", configmaps)

    # cluster-scoped objects
    namespaces = _load(root / "namespaces.json")
    namespaces["items"][0]["metadata"]["annotations"] = {"example.com/registry-password":
                                                         obj["namespace annotation"]}
    _save(root / "namespaces.json", namespaces)
    nodes = _load(root / "nodes.json")
    nodes["items"][0]["metadata"]["annotations"] = {"example.com/bmc-url":
                                                    f"https://admin:{obj['node annotation']}@bmc-1.acme.io"}
    _save(root / "nodes.json", nodes)
    _save(root / "persistentvolumes.json", {"kind": "PersistentVolumeList", "apiVersion": "v1", "metadata": {},
                                            "items": [{"metadata": {"name": "pv-smb"}, "spec": {
                                                "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                                                "mountOptions": ["username=svc", f"password={obj['PV mountOptions']}"],
                                                "csi": {"driver": "smb.csi.k8s.io", "volumeHandle": "smb-1",
                                                        "volumeAttributes": {
                                                            "source": "//smb/share",
                                                            "password": obj["PV csi volumeAttributes"]}}},
                                                "status": {"phase": "Available"}}]})
    classes = _load(root / "storageclasses.json")
    classes["items"][0]["parameters"] = {"adminPassword": obj["StorageClass parameters"],
                                         "csi.storage.k8s.io/provisioner-secret-name": "db-credentials"}
    classes["items"][0]["mountOptions"] = ["vers=3.0", f"password={obj['StorageClass mountOptions']}"]
    _save(root / "storageclasses.json", classes)

    # node command outputs of the recorded mtu scenario, replayed by the mtu runbook and saved beside its report
    shutil.copytree(node_scenario / "hosts", root / "hosts")
    info = _load(root / "k8srun.json")
    info["recorded"] = _load(node_scenario / "k8srun.json")["recorded"]
    _save(root / "k8srun.json", info)
    folder = next((root / "hosts").iterdir())
    texts = [s.text for s in by_place["node output"]]
    half = len(texts) // 2
    metas = sorted(folder.glob("*.json"))  # not by command id: whichever commands the runbook replays
    for meta_path in metas:
        meta = _load(meta_path)
        meta["stderr"] = "\n".join(texts) + "\n"
        if meta_path == metas[-1]:
            meta.update(exit_code=2, error="exited with code 2 on netns:k8l-node-a: " + " | ".join(texts[half:]))
        _save(meta_path, meta)
        stdout = meta_path.with_suffix(".txt")
        if not stdout.read_text().lstrip().startswith(("[", "{")):  # text output (ping): secrets in it too
            stdout.write_text(stdout.read_text() + "".join(f"{t}\n" for t in texts[:half]))
    return root


def kubeconfig_with_secrets(url: str, path: Path, *, server_password: str, token: str) -> Path:
    """A kubeconfig for ``url`` whose server URL carries a password and whose user has a token."""
    import yaml

    scheme, rest = url.split("://", 1)
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "planted",
        "clusters": [{"name": "planted", "cluster": {"server": f"{scheme}://admin:{server_password}@{rest}"}}],
        "users": [{"name": "planted", "user": {"token": token}}],
        "contexts": [{"name": "planted", "context": {"cluster": "planted", "user": "planted",
                                                     "namespace": "default"}}]}))
    return path
