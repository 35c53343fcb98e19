//! Connecting with the global options, and ending the session when a command is done.

use zk_core::Coordinator;
use zk_core::client::ZkClient;

use crate::cli::Global;
use crate::exit::{CliError, DENIED, Outcome, UNAVAILABLE};

/// Connects to ZooKeeper as `global` says.
///
/// # Errors
/// Bad `--hosts` or `--auth` (usage), no server answering within the connect timeout
/// (unavailable), credentials refused (denied).
pub(crate) async fn connect(global: &Global) -> Result<ZkClient, CliError> {
    let mut builder = ZkClient::builder(&global.hosts)
        .map_err(|e| CliError::usage(format!("--hosts {:?}: {e}", global.hosts)))?
        .session_timeout(global.session_timeout);
    if let Some(timeout) = global.connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    for auth in &global.auth {
        let (scheme, credentials) = auth.split_once(':').ok_or_else(|| {
            CliError::usage(format!(
                "--auth {auth:?}: expected SCHEME:CREDENTIALS, such as digest:user:password"
            ))
        })?;
        builder = builder.auth(scheme, credentials.as_bytes());
    }
    let waited = global.connect_timeout.unwrap_or(global.session_timeout);
    // The client's own connect timeout bounds each attempt, and it keeps trying for a whole
    // session timeout; `--connect-timeout` bounds the whole wait.
    let connected = tokio::time::timeout(waited, builder.connect())
        .await
        .unwrap_or(Err(zk_core::Error::ConnectionLoss));
    connected.map_err(|e| match e {
        // The client's last attempt said why (refused, unreachable, a TLS failure).
        zk_core::Error::Io(why) => CliError::new(
            UNAVAILABLE,
            format!("cannot reach ZooKeeper at {}: {why}", global.hosts),
        ),
        zk_core::Error::ConnectionLoss => CliError::new(
            UNAVAILABLE,
            format!(
                "cannot reach ZooKeeper at {}: no server answered within {}",
                global.hosts,
                humantime::format_duration(waited)
            ),
        ),
        zk_core::Error::AuthFailed => CliError::new(
            DENIED,
            format!("ZooKeeper at {} refused the credentials", global.hosts),
        ),
        e => e.into(),
    })
}

/// Closes `zk`'s session (so its ephemeral nodes go at once) and passes `outcome` on.
pub(crate) async fn finish(zk: ZkClient, outcome: Outcome) -> Outcome {
    let _ = zk.close().await;
    outcome
}
