//! Jute, ZooKeeper's record encoding: big-endian integers, length-prefixed buffers, strings and
//! vectors, with every length checked against the bytes actually present before allocating.

use crate::error::{Error, Result};

/// Reads jute values from a byte slice; every failure is an [`Error::Protocol`].
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::protocol(format!(
                "truncated {what}: need {n} bytes, have {}",
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// A big-endian `int`.
    pub fn read_i32(&mut self) -> Result<i32> {
        let b = self.take(4, "int")?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A big-endian `long`.
    pub fn read_i64(&mut self) -> Result<i64> {
        let b = self.take(8, "long")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    /// A `boolean` (any non-zero byte is true).
    pub fn read_bool(&mut self) -> Result<bool> {
        Ok(self.take(1, "boolean")?[0] != 0)
    }

    fn read_len(&mut self, what: &str) -> Result<Option<usize>> {
        let len = self.read_i32()?;
        match len {
            -1 => Ok(None),
            n if n < 0 => Err(Error::protocol(format!("negative {what} length {n}"))),
            n => Ok(Some(n as usize)),
        }
    }

    /// A `buffer`; null (-1) reads as empty.
    pub fn read_buffer(&mut self) -> Result<Vec<u8>> {
        Ok(self.read_buffer_opt()?.unwrap_or_default())
    }

    /// A `buffer`, keeping null apart from empty.
    pub fn read_buffer_opt(&mut self) -> Result<Option<Vec<u8>>> {
        match self.read_len("buffer")? {
            None => Ok(None),
            Some(n) => Ok(Some(self.take(n, "buffer")?.to_vec())),
        }
    }

    /// A `ustring`; null (-1) reads as empty.
    pub fn read_string(&mut self) -> Result<String> {
        Ok(self.read_string_opt()?.unwrap_or_default())
    }

    /// A `ustring`, keeping null apart from empty.
    pub fn read_string_opt(&mut self) -> Result<Option<String>> {
        match self.read_len("string")? {
            None => Ok(None),
            Some(n) => {
                let bytes = self.take(n, "string")?;
                String::from_utf8(bytes.to_vec())
                    .map(Some)
                    .map_err(|_| Error::protocol("string is not UTF-8"))
            }
        }
    }

    /// A `vector<T>` whose elements take at least `min_element` bytes each; null reads as empty.
    ///
    /// The count is checked against the bytes left before anything is allocated.
    pub fn read_vec<T>(
        &mut self,
        min_element: usize,
        mut element: impl FnMut(&mut Reader<'a>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let Some(count) = self.read_len("vector")? else {
            return Ok(Vec::new());
        };
        if count.saturating_mul(min_element.max(1)) > self.remaining() {
            return Err(Error::protocol(format!(
                "vector of {count} elements does not fit in {} bytes",
                self.remaining()
            )));
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(element(self)?);
        }
        Ok(out)
    }

    /// A `vector<ustring>`.
    pub fn read_strings(&mut self) -> Result<Vec<String>> {
        self.read_vec(4, Reader::read_string)
    }

    /// Fails unless every byte was read.
    pub fn finish(&self, what: &str) -> Result<()> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Error::protocol(format!(
                "{} unexpected bytes after {what}",
                self.remaining()
            )))
        }
    }
}

/// Jute writing on any `Vec<u8>`.
pub trait WriteJute {
    /// Appends an `int`.
    fn put_i32(&mut self, v: i32);
    /// Appends a `long`.
    fn put_i64(&mut self, v: i64);
    /// Appends a `boolean`.
    fn put_bool(&mut self, v: bool);
    /// Appends a `buffer`.
    fn put_buffer(&mut self, v: &[u8]);
    /// Appends a null `buffer` (-1).
    fn put_null(&mut self);
    /// Appends a `ustring`.
    fn put_str(&mut self, v: &str);
    /// Appends a `vector<ustring>`.
    fn put_strings<S: AsRef<str>>(&mut self, v: &[S]);
}

impl WriteJute for Vec<u8> {
    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_i64(&mut self, v: i64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_bool(&mut self, v: bool) {
        self.push(u8::from(v));
    }
    fn put_buffer(&mut self, v: &[u8]) {
        self.put_i32(v.len() as i32);
        self.extend_from_slice(v);
    }
    fn put_null(&mut self) {
        self.put_i32(-1);
    }
    fn put_str(&mut self, v: &str) {
        self.put_buffer(v.as_bytes());
    }
    fn put_strings<S: AsRef<str>>(&mut self, v: &[S]) {
        self.put_i32(v.len() as i32);
        for s in v {
            self.put_str(s.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn primitives_round_trip() {
        let mut out = Vec::new();
        out.put_i32(-2);
        out.put_i64(0x0100_000b_06dc_0000);
        out.put_bool(true);
        out.put_buffer(b"v1");
        out.put_null();
        out.put_str("/a");
        out.put_strings(&["x", "y"]);
        let mut r = Reader::new(&out);
        assert_eq!(r.read_i32().unwrap(), -2);
        assert_eq!(r.read_i64().unwrap(), 0x0100_000b_06dc_0000);
        assert!(r.read_bool().unwrap());
        assert_eq!(r.read_buffer().unwrap(), b"v1");
        assert_eq!(r.read_buffer_opt().unwrap(), None);
        assert_eq!(r.read_string().unwrap(), "/a");
        assert_eq!(r.read_strings().unwrap(), vec!["x", "y"]);
        r.finish("test").unwrap();
    }

    #[test]
    fn huge_lengths_are_refused_before_allocating() {
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff, 1, 2]);
        assert!(matches!(r.read_buffer(), Err(Error::Protocol(_))));
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff]);
        assert!(matches!(r.read_strings(), Err(Error::Protocol(_))));
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xfe]);
        assert!(matches!(r.read_string(), Err(Error::Protocol(_))));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            let _ = r.read_strings();
            let mut r = Reader::new(&bytes);
            let _ = r.read_buffer();
            let _ = r.read_i64();
        }
    }
}
