//! Rule plugins (`lint --plugin PATH.wasm`): an organisation's own rules as
//! WebAssembly components of the `rule-plugin` world, run beside the core.
//!
//! A plugin is code from elsewhere, so it runs in a sandbox it cannot talk
//! its way out of:
//! - the world grants no imports, and a component that asks for any is
//!   refused before it runs: no files, network, environment or clock;
//! - every call (instantiation included) has a wall-clock deadline, enforced
//!   by epoch interruption, so a loop is stopped, not waited for;
//! - its linear memory is capped by a resource limiter, and so are its
//!   tables and instances;
//! - what it returns is capped too (wasmtime's host-call fuel bounds the
//!   bytes lifted out of it, so a thousand findings pointing at one huge
//!   string cannot make the host allocate gigabytes);
//! - its codes must start with its own prefix, never the core's `WI`.
//!
//! A plugin that breaks any of this is reported by name; the core's findings
//! and other plugins' still are.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use std::{env, fs, thread};

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, ResourceLimiter, Store};

use crate::host;

mod bindings {
    wasmtime::component::bindgen!({
        world: "rule-plugin",
        path: "../wit",
    });
}

use bindings::RulePlugin;
use bindings::exports::wi::policy::rules as api;

/// Linear memory a plugin may use unless `--plugin-memory` says otherwise.
pub const DEFAULT_MEMORY: usize = 64 << 20;
/// Wall time one call into a plugin may take unless `--plugin-timeout` says
/// otherwise: short enough that a plugin in a loop is stopped well within a
/// second, long enough for thousands of objects.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
/// Bytes a plugin may hand back from one call (findings, rule docs).
const OUTPUT_LIMIT: usize = 16 << 20;
/// Findings one plugin may report in one run.
const FINDING_LIMIT: usize = 100_000;
/// Size of a plugin file.
const FILE_LIMIT: u64 = 64 << 20;
/// Code a plugin may ask the compiler to translate: cranelift's time and
/// memory grow with a function's size (one 7.5 MB function took 18 s and
/// 2.4 GB), and compilation runs before any deadline or cap applies. A
/// Rust plugin's largest functions are tens of KiB.
const FUNCTION_LIMIT: usize = 128 << 10;
const CODE_LIMIT: usize = 4 << 20;
/// Functions a plugin may have: each costs the compiler a fixed amount
/// (990,000 empty ones took 10 s and 2 GB); the example has a few hundred.
const FUNCTION_COUNT_LIMIT: usize = 20_000;
/// Bytes one table element counts against the memory cap.
const TABLE_ELEMENT_BYTES: usize = 16;
/// Wall time the compilation of one plugin may take.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(10);
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The sandbox's limits, from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub memory: usize,
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory: DEFAULT_MEMORY, timeout: DEFAULT_TIMEOUT }
    }
}

/// A plugin that could not be loaded or failed a call.
#[derive(Debug)]
pub struct PluginError {
    /// The plugin's file as the user named it.
    pub path: String,
    /// Its declared name, once known.
    pub name: Option<String>,
    pub message: String,
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "plugin {name} ({}): {}", self.path, self.message),
            None => write!(f, "plugin {}: {}", self.path, self.message),
        }
    }
}

/// What the store of one plugin knows: its memory cap, and whether a call
/// died because it reached it (so the error can say so).
struct Sandbox {
    memory_cap: usize,
    /// Bytes of all the plugin's linear memories together: a component
    /// may hold several, and the cap is the plugin's, not each memory's.
    memory_used: usize,
    memory_hit: bool,
}

impl ResourceLimiter for Sandbox {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = (self.memory_used - current.min(self.memory_used)).saturating_add(desired);
        if total > self.memory_cap {
            self.memory_hit = true;
            return Err(wasmtime::Error::msg("memory limit reached"));
        }
        self.memory_used = total;
        Ok(true)
    }

    /// Tables take host memory too (a table of a million functions is
    /// megabytes): their elements count against the same cap.
    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let bytes = |elements: usize| elements.saturating_mul(TABLE_ELEMENT_BYTES);
        self.memory_growing(bytes(current), bytes(desired), None)
    }

    fn instances(&self) -> usize {
        100
    }

    fn tables(&self) -> usize {
        100
    }

    fn memories(&self) -> usize {
        10
    }
}

struct Loaded {
    path: String,
    info: api::PluginInfo,
    store: Store<Sandbox>,
    bindings: RulePlugin,
}

/// The plugins of one run, loaded and described, with the clock that stops
/// them.
pub struct Plugins {
    loaded: Vec<Loaded>,
    engine: Engine,
    limits: Limits,
    ticking: Arc<AtomicBool>,
}

/// The user's plugin directory: `$KUBECTL_WI_CONFIG_DIR/plugins`, else
/// `$XDG_CONFIG_HOME/kubectl-wi/plugins`, else `~/.config/kubectl-wi/plugins`.
pub fn config_dir() -> Option<PathBuf> {
    let base = env::var_os("KUBECTL_WI_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()).map(|d| PathBuf::from(d).join("kubectl-wi")))
        .or_else(|| env::var_os("HOME").map(|d| PathBuf::from(d).join(".config/kubectl-wi")))?;
    Some(base.join("plugins"))
}

/// The `*.wasm` files of the plugin directory (not hidden ones), in name
/// order; none when it does not exist. A directory that cannot be read is
/// a plugin failure like any other: reported, and the core still runs.
pub fn from_config_dir() -> Result<Vec<String>, PluginError> {
    let Some(dir) = config_dir() else { return Ok(Vec::new()) };
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(PluginError { path: dir.display().to_string(), name: None, message: format!("the plugin directory cannot be read: {e}") }),
    };
    let mut paths: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .map(|p| p.display().to_string())
        .collect();
    paths.sort();
    Ok(paths)
}

/// `64Mi`, `128MiB`, `1Gi`, `512Ki` or a number of bytes.
pub fn parse_memory(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let shift = match unit {
        "" => 0,
        "Ki" | "KiB" => 10,
        "Mi" | "MiB" => 20,
        "Gi" | "GiB" => 30,
        _ => return Err(format!("{text:?} is not a size: write e.g. 64Mi, 256Mi or 1Gi")),
    };
    let n: usize = digits.parse().map_err(|_| format!("{text:?} is not a size: write e.g. 64Mi, 256Mi or 1Gi"))?;
    let bytes = n.checked_shl(shift).filter(|b| b >> shift == n).ok_or_else(|| format!("{text:?} is too large"))?;
    // Below one wasm page nothing runs; above 4 GiB a 32-bit memory cannot go.
    if !(64 << 10..=4 << 30).contains(&bytes) {
        return Err(format!("{text:?} is out of range: between 64Ki and 4Gi"));
    }
    Ok(bytes)
}

/// `500ms`, `2s`, `1m`, or seconds as a number (`1.5`).
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a duration: write e.g. 500ms, 2s or 1m (a bare number is seconds)");
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let seconds = number.parse::<f64>().map_err(|_| bad())? * scale;
    if !(0.01..=3600.0).contains(&seconds) {
        return Err(format!("{text:?} is out of range: between 10ms and 60m"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    // A plugin's stack, like its heap, is bounded; deep recursion traps.
    config.max_wasm_stack(1 << 20);
    Engine::new(&config)
}

/// The component in `bytes`: a component as it is, or a core module that
/// wit-bindgen built (it carries the world it was built for), encoded here
/// so that writing a plugin needs no extra tool.
fn component_bytes(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0] {
        let encode = || {
            wit_component::ComponentEncoder::default()
                .module(&bytes)
                .and_then(|encoder| encoder.validate(true).encode())
                .map_err(|e| format!("not a rule-plugin module: {e:#}"))
        };
        // wit-component indexes some sections without checking them (a
        // truncated module made it panic): a panic there is a bad file,
        // not a crash, and its message is ours to write.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let encoded = std::panic::catch_unwind(encode);
        std::panic::set_hook(hook);
        return encoded.unwrap_or_else(|_| Err("not a rule-plugin module: it is damaged (its component type section cannot be read)".into()));
    }
    if bytes.len() >= 4 && bytes[..4] == *b"\0asm" {
        return Ok(bytes);
    }
    Err("not a WebAssembly file".into())
}

fn read_plugin(path: &str) -> Result<Vec<u8>, String> {
    // The type first: opening a FIFO would wait for a writer forever.
    let meta = fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a file".into());
    }
    let file = fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !file.metadata().map_err(|e| format!("cannot read it: {e}"))?.is_file() {
        return Err("not a file".into());
    }
    let mut bytes = Vec::new();
    use std::io::Read;
    file.take(FILE_LIMIT + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(format!("larger than {} MiB", FILE_LIMIT >> 20));
    }
    Ok(bytes)
}

/// Refuses code the compiler would spend unbounded time and memory on.
/// Damaged files pass through: the compiler says what is wrong with them.
fn check_code_size(bytes: &[u8]) -> Result<(), String> {
    let mut total = 0usize;
    let mut functions = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { return Ok(()) };
        if let wasmparser::Payload::CodeSectionEntry(body) = payload {
            functions += 1;
            if functions > FUNCTION_COUNT_LIMIT {
                return Err(format!("it has more than {FUNCTION_COUNT_LIMIT} functions"));
            }
            let range = body.range();
            let size = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
            if size > FUNCTION_LIMIT {
                return Err(format!("a function of it is {} KiB of code; a plugin function may have {} KiB", size >> 10, FUNCTION_LIMIT >> 10));
            }
            total += size;
            if total > CODE_LIMIT {
                return Err(format!("it holds more than {} MiB of code", CODE_LIMIT >> 20));
            }
        }
    }
    Ok(())
}

/// The compiled plugin: from the cache directory when this exact
/// component was compiled before (as the core is, keyed by the SHA-256 of
/// its bytes), else compiled on a thread of its own, given up after
/// [`COMPILE_TIMEOUT`] (the thread ends with the process), and stored.
fn compile(engine: &Engine, bytes: Vec<u8>) -> Result<Component, String> {
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&bytes)[..16].iter().map(|b| format!("{b:02x}")).collect();
    let slot = host::CacheSlot::named(engine, &format!("plugin-{digest}"));
    let on_thread = || {
        let (sender, receiver) = std::sync::mpsc::channel();
        let engine = engine.clone();
        thread::spawn(move || {
            let _ = sender.send(Component::from_binary(&engine, &bytes).map_err(|e| format!("not a valid component: {e:#}")));
        });
        receiver
            .recv_timeout(COMPILE_TIMEOUT)
            .unwrap_or_else(|_| Err(format!("compiling it took longer than {} s", COMPILE_TIMEOUT.as_secs())))
            .map_err(anyhow::Error::msg)
    };
    host::cached(engine, slot, on_thread).map_err(|e| e.to_string())
}

fn severity(s: api::Severity) -> host::Severity {
    match s {
        api::Severity::Error => host::Severity::Error,
        api::Severity::Warning => host::Severity::Warning,
        api::Severity::Info => host::Severity::Info,
    }
}

fn api_severity(s: host::Severity) -> api::Severity {
    match s {
        host::Severity::Error => api::Severity::Error,
        host::Severity::Warning => api::Severity::Warning,
        host::Severity::Info => api::Severity::Info,
    }
}

fn api_location(l: &host::Location) -> api::Location {
    api::Location { file: l.file.clone(), line: l.line, kind: l.kind.clone(), namespace: l.namespace.clone(), name: l.name.clone() }
}

fn is_kebab(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Text from a plugin that ends up in a terminal or a report: one line,
/// bounded, without characters that reorder or break lines.
fn plain(text: &str, limit: usize) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("is empty".into());
    }
    if text.len() > limit {
        return Err(format!("is longer than {limit} bytes"));
    }
    if text.chars().any(crate::report::is_unsafe_in_a_line) {
        return Err("holds control, line-break or bidirectional characters".into());
    }
    Ok(())
}

/// At most `limit` bytes of `text`, cut at a character boundary.
fn truncated(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &text[..end], text.len())
}

/// Checks what `describe` returned: a prefix of its own, codes under it.
fn check_info(info: &api::PluginInfo, taken: &HashSet<String>) -> Result<(), String> {
    if !is_kebab(&info.name) {
        return Err("its name is not kebab-case (a-z, 0-9 and -, at most 64)".into());
    }
    let prefix = &info.prefix;
    if !(2..=8).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("its prefix {prefix:?} is not 2 to 8 capital letters"));
    }
    if prefix.starts_with("WI") {
        return Err(format!("its prefix {prefix:?} starts with WI, which is the core's"));
    }
    // One code, one owner: prefix `OR` could declare `ORG001` of `ORG`.
    if let Some(other) = taken.iter().find(|t| t.starts_with(prefix.as_str()) || prefix.starts_with(t.as_str())) {
        return Err(if other == prefix {
            format!("its prefix {prefix:?} is another loaded plugin's")
        } else {
            format!("its prefix {prefix:?} overlaps {other:?}, another loaded plugin's")
        });
    }
    if info.rules.is_empty() {
        return Err("it declares no rules".into());
    }
    let mut codes = HashSet::new();
    for rule in &info.rules {
        let code = &rule.code;
        let rest = code.strip_prefix(prefix.as_str()).unwrap_or("");
        if rest.is_empty() || code.len() > 32 || !rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(format!("rule code {:?} is not its prefix {prefix} followed by capital letters, digits, - or _ (at most 32 in all)", crate::report::printable(code)));
        }
        if !codes.insert(code.as_str()) {
            return Err(format!("rule code {code} is declared twice"));
        }
        if !is_kebab(&rule.name) {
            return Err(format!("rule {code}: its name is not kebab-case (a-z, 0-9 and -, at most 64)"));
        }
        plain(&rule.summary, 512).map_err(|e| format!("rule {code}: its summary {e}"))?;
        if rule.documentation.len() > 64 << 10 {
            return Err(format!("rule {code}: its documentation is longer than 64 KiB"));
        }
        // Markdown has line breaks; nothing else that steers a terminal.
        if rule.documentation.chars().any(|c| c != '\n' && crate::report::is_unsafe_in_a_line(c)) {
            return Err(format!("rule {code}: its documentation holds control or bidirectional characters"));
        }
    }
    Ok(())
}

impl Plugins {
    /// Loads and describes each plugin once (a path given twice counts
    /// once). Plugins that fail are returned as errors beside the others.
    pub fn load(paths: &[String], limits: Limits) -> (Plugins, Vec<PluginError>) {
        let engine = engine().expect("the plugin engine's configuration is valid");
        let ticking = Arc::new(AtomicBool::new(true));
        let flag = ticking.clone();
        let ticker = engine.clone();
        thread::spawn(move || {
            while flag.load(Ordering::Relaxed) {
                thread::sleep(EPOCH_TICK);
                ticker.increment_epoch();
            }
        });
        let mut plugins = Plugins { loaded: Vec::new(), engine, limits, ticking };
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        let mut prefixes = HashSet::new();
        for path in paths {
            let key = fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
            if !seen.insert(key) {
                continue;
            }
            match plugins.load_one(path, &prefixes) {
                Ok(loaded) => {
                    prefixes.insert(loaded.info.prefix.clone());
                    plugins.loaded.push(loaded);
                }
                Err(e) => errors.push(e),
            }
        }
        (plugins, errors)
    }

    fn load_one(&self, path: &str, prefixes: &HashSet<String>) -> Result<Loaded, PluginError> {
        let fail = |message: String| PluginError { path: path.to_string(), name: None, message };
        let bytes = read_plugin(path).map_err(fail)?;
        check_code_size(&bytes).map_err(fail)?;
        let bytes = component_bytes(bytes).map_err(fail)?;
        let component = compile(&self.engine, bytes).map_err(fail)?;
        let imports: Vec<String> = component.component_type().imports(&self.engine).map(|(name, _)| name.to_string()).collect();
        if !imports.is_empty() {
            return Err(fail(format!(
                "it imports {}, which the rule-plugin world does not grant (a plugin gets no files, network, environment or clock; build it for wasm32-unknown-unknown)",
                imports.join(", ")
            )));
        }
        let exports_rules = component.component_type().exports(&self.engine).any(|(name, _)| name.starts_with("wi:policy/rules@"));
        if !exports_rules {
            return Err(fail("it does not export wi:policy/rules: build it for the rule-plugin world in wit/rule-plugin.wit".into()));
        }
        let mut store = self.store();
        let linker = Linker::new(&self.engine);
        let bindings = RulePlugin::instantiate(&mut store, &component, &linker).map_err(|e| fail(explain(&store, self.limits, "starting", e)))?;
        store.set_epoch_deadline(self.deadline_ticks());
        let info = bindings.wi_policy_rules().call_describe(&mut store).map_err(|e| fail(explain(&store, self.limits, "describe", e)))?;
        let name = is_kebab(&info.name).then(|| info.name.clone());
        check_info(&info, prefixes).map_err(|message| PluginError { path: path.to_string(), name, message })?;
        Ok(Loaded { path: path.to_string(), info, store, bindings })
    }

    fn store(&self) -> Store<Sandbox> {
        let mut store = Store::new(&self.engine, Sandbox { memory_cap: self.limits.memory, memory_used: 0, memory_hit: false });
        store.limiter(|s| s);
        store.set_hostcall_fuel(OUTPUT_LIMIT);
        store.set_epoch_deadline(self.deadline_ticks());
        store.epoch_deadline_trap();
        store
    }

    fn deadline_ticks(&self) -> u64 {
        (self.limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }

    /// The rules of every loaded plugin, in load order, as the core's
    /// catalogue lists its own.
    pub fn rules(&self) -> Vec<host::RuleDoc> {
        self.loaded
            .iter()
            .flat_map(|p| {
                p.info.rules.iter().map(|r| host::RuleDoc {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    severity: severity(r.severity),
                    summary: r.summary.clone(),
                    documentation: format!("{}\n\n(From the rule plugin {}.)\n", r.documentation.trim_end(), p.info.name),
                })
            })
            .collect()
    }

    /// Every plugin's findings on these objects. A plugin that fails adds
    /// an error and no findings; the others still run.
    pub fn check(&mut self, objects: &[host::Manifest], core: &[host::Finding]) -> (Vec<host::Finding>, Vec<PluginError>) {
        let manifests: Vec<api::Manifest> = objects.iter().map(|m| api::Manifest { at: api_location(&m.at), json: m.json.clone() }).collect();
        let core: Vec<api::CoreFinding> = core
            .iter()
            .map(|f| api::CoreFinding { rule: f.rule.clone(), severity: api_severity(f.severity), message: f.message.clone(), at: api_location(&f.at) })
            .collect();
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        let deadline = self.deadline_ticks();
        let limits = self.limits;
        for i in 0..self.loaded.len() {
            let plugin = &mut self.loaded[i];
            plugin.store.set_epoch_deadline(deadline);
            let result = plugin.bindings.wi_policy_rules().call_check(&mut plugin.store, &manifests, &core);
            let fail = |message: String| PluginError { path: plugin.path.clone(), name: Some(plugin.info.name.clone()), message };
            let returned = match result {
                Err(e) => {
                    let text = explain(&plugin.store, limits, "check", e);
                    errors.push(fail(text));
                    continue;
                }
                Ok(Err(message)) => {
                    // One line of it: the rest could pass for findings.
                    let first = message.lines().next().unwrap_or("");
                    let more = if message.trim_end().contains('\n') { " (first line of several)" } else { "" };
                    errors.push(fail(format!("check reported an error: {}{more}", truncated(first, 1024))));
                    continue;
                }
                Ok(Ok(returned)) => returned,
            };
            match accept(&plugin.info, returned, objects) {
                Ok(mut accepted) => findings.append(&mut accepted),
                Err(message) => errors.push(fail(message)),
            }
        }
        (findings, errors)
    }
}

/// A failed call in words: which limit stopped it, or the trap.
fn explain(store: &Store<Sandbox>, limits: Limits, call: &str, e: wasmtime::Error) -> String {
    if store.data().memory_hit {
        return format!("{call} needed more than {} of memory and was stopped (raise it with --plugin-memory)", size(limits.memory));
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            return format!("{call} ran longer than {} and was stopped (raise it with --plugin-timeout)", duration(limits.timeout));
        }
        Some(wasmtime::Trap::UnreachableCodeReached) => return format!("{call} crashed (a panic in the plugin: wasm `unreachable` executed)"),
        Some(trap) => return format!("{call} crashed: {trap}"),
        None => {}
    }
    let text = format!("{e:#}");
    if text.contains("fuel allocated for hostcalls has been exhausted") {
        return format!("{call} returned more than {} and was refused", size(OUTPUT_LIMIT));
    }
    format!("{call} failed: {}", e.root_cause().to_string().lines().next().unwrap_or("").trim())
}

/// A plugin's findings, checked: declared codes, objects that exist,
/// bounded text. One bad finding refuses them all, so a report is never
/// half a plugin's.
fn accept(info: &api::PluginInfo, returned: Vec<api::Finding>, objects: &[host::Manifest]) -> Result<Vec<host::Finding>, String> {
    if returned.len() > FINDING_LIMIT {
        return Err(format!("check returned {} findings, more than {FINDING_LIMIT}", returned.len()));
    }
    returned
        .into_iter()
        .map(|f| {
            if !info.rules.iter().any(|r| r.code == f.rule) {
                return Err(format!("check reported rule {:?}, which describe does not declare", crate::report::printable(&f.rule)));
            }
            let at = objects
                .get(f.object as usize)
                .ok_or_else(|| format!("check reported {} about object {}, but there are {} objects", f.rule, f.object, objects.len()))?
                .at
                .clone();
            plain(&f.message, 4096).map_err(|e| format!("a {} finding's message {e}", f.rule))?;
            plain(&f.fix, 4096).map_err(|e| format!("a {} finding's fix {e}", f.rule))?;
            Ok(host::Finding { rule: f.rule, severity: severity(f.severity), message: f.message, fix: f.fix, at })
        })
        .collect()
}

fn size(bytes: usize) -> String {
    if bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else if bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

fn duration(d: Duration) -> String {
    if d.as_millis() % 1000 == 0 { format!("{} s", d.as_secs()) } else { format!("{} ms", d.as_millis()) }
}

impl Drop for Plugins {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cap_holds_for_all_memories_together() {
        let mut sandbox = Sandbox { memory_cap: 64 << 20, memory_used: 0, memory_hit: false };
        assert!(sandbox.memory_growing(0, 40 << 20, None).unwrap());
        assert!(sandbox.memory_growing(40 << 20, 48 << 20, None).unwrap());
        // A second memory may have what the first leaves, not a cap of its own.
        assert!(sandbox.memory_growing(0, 16 << 20, None).unwrap());
        assert!(sandbox.memory_growing(0, 1 << 16, None).is_err());
        assert!(sandbox.memory_hit);
    }

    #[test]
    fn sizes_and_durations_parse_as_documented() {
        assert_eq!(parse_memory("64Mi"), Ok(64 << 20));
        assert_eq!(parse_memory("1GiB"), Ok(1 << 30));
        assert_eq!(parse_memory("131072"), Ok(128 << 10));
        assert!(parse_memory("64MB").is_err());
        assert!(parse_memory("-1").is_err());
        assert!(parse_memory("").is_err());
        assert!(parse_memory("8Gi").is_err());
        assert!(parse_memory("99999999999999999999Gi").is_err());
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_timeout("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_timeout("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_timeout("1ms").is_err());
        assert!(parse_timeout("inf").is_err());
        assert!(parse_timeout("NaN").is_err());
        assert!(parse_timeout("2h").is_err());
    }
}
