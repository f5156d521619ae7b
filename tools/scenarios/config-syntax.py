"""config-syntax: the manifests of a small shop, five of them broken the ways on-call meets most.

The bundle carries the files to check under ``manifests/`` (the runbook reads
a source's ``manifests/`` folder when no ``path`` is given); the cluster part
is the shared base cluster (v1.30.4), so the schemas are Kubernetes 1.30's.

- ``shop/worker.yaml``: a tab used for indentation (CFG-001);
- ``shop/ingress.yaml``: ``pathType`` given twice in one mapping (CFG-001);
- ``shop/web.yaml``: ``contianers`` for ``containers`` (CFG-002, with the
  required ``containers`` missing folded into it);
- ``shop/api.yaml``: ``replicas: "two"`` and ``containerPort: "8080"`` (CFG-002);
- ``shop/report-cronjob.yaml``: ``batch/v1beta1`` CronJob, removed in 1.25 (CFG-002);
- ``shop/settings.yaml``: a ConfigMap without ``metadata.name`` (CFG-003);
- ``shop/namespace.yaml``, ``shop/services.yaml`` (two Services, one file),
  ``shop/app-config.yaml`` (an app's own config, no Kubernetes object): clean.
"""

import json

from scenariokit import bundle
from scenariokit.base import base_cluster

SCENARIO = {
    "description": "A shop's manifests: tab indentation, a duplicate key, 'contianers', replicas \"two\", "
                   "a removed CronJob apiVersion, a ConfigMap without a name",
    "runbook": "config-syntax", "namespace": "default",
    "expected_codes": ["CFG-001", "CFG-002", "CFG-003"],
    "absent_codes": []}

MANIFESTS = {
    "shop/namespace.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    team: storefront
""",
    "shop/services.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector:
    app: api
  ports:
    - name: http
      port: 8080
      targetPort: 8080
""",
    "shop/web.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      contianers:
        - name: web
          image: registry.example.com/shop/web:3.4.1
          ports:
            - name: http
              containerPort: 8080
""",
    "shop/api.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: "two"
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:1.9.0
          ports:
            - containerPort: "8080"
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
""",
    "shop/worker.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
        - name: worker
          image: registry.example.com/shop/worker:1.9.0
          env:
            - name: QUEUE
\t      value: orders
""",
    "shop/ingress.yaml": """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            pathType: Exact
            backend:
              service:
                name: web
                port:
                  name: http
""",
    "shop/report-cronjob.yaml": """\
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: nightly-report
  namespace: shop
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: registry.example.com/shop/report:0.7.2
""",
    "shop/settings.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  namespace: shop
  labels:
    app: api
data:
  LOG_LEVEL: info
  CURRENCY: EUR
""",
    "shop/app-config.yaml": """\
# the api's own settings file (mounted from a ConfigMap): no Kubernetes object
server:
  port: 8080
  read_timeout: 5s
features:
  - search
  - wishlist
""",
}


class WithManifests:
    """A cluster rendered as a bundle plus the ``manifests/`` files (listed in ``gathered``)."""

    def __init__(self, cluster, files: dict[str, str]):
        self.cluster, self.files = cluster, files
        self.name, self.scenario = cluster.name, {}

    def render_files(self) -> dict[str, str]:
        self.cluster.scenario = self.scenario
        files = bundle.render(self.cluster)
        files.update({f"manifests/{rel}": text for rel, text in self.files.items()})
        info = json.loads(files[bundle.INFO_FILE])
        info["gathered"] = sorted(set(info["gathered"]) | {f"manifests/{rel}" for rel in self.files})
        files[bundle.INFO_FILE] = bundle.go_json(info)
        return files


def build() -> WithManifests:
    return WithManifests(base_cluster("config-syntax"), MANIFESTS)
