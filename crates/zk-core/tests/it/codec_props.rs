//! Property tests of the codec: requests and replies round-trip, arbitrary bytes never panic.

use proptest::prelude::*;
use zk_core::proto::{Incoming, MultiResult, OpCode, ReplyHeader, Request, Response};
use zk_core::{Acl, Id, Perms, Stat};

fn path() -> impl Strategy<Value = String> {
    "(/[a-z0-9._-]{1,8}){1,4}"
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..64)
}

fn acl() -> impl Strategy<Value = Vec<Acl>> {
    proptest::collection::vec(
        (0i32..32, "[a-z]{1,6}", "[a-z:0-9=]{0,12}")
            .prop_map(|(p, s, i)| Acl::new(Perms::from_bits_retain(p), Id::new(s, i))),
        0..3,
    )
}

fn stat() -> impl Strategy<Value = Stat> {
    (any::<[i64; 6]>(), any::<[i32; 5]>()).prop_map(|(l, i)| Stat {
        czxid: l[0],
        mzxid: l[1],
        ctime: l[2],
        mtime: l[3],
        version: i[0],
        cversion: i[1],
        aversion: i[2],
        ephemeral_owner: l[4],
        data_length: i[3],
        num_children: i[4],
        pzxid: l[5],
    })
}

fn simple_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (path(), data(), acl(), 0i32..4).prop_map(|(path, data, acl, flags)| Request::Create {
            opcode: OpCode::Create2,
            path,
            data,
            acl,
            flags,
            ttl: None
        }),
        (path(), data(), acl(), 1i64..0xFF_FFFF_FFFF).prop_map(|(path, data, acl, ttl)| {
            Request::Create {
                opcode: OpCode::CreateTtl,
                path,
                data,
                acl,
                flags: 5,
                ttl: Some(ttl),
            }
        }),
        (path(), any::<i32>()).prop_map(|(path, version)| Request::Delete { path, version }),
        (path(), any::<bool>()).prop_map(|(path, watch)| Request::GetData { path, watch }),
        (path(), any::<bool>()).prop_map(|(path, watch)| Request::GetChildren2 { path, watch }),
        (path(), data(), any::<i32>()).prop_map(|(path, data, version)| Request::SetData {
            path,
            data,
            version
        }),
        (path(), acl(), any::<i32>()).prop_map(|(path, acl, version)| Request::SetAcl {
            path,
            acl,
            version
        }),
        (path(), any::<i32>()).prop_map(|(path, version)| Request::Check { path, version }),
        (path(), 0i32..2).prop_map(|(path, mode)| Request::AddWatch { path, mode }),
        ("[a-z]{1,8}", data()).prop_map(|(scheme, auth)| Request::Auth { scheme, auth }),
        (
            any::<i64>(),
            proptest::collection::vec(path(), 0..3),
            proptest::collection::vec(path(), 0..3)
        )
            .prop_map(|(relative_zxid, data, child)| Request::SetWatches2 {
                relative_zxid,
                data,
                exist: Vec::new(),
                child,
                persistent: Vec::new(),
                persistent_recursive: vec!["/".into()],
            }),
        Just(Request::Ping),
        Just(Request::CloseSession),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        4 => simple_request(),
        1 => proptest::collection::vec(simple_request(), 0..4).prop_map(Request::Multi),
    ]
}

fn multi_result() -> impl Strategy<Value = MultiResult> {
    prop_oneof![
        path().prop_map(|path| MultiResult::Create { path }),
        (path(), stat()).prop_map(|(path, stat)| MultiResult::Create2 { path, stat }),
        Just(MultiResult::Delete),
        stat().prop_map(MultiResult::SetData),
        Just(MultiResult::Check),
        (data(), stat()).prop_map(|(data, stat)| MultiResult::GetData { data, stat }),
        proptest::collection::vec("[a-z]{1,5}", 0..4).prop_map(MultiResult::GetChildren),
        (-130i32..0).prop_map(MultiResult::Error),
    ]
}

fn response() -> impl Strategy<Value = (OpCode, Response)> {
    prop_oneof![
        path().prop_map(|p| (OpCode::Create, Response::Create(p))),
        (path(), stat())
            .prop_map(|(path, stat)| (OpCode::Create2, Response::Create2 { path, stat })),
        stat().prop_map(|s| (OpCode::Exists, Response::Stat(s))),
        (data(), stat()).prop_map(|(data, stat)| (OpCode::GetData, Response::Data { data, stat })),
        (acl(), stat()).prop_map(|(acl, stat)| (OpCode::GetAcl, Response::Acl { acl, stat })),
        (proptest::collection::vec("[a-z]{1,5}", 0..5), stat()).prop_map(|(children, stat)| (
            OpCode::GetChildren2,
            Response::Children2 { children, stat }
        )),
        proptest::collection::vec(multi_result(), 0..5)
            .prop_map(|r| (OpCode::Multi, Response::Multi(r))),
        any::<i32>().prop_map(|n| (OpCode::GetAllChildrenNumber, Response::Count(n))),
        Just((OpCode::Delete, Response::Empty)),
    ]
}

proptest! {
    #[test]
    fn requests_round_trip(xid in 1i32..i32::MAX, request in request()) {
        let mut frame = Vec::new();
        request.encode_frame(xid, &mut frame);
        prop_assert_eq!(frame.len() - 4, i32::from_be_bytes(frame[..4].try_into().unwrap()) as usize);
        prop_assert_eq!(Request::decode(&frame[4..]).unwrap(), (xid, request));
    }

    #[test]
    fn replies_round_trip(xid in 1i32..i32::MAX, zxid in any::<i64>(), (op, response) in response()) {
        let header = ReplyHeader { xid, zxid, err: 0 };
        let mut frame = Vec::new();
        Response::encode_frame(header, &response, &mut frame);
        match Incoming::parse(&frame[4..]).unwrap() {
            Incoming::Reply { header: h, body } => {
                prop_assert_eq!(h, header);
                prop_assert_eq!(Response::decode(op, body).unwrap(), response);
            }
            other => prop_assert!(false, "not a reply: {:?}", other),
        }
    }

    #[test]
    fn arbitrary_reply_bytes_decode_to_errors_not_panics(
        payload in proptest::collection::vec(any::<u8>(), 0..256),
        op in proptest::sample::select(vec![
            OpCode::Create, OpCode::Create2, OpCode::GetData, OpCode::GetChildren2, OpCode::GetAcl,
            OpCode::Multi, OpCode::MultiRead, OpCode::WhoAmI, OpCode::GetEphemerals, OpCode::Exists,
        ]),
    ) {
        if let Ok(Incoming::Reply { body, .. }) = Incoming::parse(&payload) {
            let _ = Response::decode(op, body);
        }
        let _ = Request::decode(&payload);
        let _ = zk_core::proto::ConnectResponse::decode(&payload);
    }

    #[test]
    fn truncated_frames_are_errors(request in request(), cut in 1usize..64) {
        let mut frame = Vec::new();
        request.encode_frame(7, &mut frame);
        let payload = &frame[4..];
        if cut < payload.len() {
            prop_assert!(Request::decode(&payload[..payload.len() - cut]).is_err());
        }
    }
}
