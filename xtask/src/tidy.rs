//! `cargo xtask tidy`: every Rust file opens with a `//!` module doc and has no trailing
//! whitespace or tabs.

use std::path::{Path, PathBuf};

use crate::Failure;

/// The folders whose Rust files tidy checks, relative to the workspace root.
const CHECKED_DIRS: &[&str] = &["crates", "examples", "fuzz", "tests", "xtask"];

/// Checks every `.rs` file under [`CHECKED_DIRS`]; fails listing each offence.
pub(crate) fn run() -> Result<(), Failure> {
    let root = crate::root();
    let mut files = Vec::new();
    for dir in CHECKED_DIRS {
        collect_rust_files(&root.join(dir), &mut files)
            .map_err(|e| format!("tidy could not list {dir}/: {e}"))?;
    }
    files.sort();

    let mut offences = Vec::new();
    for file in &files {
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        match std::fs::read(file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    offences.extend(check(&text).into_iter().map(|o| format!("{shown}:{o}")))
                }
                Err(_) => offences.push(format!("{shown}: not valid UTF-8")),
            },
            Err(e) => offences.push(format!("{shown}: cannot read: {e}")),
        }
    }

    if offences.is_empty() {
        println!("tidy: {} Rust files checked, all tidy", files.len());
        return Ok(());
    }
    for offence in &offences {
        eprintln!("{offence}");
    }
    Err(format!(
        "tidy found {} problem(s) in {} Rust files (listed above)",
        offences.len(),
        files.len()
    ))
}

/// The problems in one file's text, each as `line: what`.
fn check(text: &str) -> Vec<String> {
    let mut offences = Vec::new();
    if !text.starts_with("//!") {
        offences.push("1: does not open with a `//!` module doc line".to_owned());
    }
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        if line.contains('\t') {
            offences.push(format!("{number}: tab character"));
        }
        if line.ends_with([' ', '\t', '\r']) {
            offences.push(format!("{number}: trailing whitespace"));
        }
    }
    offences
}

/// Adds every `.rs` file below `dir` to `files`, skipping build output and hidden folders.
/// A missing folder holds no files.
fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect_rust_files(&path, files)?;
            }
        } else if kind.is_file() && name.ends_with(".rs") {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_tidy_file_passes() {
        assert!(check("//! Docs.\n\nfn main() {}\n").is_empty());
    }

    #[test]
    fn each_offence_is_reported_with_its_line() {
        let offences = check("fn main() {\n\tlet x = 1; \n}\r\n");
        assert_eq!(
            offences,
            [
                "1: does not open with a `//!` module doc line",
                "2: tab character",
                "2: trailing whitespace",
                "3: trailing whitespace",
            ]
        );
    }

    #[test]
    fn an_inner_attribute_first_is_not_a_module_doc() {
        assert_eq!(check("#![forbid(unsafe_code)]\n//! Docs.\n").len(), 1);
    }
}
