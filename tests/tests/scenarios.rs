//! Runs the project's scenarios in `tests/scenarios/`, and every scenario folder named in
//! `PRESENCE_BRIDGE_SCENARIOS` (colon-separated), against the app core.

use std::path::{Path, PathBuf};

fn folders() -> Vec<PathBuf> {
    let mut folders = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")];
    if let Some(extra) = std::env::var_os("PRESENCE_BRIDGE_SCENARIOS") {
        folders.extend(std::env::split_paths(&extra));
    }
    folders
}

#[test]
fn every_scenario_passes() {
    let mut failures = Vec::new();
    let mut passed = 0;
    for folder in folders() {
        let files = e2e::scenario::files_in(&folder).unwrap_or_else(|error| {
            panic!("cannot read scenario folder {}: {error}", folder.display())
        });
        assert!(
            !files.is_empty(),
            "no scenario files in {}",
            folder.display()
        );
        for file in files {
            match e2e::runner::run_file(&file) {
                Ok(()) => passed += 1,
                Err(failure) => failures.push(format!("{}: {failure}", file.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenarios passed, {} failed:\n{}",
        passed,
        failures.len(),
        failures.join("\n")
    );
}
