//! sacrebleu's single-dash multi-letter options (`-lc`, `-tok zh`, ...), which clap would
//! read as clusters of one-letter flags (`-lc` = `-l -c`). Before parsing, each is rewritten
//! to the long option that seq-score gives the same meaning, so that command lines copied from
//! sacrebleu work unchanged.

use std::ffi::OsString;

/// `(sacrebleu's spelling, seq-score's long option)`. Every long option named here exists in
/// the subcommands that take it (`bleu`, `chrf`, `ter`, `sacrebleu`).
pub const SACREBLEU_SPELLINGS: &[(&str, &str)] = &[
    ("-lc", "--lowercase"),
    ("-tok", "--tokenize"),
    ("-sv", "--smooth-value"),
    ("-sl", "--sentence-level"),
    ("-cc", "--chrf-char-order"),
    ("-cw", "--chrf-word-order"),
];

/// Rewrites sacrebleu's spellings in `args` (program name first): an argument equal to a
/// spelling, or a spelling followed by `=VALUE`, becomes the long option. Arguments after
/// `--` (end of options) are left alone, so a file named `-lc` can still be given there.
pub fn normalize(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut options_ended = false;
    args.into_iter()
        .map(|arg| {
            if options_ended {
                return arg;
            }
            let Some(text) = arg.to_str() else {
                return arg;
            };
            if text == "--" {
                options_ended = true;
                return arg;
            }
            let (name, value) = match text.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (text, None),
            };
            match SACREBLEU_SPELLINGS.iter().find(|(s, _)| *s == name) {
                Some((_, long)) => match value {
                    Some(v) => OsString::from(format!("{long}={v}")),
                    None => OsString::from(*long),
                },
                None => arg,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.into_string().expect("UTF-8"))
            .collect()
    }

    #[test]
    fn rewrites_sacrebleu_spellings_only() {
        assert_eq!(
            norm(&[
                "seq-score",
                "bleu",
                "-lc",
                "-tok",
                "zh",
                "-sv=0.5",
                "-l",
                "-w",
                "2"
            ]),
            [
                "seq-score",
                "bleu",
                "--lowercase",
                "--tokenize",
                "zh",
                "--smooth-value=0.5",
                "-l",
                "-w",
                "2"
            ]
        );
        assert_eq!(
            norm(&["seq-score", "chrf", "-cw", "2", "--", "-lc"]),
            ["seq-score", "chrf", "--chrf-word-order", "2", "--", "-lc"]
        );
    }

    #[test]
    fn every_target_is_a_long_option() {
        for (short, long) in SACREBLEU_SPELLINGS {
            assert!(short.starts_with('-') && !short.starts_with("--") && short.len() > 2);
            assert!(long.starts_with("--"));
        }
    }
}
