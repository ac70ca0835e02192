//! The fault soak: `soak [--seed N] [--hours H]`.
//!
//! Prints the seed first, so any run can be replayed, then one line per finished run and a
//! last line `N passed, N failed`. Without `--seed` the seed is random.

use std::process::ExitCode;
use std::time::Duration;

fn argument(name: &str) -> Option<u64> {
    let arguments: Vec<String> = std::env::args().collect();
    let index = arguments.iter().position(|argument| argument == name)?;
    arguments.get(index + 1)?.parse().ok()
}

fn main() -> ExitCode {
    let seed = argument("--seed").unwrap_or_else(rand::random);
    let hours = argument("--hours").unwrap_or(24);
    println!("soak: seed {seed}, {hours} simulated hours");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = std::time::Instant::now();
    match runtime.block_on(e2e::soak::run(seed, Duration::from_secs(hours * 3600))) {
        Ok(report) => {
            println!(
                "PASS soak seed {}: {} actions, {} invariant checks, {:.1} simulated hours in {:.1} s",
                report.seed,
                report.actions,
                report.checks,
                report.simulated.as_secs_f64() / 3600.0,
                started.elapsed().as_secs_f64()
            );
            println!("1 passed, 0 failed");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("FAIL soak {failure}");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}
