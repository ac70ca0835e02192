//! Parses scenario folders (placeholder until the runner lands).
fn main() {
    let mut failed = 0;
    let mut passed = 0;
    for folder in std::env::args().skip(1) {
        for file in e2e::scenario::files_in(std::path::Path::new(&folder)).unwrap() {
            match e2e::scenario::load(&file) {
                Ok(_) => passed += 1,
                Err(error) => {
                    failed += 1;
                    println!("FAIL {} {error}", file.display())
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
}
