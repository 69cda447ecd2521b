// The page only moves text between the form and the core (wi_web.wasm,
// and wi_explain.wasm for the token pane): every value is checked and
// every file written by the same Rust code as `kubectl wi generate`,
// `lint`, `mutate` and `explain`.
import init, { generate, lint, mutate } from "./wi_web.js";

const FORMATS = [
  ["yaml", "Kubernetes YAML"], ["aso", "ASO"], ["az", "az CLI"],
  ["bicep", "Bicep"], ["arm", "ARM"], ["terraform", "Terraform"],
];
const FIELDS = ["name", "namespace", "serviceAccount", "identityName", "resourceGroup", "issuer",
  "tenantId", "clientId", "subscriptionId", "location", "clusterName", "identityBindingName", "image"];
// The one checkbox: `--identity-binding`.
const BINDING = "identityBinding";
const form = document.getElementById("spec");
const input = (name) => form.querySelector(`[name="${name}"]`);
const manifests = document.getElementById("manifests");
const files = {};
// Fields the user has typed in (or that a link filled): only their
// problems are shown, so a fresh form is not a wall of red.
const touched = new Set();
// Pasted text larger than this stays out of the link (browsers drop URLs
// of about 2 MB); the page says so.
const MAX_LINK_MANIFESTS = 256 * 1024;

// Repeated inputs: the first namespace/serviceAccount pair in the grid,
// more in rows (same names, as the flags repeat), roles in rows.
const all = (name) => [...form.querySelectorAll(`[name="${name}"]`)];
const SINGLE = FIELDS.filter((f) => f !== "namespace" && f !== "serviceAccount");

// The spec object `kubectl wi generate --spec` reads, from the form. A
// blank field is an absent flag.
function spec() {
  const s = {};
  for (const f of SINGLE) {
    const v = input(f).value;
    if (v !== "") s[f] = v;
  }
  if (input(BINDING).checked) s[BINDING] = true;
  const namespaces = all("namespace"), accounts = all("serviceAccount");
  const pairs = namespaces.map((n, i) => ({ namespace: n.value, name: accounts[i].value })).filter((p) => p.namespace !== "" || p.name !== "");
  if (pairs.length) s.serviceAccounts = pairs;
  const scopes = all("scope");
  const roles = all("role").map((r, i) => ({ role: r.value, scope: scopes[i].value })).filter((r) => r.role !== "" || r.scope !== "");
  if (roles.length) s.roles = roles;
  return s;
}

// `serviceAccounts[1].namespace` -> the input it came from. Indexes count
// the pairs actually sent (blank rows are left out).
function inputFor(field) {
  const m = field.match(/^(serviceAccounts|roles)\[(\d+)\](?:\.(\w+))?$/);
  if (!m) return SINGLE.includes(field) || field === BINDING ? input(field) : field === "serviceAccounts" ? all("namespace")[0] : null;
  const [first, second] = m[1] === "roles" ? ["role", "scope"] : ["namespace", "serviceAccount"];
  const rows = all(first).map((el, i) => [el, all(second)[i]]).filter(([a, b]) => a.value !== "" || b.value !== "");
  const row = rows[Number(m[2])];
  if (!row) return null;
  return m[3] === "scope" || m[3] === "name" ? row[1] : row[0];
}

let rowCount = 0;
// One more pair of inputs, labelled and with its own finding line.
function addRow(fieldset, names, labels, values = []) {
  rowCount += 1;
  const row = document.createElement("div");
  row.className = "row";
  names.forEach((name, i) => {
    const id = `f-${name}-${rowCount}`;
    const field = document.createElement("div");
    field.className = "field";
    field.innerHTML = `<label for="${id}"></label><input id="${id}" name="${name}"><p class="finding" id="e-${name}-${rowCount}"></p>`;
    field.querySelector("label").textContent = labels[i];
    const el = field.querySelector("input");
    el.value = values[i] ?? "";
    el.setAttribute("aria-describedby", `e-${name}-${rowCount}`);
    row.append(field);
  });
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove ${labels.join(" and ")} ${rowCount}`);
  remove.addEventListener("click", () => { row.remove(); regenerate(); save(); });
  row.append(remove);
  fieldset.append(row);
  return row;
}
const addAccount = (values) => addRow(document.getElementById("more-accounts"), ["namespace", "serviceAccount"], ["Namespace", "ServiceAccount"], values);
const addRole = (values) => addRow(document.getElementById("roles"), ["role", "scope"], ["Role (name or ID)", "Scope (resource ID)"], values);

function regenerate() {
  const text = JSON.stringify(spec());
  for (const [format] of FORMATS) {
    const answer = JSON.parse(generate(text, format));
    const out = document.querySelector(`[data-output="${format}"]`);
    if (answer.artifacts) {
      out.textContent = answer.artifacts[0].content;
      files[format] = answer.artifacts[0].fileName;
    } else {
      out.textContent = "";
      delete files[format];
    }
    const panel = document.getElementById(`panel-${format}`);
    for (const b of panel.querySelectorAll("[data-copy], [data-download]")) b.disabled = !answer.artifacts;
    document.getElementById(`status-${format}`).textContent = answer.artifacts ? "" : "Not generated yet: complete or fix the fields marked above.";
  }
  for (const b of document.querySelectorAll("[data-download-all]")) b.disabled = Object.keys(files).length === 0;
  // Every format at once: one message per field, naming every format
  // that needs it.
  const problems = new Map();
  for (const e of JSON.parse(generate(text, "all")).errors || []) {
    const el = inputFor(e.field);
    if (!el) continue;
    const list = problems.get(el) || new Set();
    list.add(e.message);
    problems.set(el, list);
  }
  for (const el of form.querySelectorAll("input")) {
    const messages = touched.has(el.name) ? problems.get(el) : undefined;
    el.setAttribute("aria-invalid", messages ? "true" : "false");
    const note = document.getElementById(el.getAttribute("aria-describedby"));
    note.textContent = messages ? [...messages].join(" ") : "";
    note.dataset.rule = messages ? ([...messages].join(" ").match(/\[(WI\d{3})\]/) || [, ""])[1] : "";
  }
}

function check() {
  const list = document.getElementById("findings");
  list.replaceChildren();
  const refusals = document.getElementById("refusals");
  refusals.replaceChildren();
  const mutated = document.querySelector('[data-output="mutated"]');
  const text = manifests.value;
  if (text.trim() === "") { mutated.textContent = ""; return; }
  const answer = JSON.parse(lint("manifests.yaml", text));
  for (const f of answer.findings || []) {
    const li = document.createElement("li");
    li.className = f.severity;
    li.dataset.rule = f.rule;
    li.dataset.line = String(f.line);
    li.textContent = `line ${f.line}: ${f.severity} ${f.rule}: ${f.message} (fix: ${f.fix})`;
    list.append(li);
  }
  for (const e of answer.inputErrors || []) {
    const li = document.createElement("li");
    li.className = "error";
    li.dataset.line = String(e.line);
    li.textContent = `line ${e.line}: ${e.message}`;
    list.append(li);
  }
  // As `kubectl wi mutate`: refused pods print nothing; why goes aside.
  const m = JSON.parse(mutate("manifests.yaml", text));
  mutated.textContent = m.yaml ?? "";
  for (const r of m.refusals || []) {
    const li = document.createElement("li");
    li.className = "error";
    li.dataset.line = String(r.line);
    li.textContent = `line ${r.line}: the webhook would refuse this pod: ${r.message}`;
    refusals.append(li);
  }
}

// The token pane's module (wi_explain.wasm) loads when the pane is first
// used, so the generator does not wait for it.
let explainer;
function explainModule() {
  explainer ??= import("./wi_explain.js").then(async (m) => { await m.default(); return m; });
  return explainer;
}
const tokenFields = ["token", "credentials", "now"].map((id) => document.getElementById(id));
async function explainToken() {
  const [token, credentials, now] = tokenFields.map((el) => el.value);
  const out = document.querySelector('[data-output="token"]'), errors = document.getElementById("token-errors");
  const invalid = new Set();
  document.body.dataset.explaining = "true";
  if (token.trim() === "") {
    out.textContent = ""; errors.textContent = ""; delete out.dataset.exit;
  } else {
    const answer = JSON.parse((await explainModule()).explainToken(token, credentials, now, Date.now() / 1000));
    // As the CLI prints them: `SOURCE[:LINE[:COL]]: error: MESSAGE`.
    errors.textContent = (answer.errors || []).map((e) => `${e.file}${e.line ? `:${e.line}${e.column ? `:${e.column}` : ""}` : ""}: error: ${e.message}`).join("\n");
    out.textContent = answer.text ?? "";
    out.dataset.exit = String(answer.errors ? 2 : answer.exit);
    // Only the fields an error names are marked invalid (`--now` is the time field).
    for (const e of answer.errors || []) invalid.add(e.file === "--now" ? "now" : e.file);
  }
  for (const el of tokenFields) el.setAttribute("aria-invalid", invalid.has(el.id) ? "true" : "false");
  document.body.dataset.explaining = "false";
}
async function explainCode() {
  const code = document.getElementById("aadsts").value.trim();
  const out = document.querySelector('[data-output="aadsts"]'), error = document.getElementById("aadsts-error");
  document.body.dataset.explaining = "true";
  const answer = code === "" ? {} : JSON.parse((await explainModule()).explainAadsts(code));
  out.textContent = answer.text ?? "";
  error.textContent = answer.error ?? "";
  document.getElementById("aadsts").setAttribute("aria-invalid", answer.error ? "true" : "false");
  document.body.dataset.explaining = "false";
}

// Checking a large paste takes a while: wait until typing pauses.
let pending;
function checkSoon() {
  clearTimeout(pending);
  document.body.dataset.checking = "true";
  pending = setTimeout(() => { check(); save(); document.body.dataset.checking = "false"; }, 300);
}

// The whole state in the fragment: never sent to a server.
function save() {
  const params = new URLSearchParams();
  for (const f of SINGLE) if (input(f).value !== "") params.set(f, input(f).value);
  if (input(BINDING).checked) params.set(BINDING, "true");
  // Pairs keep their positions, blanks included, so a link rebuilds the rows.
  for (const f of ["namespace", "serviceAccount", "role", "scope"]) {
    const values = all(f).map((el) => el.value);
    if (values.some((v) => v !== "")) for (const v of values) params.append(f, v);
  }
  const notice = document.getElementById("link-notice");
  if (manifests.value.length > MAX_LINK_MANIFESTS) {
    notice.textContent = `The pasted text (${Math.round(manifests.value.length / 1024)} KB) is too large to keep in the link; a reload or a shared link will not restore it.`;
  } else {
    notice.textContent = "";
    if (manifests.value !== "") params.set("manifests", manifests.value);
  }
  // Only something shaped like an Entra code goes in the link: a token
  // pasted into the wrong field must not end up in shared URLs.
  const code = document.getElementById("aadsts").value;
  if (/^\s*(aadsts)?\s*\d{1,12}\s*$/i.test(code)) params.set("aadsts", code);
  history.replaceState(null, "", `#${params}`);
}
function restore() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const row of form.querySelectorAll(".row")) row.remove();
  for (const f of SINGLE) input(f).value = params.get(f) ?? "";
  input(BINDING).checked = params.get(BINDING) === "true";
  const namespaces = params.getAll("namespace"), accounts = params.getAll("serviceAccount");
  input("namespace").value = namespaces[0] ?? "";
  input("serviceAccount").value = accounts[0] ?? "";
  for (let i = 1; i < Math.max(namespaces.length, accounts.length); i++) addAccount([namespaces[i], accounts[i]]);
  const roles = params.getAll("role"), scopes = params.getAll("scope");
  for (let i = 0; i < Math.max(roles.length, scopes.length); i++) addRole([roles[i], scopes[i]]);
  for (const el of form.querySelectorAll("input")) if (el.type === "checkbox" ? el.checked : el.value !== "") touched.add(el.name);
  manifests.value = params.get("manifests") ?? "";
  document.getElementById("aadsts").value = params.get("aadsts") ?? "";
}

function download(name, text, type = "text/plain") {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// A stored (uncompressed) zip of the generated files, made in the page.
function zip(entries) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes) => { let c = 0xffffffff; for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const enc = new TextEncoder(), parts = [], central = [];
  let offset = 0;
  const u16 = (v) => [v & 0xff, (v >>> 8) & 0xff], u32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  for (const [name, text] of entries) {
    const data = enc.encode(text), fname = enc.encode(name), crc = crc32(data);
    const common = [...u16(20), ...u16(0x0800), ...u16(0), ...u16(0), ...u16(0x21), ...u32(crc), ...u32(data.length), ...u32(data.length), ...u16(fname.length), ...u16(0)];
    const local = new Uint8Array([...u32(0x04034b50), ...common, ...fname]);
    central.push(new Uint8Array([...u32(0x02014b50), ...u16(20), ...common, ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(offset), ...fname]));
    parts.push(local, data);
    offset += local.length + data.length;
  }
  const size = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array([...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(entries.length), ...u16(entries.length), ...u32(size), ...u32(offset), ...u16(0)]);
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}

function buildTabs() {
  const tabs = document.getElementById("tabs"), panels = document.getElementById("panels");
  FORMATS.forEach(([format, label], i) => {
    const tab = document.createElement("button");
    Object.assign(tab, { id: `tab-${format}`, type: "button", textContent: label });
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", `panel-${format}`);
    tab.setAttribute("aria-selected", i === 0 ? "true" : "false");
    tab.tabIndex = i === 0 ? 0 : -1;
    tabs.append(tab);
    const panel = document.createElement("div");
    Object.assign(panel, { id: `panel-${format}`, hidden: i !== 0 });
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
    panel.innerHTML = `<div class="actions"><button type="button" data-copy="${format}">Copy</button><button type="button" data-download="${format}">Download</button><button type="button" data-download-all>Download all (.zip)</button></div><p id="status-${format}"></p><pre data-output="${format}" role="region" tabindex="0" aria-label="${label} output"></pre>`;
    panels.append(panel);
  });
  const select = (tab) => {
    for (const t of tabs.children) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    tab.focus();
  };
  tabs.addEventListener("click", (e) => e.target.closest("[role=tab]") && select(e.target.closest("[role=tab]")));
  tabs.addEventListener("keydown", (e) => {
    const list = [...tabs.children], i = list.indexOf(document.activeElement);
    if (e.key === "ArrowRight") select(list[(i + 1) % list.length]);
    else if (e.key === "ArrowLeft") select(list[(i - 1 + list.length) % list.length]);
    else if (e.key === "Home") select(list[0]);
    else if (e.key === "End") select(list[list.length - 1]);
  });
  panels.addEventListener("click", async (e) => {
    const b = e.target;
    if (b.dataset.copy) await navigator.clipboard.writeText(document.querySelector(`[data-output="${b.dataset.copy}"]`).textContent);
    if (b.dataset.download && files[b.dataset.download]) download(files[b.dataset.download], document.querySelector(`[data-output="${b.dataset.download}"]`).textContent);
    if ("downloadAll" in b.dataset) {
      const entries = FORMATS.filter(([f]) => files[f]).map(([f]) => [files[f], document.querySelector(`[data-output="${f}"]`).textContent]);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(zip(entries));
      a.download = `${input("name").value || "workload-id"}.zip`;
      a.click();
    }
  });
}

await init();
buildTabs();
for (const f of [...FIELDS, BINDING]) input(f).setAttribute("aria-describedby", `e-${f}`);
document.getElementById("add-account").addEventListener("click", () => addAccount().querySelector("input").focus());
document.getElementById("add-role").addEventListener("click", () => addRole().querySelector("input").focus());
restore();
regenerate();
check();
form.addEventListener("input", (e) => { touched.add(e.target.name); regenerate(); save(); });
manifests.addEventListener("input", checkSoon);
for (const el of tokenFields) el.addEventListener("input", explainToken);
document.getElementById("aadsts").addEventListener("input", () => { explainCode(); save(); });
if (document.getElementById("aadsts").value !== "") await explainCode();
window.addEventListener("hashchange", () => { restore(); regenerate(); check(); explainCode(); });
document.body.dataset.ready = "true";
