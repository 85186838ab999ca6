//! Robustness: mangled variants of valid and broken scenarios must come back as `Ok` or
//! `Err`, never as a panic.

use super::VALID;
use crate::rng::RngStreams;
use crate::scenario::load_str;
use std::path::{Path, PathBuf};

/// Loads `text`, turning a panic into a test failure that shows the input.
fn must_not_panic(text: &str, path: &Path) {
    let result = std::panic::catch_unwind(|| {
        let _ = load_str(text, path)
            .map(|s| s.name)
            .map_err(|e| e.to_string());
    });
    assert!(result.is_ok(), "load_str panicked on:\n{text}");
}

/// Values that tend to break decoders: wrong shapes, extremes, YAML oddities.
const NASTY: &[&str] = &[
    "[",
    "{",
    "~",
    "-1",
    "0",
    "18446744073709551616",
    "1e400",
    ".inf",
    "\"\"",
    "[[]]",
    "{a: {b: c}}",
    "!!binary aGk=",
    "*nope",
    "&a x",
    "'",
    "\t",
    "99999999999999999999999999h",
    "1.5.5",
    "-0",
    "null",
    "true",
    "\"\\u00e9t\u{e9}\"",
];

#[test]
fn truncations_deletions_and_bad_values_never_panic() {
    let path = Path::new("scenario.yaml");
    let mut variants: Vec<String> = Vec::new();
    // Truncated at every 37th byte.
    variants.extend(
        (0..VALID.len())
            .step_by(37)
            .filter_map(|i| VALID.get(..i))
            .map(str::to_string),
    );
    let lines: Vec<&str> = VALID.lines().collect();
    let mut rng = RngStreams::new(42).stream("scenario/mangled");
    for _ in 0..60 {
        // One to three lines (keys) deleted at random.
        let mut kept = lines.clone();
        for _ in 0..=rng.below(3) {
            let i = rng.below(kept.len() as u64) as usize;
            kept.remove(i);
        }
        variants.push(kept.join("\n"));
        // One value replaced by something nasty.
        let mut changed = lines.clone();
        let i = rng.below(changed.len() as u64) as usize;
        let nasty = NASTY[rng.below(NASTY.len() as u64) as usize];
        let replaced = match changed[i].split_once(": ") {
            Some((key, _)) => format!("{key}: {nasty}"),
            None => format!("{}{nasty}", changed[i]),
        };
        changed[i] = &replaced;
        variants.push(changed.join("\n"));
    }
    assert!(variants.len() > 100);
    for v in &variants {
        must_not_panic(v, path);
    }
}

#[test]
fn mangled_fixtures_never_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenario-errors");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        panic!("no fixture directory")
    };
    let mut rng = RngStreams::new(7).stream("scenario/mangled-fixtures");
    for path in entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
    {
        let text = std::fs::read_to_string(&path).expect("readable");
        must_not_panic(&text, &path);
        for _ in 0..10 {
            let cut = rng.below(text.len() as u64 + 1) as usize;
            if let Some(prefix) = text.get(..cut) {
                must_not_panic(prefix, &path);
            }
        }
    }
}

/// The YAML depth budget refuses deep nesting before it can overflow the stack.
#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for depth in [10, 39, 40, 41, 64, 5_000, 100_000] {
        let text = format!("apiVersion: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        must_not_panic(&text, Path::new("deep.yaml"));
        let block: String = (0..depth.min(2_000))
            .map(|i| format!("{}k{i}:\n", " ".repeat(i + 1)))
            .collect();
        must_not_panic(&format!("spec:\n{block}"), Path::new("deep.yaml"));
    }
}
