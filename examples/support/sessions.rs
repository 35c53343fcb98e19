//! Where an example's sessions come from: the in-memory fake by default, real servers when the
//! command line (`--hosts`) or the environment (`ZK_HOSTS`) names them, and ending a session
//! from outside, for examples that show what expiry does; and the frame every such example
//! shares: its `main` ([`main_for`]), the root it cleans before and after, and its tests
//! ([`example_tests!`]). Shared by those examples; each declares `support/target.rs` as
//! `mod target` beside this one.

use std::error::Error as StdError;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt};

use super::target::{Target, target, usage};

/// An example's result: any error, reported by `main`.
pub(crate) type Result<T> = std::result::Result<T, Box<dyn StdError>>;

/// How long an example waits for something before calling it a failure.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// An example's `main`: chooses the backend from the command line, runs `run` on it in a
/// clean `root` ([`in_a_clean_root`]) and reports the outcome.
pub(crate) async fn main_for(
    example: &str,
    root: &str,
    run: impl AsyncFnOnce(&Backend) -> Result<()>,
) -> ExitCode {
    let backend = match Backend::from_args(example, &usage(example)) {
        Ok(backend) => backend,
        Err(code) => return code,
    };
    match in_a_clean_root(&backend, root, run).await {
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

/// Runs `run` with `root` removed before (what an earlier run left) and after, then closes
/// the session that removed it.
pub(crate) async fn in_a_clean_root(
    backend: &Backend,
    root: &str,
    run: impl AsyncFnOnce(&Backend) -> Result<()>,
) -> Result<()> {
    let admin = backend.connect().await?;
    admin.delete_all(root).await?;
    run(backend).await?;
    admin.delete_all(root).await?;
    admin.close().await?;
    println!("\nremoved {root} and closed the sessions");
    Ok(())
}

/// Closes every session of `sessions`.
pub(crate) async fn close_all(
    sessions: impl IntoIterator<Item = Arc<dyn Coordinator>>,
) -> Result<()> {
    for zk in sessions {
        zk.close().await?;
    }
    Ok(())
}

/// Awaits `fut`, failing after [`WAIT`].
pub(crate) async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> Result<T> {
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
    pub(crate) fn from_args(example: &str, usage: &str) -> std::result::Result<Backend, ExitCode> {
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

    /// Opens `N` new, independent sessions.
    pub(crate) async fn sessions<const N: usize>(&self) -> Result<[Arc<dyn Coordinator>; N]> {
        let mut sessions = Vec::with_capacity(N);
        for _ in 0..N {
            sessions.push(self.connect().await?);
        }
        Ok(sessions
            .try_into()
            .unwrap_or_else(|_| unreachable!("N sessions")))
    }

    /// Opens a new, independent session.
    pub(crate) async fn connect(&self) -> Result<Arc<dyn Coordinator>> {
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

/// Runs a whole example (`run`, in a clean `root`) on a fresh fake ensemble and checks that it
/// succeeded and removed `root`: the test each example has.
#[cfg(test)]
pub(crate) async fn check_on_the_fake(run: impl AsyncFnOnce(&Backend) -> Result<()>, root: &str) {
    let ensemble = zk_fake::FakeEnsemble::new();
    let result = in_a_clean_root(&Backend::Fake(ensemble.clone()), root, run).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(ensemble.connect().exists(root).await, Ok(None));
}

/// Runs a whole example (`run`, in a clean `root`) against the test harness's shared real
/// server, and checks that it succeeded.
#[cfg(test)]
pub(crate) fn check_on_a_real_server(run: impl AsyncFnOnce(&Backend) -> Result<()>, root: &str) {
    let server = zk_testkit::server::ZkServer::shared();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let backend = Backend::real(server.connect_string());
    let result = runtime.block_on(in_a_clean_root(&backend, root, run));
    assert!(result.is_ok(), "{result:?}");
}

/// The tests every example has: `run` (the example's steps) succeeds in a clean `root` on the
/// fake and against a real server. Expands to the example's `tests` module.
macro_rules! example_tests {
    ($run:ident, $root:ident) => {
        #[cfg(test)]
        mod tests {
            #[tokio::test(start_paused = true)]
            async fn the_example_succeeds_on_the_fake() {
                super::sessions::check_on_the_fake(super::$run, super::$root).await;
            }

            #[test]
            fn the_example_runs_against_a_real_server() {
                super::sessions::check_on_a_real_server(super::$run, super::$root);
            }
        }
    };
}
pub(crate) use example_tests;
