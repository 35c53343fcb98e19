//! Every frame captured from a real ZooKeeper 3.8.0 server decodes to the fields its capture
//! lists, and re-encodes to the same bytes.

use std::collections::HashMap;
use std::path::PathBuf;

use zk_core::proto::frame::{next_frame, payload_len};
use zk_core::proto::response::encode_notification;
use zk_core::proto::{
    ConnectRequest, ConnectResponse, Incoming, MultiResult, OpCode, ReplyHeader, Request, Response,
};
use zk_core::{DEFAULT_MAX_PACKET, Stat};

#[derive(serde::Deserialize)]
struct Frame {
    direction: String,
    hex: String,
    meaning: String,
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn load() -> Vec<(String, Vec<Frame>)> {
    let mut files: Vec<_> = std::fs::read_dir(vectors_dir())
        .expect("the captured vectors ship with the crate")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let frames = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (name, frames)
        })
        .collect()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The `Fields:` part of a capture's description as `key=value` pairs, in order.
fn fields(meaning: &str) -> Vec<(String, String)> {
    let Some(start) = meaning.find("Fields:") else {
        return Vec::new();
    };
    meaning[start + 7..]
        .split([';', ',', '{', '}'])
        .filter_map(|token| {
            let (key, value) = token.split_once('=')?;
            let key = key.trim().rsplit([' ', '.', '[', ']']).next()?.to_owned();
            let value = value.trim();
            let value = if let Some(quoted) = value.strip_prefix('"') {
                quoted.split('"').next().unwrap_or_default().to_owned()
            } else {
                value.split(' ').next().unwrap_or_default().to_owned()
            };
            Some((key, value))
        })
        .collect()
}

fn first<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn number(text: &str) -> i64 {
    match text.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).unwrap(),
        None => match text.strip_prefix("-0x") {
            Some(hex) => -i64::from_str_radix(hex, 16).unwrap(),
            None => text
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {text}")),
        },
    }
}

fn check_number(fields: &[(String, String)], key: &str, actual: i64, context: &str) {
    if let Some(expected) = first(fields, key) {
        assert_eq!(number(expected), actual, "{key} in {context}");
    }
}

/// Compares the first `Stat{...}` of a description with a decoded Stat.
fn check_stat(meaning: &str, stat: &Stat, context: &str) {
    let Some(start) = meaning.find("Stat{") else {
        panic!("{context}: no Stat listed");
    };
    let end = meaning[start..].find('}').unwrap() + start;
    let listed = fields(&format!("Fields: {}", &meaning[start + 5..end]));
    let actual = [
        ("czxid", stat.czxid),
        ("mzxid", stat.mzxid),
        ("ctime", stat.ctime),
        ("mtime", stat.mtime),
        ("version", stat.version.into()),
        ("cversion", stat.cversion.into()),
        ("aversion", stat.aversion.into()),
        ("ephemeralOwner", stat.ephemeral_owner),
        ("dataLength", stat.data_length.into()),
        ("numChildren", stat.num_children.into()),
        ("pzxid", stat.pzxid),
    ];
    assert_eq!(listed.len(), 11, "{context}: {listed:?}");
    for (key, value) in actual {
        check_number(&listed, key, value, context);
    }
}

fn request_path(request: &Request) -> Option<&str> {
    match request {
        Request::Create { path, .. }
        | Request::Delete { path, .. }
        | Request::Exists { path, .. }
        | Request::GetData { path, .. }
        | Request::SetData { path, .. }
        | Request::GetAcl { path }
        | Request::SetAcl { path, .. }
        | Request::GetChildren { path, .. }
        | Request::GetChildren2 { path, .. }
        | Request::Sync { path }
        | Request::Check { path, .. }
        | Request::CheckWatches { path, .. }
        | Request::RemoveWatches { path, .. }
        | Request::GetAllChildrenNumber { path }
        | Request::AddWatch { path, .. } => Some(path),
        Request::GetEphemerals { prefix } => Some(prefix),
        _ => None,
    }
}

#[derive(Default)]
struct Connection {
    awaiting_connect: bool,
    pending: HashMap<i32, OpCode>,
}

#[derive(Default)]
struct Tally {
    requests: usize,
    replies: usize,
    notifications: usize,
    connects: usize,
    stats: usize,
}

fn replay(name: &str, frames: &[Frame], tally: &mut Tally) {
    let mut connections: HashMap<String, Connection> = HashMap::new();
    for (index, frame) in frames.iter().enumerate() {
        let context = format!("{name}[{index}]: {}", frame.meaning);
        let conn_key = frame
            .meaning
            .strip_prefix("[conn ")
            .map(|rest| rest.split([' ', ']', '\'']).next().unwrap().to_owned())
            .unwrap_or_default();
        let conn = connections.entry(conn_key).or_default();
        let bytes = unhex(&frame.hex);
        let listed = fields(&frame.meaning);
        if bytes.is_empty() {
            // A TCP close: the next frame on this connection starts a new handshake.
            *conn = Connection::default();
            continue;
        }
        let (range, used) = match next_frame(&bytes, DEFAULT_MAX_PACKET) {
            Ok(Some(found)) => found,
            Ok(None) => panic!("{context}: incomplete frame"),
            Err(e) => {
                // Only the oversize capture announces too long a frame: its prefix alone is
                // refused, before the rest arrives.
                assert_eq!(name, "oversize-packet", "{context}: {e}");
                let prefix = [bytes[0], bytes[1], bytes[2], bytes[3]];
                assert!(
                    payload_len(prefix, DEFAULT_MAX_PACKET).is_err(),
                    "{context}"
                );
                assert!(
                    payload_len(prefix, DEFAULT_MAX_PACKET + 1).is_ok(),
                    "{context}"
                );
                continue;
            }
        };
        assert_eq!(used, bytes.len(), "{context}: one frame per capture");
        check_number(&listed, "length", range.len() as i64, &context);
        let payload = &bytes[range];
        let is_request = frame.direction == "request";
        let description = match frame.meaning.strip_prefix('[') {
            Some(rest) => rest.split_once("] ").map_or(rest, |(_, d)| d),
            None => &frame.meaning,
        };
        if description.starts_with("ConnectRequest") {
            assert!(is_request);
            let request = ConnectRequest::decode(payload).unwrap();
            check_number(&listed, "timeOut", request.timeout_ms.into(), &context);
            check_number(&listed, "sessionId", request.session_id, &context);
            check_number(&listed, "lastZxidSeen", request.last_zxid_seen, &context);
            assert_eq!(
                request.read_only.is_some(),
                payload.len() == 45,
                "{context}"
            );
            let mut again = Vec::new();
            request.encode_frame(&mut again);
            assert_eq!(again, bytes, "{context}");
            conn.awaiting_connect = true;
            tally.connects += 1;
        } else if description.starts_with("ConnectResponse") {
            assert!(conn.awaiting_connect, "{context}");
            let response = ConnectResponse::decode(payload).unwrap();
            check_number(&listed, "timeOut", response.timeout_ms.into(), &context);
            check_number(&listed, "sessionId", response.session_id, &context);
            assert_eq!(response.is_expired(), response.timeout_ms == 0, "{context}");
            let mut again = Vec::new();
            response.encode_frame(&mut again);
            assert_eq!(again, bytes, "{context}");
            conn.awaiting_connect = false;
            tally.connects += 1;
        } else if is_request {
            let (xid, request) = match Request::decode(payload) {
                Ok(decoded) => decoded,
                Err(_) => {
                    assert_eq!(name, "unknown-opcode", "{context}");
                    conn.pending
                        .insert(number(first(&listed, "xid").unwrap()) as i32, OpCode::Error);
                    continue;
                }
            };
            check_number(&listed, "xid", xid.into(), &context);
            check_number(&listed, "type", request.opcode().code().into(), &context);
            if let (Some(expected), Some(actual)) = (first(&listed, "path"), request_path(&request))
            {
                assert_eq!(expected, actual, "{context}");
            }
            let mut again = Vec::new();
            request.encode_frame(xid, &mut again);
            if frame.meaning.contains("data=null(-1)") {
                // Null and empty buffers decode alike; the client always sends empty ones.
                assert_eq!(again.len(), bytes.len(), "{context}");
                assert_eq!(
                    Request::decode(&again[4..]).unwrap(),
                    (xid, request.clone()),
                    "{context}"
                );
            } else {
                assert_eq!(again, bytes, "{context}");
            }
            conn.pending.insert(xid, request.opcode());
            tally.requests += 1;
        } else {
            match Incoming::parse(payload).unwrap() {
                Incoming::Notification(event) => {
                    check_number(&listed, "type", event.event_type.into(), &context);
                    check_number(&listed, "state", event.state.into(), &context);
                    assert_eq!(
                        first(&listed, "path"),
                        Some(event.path.as_str()),
                        "{context}"
                    );
                    let zxid = number(first(&listed, "zxid").unwrap());
                    let mut again = Vec::new();
                    encode_notification(&event, zxid, &mut again);
                    assert_eq!(again, bytes, "{context}");
                    tally.notifications += 1;
                }
                Incoming::Reply { header, body } => {
                    check_reply(
                        conn,
                        header,
                        body,
                        payload,
                        &bytes,
                        &frame.meaning,
                        &context,
                        tally,
                    );
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_reply(
    conn: &mut Connection,
    header: ReplyHeader,
    body: &[u8],
    payload: &[u8],
    bytes: &[u8],
    meaning: &str,
    context: &str,
    tally: &mut Tally,
) {
    let listed = fields(meaning);
    check_number(&listed, "xid", header.xid.into(), context);
    check_number(&listed, "zxid", header.zxid, context);
    check_number(&listed, "err", header.err.into(), context);
    let op = match header.xid {
        -2 => OpCode::Ping,
        xid => conn
            .pending
            .remove(&xid)
            .unwrap_or_else(|| panic!("{context}: reply to an unknown xid")),
    };
    tally.replies += 1;
    if header.err != 0 {
        assert!(body.is_empty());
        // Error replies normally carry only the header (3.8.0 pads a refused multiRead).
        if payload.len() == 16 {
            let mut again = Vec::new();
            Response::encode_frame(header, &Response::Empty, &mut again);
            assert_eq!(again, bytes, "{context}");
        }
        return;
    }
    let response = Response::decode(op, body).unwrap_or_else(|e| panic!("{context}: {e}"));
    match &response {
        Response::Stat(stat)
        | Response::Data { stat, .. }
        | Response::Acl { stat, .. }
        | Response::Children2 { stat, .. }
        | Response::Create2 { stat, .. }
        | Response::Config { stat, .. } => {
            check_stat(meaning, stat, context);
            tally.stats += 1;
        }
        Response::Multi(results) => {
            let mut types: Vec<i64> = listed
                .iter()
                .filter(|(k, _)| k == "type")
                .map(|(_, v)| number(v))
                .collect();
            if meaning.contains("end marker") {
                assert_eq!(types.pop(), Some(-1), "{context}");
            }
            assert_eq!(types.len(), results.len(), "{context}");
            for (result, listed_type) in results.iter().zip(types) {
                let code = match result {
                    MultiResult::Create { .. } => 1,
                    MultiResult::Create2 { .. } => 15,
                    MultiResult::Delete => 2,
                    MultiResult::SetData(_) => 5,
                    MultiResult::Check => 13,
                    MultiResult::GetData { .. } => 4,
                    MultiResult::GetChildren(_) => 8,
                    _ => -1,
                };
                assert_eq!(code, listed_type, "{context}");
            }
        }
        _ => {}
    }
    if let Response::Create(path) | Response::Sync(path) = &response {
        assert_eq!(first(&listed, "path"), Some(path.as_str()), "{context}");
    }
    if let Response::Children(children) | Response::Children2 { children, .. } = &response {
        let start = meaning.find("children=vector[").unwrap();
        let count: usize = meaning[start + 16..]
            .split(']')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(children.len(), count, "{context}");
        for child in children {
            assert!(
                meaning.contains(&format!("\"{child}\"")),
                "{context}: {child}"
            );
        }
    }
    let mut again = Vec::new();
    Response::encode_frame(header, &response, &mut again);
    if meaning.contains("null(-1)") {
        assert_eq!(again.len(), bytes.len(), "{context}");
    } else {
        assert_eq!(again, bytes, "{context}");
    }
}

#[test]
fn every_captured_frame_decodes_to_its_listed_fields_and_reencodes() {
    let files = load();
    assert!(
        files.len() >= 43,
        "expected the 43 captured files, found {}",
        files.len()
    );
    let mut tally = Tally::default();
    for (name, frames) in &files {
        if name == "four-letter-words" {
            continue;
        }
        replay(name, frames, &mut tally);
    }
    eprintln!(
        "checked {} requests, {} replies, {} notifications, {} connect frames, {} stats",
        tally.requests, tally.replies, tally.notifications, tally.connects, tally.stats
    );
    assert!(
        tally.requests >= 100,
        "requests checked: {}",
        tally.requests
    );
    assert!(tally.replies >= 100, "replies checked: {}", tally.replies);
    assert!(
        tally.notifications >= 20,
        "notifications: {}",
        tally.notifications
    );
    assert!(tally.connects >= 80, "connect frames: {}", tally.connects);
    assert!(tally.stats >= 30, "stats compared: {}", tally.stats);
}

#[test]
fn four_letter_words_never_pass_for_frames() {
    let files = load();
    let (_, frames) = files
        .iter()
        .find(|(n, _)| n == "four-letter-words")
        .unwrap();
    let mut commands = 0;
    for frame in frames.iter().filter(|f| f.direction == "request") {
        let bytes = unhex(&frame.hex);
        assert_eq!(bytes.len(), 4, "{}", frame.meaning);
        assert!(
            bytes.iter().all(u8::is_ascii_lowercase),
            "{}",
            frame.meaning
        );
        // Read as a length prefix, any command is far over the packet limit.
        assert!(payload_len([bytes[0], bytes[1], bytes[2], bytes[3]], DEFAULT_MAX_PACKET).is_err());
        commands += 1;
    }
    assert!(commands >= 5);
}
