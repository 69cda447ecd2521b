// `make bench`: the generator page in headless chromium. Prints JSON:
// wasm size raw and gzipped, load to ready, one regeneration of all
// outputs after a keystroke, linting 1,000 pasted objects, and the token
// pane's module (its size, and the first explanation, which loads it).
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { launchChromium, root, serveSite } from "./serve.mjs";

const site = await serveSite();
const url = site.url;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wasm = await readFile(join(root, "bundles/web/dist/wi_web_bg.wasm"));
const explainWasm = await readFile(join(root, "bundles/web/dist/wi_explain_bg.wasm"));
const token = await readFile(join(root, "tests/fixtures/explain/shop-web.jwt"), "utf8");
const objects = execFileSync("python3", [join(root, "tests/bench/generate.py"), "1000"], { encoding: "utf8" });

const browser = await launchChromium();
const loads = [], regenerations = [], lints = [], firstExplanations = [];
try {
  for (let i = 0; i < 7; i++) {
    const page = await browser.newPage();
    const start = Date.now();
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]");
    loads.push(Date.now() - start);
    // The token pane's first use: its module loads, then the token is explained.
    const t = Date.now();
    await page.fill('[name="token"]', token);
    await page.waitForFunction(() => document.body.dataset.explaining === "false");
    firstExplanations.push(Date.now() - t);
    await page.close();
  }
  const page = await browser.newPage();
  await page.goto(url + "#name=shop&namespace=shop&serviceAccount=web&identityName=id-shop&resourceGroup=rg-shop&issuer=https%3A%2F%2Fwesteurope.oic.prod-aks.azure.com%2F72f988bf-86f1-41af-91ab-2d7cd011db47%2F5c6d8e0a-1b2c-4d3e-8f90-a1b2c3d4e5f6%2F&clientId=4a1e7a39-6c0b-4b2e-9d3c-8f2b5e6d7c10&image=nginx%3A1.27");
  await page.waitForSelector("body[data-ready=true]");
  // One keystroke: the input event regenerates every output synchronously.
  for (let i = 0; i < 21; i++) {
    regenerations.push(await page.evaluate((i) => {
      const el = document.querySelector('[name="name"]');
      el.value = `shop${i % 2 ? "x" : ""}`;
      const t = performance.now();
      el.dispatchEvent(new Event("input", { bubbles: true }));
      return performance.now() - t;
    }, i));
  }
  // 1,000 objects: the core's lint alone, as the check pane calls it.
  for (let i = 0; i < 7; i++) {
    lints.push(await page.evaluate(async (text) => {
      const core = await import("./wi_web.js");
      const t = performance.now();
      core.lint("bench.yaml", text);
      return performance.now() - t;
    }, objects));
  }
} finally {
  await browser.close();
  site.close();
}
console.log(JSON.stringify({
  wasmBytes: wasm.length,
  wasmGzipBytes: gzipSync(wasm, { level: 9 }).length,
  loadMs: median(loads),
  regenerateMs: median(regenerations),
  lint1000Ms: median(lints),
  explainWasmGzipBytes: gzipSync(explainWasm, { level: 9 }).length,
  firstExplanationMs: median(firstExplanations),
}));
