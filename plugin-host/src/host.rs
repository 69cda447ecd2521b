//! Runs the embedded wi-core component in wasmtime.
//!
//! Start-up matters for a CLI that runs once per file save: compiling the
//! component takes hundreds of milliseconds, loading a precompiled copy well
//! under one. The first run stores the compiled artifact in the user's cache
//! directory, keyed by the component's hash and the engine's settings; later
//! runs map it. Limits on every instance: memory is capped at
//! [`MEMORY_LIMIT`] and a call is interrupted after [`CALL_TIMEOUT`].

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use std::{env, fs, thread};

use anyhow::{Context, Result, anyhow};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};

wasmtime::component::bindgen!({
    world: "wi-core",
    path: "../wit",
});

pub use exports::wi::policy::core::*;

const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wi_core.component.wasm"));
const COMPONENT_KEY: &str = env!("WI_CORE_COMPONENT_KEY");

/// Linear memory one core instance may grow to.
pub const MEMORY_LIMIT: usize = 3 << 30;
/// Wall time one call into the core may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(120);
const EPOCH_TICK: Duration = Duration::from_millis(100);

pub struct Core {
    store: Store<StoreLimits>,
    bindings: WiCore,
    ticking: Arc<AtomicBool>,
}

fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    Ok(Engine::new(&config)?)
}

fn cache_path(engine: &Engine) -> Option<PathBuf> {
    let dir = env::var_os("KUBECTL_WI_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("kubectl-wi")))
        .or_else(|| env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/kubectl-wi")))?;
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    Some(dir.join(format!("core-{COMPONENT_KEY}-{:016x}.cwasm", h.finish())))
}

/// The compiled component, from the cache when possible. A cache that cannot
/// be read or written only costs time, never correctness.
fn load_component(engine: &Engine) -> Result<Component> {
    let cached = cache_path(engine);
    if let Some(path) = &cached {
        if path.exists() {
            // SAFETY: the file is one this program wrote with `serialize`
            // into the user's own cache directory, under a name that encodes
            // the component hash and the engine's compatibility hash.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, path) } {
                return Ok(component);
            }
        }
    }
    let component = Component::new(engine, COMPONENT).map_err(anyhow::Error::from).context("compiling the wi-core component")?;
    if let Some(path) = cached {
        if let Ok(bytes) = Component::serialize(&component) {
            let _ = store_atomically(&path, &bytes);
        }
    }
    Ok(component)
}

fn store_atomically(path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(path.parent().expect("cache path has a parent"))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

/// Writes the precompiled artifact to the cache now (for `make install`), and
/// returns where it went.
pub fn precompile() -> Result<PathBuf> {
    let engine = engine()?;
    let path = cache_path(&engine).ok_or_else(|| anyhow!("no cache directory: set HOME or KUBECTL_WI_CACHE_DIR"))?;
    let bytes = engine.precompile_component(COMPONENT).map_err(anyhow::Error::from).context("compiling the wi-core component")?;
    store_atomically(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

impl Core {
    pub fn new() -> Result<Self> {
        let engine = engine()?;
        let component = load_component(&engine)?;
        let limits = StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build();
        let mut store = Store::new(&engine, limits);
        store.limiter(|l| l);
        store.set_epoch_deadline(CALL_TIMEOUT.as_millis() as u64 / EPOCH_TICK.as_millis() as u64);
        store.epoch_deadline_trap();
        let linker = Linker::new(&engine);
        let bindings = WiCore::instantiate(&mut store, &component, &linker).map_err(anyhow::Error::from).context("instantiating wi-core")?;
        let ticking = Arc::new(AtomicBool::new(true));
        let flag = ticking.clone();
        thread::spawn(move || {
            while flag.load(Ordering::Relaxed) {
                thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        Ok(Core { store, bindings, ticking })
    }

    fn explain_trap(e: wasmtime::Error) -> anyhow::Error {
        match e.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::Interrupt) => anyhow!("the check took longer than {} s and was stopped", CALL_TIMEOUT.as_secs()),
            _ => anyhow!("the wi-core component failed: {e:#}"),
        }
    }

    pub fn rules(&mut self) -> Result<Vec<RuleDoc>> {
        self.bindings.wi_policy_core().call_rules(&mut self.store).map_err(Self::explain_trap)
    }

    pub fn lint(&mut self, files: &[SourceFile], options: &LintOptions) -> Result<Result<Vec<Finding>, Vec<InputError>>> {
        self.bindings
            .wi_policy_core()
            .call_lint(&mut self.store, files, options)
            .map_err(Self::explain_trap)
    }

    pub fn mutate(&mut self, files: &[SourceFile], options: &MutateOptions) -> Result<Result<Vec<MutatedObject>, MutateFailure>> {
        self.bindings
            .wi_policy_core()
            .call_mutate(&mut self.store, files, options)
            .map_err(Self::explain_trap)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}
