//! Operation codes of the request header.

/// A request type on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpCode {
    /// 1
    Create,
    /// 2
    Delete,
    /// 3
    Exists,
    /// 4
    GetData,
    /// 5
    SetData,
    /// 6
    GetAcl,
    /// 7
    SetAcl,
    /// 8
    GetChildren,
    /// 9
    Sync,
    /// 11
    Ping,
    /// 12
    GetChildren2,
    /// 13 (inside multi only)
    Check,
    /// 14
    Multi,
    /// 15
    Create2,
    /// 16
    Reconfig,
    /// 17
    CheckWatches,
    /// 18
    RemoveWatches,
    /// 19
    CreateContainer,
    /// 21
    CreateTtl,
    /// 22
    MultiRead,
    /// 100
    Auth,
    /// 101
    SetWatches,
    /// 102
    Sasl,
    /// 103
    GetEphemerals,
    /// 104
    GetAllChildrenNumber,
    /// 105
    SetWatches2,
    /// 106
    AddWatch,
    /// 107
    WhoAmI,
    /// -11
    CloseSession,
    /// -1, the type of an error result inside a multi reply
    Error,
}

impl OpCode {
    /// The code on the wire.
    pub fn code(self) -> i32 {
        match self {
            OpCode::Create => 1,
            OpCode::Delete => 2,
            OpCode::Exists => 3,
            OpCode::GetData => 4,
            OpCode::SetData => 5,
            OpCode::GetAcl => 6,
            OpCode::SetAcl => 7,
            OpCode::GetChildren => 8,
            OpCode::Sync => 9,
            OpCode::Ping => 11,
            OpCode::GetChildren2 => 12,
            OpCode::Check => 13,
            OpCode::Multi => 14,
            OpCode::Create2 => 15,
            OpCode::Reconfig => 16,
            OpCode::CheckWatches => 17,
            OpCode::RemoveWatches => 18,
            OpCode::CreateContainer => 19,
            OpCode::CreateTtl => 21,
            OpCode::MultiRead => 22,
            OpCode::Auth => 100,
            OpCode::SetWatches => 101,
            OpCode::Sasl => 102,
            OpCode::GetEphemerals => 103,
            OpCode::GetAllChildrenNumber => 104,
            OpCode::SetWatches2 => 105,
            OpCode::AddWatch => 106,
            OpCode::WhoAmI => 107,
            OpCode::CloseSession => -11,
            OpCode::Error => -1,
        }
    }

    /// The opcode for a code on the wire, if this client knows it.
    pub fn from_code(code: i32) -> Option<OpCode> {
        const ALL: [OpCode; 30] = [
            OpCode::Create,
            OpCode::Delete,
            OpCode::Exists,
            OpCode::GetData,
            OpCode::SetData,
            OpCode::GetAcl,
            OpCode::SetAcl,
            OpCode::GetChildren,
            OpCode::Sync,
            OpCode::Ping,
            OpCode::GetChildren2,
            OpCode::Check,
            OpCode::Multi,
            OpCode::Create2,
            OpCode::Reconfig,
            OpCode::CheckWatches,
            OpCode::RemoveWatches,
            OpCode::CreateContainer,
            OpCode::CreateTtl,
            OpCode::MultiRead,
            OpCode::Auth,
            OpCode::SetWatches,
            OpCode::Sasl,
            OpCode::GetEphemerals,
            OpCode::GetAllChildrenNumber,
            OpCode::SetWatches2,
            OpCode::AddWatch,
            OpCode::WhoAmI,
            OpCode::CloseSession,
            OpCode::Error,
        ];
        ALL.into_iter().find(|op| op.code() == code)
    }

    /// The operation's name, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            OpCode::Create => "create",
            OpCode::Delete => "delete",
            OpCode::Exists => "exists",
            OpCode::GetData => "getData",
            OpCode::SetData => "setData",
            OpCode::GetAcl => "getACL",
            OpCode::SetAcl => "setACL",
            OpCode::GetChildren => "getChildren",
            OpCode::Sync => "sync",
            OpCode::Ping => "ping",
            OpCode::GetChildren2 => "getChildren2",
            OpCode::Check => "check",
            OpCode::Multi => "multi",
            OpCode::Create2 => "create2",
            OpCode::Reconfig => "reconfig",
            OpCode::CheckWatches => "checkWatches",
            OpCode::RemoveWatches => "removeWatches",
            OpCode::CreateContainer => "createContainer",
            OpCode::CreateTtl => "createTTL",
            OpCode::MultiRead => "multiRead",
            OpCode::Auth => "auth",
            OpCode::SetWatches => "setWatches",
            OpCode::Sasl => "sasl",
            OpCode::GetEphemerals => "getEphemerals",
            OpCode::GetAllChildrenNumber => "getAllChildrenNumber",
            OpCode::SetWatches2 => "setWatches2",
            OpCode::AddWatch => "addWatch",
            OpCode::WhoAmI => "whoAmI",
            OpCode::CloseSession => "closeSession",
            OpCode::Error => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in -20..120 {
            if let Some(op) = OpCode::from_code(code) {
                assert_eq!(op.code(), code);
            }
        }
        assert_eq!(OpCode::from_code(99), None);
        assert_eq!(OpCode::from_code(0), None);
    }
}
