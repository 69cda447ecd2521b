#!/usr/bin/env python3
"""Writes a manifest stream of N objects: for every team a ServiceAccount, a
Deployment opted in to Workload ID and its federated credential, with a
mistake in every fifth team so the rules have work to do.

With `--service-accounts`, writes N ServiceAccounts as one `kind: List` JSON
object instead, in the shape `kubectl get sa -A -o json` prints (about 200
bytes each)."""
import json, sys

def team(i):
    ns = f"team-{i // 50}"
    subject_ns = ns if i % 5 else "default"
    return [f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa-{i}
  namespace: {ns}
  annotations:
    azure.workload.identity/client-id: "{i:08x}-2222-4333-8444-555555555555"
""", f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels:
        app: app-{i}
        azure.workload.identity/use: "true"
    spec:
      serviceAccountName: sa-{i}
      containers:
      - name: app
        image: ghcr.io/example/app:{i}
        ports:
        - containerPort: 8080
""", f"""apiVersion: managedidentity.azure.com/v1api20230131
kind: FederatedIdentityCredential
metadata:
  name: fic-{i}
  namespace: {ns}
spec:
  owner:
    name: id-{i}
  audiences: [api://AzureADTokenExchange]
  issuer: https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/
  subject: system:serviceaccount:{subject_ns}:sa-{i}
"""]

if sys.argv[1] == "--service-accounts":
    n = int(sys.argv[2])
    items = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
        "annotations": {"azure.workload.identity/client-id": f"{i:08x}-2222-4333-8444-555555555555"},
        "name": f"sa-{i}", "namespace": f"team-{i // 50}"}} for i in range(n)]
    json.dump({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}, sys.stdout, separators=(",", ":"))
    sys.exit(0)

n = int(sys.argv[1])
docs = []
i = 0
while len(docs) < n:
    docs.extend(team(i))
    i += 1
sys.stdout.write("---\n".join(docs[:n]))
