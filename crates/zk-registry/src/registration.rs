//! [`Registration`]: an instance kept registered for as long as the handle lives, re-created
//! after session expiry, a reconnect that finds it gone, or someone deleting it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zk_core::path::parent;
use zk_core::{Coordinator, CoordinatorExt, CreateMode, CreateOptions, Error};

use crate::error::RegistryError;
use crate::instance::{Instance, ServiceType};

/// The bytes to (re-)create the node with; `update` changes them.
type Record = Arc<Mutex<Vec<u8>>>;

/// A registered instance. While it lives, a background task keeps its node in place: after
/// session expiry (the server removes ephemeral nodes), after a reconnect that finds the node
/// gone, and after anyone deletes it, the node is created again with the latest record.
///
/// Instance ids must be unique within a service. Registering an id whose node another session
/// holds replaces that node (as Curator does: usually it is this process's previous session,
/// not yet expired); the earlier registration then waits, without taking it back, until that
/// node goes.
///
/// [`Registration::deregister`] removes it and waits; dropping the handle removes it in the
/// background.
pub struct Registration<C: Coordinator + Clone + 'static, M> {
    zk: C,
    path: String,
    instance: Instance<M>,
    record: Record,
    stop: watch::Sender<bool>,
    keeper: Option<JoinHandle<()>>,
}

impl<C: Coordinator + Clone + 'static, M: fmt::Debug> fmt::Debug for Registration<C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("path", &self.path)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

fn encode<M: Serialize>(instance: &Instance<M>) -> Result<Vec<u8>, RegistryError> {
    serde_json::to_vec(instance).map_err(|e| RegistryError::Encode {
        id: instance.id.clone(),
        reason: e.to_string(),
    })
}

fn create_mode(service_type: ServiceType) -> CreateMode {
    match service_type {
        ServiceType::Dynamic | ServiceType::DynamicSequential => CreateMode::Ephemeral,
        ServiceType::Static | ServiceType::Permanent => CreateMode::Persistent,
    }
}

impl<C: Coordinator + Clone + 'static, M: Serialize> Registration<C, M> {
    /// Registers `instance` at `path` and starts keeping it there; returns once the node is
    /// created.
    pub(crate) async fn start(
        zk: C,
        path: String,
        instance: Instance<M>,
    ) -> Result<Self, RegistryError> {
        let record = Arc::new(Mutex::new(encode(&instance)?));
        let mode = create_mode(instance.service_type);
        create(&zk, &path, &record, mode, true).await?;
        let (stop, stopped) = watch::channel(false);
        let keeper = tokio::spawn(keep(
            zk.clone(),
            path.clone(),
            record.clone(),
            mode,
            stopped,
        ));
        Ok(Registration {
            zk,
            path,
            instance,
            record,
            stop,
            keeper: Some(keeper),
        })
    }

    /// The registered instance (as last updated).
    pub fn instance(&self) -> &Instance<M> {
        &self.instance
    }

    /// The instance's node.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Replaces the instance's record (same service name and id): written now, and used for
    /// every later re-creation.
    ///
    /// # Errors
    /// [`RegistryError::Renamed`] if the name or id changed; [`RegistryError::Encode`];
    /// ZooKeeper's errors (`TooLarge`: nothing written).
    pub async fn update(&mut self, instance: Instance<M>) -> Result<(), RegistryError> {
        if instance.name != self.instance.name || instance.id != self.instance.id {
            return Err(RegistryError::Renamed {
                id: self.instance.id.clone(),
            });
        }
        let data = encode(&instance)?;
        // Stored first, so a re-creation racing this update uses the new record.
        *self.record.lock().unwrap_or_else(PoisonError::into_inner) = data.clone();
        let mode = create_mode(instance.service_type);
        loop {
            let stat = match self.zk.exists(&self.path).await {
                Ok(Some(stat)) => stat,
                // Gone for now: put it back with the new record (the keeper may race us; the
                // loop then writes over whichever record it created).
                Ok(None) => {
                    create(&self.zk, &self.path, &self.record, mode, false).await?;
                    continue;
                }
                Err(e) => {
                    self.zk.recover(e).await?;
                    continue;
                }
            };
            if !owns(&self.zk, &stat, mode) {
                break; // another session's registration of this id: ours is written when it goes
            }
            match self
                .zk
                .set_data(&self.path, &data, Some(stat.version))
                .await
            {
                Ok(_) => break,
                Err(Error::NoNode { .. } | Error::BadVersion { .. }) => {}
                Err(e) => self.zk.recover(e).await?,
            }
        }
        self.instance = instance;
        Ok(())
    }

    /// Stops keeping the instance and removes its node (only its own: a node another session
    /// holds under the same id is left alone); the instance disappears from discovery.
    ///
    /// # Errors
    /// ZooKeeper's errors (the node then goes with the session, if ephemeral).
    pub async fn deregister(mut self) -> Result<(), RegistryError> {
        self.stop_keeper().await;
        let mode = create_mode(self.instance.service_type);
        Ok(remove_own(&self.zk, &self.path, mode).await?)
    }

    async fn stop_keeper(&mut self) {
        self.stop.send_replace(true);
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.await;
        }
    }
}

impl<C: Coordinator + Clone + 'static, M> Drop for Registration<C, M> {
    fn drop(&mut self) {
        let Some(keeper) = self.keeper.take() else {
            return; // deregistered
        };
        self.stop.send_replace(true);
        let (zk, path) = (self.zk.clone(), self.path.clone());
        let mode = create_mode(self.instance.service_type);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = keeper.await;
                let _ = remove_own(&zk, &path, mode).await;
            });
        }
    }
}

/// Whether the node of `stat` is this registration's: an ephemeral one must belong to the
/// handle's current session.
fn owns<C: Coordinator + ?Sized>(zk: &C, stat: &zk_core::Stat, mode: CreateMode) -> bool {
    mode != CreateMode::Ephemeral || stat.ephemeral_owner == zk.session_id()
}

/// Deletes the node at `path` if it is this registration's (see [`owns`]), at the version
/// seen, riding out connection loss.
async fn remove_own<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    mode: CreateMode,
) -> Result<(), Error> {
    loop {
        let stat = match zk.exists(path).await {
            Ok(Some(stat)) if owns(zk, &stat, mode) => stat,
            Ok(_) => return Ok(()),
            Err(e) => {
                zk.recover(e).await?;
                continue;
            }
        };
        match zk.delete(path, Some(stat.version)).await {
            Ok(()) | Err(Error::NoNode { .. }) => return Ok(()),
            Err(Error::BadVersion { .. }) => {}
            Err(e) => zk.recover(e).await?,
        }
    }
}

/// Creates the node at `path` with the current record (missing parents as containers, as
/// Curator does), riding out connection loss. A node already there and owned by another
/// session is replaced when `replace` is set (at registration: most often this process's
/// previous session, not yet expired), else left alone.
async fn create<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    record: &Record,
    mode: CreateMode,
    replace: bool,
) -> Result<(), RegistryError> {
    let options = CreateOptions::new(mode);
    loop {
        let data = record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let error = match zk.create(path, &data, &options).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match error {
            Error::NodeExists { .. } if !replace || mode != CreateMode::Ephemeral => return Ok(()),
            Error::NodeExists { .. } => match zk.exists(path).await {
                Ok(Some(stat)) if stat.ephemeral_owner == zk.session_id() => return Ok(()),
                Ok(Some(stat)) => match zk.delete(path, Some(stat.version)).await {
                    Ok(()) | Err(Error::NoNode { .. } | Error::BadVersion { .. }) => {}
                    Err(e) => zk.recover(e).await?,
                },
                Ok(None) => {}
                Err(e) => zk.recover(e).await?,
            },
            Error::NoNode { .. } => {
                zk.ensure_container_path(parent(path).unwrap_or("/"))
                    .await?;
            }
            e if e.is_retryable() || e == Error::SessionExpired => zk.recover(e).await?,
            e => return Err(e.into()),
        }
    }
}

/// The keeper: follows the node and puts it back whenever it is missing. A node owned by
/// another session is left alone (two live registrations of one id would otherwise take the
/// node from each other forever); when that session ends, the node goes and is put back.
async fn keep<C: Coordinator + Clone + 'static>(
    zk: C,
    path: String,
    record: Record,
    mode: CreateMode,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(mut follow) = zk_cache::data_watch(zk.clone(), &path) else {
        return;
    };
    loop {
        let next = tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return,
            next = follow.next() => next,
        };
        // The stream ends, or fails for good, only when the handle is done.
        let Some(Ok(node)) = next else { return };
        if node.is_some() {
            continue;
        }
        let created = tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return,
            created = create(&zk, &path, &record, mode, false) => created,
        };
        if created.is_err() {
            return; // the handle is closed, or creating can never work
        }
    }
}
