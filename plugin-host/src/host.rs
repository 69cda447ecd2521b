//! Runs the embedded wi-core component in wasmtime.
//!
//! Start-up matters for a CLI that runs once per file save: compiling the
//! component takes hundreds of milliseconds, loading a precompiled copy well
//! under one. The first run stores the compiled artifact in the user's cache
//! directory, keyed by the component's hash and the engine's settings; later
//! runs map it. Loading an artifact runs its machine code as it is, so the
//! file's name carries the CRC-32 of its content, checked before loading: a
//! file that does not match (a torn write, a bad disk, an edit) is removed
//! and the component compiled and stored again, never loaded. Limits on
//! every instance: memory is capped at [`MEMORY_LIMIT`] and a call is
//! interrupted after [`CALL_TIMEOUT`].

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
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

fn cache_dir() -> Option<PathBuf> {
    env::var_os("KUBECTL_WI_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("kubectl-wi")))
        .or_else(|| env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/kubectl-wi")))
}

/// Where compiled artifacts of this component for this engine live: files
/// named `{stem}-{CRC-32 of the file}.cwasm` in the cache directory.
pub(crate) struct CacheSlot {
    dir: PathBuf,
    stem: String,
}

const CACHE_EXTENSION: &str = ".cwasm";

impl CacheSlot {
    fn new(engine: &Engine) -> Option<Self> {
        Self::named(engine, &format!("core-{COMPONENT_KEY}"))
    }

    /// The slot of another component (`plugin-<digest>`) for this engine.
    pub(crate) fn named(engine: &Engine, name: &str) -> Option<Self> {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Some(CacheSlot { dir: cache_dir()?, stem: format!("{name}-{:016x}", h.finish()) })
    }

    fn path_for(&self, artifact: &[u8]) -> PathBuf {
        self.dir.join(format!("{}-{}{CACHE_EXTENSION}", self.stem, hex(&crc32(artifact))))
    }

    /// The files in this slot, each with the digest its name promises
    /// (`None` for a name without one, as versions before the digest wrote).
    fn files(&self) -> Vec<(PathBuf, Option<String>)> {
        let Ok(entries) = fs::read_dir(&self.dir) else { return Vec::new() };
        entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let rest = name.strip_prefix(&self.stem)?.strip_suffix(CACHE_EXTENSION)?;
                let digest = match rest.strip_prefix('-') {
                    Some(d) if d.len() == 8 && d.bytes().all(|b| b.is_ascii_hexdigit()) => Some(d.to_ascii_lowercase()),
                    _ if rest.is_empty() => None,
                    _ => return None,
                };
                Some((self.dir.join(&name), digest))
            })
            .collect()
    }

    /// The path of a file whose content has the digest in its name. Others
    /// (damaged, truncated, without a digest) are removed on the way.
    fn verified(&self) -> Option<PathBuf> {
        let mut found = None;
        for (path, digest) in self.files() {
            if found.is_some() && digest.is_some() {
                continue;
            }
            match digest {
                Some(d) if file_digest(&path).is_ok_and(|f| hex(&f) == d) => found = Some(path),
                _ => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        found
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of an artifact. The cache guards against damage (a disk
/// error, a truncated write, a stray edit), not against an attacker who can
/// already write the user's files, so a checksum is enough: CRC-32 runs at
/// memory speed, where SHA-256 doubled the start-up of a one-file lint.
fn crc32(bytes: &[u8]) -> [u8; 4] {
    crc32fast::hash(bytes).to_be_bytes()
}

/// CRC-32 of a file, read in pieces: the artifact is never held in memory
/// twice.
fn file_digest(path: &Path) -> std::io::Result<[u8; 4]> {
    // Only a regular file of this program's: a FIFO or a link to
    // `/dev/zero` planted in the cache would block or never end.
    if !fs::symlink_metadata(path)?.file_type().is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut file = fs::File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0; 256 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(hasher.finalize().to_be_bytes()),
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The compiled component, from the cache when possible. A cache that cannot
/// be read or written, or holds a damaged file, only costs time, never
/// correctness: the component is compiled again and the file replaced.
fn load_component(engine: &Engine) -> Result<Component> {
    cached(engine, CacheSlot::new(engine), || Component::new(engine, COMPONENT).map_err(anyhow::Error::from).context("compiling the wi-core component"))
}

/// A component from `slot` when it holds a sound artifact, else `compile`d
/// and stored there.
pub(crate) fn cached(engine: &Engine, slot: Option<CacheSlot>, compile: impl FnOnce() -> Result<Component>) -> Result<Component> {
    if let Some(path) = slot.as_ref().and_then(CacheSlot::verified) {
        // SAFETY: the file's content has the CRC-32 its name carries, which
        // this program computed over what `serialize` returned, for this
        // component and an engine with the same compatibility hash (both
        // also in the name); files in the slot are only ever created whole,
        // by rename.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok(component);
        }
        let _ = fs::remove_file(&path);
    }
    let component = compile()?;
    if let Some(slot) = slot {
        if let Ok(bytes) = Component::serialize(&component) {
            let _ = store_atomically(&slot.path_for(&bytes), &bytes);
        }
    }
    Ok(component)
}

/// Writes `bytes` to a private temporary file beside `path` and renames it
/// over `path`: readers see the old file or the new one, never a torn one.
fn store_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(path.parent().expect("cache path has a parent"))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Writes the precompiled artifact to the cache now (for `make install`), and
/// returns where it went.
pub fn precompile() -> Result<PathBuf> {
    let engine = engine()?;
    let slot = CacheSlot::new(&engine).ok_or_else(|| anyhow!("no cache directory: set HOME or KUBECTL_WI_CACHE_DIR"))?;
    let bytes = engine.precompile_component(COMPONENT).map_err(anyhow::Error::from).context("compiling the wi-core component")?;
    let path = slot.path_for(&bytes);
    // Whatever else is in the slot (a damaged file, one without a digest)
    // is replaced by this one.
    for (other, _) in slot.files() {
        if other != path {
            let _ = fs::remove_file(other);
        }
    }
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

    pub fn lint(&mut self, files: &[SourceFile], options: &LintOptions) -> Result<Result<Vec<Finding>, LintFailure>> {
        self.bindings
            .wi_policy_core()
            .call_lint(&mut self.store, files, options)
            .map_err(Self::explain_trap)
    }

    /// `lint`, and the objects it read (what rule plugins are given).
    pub fn lint_and_load(&mut self, files: &[SourceFile], options: &LintOptions) -> Result<Result<(Vec<Finding>, Vec<Manifest>), LintFailure>> {
        self.bindings.wi_policy_core().call_lint_and_load(&mut self.store, files, options).map_err(Self::explain_trap)
    }

    pub fn mutate(&mut self, files: &[SourceFile], options: &MutateOptions) -> Result<Result<Vec<MutatedObject>, MutateFailure>> {
        self.bindings
            .wi_policy_core()
            .call_mutate(&mut self.store, files, options)
            .map_err(Self::explain_trap)
    }

    /// Objects as a YAML stream kubectl reads back as the same objects.
    pub fn to_yaml(&mut self, objects_json: &[String]) -> Result<Result<String, String>> {
        self.bindings
            .wi_policy_core()
            .call_to_yaml(&mut self.store, objects_json)
            .map_err(Self::explain_trap)
    }
}

impl Core {
    pub fn explain_token(&mut self, request: &TokenRequest) -> Result<Result<TokenReport, Vec<InputError>>> {
        self.bindings.wi_policy_core().call_explain_token(&mut self.store, request).map_err(Self::explain_trap)
    }

    pub fn explain_aadsts(&mut self, code: &str) -> Result<Result<AadstsExplanation, String>> {
        self.bindings.wi_policy_core().call_explain_aadsts(&mut self.store, code).map_err(Self::explain_trap)
    }

    pub fn audit(&mut self, files: &[SourceFile], options: &LintOptions) -> Result<Result<AuditReport, LintFailure>> {
        self.bindings.wi_policy_core().call_audit(&mut self.store, files, options).map_err(Self::explain_trap)
    }

    pub fn migrate(&mut self, request: &MigrateRequest) -> Result<Result<Migration, MigrateFailure>> {
        self.bindings.wi_policy_core().call_migrate(&mut self.store, request).map_err(Self::explain_trap)
    }

    /// Every artifact of a Workload ID setup from one spec.
    pub fn generate(&mut self, request: &GenerateRequest) -> Result<Result<Generated, Vec<GenerateError>>> {
        self.bindings
            .wi_policy_core()
            .call_generate(&mut self.store, request)
            .map_err(Self::explain_trap)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(name: &str) -> CacheSlot {
        let dir = env::temp_dir().join(format!("kubectl-wi-host-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        CacheSlot { dir, stem: "core-0123456789abcdef-fedcba9876543210".into() }
    }

    #[test]
    fn a_file_whose_digest_matches_its_name_is_used() {
        let slot = slot("whole");
        let artifact: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let path = slot.path_for(&artifact);
        store_atomically(&path, &artifact).unwrap();
        assert_eq!(slot.verified(), Some(path.clone()));
        assert!(path.exists());
        fs::remove_dir_all(&slot.dir).unwrap();
    }

    #[test]
    fn damaged_and_undigested_files_are_removed() {
        let slot = slot("damaged");
        let artifact: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let path = slot.path_for(&artifact);
        let mut flipped = artifact.clone();
        flipped[300_000] ^= 0x40;
        fs::write(&path, &flipped).unwrap();
        let bare = slot.dir.join(format!("{}{CACHE_EXTENSION}", slot.stem));
        fs::write(&bare, &artifact).unwrap();
        let unrelated = slot.dir.join("core-other-0000000000000000.cwasm");
        fs::write(&unrelated, b"x").unwrap();
        assert_eq!(slot.verified(), None);
        assert!(!path.exists() && !bare.exists());
        assert!(unrelated.exists(), "files of other versions are left alone");
        fs::write(&path, &artifact[..1000]).unwrap();
        assert_eq!(slot.verified(), None);
        assert!(!path.exists());
        fs::remove_dir_all(&slot.dir).unwrap();
    }

    #[test]
    fn the_digest_is_crc32() {
        assert_eq!(hex(&crc32(b"abc")), "352441c2");
        let dir = slot("digest").dir;
        fs::write(dir.join("f"), b"abc").unwrap();
        assert_eq!(hex(&file_digest(&dir.join("f")).unwrap()), "352441c2");
        fs::remove_dir_all(&dir).unwrap();
    }
}
