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
large = {r["command"]: r for r in json.load(open(f"{out}/cli-large.json"))["results"]}
validate = json.load(open(f"{out}/kubernetes-validate.json"))["results"][0]["median"]
rss_mb = json.load(open(f"{out}/rss.json"))["peak_rss_kib"] * 1024 / 1e6
sa10k, sa100k, t100k = cli["sa-10000"]["median"], large["sa-100000"]["median"], large["100000"]["median"]
us = lambda s: f"{s * 1e6:.1f} µs"
# (measure, result, target, met): met is None where there is no target.
rows = [
    ("`kubectl wi lint`, 1 object (wall, start-up included, cached core)", ms(t1), "≤ 5 ms", t1 <= 0.005),
    ("`kubectl wi lint`, 1,000 objects (mixed YAML, `tests/bench/generate.py`)", ms(t1k), "", None),
    ("`kubectl wi lint -o json`, 10,000 objects (mixed YAML, 3.2 MB)", ms(t10k), "≤ 150 ms", t10k <= 0.150),
    ("`kubectl wi lint -o json`, 10,000 ServiceAccounts (`kind: List` JSON, 2 MB)", ms(sa10k), "≤ 80 ms", sa10k <= 0.080),
    ("same file, `kubernetes-validate --quiet` (PyPI) for scale", ms(validate), "", None),
    ("ServiceAccounts: kubectl wi / kubernetes-validate", f"{sa10k / validate:.3f}x", "≤ 0.02x", sa10k / validate <= 0.02),
    ("`kubectl wi lint`, 100,000 objects (mixed YAML, 33 MB)", ms(t100k), "", None),
    ("100,000 / 10,000 objects wall-time ratio, mixed YAML (10 is linear)", f"{t100k / t10k:.1f}", "≤ 10.5", t100k / t10k <= 10.5),
    ("100,000 / 10,000 objects wall-time ratio, ServiceAccounts JSON", f"{sa100k / sa10k:.1f}", "≤ 10.5", sa100k / sa10k <= 10.5),
    ("peak RSS, `kubectl wi lint`, 100,000 mixed objects", f"{rss_mb:.0f} MB", "≤ 200 MB", rss_mb <= 200),
    ("first run, core compiled and cached", ms(cold["median"]), "", None),
    ("cost per object in wasmtime ((10k - 1k) / 9,000, mixed)", us(wasm_per_object), "", None),
    ("cost per object, native core (same inputs, in process)", us(native_per_object), "≤ 5 µs", native_per_object <= 5e-6),
    ("wasmtime / native, per object", f"{wasm_per_object / native_per_object:.2f}x", "≤ 2x", wasm_per_object / native_per_object <= 2),
]
gen = {r["command"]: r["median"] for r in json.load(open(f"{out}/generate.json"))["results"]}
rows.append(("`kubectl wi generate`, all six formats written to a directory, example spec (2 ServiceAccounts, 1 role)", ms(gen["1"]), "", None))
rows.append(("same, 20 ServiceAccounts (Azure's most credentials per identity)", ms(gen["20"]), "", None))
rows.append(("same, 50 ServiceAccounts: refused (WI024), time to the error", ms(gen["50"]), "", None))
web = json.load(open(f"{out}/web.json"))
rows.append(("browser page: wasm size, gzipped (raw)", f"{web['wasmGzipBytes'] / 1e3:.0f} KB ({web['wasmBytes'] / 1e3:.0f} KB)", "≤ 300 KB", web["wasmGzipBytes"] <= 300e3))
rows.append(("browser page: load to ready, headless chromium", f"{web['loadMs']:.0f} ms", "≤ 250 ms", web["loadMs"] <= 250))
rows.append(("browser page: regenerate all six outputs after a keystroke", f"{web['regenerateMs']:.1f} ms", "≤ 16 ms", web["regenerateMs"] <= 16))
rows.append(("browser page: lint 1,000 pasted objects", f"{web['lint1000Ms']:.0f} ms", "≤ 100 ms", web["lint1000Ms"] <= 100))
rows.append(("browser page: token pane module (loaded on first use), gzipped", f"{web['explainWasmGzipBytes'] / 1e3:.0f} KB", "", None))
rows.append(("browser page: first token explanation, module load included", f"{web['firstExplanationMs']:.0f} ms", "", None))
ext = json.load(open(f"{out}/extism.json"))
rows.append(("Extism plugin from the Rust `extism` host: `lint` of one Pod and its ServiceAccount, per call", us(ext["lint_seconds"]), "≤ 25 µs", ext["lint_seconds"] <= 25e-6))
rows.append(("same lint natively, in process (the core's own share of a call)", us(ext["native_lint_seconds"]), "", None))
rows.append(("same, `mutate`, per call", us(ext["mutate_seconds"]), "", None))
plug = {r["command"]: r["median"] for r in json.load(open(f"{out}/plugins.json"))["results"]}
rows.append(("rule plugin: `lint`, 1,000 objects, with the example plugin (without: " + ms(plug["without"]) + ")", ms(plug["example"]), "", None))
rows.append(("rule plugin in an endless loop: wall time of the whole run until it is stopped (default deadline 500 ms)", ms(plug["loop"]), "< 1 s", plug["loop"] < 1))
for hog in (json.loads(l) for l in open(f"{out}/plugin-hog.json") if l.strip()):
    rows.append((f"rule plugin hoarding memory, `--plugin-memory {hog['cap']}`: peak RSS of the whole process", f"{hog['peak_rss_kib'] * 1024 / 1e6:.0f} MB", "", None))
for p, label, target in zip(policies, ("optimized (`make policy`)", "unoptimized (dev profile: opt-level 0, debug info)"), (True, False)):
    rows.append((f"Kubewarden policy {label}: module size", f"{p['bytes'] / 1e6:.2f} MB", "≤ 1.5 MB" if target else "", p["bytes"] <= 1.5e6 if target else None))
    rows.append((f"Kubewarden policy {label}: per request, fresh instance + validate, Pod", f"{p['validate'] * 1e3:.3f} ms", "≤ 1 ms" if target else "", p["validate"] <= 1e-3 if target else None))
    rows.append((f"Kubewarden policy {label}: per request, fresh instance + validate + mutate, Pod", f"{p['mutate'] * 1e3:.3f} ms", "≤ 1 ms" if target else "", p["mutate"] <= 1e-3 if target else None))
mark = {True: "met", False: "**not met**", None: ""}
rows = ["| Measure | Result | Target | |", "|---|---|---|---|"] + [f"| {m} | {r} | {g} | {mark[ok]} |" for m, r, g, ok in rows]
note = f"\nMedians of hyperfine runs on {cpu}, {os.cpu_count()} cores; `make bench` on {subprocess.run(['date','-u','+%Y-%m-%d'],capture_output=True,text=True).stdout.strip()}. Not measured here: the Kubewarden policy against Kubewarden's own pod-privileged-policy under `kwctl bench` (both come from GitHub and ghcr.io, outside the package registries this bench may use).\n"
table = "\n".join(rows) + "\n" + note
text = open(readme).read()
start = text.index("<!-- bench:start -->\n") + len("<!-- bench:start -->\n")
end = text.index("<!-- bench:end -->")
open(readme, "w").write(text[:start] + table + text[end:])
print(table)
