//! The command line.

use clap::Parser;

use crate::wiring::Options;

/// Presence Bridge keeps your Microsoft Teams presence and your SwyxWare status in sync, both
/// ways. With no configuration file it starts in demo mode.
#[derive(Debug, Parser)]
#[command(name = "presence-bridge", version, about, long_about = None)]
pub struct Args {
    /// Start in demo mode (simulated Teams and SwyxIt! inside the app) even when a
    /// configuration file exists.
    #[arg(long)]
    pub demo: bool,

    /// Start in demo mode and run the demo tour: a short call, then every Teams status of the
    /// mapping table, one step every few seconds.
    #[arg(long)]
    pub demo_tour: bool,

    /// Run without tray and window and log each sync; Ctrl-C quits.
    #[arg(long)]
    pub headless: bool,

    /// Stop this user's running instance (it clears its Teams call status first), then remove
    /// the user's sign-in from the OS keyring, the session marker, the logs and the start at
    /// login entry, and exit. Uninstallers run this for each user; settings stay.
    #[arg(long)]
    pub uninstall: bool,

    /// Start with the window hidden, reachable from the tray. The window still opens when
    /// no tray host is running.
    #[arg(long)]
    pub hidden: bool,

    /// Start in demo mode with a simulated Swyx call already on line 1; the window's demo
    /// panel ends it.
    #[arg(long)]
    pub demo_call: bool,

    /// Write the member names and parameter types of the running SwyxIt!'s client API to
    /// FILE, then exit (Windows only).
    #[arg(long, value_name = "FILE")]
    pub probe_swyx: Option<std::path::PathBuf>,
}

impl Args {
    /// Returns the options that shape the core.
    pub fn options(&self) -> Options {
        Options {
            demo: self.demo || self.demo_tour || self.demo_call,
            demo_tour: self.demo_tour,
            demo_call: self.demo_call,
            headless: self.headless,
            hidden: self.hidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_options() {
        let check = |argv: &[&str], demo: bool, tour: bool, headless: bool| {
            let args = Args::try_parse_from(argv).expect("valid arguments");
            let options = args.options();
            assert_eq!(options.demo, demo, "demo for {argv:?}");
            assert_eq!(options.demo_tour, tour, "tour for {argv:?}");
            assert_eq!(options.headless, headless, "headless for {argv:?}");
        };
        check(&["presence-bridge"], false, false, false);
        check(&["presence-bridge", "--demo"], true, false, false);
        check(&["presence-bridge", "--demo-tour"], true, true, false);
        check(
            &["presence-bridge", "--headless", "--demo"],
            true,
            false,
            true,
        );
    }

    #[test]
    fn hidden_and_demo_call_flags() {
        let args = Args::try_parse_from(["presence-bridge", "--hidden", "--demo-call"])
            .expect("valid arguments");
        let options = args.options();
        assert!(options.hidden);
        assert!(options.demo_call);
        assert!(options.demo, "a demo call needs demo mode");
        let plain = Args::try_parse_from(["presence-bridge"])
            .expect("valid arguments")
            .options();
        assert!(!plain.hidden);
        assert!(!plain.demo_call);
    }

    #[test]
    fn unknown_flag_is_rejected() {
        let error = Args::try_parse_from(["presence-bridge", "--demo-mode"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}
