//! Client-side request checks shared by every backend, so both reject bad input identically
//! before anything reaches a server.

use crate::error::{Error, Result};
use crate::limits;
use crate::path::validate_path;
use crate::types::acl::Acl;
use crate::types::create::CreateOptions;
use crate::types::op::{Op, ReadOp};

/// Checks a create: path rules, TTL and size.
///
/// # Errors
/// [`Error::InvalidPath`], [`Error::BadArguments`] or [`Error::TooLarge`].
pub fn create(path: &str, data: &[u8], options: &CreateOptions, max_packet: usize) -> Result<()> {
    options.validate(path)?;
    limits::check_size(path, limits::create_len(path, data, options), max_packet)
}

/// Checks a setData: path rules and size.
///
/// # Errors
/// [`Error::InvalidPath`] or [`Error::TooLarge`].
pub fn set_data(path: &str, data: &[u8], max_packet: usize) -> Result<()> {
    validate_path(path)?;
    limits::check_size(path, limits::set_data_len(path, data), max_packet)
}

/// Checks a setACL: path rules and size.
///
/// # Errors
/// [`Error::InvalidPath`] or [`Error::TooLarge`].
pub fn set_acl(path: &str, acl: &[Acl], max_packet: usize) -> Result<()> {
    validate_path(path)?;
    limits::check_size(path, limits::set_acl_len(path, acl), max_packet)
}

/// Checks every operation of a multi, then the size of the whole request.
///
/// # Errors
/// [`Error::Multi`] naming the first invalid operation, or [`Error::TooLarge`].
pub fn multi(ops: &[Op], max_packet: usize) -> Result<()> {
    for (index, op) in ops.iter().enumerate() {
        let checked = match op {
            Op::Create { path, options, .. } => options.validate(path),
            Op::Delete { path, .. } | Op::SetData { path, .. } | Op::Check { path, .. } => {
                validate_path(path)
            }
        };
        checked.map_err(|source| Error::Multi {
            index,
            source: Box::new(source),
        })?;
    }
    let first = ops.first().map(Op::path).unwrap_or("/");
    limits::check_size(first, limits::multi_len(ops), max_packet)
}

/// Checks every read of a multiRead.
///
/// # Errors
/// [`Error::Multi`] naming the first invalid read.
pub fn multi_read(ops: &[ReadOp]) -> Result<()> {
    for (index, op) in ops.iter().enumerate() {
        validate_path(op.path()).map_err(|source| Error::Multi {
            index,
            source: Box::new(source),
        })?;
    }
    Ok(())
}

/// Checks the prefix of getEphemerals: empty, or a valid path.
///
/// # Errors
/// [`Error::InvalidPath`].
pub fn ephemerals_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() {
        Ok(())
    } else {
        validate_path(prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_names_the_bad_operation() {
        let ops = [
            Op::check("/ok", None),
            Op::delete("/bad/", None),
            Op::delete("//", None),
        ];
        let err = multi(&ops, crate::DEFAULT_MAX_PACKET).unwrap_err();
        assert_eq!(err.multi_index(), Some(1));
        assert!(matches!(err.root(), Error::InvalidPath { .. }));
    }

    #[test]
    fn oversized_create_is_refused() {
        let data = vec![7u8; crate::DEFAULT_MAX_PACKET];
        assert!(matches!(
            create(
                "/x",
                &data,
                &CreateOptions::persistent(),
                crate::DEFAULT_MAX_PACKET
            ),
            Err(Error::TooLarge { .. })
        ));
    }
}
