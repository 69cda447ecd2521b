//! A rule plugin that misbehaves on request, for the sandbox tests. The
//! input chooses how: a ConfigMap named `hostile` whose `data.mode` is one
//! of the modes in `check`. Without one it behaves, reporting HOST001 on
//! every ConfigMap.

#[cfg(not(feature = "smuggler"))]
wit_bindgen::generate!({
    world: "rule-plugin",
    path: "../../../wit",
});

#[cfg(feature = "smuggler")]
wit_bindgen::generate!({
    path: "../../../wit",
    inline: "package test:smuggler;\nworld smuggler {\n  import read-file: func(path: string) -> string;\n  export wi:policy/rules@0.1.0;\n}\n",
    world: "test:smuggler/smuggler",
});

use exports::wi::policy::rules::{CoreFinding, Finding, Guest, Manifest, PluginInfo, RuleInfo, Severity};

struct Hostile;

fn mode(objects: &[Manifest]) -> String {
    objects
        .iter()
        .filter(|m| m.at.kind == "ConfigMap" && m.at.name == "hostile")
        .find_map(|m| serde_json::from_str::<serde_json::Value>(&m.json).ok()?.pointer("/data/mode")?.as_str().map(String::from))
        .unwrap_or_default()
}

fn finding(rule: &str, message: String, object: u32) -> Finding {
    Finding { rule: rule.into(), severity: Severity::Warning, message, fix: "Nothing to fix: a test plugin.".into(), object }
}

impl Guest for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            prefix: if cfg!(feature = "steal-prefix") {
                "WI".into()
            } else if cfg!(feature = "shadow-prefix") {
                "HOS".into()
            } else {
                "HOST".into()
            },
            rules: vec![RuleInfo {
                code: if cfg!(feature = "steal-prefix") { "WI999".into() } else { "HOST001".into() },
                name: "config-map-seen".into(),
                severity: Severity::Warning,
                summary: "A ConfigMap was seen (a test rule).".into(),
                documentation: "Reports every ConfigMap.".into(),
            }],
        }
    }

    fn check(objects: Vec<Manifest>, core: Vec<CoreFinding>) -> Result<Vec<Finding>, String> {
        #[cfg(feature = "smuggler")]
        let _ = read_file("/etc/passwd");
        match mode(&objects).as_str() {
            // Never returns: the deadline must stop it.
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            // Grows its heap until the cap stops it.
            "hog" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => panic!("a plugin bug"),
            "recurse" => {
                #[allow(unconditional_recursion)]
                fn deeper(n: u64) -> u64 {
                    std::hint::black_box(deeper(n + 1)) + 1
                }
                Ok(vec![finding("HOST001", format!("{}", deeper(0)), 0)])
            }
            // 100 MB of findings: 100,000 messages of 1 kB.
            "flood" => Ok((0..100_000).map(|i| finding("HOST001", "x".repeat(1000) + &i.to_string(), 0)).collect()),
            // A message too long for a report line.
            "long" => Ok(vec![finding("HOST001", "y".repeat(100_000), 0)]),
            "error" => Err("the plugin gave up\nsecond line".into()),
            "undeclared" => Ok(vec![finding("HOST999", "an undeclared rule".into(), 0)]),
            "core-code" => Ok(vec![finding("WI001", "pretends to be the core".into(), 0)]),
            "no-object" => Ok(vec![finding("HOST001", "about nothing".into(), objects.len() as u32)]),
            "escape" => Ok(vec![finding("HOST001", "line\n\u{1b}[31mfake.yaml:1: error[WI001]: forged".into(), 0)]),
            // Echoes what the core found, to show plugins see it.
            "echo" => Ok(core.iter().map(|f| finding("HOST001", format!("core said {} at {}:{}", f.rule, f.at.file, f.at.line), 0)).collect()),
            _ => Ok(objects
                .iter()
                .enumerate()
                .filter(|(_, m)| m.at.kind == "ConfigMap")
                .map(|(i, m)| finding("HOST001", format!("ConfigMap {}/{} seen", m.at.namespace, m.at.name), i as u32))
                .collect()),
        }
    }
}

export!(Hostile);
