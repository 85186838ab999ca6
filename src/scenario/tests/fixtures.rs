//! Broken scenario files under `tests/fixtures/scenario-errors/`: each must be refused with
//! the messages its `# expect:` lines list.

use crate::scenario::load;
use std::path::PathBuf;

#[test]
fn every_broken_fixture_is_refused_as_expected() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenario-errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "fixtures: {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable fixture");
        let expects: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expects.is_empty(),
            "{} has no `# expect:` line",
            file.display()
        );
        let err = match load(&file) {
            Ok(_) => panic!("{} loaded without error", file.display()),
            Err(e) => e.to_string(),
        };
        for want in expects {
            assert!(
                err.contains(want),
                "{}: missing {want:?} in:\n{err}",
                file.display()
            );
        }
    }
}
