//! Connect strings: `host1:port1,host2:port2/chroot`.

use crate::error::{Error, Result};
use crate::path::validate_path;

/// The default client port.
pub const DEFAULT_PORT: u16 = 2181;

/// A parsed connect string: the servers to try and the optional chroot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectString {
    /// `(host, port)` pairs in the order given.
    pub hosts: Vec<(String, u16)>,
    /// The chroot every path is relative to, if any (never `/`).
    pub chroot: Option<String>,
}

impl ConnectString {
    /// Parses `host:port,host:port/chroot`; ports default to 2181, IPv6 hosts go in brackets.
    ///
    /// ```
    /// use zk_core::client::ConnectString;
    /// let cs = ConnectString::parse("a:2181,[::1]:2182,b/app").unwrap();
    /// assert_eq!(cs.hosts[1], ("::1".to_string(), 2182));
    /// assert_eq!(cs.hosts[2], ("b".to_string(), 2181));
    /// assert_eq!(cs.chroot.as_deref(), Some("/app"));
    /// ```
    ///
    /// # Errors
    /// [`Error::BadArguments`] for an empty host list, an empty host, a bad port or port 0,
    /// [`Error::InvalidPath`] for a bad chroot.
    pub fn parse(text: &str) -> Result<ConnectString> {
        let (hosts_part, chroot) = match text.find('/') {
            Some(i) => (&text[..i], Some(&text[i..])),
            None => (text, None),
        };
        let chroot = match chroot {
            Some(c) => {
                validate_path(c)?;
                (c != "/").then(|| c.to_owned())
            }
            None => None,
        };
        let mut hosts = Vec::new();
        for entry in hosts_part
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            hosts.push(parse_host(entry)?);
        }
        if hosts.is_empty() {
            return Err(Error::BadArguments("connect string names no server"));
        }
        Ok(ConnectString { hosts, chroot })
    }
}

fn parse_host(entry: &str) -> Result<(String, u16)> {
    let (host, port) = parse_host_port(entry)?;
    if host.is_empty() {
        return Err(Error::BadArguments("empty host in connect string"));
    }
    if port == 0 {
        return Err(Error::BadArguments("port 0 in connect string"));
    }
    Ok((host, port))
}

fn parse_host_port(entry: &str) -> Result<(String, u16)> {
    let bad_port = || Error::BadArguments("bad port in connect string");
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or(Error::BadArguments("unclosed [ in connect string"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad_port())?,
            None if after.is_empty() => DEFAULT_PORT,
            None => return Err(bad_port()),
        };
        return Ok((host.to_owned(), port));
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Ok((host.to_owned(), port.parse().map_err(|_| bad_port())?))
        }
        Some(_) => Err(Error::BadArguments(
            "IPv6 hosts must be written in brackets",
        )),
        None => Ok((entry.to_owned(), DEFAULT_PORT)),
    }
}

/// Maps application paths to server paths and back under a chroot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Chroot(Option<String>);

impl Chroot {
    pub(crate) fn new(chroot: Option<String>) -> Chroot {
        Chroot(chroot)
    }

    /// The server path for an application path.
    pub(crate) fn to_server(&self, path: &str) -> String {
        match &self.0 {
            None => path.to_owned(),
            Some(root) if path == "/" => root.clone(),
            Some(root) => format!("{root}{path}"),
        }
    }

    /// The application path for a server path (left unchanged when outside the chroot).
    pub(crate) fn to_client(&self, path: &str) -> String {
        match &self.0 {
            None => path.to_owned(),
            Some(root) => match path.strip_prefix(root.as_str()) {
                Some("") => "/".to_owned(),
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => path.to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_chroots() {
        let cs = ConnectString::parse("127.0.0.1:2181,127.0.0.2:2182").unwrap();
        assert_eq!(cs.hosts.len(), 2);
        assert_eq!(cs.chroot, None);
        assert_eq!(ConnectString::parse("h/").unwrap().chroot, None);
        assert!(ConnectString::parse("").is_err());
        assert!(ConnectString::parse("h:notaport").is_err());
        assert!(ConnectString::parse("h:1/bad/").is_err());
        assert!(ConnectString::parse("::1:2181").is_err());
        for bad in [":2181", "[]:2181", "127.0.0.1:0", "a:1,:2", "h:0/app"] {
            assert!(
                matches!(ConnectString::parse(bad), Err(Error::BadArguments(_))),
                "{bad}"
            );
        }
        assert_eq!(
            ConnectString::parse("[::1]").unwrap().hosts[0].1,
            DEFAULT_PORT
        );
    }

    #[test]
    fn chroot_maps_both_ways() {
        let c = Chroot::new(Some("/app".into()));
        assert_eq!(c.to_server("/"), "/app");
        assert_eq!(c.to_server("/x"), "/app/x");
        assert_eq!(c.to_client("/app"), "/");
        assert_eq!(c.to_client("/app/x"), "/x");
        assert_eq!(c.to_client("/apple"), "/apple");
        assert_eq!(c.to_client("/zookeeper/config"), "/zookeeper/config");
        let none = Chroot::default();
        assert_eq!(none.to_server("/x"), "/x");
    }
}
