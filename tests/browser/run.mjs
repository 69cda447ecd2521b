// End-to-end tests of the generator page in Debian's chromium: the page's
// outputs, findings and mutation must equal what `kubectl wi` prints for
// the same values; copy, download, a shared link and an accessibility
// audit (axe-core) are checked as a user would meet them.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { launchChromium, root, serveSite } from "./serve.mjs";

const cli = process.env.KUBECTL_WI ? resolve(root, process.env.KUBECTL_WI) : join(root, "target/release/kubectl-wi");
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); console.log(`${ok ? "ok  " : "FAIL"} ${what}`); };
const kubectlWi = (args) => execFileSync(cli, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const site = await serveSite();
const url = site.url;

// Pastes into the check pane and waits for the (debounced) check.
async function paste(page, text) {
  await page.fill('[name="manifests"]', text);
  await page.waitForFunction(() => document.body.dataset.checking === "false");
}

const browser = await launchChromium();
try {
  const context = await browser.newContext({ acceptDownloads: true });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url.slice(0, -1) });
  const page = await context.newPage();
  page.on("pageerror", (e) => { failures.push(`page error: ${e.message}`); console.error(`page error: ${e.message}`); });
  page.on("console", (m) => m.type() === "error" && console.error(`console: ${m.text()}`));
  const start = Date.now();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
  console.log(`page ready in ${Date.now() - start} ms`);

  // The form, as `kubectl wi generate`'s flags.
  const values = {
    name: "shop", namespace: "shop", serviceAccount: "web", identityName: "id-shop", resourceGroup: "rg-shop",
    issuer: "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5c6d8e0a-1b2c-4d3e-8f90-a1b2c3d4e5f6/",
    tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47", clientId: "4a1e7a39-6c0b-4b2e-9d3c-8f2b5e6d7c10",
    subscriptionId: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", location: "westeurope", clusterName: "aks-shop", image: "ghcr.io/example/shop:1.4.2",
  };
  for (const [k, v] of Object.entries(values)) await page.fill(`[name="${k}"]`, v);
  const flag = (k) => "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
  const args = Object.entries(values).flatMap(([k, v]) => [k === "serviceAccount" ? "--service-account" : flag(k), v]);
  for (const format of ["yaml", "aso", "az", "bicep", "arm", "terraform"]) {
    const shown = await page.textContent(`[data-output="${format}"]`);
    const printed = kubectlWi(["generate", ...args, "--format", format]);
    check(shown === printed, `output ${format} equals kubectl wi generate --format ${format}`);
  }

  // A second ServiceAccount and a role, as repeated flags.
  await page.click("#add-account");
  await page.locator('[name="namespace"]').nth(1).fill("jobs");
  await page.locator('[name="serviceAccount"]').nth(1).fill("worker");
  await page.click("#add-role");
  const scope = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-shop/providers/Microsoft.KeyVault/vaults/kv-shop";
  await page.locator('[name="role"]').fill("Key Vault Secrets User");
  await page.locator('[name="scope"]').fill(scope);
  const more = [...args, "--namespace", "jobs", "--service-account", "worker", "--role", "Key Vault Secrets User", "--scope", scope];
  for (const format of ["yaml", "aso", "az", "bicep", "arm", "terraform"]) {
    const shown = await page.textContent(`[data-output="${format}"]`);
    check(shown === kubectlWi(["generate", ...more, "--format", format]), `with two ServiceAccounts and a role, output ${format} equals the CLI's`);
  }
  // Identity binding mode: the checkbox is the flag.
  await page.check('[name="identityBinding"]');
  const binding = [...more, "--identity-binding"];
  for (const format of ["yaml", "aso", "az", "bicep", "arm", "terraform"]) {
    const shown = await page.textContent(`[data-output="${format}"]`);
    check(shown !== "" && shown === kubectlWi(["generate", ...binding, "--format", format]), `with identity binding, output ${format} equals the CLI's`);
  }
  check((await page.textContent('[data-output="az"]')).includes("az aks identity-binding create"), "the az script creates the binding");
  await page.fill('[name="identityBindingName"]', "shop-ib");
  const bindingNote = await page.textContent("#e-identityBindingName");
  check(bindingNote.includes("contains '-'"), `a binding name with '-' is explained next to it (${bindingNote})`);
  await page.fill('[name="identityBindingName"]', "");
  const bindingLink = page.url();
  await page.uncheck('[name="identityBinding"]');
  check(!(await page.textContent('[data-output="yaml"]')).includes("ClusterRole"), "unchecked, no binding RBAC");
  await page.locator('[name="scope"]').fill("kv-shop");
  const scopeNote = await page.textContent(`#${await page.locator('[name="scope"]').getAttribute("aria-describedby")}`);
  check(scopeNote.includes("Azure resource ID"), `a bad scope is explained next to it (${scopeNote})`);
  await page.locator('[name="scope"]').fill(scope);

  // Inline validation: the rule code next to the field, tied to it.
  await page.fill('[name="clientId"]', "not-a-guid");
  const note = await page.textContent("#e-clientId");
  check(note.includes("[WI005]") && note.includes("is not a GUID"), `clientId shows WI005 (${note})`);
  check((await page.getAttribute('[name="clientId"]', "aria-describedby")) === "e-clientId", "the finding is the field's aria-describedby");
  check((await page.getAttribute('[name="clientId"]', "aria-invalid")) === "true", "the field is marked invalid");
  check((await page.textContent('[data-output="yaml"]')) === "", "no YAML while the client ID is wrong");
  await page.fill('[name="clientId"]', values.clientId);

  // Copy and download give the shown text.
  await page.click('[data-copy="yaml"]');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === (await page.textContent('[data-output="yaml"]')), "copy puts the YAML on the clipboard");
  await page.click("#tab-terraform");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-download="terraform"]')]);
  check(download.suggestedFilename() === "shop.tf", `download is named shop.tf (${download.suggestedFilename()})`);
  const saved = await readFile(await download.path(), "utf8");
  check(saved === (await page.textContent('[data-output="terraform"]')), "download holds the Terraform shown");

  // Check my manifests: the same findings and mutation as the CLI.
  for (const file of ["bundles/examples/broken/workloads.yaml", "tests/fixtures/lint/WI005-fires-placeholders.yaml", "bundles/examples/good/workload.yaml"]) {
    const text = await readFile(join(root, file), "utf8");
    await paste(page, text);
    const shown = await page.$$eval("#findings [data-rule]", (els) => els.map((e) => `${e.dataset.line} ${e.dataset.rule}`).sort());
    let report;
    try { report = JSON.parse(kubectlWi(["lint", "-f", file, "-o", "json"])); } catch (e) { report = JSON.parse(e.stdout); }
    const want = report.findings.map((f) => `${f.line} ${f.rule}`).sort();
    check(JSON.stringify(shown) === JSON.stringify(want), `findings for ${file} equal kubectl wi lint (${shown.length})`);
  }
  const mutatedShown = await page.textContent('[data-output="mutated"]');
  const mutatedPrinted = kubectlWi(["mutate", "-f", "bundles/examples/good/workload.yaml"]);
  check(mutatedShown === mutatedPrinted, "mutated pods equal kubectl wi mutate");
  // A pod the webhook refuses: like the CLI (exit 1, nothing on stdout),
  // no mutated text, the refusal listed apart.
  const refused = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    azure.workload.identity/use: \"true\"\nspec:\n  serviceAccountName: missing\n  containers:\n  - name: c\n    image: nginx\n";
  await paste(page, refused);
  check((await page.textContent('[data-output="mutated"]')) === "", "a refused pod gives no mutated text");
  check((await page.textContent("#refusals")).includes("would refuse"), "the refusal is listed");
  await paste(page, await readFile(join(root, "bundles/examples/good/workload.yaml"), "utf8"));

  // A shared link restores the state.
  const shared = page.url();
  const other = await context.newPage();
  await other.goto(shared);
  await other.waitForSelector("body[data-ready=true]");
  check((await other.inputValue('[name="issuer"]')) === values.issuer, "a shared link restores the form");
  const bindingPage = await context.newPage();
  await bindingPage.goto(bindingLink);
  await bindingPage.waitForSelector("body[data-ready=true]");
  check(await bindingPage.isChecked('[name="identityBinding"]'), "a shared link restores the identity binding checkbox");
  check((await other.textContent('[data-output="arm"]')) === (await page.textContent('[data-output="arm"]')), "and the outputs");
  check((await other.inputValue('[name="manifests"]')).includes("kind: Deployment"), "and the pasted manifests");
  check((await other.locator('[name="serviceAccount"]').nth(1).inputValue()) === "worker" && (await other.locator('[name="role"]').inputValue()) === "Key Vault Secrets User", "and the added rows");

  // Keyboard: the tabs move with the arrow keys.
  await page.focus("#tab-terraform");
  await page.keyboard.press("ArrowRight");
  check(await page.evaluate(() => document.activeElement.id === "tab-yaml" && !document.getElementById("panel-yaml").hidden), "ArrowRight moves to the next tab");

  // The token pane (its module loads on first use): the same text and exit
  // status as `kubectl wi explain token token --fic credentials --now T`
  // run on files of those names.
  const scratch = join(root, "target/test-scratch/web");
  await mkdir(scratch, { recursive: true });
  const explained = () => page.waitForFunction(() => document.body.dataset.explaining === "false");
  for (const [fics, now] of [["federated-credentials.json", "2026-11-18T11:30:00Z"], ["federated-credentials-wrong.json", "2027-01-01T00:00:00Z"]]) {
    const token = await readFile(join(root, "tests/fixtures/explain/shop-web.jwt"), "utf8");
    const credentials = await readFile(join(root, "tests/fixtures/explain", fics), "utf8");
    await writeFile(join(scratch, "token"), token);
    await writeFile(join(scratch, "credentials"), credentials);
    let printed, exit = 0;
    try { printed = execFileSync(cli, ["explain", "token", "token", "--fic", "credentials", "--now", now], { cwd: scratch, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }); } catch (e) { printed = e.stdout; exit = e.status; }
    await page.fill('[name="now"]', now);
    await page.fill('[name="credentials"]', credentials);
    await page.fill('[name="token"]', token);
    await explained();
    const shown = await page.textContent('[data-output="token"]');
    check(shown === printed && (await page.getAttribute('[data-output="token"]', "data-exit")) === String(exit), `token pane equals kubectl wi explain token with ${fics} (exit ${exit})`);
  }
  check(!decodeURIComponent(page.url()).includes("eyJ"), "the token is never put in the link");
  await page.fill('[name="token"]', "not.a.jwt!");
  await explained();
  check((await page.textContent("#token-errors")).startsWith("token: ") && (await page.getAttribute('[data-output="token"]', "data-exit")) === "2", "a bad token is an error naming it (exit 2)");
  await page.fill('[name="token"]', "");
  await page.fill('[name="aadsts"]', "7002138");
  await explained();
  check((await page.textContent('[data-output="aadsts"]')) === kubectlWi(["explain", "7002138"]), "AADSTS explanation equals kubectl wi explain 7002138");
  await page.fill('[name="aadsts"]', "AADSTS99999");
  await explained();
  check((await page.textContent("#aadsts-error")).includes("https://login.microsoftonline.com/error?code=99999"), "an unknown code points at Entra's lookup page");
  // A token pasted into the code field by mistake stays out of the link.
  await page.fill('[name="aadsts"]', (await readFile(join(root, "tests/fixtures/explain/shop-web.jwt"), "utf8")).trim());
  await explained();
  check(!decodeURIComponent(page.url()).includes("eyJ"), "a token in the code field is not put in the link either");
  // Spaces are not "now" (as `--now " "` is refused); only the field named is invalid.
  await page.fill('[name="now"]', "   ");
  await page.fill('[name="token"]', (await readFile(join(root, "tests/fixtures/explain/shop-web.jwt"), "utf8")));
  await explained();
  check((await page.getAttribute('[data-output="token"]', "data-exit")) === "2" && (await page.getAttribute('[name="now"]', "aria-invalid")) === "true" && (await page.getAttribute('[name="token"]', "aria-invalid")) === "false", "a blank time is an error on the time field alone");
  await page.fill('[name="now"]', "");
  await page.fill('[name="token"]', "");
  await page.fill('[name="aadsts"]', "AADSTS700213");
  await explained();

  // Accessibility audit.
  await page.addScriptTag({ path: join(root, "tests/browser/node_modules/axe-core/axe.min.js") });
  const audit = await page.evaluate(async () => (await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] })).violations.map((v) => `${v.id}: ${v.nodes.length} nodes`));
  check(audit.length === 0, `axe-core finds no WCAG A/AA violation ${audit.join("; ")}`);

  await page.setViewportSize({ width: 1280, height: 1100 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(root, "target/web-generator.png"), fullPage: false });
} finally {
  await browser.close();
  site.close();
}
if (failures.length) {
  console.error(`\n${failures.length} browser check(s) failed:\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log("all browser checks passed");
