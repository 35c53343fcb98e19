//! A codec and a validator together: how every reader and writer of the crate turns bytes into
//! checked values and back, written once.

use std::fmt;
use std::sync::Arc;

use zk_core::Stat;

use crate::codec::Codec;
use crate::error::ConfigError;
use crate::versioned::{Read, Rejected, Version, Versioned};

/// A validation rule: `Err(reason)` refuses the value.
pub(crate) type Validator<T> = Arc<dyn Fn(&T) -> Result<(), String> + Send + Sync>;

/// The codec and the optional validator of a store or tree.
pub(crate) struct Format<T, K> {
    codec: Arc<K>,
    validator: Option<Validator<T>>,
}

impl<T, K> Clone for Format<T, K> {
    fn clone(&self) -> Self {
        Format {
            codec: self.codec.clone(),
            validator: self.validator.clone(),
        }
    }
}

impl<T, K: fmt::Debug> fmt::Debug for Format<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Format")
            .field("codec", &self.codec)
            .field("validated", &self.validator.is_some())
            .finish()
    }
}

impl<T, K: Codec<T>> Format<T, K> {
    pub(crate) fn new(codec: K) -> Format<T, K> {
        Format {
            codec: Arc::new(codec),
            validator: None,
        }
    }

    /// This format with `rule` as its validator.
    pub(crate) fn validated(
        mut self,
        rule: impl Fn(&T) -> Result<(), String> + Send + Sync + 'static,
    ) -> Format<T, K> {
        self.validator = Some(Arc::new(rule));
        self
    }

    fn check(&self, value: &T) -> Result<(), String> {
        self.validator.as_ref().map_or(Ok(()), |v| v(value))
    }

    /// What a read of `data` with `stat` holds: empty data is no value (the default), else it
    /// must decode and pass validation.
    pub(crate) fn read(&self, data: &[u8], stat: &Stat) -> Read<T> {
        let version = Version::from(stat);
        if data.is_empty() {
            return Read::Empty(Some(version));
        }
        match self.codec.decode(data).and_then(|value| {
            self.check(&value)?;
            Ok(value)
        }) {
            Ok(value) => Read::Value(Versioned {
                value,
                version: Some(version),
            }),
            Err(reason) => Read::Refused(Rejected {
                version,
                raw: data.to_vec(),
                reason,
            }),
        }
    }

    /// Like [`Format::read`] for a caller that wants the value or an error: the default for an
    /// empty read.
    pub(crate) fn value(
        &self,
        path: &str,
        data: &[u8],
        stat: &Stat,
        default: &T,
    ) -> Result<Versioned<T>, ConfigError>
    where
        T: Clone,
    {
        if data.is_empty() {
            return Ok(Versioned {
                value: default.clone(),
                version: Some(Version::from(stat)),
            });
        }
        self.decoded(path, data, stat)
    }

    /// The value in non-empty `data`, decoded and validated.
    pub(crate) fn decoded(
        &self,
        path: &str,
        data: &[u8],
        stat: &Stat,
    ) -> Result<Versioned<T>, ConfigError> {
        let value = self
            .codec
            .decode(data)
            .map_err(|reason| ConfigError::Decode {
                path: path.to_owned(),
                version: stat.version,
                reason,
            })?;
        self.check(&value).map_err(|reason| ConfigError::Invalid {
            path: path.to_owned(),
            reason,
        })?;
        Ok(Versioned {
            value,
            version: Some(Version::from(stat)),
        })
    }

    /// The bytes to store for `value`, after validation.
    pub(crate) fn write(&self, path: &str, value: &T) -> Result<Vec<u8>, ConfigError> {
        self.check(value).map_err(|reason| ConfigError::Invalid {
            path: path.to_owned(),
            reason,
        })?;
        self.codec
            .encode(value)
            .map_err(|reason| ConfigError::Encode {
                path: path.to_owned(),
                reason,
            })
    }
}
