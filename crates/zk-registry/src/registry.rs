//! [`Registry`]: registration and discovery under one base path.

use futures::future::join_all;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zk_core::path::{join, validate_path};
use zk_core::{Coordinator, Error};

use crate::error::RegistryError;
use crate::instance::Instance;
use crate::names::{instance_path, service_path};
use crate::provider::{Provider, Strategy};
use crate::registration::Registration;
use crate::service_watch::ServiceWatch;
use crate::snapshot::ServiceSnapshot;

/// Services and their instances under a base path, one node per instance at
/// `<base>/<service>/<id>` holding its record (see [`Instance`] for the JSON): the layout of
/// Curator's service discovery, so Java services registered with Curator are found here and
/// the reverse.
#[derive(Debug, Clone)]
pub struct Registry<C> {
    zk: C,
    base: String,
}

impl<C: Coordinator + Clone + 'static> Registry<C> {
    /// A registry under `base` (created when the first instance registers).
    ///
    /// # Errors
    /// `InvalidPath` for an invalid base path.
    pub fn new(zk: C, base: &str) -> Result<Registry<C>, RegistryError> {
        validate_path(base)?;
        Ok(Registry {
            zk,
            base: base.to_owned(),
        })
    }

    /// The base path.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Registers `instance` and keeps it registered while the returned handle lives (see
    /// [`Registration`]); returns once its node exists.
    ///
    /// # Errors
    /// [`RegistryError::InvalidName`] for a service name or id that cannot be a node name;
    /// [`RegistryError::Encode`]; ZooKeeper's errors (`TooLarge`: nothing written).
    pub async fn register<M: Serialize>(
        &self,
        instance: Instance<M>,
    ) -> Result<Registration<C, M>, RegistryError> {
        let path = instance_path(&self.base, &instance.name, &instance.id)?;
        Registration::start(self.zk.clone(), path, instance).await
    }

    /// The service names, sorted.
    ///
    /// # Errors
    /// ZooKeeper's errors.
    pub async fn services(&self) -> Result<Vec<String>, RegistryError> {
        match self.zk.get_children(&self.base).await {
            Ok((mut names, _)) => {
                names.sort();
                Ok(names)
            }
            Err(Error::NoNode { .. }) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// The instances of `service` now, read once (the reads pipelined); nodes whose data is
    /// not an instance record are listed in [`ServiceSnapshot::skipped`].
    ///
    /// # Errors
    /// [`RegistryError::InvalidName`]; ZooKeeper's errors.
    pub async fn discover<M: DeserializeOwned>(
        &self,
        service: &str,
    ) -> Result<ServiceSnapshot<M>, RegistryError> {
        let path = service_path(&self.base, service)?;
        let ids = match self.zk.get_children(&path).await {
            Ok((ids, _)) => ids,
            Err(Error::NoNode { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let paths: Vec<String> = ids.iter().map(|id| join(&path, id)).collect();
        let reads = join_all(paths.iter().map(|p| self.zk.get_data(p))).await;
        let mut snapshot = ServiceSnapshot::default();
        for (id, read) in ids.iter().zip(reads) {
            match read {
                Ok((data, _)) => snapshot.add(service, id, &data),
                Err(Error::NoNode { .. }) => {} // went between the listing and the read
                Err(e) => return Err(e.into()),
            }
        }
        Ok(snapshot)
    }

    /// A live view of `service` (see [`ServiceWatch`]); returns once the first read is done.
    ///
    /// # Errors
    /// [`RegistryError::InvalidName`]; what the first read fails with.
    pub async fn watch<M>(&self, service: &str) -> Result<ServiceWatch<M>, RegistryError>
    where
        M: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
    {
        let path = service_path(&self.base, service)?;
        ServiceWatch::start(self.zk.clone(), service, &path).await
    }

    /// A [`Provider`] over a live view of `service`.
    ///
    /// # Errors
    /// Those of [`Registry::watch`].
    pub async fn provider<M>(
        &self,
        service: &str,
        strategy: Strategy,
    ) -> Result<Provider<M>, RegistryError>
    where
        M: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
    {
        Ok(Provider::new(self.watch(service).await?, strategy))
    }
}
