//! Where instances live: `<base>/<service>/<id>`, each name checked once here.

use zk_core::Error;
use zk_core::path::{join, validate_name};

use crate::error::RegistryError;

/// `<base>/<service>` for a valid service name.
pub(crate) fn service_path(base: &str, service: &str) -> Result<String, RegistryError> {
    checked("service name", service)?;
    Ok(join(base, service))
}

/// `<base>/<service>/<id>` for a valid service name and instance id.
pub(crate) fn instance_path(base: &str, service: &str, id: &str) -> Result<String, RegistryError> {
    checked("instance id", id)?;
    Ok(join(&service_path(base, service)?, id))
}

fn checked(what: &'static str, name: &str) -> Result<(), RegistryError> {
    validate_name(name).map_err(|e| match e {
        Error::InvalidPath { reason, .. } => RegistryError::InvalidName {
            what,
            name: name.to_owned(),
            reason,
        },
        other => other.into(),
    })
}
