//! Data commands: `ls`, `tree`, `get`, `set`, `create`, `rm`, `stat`, `acl get|set` and
//! `sync`. Paths are checked before connecting, so a typo is bad usage (2) even when no
//! server is up.

use std::io::IsTerminal;

use serde_json::{Value, json};
use zk_core::client::ZkClient;
use zk_core::path::validate_path;
use zk_core::{Acl, Coordinator, CoordinatorExt, CreateMode, CreateOptions, Error, Id, Perms};

use crate::cli::{
    AclSetArgs, CreateArgs, GetArgs, Global, LsArgs, PathArg, RmArgs, SetArgs, TreeArgs,
};
use crate::exit::{CliError, Outcome};
use crate::output::{data_arg, data_json, print_line, stat_json, stat_text, write_stdout};
use crate::session::{connect, finish};
use crate::subtree::Subtree;

/// The permission letters, in the order they are printed.
const PERM_LETTERS: [(char, Perms); 5] = [
    ('c', Perms::CREATE),
    ('r', Perms::READ),
    ('w', Perms::WRITE),
    ('d', Perms::DELETE),
    ('a', Perms::ADMIN),
];

/// How many characters of a node's data `tree --data` shows.
const SHOWN_DATA: usize = 40;

/// `ls`: the children, sorted; `-R`: every node below, as full paths, depth first.
pub(crate) async fn ls(global: &Global, args: LsArgs) -> Outcome {
    checked(&args.path)?;
    let zk = connect(global).await?;
    let outcome = list(&zk, &args, global.json).await;
    finish(zk, outcome).await
}

/// Lists for [`ls`].
async fn list(zk: &ZkClient, args: &LsArgs, json: bool) -> Outcome {
    let names = if args.recursive {
        let tree = Subtree::read(zk, &args.path, false).await?;
        tree.depth_first()
            .iter()
            .skip(1)
            .map(|visit| visit.path.to_owned())
            .collect()
    } else {
        zk.get_children_sorted(&args.path).await?
    };
    if json {
        print_line(&json!(names).to_string())?;
    } else {
        print_lines(&names)?;
    }
    Ok(0)
}

/// `tree`: the subtree drawn with its names (and data, with `--data`); `--json`: the nodes
/// depth first as `{"path", "depth"[, "data"]}`.
pub(crate) async fn tree(global: &Global, args: TreeArgs) -> Outcome {
    checked(&args.path)?;
    let zk = connect(global).await?;
    let outcome = draw_tree(&zk, &args, global.json).await;
    finish(zk, outcome).await
}

/// Reads and prints for [`tree`].
async fn draw_tree(zk: &ZkClient, args: &TreeArgs, json: bool) -> Outcome {
    let tree = Subtree::read(zk, &args.path, args.data).await?;
    if json {
        print_line(&tree_json(&tree, args.data).to_string())?;
    } else {
        print_lines(&draw(&tree, args.data))?;
    }
    Ok(0)
}

/// The drawing of `tree`: the root's path, then one line per node below it.
pub(crate) fn draw(tree: &Subtree, with_data: bool) -> Vec<String> {
    let mut lines = Vec::new();
    // The indentation each open level adds, from the root's children down.
    let mut indent: Vec<&str> = Vec::new();
    for visit in tree.depth_first() {
        let label = if with_data {
            labelled(visit.name, &visit.node.data)
        } else {
            visit.name.to_owned()
        };
        if visit.depth == 0 {
            lines.push(label);
            continue;
        }
        indent.truncate(visit.depth - 1);
        let branch = if visit.last {
            "└── "
        } else {
            "├── "
        };
        lines.push(format!("{}{branch}{label}", indent.concat()));
        indent.push(if visit.last { "    " } else { "│   " });
    }
    lines
}

/// A name with its data shown after it, shortened, control characters escaped.
fn labelled(name: &str, data: &[u8]) -> String {
    if data.is_empty() {
        return name.to_owned();
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return format!("{name} = <{} bytes of binary data>", data.len());
    };
    let mut shown = String::new();
    for c in text.chars().take(SHOWN_DATA) {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if text.chars().nth(SHOWN_DATA).is_some() {
        shown.push('…');
    }
    format!("{name} = {shown}")
}

/// `tree --json`'s document.
fn tree_json(tree: &Subtree, with_data: bool) -> Value {
    let nodes: Vec<Value> = tree
        .depth_first()
        .iter()
        .map(|visit| {
            let mut node = json!({ "path": visit.path, "depth": visit.depth });
            if with_data {
                node["data"] = data_json(&visit.node.data);
            }
            node
        })
        .collect();
    Value::Array(nodes)
}

/// `get`: the data as it is (bytes unchanged), then with `--stat` the Stat;
/// `--json`: `{"path", "data", "stat"}`.
pub(crate) async fn get(global: &Global, args: GetArgs) -> Outcome {
    checked(&args.path)?;
    let zk = connect(global).await?;
    let outcome = read(&zk, &args, global.json).await;
    finish(zk, outcome).await
}

/// Reads and prints for [`get`].
async fn read(zk: &ZkClient, args: &GetArgs, json: bool) -> Outcome {
    let (data, stat) = zk.get_data(&args.path).await?;
    if json {
        let value = json!({
            "path": args.path,
            "data": data_json(&data),
            "stat": stat_json(&stat),
        });
        print_line(&value.to_string())?;
        return Ok(0);
    }
    write_stdout(&data)?;
    // Bytes go out unchanged for a file or a pipe; a terminal, or the Stat after them, needs
    // the line ended.
    let ends_line = data.is_empty() || data.ends_with(b"\n");
    if !ends_line && (args.stat || std::io::stdout().is_terminal()) {
        write_stdout(b"\n")?;
    }
    if args.stat {
        print_line(&stat_text(&stat))?;
    }
    Ok(0)
}

/// `set`: replaces the data; prints nothing (`--json`: `{"path", "stat"}`).
pub(crate) async fn set(global: &Global, args: SetArgs) -> Outcome {
    checked(&args.path)?;
    let data = data_arg(&args.data)?;
    let zk = connect(global).await?;
    let outcome = write(&zk, &args, &data, global.json).await;
    finish(zk, outcome).await
}

/// Writes for [`set`].
async fn write(zk: &ZkClient, args: &SetArgs, data: &[u8], json: bool) -> Outcome {
    let stat = zk.set_data(&args.path, data, args.version).await?;
    if json {
        print_path_stat(&args.path, &stat)?;
    }
    Ok(0)
}

/// `create`: prints the created path (`--json`: `{"path", "stat"}`).
pub(crate) async fn create(global: &Global, args: CreateArgs) -> Outcome {
    let options = create_options(&args);
    options
        .validate(&args.path)
        .map_err(|e| CliError::usage(e.to_string()))?;
    let data = match &args.data {
        Some(arg) => data_arg(arg)?,
        None => Vec::new(),
    };
    let zk = connect(global).await?;
    let outcome = make(&zk, &args, &data, &options, global.json).await;
    finish(zk, outcome).await
}

/// Creates for [`create`].
async fn make(
    zk: &ZkClient,
    args: &CreateArgs,
    data: &[u8],
    options: &CreateOptions,
    json: bool,
) -> Outcome {
    let created = if args.parents {
        zk.create_with_parents(&args.path, data, options).await?
    } else {
        zk.create(&args.path, data, options).await?
    };
    if json {
        print_path_stat(&created.path, &created.stat)?;
    } else {
        print_line(&created.path)?;
    }
    Ok(0)
}

/// The create options `create`'s flags ask for.
pub(crate) fn create_options(args: &CreateArgs) -> CreateOptions {
    let mode = match (args.ephemeral, args.sequential) {
        _ if args.container => CreateMode::Container,
        (_, true) if args.ttl.is_some() => CreateMode::PersistentSequentialWithTtl,
        _ if args.ttl.is_some() => CreateMode::PersistentWithTtl,
        (true, true) => CreateMode::EphemeralSequential,
        (true, false) => CreateMode::Ephemeral,
        (false, true) => CreateMode::PersistentSequential,
        (false, false) => CreateMode::Persistent,
    };
    let options = CreateOptions::new(mode);
    match args.ttl {
        Some(ttl) => options.with_ttl(ttl),
        None => options,
    }
}

/// `rm`: deletes the node (`-r`: with everything below it); prints nothing.
pub(crate) async fn rm(global: &Global, args: RmArgs) -> Outcome {
    checked(&args.path)?;
    if args.recursive && args.path == "/" {
        return Err(CliError::usage("refusing to delete everything (rm -r /)"));
    }
    let zk = connect(global).await?;
    let outcome = remove(&zk, &args).await;
    finish(zk, outcome).await
}

/// Deletes for [`rm`].
async fn remove(zk: &ZkClient, args: &RmArgs) -> Outcome {
    if !args.recursive {
        zk.delete(&args.path, args.version).await?;
        return Ok(0);
    }
    // `delete_all` takes a missing node for done; a user asking to remove one has a typo.
    if zk.exists(&args.path).await?.is_none() {
        return Err(Error::NoNode {
            path: args.path.clone(),
        }
        .into());
    }
    zk.delete_all(&args.path).await?;
    Ok(0)
}

/// `stat`: the Stat as `name = value` lines (`--json`: `{"path", "stat"}`).
pub(crate) async fn stat(global: &Global, args: PathArg) -> Outcome {
    checked(&args.path)?;
    let zk = connect(global).await?;
    let outcome = show_stat(&zk, &args.path, global.json).await;
    finish(zk, outcome).await
}

/// Reads and prints for [`stat`].
async fn show_stat(zk: &ZkClient, path: &str, json: bool) -> Outcome {
    let stat = zk.exists(path).await?.ok_or_else(|| Error::NoNode {
        path: path.to_owned(),
    })?;
    if json {
        print_path_stat(path, &stat)?;
    } else {
        print_line(&stat_text(&stat))?;
    }
    Ok(0)
}

/// `acl get`: one `SCHEME:ID:PERMS` line per entry (`--json`: an array of
/// `{"scheme", "id", "perms"}`).
pub(crate) async fn acl_get(global: &Global, args: PathArg) -> Outcome {
    checked(&args.path)?;
    let zk = connect(global).await?;
    let outcome = show_acl(&zk, &args.path, global.json).await;
    finish(zk, outcome).await
}

/// Reads and prints for [`acl_get`].
async fn show_acl(zk: &ZkClient, path: &str, json: bool) -> Outcome {
    let (acl, _) = zk.get_acl(path).await?;
    if json {
        let entries: Vec<Value> = acl
            .iter()
            .map(|entry| {
                json!({
                    "scheme": entry.id.scheme,
                    "id": entry.id.id,
                    "perms": perms_text(entry.perms),
                })
            })
            .collect();
        print_line(&Value::Array(entries).to_string())?;
    } else {
        let lines: Vec<String> = acl.iter().map(acl_text).collect();
        print_lines(&lines)?;
    }
    Ok(0)
}

/// `acl set`: replaces the ACL; prints nothing (`--json`: `{"path", "stat"}`).
pub(crate) async fn acl_set(global: &Global, args: AclSetArgs) -> Outcome {
    checked(&args.path)?;
    let acl = args
        .acl
        .iter()
        .map(|entry| parse_acl(entry))
        .collect::<Result<Vec<Acl>, CliError>>()?;
    let zk = connect(global).await?;
    let outcome = replace_acl(&zk, &args, &acl, global.json).await;
    finish(zk, outcome).await
}

/// Writes for [`acl_set`].
async fn replace_acl(zk: &ZkClient, args: &AclSetArgs, acl: &[Acl], json: bool) -> Outcome {
    let stat = zk.set_acl(&args.path, acl, args.version).await?;
    if json {
        print_path_stat(&args.path, &stat)?;
    }
    Ok(0)
}

/// An ACL entry as `SCHEME:ID:PERMS`.
pub(crate) fn acl_text(acl: &Acl) -> String {
    format!("{}:{}:{}", acl.id.scheme, acl.id.id, perms_text(acl.perms))
}

/// Permissions as letters from `crwda`, in that order.
pub(crate) fn perms_text(perms: Perms) -> String {
    PERM_LETTERS
        .iter()
        .filter(|(_, perm)| perms.contains(*perm))
        .map(|(letter, _)| *letter)
        .collect()
}

/// Parses `SCHEME:ID:PERMS`. The scheme ends at the first colon and the permissions start
/// after the last, so ids may hold colons (`digest:user:HASH:crwda`, IPv6 addresses).
///
/// # Errors
/// Bad usage: fewer than two colons, an empty scheme, no permissions, or a letter outside
/// `crwda`.
pub(crate) fn parse_acl(text: &str) -> Result<Acl, CliError> {
    let bad = |why: &str| {
        CliError::usage(format!(
            "ACL entry {text:?}: {why} (expected SCHEME:ID:PERMS, such as world:anyone:r)"
        ))
    };
    let (scheme, rest) = text.split_once(':').ok_or_else(|| bad("no colon"))?;
    let (id, letters) = rest.rsplit_once(':').ok_or_else(|| bad("only one colon"))?;
    if scheme.is_empty() {
        return Err(bad("the scheme is empty"));
    }
    if letters.is_empty() {
        return Err(bad("no permissions"));
    }
    let mut perms = Perms::empty();
    for letter in letters.chars() {
        let (_, perm) = PERM_LETTERS
            .iter()
            .find(|(known, _)| *known == letter)
            .ok_or_else(|| bad(&format!("{letter:?} is not one of crwda")))?;
        perms |= *perm;
    }
    Ok(Acl::new(perms, Id::new(scheme, id)))
}

/// `sync`: makes the server catch up with the leader; prints nothing.
pub(crate) async fn sync(global: &Global, args: PathArg) -> Outcome {
    checked(&args.path)?;
    let zk = connect(global).await?;
    let outcome = zk
        .sync(&args.path)
        .await
        .map(|()| 0)
        .map_err(CliError::from);
    finish(zk, outcome).await
}

/// Checks a path argument before anything is sent.
///
/// # Errors
/// Bad usage, naming the rule the path breaks.
fn checked(path: &str) -> Result<(), CliError> {
    validate_path(path).map_err(|e| CliError::usage(e.to_string()))
}

/// Prints `{"path", "stat"}`.
fn print_path_stat(path: &str, stat: &zk_core::Stat) -> Result<(), CliError> {
    print_line(&json!({ "path": path, "stat": stat_json(stat) }).to_string())
}

/// Prints each line, in one write.
fn print_lines(lines: &[String]) -> Result<(), CliError> {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    write_stdout(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::subtree::tests::subtree;

    #[test]
    fn acl_entries_parse_with_colons_in_the_id() {
        let digest = parse_acl("digest:user:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:crwda").unwrap();
        assert_eq!(
            digest.id,
            Id::new("digest", "user:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")
        );
        assert_eq!(digest.perms, Perms::ALL);
        let world = parse_acl("world:anyone:r").unwrap();
        assert_eq!(world, Acl::new(Perms::READ, Id::anyone()));
        let ip = parse_acl("ip:10.0.0.0/8:rw").unwrap();
        assert_eq!(ip.perms, Perms::READ | Perms::WRITE);
        assert_eq!(parse_acl("auth::cd").unwrap().id, Id::authenticated());
    }

    #[test]
    fn bad_acl_text_is_bad_usage() {
        for text in [
            "",
            "world",
            "world:anyone",
            ":anyone:r",
            "world:anyone:",
            "world:anyone:rx",
        ] {
            let err = parse_acl(text).unwrap_err();
            assert_eq!(err.code, crate::exit::USAGE, "{text:?}");
            assert!(err.message.contains("SCHEME:ID:PERMS"), "{}", err.message);
        }
    }

    #[test]
    fn acl_text_round_trips() {
        for text in ["world:anyone:crwda", "digest:u:h=:ra", "ip:10.0.0.1:w"] {
            assert_eq!(acl_text(&parse_acl(text).unwrap()), text);
        }
        assert_eq!(perms_text(Perms::empty()), "");
        assert_eq!(perms_text(Perms::READ | Perms::ADMIN), "ra");
    }

    #[test]
    fn trees_are_drawn_with_branches() {
        let tree = subtree(
            "/app",
            &[
                ("/app", b""),
                ("/app/config", b"{\"x\":1}\n"),
                ("/app/config/a", b""),
                ("/app/workers", b"\xff\x00"),
                ("/app/workers/w1", b""),
                ("/app/workers/w2", b""),
            ],
        );
        assert_eq!(
            draw(&tree, false),
            [
                "/app",
                "├── config",
                "│   └── a",
                "└── workers",
                "    ├── w1",
                "    └── w2",
            ]
        );
        let with_data = draw(&tree, true);
        assert_eq!(with_data[1], "├── config = {\"x\":1}\\n");
        assert_eq!(with_data[3], "└── workers = <2 bytes of binary data>");
    }

    #[test]
    fn long_data_is_shortened() {
        let long = "x".repeat(SHOWN_DATA + 1);
        let label = labelled("n", long.as_bytes());
        assert_eq!(label, format!("n = {}…", "x".repeat(SHOWN_DATA)));
        assert_eq!(
            labelled("n", "x".repeat(SHOWN_DATA).as_bytes())
                .chars()
                .last(),
            Some('x')
        );
    }

    fn create_args(
        ephemeral: bool,
        sequential: bool,
        container: bool,
        ttl: Option<u64>,
    ) -> CreateArgs {
        CreateArgs {
            path: "/n".into(),
            data: None,
            ephemeral,
            sequential,
            container,
            ttl: ttl.map(Duration::from_secs),
            parents: false,
        }
    }

    #[test]
    fn create_flags_choose_the_mode() {
        let mode = |e, s, c, t| create_options(&create_args(e, s, c, t)).mode;
        assert_eq!(mode(false, false, false, None), CreateMode::Persistent);
        assert_eq!(mode(true, false, false, None), CreateMode::Ephemeral);
        assert_eq!(
            mode(false, true, false, None),
            CreateMode::PersistentSequential
        );
        assert_eq!(
            mode(true, true, false, None),
            CreateMode::EphemeralSequential
        );
        assert_eq!(mode(false, false, true, None), CreateMode::Container);
        assert_eq!(
            mode(false, false, false, Some(5)),
            CreateMode::PersistentWithTtl
        );
        assert_eq!(
            mode(false, true, false, Some(5)),
            CreateMode::PersistentSequentialWithTtl
        );
        let ttl = create_options(&create_args(false, false, false, Some(5)));
        assert_eq!(ttl.ttl, Some(Duration::from_secs(5)));
    }
}
