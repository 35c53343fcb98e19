//! Four-letter words: `srvr`, `mntr` and `ruok`, sent to one server over a connection of
//! their own (no session), by `zk_core::four_letter`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde_json::{Map, Value, json};
use zk_core::client::ConnectString;
use zk_core::four_letter::four_letter_word;

use crate::cli::{Global, ServerArg};
use crate::exit::{CliError, DENIED, Outcome, UNAVAILABLE};
use crate::output::{print_line, write_stdout};

/// How long a word may take without `--connect-timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a server says to a word its `4lw.commands.whitelist` leaves out.
const NOT_ALLOWED: &str = "is not executed because it is not in the whitelist";

/// What a server says to `srvr` and `mntr` while it is not serving (no quorum, say).
const NOT_SERVING: &str = "not currently serving requests";

/// Sends `word` to `--server` (default: the first server of `--hosts`) and prints the answer.
pub(crate) async fn four_letter(global: &Global, args: ServerArg, word: &str) -> Outcome {
    let server = args.server.as_deref().unwrap_or(&global.hosts);
    let (host, port) = first_server(server)?;
    let timeout = global.connect_timeout.unwrap_or(DEFAULT_TIMEOUT);
    let name = format!("{host}:{port}");
    let command = word.to_owned();
    let answer = tokio::task::spawn_blocking(move || ask(&host, port, &command, timeout))
        .await
        .map_err(|e| CliError::other(format!("the {word} request failed: {e}")))?
        .map_err(|e| CliError::new(UNAVAILABLE, format!("{word} to {name}: {e}")))?;
    match word {
        "ruok" => ruok(&name, &answer, global.json),
        _ => report(word, &name, &answer, global.json),
    }
}

/// The first `(host, port)` of a connect string (or of one `host:port`).
///
/// # Errors
/// Bad usage when it does not parse.
fn first_server(text: &str) -> Result<(String, u16), CliError> {
    let parsed =
        ConnectString::parse(text).map_err(|e| CliError::usage(format!("server {text:?}: {e}")))?;
    parsed
        .hosts
        .into_iter()
        .next()
        .ok_or_else(|| CliError::usage(format!("server {text:?}: no server named")))
}

/// Resolves `host` and asks each of its addresses in turn until one answers (blocking).
fn ask(host: &str, port: u16, word: &str, timeout: Duration) -> std::io::Result<String> {
    let addresses: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    let mut failure = std::io::Error::new(std::io::ErrorKind::NotFound, "no address found");
    for address in addresses {
        match four_letter_word(address, word, timeout) {
            Ok(answer) => return Ok(answer),
            Err(e) => failure = e,
        }
    }
    Err(failure)
}

/// `ruok`: `imok` and 0 when the server says so, else unavailable.
fn ruok(name: &str, answer: &str, json: bool) -> Outcome {
    if answer.trim() != "imok" {
        let said = if answer.is_empty() {
            "nothing".to_owned()
        } else {
            format!("{:?}", answer.trim())
        };
        return Err(CliError::new(
            UNAVAILABLE,
            format!("{name} is not ok: it answered {said} to ruok"),
        ));
    }
    if json {
        print_line(&json!({ "server": name, "ok": true }).to_string())?;
    } else {
        print_line("imok")?;
    }
    Ok(0)
}

/// `srvr` and `mntr`: the answer as the server gave it, or (`--json`) as an object; denied
/// when the server does not allow the word, unavailable while it is not serving.
fn report(word: &str, name: &str, answer: &str, json: bool) -> Outcome {
    if answer.contains(NOT_ALLOWED) {
        return Err(CliError::new(
            DENIED,
            format!("{name} does not allow {word} (see its 4lw.commands.whitelist)"),
        ));
    }
    if answer.contains(NOT_SERVING) {
        return Err(CliError::new(
            UNAVAILABLE,
            format!("{name} is not serving requests"),
        ));
    }
    if json {
        let fields = if word == "mntr" {
            mntr_fields(answer)
        } else {
            srvr_fields(answer)
        };
        print_line(&Value::Object(fields).to_string())?;
    } else if answer.ends_with('\n') || answer.is_empty() {
        write_stdout(answer.as_bytes())?;
    } else {
        print_line(answer)?;
    }
    Ok(0)
}

/// `mntr`'s `key<TAB>value` lines as an object.
fn mntr_fields(answer: &str) -> Map<String, Value> {
    fields(answer, '\t')
}

/// `srvr`'s `Key: value` lines as an object.
fn srvr_fields(answer: &str) -> Map<String, Value> {
    fields(answer, ':')
}

/// Lines split at the first `separator` into an object, values trimmed and numbers as
/// numbers; lines without it are left out.
fn fields(answer: &str, separator: char) -> Map<String, Value> {
    answer
        .lines()
        .filter_map(|line| line.split_once(separator))
        .map(|(key, value)| (key.trim().to_owned(), scalar(value.trim())))
        .collect()
}

/// A number when `text` is one, else the text.
fn scalar(text: &str) -> Value {
    if let Ok(integer) = text.parse::<i64>() {
        return json!(integer);
    }
    match text.parse::<f64>() {
        Ok(float) if float.is_finite() => json!(float),
        _ => json!(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mntr_lines_become_an_object() {
        let answer = "zk_version\t3.8.0-1, built on 2024\nzk_avg_latency\t0.5\n\
                      zk_znode_count\t5\nzk_server_state\tstandalone\nzk_nan\tNaN\n";
        let fields = Value::Object(mntr_fields(answer));
        assert_eq!(
            fields,
            json!({
                "zk_version": "3.8.0-1, built on 2024",
                "zk_avg_latency": 0.5,
                "zk_znode_count": 5,
                "zk_server_state": "standalone",
                "zk_nan": "NaN",
            })
        );
    }

    #[test]
    fn srvr_lines_split_at_the_first_colon() {
        let answer = "Zookeeper version: 3.8.0, built on 2024-06-16 12:00 UTC\n\
                      Latency min/avg/max: 0/0.0/0\nZxid: 0x200000003\nNode count: 5\n";
        let fields = srvr_fields(answer);
        assert_eq!(
            fields["Zookeeper version"],
            "3.8.0, built on 2024-06-16 12:00 UTC"
        );
        assert_eq!(fields["Latency min/avg/max"], "0/0.0/0");
        assert_eq!(fields["Zxid"], "0x200000003");
        assert_eq!(fields["Node count"], 5);
    }

    #[test]
    fn the_first_server_of_the_hosts_is_asked() {
        assert_eq!(
            first_server("zk1:2182,zk2/app").unwrap(),
            ("zk1".to_owned(), 2182)
        );
        assert_eq!(first_server("[::1]").unwrap(), ("::1".to_owned(), 2181));
        assert_eq!(
            first_server("a:notaport").unwrap_err().code,
            crate::exit::USAGE
        );
    }

    #[test]
    fn anything_but_imok_is_unavailable() {
        for answer in ["", "ruok is not executed\n", "imnotok"] {
            assert_eq!(ruok("s", answer, false).unwrap_err().code, UNAVAILABLE);
        }
    }
}
