//! `export` and `import`: a subtree's names and data as a JSON document, and back.
//!
//! The document is `{"format": "zkctl-export/1", "root": PATH, "nodes": [{"path", "data"}]}`,
//! nodes parents first, each `path` relative to the root (`""` for the root itself, else
//! `a/b`) and its data as `{"text"}` or `{"base64"}`. ACLs, Stats and node kinds are not
//! saved: an import creates persistent nodes with the open ACL. Ephemeral nodes are left
//! out, since they belong to a session.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use zk_core::client::{ConnectString, ZkClient};
use zk_core::limits::multi_len;
use zk_core::path::{is_at_or_below, join, validate_name, validate_path};
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, DEFAULT_MAX_PACKET, Op, Stat};

use crate::cli::{ExportArgs, Global, ImportArgs};
use crate::exit::{CONFLICT, CliError, Outcome};
use crate::output::{data_from_json, data_json, print_line, write_stdout};
use crate::session::{connect, finish};
use crate::subtree::Subtree;

/// The `format` of the documents this version writes and reads.
const FORMAT: &str = "zkctl-export/1";

/// ZooKeeper's own subtree at the real root; an export of the real root leaves it out.
const SYSTEM: &str = "/zookeeper";

/// The most operations in one `multi` of an import.
const MAX_OPS: usize = 1000;

/// Above this many nodes, an import tells its progress on standard error, every this many.
const PROGRESS_EVERY: usize = 1000;

/// How many existence checks are in flight at once.
const PIPELINE: usize = 64;

/// A checked export document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    /// Where the subtree was exported from.
    pub(crate) root: String,
    /// The nodes, parents first: relative path and data.
    pub(crate) nodes: Vec<(String, Vec<u8>)>,
}

/// A document as it is spelled, before it is checked.
#[derive(Debug, Deserialize)]
struct RawDocument {
    /// Where the subtree was exported from.
    root: String,
    /// The nodes.
    nodes: Vec<RawNode>,
}

/// A node as it is spelled.
#[derive(Debug, Deserialize)]
struct RawNode {
    /// Relative to the root.
    path: String,
    /// `{"text"}` or `{"base64"}`.
    data: Value,
}

/// `export`: the document on standard output, or in `--output` (then a one-line summary).
pub(crate) async fn export(global: &Global, args: ExportArgs) -> Outcome {
    validate_path(&args.path).map_err(|e| CliError::usage(e.to_string()))?;
    // An export of the real root leaves out the server's own /zookeeper (below a chroot,
    // `/zookeeper` is an ordinary node).
    let chrooted = ConnectString::parse(&global.hosts).is_ok_and(|hosts| hosts.chroot.is_some());
    let skip_system = args.path == "/" && !chrooted;
    let zk = connect(global).await?;
    let outcome = save(&zk, &args, skip_system, global.json).await;
    finish(zk, outcome).await
}

/// Reads and writes for [`export`].
async fn save(zk: &ZkClient, args: &ExportArgs, skip_system: bool, json: bool) -> Outcome {
    let tree = Subtree::read(zk, &args.path, true).await?;
    let document = document(&tree, skip_system);
    let count = document["nodes"].as_array().map_or(0, Vec::len);
    let mut text = document.to_string();
    text.push('\n');
    let Some(file) = &args.output else {
        write_stdout(text.as_bytes())?;
        return Ok(0);
    };
    std::fs::write(file, text)
        .map_err(|e| CliError::other(format!("cannot write {}: {e}", file.display())))?;
    if json {
        print_line(&json!({ "file": file.display().to_string(), "nodes": count }).to_string())?;
    } else {
        print_line(&format!("exported {count} nodes to {}", file.display()))?;
    }
    Ok(0)
}

/// The export document of `tree`: every node but ephemeral ones (and, with `skip_system`,
/// ZooKeeper's `/zookeeper`), parents first.
pub(crate) fn document(tree: &Subtree, skip_system: bool) -> Value {
    let nodes: Vec<Value> = tree
        .depth_first()
        .iter()
        .filter(|visit| visit.node.stat.ephemeral_owner == 0)
        .filter(|visit| !(skip_system && is_at_or_below(visit.path, SYSTEM)))
        .map(|visit| {
            json!({
                "path": relative(tree.root(), visit.path),
                "data": data_json(&visit.node.data),
            })
        })
        .collect();
    json!({ "format": FORMAT, "root": tree.root(), "nodes": nodes })
}

/// `path` relative to `root`, which it is at or below: `""` for the root itself, else `a/b`.
fn relative<'a>(root: &str, path: &'a str) -> &'a str {
    let below = path.get(root.len()..).unwrap_or_default();
    below.strip_prefix('/').unwrap_or(below)
}

/// `root` followed by the relative path `rel`.
fn absolute(root: &str, rel: &str) -> String {
    if rel.is_empty() {
        root.to_owned()
    } else {
        join(root, rel)
    }
}

/// `import`: creates the saved subtree under `--to` (default: where it was exported from),
/// all or nothing as far as one `multi` goes, and prints a summary.
pub(crate) async fn import(global: &Global, args: ImportArgs) -> Outcome {
    let document = load(&args.file)?;
    let destination = args.to.clone().unwrap_or_else(|| document.root.clone());
    validate_path(&destination).map_err(|e| CliError::usage(format!("--to: {e}")))?;
    let zk = connect(global).await?;
    let outcome = restore(&zk, &document, &destination, args.overwrite, global.json).await;
    finish(zk, outcome).await
}

/// Reads and checks the document in `file` (`-`: standard input).
///
/// # Errors
/// Bad usage: the file cannot be read, or is not a valid export document.
fn load(file: &Path) -> Result<Document, CliError> {
    let name = file.display();
    let mut bytes = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(file).map(|content| bytes = content)
    };
    read.map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?;
    parse_document(&bytes).map_err(|why| CliError::usage(format!("{name}: {why}")))
}

/// Parses and checks an export document.
///
/// # Errors
/// Why it is not one: not JSON, another format, a missing field, bad data, a bad or repeated
/// path, or a node before its parent.
pub(crate) fn parse_document(bytes: &[u8]) -> Result<Document, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let format = value.get("format").and_then(Value::as_str);
    if format != Some(FORMAT) {
        return Err(format!(
            "not a zkctl export (its format is {}, expected {FORMAT:?})",
            format.map_or_else(|| "missing".to_owned(), |f| format!("{f:?}"))
        ));
    }
    let raw: RawDocument =
        serde_json::from_value(value).map_err(|e| format!("not a zkctl export: {e}"))?;
    validate_path(&raw.root).map_err(|e| format!("root: {e}"))?;
    let mut seen = HashSet::new();
    let mut nodes = Vec::with_capacity(raw.nodes.len());
    for node in raw.nodes {
        check_node_path(&node.path, &seen)?;
        let data = data_from_json(&node.data).map_err(|e| format!("node {:?}: {e}", node.path))?;
        seen.insert(node.path.clone());
        nodes.push((node.path, data));
    }
    Ok(Document {
        root: raw.root,
        nodes,
    })
}

/// Checks a node's relative path: valid names, not seen before, its parent seen before.
fn check_node_path(rel: &str, seen: &HashSet<String>) -> Result<(), String> {
    let bad = |why: &str| format!("node {rel:?}: {why}");
    if seen.contains(rel) {
        return Err(bad("listed twice"));
    }
    if rel.is_empty() {
        return if seen.is_empty() {
            Ok(())
        } else {
            Err(bad("the root must come first"))
        };
    }
    for name in rel.split('/') {
        validate_name(name).map_err(|e| bad(&e.to_string()))?;
    }
    let parent = rel.rsplit_once('/').map_or("", |(parent, _)| parent);
    if !seen.contains(parent) {
        return Err(bad("listed before its parent"));
    }
    Ok(())
}

/// Writes `document` under `destination` for [`import`].
async fn restore(
    zk: &ZkClient,
    document: &Document,
    destination: &str,
    overwrite: bool,
    json: bool,
) -> Outcome {
    let paths: Vec<String> = document
        .nodes
        .iter()
        .map(|(rel, _)| absolute(destination, rel))
        .collect();
    let existing = existing(zk, &paths).await?;
    if !overwrite {
        refuse_conflicts(&paths, &existing)?;
    }
    let ops = plan(&paths, document, &existing);
    if let Some(parent) = zk_core::path::parent(destination).filter(|_| !ops.is_empty()) {
        zk.ensure_path(parent).await?;
    }
    let updated = existing.iter().filter(|found| found.is_some()).count();
    apply(zk, &ops).await?;
    let created = ops.len() - updated;
    if json {
        let summary = json!({ "root": destination, "created": created, "updated": updated });
        print_line(&summary.to_string())?;
    } else {
        print_line(&format!(
            "imported {} nodes into {destination} ({created} created, {updated} updated)",
            ops.len()
        ))?;
    }
    Ok(0)
}

/// The Stat of each of `paths` that exists.
async fn existing(zk: &ZkClient, paths: &[String]) -> Result<Vec<Option<Stat>>, CliError> {
    let found = futures::stream::iter(paths)
        .map(|path| zk.exists(path))
        .buffered(PIPELINE)
        .try_collect()
        .await?;
    Ok(found)
}

/// Fails naming the first of `paths` that exists, if any.
///
/// # Errors
/// A conflict: nothing was written.
fn refuse_conflicts(paths: &[String], existing: &[Option<Stat>]) -> Result<(), CliError> {
    let mut clashes = paths
        .iter()
        .zip(existing)
        .filter(|(_, found)| found.is_some())
        .map(|(path, _)| path);
    let Some(first) = clashes.next() else {
        return Ok(());
    };
    let more = match clashes.count() {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    Err(CliError::new(
        CONFLICT,
        format!(
            "node {first} already exists{more}; nothing was imported (--overwrite replaces their data)"
        ),
    ))
}

/// The writes of an import: a create for each missing node, a data write for each existing
/// one, parents first.
fn plan(paths: &[String], document: &Document, existing: &[Option<Stat>]) -> Vec<Op> {
    paths
        .iter()
        .zip(&document.nodes)
        .zip(existing)
        .map(|((path, (_, data)), found)| match found {
            Some(_) => Op::set_data(path.clone(), data.clone(), None),
            None => Op::create(path.clone(), data.clone(), CreateOptions::persistent()),
        })
        .collect()
}

/// Applies `ops` in as few `multi`s as fit, telling progress on standard error for large
/// imports.
///
/// # Errors
/// The first failing `multi`'s error, saying how many nodes were written before it.
async fn apply(zk: &ZkClient, ops: &[Op]) -> Result<(), CliError> {
    let total = ops.len();
    let mut done = 0;
    for chunk in chunks(ops, DEFAULT_MAX_PACKET, MAX_OPS) {
        if let Err(e) = zk.multi(chunk).await {
            let mut error = CliError::from(e.root().clone());
            if done > 0 {
                error.message = format!(
                    "{} ({done} of {total} nodes were imported before it)",
                    error.message
                );
            }
            return Err(error);
        }
        let before = done;
        done += chunk.len();
        if total > PROGRESS_EVERY && done / PROGRESS_EVERY > before / PROGRESS_EVERY {
            eprintln!("zkctl: imported {done} of {total} nodes");
        }
    }
    Ok(())
}

/// Splits `ops` into runs of at most `max_ops` whose `multi` fits in `limit` bytes; an op too
/// large alone gets a run of its own (and fails with `TooLarge`).
pub(crate) fn chunks(ops: &[Op], limit: usize, max_ops: usize) -> Vec<&[Op]> {
    let empty = multi_len(&[]);
    let mut runs = Vec::new();
    let mut start = 0;
    let mut size = empty;
    for (i, op) in ops.iter().enumerate() {
        let grows = multi_len(std::slice::from_ref(op)) - empty;
        if i > start && (size + grows > limit || i - start >= max_ops) {
            runs.push(&ops[start..i]);
            start = i;
            size = empty;
        }
        size += grows;
    }
    if start < ops.len() {
        runs.push(&ops[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subtree::tests::subtree;

    #[test]
    fn a_document_lists_parents_first_with_relative_paths() {
        let tree = subtree(
            "/app",
            &[
                ("/app", b"top"),
                ("/app/a", b"\xff\x00"),
                ("/app/a/b", b""),
                ("/app/c", b"x"),
            ],
        );
        let value = document(&tree, true);
        assert_eq!(
            value,
            json!({
                "format": FORMAT,
                "root": "/app",
                "nodes": [
                    {"path": "", "data": {"text": "top"}},
                    {"path": "a", "data": {"base64": "/wA="}},
                    {"path": "a/b", "data": {"text": ""}},
                    {"path": "c", "data": {"text": "x"}},
                ]
            })
        );
        let parsed = parse_document(value.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.root, "/app");
        assert_eq!(parsed.nodes[1], ("a".to_owned(), b"\xff\x00".to_vec()));
    }

    #[test]
    fn the_system_subtree_is_left_out_of_an_export_of_the_root() {
        let tree = subtree(
            "/",
            &[
                ("/", b""),
                ("/zookeeper", b""),
                ("/zookeeper/quota", b""),
                ("/zk", b""),
            ],
        );
        let paths = |value: Value| -> Vec<String> {
            value["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["path"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(paths(document(&tree, true)), ["", "zk"]);
        assert_eq!(
            paths(document(&tree, false)),
            ["", "zk", "zookeeper", "zookeeper/quota"]
        );
    }

    #[test]
    fn relative_and_absolute_paths_invert() {
        assert_eq!(relative("/", "/"), "");
        assert_eq!(relative("/", "/a/b"), "a/b");
        assert_eq!(relative("/app", "/app"), "");
        assert_eq!(relative("/app", "/app/a/b"), "a/b");
        assert_eq!(absolute("/", "a/b"), "/a/b");
        assert_eq!(absolute("/copy", ""), "/copy");
        assert_eq!(absolute("/copy", "a"), "/copy/a");
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        let doc =
            |nodes: Value| json!({"format": FORMAT, "root": "/r", "nodes": nodes}).to_string();
        let text = |path: &str| json!({"path": path, "data": {"text": ""}});
        let cases = [
            ("{".to_owned(), "not JSON"),
            (json!({"format": "other"}).to_string(), "not a zkctl export"),
            (json!({"format": FORMAT, "nodes": []}).to_string(), "root"),
            (
                json!({"format": FORMAT, "root": "r", "nodes": []}).to_string(),
                "root",
            ),
            (doc(json!([text("a")])), "before its parent"),
            (doc(json!([text(""), text("a/b")])), "before its parent"),
            (doc(json!([text(""), text("a"), text("a")])), "twice"),
            (doc(json!([text(""), text("a//b")])), "node \"a//b\""),
            (doc(json!([text(""), text("..")])), "node \"..\""),
            (doc(json!([text(""), text("a"), text("")])), "twice"),
            (
                doc(json!([text(""), {"path": "a", "data": {"base64": "!"}}])),
                "base64",
            ),
            (
                doc(json!([text(""), {"path": "a", "data": 3}])),
                "data must be",
            ),
        ];
        for (input, why) in cases {
            let error = parse_document(input.as_bytes()).unwrap_err();
            assert!(error.contains(why), "{input}: {error}");
        }
        assert!(
            parse_document(doc(json!([])).as_bytes())
                .unwrap()
                .nodes
                .is_empty()
        );
    }

    #[test]
    fn imports_are_chunked_by_size_and_count() {
        let op = |size: usize| Op::create("/n", vec![0; size], CreateOptions::persistent());
        let one = multi_len(&[op(100)]);
        let ops: Vec<Op> = (0..5).map(|_| op(100)).collect();
        let sizes = |runs: Vec<&[Op]>| runs.iter().map(|run| run.len()).collect::<Vec<_>>();
        assert_eq!(sizes(chunks(&ops, usize::MAX, 2)), [2, 2, 1]);
        let each = one - multi_len(&[]);
        let limit = multi_len(&[]) + 3 * each;
        assert_eq!(sizes(chunks(&ops, limit, 1000)), [3, 2]);
        for run in chunks(&ops, limit, 1000) {
            assert!(multi_len(run) <= limit);
        }
        let big = [op(100), op(10_000), op(100)];
        assert_eq!(sizes(chunks(&big, limit, 1000)), [1, 1, 1]);
        assert!(chunks(&[], limit, 10).is_empty());
    }
}
