//! Logging to stderr and to daily files in the per-user log folder.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer as _;
use tracing_subscriber::{fmt, EnvFilter};

/// Log files kept: one per day, a week's worth.
const KEPT_LOG_FILES: usize = 7;
/// Log file names are `presence-bridge.<YYYY-MM-DD>.log`.
pub const LOG_FILE_PREFIX: &str = "presence-bridge";

/// Keeps the file writer alive; logs written before it drops are flushed.
pub struct LogGuard {
    _file: Option<WorkerGuard>,
    /// The folder with the log files, when file logging works.
    pub folder: Option<PathBuf>,
}

/// Starts logging with the level from `RUST_LOG` (default `info`).
///
/// When the log folder cannot be created, the app logs to stderr only and logs the reason.
pub fn init(folder: &Path) -> LogGuard {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter());

    // The appender lists the folder to prune old files as it starts, and reports a missing
    // folder on stderr, so it is created first.
    if let Err(error) = std::fs::create_dir_all(folder) {
        eprintln!("cannot create the log folder {}: {error}", folder.display());
    }
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(KEPT_LOG_FILES)
        .build(folder);
    log_panics();
    match appender {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            tracing_subscriber::registry()
                .with(stderr)
                .with(file)
                .init();
            LogGuard {
                _file: Some(guard),
                folder: Some(folder.to_path_buf()),
            }
        }
        Err(error) => {
            tracing_subscriber::registry().with(stderr).init();
            tracing::warn!(folder = %folder.display(), %error, "logging to stderr only");
            LogGuard {
                _file: None,
                folder: None,
            }
        }
    }
}

/// Logs every panic as an error, so that one on a background task reaches the log file and
/// "Copy diagnostics", not only stderr. Rust's own report still follows on stderr.
fn log_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let location = info
            .location()
            .map(|location| format!("{}:{}", location.file(), location.line()));
        tracing::error!(location, message, "panic");
        report(info);
    }));
}
