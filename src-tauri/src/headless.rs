//! `--headless`: the core without tray and window, for servers, scripts and demos in a
//! terminal. The core itself logs every applied sync; this logs the state changes around them.

use anyhow::Context;
use bridge::config::StartMode;
use bridge::Snapshot;
use tracing::{info, warn};

use crate::lifecycle::{self, LifecycleEvent};
use crate::wiring::{self, Options};

/// Runs until Ctrl-C (or SIGTERM), then clears the own session and returns.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_core(options))
}

async fn run_core(options: &Options) -> anyhow::Result<()> {
    let started = wiring::start(options)
        .await
        .context("cannot start the app core")?;
    let mode = match &started.mode {
        StartMode::Demo => "demo",
        StartMode::Tenant(_) => "tenant",
        StartMode::NotConfigured { .. } => "not-configured",
    };
    info!(
        mode,
        forced_demo = options.demo,
        "running without window; press Ctrl-C to quit"
    );
    if let StartMode::NotConfigured { path, error } = &started.mode {
        warn!(path = %path.display(), %error, "configuration rejected; running not configured");
    }
    if options.demo_tour {
        match started.demo.clone() {
            Some(demo) => {
                tokio::spawn(demo.run_tour());
            }
            None => warn!("--demo-tour needs demo mode"),
        }
    }
    if options.demo_call {
        if let Some(demo) = &started.demo {
            demo.swyx_call(true);
            info!("demo call started");
        }
    }

    let mut snapshots = started.core.subscribe();
    let mut last = Summary::of(&snapshots.borrow_and_update());
    last.log();
    let mut lifecycle = lifecycle::follow();
    let mut following_lifecycle = true;
    let mut session_ending = None;
    let stopped_by_itself = {
        // Created once, so that a signal between two turns of the loop is not missed.
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                event = lifecycle.recv(), if following_lifecycle => match event {
                    Some(LifecycleEvent::Suspending(ack)) => {
                        started.core.suspend().await;
                        let _ = ack.send(());
                    }
                    Some(LifecycleEvent::Resumed) => started.core.send(bridge::Command::Resumed),
                    Some(LifecycleEvent::SessionEnding(ack)) => {
                        session_ending = Some(ack);
                        break false;
                    }
                    None => following_lifecycle = false,
                },
                changed = snapshots.changed() => {
                    if changed.is_err() {
                        break true;
                    }
                    let snapshot = snapshots.borrow_and_update().clone();
                    if snapshot.stopped {
                        break true;
                    }
                    let summary = Summary::of(&snapshot);
                    if summary != last {
                        summary.log();
                        last = summary;
                    }
                }
                () = &mut shutdown => break false,
            }
        }
    };
    if stopped_by_itself {
        anyhow::bail!("the app core stopped unexpectedly");
    }
    info!("quitting: clearing the own session");
    started.core.quit().await;
    if let Some(ack) = session_ending {
        let _ = ack.send(());
    }
    info!("stopped");
    Ok(())
}

/// The parts of a snapshot worth a log line when they change. Status texts, the UPN and the
/// e-mail are left out on purpose: they are personal data.
#[derive(Debug, PartialEq)]
struct Summary {
    teams: Option<String>,
    swyx: Option<String>,
    health_teams: String,
    health_swyx: String,
    sync_enabled: bool,
    paused: bool,
    warnings: String,
}

impl Summary {
    fn of(snapshot: &Snapshot) -> Summary {
        let view = &snapshot.view;
        Summary {
            teams: view.teams_label.clone(),
            swyx: view.swyx_label.clone(),
            health_teams: format!("{:?}", view.health_teams),
            health_swyx: format!("{:?}", view.health_swyx),
            sync_enabled: view.sync_enabled,
            paused: view.paused_until.is_some(),
            warnings: format!("{:?}", view.warnings),
        }
    }

    fn log(&self) {
        info!(
            teams = self.teams.as_deref().unwrap_or("unknown"),
            swyx = self.swyx.as_deref().unwrap_or("unknown"),
            health_teams = %self.health_teams,
            health_swyx = %self.health_swyx,
            sync = self.sync_enabled,
            paused = self.paused,
            warnings = %self.warnings,
            "state"
        );
    }
}

/// Completes on Ctrl-C, and on SIGTERM on Unix.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
                return;
            }
            Err(error) => warn!(%error, "cannot listen for SIGTERM; only Ctrl-C quits"),
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        warn!(%error, "cannot listen for Ctrl-C");
        std::future::pending::<()>().await;
    }
}
