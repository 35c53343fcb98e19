//! Where an example's sessions come from: the in-memory fake by default, real servers when the
//! command line (`--hosts`) or the environment (`ZK_HOSTS`) names them, and ending a session
//! from outside, for examples that show what expiry does. Shared by those examples; each
//! declares `support/target.rs` as `mod target` beside this one.

use std::error::Error as StdError;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zk_core::Coordinator;
use zk_core::client::ZkClient;

use super::target::{Target, target};

/// How long an example waits for something before calling it a failure.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// An example's `main`: chooses the backend from the command line, runs `run` on it and
/// reports the outcome.
pub(crate) async fn main_for(
    example: &str,
    usage: &str,
    run: impl AsyncFnOnce(&Backend) -> Result<(), Box<dyn StdError>>,
) -> ExitCode {
    let backend = match Backend::from_args(example, usage) {
        Ok(backend) => backend,
        Err(code) => return code,
    };
    match run(&backend).await {
        Ok(()) => {
            println!("done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{example} example failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Awaits `fut`, failing after [`WAIT`].
pub(crate) async fn within<T>(
    what: &str,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, Box<dyn StdError>> {
    tokio::time::timeout(WAIT, fut)
        .await
        .map_err(|_| format!("timed out waiting for {what}").into())
}

/// Where sessions come from: the fake, or real servers through the wire client.
pub(crate) enum Backend {
    Fake(zk_fake::FakeEnsemble),
    /// The connect string, and every client opened (to find a session's password for expiry).
    Real(String, Mutex<Vec<ZkClient>>),
}

impl Backend {
    /// The backend the command line, then `ZK_HOSTS`, asks for, announced on standard output;
    /// the exit code instead when the example should stop at once (help was asked for, or an
    /// argument is wrong).
    pub(crate) fn from_args(example: &str, usage: &str) -> Result<Backend, ExitCode> {
        let args = std::env::args().skip(1);
        match target(usage, args, std::env::var("ZK_HOSTS").ok()) {
            Ok(Target::Fake) => {
                println!("backend: the in-memory fake ensemble (zk_fake::FakeEnsemble)");
                Ok(Backend::Fake(zk_fake::FakeEnsemble::new()))
            }
            Ok(Target::Hosts(hosts)) => {
                println!("backend: ZooKeeper at {hosts} (zk_core::client::ZkClient)");
                Ok(Backend::real(hosts))
            }
            Ok(Target::Help) => {
                println!("{usage}");
                Err(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{example}: {e}");
                Err(ExitCode::from(2))
            }
        }
    }

    /// Real servers at `hosts`.
    pub(crate) fn real(hosts: String) -> Backend {
        Backend::Real(hosts, Mutex::new(Vec::new()))
    }

    /// Opens a new, independent session.
    pub(crate) async fn connect(&self) -> Result<Arc<dyn Coordinator>, Box<dyn StdError>> {
        Ok(match self {
            Backend::Fake(ensemble) => Arc::new(ensemble.connect()),
            Backend::Real(hosts, clients) => {
                let client = ZkClient::connect(hosts).await?;
                clients
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(client.clone());
                Arc::new(client)
            }
        })
    }

    /// Ends the session `id` from outside, as the server does when its client goes silent.
    ///
    /// On a real server this uses `zk_testkit::expire_session`, a test utility (the examples
    /// package depends on zk-testkit); in production a session expires when its client is cut
    /// off for longer than the timeout.
    pub(crate) async fn expire(&self, id: i64) -> Result<(), Box<dyn StdError>> {
        match self {
            Backend::Fake(ensemble) => {
                if !ensemble.faults().expire_session(id) {
                    return Err(format!("no live session {id:#x}").into());
                }
            }
            Backend::Real(hosts, clients) => {
                let password = clients
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .find(|c| c.session_id() == id)
                    .map(ZkClient::session_password)
                    .ok_or("the session is not one of ours")?;
                zk_testkit::expire_session(hosts, id, &password).await?;
            }
        }
        Ok(())
    }
}

/// Runs a whole example (`run`) on a fresh fake ensemble and checks that it succeeded and
/// removed `root`: the test each example has.
#[cfg(test)]
pub(crate) async fn check_on_the_fake(
    run: impl AsyncFnOnce(&Backend) -> Result<(), Box<dyn StdError>>,
    root: &str,
) {
    let ensemble = zk_fake::FakeEnsemble::new();
    let result = run(&Backend::Fake(ensemble.clone())).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(ensemble.connect().exists(root).await, Ok(None));
}

/// Runs a whole example (`run`) against the test harness's shared real server, and checks
/// that it succeeded.
#[cfg(test)]
pub(crate) fn check_on_a_real_server(
    run: impl AsyncFnOnce(&Backend) -> Result<(), Box<dyn StdError>>,
) {
    let server = zk_testkit::server::ZkServer::shared();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(run(&Backend::real(server.connect_string())));
    assert!(result.is_ok(), "{result:?}");
}
