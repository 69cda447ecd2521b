//! Finding and reading the files named by `-f`, the way `kubectl apply -f`
//! does: a directory means its `.yaml`, `.yml` and `.json` files (all levels
//! with `-R`), `-` means standard input.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::host::SourceFile;

/// Same bound as the core's, checked before reading so a huge file is never
/// loaded.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// A problem reading inputs: always exit 2.
#[derive(Debug)]
pub struct ReadError(pub String);

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let entries = fs::read_dir(dir).map_err(|e| ReadError(format!("{}: cannot read directory: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if recursive {
                walk(&path, recursive, out)?;
            }
        } else if is_manifest(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Turns bytes into text, naming the line and column of the first byte that
/// is not UTF-8.
fn decode(name: &str, bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
        ReadError(format!("{name}:{line}:{column}: file is not valid UTF-8"))
    })
}

fn read_limited(name: &str, reader: impl Read) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError(format!("{name}: cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError(too_large(name)));
    }
    decode(name, bytes)
}

fn too_large(name: &str) -> String {
    format!("{name}: file is larger than the {} MiB limit", MAX_FILE_BYTES / (1024 * 1024))
}

/// Reads every input named by `-f`, in the order given.
pub fn read_all(paths: &[String], recursive: bool) -> Result<Vec<SourceFile>, ReadError> {
    let mut files = Vec::new();
    let mut stdin_used = false;
    for arg in paths {
        if arg == "-" {
            if stdin_used {
                return Err(ReadError("-f - given more than once".into()));
            }
            stdin_used = true;
            let content = read_limited("<stdin>", std::io::stdin().lock())?;
            files.push(SourceFile { name: "<stdin>".into(), content });
            continue;
        }
        let path = Path::new(arg);
        let meta = fs::metadata(path).map_err(|e| ReadError(format!("{arg}: {e}")))?;
        let mut found = Vec::new();
        if meta.is_dir() {
            walk(path, recursive, &mut found)?;
            if found.is_empty() {
                return Err(ReadError(format!("{arg}: no .yaml, .yml or .json files{}", if recursive { "" } else { " (use -R to look in subdirectories)" })));
            }
        } else {
            found.push(path.to_path_buf());
        }
        for file in found {
            let name = file.display().to_string();
            let size = fs::metadata(&file).map_err(|e| ReadError(format!("{name}: {e}")))?.len();
            if size > MAX_FILE_BYTES {
                return Err(ReadError(too_large(&name)));
            }
            let handle = fs::File::open(&file).map_err(|e| ReadError(format!("{name}: {e}")))?;
            let content = read_limited(&name, handle)?;
            files.push(SourceFile { name, content });
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let err = decode("f.yaml", b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(err.0, "f.yaml:2:4: file is not valid UTF-8");
    }
}
