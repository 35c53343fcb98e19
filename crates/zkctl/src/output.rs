//! What commands print: node data as text or base64, Stats, JSON.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use zk_core::Stat;

use crate::exit::CliError;

/// Node data for JSON: `{"text": ...}` when it is UTF-8, else `{"base64": ...}`.
pub(crate) fn data_json(data: &[u8]) -> Value {
    match std::str::from_utf8(data) {
        Ok(text) => json!({ "text": text }),
        Err(_) => json!({ "base64": STANDARD.encode(data) }),
    }
}

/// Node data back from [`data_json`]'s form.
///
/// # Errors
/// Neither form, or bad base64.
pub(crate) fn data_from_json(value: &Value) -> Result<Vec<u8>, CliError> {
    if let Some(text) = value.get("text").and_then(Value::as_str) {
        return Ok(text.as_bytes().to_vec());
    }
    if let Some(encoded) = value.get("base64").and_then(Value::as_str) {
        return STANDARD
            .decode(encoded)
            .map_err(|e| CliError::usage(format!("bad base64 data: {e}")));
    }
    Err(CliError::usage(format!(
        "data must be {{\"text\": ...}} or {{\"base64\": ...}}, not {value}"
    )))
}

/// A Stat as JSON, with ZooKeeper's field names.
pub(crate) fn stat_json(stat: &Stat) -> Value {
    json!({
        "czxid": stat.czxid,
        "mzxid": stat.mzxid,
        "ctime": stat.ctime,
        "mtime": stat.mtime,
        "version": stat.version,
        "cversion": stat.cversion,
        "aversion": stat.aversion,
        "ephemeralOwner": stat.ephemeral_owner,
        "dataLength": stat.data_length,
        "numChildren": stat.num_children,
        "pzxid": stat.pzxid,
    })
}

/// A Stat as `name = value` lines, as zkCli.sh prints it.
pub(crate) fn stat_text(stat: &Stat) -> String {
    format!(
        "cZxid = {:#x}\nctime = {}\nmZxid = {:#x}\nmtime = {}\npZxid = {:#x}\ncversion = {}\ndataVersion = {}\naclVersion = {}\nephemeralOwner = {:#x}\ndataLength = {}\nnumChildren = {}",
        stat.czxid,
        stat.ctime,
        stat.mzxid,
        stat.mtime,
        stat.pzxid,
        stat.cversion,
        stat.version,
        stat.aversion,
        stat.ephemeral_owner,
        stat.data_length,
        stat.num_children
    )
}

/// Prints `value` as one line of JSON.
///
/// # Errors
/// As [`write_stdout`].
pub(crate) fn print_json(value: &Value) -> Result<(), CliError> {
    print_line(&value.to_string())
}

/// Writes `bytes` to standard output as they are, and flushes (so a reader of a pipe sees
/// each result at once).
///
/// # Errors
/// Standard output is closed (a pipe whose reader went away) or cannot be written.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::other(format!("writing standard output: {e}")))
}

/// Prints `line` and a newline on standard output, and flushes; unlike `println!`, a closed
/// pipe is an error rather than a panic.
///
/// # Errors
/// As [`write_stdout`].
pub(crate) fn print_line(line: &str) -> Result<(), CliError> {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// A data argument: the text itself, or standard input for `-`.
///
/// # Errors
/// Standard input could not be read.
pub(crate) fn data_arg(arg: &str) -> Result<Vec<u8>, CliError> {
    if arg != "-" {
        return Ok(arg.as_bytes().to_vec());
    }
    let mut data = Vec::new();
    std::io::stdin()
        .read_to_end(&mut data)
        .map_err(|e| CliError::other(format!("reading standard input: {e}")))?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trips_as_text_or_base64() {
        for data in [&b"plain text"[..], b"", b"\xff\x00\x01binary"] {
            let encoded = data_json(data);
            assert_eq!(data_from_json(&encoded).unwrap(), data);
        }
        assert_eq!(data_json(b"hi"), json!({"text": "hi"}));
        assert!(data_json(b"\xff").get("base64").is_some());
        assert!(data_from_json(&json!({"base64": "!!"})).is_err());
        assert!(data_from_json(&json!(3)).is_err());
    }
}
