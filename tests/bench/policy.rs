//! `wi-bench-policy MODULE...`: per-request cost of the Kubewarden policy in
//! a waPC host as policy-server runs it (fresh instance per request, then
//! `validate`), for a typical opted-in Pod in validate and in mutate mode.
//! Prints one JSON object per module.

use std::time::Instant;

use serde_json::json;
use wi_conformance::policy_host::{Cluster, Policy, admission_request};

fn main() {
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app-sa", "namespace": "app",
        "annotations": {"azure.workload.identity/client-id": "11111111-2222-4333-8444-555555555555"}}});
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-7d4b9c-x2x4z", "namespace": "app", "labels": {"app": "web", "azure.workload.identity/use": "true"}},
        "spec": {"serviceAccountName": "app-sa", "containers": [
            {"name": "web", "image": "ghcr.io/example/web:1.2.3", "ports": [{"containerPort": 8080}],
             "env": [{"name": "LOG_LEVEL", "value": "info"}], "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
            {"name": "log-shipper", "image": "ghcr.io/example/shipper:1.0.0"}]}});
    let request = admission_request(&pod, "CREATE");
    let cluster = std::sync::Arc::new(Cluster { objects: vec![sa], allowed: ["v1/ServiceAccount".to_string()].into() });
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("module exists");
        let policy = Policy::from_bytes(&bytes);
        let mut result = json!({"module": path, "bytes": bytes.len()});
        for (mode, settings) in [("validate", json!({})), ("mutate", json!({"mutate": true}))] {
            let iterations = 2000;
            // Warm up, and check the answer is the real one.
            let answer = policy.validate(cluster.clone(), &settings, &request);
            assert_eq!(answer["accepted"], true, "{answer}");
            let start = Instant::now();
            for _ in 0..iterations {
                std::hint::black_box(policy.validate(cluster.clone(), &settings, &request));
            }
            result[mode] = json!(start.elapsed().as_secs_f64() / iterations as f64);
        }
        println!("{result}");
    }
}
