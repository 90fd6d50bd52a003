//! Every ```console example of README.md and docs/*.md runs as written and prints what it shows
//! (issue 16: the README's compare example had lost its data path and its numbers were stale).
//!
//! A block runs as one bash session, so variables, `export` and background servers carry from
//! one command to the next, in a fresh folder beside a link to `../shared` (the data paths read
//! as from the repository root), with this build's `tailwatch` first on the PATH. Each command's
//! output (stdout and stderr together) must match the lines shown under it: a line `...` stands
//! for any lines, `[..]` for any text within a line, and a date (`2026-12-03`) or a duration
//! (`0.4 s`) for any other. Written by hand rather than with trycmd, which runs one command at a
//! time and cannot keep a server running across a block.
use std::path::{Path, PathBuf};

/// One `$ command` of a block and the lines shown under it.
struct Step {
    command: String,
    expected: Vec<String>,
}

/// The console blocks of a Markdown file: (first line, steps).
fn console_blocks(markdown: &str) -> Vec<(usize, Vec<Step>)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut continued = false;
        for (_, line) in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            if continued {
                let step = steps.last_mut().expect("a continuation follows a command");
                step.command.push('\n');
                step.command.push_str(line);
                continued = line.ends_with('\\');
            } else if let Some(command) = line.strip_prefix("$ ") {
                steps.push(Step { command: command.to_string(), expected: Vec::new() });
                continued = command.ends_with('\\');
            } else {
                let step = steps.last_mut().expect("a block starts with a command");
                step.expected.push(line.to_string());
            }
        }
        blocks.push((number + 1, steps));
    }
    blocks
}

/// The pattern of one shown line.
fn line_pattern(expected: &str) -> regex::Regex {
    let escaped = regex::escape(expected.trim_end());
    let any_text = escaped.replace(r"\[\.\.\]", ".*");
    let date = regex::Regex::new(r"\d\{4\}\-\d\{2\}\-\d\{2\}|\d{4}\\-\d{2}\\-\d{2}").unwrap();
    let dated = date.replace_all(&any_text, r"\d{4}-\d{2}-\d{2}");
    let duration = regex::Regex::new(r"\d+\\\.\d+ s\b").unwrap();
    let timed = duration.replace_all(&dated, r"\d+\.\d+ s");
    regex::Regex::new(&format!("^{timed}$")).unwrap()
}

/// Whether `actual` matches `expected`, `...` lines standing for any lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual.split_first().is_some_and(|(line, others)| {
            line_pattern(first).is_match(line.trim_end()) && matches(rest, others)
        }),
    }
}

/// Run a block's steps in one bash session in `dir`; each step's output.
fn run_block(dir: &Path, steps: &[Step]) -> Vec<String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_tailwatch")).parent().unwrap().to_path_buf();
    // background jobs (a server) end with the block
    let mut script = String::from(
        "cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; }\ntrap cleanup EXIT\nrc=0\n",
    );
    for (i, step) in steps.iter().enumerate() {
        // `$?` is the previous command's status, as in a terminal (`echo $?`)
        script.push_str(&format!("printf '\\n@@step {i}\\n'\n(exit $rc)\n"));
        match step.command.strip_suffix('&') {
            // a background command: its output is what it printed when it was up (its lines)
            Some(command) => script.push_str(&format!(
                "{command} > .bg{i}.log 2>&1 &\nfor _ in $(seq 100); do [ \"$(wc -l < .bg{i}.log)\" -ge {} ] && break; sleep 0.1; done\ncat .bg{i}.log\n",
                step.expected.len()
            )),
            None => script.push_str(&format!("{{ {}\n}} 2>&1\nrc=$?\n", step.command)),
        }
    }
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env_remove("TAILWATCH_TOKEN")
        .env_remove("TAILWATCH_SERVER")
        .env_remove("TAILWATCH_DB")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut outputs = vec![String::new(); steps.len()];
    let mut current = None;
    for line in text.lines() {
        if let Some(i) = line.strip_prefix("@@step ") {
            current = i.parse::<usize>().ok();
        } else if let Some(i) = current {
            outputs[i].push_str(line);
            outputs[i].push('\n');
        }
    }
    outputs
}

fn check_file(relative: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let markdown = std::fs::read_to_string(root.join(relative)).unwrap();
    let mut failures = Vec::new();
    for (line, steps) in console_blocks(&markdown) {
        let base = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            root.join("../shared").canonicalize().unwrap(),
            base.path().join("shared"),
        )
        .unwrap();
        let work: PathBuf = base.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let outputs = run_block(&work, &steps);
        for (step, output) in steps.iter().zip(&outputs) {
            let mut actual: Vec<&str> = output.lines().skip_while(|l| l.is_empty()).collect();
            while actual.last().is_some_and(|l| l.is_empty()) {
                actual.pop();
            }
            if !matches(&step.expected, &actual) {
                failures.push(format!(
                    "{relative}:{line}: `$ {}` printed:\n{}\nbut the example shows:\n{}\n",
                    step.command,
                    actual.join("\n"),
                    step.expected.join("\n")
                ));
            }
        }
    }
    failures
}

#[test]
fn the_matcher_elides_and_normalizes() {
    let expected: Vec<String> =
        ["a", "...", "window 2026-12-03 took 0.4 s", "x [..] z"].map(String::from).to_vec();
    assert!(matches(&expected, &["a", "b", "c", "window 2027-01-31 took 12.0 s", "x y z"]));
    assert!(matches(&expected, &["a", "window 2027-01-31 took 0.1 s", "x  z"]));
    assert!(!matches(&expected, &["a", "window 2027-01-31 took 0.1 s"]));
    assert!(!matches(&expected, &["b", "window 2027-01-31 took 0.1 s", "x y z"]));
}

#[cfg(unix)]
#[test]
fn readme_and_docs_examples_run_as_written() {
    let mut files = vec!["README.md".to_string()];
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let mut names: Vec<String> = std::fs::read_dir(docs)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    files.extend(names);
    let failures: Vec<String> = files.iter().flat_map(|f| check_file(f)).collect();
    assert!(failures.is_empty(), "{} example(s) differ:\n\n{}", failures.len(), failures.join("\n"));
}
