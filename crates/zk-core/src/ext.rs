//! `CoordinatorExt`: conveniences built on the `Coordinator` primitives, for every backend.

use async_trait::async_trait;

use crate::coordinator::Coordinator;
use crate::error::{Error, Result};
use crate::path::{ancestors, join, validate_path};
use crate::types::create::{CreateOptions, Created};
use crate::types::stat::Stat;

/// How many times the helpers retry a step that raced with another client before giving up.
const RACE_RETRIES: usize = 16;

/// Helpers for every [`Coordinator`]; implemented for all of them, never by hand.
///
/// ```
/// use zk_core::{CoordinatorExt, CreateOptions};
/// # async fn demo(zk: &dyn zk_core::Coordinator) -> zk_core::Result<()> {
/// zk.ensure_path("/app/config").await?;
/// zk.create_with_parents("/app/workers/w1", b"up", &CreateOptions::ephemeral()).await?;
/// assert!(zk.get_if_exists("/app/missing").await?.is_none());
/// zk.delete_all("/app").await?;
/// # Ok(()) }
/// ```
#[async_trait]
pub trait CoordinatorExt: Coordinator {
    /// Creates `path` and any missing ancestors as empty persistent nodes; existing nodes are
    /// left alone.
    async fn ensure_path(&self, path: &str) -> Result<()> {
        create_missing(self, path, false).await
    }

    /// Creates `path` and any missing ancestors as empty container nodes, which the server
    /// deletes once they have had children and have none left (as Curator does for recipe
    /// paths); existing nodes are left alone.
    ///
    /// On a server without containers (before 3.5.1: `Unimplemented`) the nodes are created
    /// persistent instead. A container may be swept between this call and the caller's next
    /// create, which then fails with `NoNode`: call this again and retry.
    async fn ensure_container_path(&self, path: &str) -> Result<()> {
        create_missing(self, path, true).await
    }

    /// Creates a node, first creating missing ancestors as empty persistent nodes.
    ///
    /// Retries when an ancestor vanishes in between (a container being swept, say).
    async fn create_with_parents(
        &self,
        path: &str,
        data: &[u8],
        options: &CreateOptions,
    ) -> Result<Created> {
        let mut attempt = 0;
        loop {
            match self.create(path, data, options).await {
                Err(Error::NoNode { .. }) if attempt < RACE_RETRIES => {
                    attempt += 1;
                    let parent = crate::path::parent(path).unwrap_or("/");
                    self.ensure_path(parent).await?;
                }
                other => return other,
            }
        }
    }

    /// Deletes `path` and everything below it; a missing node is not an error.
    ///
    /// Retries a level when another client adds a child in between, a bounded number of times.
    async fn delete_all(&self, path: &str) -> Result<()> {
        validate_path(path)?;
        let mut attempt = 0;
        loop {
            let children = match self.get_children(path).await {
                Ok((children, _)) => children,
                Err(Error::NoNode { .. }) => return Ok(()),
                Err(e) => return Err(e),
            };
            for child in children {
                self.delete_all(&join(path, &child)).await?;
            }
            if path == "/" {
                return Ok(());
            }
            match self.delete(path, None).await {
                Ok(()) | Err(Error::NoNode { .. }) => return Ok(()),
                Err(Error::NotEmpty { .. }) if attempt < RACE_RETRIES => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// The node's data and Stat, or `None` if it does not exist.
    async fn get_if_exists(&self, path: &str) -> Result<Option<(Vec<u8>, Stat)>> {
        match self.get_data(path).await {
            Ok(found) => Ok(Some(found)),
            Err(Error::NoNode { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes a node if it exists; returns whether this call deleted it.
    async fn delete_if_exists(&self, path: &str, version: Option<i32>) -> Result<bool> {
        match self.delete(path, version).await {
            Ok(()) => Ok(true),
            Err(Error::NoNode { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The node's child names, sorted.
    async fn get_children_sorted(&self, path: &str) -> Result<Vec<String>> {
        let (mut children, _) = self.get_children(path).await?;
        children.sort_unstable();
        Ok(children)
    }

    /// Waits until the handle is connected; fails once it never will be again.
    ///
    /// # Errors
    /// [`Error::Closed`] or [`Error::AuthFailed`] when the handle has ended.
    async fn connected(&self) -> Result<()> {
        let mut state = self.session_state();
        let state = state
            .wait_for(|s| s.is_connected() || s.is_terminal())
            .await
            .map_err(|_| Error::Closed)?;
        state.terminal_error().map_or(Ok(()), Err)
    }

    /// Waits out `error` when waiting can cure it: connection loss (until the handle
    /// reconnects), or the session's expiry when the handle opens a new session (for at most
    /// a few session timeouts, since a handle built with terminal expiry never will). What a
    /// loop that must ride out trouble calls after a failed request, before trying again.
    ///
    /// # Errors
    /// `error` itself when waiting cannot help, or the handle's final failure.
    async fn recover(&self, error: Error) -> Result<()> {
        if error.is_retryable() {
            return self.connected().await;
        }
        if error == Error::SessionExpired {
            let patience = self.session_timeout() * 3 + std::time::Duration::from_secs(1);
            return match tokio::time::timeout(patience, self.connected()).await {
                Ok(result) => result,
                Err(_) => Err(error),
            };
        }
        Err(error)
    }
}

impl<C: Coordinator + ?Sized> CoordinatorExt for C {}

/// Creates the missing nodes of `path`, top-down, as containers or persistent nodes.
async fn create_missing<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    containers: bool,
) -> Result<()> {
    validate_path(path)?;
    if path == "/" || zk.exists(path).await?.is_some() {
        return Ok(());
    }
    let mut missing: Vec<&str> = vec![path];
    for ancestor in ancestors(path) {
        if ancestor == "/" || zk.exists(ancestor).await?.is_some() {
            break;
        }
        missing.push(ancestor);
    }
    let mut options = if containers {
        CreateOptions::container()
    } else {
        CreateOptions::persistent()
    };
    for node in missing.into_iter().rev() {
        match zk.create(node, &[], &options).await {
            Ok(_) | Err(Error::NodeExists { .. }) => {}
            Err(Error::Unimplemented { .. }) if containers => {
                options = CreateOptions::persistent();
                match zk.create(node, &[], &options).await {
                    Ok(_) | Err(Error::NodeExists { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
