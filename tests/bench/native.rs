//! `wi-bench-native`: the native core's lint cost per object, for comparison
//! with the same work through wasmtime. Times `wi_core::lint` on two input
//! sizes in process and reports the marginal cost per object as JSON.

use std::time::Instant;

fn objects_and_seconds(path: &str) -> (usize, f64) {
    let content = std::fs::read_to_string(path).expect("bench input exists");
    // generate.py joins documents with `---` lines.
    let objects = content.matches("\n---\n").count() + 1;
    let file = wi_core::SourceFile { name: path.into(), content };
    let options = wi_core::LintOptions { default_namespace: "default".into(), ..Default::default() };
    let mut best = f64::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        let findings = wi_core::lint(std::slice::from_ref(&file), &options).expect("bench input parses");
        best = best.min(start.elapsed().as_secs_f64());
        std::hint::black_box(findings);
    }
    (objects, best)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (small_n, small_t) = objects_and_seconds(&args[0]);
    let (large_n, large_t) = objects_and_seconds(&args[1]);
    let per_object = (large_t - small_t) / (large_n - small_n) as f64;
    println!(
        "{{\"small_objects\":{small_n},\"small_seconds\":{small_t},\"large_objects\":{large_n},\"large_seconds\":{large_t},\"per_object_seconds\":{per_object}}}"
    );
}
