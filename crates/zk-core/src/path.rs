//! ZooKeeper path rules and small path helpers.
//!
//! The rules are those the Java client and the server apply (see the protocol reference, section 15).

use crate::error::{Error, Result};

/// Checks `path` against ZooKeeper's path rules.
///
/// # Errors
/// [`Error::InvalidPath`] naming the rule that `path` breaks.
pub fn validate_path(path: &str) -> Result<()> {
    check(path, false)
}

/// Checks the path of a sequential create, which may end in `/` because the server appends
/// the sequence number.
///
/// # Errors
/// [`Error::InvalidPath`] naming the rule that `path` breaks.
pub fn validate_sequential_path(path: &str) -> Result<()> {
    check(path, true)
}

/// Checks that `name` can be one node name, a single segment under some parent: not empty,
/// no `/`, not `.` or `..`, and no character the path rules forbid.
///
/// # Errors
/// [`Error::InvalidPath`] naming the rule that `name` breaks (its `path` is the name).
pub fn validate_name(name: &str) -> Result<()> {
    match name {
        "" => Err(invalid(name, "empty name")),
        "." | ".." => Err(invalid(name, "relative segment (. or ..)")),
        _ if name.contains('/') => Err(invalid(name, "a name cannot contain /")),
        _ => match check(&format!("/{name}"), false) {
            Err(Error::InvalidPath { reason, .. }) => Err(invalid(name, reason)),
            other => other,
        },
    }
}

fn invalid(path: &str, reason: &'static str) -> Error {
    Error::InvalidPath {
        path: path.to_owned(),
        reason,
    }
}

fn check(path: &str, sequential: bool) -> Result<()> {
    if path.is_empty() {
        return Err(invalid(path, "path is empty"));
    }
    if !path.starts_with('/') {
        return Err(invalid(path, "path must start with /"));
    }
    if path.len() == 1 {
        // "/" is the root; as a sequential path it names a numbered top-level node.
        return Ok(());
    }
    if path.ends_with('/') && !sequential {
        return Err(invalid(path, "path must not end with /"));
    }
    // Printable ASCII breaks no character rule: one byte scan instead of decoding each char
    // (this runs on every request; a lock cycle's paths are all ASCII).
    if !path.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        for c in path.chars() {
            if let Some(reason) = bad_char(c) {
                return Err(invalid(path, reason));
            }
        }
    }
    // The first segment is empty because the path starts with '/'; a trailing empty segment is
    // only possible for sequential paths, where the server appends the number.
    let body = &path[1..];
    let body = if sequential {
        body.strip_suffix('/').unwrap_or(body)
    } else {
        body
    };
    if sequential && body.is_empty() {
        return Ok(());
    }
    for segment in body.split('/') {
        match segment {
            "" => return Err(invalid(path, "empty segment (//)")),
            "." | ".." => return Err(invalid(path, "relative segment (. or ..)")),
            _ => {}
        }
    }
    Ok(())
}

fn bad_char(c: char) -> Option<&'static str> {
    match c {
        '\0' => Some("contains NUL"),
        '\u{1}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some("contains a control character"),
        '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..='\u{ffff}' => {
            Some("contains a private-use or special character")
        }
        c if c > '\u{ffff}' => Some("contains a character outside the basic multilingual plane"),
        _ => None,
    }
}

/// The parent of a valid path: `"/a/b"` gives `"/a"`, `"/a"` gives `"/"`, `"/"` gives `None`.
pub fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

/// The last segment of a valid path: `"/a/b"` gives `"b"`, `"/"` gives `""`.
pub fn name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Joins a parent path and a child name: `join("/", "a")` is `"/a"`, `join("/a", "b")` is `"/a/b"`.
pub fn join(parent: &str, child: &str) -> String {
    let mut out = String::with_capacity(parent.len() + 1 + child.len());
    out.push_str(parent);
    if !parent.ends_with('/') {
        out.push('/');
    }
    out.push_str(child);
    out
}

/// Every proper ancestor of a valid path, nearest first: `"/a/b/c"` gives `"/a/b"`, `"/a"`, `"/"`.
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(parent(path), |p| parent(p))
}

/// True when `descendant` is `ancestor` itself or lies below it.
pub fn is_at_or_below(descendant: &str, ancestor: &str) -> bool {
    if ancestor == "/" {
        return descendant.starts_with('/');
    }
    descendant == ancestor
        || (descendant.starts_with(ancestor) && descendant.as_bytes()[ancestor.len()] == b'/')
}

/// The sequence number a server appended to a sequential node's name, if the name ends in one.
///
/// Accepts the ten-digit form and the wrapped negative form (`-2147483648`).
pub fn sequence_number(name: &str) -> Option<i32> {
    let digits = name.len().checked_sub(10)?;
    if let Ok(n) = name[digits..].parse::<i32>() {
        if name[digits..].bytes().all(|b| b.is_ascii_digit()) {
            return Some(n);
        }
    }
    let wrapped = name.len().checked_sub(11)?;
    name.get(wrapped..)
        .filter(|s| s.starts_with('-'))
        .and_then(|s| s.parse::<i32>().ok())
}

/// Formats a sequence number the way the server appends it: ten zero-padded digits.
pub fn format_sequence(n: i32) -> String {
    format!("{n:010}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_valid_paths() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/a.b",
            "/..a",
            "/a..",
            "/zookeeper",
            "/ä/ü",
            "/a b",
        ] {
            assert_eq!(validate_path(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn rejects_invalid_paths() {
        for p in [
            "",
            "a",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/..",
            "/a\0",
            "/a\u{1}",
            "/\u{7f}",
            "/\u{9f}",
            "/\u{e000}",
            "/\u{fff0}",
            "/\u{ffff}",
            "/😀",
        ] {
            assert!(
                matches!(validate_path(p), Err(Error::InvalidPath { .. })),
                "{p:?}"
            );
        }
    }

    #[test]
    fn sequential_paths_may_end_with_slash() {
        assert_eq!(validate_sequential_path("/locks/"), Ok(()));
        assert_eq!(validate_sequential_path("/"), Ok(()));
        assert_eq!(validate_sequential_path("/locks/lock-"), Ok(()));
        assert!(validate_sequential_path("/locks//").is_err());
        assert!(validate_sequential_path("/./").is_err());
        assert!(validate_path("/locks/").is_err());
    }

    #[test]
    fn parents_names_and_joins() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(name("/a/b"), "b");
        assert_eq!(name("/"), "");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(ancestors("/a/b/c").collect::<Vec<_>>(), ["/a/b", "/a", "/"]);
        assert!(is_at_or_below("/a/b", "/a"));
        assert!(is_at_or_below("/a", "/a"));
        assert!(!is_at_or_below("/ab", "/a"));
        assert!(is_at_or_below("/ab", "/"));
    }

    #[test]
    fn sequence_numbers() {
        assert_eq!(sequence_number("lock-0000000042"), Some(42));
        assert_eq!(sequence_number("0000000003"), Some(3));
        assert_eq!(sequence_number("n--2147483648"), Some(i32::MIN));
        assert_eq!(sequence_number("lock-42"), None);
        assert_eq!(sequence_number("lock-00000000x2"), None);
        assert_eq!(format_sequence(7), "0000000007");
    }

    proptest! {
        #[test]
        fn joined_valid_names_are_valid_paths(names in proptest::collection::vec("[a-z0-9_.-]{1,8}", 1..5)) {
            let mut path = String::from("/");
            for n in &names {
                path = join(&path, n);
            }
            let expect_ok = names.iter().all(|n| n != "." && n != "..");
            prop_assert_eq!(validate_path(&path).is_ok(), expect_ok);
            if expect_ok {
                prop_assert_eq!(name(&path), names.last().unwrap().as_str());
                prop_assert_eq!(ancestors(&path).count(), names.len());
            }
        }

        /// The ASCII fast path and the char-by-char rule agree: a path whose segments are
        /// fine is refused exactly when some char breaks a character rule, with that reason.
        #[test]
        fn char_rules_hold_with_or_without_the_ascii_fast_path(
            segments in proptest::collection::vec("[a-z]{1,3}([\\PC&&[^/.]]|[\\x00-\\x1f\\x7f-\\u{9f}\\u{e000}\\u{fff5}\\u{1f600}]|[ -~&&[^/.]]){0,3}", 1..4),
        ) {
            let path = format!("/{}", segments.join("/"));
            let first_bad = path.chars().find_map(bad_char);
            match validate_path(&path) {
                Err(Error::InvalidPath { reason, .. }) => prop_assert_eq!(Some(reason), first_bad),
                other => prop_assert!(other.is_ok() && first_bad.is_none(), "{other:?} {first_bad:?}"),
            }
        }

        /// A name is valid exactly when joining it under the root gives a valid path with one
        /// segment.
        #[test]
        fn names_are_single_valid_segments(name in "[a-z./\\x00\\u{e000}]{0,4}") {
            let one_segment = !name.contains('/');
            let as_path = validate_path(&join("/", &name)).is_ok() && !name.is_empty();
            prop_assert_eq!(validate_name(&name).is_ok(), one_segment && as_path);
        }

        #[test]
        fn validation_never_panics(path in any::<String>()) {
            let _ = validate_path(&path);
            let _ = validate_sequential_path(&path);
        }

        #[test]
        fn sequence_suffix_round_trips(n in 0i32..=i32::MAX, prefix in "[a-z-]{0,6}") {
            let name = format!("{prefix}{}", format_sequence(n));
            prop_assert_eq!(sequence_number(&name), Some(n));
        }
    }
}
