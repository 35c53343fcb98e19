//! Framing: a 4-byte big-endian length, then exactly that many bytes.

use crate::error::{Error, Result};

/// Fills in the length prefix of a frame written from `start` (which reserved 4 bytes).
pub fn patch_length(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// The payload length announced by a frame's 4-byte prefix, refused when negative or over
/// `max` (nothing is allocated for a refused frame).
pub fn payload_len(prefix: [u8; 4], max: usize) -> Result<usize> {
    let len = i32::from_be_bytes(prefix);
    if len < 0 {
        return Err(Error::protocol(format!("negative frame length {len}")));
    }
    let len = len as usize;
    if len > max {
        return Err(Error::protocol(format!(
            "frame of {len} bytes exceeds the {max} byte limit"
        )));
    }
    Ok(len)
}

/// Splits complete frames off the front of a receive buffer.
///
/// Returns the payload range of the first complete frame and the number of bytes it occupies,
/// `Ok(None)` when more bytes are needed, or an error for a bad length.
pub fn next_frame(buf: &[u8], max: usize) -> Result<Option<(std::ops::Range<usize>, usize)>> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(None);
    };
    let len = payload_len([prefix[0], prefix[1], prefix[2], prefix[3]], max)?;
    if buf.len() < 4 + len {
        return Ok(None);
    }
    Ok(Some((4..4 + len, 4 + len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_and_refuse_bad_lengths() {
        let buf = [0, 0, 0, 2, 9, 9, 0, 0];
        assert_eq!(next_frame(&buf, 100).unwrap(), Some((4..6, 6)));
        assert_eq!(next_frame(&buf[..5], 100).unwrap(), None);
        assert!(next_frame(&[0x7f, 0xff, 0xff, 0xff], 0xfffff).is_err());
        assert!(next_frame(&[0xff, 0xff, 0xff, 0xff], 0xfffff).is_err());
    }
}
