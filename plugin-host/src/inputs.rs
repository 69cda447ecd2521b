//! Finding and reading the files named by `-f`, the way `kubectl apply -f`
//! does: a directory means its `.yaml`, `.yml` and `.json` files (all levels
//! with `-R`), `-` means standard input.
//!
//! Every real file is read once, however many ways it is named (`-f x -f ./x`,
//! a directory and its subdirectory, a symlinked directory under `-R`): the
//! core checks all inputs together, so a second copy of a credential would be
//! reported as a duplicate of itself.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::host::SourceFile;

/// Same bound as the core's, checked before reading so a huge file is never
/// loaded.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// The name standard input goes by in messages and reports.
pub const STDIN_NAME: &str = "<stdin>";

/// A problem reading inputs: always exit 2. Prints as
/// `FILE[:LINE[:COLUMN]]: error: MESSAGE`, the format of every input error.
/// The parts are in `.0` (a tuple, so callers of the one-string version keep
/// compiling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(pub ReadProblem);

/// What went wrong reading one input, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProblem {
    /// The input as the user named it (or as it was reached under a
    /// directory), `<stdin>` for standard input.
    pub file: String,
    /// 1-based line and column, where there is one.
    pub position: Option<(usize, usize)>,
    /// What is wrong, in words: no `(os error N)` or other library detail.
    pub message: String,
}

impl ReadError {
    fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        ReadError(ReadProblem { file: file.into(), position: None, message: message.into() })
    }

    fn at(file: impl Into<String>, line: usize, column: usize, message: impl Into<String>) -> Self {
        ReadError(ReadProblem { file: file.into(), position: Some((line, column)), message: message.into() })
    }

    fn io(file: impl Into<String>, context: &str, e: &io::Error) -> Self {
        Self::new(file, format!("{context}{}", describe(e)))
    }
}

impl fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: error: {}", self.file, self.message),
            None => write!(f, "{}: error: {}", self.file, self.message),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for ReadError {}

/// An I/O error as a user reads it: `no such file or directory`, not
/// `No such file or directory (os error 2)`.
fn describe(e: &io::Error) -> String {
    let known = match e.kind() {
        io::ErrorKind::NotFound => Some("no such file or directory"),
        io::ErrorKind::PermissionDenied => Some("permission denied"),
        io::ErrorKind::IsADirectory => Some("is a directory"),
        io::ErrorKind::NotADirectory => Some("a component of the path is not a directory"),
        _ => None,
    };
    if let Some(text) = known {
        return text.to_string();
    }
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => text.as_str(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "read error".to_string(),
    }
}

fn is_manifest(path: &Path) -> bool {
    // Terraform's JSON syntax is not read (README: not done); walking a
    // directory passes over it rather than failing on it.
    !path.to_string_lossy().ends_with(".tf.json")
        && matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json" | "tf")
    )
}

/// Collects the manifests in `dir`, sorted, descending (with `recursive`)
/// into subdirectories, symlinked ones included. `visited` holds the
/// canonical directories already walked, so a directory reached twice (a
/// symlink to a sibling, a link to an ancestor) is walked once and a link
/// loop ends.
fn walk(dir: &Path, recursive: bool, visited: &mut HashSet<PathBuf>, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let name = || dir.display().to_string();
    let canonical = fs::canonicalize(dir).map_err(|e| ReadError::io(name(), "", &e))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|e| ReadError::io(name(), "cannot read directory: ", &e))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            // Terraform's download cache (`terraform init`): other people's
            // modules and its own JSON bookkeeping, not this project's code.
            if recursive && path.file_name().is_none_or(|n| n != ".terraform") {
                walk(&path, recursive, visited, out)?;
            }
        } else if is_manifest(&path) && fs::metadata(&path).map_or(true, |m| m.is_file()) {
            // Regular files only: a FIFO or device named `x.yaml` in a
            // walked directory would block or never end (one named with
            // `-f` is still read, as `<(cmd)` is). A dangling link is kept,
            // so that reading it reports the error.
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
        ReadError::at(name, line, column, "file is not valid UTF-8")
    })
}

fn read_limited(name: &str, reader: impl Read) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::io(name, "cannot read: ", &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(name));
    }
    decode(name, bytes)
}

fn too_large(name: &str) -> ReadError {
    ReadError::new(name, format!("file is larger than the {} MiB limit", MAX_FILE_BYTES / (1024 * 1024)))
}

/// What makes a file the same file however it is reached: device and inode
/// (hard links, bind mounts, `/dev/stdin`, stdin redirected from a file
/// also named by `-f`); the canonical path where there are no inodes.
#[derive(PartialEq, Eq, Hash)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

fn file_id(handle: &fs::File, path: &Path) -> std::io::Result<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        let meta = handle.metadata()?;
        Ok(FileId::Inode(meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = handle;
        Ok(FileId::Path(fs::canonicalize(path)?))
    }
}

/// Standard input's identity: a file redirected in (`< f.yaml`) is that file.
fn stdin_id() -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let handle = fs::File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
        file_id(&handle, Path::new("/dev/stdin")).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Reads one file named by a flag (`--spec`, `--from-cluster`); `-` is
/// standard input.
pub fn read_one(arg: &str) -> Result<SourceFile, ReadError> {
    if arg == "-" {
        let content = read_limited(STDIN_NAME, std::io::stdin().lock())?;
        return Ok(SourceFile { name: STDIN_NAME.into(), content });
    }
    let meta = fs::metadata(arg).map_err(|e| ReadError::io(arg, "", &e))?;
    if meta.is_dir() {
        return Err(ReadError::new(arg, "is a directory, not a file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(arg));
    }
    let handle = fs::File::open(arg).map_err(|e| ReadError::io(arg, "", &e))?;
    let content = read_limited(arg, handle)?;
    Ok(SourceFile { name: arg.to_string(), content })
}

/// Reads every input named by `-f`, in the order given, each real file once
/// under the first name it was reached by.
pub fn read_all(paths: &[String], recursive: bool) -> Result<Vec<SourceFile>, ReadError> {
    let mut files = Vec::new();
    let mut read: HashSet<FileId> = HashSet::new();
    let mut stdin_used = false;
    for arg in paths {
        if arg == "-" {
            if stdin_used {
                return Err(ReadError::new(STDIN_NAME, "`-f -` given more than once"));
            }
            stdin_used = true;
            if let Some(id) = stdin_id() {
                if !read.insert(id) {
                    continue;
                }
            }
            let content = read_limited(STDIN_NAME, std::io::stdin().lock())?;
            files.push(SourceFile { name: STDIN_NAME.into(), content });
            continue;
        }
        let path = Path::new(arg);
        let meta = fs::metadata(path).map_err(|e| ReadError::io(arg.as_str(), "", &e))?;
        let mut found = Vec::new();
        if meta.is_dir() {
            // Per argument: `-f dir -R -f dir/sub` walks `sub` again (its
            // files are then skipped below) instead of calling it empty.
            walk(path, recursive, &mut HashSet::new(), &mut found)?;
            if found.is_empty() {
                let hint = if recursive { "" } else { " (use -R to look in subdirectories)" };
                return Err(ReadError::new(arg.as_str(), format!("no .yaml, .yml, .json or .tf files{hint}")));
            }
        } else {
            found.push(path.to_path_buf());
        }
        for file in found {
            let name = file.display().to_string();
            let handle = fs::File::open(&file).map_err(|e| ReadError::io(name.as_str(), "", &e))?;
            let id = file_id(&handle, &file).map_err(|e| ReadError::io(name.as_str(), "", &e))?;
            if !read.insert(id) {
                continue;
            }
            // A pipe (`-f /dev/stdin`, `-f <(cmd)`) has no size; reading is
            // bounded either way.
            let size = handle.metadata().map_err(|e| ReadError::io(name.as_str(), "", &e))?.len();
            if size > MAX_FILE_BYTES {
                return Err(too_large(&name));
            }
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
        assert_eq!(err.to_string(), "f.yaml:2:4: error: file is not valid UTF-8");
    }

    #[test]
    fn io_errors_read_without_library_detail() {
        let missing = fs::metadata("/nonexistent/wi-policy/x.yaml").unwrap_err();
        let err = ReadError::io("x.yaml", "", &missing);
        assert_eq!(err.to_string(), "x.yaml: error: no such file or directory");
        let other = io::Error::from_raw_os_error(40); // ELOOP on Linux
        assert!(!describe(&other).contains("os error"), "{}", describe(&other));
        assert!(describe(&other).starts_with(char::is_lowercase), "{}", describe(&other));
    }
}
