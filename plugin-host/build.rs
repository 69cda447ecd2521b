//! Turns the core's wasm module into a component and embeds it in the binary,
//! so `kubectl-wi` is one file with nothing to find at run time.
//!
//! The module is built by `make component` (it needs the wasm32 target, which
//! a build script cannot switch to); WI_CORE_WASM overrides its path.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let module = env::var_os("WI_CORE_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/wasm32-unknown-unknown/component/wi_component.wasm"));
    println!("cargo:rerun-if-env-changed=WI_CORE_WASM");
    println!("cargo:rerun-if-changed={}", module.display());
    let bytes = fs::read(&module).unwrap_or_else(|e| {
        panic!(
            "cannot read the core module {}: {e}\nbuild it first with `make component` (or set WI_CORE_WASM)",
            module.display()
        )
    });
    let component = wit_component::ComponentEncoder::default()
        .module(&bytes)
        .and_then(|encoder| encoder.validate(true).encode())
        .unwrap_or_else(|e| panic!("cannot turn {} into a component: {e:#}", module.display()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(out.join("wi_core.component.wasm"), &component).unwrap();
    // A cache key for the precompiled artifact: changes whenever the component does.
    let key = component
        .iter()
        .fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3));
    println!("cargo:rustc-env=WI_CORE_COMPONENT_KEY={key:016x}");
}
