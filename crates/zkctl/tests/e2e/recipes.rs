//! `zkctl queue`, `registry` and `config` as processes against the real server.

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::support::{Running, failed, ok, root, run};

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{text:?} is not JSON: {e}"))
}

#[test]
fn a_queue_takes_by_priority_and_reports_an_empty_wait() {
    let path = format!("{}/jobs", root());
    ok(&run(&["queue", "put", &path, "later", "--priority", "5"]));
    let first = ok(&run(&["queue", "put", &path, "first", "--priority", "1"]));
    assert!(first.trim().starts_with("entry-001-"), "{first}");
    assert!(ok(&run(&["queue", "len", &path])).starts_with("2 items: 2 ready"));
    assert_eq!(ok(&run(&["queue", "take", &path])), "first");
    let taken = json(&ok(&run(&["--json", "queue", "take", &path])));
    assert_eq!(taken["priority"], 5);
    assert_eq!(taken["data"]["text"], "later");
    let line = failed(&run(&["queue", "take", &path, "--timeout", "300ms"]), 7);
    assert!(line.contains("within the timeout"), "{line}");
    let line = failed(&run(&["queue", "put", &path, "x", "--priority", "1000"]), 2);
    assert!(line.contains("priority"), "{line}");
    ok(&run(&["rm", "-r", path.rsplit_once('/').unwrap().0]));
}

#[test]
fn config_values_are_json_versioned_and_followed() {
    let path = format!("{}/settings", root());
    assert_eq!(ok(&run(&["config", "get", &path])).trim(), "null (no node)");
    let watching = Running::start(&["--json", "config", "watch", &path, "--count", "1"]);
    assert_eq!(json(&watching.line())["value"], Value::Null);
    assert_eq!(
        ok(&run(&["config", "set", &path, r#"{"workers": 4}"#])).trim(),
        "version 0"
    );
    assert_eq!(json(&watching.line())["value"]["workers"], 4);
    let read = json(&ok(&run(&["--json", "config", "get", &path])));
    assert_eq!(
        (read["value"]["workers"].clone(), read["version"].clone()),
        (4.into(), 0.into())
    );
    failed(&run(&["config", "set", &path, "7", "--version", "5"]), 4);
    let line = failed(&run(&["config", "set", &path, "not json"]), 2);
    assert!(line.contains("not JSON"), "{line}");
    ok(&run(&["rm", "-r", path.rsplit_once('/').unwrap().0]));
}

#[test]
fn a_registered_instance_is_listed_until_interrupted() {
    let base = format!("{}/services", root());
    let registered = Running::start(&[
        "registry",
        "register",
        &base,
        "api",
        "--address",
        "10.0.0.1",
        "--port",
        "8080",
        "--id",
        "api-1",
    ]);
    assert_eq!(registered.line(), format!("registered {base}/api/api-1"));
    assert_eq!(ok(&run(&["registry", "list", &base])).trim(), "api");
    assert_eq!(
        ok(&run(&["registry", "list", &base, "api"])).trim(),
        "api-1 10.0.0.1:8080"
    );
    let listed = json(&ok(&run(&["--json", "registry", "list", &base, "api"])));
    assert_eq!(listed["instances"][0]["port"], 8080);
    registered.signal(Signal::SIGINT);
    assert_eq!(
        registered.finish(Duration::from_secs(20)).status.code(),
        Some(0)
    );
    assert_eq!(ok(&run(&["registry", "list", &base, "api"])).trim(), "");
    failed(&run(&["registry", "list", &base, "a/b"]), 2);
    ok(&run(&["rm", "-r", base.rsplit_once('/').unwrap().0]));
}
