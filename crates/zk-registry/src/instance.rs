//! The instance record and its JSON: Curator's `ServiceInstance` format, which is plain JSON
//! any language can read and write.

use serde::{Deserialize, Deserializer, Serialize};

/// How long an instance is meant to stay registered (Curator's `ServiceType`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceType {
    /// Registered while its process lives: an ephemeral node (the default).
    #[default]
    Dynamic,
    /// Registered until removed: a persistent node.
    Static,
    /// Like `Static`; Curator keeps the two apart.
    Permanent,
    /// Like `Dynamic`, with a sequential node name.
    DynamicSequential,
}

/// One instance of a service, with a user payload `M` (any serde type; JSON `null` or absent
/// reads as `None`).
///
/// Stored as the data of `<base>/<name>/<id>` in this JSON (field names as Curator's
/// `ServiceInstance` writes them; unknown fields are ignored, missing optional ones default):
///
/// ```json
/// {"name": "api", "id": "a1b2", "address": "10.0.0.7", "port": 8080, "sslPort": null,
///  "payload": {"zone": "eu-1"}, "registrationTimeUTC": 1733223000000,
///  "serviceType": "DYNAMIC", "uriSpec": null, "enabled": true}
/// ```
///
/// Curator 5.4's `JsonInstanceSerializer` writes the same fields but `enabled` (read here as
/// `true`), and puts Jackson's type id in an object payload, which is dropped on reading:
/// `"payload": {"@class": "java.util.LinkedHashMap", "zone": "eu-1"}` reads as
/// `{"zone": "eu-1"}`. Curator reads an object payload without it as a `Map`; it takes a JSON
/// array payload for Jackson's `[class, value]` type wrapper, so a payload meant for Curator
/// should not be an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance<M = serde_json::Value> {
    /// The service name: the parent node's name.
    pub name: String,
    /// The instance id, unique within the service: the node's name.
    pub id: String,
    /// Host name or IP address.
    pub address: String,
    /// The port, if any.
    #[serde(default)]
    pub port: Option<u16>,
    /// The TLS port, if any.
    #[serde(default)]
    pub ssl_port: Option<u16>,
    /// User data: metadata to filter on, weights, versions...
    #[serde(
        default = "none",
        deserialize_with = "read_payload",
        bound(deserialize = "M: Deserialize<'de>")
    )]
    pub payload: Option<M>,
    /// When the instance was registered, in milliseconds since the Unix epoch.
    #[serde(default, rename = "registrationTimeUTC")]
    pub registration_time_utc: i64,
    /// How long it is meant to stay registered.
    #[serde(default)]
    pub service_type: ServiceType,
    /// Curator's URI template, kept as it came.
    #[serde(default)]
    pub uri_spec: Option<serde_json::Value>,
    /// Whether it takes traffic (an instance can stay registered while drained).
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn none<M>() -> Option<M> {
    None
}

fn enabled() -> bool {
    true
}

/// The member Jackson adds to an object payload that Curator writes: the payload's Java class.
const JACKSON_TYPE_ID: &str = "@class";

/// Reads a payload, without the [`JACKSON_TYPE_ID`] member of one Curator wrote.
fn read_payload<'de, D, M>(deserializer: D) -> Result<Option<M>, D::Error>
where
    D: Deserializer<'de>,
    M: Deserialize<'de>,
{
    let mut payload = serde_json::Value::deserialize(deserializer)?;
    if let serde_json::Value::Object(members) = &mut payload
        && members
            .get(JACKSON_TYPE_ID)
            .is_some_and(serde_json::Value::is_string)
    {
        members.remove(JACKSON_TYPE_ID);
    }
    Option::<M>::deserialize(payload).map_err(serde::de::Error::custom)
}

impl<M> Instance<M> {
    /// A dynamic, enabled instance of service `name` at `address`, with a random id and the
    /// current time as its registration time.
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Instance<M> {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Instance {
            name: name.into(),
            id: uuid::Uuid::new_v4().to_string(),
            address: address.into(),
            port: None,
            ssl_port: None,
            payload: None,
            registration_time_utc: i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX),
            service_type: ServiceType::Dynamic,
            uri_spec: None,
            enabled: true,
        }
    }

    /// With this id instead of a random one.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// With this port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// With this TLS port.
    pub fn ssl_port(mut self, port: u16) -> Self {
        self.ssl_port = Some(port);
        self
    }

    /// With this payload.
    pub fn payload(mut self, payload: M) -> Self {
        self.payload = Some(payload);
        self
    }

    /// Registered until removed (a persistent node) rather than while the process lives.
    pub fn service_type(mut self, service_type: ServiceType) -> Self {
        self.service_type = service_type;
        self
    }

    /// Whether it takes traffic.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_curator_writes_and_ignores_what_it_does_not_know() {
        let curator = br#"{"name":"api","id":"x1","address":"10.0.0.7","port":8080,
            "sslPort":null,"payload":{"zone":"eu-1"},"registrationTimeUTC":1733223000000,
            "serviceType":"DYNAMIC","uriSpec":{"parts":[{"value":"http://","variable":false}]},
            "enabled":true,"somethingNew":1}"#;
        let instance: Instance = serde_json::from_slice(curator).unwrap();
        assert_eq!(instance.port, Some(8080));
        assert_eq!(instance.payload.unwrap()["zone"], "eu-1");
        assert!(instance.uri_spec.is_some());
        let minimal: Instance<()> =
            serde_json::from_slice(br#"{"name":"a","id":"b","address":"c"}"#).unwrap();
        assert!(minimal.enabled);
        assert_eq!(minimal.service_type, ServiceType::Dynamic);
        let written = serde_json::to_value(Instance::<()>::new("api", "h").port(1)).unwrap();
        for field in [
            "name",
            "id",
            "address",
            "port",
            "sslPort",
            "payload",
            "registrationTimeUTC",
            "serviceType",
            "uriSpec",
            "enabled",
        ] {
            assert!(
                written.get(field).is_some(),
                "{field} missing from {written}"
            );
        }
        assert_eq!(written["serviceType"], "DYNAMIC");
    }

    /// Exactly what Curator 5.4's `JsonInstanceSerializer<>(Map.class)` wrote for an instance
    /// with a `LinkedHashMap` payload (zk-registry's interop test reads it off the server): no
    /// `enabled`, and Jackson's type id in the payload.
    const CURATOR_5_4: &[u8] = br#"{"name":"api","id":"x1","address":"127.0.0.1","port":8080,"sslPort":null,"payload":{"@class":"java.util.LinkedHashMap","zone":"eu-1"},"registrationTimeUTC":1796301053226,"serviceType":"DYNAMIC","uriSpec":null}"#;

    #[test]
    fn reads_curator_5_4_records_without_jacksons_type_id() {
        let instance: Instance = serde_json::from_slice(CURATOR_5_4).unwrap();
        let want = Instance::new("api", "127.0.0.1")
            .id("x1")
            .port(8080)
            .payload(serde_json::json!({"zone": "eu-1"}));
        let want = Instance {
            registration_time_utc: 1_796_301_053_226,
            ..want
        };
        assert_eq!(instance, want);
        let typed: Instance<std::collections::BTreeMap<String, String>> =
            serde_json::from_slice(CURATOR_5_4).unwrap();
        assert_eq!(
            typed.payload.unwrap().into_iter().collect::<Vec<_>>(),
            [("zone".to_owned(), "eu-1".to_owned())]
        );
        // A map whose values are not strings reads only without the type id.
        let weights = br#"{"name":"api","id":"x1","address":"h",
            "payload":{"@class":"java.util.HashMap","weight":3}}"#;
        let weights: Instance<std::collections::HashMap<String, u32>> =
            serde_json::from_slice(weights).unwrap();
        assert_eq!(weights.payload.unwrap()["weight"], 3);
        // Scalars carry no type id; `null` is no payload; an `@class` that is not Jackson's
        // (not a string) is the payload's own.
        let payload = |json: &str| {
            let record = format!(r#"{{"name":"a","id":"b","address":"c","payload":{json}}}"#);
            serde_json::from_str::<Instance>(&record).unwrap().payload
        };
        assert_eq!(payload(r#""eu-1""#), Some("eu-1".into()));
        assert_eq!(payload("null"), None);
        assert_eq!(
            payload(r#"{"@class":1}"#),
            Some(serde_json::json!({"@class": 1}))
        );
        // A payload of the wrong type is an error, as before.
        let wrong = serde_json::from_slice::<Instance<u8>>(CURATOR_5_4).unwrap_err();
        assert!(wrong.to_string().contains("invalid type: map"), "{wrong}");
    }

    proptest! {
        #[test]
        fn instances_round_trip(id in "[a-z0-9-]{1,12}", port in proptest::option::of(any::<u16>()), zone in ".{0,8}", enabled in any::<bool>()) {
            let instance = Instance::new("svc", "127.0.0.1").id(id).payload(zone).enabled(enabled);
            let instance = Instance { port, ..instance };
            let json = serde_json::to_vec(&instance).unwrap();
            prop_assert_eq!(serde_json::from_slice::<Instance<String>>(&json).unwrap(), instance);
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = serde_json::from_slice::<Instance>(&data);
        }
    }
}
