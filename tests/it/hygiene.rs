//! The determinism rules of the library, checked on the source: no wall-clock reads and no
//! std hash maps outside the binary (clippy.toml enforces the same at lint time).

use crate::harness::repo_path;

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn library_reads_no_clock_and_uses_no_hash_map() {
    let mut files = Vec::new();
    rust_files(&repo_path("src"), &mut files);
    files.sort();
    let banned = [
        "HashMap",
        "HashSet",
        "Instant::now",
        "SystemTime",
        "thread_rng",
        "from_entropy",
    ];
    let mut offences = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        if name == "main.rs" || name == "cli.rs" {
            continue; // the binary may time a run
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            for b in banned {
                if code.contains(b) {
                    offences.push(format!("{}:{}: {b}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(files.len() > 20);
    assert!(
        offences.is_empty(),
        "banned in the library:\n{}",
        offences.join("\n")
    );
}
