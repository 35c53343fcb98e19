//! Values with the version they were read at, and what a watcher keeps: the last good value
//! and the newest write it refused.

use zk_core::Stat;

/// Which write of a node a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    /// The node's data version: what a compare-and-set expects.
    pub data_version: i32,
    /// The zxid of the write (strictly increasing across writes, even across re-creations).
    pub mzxid: i64,
    /// The zxid of the node's creation: which incarnation of the node (deleted and created
    /// again, it is another) the write belongs to.
    pub czxid: i64,
}

impl From<&Stat> for Version {
    fn from(stat: &Stat) -> Version {
        Version {
            data_version: stat.version,
            mzxid: stat.mzxid,
            czxid: stat.czxid,
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value (the default when the node is absent or empty).
    pub value: T,
    /// The write it came from; `None` when the node does not exist (the value is the default).
    pub version: Option<Version>,
}

impl<T> Versioned<T> {
    /// The data version a compare-and-set of this value expects (`None`: no node yet).
    pub fn expected(&self) -> Option<i32> {
        self.version.map(|v| v.data_version)
    }
}

/// A write that was read but refused: it did not decode, or failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The refused write.
    pub version: Version,
    /// The bytes as stored.
    pub raw: Vec<u8>,
    /// Why it was refused.
    pub reason: String,
}

/// What a watch of a value holds: the last good value, and the newest refused write if one
/// came after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched<T> {
    /// The last value that decoded and passed validation (or the default).
    pub current: Versioned<T>,
    /// A write newer than `current` that was refused; `None` once a good value replaces it.
    pub rejected: Option<Rejected>,
}

/// What a read found, decoded and checked: the rule every reader applies the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Read<T> {
    /// No node, or a node with empty data (created by `ensure_path`, say): the default.
    Empty(Option<Version>),
    /// A good value.
    Value(Versioned<T>),
    /// A value that did not decode or validate.
    Refused(Rejected),
}

/// Folds a new read into what a watcher holds: a good value (or an absent node) replaces the
/// current value and clears any refusal; a refused write leaves the current value and is
/// remembered. `default` supplies the value of an empty read.
///
/// A refused write keeps only a value of the same incarnation of the node: one read before the
/// node was deleted and created again (the watcher missed the deletion between two reads) gives
/// way to the default, as the deletion would have.
pub(crate) fn fold<T: Clone>(held: &Watched<T>, read: Read<T>, default: &T) -> Watched<T> {
    match read {
        Read::Empty(version) => Watched {
            current: Versioned {
                value: default.clone(),
                version,
            },
            rejected: None,
        },
        Read::Value(current) => Watched {
            current,
            rejected: None,
        },
        Read::Refused(rejected) => Watched {
            current: match held.current.version {
                Some(v) if v.czxid != rejected.version.czxid => Versioned {
                    value: default.clone(),
                    version: None,
                },
                _ => held.current.clone(),
            },
            rejected: Some(rejected),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn version(n: i64) -> Version {
        Version {
            data_version: n as i32,
            mzxid: n,
            czxid: 0,
        }
    }

    #[test]
    fn a_refused_write_to_a_new_incarnation_drops_the_old_value() {
        let old = Watched {
            current: Versioned {
                value: 5u8,
                version: Some(version(3)),
            },
            rejected: None,
        };
        let refused = |czxid| {
            Read::Refused(Rejected {
                version: Version {
                    czxid,
                    ..version(9)
                },
                raw: b"?".to_vec(),
                reason: "garbage".into(),
            })
        };
        assert_eq!(fold(&old, refused(0), &1).current, old.current);
        let recreated = fold(&old, refused(8), &1);
        assert_eq!(recreated.current.value, 1);
        assert_eq!(recreated.current.version, None);
        assert!(recreated.rejected.is_some());
    }

    fn read() -> impl Strategy<Value = Read<u8>> {
        prop_oneof![
            (0i64..100).prop_map(|n| Read::Empty(Some(version(n)))),
            Just(Read::Empty(None)),
            (0i64..100, any::<u8>()).prop_map(|(n, value)| Read::Value(Versioned {
                value,
                version: Some(version(n)),
            })),
            (0i64..100).prop_map(|n| Read::Refused(Rejected {
                version: version(n),
                raw: vec![0xff],
                reason: "garbage".into(),
            })),
        ]
    }

    proptest! {
        /// After any sequence of reads, the current value is the last good (or empty) read,
        /// and a refusal is shown exactly when the last read was refused.
        #[test]
        fn the_last_good_value_survives_refused_writes(reads in proptest::collection::vec(read(), 1..20)) {
            let mut held = Watched { current: Versioned { value: 7u8, version: None }, rejected: None };
            for r in &reads {
                held = fold(&held, r.clone(), &7);
            }
            let last_good = reads.iter().rev().find_map(|r| match r {
                Read::Empty(v) => Some(Versioned { value: 7, version: *v }),
                Read::Value(v) => Some(v.clone()),
                Read::Refused(_) => None,
            }).unwrap_or(Versioned { value: 7, version: None });
            prop_assert_eq!(&held.current, &last_good);
            prop_assert_eq!(held.rejected.is_some(), matches!(reads.last(), Some(Read::Refused(_))));
        }
    }
}
