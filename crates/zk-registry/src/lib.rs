//! Service registration and discovery on ZooKeeper, on any [`zk_core::Coordinator`]: register
//! an instance and it stays registered while the process lives (re-created after session
//! expiry, or if anyone deletes it), discover a service's instances once or as a live view,
//! and pick one per call with a [`Provider`].
//!
//! Instances live at `<base>/<service>/<id>` as JSON in the format of Curator's
//! `ServiceInstance` (see [`Instance`]), so Rust and Java services discover each other. Nodes
//! whose data is not an instance record are skipped and reported, never an error.
//!
//! ```
//! use zk_registry::{Instance, Registry, Strategy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zk_registry::RegistryError> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let registry = Registry::new(ensemble.connect(), "/services")?;
//! let api = registry
//!     .register(Instance::new("api", "10.0.0.7").port(8080).payload("eu-1".to_owned()))
//!     .await?;
//!
//! // Another process discovers it, and keeps a live view to pick from.
//! let clients = Registry::new(ensemble.connect(), "/services")?;
//! let found = clients.discover::<String>("api").await?;
//! assert_eq!(found.instances[&api.instance().id].port, Some(8080));
//! let provider = clients.provider::<String>("api", Strategy::RoundRobin).await?;
//! assert_eq!(provider.get().unwrap().address, "10.0.0.7");
//!
//! api.deregister().await?;
//! assert!(clients.discover::<String>("api").await?.instances.is_empty());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod error;
mod instance;
mod names;
mod provider;
mod registration;
mod registry;
mod service_watch;
mod snapshot;

pub use error::RegistryError;
pub use instance::{Instance, ServiceType};
pub use provider::{DownPolicy, Provider, Strategy};
pub use registration::Registration;
pub use registry::Registry;
pub use service_watch::ServiceWatch;
pub use snapshot::{Change, ServiceSnapshot};
