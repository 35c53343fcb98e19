//! Compile-time checks that public types and trait futures are `Send + Sync`.

#![allow(dead_code)]

use std::sync::Arc;

use crate::*;

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>(_: &T) {}

fn public_types_are_send_and_sync() {
    assert_send_sync::<Error>();
    assert_send_sync::<Stat>();
    assert_send_sync::<Acl>();
    assert_send_sync::<CreateOptions>();
    assert_send_sync::<Created>();
    assert_send_sync::<Op>();
    assert_send_sync::<OpResult>();
    assert_send_sync::<ReadOp>();
    assert_send_sync::<ReadResult>();
    assert_send_sync::<WatchEvent>();
    assert_send_sync::<SessionState>();
    assert_send_sync::<OneshotWatch>();
    assert_send_sync::<OneshotSender>();
    assert_send_sync::<PersistentWatch>();
    assert_send_sync::<PersistentSender>();
    assert_send_sync::<Arc<dyn Coordinator>>();
    assert_send_sync::<Box<dyn Coordinator>>();
}

fn trait_futures_are_send(zk: Arc<dyn Coordinator>) {
    assert_send(&zk.create("/a", b"", &CreateOptions::persistent()));
    assert_send(&zk.watch_data("/a"));
    assert_send(&zk.multi(&[]));
    assert_send(&zk.add_watch("/a", AddWatchMode::Persistent));
    assert_send(&zk.ensure_path("/a"));
    assert_send(&zk.delete_all("/a"));
    assert_send(&zk.close());
}
