//! Encoded request sizes, so oversized requests fail with a typed error before anything is sent.
//!
//! Sizes count the frame payload the server checks against `jute.maxbuffer`: the 8-byte request
//! header plus the request record, without the 4-byte length prefix.

use crate::error::{Error, Result};
use crate::types::acl::Acl;
use crate::types::create::CreateOptions;
use crate::types::op::Op;

const HEADER: usize = 8;
const MULTI_HEADER: usize = 9;

fn string_len(s: &str) -> usize {
    4 + s.len()
}

fn acl_len(acl: &[Acl]) -> usize {
    4 + acl
        .iter()
        .map(|a| 4 + string_len(&a.id.scheme) + string_len(&a.id.id))
        .sum::<usize>()
}

fn create_record_len(path: &str, data: &[u8], options: &CreateOptions) -> usize {
    let ttl = if options.mode.is_ttl() { 8 } else { 0 };
    string_len(path) + 4 + data.len() + acl_len(&options.acl) + 4 + ttl
}

/// Size of a create request.
pub fn create_len(path: &str, data: &[u8], options: &CreateOptions) -> usize {
    HEADER + create_record_len(path, data, options)
}

/// Size of a setData request.
pub fn set_data_len(path: &str, data: &[u8]) -> usize {
    HEADER + string_len(path) + 4 + data.len() + 4
}

/// Size of a setACL request.
pub fn set_acl_len(path: &str, acl: &[Acl]) -> usize {
    HEADER + string_len(path) + acl_len(acl) + 4
}

/// Size of a multi request.
pub fn multi_len(ops: &[Op]) -> usize {
    let body: usize = ops
        .iter()
        .map(|op| {
            MULTI_HEADER
                + match op {
                    Op::Create {
                        path,
                        data,
                        options,
                    } => create_record_len(path, data, options),
                    Op::SetData { path, data, .. } => string_len(path) + 4 + data.len() + 4,
                    Op::Delete { path, .. } | Op::Check { path, .. } => string_len(path) + 4,
                }
        })
        .sum();
    HEADER + body + MULTI_HEADER
}

/// Fails with [`Error::TooLarge`] when `size` exceeds `limit`.
pub fn check_size(path: &str, size: usize, limit: usize) -> Result<()> {
    if size > limit {
        Err(Error::TooLarge {
            path: path.to_owned(),
            size,
            limit,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_size_matches_the_captured_frame() {
        // vector create-persistent: create /persistent "hello" open ACL is a 63-byte payload.
        assert_eq!(
            create_len("/persistent", b"hello", &CreateOptions::persistent()),
            63
        );
    }

    #[test]
    fn oversized_requests_are_refused() {
        let data = vec![0; crate::DEFAULT_MAX_PACKET];
        let size = set_data_len("/big", &data);
        assert!(matches!(
            check_size("/big", size, crate::DEFAULT_MAX_PACKET),
            Err(Error::TooLarge { .. })
        ));
        assert!(check_size("/ok", 10, crate::DEFAULT_MAX_PACKET).is_ok());
    }
}
