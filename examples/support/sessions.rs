//! Where an example's sessions come from, once the backend is chosen (see `target.rs`): the
//! in-memory fake, or real servers through the wire client; and how an example ends a session
//! from outside, to show what a recipe does on expiry. Shared by the examples that need it.

use std::error::Error as StdError;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zk_core::Coordinator;
use zk_core::client::ZkClient;

use crate::target::{Target, target};

/// How long an example waits for something before calling it a failure.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A session handle of either backend.
pub(crate) type Zk = Arc<dyn Coordinator>;

/// Any error, for an example's `main` to report.
pub(crate) type Result<T> = std::result::Result<T, Box<dyn StdError>>;

/// Where sessions come from: the fake, or real servers through the wire client.
pub(crate) enum Backend {
    /// A fresh in-memory ensemble.
    Fake(zk_fake::FakeEnsemble),
    /// The connect string, and every client opened (to find a session's password for expiry).
    Real(String, Mutex<Vec<ZkClient>>),
}

impl Backend {
    /// Real servers at `hosts`.
    pub(crate) fn real(hosts: String) -> Backend {
        Backend::Real(hosts, Mutex::new(Vec::new()))
    }

    /// Opens a new, independent session.
    pub(crate) async fn connect(&self) -> Result<Zk> {
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
    pub(crate) async fn expire(&self, id: i64) -> Result<()> {
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

/// The backend the command line (`--hosts`) or the environment (`ZK_HOSTS`) asks example
/// `name` for, announced; `Err` with the exit code when there is nothing to run (`--help`, a
/// bad argument).
pub(crate) fn choose(name: &str, usage: &str) -> std::result::Result<Backend, ExitCode> {
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
            eprintln!("{name}: {e}");
            Err(ExitCode::from(2))
        }
    }
}

/// Reports how example `name` ended, as its exit code.
pub(crate) fn report(name: &str, outcome: Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => {
            println!("done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name} example failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Awaits `fut`, failing after [`WAIT`].
pub(crate) async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> Result<T> {
    tokio::time::timeout(WAIT, fut)
        .await
        .map_err(|_| format!("timed out waiting for {what}").into())
}
