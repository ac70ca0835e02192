//! Replays scenario folders against the app core.
//!
//! Usage: `scenarios DIR…`. Prints `PASS`/`FAIL` with the file name per scenario, where a
//! failure happened (`file error`, `[start]` or the first failed step) and its details, and a
//! last line `N passed, N failed`. Exits with 1 when
//! any scenario failed or a folder could not be read.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let folders: Vec<String> = std::env::args().skip(1).collect();
    if folders.is_empty() {
        eprintln!("usage: scenarios DIR…  (folders of scenario *.toml files)");
        return ExitCode::from(2);
    }
    let (mut passed, mut failed) = (0, 0);
    for folder in &folders {
        let files = match e2e::scenario::files_in(Path::new(folder)) {
            Ok(files) => files,
            Err(error) => {
                println!("FAIL {folder}: cannot read the folder: {error}");
                failed += 1;
                continue;
            }
        };
        for file in files {
            let name = file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            match e2e::runner::run_file(&file) {
                Ok(()) => {
                    passed += 1;
                    println!("PASS {name}");
                }
                Err(failure) => {
                    failed += 1;
                    println!("FAIL {name} ({})", failure.place);
                    println!("{failure}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
