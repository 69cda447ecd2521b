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
"$bin" precompile 2>/dev/null
hyperfine -N --warmup 3 --min-runs 20 --export-json "$out/cli.json" \
  -n 1 "$bin lint -f $out/objects-1.yaml -o json" \
  -n 1000 "$bin lint -f $out/objects-1000.yaml -o json" \
  -n 10000 "$bin lint -f $out/objects-10000.yaml -o json" \
  -i >/dev/null
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
# The browser generator (make web).
node tests/browser/bench.mjs > "$out/web.json"
python3 tests/bench/table.py "$out" README.md
