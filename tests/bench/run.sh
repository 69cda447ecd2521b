#!/usr/bin/env bash
# `make bench`: wall time of `kubectl-wi lint` on 1, 1,000 and 10,000
# objects (start-up included, warm cache), the native core's cost per object
# for comparison, then the table in README.md between the bench markers.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { echo "bench: installing hyperfine" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >&2; }
out=target/bench
mkdir -p "$out"
export KUBECTL_WI_CACHE_DIR="$PWD/$out/cache"
bin=target/release/kubectl-wi
for n in 1 1000 10000; do python3 tests/bench/generate.py $n > "$out/objects-$n.yaml"; done
python3 tests/bench/generate.py 100000 > "$out/objects-100000.yaml"
for n in 10000 100000; do python3 tests/bench/generate.py --service-accounts $n > "$out/service-accounts-$n.json"; done
"$bin" precompile 2>/dev/null
hyperfine -N --warmup 3 --min-runs 20 --export-json "$out/cli.json" \
  -n 1 "$bin lint -f $out/objects-1.yaml -o json" \
  -n 1000 "$bin lint -f $out/objects-1000.yaml -o json" \
  -n 10000 "$bin lint -f $out/objects-10000.yaml -o json" \
  -n sa-10000 "$bin lint -f $out/service-accounts-10000.json -o json" \
  -i >/dev/null
hyperfine -N --warmup 1 --runs 5 --export-json "$out/cli-large.json" \
  -n 100000 "$bin lint -f $out/objects-100000.yaml -o json" \
  -n sa-100000 "$bin lint -f $out/service-accounts-100000.json -o json" \
  -i >/dev/null
# Peak memory of the largest run (the whole process: host and wasm guest).
python3 -c 'import resource, subprocess, sys, json
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(json.dumps({"peak_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))' \
  "$bin" lint -f "$out/objects-100000.yaml" -o json > "$out/rss.json"
# The same 10,000 ServiceAccounts through kubernetes-validate (PyPI), a
# schema validator people run on manifests, for scale.
hyperfine -N --runs 3 --export-json "$out/kubernetes-validate.json" \
  -n kubernetes-validate "target/venv/bin/kubernetes-validate --quiet $out/service-accounts-10000.json" -i >/dev/null
# Cold start: no precompiled artifact, so the component is compiled first.
hyperfine -N --runs 5 --export-json "$out/cold.json" \
  --prepare "rm -rf $out/cache" -n cold "$bin lint -f $out/objects-1.yaml -o json" -i >/dev/null
# generate: every format for the example spec, for 20 ServiceAccounts (the
# most federated credentials Azure allows on one identity), and the
# refusal of 50 (WI024).
python3 tests/bench/generate_spec.py 20 > "$out/spec-20.json"
python3 tests/bench/generate_spec.py 50 > "$out/spec-50.json"
hyperfine -N --warmup 3 --min-runs 20 --export-json "$out/generate.json" \
  -n 1 "$bin generate --spec bundles/examples/generate/spec.yaml -o $out/generated-1 --force" \
  -n 20 "$bin generate --spec $out/spec-20.json -o $out/generated-20 --force" \
  -n 50 "$bin generate --spec $out/spec-50.json -o $out/generated-50 --force" \
  -i >/dev/null
target/release/wi-bench-native "$out/objects-1000.yaml" "$out/objects-10000.yaml" > "$out/native.json"
# The Kubewarden policy: optimized (make policy) and built without optimization.
target/release/wi-bench-policy target/kubewarden/policy.wasm "$UNOPTIMIZED_POLICY" > "$out/policy.json"
# The Extism plugin from the Rust extism host: one Pod per call.
target/release/wi-bench-extism bundles/extism/wi_policy_extism.wasm > "$out/extism.json"
# Rule plugins: the example plugin's cost on 1,000 objects, and the sandbox's
# limits: the wall time until a plugin in an endless loop is stopped (the
# default 500 ms deadline), and the whole process's peak memory while a
# plugin hoards memory up to the default 64 MiB cap and when allowed 1 GiB.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hostile}\ndata: {mode: %s}\n' loop > "$out/plugin-loop.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hostile}\ndata: {mode: %s}\n' hog > "$out/plugin-hog.yaml"
hyperfine -N --warmup 3 --min-runs 10 --export-json "$out/plugins.json" \
  -n without "$bin lint -f $out/objects-1000.yaml -o json --no-plugin-dir" \
  -n example "$bin lint -f $out/objects-1000.yaml -o json --plugin bundles/plugins/prod-cost-center.wasm" \
  -n loop "$bin lint -f $out/plugin-loop.yaml --plugin target/plugins/hostile.wasm" \
  -i >/dev/null
for cap in 64Mi 1Gi; do
  python3 -c 'import resource, subprocess, sys, json
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(json.dumps({"cap": sys.argv[1], "peak_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))' \
    "$cap" "$bin" lint -f "$out/plugin-hog.yaml" --plugin target/plugins/hostile.wasm --plugin-memory "$cap"
done > "$out/plugin-hog.json"
# The browser generator (make web).
node tests/browser/bench.mjs > "$out/web.json"
python3 tests/bench/table.py "$out" README.md
