//! Fuzz target `decode`: arbitrary bytes through every zk-core decoder that reads network input.
//!
//! Input: one opcode byte, then a byte stream.
//! The opcode byte is read as a signed code (`0x04` getData, `0xf5` closeSession, `0xff` the
//! multi error type); a byte that is no opcode picks one from the list of all opcodes, so every
//! byte value exercises some reply decoder.
//!
//! The stream is decoded three ways:
//! - whole, as one frame payload, by every decoder;
//! - split into frames with `next_frame` at the default packet limit, as the client reads its
//!   socket, each payload going through every decoder;
//! - split again with a small limit, which must refuse big frames without reading them.
//!
//! "Every decoder" is `ConnectResponse::decode` (the handshake), `Incoming::parse` and then
//! `Response::decode` for the chosen opcode (the connection loop), `Response::decode` on the
//! raw payload, `Request::decode` and `ConnectRequest::decode` (test servers).
//! Anything decoded is encoded again and must decode to the same value.
#![no_main]
#![forbid(unsafe_code)]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use zk_core::proto::frame::next_frame;
use zk_core::proto::response::encode_notification;
use zk_core::proto::{ConnectRequest, ConnectResponse, Incoming, OpCode, Request, Response};
use zk_core::{EventType, SessionState};

/// Every opcode zk-core knows (all fit in a signed byte).
static OPCODES: LazyLock<Vec<OpCode>> = LazyLock::new(|| {
    (i8::MIN..=i8::MAX)
        .filter_map(|c| OpCode::from_code(c.into()))
        .collect()
});

/// The packet limit the client uses unless configured otherwise.
const DEFAULT_MAX: usize = zk_core::DEFAULT_MAX_PACKET;
/// A small limit, so that refused frames are common.
const SMALL_MAX: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let op = OpCode::from_code(i32::from(selector as i8))
        .unwrap_or_else(|| OPCODES[usize::from(selector) % OPCODES.len()]);

    decode_payload(op, stream);
    for max in [DEFAULT_MAX, SMALL_MAX] {
        let mut rest = stream;
        loop {
            match next_frame(rest, max) {
                Ok(Some((range, used))) => {
                    assert!(range.end == used && range.start == 4 && used <= rest.len());
                    assert!(range.len() <= max, "frame over the limit accepted");
                    // The small limit only checks framing; the payloads were decoded above.
                    if max == DEFAULT_MAX {
                        decode_payload(op, &rest[range]);
                    }
                    rest = &rest[used..];
                }
                Ok(None) => break,
                Err(_) => break,
            }
        }
    }
});

/// One frame payload through every decoder; whatever decodes must survive a round trip.
fn decode_payload(op: OpCode, payload: &[u8]) {
    if let Ok(response) = ConnectResponse::decode(payload) {
        let mut frame = Vec::new();
        response.encode_frame(&mut frame);
        let again = ConnectResponse::decode(&frame[4..]).expect("re-encoded ConnectResponse");
        assert_eq!(again, response);
    }
    if let Ok(request) = ConnectRequest::decode(payload) {
        let mut frame = Vec::new();
        request.encode_frame(&mut frame);
        let again = ConnectRequest::decode(&frame[4..]).expect("re-encoded ConnectRequest");
        assert_eq!(again, request);
    }
    match Incoming::parse(payload) {
        Ok(Incoming::Reply { header, body }) => {
            if header.err != 0 {
                assert!(body.is_empty(), "an error reply has no body");
            }
            // The client's error path: a message naming the operation, never a panic.
            let _ = zk_core::Error::from_code(header.err, "/", -1, op.name());
            decode_response(op, body);
        }
        Ok(Incoming::Notification(event)) => {
            let _ = EventType::from_code(event.event_type);
            let _ = SessionState::from_code(event.state);
            let mut frame = Vec::new();
            encode_notification(&event, 0, &mut frame);
            let again = Incoming::parse(&frame[4..]).expect("re-encoded notification");
            assert_eq!(again, Incoming::Notification(event));
        }
        Err(_) => {}
    }
    decode_response(op, payload);
    if let Ok((xid, request)) = Request::decode(payload) {
        let mut frame = Vec::new();
        request.encode_frame(xid, &mut frame);
        let again = Request::decode(&frame[4..]).expect("re-encoded request");
        assert_eq!(again, (xid, request));
    }
}

fn decode_response(op: OpCode, body: &[u8]) {
    if let Ok(response) = Response::decode(op, body) {
        let mut again = Vec::new();
        response.encode_body(&mut again);
        let decoded = Response::decode(op, &again).expect("re-encoded response body");
        assert_eq!(decoded, response);
    }
}
