//! `cargo xtask fuzz`: runs the `cargo fuzz` targets in `fuzz/` for a while each, then replays
//! the saved crash inputs in `fuzz/regressions/`.
//!
//! `cargo fuzz` needs nightly-only compiler flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain
//! accept them, so no nightly is needed.
//! Before each run the seed corpus is written from the captured frames in
//! `crates/zk-core/tests/vectors/` into `fuzz/corpus/TARGET/` (ignored by git, kept between runs
//! so the fuzzer builds on earlier runs); `fuzz/seeds/TARGET/` adds a few committed seeds.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Failure;
use crate::step::Step;

/// How long each target runs unless `--seconds` says otherwise.
const DEFAULT_SECONDS: u64 = 60;

/// libFuzzer options every run gets (besides `-max_total_time`).
const LIBFUZZER_OPTIONS: &[&str] = &[
    // A decoder that allocates far more than its input is a bug: fail on it.
    "-rss_limit_mb=2048",
    // Twice the frames seen in the vectors and far beyond every header and record size.
    "-max_len=65536",
    // Any input taking this long is a hang.
    "-timeout=10",
];

/// Where the captured frames live, relative to the workspace root.
const VECTORS_DIR: &str = "crates/zk-core/tests/vectors";

/// What `cargo xtask fuzz` was asked to do.
#[derive(Debug)]
struct Options {
    seconds: u64,
    target: Option<String>,
}

/// Runs the fuzz targets (all, or `--target NAME`) for `--seconds N` each (default 60), then
/// replays `fuzz/regressions/TARGET/*`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let options = parse_args(args)?;
    let root = crate::root();
    let fuzz_dir = root.join("fuzz");
    let all = targets(&fuzz_dir)?;
    let targets = match &options.target {
        None => all,
        Some(name) if all.contains(name) => vec![name.clone()],
        Some(name) => {
            return Err(format!(
                "no fuzz target `{name}`; the targets are: {}",
                all.join(", ")
            ));
        }
    };

    println!("==> [setup] checking for cargo-fuzz");
    ensure_cargo_fuzz()?;

    let mut summaries = Vec::new();
    for target in &targets {
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        let written = write_vector_seeds(target, &root.join(VECTORS_DIR), &corpus)?;
        println!(
            "\n==> [seeds] {written} seed inputs from {VECTORS_DIR} written to fuzz/corpus/{target}/"
        );
        if options.seconds == 0 {
            println!("==> [fuzz {target}] skipped (--seconds 0)");
        } else {
            summaries.push((target, fuzz(target, &fuzz_dir, &corpus, options.seconds)?));
        }
    }
    for target in &targets {
        replay(target, &fuzz_dir)?;
    }

    if summaries.is_empty() {
        println!("\n==> saved inputs replayed, nothing fuzzed");
        return Ok(());
    }
    println!("\n==> fuzzing found nothing");
    for (target, summary) in &summaries {
        println!("    {target:<14} {summary}");
    }
    Ok(())
}

fn parse_args(args: &[String]) -> Result<Options, Failure> {
    let mut options = Options {
        seconds: DEFAULT_SECONDS,
        target: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("`{flag}` needs a value"))
        };
        match flag {
            "--seconds" => {
                let text = value()?;
                options.seconds = text
                    .parse()
                    .map_err(|_| format!("`--seconds {text}`: not a whole number of seconds"))?;
            }
            "--target" => options.target = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument `{other}` (usage: cargo xtask fuzz [--seconds N] [--target NAME])"
                ));
            }
        }
    }
    Ok(options)
}

/// The targets: the files in `fuzz/fuzz_targets/`, sorted.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>, Failure> {
    let dir = fuzz_dir.join("fuzz_targets");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rs") {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(format!("no fuzz targets in {}", dir.display()));
    }
    Ok(names)
}

/// Installs cargo-fuzz when `cargo fuzz --version` fails.
fn ensure_cargo_fuzz() -> Result<(), Failure> {
    let installed =
        || crate::setup::succeeds(Command::new(crate::cargo()).args(["fuzz", "--version"]));
    if installed() {
        println!("==> cargo-fuzz is installed");
        return Ok(());
    }
    println!("==> cargo-fuzz is missing: installing it with `cargo install cargo-fuzz --locked`");
    Step::cargo("install", &["install", "cargo-fuzz", "--locked"]).run()?;
    if installed() {
        Ok(())
    } else {
        Err("`cargo fuzz --version` still fails after installing cargo-fuzz".to_owned())
    }
}

/// A `cargo fuzz run TARGET` step, on the stable toolchain.
fn cargo_fuzz_run(name: &'static str, target: &str, fuzz_dir: &Path) -> Step {
    Step::cargo(name, &["fuzz", "run", "--debug-assertions", "--fuzz-dir"])
        .args([fuzz_dir.as_os_str()])
        .args([target])
        .env("RUSTC_BOOTSTRAP", "1")
}

/// Runs one target for `seconds`; returns libFuzzer's closing statistics.
fn fuzz(target: &str, fuzz_dir: &Path, corpus: &Path, seconds: u64) -> Result<String, Failure> {
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let before = list_files(&artifacts);
    let seeds = fuzz_dir.join("seeds").join(target);
    let mut step = cargo_fuzz_run("fuzz", target, fuzz_dir).args([corpus]);
    if seeds.is_dir() {
        step = step.args([&seeds]);
    }
    let mut last_stats = String::new();
    let mut done = None;
    let result = step
        .args(["--", &format!("-max_total_time={seconds}")])
        .args(LIBFUZZER_OPTIONS)
        .run_watching_stderr(|line| {
            if line.starts_with('#') && line.contains("cov:") {
                last_stats = line.to_owned();
            }
            if line.starts_with("Done ") {
                done = Some(line.to_owned());
            }
        });
    let found: Vec<PathBuf> = list_files(&artifacts)
        .into_iter()
        .filter(|path| !before.contains(path))
        .collect();
    if !found.is_empty() {
        let shown: Vec<String> = found.iter().map(|p| format!("  {}", p.display())).collect();
        return Err(format!(
            "fuzz target `{target}` failed; the input is saved as:\n{}\n  \
             reproduce with `RUSTC_BOOTSTRAP=1 cargo fuzz run {target} PATH`, and keep it as a \
             regression under fuzz/regressions/{target}/",
            shown.join("\n")
        ));
    }
    result?;
    // `#123456\tDONE   cov: 1973 ft: 5157 corp: 595/53Kb lim: 443 exec/s: 3773 rss: 201Mb`
    let mut words = last_stats.split_whitespace();
    let runs = words.next().unwrap_or("#?").trim_start_matches('#');
    let stats: Vec<&str> = words.skip(1).collect();
    Ok(format!(
        "{runs} runs, {} ({})",
        stats.join(" "),
        done.unwrap_or_else(|| "no closing line from libFuzzer".to_owned())
    ))
}

/// Runs every saved input in `fuzz/regressions/TARGET/` through the target once.
fn replay(target: &str, fuzz_dir: &Path) -> Result<(), Failure> {
    let dir = fuzz_dir.join("regressions").join(target);
    let mut inputs: Vec<PathBuf> = list_files(&dir).into_iter().collect();
    if inputs.is_empty() {
        println!("\n==> [replay {target}] no saved inputs in fuzz/regressions/{target}/");
        return Ok(());
    }
    inputs.sort();
    println!(
        "\n==> [replay {target}] {} saved inputs from fuzz/regressions/{target}/",
        inputs.len()
    );
    cargo_fuzz_run("replay", target, fuzz_dir)
        .args(&inputs)
        .args(["--", "-runs=1"])
        .args(LIBFUZZER_OPTIONS)
        .run()
        .map(drop)
        .map_err(|e| {
            format!(
                "{e}\n  a saved input in fuzz/regressions/{target}/ fails again: libFuzzer's \
                 output above names it"
            )
        })
}

/// The files directly in `dir` (none when it is missing).
fn list_files(dir: &Path) -> BTreeSet<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect()
}

/// One frame of a vector file.
#[derive(Debug)]
struct Frame {
    response: bool,
    /// The connection, from a `[conn X ...]` prefix of the meaning ("" when there is none).
    conn: String,
    bytes: Vec<u8>,
}

/// Writes the seed inputs for `target` built from every vector file; returns how many.
fn write_vector_seeds(target: &str, vectors: &Path, corpus: &Path) -> Result<usize, Failure> {
    let mut files: Vec<PathBuf> = list_files(vectors)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut written = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let frames = parse_vector(&text)
            .map_err(|e| format!("cannot read the frames of {}: {e}", file.display()))?;
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let seeds = match target {
            "decode" => decode_seeds(&frames),
            "client_stream" => client_stream_seeds(&frames),
            _ => Vec::new(),
        };
        for (index, seed) in seeds.iter().enumerate() {
            let path = corpus.join(format!("vector-{stem}-{index}"));
            std::fs::write(&path, seed)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written += 1;
        }
    }
    Ok(written)
}

/// Reads the `direction`, `hex` and `meaning` of every frame of a vector file.
///
/// Not a JSON parser: it relies on the files' layout (one object per frame, `direction`, then
/// `hex`, then `meaning`), where a quote inside a string is always escaped.
fn parse_vector(text: &str) -> Result<Vec<Frame>, String> {
    let mut frames = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("\"direction\": \"") {
        rest = &rest[at..];
        let direction = string_field(rest, "direction").ok_or("no direction value")?;
        let hex = string_field(rest, "hex").ok_or("no hex after a direction")?;
        let meaning = string_field(rest, "meaning").unwrap_or_default();
        let conn = meaning
            .strip_prefix("[conn ")
            .and_then(|m| m.split([' ', ']']).next())
            .unwrap_or("")
            .to_owned();
        frames.push(Frame {
            response: direction == "response",
            conn,
            bytes: from_hex(hex).ok_or_else(|| format!("bad hex {hex:?}"))?,
        });
        rest = &rest["\"direction\"".len()..];
    }
    Ok(frames)
}

/// The raw text of the first `"key": "..."` string in `text`.
fn string_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\": \"");
    let start = text.find(&pattern)? + pattern.len();
    let value = &text[start..];
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(&value[..i]),
            _ => escaped = false,
        }
    }
    None
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The payload of a well-formed frame (its length prefix matches its size).
fn payload(frame: &[u8]) -> Option<&[u8]> {
    let (prefix, rest) = frame.split_at_checked(4)?;
    let len = i32::from_be_bytes(prefix.try_into().ok()?);
    (usize::try_from(len).ok()? == rest.len()).then_some(rest)
}

/// A big-endian `i32` at `at`.
fn int_at(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The xid and opcode of a request frame (`None` for a ConnectRequest or a non-frame).
fn request_header(frame: &Frame) -> Option<(i32, i32)> {
    let payload = payload(&frame.bytes)?;
    let op = int_at(payload, 4)?;
    // Opcodes fit in a signed byte; 0 (a ConnectRequest's zxid bytes) is none.
    (op != 0 && i8::try_from(op).is_ok()).then_some((int_at(payload, 0)?, op))
}

/// `decode` seeds: each frame after the opcode of the request it answers (or carries), and each
/// connection's replies as one stream.
fn decode_seeds(frames: &[Frame]) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut ops: HashMap<(&str, i32), i32> = HashMap::new();
    let mut streams: Vec<(&str, Vec<u8>)> = Vec::new();
    for frame in frames.iter().filter(|f| !f.bytes.is_empty()) {
        let op = if frame.response {
            payload(&frame.bytes)
                .and_then(|p| int_at(p, 0))
                .and_then(|xid| ops.get(&(frame.conn.as_str(), xid)).copied())
                .unwrap_or(0)
        } else {
            let header = request_header(frame);
            if let Some((xid, op)) = header {
                ops.insert((frame.conn.as_str(), xid), op);
            }
            header.map_or(0, |(_, op)| op)
        };
        let mut seed = vec![op as i8 as u8];
        seed.extend_from_slice(&frame.bytes);
        seeds.push(seed);
        if frame.response {
            match streams.iter_mut().find(|(conn, _)| *conn == frame.conn) {
                Some((_, stream)) => stream.extend_from_slice(&frame.bytes),
                None => streams.push((&frame.conn, [&[0][..], &frame.bytes].concat())),
            }
        }
    }
    seeds.extend(streams.into_iter().map(|(_, stream)| stream));
    seeds
}

/// `client_stream` seeds: each connection's conversation, in the target's record format (see
/// `fuzz/fuzz_targets/client_stream.rs`), read at once and in small reads.
fn client_stream_seeds(frames: &[Frame]) -> Vec<Vec<u8>> {
    let mut conns: Vec<&str> = Vec::new();
    for frame in frames {
        if !conns.contains(&frame.conn.as_str()) {
            conns.push(&frame.conn);
        }
    }
    let mut seeds = Vec::new();
    for conn in conns {
        let frames: Vec<&Frame> = frames
            .iter()
            .filter(|f| f.conn == conn && !f.bytes.is_empty())
            .collect();
        // Requests answered by xid, in the order they were sent (at most 200, so that the
        // special xids -2, -4 and -8 written as bytes are never pending-request indexes).
        let pending: Vec<(i32, i32)> = frames
            .iter()
            .filter(|f| !f.response)
            .filter_map(|f| request_header(f))
            .filter(|(xid, _)| *xid > 0)
            .take(200)
            .collect();
        let mut records = Vec::new();
        for frame in frames.iter().filter(|f| f.response) {
            records.extend(client_stream_record(&frame.bytes, &pending));
        }
        if records.is_empty() {
            continue;
        }
        // Flag bit 1: an auth packet is in flight.
        let auth = frames
            .iter()
            .filter(|f| !f.response)
            .any(|f| request_header(f).is_some_and(|(xid, _)| xid == -4));
        let mut head = vec![0, pending.len() as u8];
        head.extend(pending.iter().map(|(_, op)| *op as i8 as u8));
        for reads in [0u8, 0b0001_0100] {
            head[0] = reads | if auth { 0b10 } else { 0 };
            seeds.push([&head[..], &records[..]].concat());
        }
    }
    seeds
}

/// One server frame as a `client_stream` record: a built reply when it answers a request
/// (so that mutating its body keeps the framing), else the payload or the raw bytes.
fn client_stream_record(bytes: &[u8], pending: &[(i32, i32)]) -> Vec<u8> {
    let record = |tag: u8, head: &[u8], data: &[u8]| -> Option<Vec<u8>> {
        let len = u16::try_from(data.len()).ok()?;
        Some([&[tag][..], head, &len.to_be_bytes(), data].concat())
    };
    let Some(payload) = payload(bytes) else {
        return record(0, &[], bytes).unwrap_or_default();
    };
    let reply = (|| {
        let xid = int_at(payload, 0)?;
        let err = i8::try_from(int_at(payload, 12)?).ok()?;
        let pick = match xid {
            -2 | -4 | -8 => xid as i8 as u8,
            _ => u8::try_from(pending.iter().position(|(x, _)| *x == xid)?).ok()?,
        };
        record(2, &[pick, err as u8], payload.get(16..)?)
    })();
    reply
        .or_else(|| record(1, &[], payload))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str = r#"[
  {
    "direction": "request",
    "hex": "000000080000000100000004",
    "meaning": "[conn A (watcher)] getData \"quoted\": \"x\""
  },
  {
    "direction": "response",
    "hex": "00000014000000010000000000000007000000000000abcd",
    "meaning": "[conn A (watcher)] reply"
  },
  {"direction": "response", "hex": "", "meaning": "server closed"}
]"#;

    #[test]
    fn vector_frames_are_read_with_their_connection() {
        let frames = parse_vector(VECTOR).unwrap();
        assert_eq!(frames.len(), 3);
        assert!(!frames[0].response && frames[1].response);
        assert_eq!(frames[0].conn, "A");
        assert_eq!(frames[0].bytes, [0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4]);
        assert!(frames[2].bytes.is_empty());
    }

    #[test]
    fn decode_seeds_put_the_request_opcode_first() {
        let frames = parse_vector(VECTOR).unwrap();
        let seeds = decode_seeds(&frames);
        assert_eq!(seeds[0][0], 4);
        assert_eq!(seeds[1][0], 4, "the reply is tagged with getData");
        assert_eq!(&seeds[1][1..], &frames[1].bytes[..]);
        assert_eq!(seeds.len(), 3, "two frames and one reply stream");
    }

    #[test]
    fn client_stream_seeds_build_replies_for_pending_requests() {
        let frames = parse_vector(VECTOR).unwrap();
        let seeds = client_stream_seeds(&frames);
        assert_eq!(seeds.len(), 2);
        // flags, one pending getData, then a reply record to pending request 0 with err 0 and
        // the 4-byte body.
        assert_eq!(seeds[0], [0, 1, 4, 2, 0, 0, 0, 4, 0, 0, 0xab, 0xcd]);
    }

    #[test]
    fn arguments_are_parsed() {
        let args = |a: &[&str]| parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let options = args(&["--seconds", "5", "--target=decode"]).unwrap();
        assert_eq!(
            (options.seconds, options.target.as_deref()),
            (5, Some("decode"))
        );
        assert_eq!(args(&[]).unwrap().seconds, DEFAULT_SECONDS);
        assert!(args(&["--seconds", "x"]).is_err());
        assert!(args(&["--seconds"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
