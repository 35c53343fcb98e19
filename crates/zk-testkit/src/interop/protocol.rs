//! The line protocol between a test and its helpers: the test writes one command a line on the
//! helper's standard input, the helper answers with lines on its standard output.

/// The bytes that send `command`: the command and a newline.
///
/// # Errors
/// When `command` is empty or holds a line break, which would send two commands or none.
pub(crate) fn command_line(command: &str) -> Result<String, String> {
    if command.is_empty() || command.contains(['\n', '\r']) {
        return Err(format!("{command:?} is not one command line"));
    }
    Ok(format!("{command}\n"))
}

/// A line as the helper printed it, less the carriage return a Windows-style `println` adds.
pub(crate) fn reply(mut line: String) -> String {
    if line.ends_with('\r') {
        line.pop();
    }
    line
}

/// The one of `wants` that `line` is, if any.
pub(crate) fn matching<'w>(line: &str, wants: &[&'w str]) -> Option<&'w str> {
    wants.iter().copied().find(|want| *want == line)
}

/// `wants` for a message: `` `held` `` or `` one of `acquired`, `blocked` ``.
pub(crate) fn wanted(wants: &[&str]) -> String {
    let quoted: Vec<String> = wants.iter().map(|w| format!("`{w}`")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_one_line() {
        assert_eq!(command_line("release").unwrap(), "release\n");
        assert_eq!(command_line("put 3 a b").unwrap(), "put 3 a b\n");
        for bad in ["", "release\n", "a\nb", "acquire\r"] {
            let err = command_line(bad).unwrap_err();
            assert!(err.contains("not one command line"), "{err}");
        }
    }

    #[test]
    fn replies_lose_only_a_trailing_carriage_return() {
        assert_eq!(reply("held\r".to_owned()), "held");
        assert_eq!(reply("held".to_owned()), "held");
        assert_eq!(reply(" held ".to_owned()), " held ");
        assert_eq!(reply(String::new()), "");
    }

    #[test]
    fn a_reply_matches_a_wanted_word_whole() {
        let wants = ["acquired", "blocked"];
        assert_eq!(matching("blocked", &wants), Some("blocked"));
        assert_eq!(matching("acquired", &wants), Some("acquired"));
        assert_eq!(matching("acquired twice", &wants), None);
        assert_eq!(matching("", &wants), None);
        assert_eq!(matching("held", &[]), None);
    }

    #[test]
    fn wanted_words_read_naturally() {
        assert_eq!(wanted(&["held"]), "`held`");
        assert_eq!(
            wanted(&["acquired", "blocked"]),
            "one of `acquired`, `blocked`"
        );
    }
}
