//! How values become node data and back: JSON by default, raw bytes, and the two counter
//! encodings other libraries use (kazoo's decimal text, Curator's 4-byte integer).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Turns values of type `T` into node data and back.
///
/// Implement it for another format (TOML, protobuf, ...): `encode` and `decode` should round
/// trip, and `decode` must return an error, never panic, on data it does not understand (the
/// data may have been written by anyone).
pub trait Codec<T>: Send + Sync + 'static {
    /// The node data for `value`.
    ///
    /// # Errors
    /// A description of why `value` cannot be encoded.
    fn encode(&self, value: &T) -> Result<Vec<u8>, String>;

    /// The value in `data`, which is never empty (an empty node holds no value).
    ///
    /// # Errors
    /// A description of why `data` is not a value.
    fn decode(&self, data: &[u8]) -> Result<T, String>;
}

/// JSON through serde (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json;

impl<T: Serialize + DeserializeOwned> Codec<T> for Json {
    fn encode(&self, value: &T) -> Result<Vec<u8>, String> {
        serde_json::to_vec(value).map_err(|e| e.to_string())
    }

    fn decode(&self, data: &[u8]) -> Result<T, String> {
        serde_json::from_slice(data).map_err(|e| e.to_string())
    }
}

/// The node data as it is, for values that are bytes already.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Raw;

impl Codec<Vec<u8>> for Raw {
    fn encode(&self, value: &Vec<u8>) -> Result<Vec<u8>, String> {
        Ok(value.clone())
    }

    fn decode(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        Ok(data.to_vec())
    }
}

/// An integer as ASCII decimal text, as kazoo's `Counter` stores it (`repr` of a Python int).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decimal;

impl Codec<i64> for Decimal {
    fn encode(&self, value: &i64) -> Result<Vec<u8>, String> {
        Ok(value.to_string().into_bytes())
    }

    fn decode(&self, data: &[u8]) -> Result<i64, String> {
        let text = std::str::from_utf8(data).map_err(|_| "not ASCII text".to_owned())?;
        text.trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an integer"))
    }
}

/// An integer as 4 bytes, big-endian two's complement: Curator's `SharedCount`, and kazoo's
/// `Counter` with `support_curator=True`. Values outside `i32` cannot be written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SharedCount;

impl Codec<i64> for SharedCount {
    fn encode(&self, value: &i64) -> Result<Vec<u8>, String> {
        i32::try_from(*value)
            .map(|v| v.to_be_bytes().to_vec())
            .map_err(|_| format!("{value} does not fit the 4-byte SharedCount format"))
    }

    fn decode(&self, data: &[u8]) -> Result<i64, String> {
        let bytes: [u8; 4] = data
            .try_into()
            .map_err(|_| format!("{} bytes, where SharedCount stores 4", data.len()))?;
        Ok(i64::from(i32::from_be_bytes(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_match_what_kazoo_and_curator_write() {
        // kazoo: repr(42).encode('ascii'); Curator: ByteBuffer.putInt(-2).
        assert_eq!(Decimal.encode(&42).unwrap(), b"42");
        assert_eq!(SharedCount.encode(&-2).unwrap(), [0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(SharedCount.decode(&[0, 0, 1, 0]).unwrap(), 256);
        assert!(SharedCount.encode(&(1 << 40)).is_err());
        assert!(SharedCount.decode(b"12345").is_err());
        assert!(Decimal.decode(b"4.5").is_err());
        assert!(Decimal.decode(&[0xff, 0x00]).is_err());
        assert!(<Json as Codec<u32>>::decode(&Json, b"{oops").is_err());
    }

    proptest! {
        #[test]
        fn codecs_round_trip(n in any::<i64>(), m in any::<i32>(), bytes in proptest::collection::vec(any::<u8>(), 1..64)) {
            prop_assert_eq!(Decimal.decode(&Decimal.encode(&n).unwrap()).unwrap(), n);
            let m = i64::from(m);
            prop_assert_eq!(SharedCount.decode(&SharedCount.encode(&m).unwrap()).unwrap(), m);
            prop_assert_eq!(Raw.decode(&Raw.encode(&bytes).unwrap()).unwrap(), bytes.clone());
            let json: Vec<u8> = Json.decode(&Json.encode(&bytes).unwrap()).unwrap();
            prop_assert_eq!(json, bytes);
        }

        /// Whatever another library left in the node, decoding answers and never panics.
        #[test]
        fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 1..64)) {
            let _ = Decimal.decode(&data);
            let _ = SharedCount.decode(&data);
            let _ = <Json as Codec<serde_json::Value>>::decode(&Json, &data);
        }
    }
}
