//! `graph-twin`: runs the Entra ID and Microsoft Graph presence double on 127.0.0.1 until
//! Ctrl-C, for manual tests and for a scenario runner in another process.

use std::process::ExitCode;
use std::sync::Arc;

use graph_twin::{Twin, TwinConfig};

const USAGE: &str =
    "usage: graph-twin [--port N] [--demo] [--client-id ID] [--tenant-id ID] [--single-tenant]

Serves Entra ID sign-in under /{tenant}/oauth2/v2.0/ and Graph presence under /v1.0/ on
127.0.0.1 and prints the base URL. The admin API is under /_twin/.

  --port N          port to listen on (default 0: any free port)
  --demo            approve device code sign-ins on their own after 3 seconds
  --client-id ID    the app registration's client id
  --tenant-id ID    the app registration's tenant id
  --single-tenant   reject the organizations and common authorities (AADSTS50194)";

fn parse_args(args: impl Iterator<Item = String>) -> Result<TwinConfig, String> {
    let mut config = TwinConfig::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let text = value("--port")?;
                config.port = text
                    .parse()
                    .map_err(|_| format!("invalid port {text:?}; expected 0-65535"))?;
            }
            "--demo" => config.demo = true,
            "--client-id" => config.registration.client_id = value("--client-id")?,
            "--tenant-id" => config.registration.tenant_id = value("--tenant-id")?,
            "--single-tenant" => config.registration.multi_tenant = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("graph-twin: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let clock: clock::SharedClock = Arc::new(clock::SystemClock::new());
    let twin = match Twin::start(config, clock).await {
        Ok(twin) => twin,
        Err(error) => {
            eprintln!("graph-twin: could not listen on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", twin.base_url());
    println!("client id {}", twin.config().registration.client_id);
    println!("tenant id {}", twin.config().registration.tenant_id);

    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("graph-twin: waiting for Ctrl-C failed: {error}");
    }
    twin.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<TwinConfig, String> {
        parse_args(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn parses_options() {
        let config = parse(&[
            "--port",
            "8400",
            "--demo",
            "--client-id",
            "c",
            "--tenant-id",
            "t",
            "--single-tenant",
        ])
        .unwrap();
        assert_eq!(config.port, 8400);
        assert!(config.demo);
        assert_eq!(config.registration.client_id, "c");
        assert_eq!(config.registration.tenant_id, "t");
        assert!(!config.registration.multi_tenant);

        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults.port, 0);
        assert!(!defaults.demo);
        assert!(defaults.registration.multi_tenant);
    }

    #[test]
    fn rejects_bad_arguments() {
        let check = |args: &[&str], expected: &str| {
            assert_eq!(parse(args).err().as_deref(), Some(expected), "{args:?}");
        };
        check(&["--port"], "--port needs a value");
        check(
            &["--port", "http"],
            "invalid port \"http\"; expected 0-65535",
        );
        check(
            &["--port", "70000"],
            "invalid port \"70000\"; expected 0-65535",
        );
        check(&["--verbose"], "unknown argument \"--verbose\"");
        check(&["--help"], "");
    }
}
