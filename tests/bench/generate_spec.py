#!/usr/bin/env python3
"""A generate spec with N ServiceAccounts over a few namespaces, for `make bench`."""
import json, sys

n = int(sys.argv[1])
spec = {
    "name": "bench",
    "serviceAccounts": [{"namespace": f"team-{i % 5}", "name": f"app-{i}"} for i in range(n)],
    "identityName": "id-bench",
    "resourceGroup": "rg-bench",
    "issuer": "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/11111111-1111-1111-1111-111111111111/",
    "tenantId": "00000000-0000-0000-0000-000000000001",
    "clientId": "22222222-2222-2222-2222-222222222222",
    "subscriptionId": "33333333-3333-3333-3333-333333333333",
    "clusterName": "aks-bench",
    "image": "ghcr.io/example/bench:1.0",
    "roles": [{"role": "Storage Blob Data Reader", "scope": "/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg-bench"}],
}
json.dump(spec, sys.stdout, indent=2)
