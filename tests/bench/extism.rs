//! `wi-bench-extism`: the cost of one call into the Extism plugin from the
//! Rust `extism` host, for one Pod (with its ServiceAccount), doing every
//! check: `lint` and `mutate`, the median of many calls on one plugin
//! instance, as JSON. Argument: the plugin's path.

use std::time::Instant;

const POD: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: shop\n  annotations:\n    azure.workload.identity/client-id: 6f2b7a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n  namespace: shop\n  labels:\n    azure.workload.identity/use: \"true\"\nspec:\n  serviceAccountName: api\n  containers:\n  - name: api\n    image: shop/api:1.0\n";

fn median_seconds(plugin: &mut extism::Plugin, export: &str, input: &str) -> f64 {
    for _ in 0..200 {
        let _: String = plugin.call(export, input).expect("the bench input is valid");
    }
    let mut times: Vec<f64> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            let out: String = plugin.call(export, input).expect("the bench input is valid");
            let t = start.elapsed().as_secs_f64();
            std::hint::black_box(out);
            t
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: wi-bench-extism PLUGIN.wasm");
    let wasm = std::fs::read(&path).expect("the plugin exists");
    let mut plugin = extism::Plugin::new(wasm, [], false).expect("the plugin loads");
    let input = serde_json::json!({"files": [{"path": "pod.yaml", "content": POD}], "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}).to_string();
    let lint = median_seconds(&mut plugin, "lint", &input);
    let mutate = median_seconds(&mut plugin, "mutate", &input);
    // The same lint in process, for the share that is the core's own work.
    let file = wi_core::SourceFile { name: "pod.yaml".into(), content: POD.into() };
    let options = wi_core::LintOptions { default_namespace: "default".into(), tenant_id: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()), ..Default::default() };
    let mut times: Vec<f64> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            let report = wi_core::lint_json(&wi_core::lint(std::slice::from_ref(&file), &options).expect("the bench input is valid")).to_string();
            let t = start.elapsed().as_secs_f64();
            std::hint::black_box(report);
            t
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let native = times[times.len() / 2];
    println!("{{\"lint_seconds\":{lint},\"mutate_seconds\":{mutate},\"native_lint_seconds\":{native}}}");
}
