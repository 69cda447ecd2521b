#!/usr/bin/env python3
"""Turns the bench JSON files into the README table."""
import json, platform, subprocess, sys, os
out, readme = sys.argv[1], sys.argv[2]
cli = {r["command"]: r for r in json.load(open(f"{out}/cli.json"))["results"]}
cold = json.load(open(f"{out}/cold.json"))["results"][0]
native = json.load(open(f"{out}/native.json"))
policies = [json.loads(l) for l in open(f"{out}/policy.json") if l.strip()]
ms = lambda s: f"{s * 1000:.1f} ms"
t1, t1k, t10k = (cli[k]["median"] for k in ("1", "1000", "10000"))
wasm_per_object = (t10k - t1k) / 9000
native_per_object = native["per_object_seconds"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
rows = [
    "| Measure | Result | Target |",
    "|---|---|---|",
    f"| `kubectl wi lint`, 1 object (wall, start-up included, cached core) | {ms(t1)} | < 30 ms |",
    f"| `kubectl wi lint`, 1,000 objects | {ms(t1k)} | |",
    f"| `kubectl wi lint`, 10,000 objects (2 MB) | {ms(t10k)} | < 1 s |",
    f"| first run, core compiled and cached | {ms(cold['median'])} | |",
    f"| cost per object in wasmtime ((10k - 1k) / 9,000) | {wasm_per_object * 1e6:.1f} µs | linear |",
    f"| cost per object, native core (same inputs, in process) | {native_per_object * 1e6:.1f} µs | |",
    f"| wasmtime / native | {wasm_per_object / native_per_object:.2f}x | |",
    f"| 10k / 1k objects wall-time ratio | {t10k / t1k:.1f} (10 is linear) | |",
]
gen = {r["command"]: r["median"] for r in json.load(open(f"{out}/generate.json"))["results"]}
rows.append(f"| `kubectl wi generate`, all six formats written to a directory, example spec (2 ServiceAccounts, 1 role) | {ms(gen['1'])} | |")
rows.append(f"| same, 20 ServiceAccounts (Azure's most credentials per identity) | {ms(gen['20'])} | |")
rows.append(f"| same, 50 ServiceAccounts: refused (WI024), time to the error | {ms(gen['50'])} | |")
web = json.load(open(f"{out}/web.json"))
rows.append(f"| browser page: wasm size, raw / gzipped | {web['wasmBytes'] / 1e3:.0f} KB / {web['wasmGzipBytes'] / 1e3:.0f} KB | gzipped ≤ 300 KB |")
rows.append(f"| browser page: load to ready, headless chromium | {web['loadMs']:.0f} ms | ≤ 250 ms |")
rows.append(f"| browser page: regenerate all six outputs after a keystroke | {web['regenerateMs']:.1f} ms | ≤ 16 ms |")
rows.append(f"| browser page: lint 1,000 pasted objects | {web['lint1000Ms']:.0f} ms | ≤ 100 ms |")
for p, label, target in zip(policies, ("optimized (`make policy`)", "unoptimized (dev profile: opt-level 0, debug info)"), (True, False)):
    rows.append(f"| Kubewarden policy {label}: module size | {p['bytes'] / 1e6:.2f} MB | {'< 1.5 MB' if target else ''} |")
    rows.append(f"| Kubewarden policy {label}: per request, fresh instance + validate, Pod | {p['validate'] * 1e3:.3f} ms | {'< 1 ms' if target else ''} |")
    rows.append(f"| Kubewarden policy {label}: per request, fresh instance + validate + mutate, Pod | {p['mutate'] * 1e3:.3f} ms | {'< 1 ms' if target else ''} |")
note = f"\nMedians of hyperfine runs on {cpu}, {os.cpu_count()} cores; `make bench` on {subprocess.run(['date','-u','+%Y-%m-%d'],capture_output=True,text=True).stdout.strip()}.\n"
table = "\n".join(rows) + "\n" + note
text = open(readme).read()
start = text.index("<!-- bench:start -->\n") + len("<!-- bench:start -->\n")
end = text.index("<!-- bench:end -->")
open(readme, "w").write(text[:start] + table + text[end:])
print(table)
