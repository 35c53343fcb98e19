//! The permit count stored with a semaphore: how it is written, read back and agreed on.
//!
//! The count lives in the data of the semaphore's node as ASCII decimal (`b"3"`), the format
//! kazoo's `Semaphore` also uses for its `max_leases`. The node is created with it; a node
//! created without data (by the engine after a sweep, by another library, by hand) gets it by
//! compare-and-set. A count, once written, is never changed: a handle with another count gets
//! [`SemaphoreError::PermitsMismatch`], and data that is not a count is
//! [`SemaphoreError::InvalidPermitsData`].

use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error, Stat};

use crate::error::SemaphoreError;

/// What a semaphore node's data says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// No data yet: the count may be written.
    Unset,
    /// A permit count.
    Permits(u32),
}

/// The data written for `permits`.
pub(crate) fn encode(permits: u32) -> Vec<u8> {
    permits.to_string().into_bytes()
}

/// Reads a semaphore node's data: empty is [`Stored::Unset`]; ASCII decimal digits (ASCII
/// whitespace around them is tolerated, as from a hand-written `echo 3`) are a count of at
/// least 1; anything else, including 0 and counts beyond `u32`, is an error naming what was
/// found.
pub(crate) fn decode(path: &str, data: &[u8]) -> Result<Stored, SemaphoreError> {
    if data.is_empty() {
        return Ok(Stored::Unset);
    }
    let invalid = || SemaphoreError::InvalidPermitsData {
        path: path.to_owned(),
        found: printable(data),
    };
    let text = std::str::from_utf8(data).map_err(|_| invalid())?;
    let digits = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match digits.parse::<u32>() {
        Ok(0) | Err(_) => Err(invalid()),
        Ok(permits) => Ok(Stored::Permits(permits)),
    }
}

/// `data` for an error message: quoted text when it is short printable UTF-8, else hex.
fn printable(data: &[u8]) -> String {
    const SHOWN: usize = 64;
    let shown = &data[..data.len().min(SHOWN)];
    let more = if data.len() > SHOWN { "…" } else { "" };
    match std::str::from_utf8(shown) {
        Ok(text) if !text.chars().any(char::is_control) || text.trim().is_empty() => {
            format!("{text:?}{more}")
        }
        _ => {
            let hex: String = shown.iter().map(|b| format!("{b:02x}")).collect();
            format!("0x{hex}{more} ({} bytes)", data.len())
        }
    }
}

/// Makes sure the node at `path` exists and stores `permits`: reads it, writes the count if
/// the node is missing (as a container, ancestors too) or has no data, and compares otherwise.
/// Returns the node's Stat as of the check, whose `mzxid` tells later listings whether the data
/// may have changed since.
///
/// Connection loss is ridden out.
///
/// # Errors
/// [`SemaphoreError::PermitsMismatch`], [`SemaphoreError::InvalidPermitsData`], and ZooKeeper
/// failures that retrying cannot cure.
pub(crate) async fn ensure<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    permits: u32,
) -> Result<Stat, SemaphoreError> {
    let data = encode(permits);
    loop {
        let (found, stat) = match zk.get_data(path).await {
            Ok(found) => found,
            Err(Error::NoNode { .. }) => {
                match create(zk, path, &data).await {
                    Ok(stat) => return Ok(stat),
                    // Created meanwhile by someone else (or by our own lost reply): read it.
                    Err(Error::NodeExists { .. }) => continue,
                    Err(e) => {
                        zk.recover(e).await?;
                        continue;
                    }
                }
            }
            Err(e) => {
                zk.recover(e).await?;
                continue;
            }
        };
        match decode(path, &found)? {
            Stored::Permits(stored) if stored == permits => return Ok(stat),
            Stored::Permits(stored) => {
                return Err(SemaphoreError::PermitsMismatch {
                    path: path.to_owned(),
                    ours: permits,
                    stored,
                });
            }
            Stored::Unset => match zk.set_data(path, &data, Some(stat.version)).await {
                Ok(stat) => return Ok(stat),
                // Someone wrote first, or the node went: read again.
                Err(Error::BadVersion { .. } | Error::NoNode { .. }) => {}
                Err(e) => zk.recover(e).await?,
            },
        }
    }
}

/// Creates the semaphore node with `data` as a container, creating missing ancestors as
/// containers too.
async fn create<C: Coordinator + ?Sized>(zk: &C, path: &str, data: &[u8]) -> Result<Stat, Error> {
    let options = CreateOptions::container();
    match zk.create(path, data, &options).await {
        Err(Error::NoNode { .. }) => {
            if let Some(parent) = zk_core::path::parent(path) {
                match zk.ensure_container_path(parent).await {
                    // A swept ancestor: the create below fails again and the caller retries.
                    Ok(()) | Err(Error::NoNode { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            zk.create(path, data, &options).await.map(|c| c.stat)
        }
        created => created.map(|c| c.stat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(data: &[u8]) -> String {
        match decode("/s", data) {
            Err(SemaphoreError::InvalidPermitsData { path, found }) => {
                assert_eq!(path, "/s");
                found
            }
            other => panic!("{data:?} decoded to {other:?}"),
        }
    }

    #[test]
    fn counts_round_trip() {
        for permits in [1, 3, 10, 4096, u32::MAX] {
            assert_eq!(decode("/s", &encode(permits)), Ok(Stored::Permits(permits)));
        }
        assert_eq!(encode(3), b"3");
    }

    #[test]
    fn empty_data_is_unset_and_surrounding_whitespace_is_tolerated() {
        assert_eq!(decode("/s", b""), Ok(Stored::Unset));
        assert_eq!(decode("/s", b"3\n"), Ok(Stored::Permits(3)));
        assert_eq!(decode("/s", b" 12 "), Ok(Stored::Permits(12)));
    }

    #[test]
    fn anything_else_is_invalid_and_says_what_it_found() {
        assert_eq!(found(b"three"), "\"three\"");
        assert_eq!(found(b"0"), "\"0\"");
        assert_eq!(found(b"-3"), "\"-3\"");
        assert_eq!(found(b"+3"), "\"+3\"");
        assert_eq!(found(b"3.0"), "\"3.0\"");
        assert_eq!(found(b"4294967296"), "\"4294967296\"", "beyond u32");
        assert_eq!(found(b"  "), "\"  \"");
        assert_eq!(found(b"\xff\x00"), "0xff00 (2 bytes)");
        assert_eq!(
            found(b"127.0.0.1"),
            "\"127.0.0.1\"",
            "Curator's default node data"
        );
        let long = vec![b'x'; 100];
        assert!(found(&long).ends_with("\"…"), "{}", found(&long));
    }
}
