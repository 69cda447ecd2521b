// The page's wasm-bindgen module (bundles/web/dist, `make web`) under
// Node.js, for tests/conformance.rs: reads a JSON array of cases
// [{name, content, lint: {flags} | null, mutate: {flags} | null}] on stdin
// and writes [{lint: answer | null, mutate: answer | null}], each answer
// what the module's `lint`/`mutate` export returned, parsed.
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bundles/web/dist");
const web = await import(pathToFileURL(path.join(dist, "wi_web.js")).href);
web.initSync({ module: readFileSync(path.join(dist, "wi_web_bg.wasm")) });

const cases = JSON.parse(readFileSync(0, "utf8"));
const answer = (fn, c, flags) => (flags === null ? null : JSON.parse(fn(c.name, c.content, JSON.stringify(flags))));
const answers = cases.map((c) => ({ lint: answer(web.lint, c, c.lint), mutate: answer(web.mutate, c, c.mutate) }));
process.stdout.write(JSON.stringify(answers));
