//! The data commands (`create`, `get`, `set`, `ls`, `tree`, `stat`, `acl`, `rm`), `export` and
//! `import`, `watch` and the four-letter words, as processes against the real server.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::{Value, json};
use zk_core::client::ZkClient;
use zk_core::{Coordinator, CreateOptions};

use crate::support::{Running, failed, hosts, ok, root, run, scaled, stderr, zkctl};

/// How long a bounded wait in these tests lasts (scaled for slow machines where it is used).
const LIMIT: Duration = Duration::from_secs(20);

/// [`LIMIT`], scaled.
fn limit() -> Duration {
    scaled(LIMIT)
}

/// Parses one line of JSON output.
fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{text:?} is not JSON: {e}"))
}

/// Runs `zkctl ARGS` with `input` on its standard input, to its end (bounded).
fn run_with_input(args: &[&str], input: &[u8]) -> Output {
    let mut child = zkctl()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zkctl starts");
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(input).expect("input written");
    drop(stdin);
    let deadline = Instant::now() + limit();
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("zkctl {args:?} did not end in time");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

/// Runs a few requests with a session of the test's own.
fn with_client<T>(work: impl AsyncFnOnce(&ZkClient) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let zk = ZkClient::builder(&hosts())
            .expect("hosts")
            .connect()
            .await
            .expect("connects");
        let result = work(&zk).await;
        zk.close().await.expect("closes");
        result
    })
}

#[test]
fn nodes_round_trip_through_create_get_set_ls_stat_and_rm() {
    let top = root();
    let deep = format!("{top}/a/b");
    assert_eq!(
        ok(&run(&["create", "-p", &deep, "hello"])),
        format!("{deep}\n")
    );
    ok(&run(&["create", &format!("{top}/c")]));
    let numbered = ok(&run(&["create", "-s", &format!("{top}/c/n-"), "x"]));
    assert!(
        numbered.trim().starts_with(&format!("{top}/c/n-")),
        "{numbered}"
    );
    assert_eq!(numbered.trim().len(), format!("{top}/c/n-").len() + 10);

    let got = json(&ok(&run(&["--json", "get", &deep])));
    assert_eq!(got["path"], deep);
    assert_eq!(got["data"], json!({"text": "hello"}));
    assert_eq!(got["stat"]["version"], 0);
    assert_eq!(ok(&run(&["get", &deep])), "hello");

    let set = json(&ok(&run(&[
        "--json",
        "set",
        &deep,
        "bye",
        "--version",
        "0",
    ])));
    assert_eq!(set["stat"]["version"], 1);
    assert!(ok(&run(&["set", &deep, "again"])).is_empty());
    let stale = failed(&run(&["set", &deep, "late", "--version", "0"]), 4);
    assert!(stale.contains(&deep), "{stale}");
    let text = ok(&run(&["get", "--stat", &deep]));
    assert!(text.starts_with("again\ncZxid = 0x"), "{text}");
    assert!(text.contains("dataVersion = 2\n"), "{text}");

    let all = json(&ok(&run(&["--json", "ls", "-R", &top])));
    let numbered = numbered.trim();
    assert_eq!(
        all,
        json!([format!("{top}/a"), deep, format!("{top}/c"), numbered])
    );
    assert_eq!(ok(&run(&["ls", &top])), "a\nc\n");
    let stat = json(&ok(&run(&["--json", "stat", &top])));
    assert_eq!(stat["stat"]["numChildren"], 2);
    let drawn = ok(&run(&["tree", &top, "--data"]));
    let name = numbered.rsplit('/').next().unwrap();
    let expected = format!("{top}\n├── a\n│   └── b = again\n└── c\n    └── {name} = x\n");
    assert_eq!(drawn, expected);

    let hash = zk_core::digest_id("user", "secret");
    let entry = format!("digest:{hash}:ra");
    ok(&run(&["acl", "set", &deep, "world:anyone:crwda", &entry]));
    assert_eq!(
        ok(&run(&["acl", "get", &deep])),
        format!("world:anyone:crwda\n{entry}\n")
    );
    let acl = json(&ok(&run(&["--json", "acl", "get", &deep])));
    assert_eq!(
        acl[1],
        json!({"scheme": "digest", "id": hash, "perms": "ra"})
    );
    ok(&run(&["sync", &top]));

    failed(&run(&["rm", &top]), 4);
    ok(&run(&["rm", "-r", &top]));
    failed(&run(&["stat", &top]), 3);
    failed(&run(&["rm", "-r", &top]), 3);
}

#[test]
fn an_export_imports_elsewhere_exactly_and_a_second_import_writes_nothing() {
    let top = root();
    let copy = root();
    let binary: &[u8] = b"\xff\x00\x01\x80binary";
    ok(&run(&[
        "create",
        "-p",
        &format!("{top}/a/b"),
        "text\nwith lines",
    ]));
    ok(&run(&["create", &format!("{top}/c")]));
    assert!(ok(&run_with_input(&["set", &format!("{top}/c"), "-"], binary)).is_empty());
    let file = std::env::temp_dir().join(format!("zkctl-export-{}.json", &top[1..]));
    let file_arg = file.to_str().expect("a UTF-8 temp path");

    // An ephemeral node is left out: it cannot outlive its session.
    with_client(async |zk| {
        let ephemeral = format!("{top}/a/session");
        zk.create(&ephemeral, b"", &CreateOptions::ephemeral())
            .await
            .expect("created");
        ok(&run(&["export", &top, "-o", file_arg]));
    });
    let saved = json(&std::fs::read_to_string(&file).expect("export written"));
    assert_eq!(saved["root"], top);
    assert_eq!(saved["nodes"].as_array().map(Vec::len), Some(4));

    let summary = ok(&run(&["import", file_arg, "--to", &copy]));
    assert!(summary.contains("4 created"), "{summary}");
    let exported = json(&ok(&run(&["export", &copy])));
    assert_eq!(exported["nodes"], saved["nodes"]);
    let (data, children) = with_client(async |zk| {
        let (data, _) = zk.get_data(&format!("{copy}/c")).await.expect("read");
        let (children, _) = zk.get_children(&format!("{copy}/a")).await.expect("listed");
        (data, children)
    });
    assert_eq!(data, binary);
    assert_eq!(children, ["b"]);
    let raw = run(&["get", &format!("{copy}/c")]);
    ok(&raw);
    assert_eq!(raw.stdout, binary, "get writes the bytes as they are");

    // With one node gone, a second import still conflicts on the rest, and recreates nothing.
    ok(&run(&["rm", &format!("{copy}/c")]));
    let conflict = failed(&run(&["import", file_arg, "--to", &copy]), 4);
    assert!(
        conflict.contains(&copy) && conflict.contains("nothing"),
        "{conflict}"
    );
    failed(&run(&["stat", &format!("{copy}/c")]), 3);

    // --overwrite, reading the document from standard input, restores data and the node.
    ok(&run(&["set", &format!("{copy}/a/b"), "changed"]));
    let document = std::fs::read(&file).expect("export");
    let summary = ok(&run_with_input(
        &["import", "-", "--to", &copy, "--overwrite"],
        &document,
    ));
    assert!(summary.contains("1 created, 3 updated"), "{summary}");
    let again = json(&ok(&run(&["export", &copy])));
    assert_eq!(again["nodes"], saved["nodes"]);

    let _ = std::fs::remove_file(&file);
    ok(&run(&["rm", "-r", &top]));
    ok(&run(&["rm", "-r", &copy]));
}

#[test]
fn bad_input_is_one_line_and_its_exit_code() {
    let missing = root();
    let line = failed(&run(&["ls", "no-slash"]), 2);
    assert!(line.contains("no-slash"), "{line}");
    failed(&run(&["get", "/a//b"]), 2);
    let line = failed(&run(&["get", &missing]), 3);
    assert!(line.contains(&missing), "{line}");
    failed(&run(&["ls", "-R", &missing]), 3);
    failed(&run(&["--auth", "nocolon", "ls", "/"]), 2);
    // Credentials the server refuses (a scheme it has no provider for): denied, not a hang.
    let line = failed(&run(&["--auth", "nosuchscheme:x", "ls", "/"]), 6);
    assert!(line.contains("refused"), "{line}");
    // Data the server forbids this session to read: denied too.
    let secret = format!("{missing}-secret");
    ok(&run(&["create", &secret, "s"]));
    ok(&run(&[
        "acl",
        "set",
        &secret,
        "digest:nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:cdrwa",
    ]));
    failed(&run(&["get", &secret]), 6);
    let line = failed(&run(&["acl", "set", &missing, "world:anyone"]), 2);
    assert!(line.contains("SCHEME:ID:PERMS"), "{line}");
    failed(&run(&["create", &missing, "--ttl", "0"]), 2);
    let line = failed(&run_with_input(&["import", "-"], b"{\"format\": 1}"), 2);
    assert!(line.contains("not a zkctl export"), "{line}");
    failed(&run(&["import", "/nonexistent/zkctl-export.json"]), 2);

    let started = Instant::now();
    let unreachable = ["--hosts", "127.0.0.1:1", "--connect-timeout", "1s"];
    let line = failed(&run(&[&unreachable[..], &["ls", "/"]].concat()), 5);
    assert!(line.contains("127.0.0.1:1"), "{line}");
    failed(&run(&[&unreachable[..], &["ruok"]].concat()), 5);
    assert!(started.elapsed() < limit(), "{:?}", started.elapsed());
    // The forbidden node goes with a session that may delete it (delete needs the parent's
    // permission only).
    ok(&run(&["rm", &secret]));
}

#[test]
fn completions_are_printed_for_a_shell() {
    let script = ok(&run(&["completions", "bash"]));
    assert!(
        script.contains("zkctl") && script.contains("complete"),
        "{script}"
    );
    failed(&run(&["completions", "nosuchshell"]), 2);
}

#[test]
fn four_letter_words_reach_the_first_server() {
    assert_eq!(ok(&run(&["ruok"])), "imok\n");
    let srvr = ok(&run(&["srvr"]));
    assert!(srvr.contains("Mode: standalone"), "{srvr}");
    let metrics = json(&ok(&run(&["--json", "mntr", "--server", &hosts()])));
    assert!(metrics["zk_version"].is_string(), "{metrics}");
    assert!(metrics["zk_znode_count"].is_u64(), "{metrics}");
}

#[test]
fn watch_prints_each_event_until_its_count_or_ctrl_c() {
    let top = root();
    let node = format!("{top}/n");
    ok(&run(&["create", "-p", &node]));
    let mut plain = Running::start(&["watch", &node, "--count", "2"]);
    let mut recursive = Running::start(&["--json", "watch", "-R", &top, "--count", "2"]);
    let until_interrupted = Running::start(&["watch", &node]);

    // Each watcher is ready at its own moment: change the node until both counted watchers
    // have seen two changes and the third has seen one.
    let deadline = Instant::now() + limit();
    let mut interrupted_saw = None;
    for round in 0.. {
        assert!(
            Instant::now() < deadline,
            "the watchers did not see two changes"
        );
        if interrupted_saw.is_none() {
            interrupted_saw = until_interrupted.try_line();
        }
        if plain.ended() && recursive.ended() && interrupted_saw.is_some() {
            break;
        }
        ok(&run(&["set", &node, &format!("v{round}")]));
    }
    let changed = format!("NodeDataChanged {node}");
    assert_eq!(interrupted_saw.as_deref(), Some(changed.as_str()));

    let out = plain.finish(LIMIT);
    assert_eq!(ok(&out), format!("{changed}\n{changed}\n"));
    assert_eq!(stderr(&out), "");
    let out = recursive.finish(LIMIT);
    assert_eq!(stderr(&out), "");
    let event = json!({"type": "NodeDataChanged", "path": node});
    assert_eq!(
        ok(&out).lines().map(json).collect::<Vec<_>>(),
        [event.clone(), event]
    );

    until_interrupted.signal(Signal::SIGINT);
    let out = until_interrupted.finish(LIMIT);
    assert_eq!((out.status.code(), stderr(&out).as_str()), (Some(0), ""));
    ok(&run(&["rm", "-r", &top]));
}
