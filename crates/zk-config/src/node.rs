//! Writing one node under an expectation, riding out connection loss without ever applying a
//! write twice: the rule the store, the tree and the counter share.

use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error};

use crate::error::ConfigError;
use crate::versioned::Version;

/// What a write expects of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Nothing: write whatever is there (creating the node and its parents if needed).
    Any,
    /// The node must not exist.
    Absent,
    /// The node must be at this data version.
    Version(i32),
}

impl Expect {
    /// The expectation of a compare-and-set that read `expected` (`None`: no node).
    pub(crate) fn from_read(expected: Option<i32>) -> Expect {
        expected.map_or(Expect::Absent, Expect::Version)
    }

    fn expected(self) -> Option<i32> {
        match self {
            Expect::Version(v) => Some(v),
            Expect::Any | Expect::Absent => None,
        }
    }
}

/// Writes `data` to `path` as `expect` says and returns the written version.
///
/// After a lost reply it reads the node to find out whether the write was applied: retried
/// when it certainly was not, and for [`Expect::Any`] (writing the same bytes twice is
/// harmless); otherwise `ConnectionLoss` (it may or may not have been applied).
///
/// # Errors
/// [`ConfigError::Conflict`] when the node is not as expected; ZooKeeper's errors.
pub(crate) async fn write<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    data: &[u8],
    expect: Expect,
) -> Result<Version, ConfigError> {
    let conflict = || ConfigError::Conflict {
        path: path.to_owned(),
        expected: expect.expected(),
    };
    loop {
        let written = match expect {
            Expect::Any => match zk.set_data(path, data, None).await {
                Err(Error::NoNode { .. }) => create(zk, path, data).await,
                other => other.map(|stat| Version::from(&stat)),
            },
            Expect::Absent => create(zk, path, data).await,
            Expect::Version(v) => zk
                .set_data(path, data, Some(v))
                .await
                .map(|stat| Version::from(&stat)),
        };
        let error = match written {
            Ok(version) => return Ok(version),
            // Lost a race with a creator: write over it.
            Err(Error::NodeExists { .. }) if expect == Expect::Any => continue,
            Err(Error::NodeExists { .. } | Error::BadVersion { .. }) => return Err(conflict()),
            Err(Error::NoNode { .. }) if matches!(expect, Expect::Version(_)) => {
                return Err(conflict());
            }
            Err(e) => e,
        };
        if !error.is_retryable() {
            return Err(error.into());
        }
        zk.recover(error.clone()).await?;
        if expect == Expect::Any {
            continue;
        }
        // The reply was lost: see whether the write happened.
        let now = loop {
            match zk.get_if_exists(path).await {
                Ok(now) => break now,
                Err(e) => zk.recover(e).await?,
            }
        };
        let not_applied = match (expect, &now) {
            (Expect::Absent, None) => true,
            (Expect::Version(v), Some((_, stat))) if stat.version == v => true,
            // Someone else's write came first, so ours failed its check.
            (Expect::Version(v), Some((stored, stat))) if stat.version == v + 1 => {
                if stored != data {
                    return Err(conflict());
                }
                false
            }
            (Expect::Version(_), None) => return Err(conflict()),
            // Another creator's bytes: our create certainly failed.
            (Expect::Absent, Some((stored, _))) if stored != data => return Err(conflict()),
            _ => false,
        };
        if !not_applied {
            return Err(error.into());
        }
    }
}

async fn create<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    data: &[u8],
) -> Result<Version, Error> {
    let created = zk
        .create_with_parents(path, data, &CreateOptions::persistent())
        .await?;
    Ok(Version::from(&created.stat))
}

/// Deletes `path` (only at data version `expected`, if given); returns whether it existed.
///
/// # Errors
/// [`ConfigError::Conflict`] for another version; ZooKeeper's errors.
pub(crate) async fn delete<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    expected: Option<i32>,
) -> Result<bool, ConfigError> {
    match zk.delete_if_exists(path, expected).await {
        Err(Error::BadVersion { .. }) => Err(ConfigError::Conflict {
            path: path.to_owned(),
            expected,
        }),
        other => Ok(other?),
    }
}
