//! Choosing an example's backend: the in-memory fake by default, real servers when the command
//! line (`--hosts`) or the environment (`ZK_HOSTS`) names them. Shared by every example.

/// Where an example's sessions come from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A fresh in-memory `zk_fake::FakeEnsemble`.
    Fake,
    /// A real ensemble at this connect string.
    Hosts(String),
    /// The user asked for help.
    Help,
}

/// The usage line of `example`, shown for `--help` and with an unknown argument.
pub(crate) fn usage(example: &str) -> String {
    format!(
        "usage: cargo run --example {example} [-- --hosts HOST:PORT[,HOST:PORT...]]
  without --hosts (and without ZK_HOSTS) the example runs on the in-memory fake ensemble"
    )
}

/// Chooses the backend from the command line, then from `ZK_HOSTS` (ignored when empty);
/// `usage` is shown with an unknown argument.
pub(crate) fn target(
    usage: &str,
    args: impl IntoIterator<Item = String>,
    env_hosts: Option<String>,
) -> Result<Target, String> {
    let mut args = args.into_iter();
    let mut hosts = None;
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--hosts=") {
            hosts = Some(value.to_owned());
        } else if arg == "--hosts" {
            hosts = Some(
                args.next()
                    .ok_or("--hosts needs a value such as 127.0.0.1:2181")?,
            );
        } else if arg == "-h" || arg == "--help" {
            return Ok(Target::Help);
        } else {
            return Err(format!("unknown argument {arg:?}\n{usage}"));
        }
    }
    match hosts.or(env_hosts.filter(|h| !h.trim().is_empty())) {
        Some(hosts) if hosts.trim().is_empty() => Err("--hosts needs a non-empty value".into()),
        Some(hosts) => Ok(Target::Hosts(hosts)),
        None => Ok(Target::Fake),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hosts_come_from_the_flag_then_the_environment() {
        let env = || Some("env:2181".to_owned());
        assert_eq!(target("u", args(&[]), None).unwrap(), Target::Fake);
        assert_eq!(
            target("u", args(&[]), Some(" ".into())).unwrap(),
            Target::Fake
        );
        assert_eq!(
            target("u", args(&[]), env()).unwrap(),
            Target::Hosts("env:2181".into())
        );
        assert_eq!(
            target("u", args(&["--hosts", "a:1,b:2"]), env()).unwrap(),
            Target::Hosts("a:1,b:2".into())
        );
        assert_eq!(
            target("u", args(&["--hosts=a:1"]), None).unwrap(),
            Target::Hosts("a:1".into())
        );
        assert_eq!(target("u", args(&["--help"]), env()).unwrap(), Target::Help);
    }

    #[test]
    fn bad_arguments_are_refused_with_the_usage() {
        assert!(target("u", args(&["--hosts"]), None).is_err());
        assert!(target("u", args(&["--hosts="]), None).is_err());
        let error = target("usage: x", args(&["--verbose"]), None).unwrap_err();
        assert!(error.ends_with("usage: x"), "{error}");
    }
}
