//! Outputs never destroy data: one test per case of the hostile-input probe (issue 16).
use std::path::Path;

use super::{tailwatch, write};

const CORPUS: &[u8] = b"the cat sat on the mat\nthe cat sat on the mat\na dog ran in the park\n";

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `dedup a/x.txt b/x.txt -o dir/` wrote both kept files to `dir/x.txt`: the first was lost.
#[test]
fn two_inputs_with_one_file_name_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b", "out"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let a = write(&dir.path().join("a"), "x.txt", CORPUS);
    let b = write(&dir.path().join("b"), "x.txt", b"another line of text\n");
    let out = dir.path().join("out");
    let run = tailwatch(&["dedup", &a, &b, "-o", out.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("would both be written to") && run.stderr.contains("x.txt"),
        "{}",
        run.stderr
    );
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
}

/// `dedup --clusters/--pairs` overwrote their own input; two outputs of a run may not be one file.
#[test]
fn dedup_reports_never_land_on_an_input_or_on_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", CORPUS);
    let kept = dir.path().join("kept.txt");
    let kept = kept.to_str().unwrap();
    let clusters = dir.path().join("c.jsonl");
    let clusters = clusters.to_str().unwrap();
    let alias = format!("{}/./in.txt", dir.path().display());
    for (args, needle) in [
        (vec!["dedup", &input, "--clusters", &input], "is also an input of this run"),
        (vec!["dedup", &input, "--pairs", &alias], "is also an input of this run"),
        (vec!["dedup", &input, "-o", kept, "--clusters", kept], "are the same file"),
        (vec!["dedup", &input, "--clusters", clusters, "--pairs", clusters], "are the same file"),
    ] {
        let run = tailwatch(&[&args[..], &["-q"]].concat());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert_eq!(std::fs::read(&input).unwrap(), CORPUS, "{args:?} changed the input");
        assert_eq!(entries(dir.path()), ["in.txt"], "{args:?} left files");
    }
    // a device may take several outputs at once
    let run = tailwatch(&["dedup", &input, "--clusters", "/dev/null", "--pairs", "/dev/null", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// `-o /dev/null` replaced the device with a regular file (as root); it is written in place.
#[cfg(unix)]
#[test]
fn a_device_output_is_written_in_place() {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", CORPUS);
    let before = std::fs::metadata("/dev/null").unwrap();
    for args in [
        vec!["dedup", input.as_str(), "-o", "/dev/null", "-q"],
        vec!["profile", input.as_str(), "-o", "/dev/null", "-q"],
        vec!["score", input.as_str(), "--html", "/dev/null", "-q"],
    ] {
        let run = tailwatch(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let after = std::fs::metadata("/dev/null").unwrap();
        assert!(after.file_type().is_char_device(), "{args:?}");
        assert_eq!((before.ino(), before.rdev()), (after.ino(), after.rdev()), "{args:?}");
    }
}

/// Symlinks were replaced by regular files; they are refused, naming where they point.
#[cfg(unix)]
#[test]
fn a_symlink_output_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", CORPUS);
    let real = write(dir.path(), "real.html", b"keep me");
    let link = dir.path().join("link.html");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let links = link.to_str().unwrap();
    for args in [
        vec!["score", input.as_str(), "--html", links, "-q"],
        vec!["dedup", input.as_str(), "-o", links, "-q"],
        vec!["simulate", "gaussian", "--replicates", "10", "--generations", "2", "--html", links, "-q"],
    ] {
        let run = tailwatch(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is a symbolic link") && run.stderr.contains("real.html"),
            "{}",
            run.stderr
        );
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "{args:?}");
        assert_eq!(std::fs::read(&real).unwrap(), b"keep me", "{args:?}");
    }
    // the file it points to, named itself, is written
    let run = tailwatch(&["score", &input, "--html", &real, "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read_to_string(&real).unwrap().contains("<html"));
}

/// dedup outputs were mode 0600 whatever the umask; they follow it like any new file.
#[cfg(unix)]
#[test]
fn output_modes_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", CORPUS);
    let kept = dir.path().join("kept.txt");
    let clusters = dir.path().join("clusters.jsonl");
    let twp = dir.path().join("in.twp");
    let script = format!(
        "umask 022 && {bin} dedup {input} -o {kept} --clusters {clusters} -q >/dev/null && {bin} profile {input} -o {twp} -q",
        bin = env!("CARGO_BIN_EXE_tailwatch"),
        kept = kept.display(),
        clusters = clusters.display(),
        twp = twp.display(),
    );
    let status = std::process::Command::new("sh").args(["-c", &script]).status().unwrap();
    assert!(status.success());
    for path in [&kept, &clusters, &twp] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{}: {mode:o}", path.display());
    }
}

/// Failed runs left `*.tmp` behind and replaced outputs partly; a failure leaves the old output
/// and no temporary file.
#[test]
fn a_failed_run_keeps_the_old_output_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<u8> = Vec::new();
    for i in 0..5000 {
        lines.extend(format!("{{\"text\": \"record number {i} of the corpus\"}}\n").as_bytes());
    }
    lines.extend(b"{\"text\": broken\n");
    let input = write(dir.path(), "in.jsonl", &lines);
    let clusters = write(dir.path(), "clusters.jsonl", b"old clusters\n");
    let kept = write(dir.path(), "kept.jsonl", b"old kept\n");
    let before = entries(dir.path());
    let run = tailwatch(&["dedup", &input, "-o", &kept, "--clusters", &clusters, "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("line 5001"), "{}", run.stderr);
    assert_eq!(std::fs::read(&clusters).unwrap(), b"old clusters\n");
    assert_eq!(std::fs::read(&kept).unwrap(), b"old kept\n");
    assert_eq!(entries(dir.path()), before);
}

/// `score --html`, `simulate --html` and `detect train` overwrote their own input.
#[test]
fn report_files_never_replace_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", CORPUS);
    let reference = write(dir.path(), "ref.txt", CORPUS);
    for args in [
        vec!["score", input.as_str(), "--html", input.as_str()],
        vec!["score", input.as_str(), "--reference", reference.as_str(), "--html", reference.as_str()],
        vec!["score", input.as_str(), "--per-doc", input.as_str()],
        vec!["simulate", "ngram", "--corpus", input.as_str(), "--generations", "1", "--html", input.as_str()],
    ] {
        let run = tailwatch(&[&args[..], &["-q"]].concat());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("is also an input of this run"), "{args:?}: {}", run.stderr);
        assert_eq!(std::fs::read(&input).unwrap(), CORPUS, "{args:?}");
        assert_eq!(std::fs::read(&reference).unwrap(), CORPUS, "{args:?}");
    }
}
