//! Connecting with the global options, and ending the session when a command is done.

use std::path::Path;

use zk_core::Coordinator;
use zk_core::client::ZkClient;
use zk_tls::TlsOptions;

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
    if let Some(tls) = tls_options(global)? {
        builder = builder.connector(
            tls.connector()
                .map_err(|e| CliError::usage(e.to_string()))?,
        );
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

/// The TLS options the `--tls-*` flags give, if `--tls-ca` is one of them.
///
/// # Errors
/// A TLS flag without `--tls-ca`, a file that cannot be read, or PEM with nothing usable
/// (usage).
fn tls_options(global: &Global) -> Result<Option<TlsOptions>, CliError> {
    let Some(ca) = &global.tls_ca else {
        if global.tls_cert.is_some() || global.tls_server_name.is_some() {
            return Err(CliError::usage("the --tls-* options need --tls-ca"));
        }
        return Ok(None);
    };
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| CliError::usage(format!("reading {}: {e}", path.display())))
    };
    let pem_error =
        |what: &Path, e: zk_core::Error| CliError::usage(format!("{}: {e}", what.display()));
    let mut tls = TlsOptions::new()
        .ca_pem(&read(ca)?)
        .map_err(|e| pem_error(ca, e))?;
    if let (Some(cert), Some(key)) = (&global.tls_cert, &global.tls_key) {
        tls = tls
            .client_identity_pem(&read(cert)?, &read(key)?)
            .map_err(|e| pem_error(cert, e))?;
    }
    if let Some(name) = &global.tls_server_name {
        tls = tls.server_name(name.as_str());
    }
    Ok(Some(tls))
}

/// Closes `zk`'s session (so its ephemeral nodes go at once) and passes `outcome` on.
pub(crate) async fn finish(zk: ZkClient, outcome: Outcome) -> Outcome {
    let _ = zk.close().await;
    outcome
}
