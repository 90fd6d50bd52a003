//! Old spellings of renamed flags: they keep working for one release (clap aliases), and using
//! one prints a note naming the new spelling.

/// Each renamed flag: the command it belongs to, its old spelling, its new one.
const RENAMED: [(&[&str], &str, &str); 5] = [
    (&["push"], "--version", "--model-version"),
    (&["detect", "score"], "--model", "--detector"),
    (&["detect", "eval"], "--model", "--detector"),
    (&["demo"], "--out", "--output"),
    (&["ledger", "review", "sample"], "--n", "--size"),
];

/// The notes for the old spellings in `args` (the program's arguments, without its name).
pub fn notes(args: &[String]) -> Vec<String> {
    let flags_end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let args = &args[..flags_end];
    let mut notes = Vec::new();
    for (command, old, new) in RENAMED {
        let Some(start) = args.iter().position(|a| a == command[0]) else { continue };
        if !args[start..].starts_with(&command.iter().map(|w| w.to_string()).collect::<Vec<_>>()) {
            continue;
        }
        let used = args[start + command.len()..]
            .iter()
            .any(|a| a == old || a.strip_prefix(old).is_some_and(|rest| rest.starts_with('=')));
        if used {
            notes.push(format!(
                "note: `{} {old}` is now `{new}`; the old spelling works until the next release",
                command.join(" ")
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn old_spellings_get_a_note_and_new_ones_none() {
        assert_eq!(notes(&args("push a.txt --model m --version v1")).len(), 1);
        assert_eq!(notes(&args("push a.txt --model m --model-version v1")), Vec::<String>::new());
        assert_eq!(notes(&args("detect score x.jsonl --model=d.json")).len(), 1);
        assert!(notes(&args("detect train --human h -o d.json")).is_empty());
        assert_eq!(notes(&args("-q ledger review sample --n 5")).len(), 1);
        assert!(notes(&args("score a.txt -- --n")).is_empty());
    }
}
