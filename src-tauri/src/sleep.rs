//! Announced sleeps on Linux: logind's `PrepareForSleep` signal on the system bus.
//!
//! The app takes a "delay" inhibitor lock, so logind waits (up to its `InhibitDelayMaxSec`,
//! 5 s by default) until the app has cleared the call status it set in Teams. Without a system
//! bus or logind the core notices a resume by the jump of the wall clock, and a call status left
//! behind expires after the 5 minutes it was set for.

use futures_util::StreamExt;
use tracing::{debug, info};
use zbus::message::Type;
use zbus::OwnedFd;
use zbus::{Connection, MatchRule, MessageStream};

const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";

/// The app's reactions to a sleep.
pub trait SleepHandler: Send + Sync {
    /// Runs before the machine sleeps; logind waits for it up to its delay limit.
    fn suspending(&self) -> bridge::ports::BoxFuture<'_, ()>;
    /// Runs after the machine woke up.
    fn resumed(&self);
}

/// Follows logind's sleep announcements on `connection` until the bus connection ends.
pub async fn watch(connection: &Connection, handler: &dyn SleepHandler) -> zbus::Result<()> {
    let rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .path(LOGIND_PATH)
        .interface(LOGIND_MANAGER)
        .member("PrepareForSleep")
        .build()?;
    let mut signals = MessageStream::for_match_rule(rule, connection, None).await?;
    let mut inhibitor = Some(inhibit(connection).await?);
    debug!("sleep inhibitor taken");

    while let Some(message) = signals.next().await {
        let sleeping: bool = message?.body().deserialize()?;
        if sleeping {
            info!("the machine is about to sleep");
            handler.suspending().await;
            // Closing the inhibitor's file descriptor lets the sleep go ahead.
            drop(inhibitor.take());
        } else {
            info!("the machine woke up");
            handler.resumed();
            inhibitor = Some(inhibit(connection).await?);
        }
    }
    Ok(())
}

/// Takes a delay lock on sleep; it lasts while the returned descriptor is open.
async fn inhibit(connection: &Connection) -> zbus::Result<OwnedFd> {
    let reply = connection
        .call_method(
            Some(LOGIND),
            LOGIND_PATH,
            Some(LOGIND_MANAGER),
            "Inhibit",
            &(
                "sleep",
                "Presence Bridge",
                "Clear the call status set in Teams before the machine sleeps",
                "delay",
            ),
        )
        .await?;
    reply.body().deserialize::<OwnedFd>()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::net::UnixStream;
    use std::process::{Child, Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use zbus::Fd;

    use super::*;

    /// A private D-Bus daemon, stopped when dropped.
    struct PrivateBus {
        daemon: Child,
        address: String,
    }

    impl PrivateBus {
        fn start() -> PrivateBus {
            let mut daemon = Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("dbus-daemon starts (package dbus)");
            let mut address = String::new();
            BufReader::new(daemon.stdout.take().expect("stdout"))
                .read_line(&mut address)
                .expect("bus address");
            PrivateBus {
                daemon,
                address: address.trim().to_string(),
            }
        }

        async fn connect(&self) -> Connection {
            zbus::connection::Builder::address(self.address.as_str())
                .build()
                .await
                .expect("connection to the private bus")
        }
    }

    impl Drop for PrivateBus {
        fn drop(&mut self) {
            let _ = self.daemon.kill();
            let _ = self.daemon.wait();
        }
    }

    #[derive(Default)]
    struct Recorder {
        events: Mutex<Vec<&'static str>>,
    }

    impl SleepHandler for Recorder {
        fn suspending(&self) -> bridge::ports::BoxFuture<'_, ()> {
            Box::pin(async { self.events.lock().unwrap().push("suspending") })
        }

        fn resumed(&self) {
            self.events.lock().unwrap().push("resumed");
        }
    }

    async fn emit_prepare_for_sleep(logind: &Connection, sleeping: bool) {
        logind
            .emit_signal(
                None::<()>,
                LOGIND_PATH,
                LOGIND_MANAGER,
                "PrepareForSleep",
                &(sleeping,),
            )
            .await
            .expect("signal sent");
    }

    /// Answers the next Inhibit call and returns the other end of the handed-out descriptor.
    async fn answer_inhibit(logind: &Connection, calls: &mut MessageStream) -> UnixStream {
        loop {
            let call = calls.next().await.expect("a message").expect("valid");
            let header = call.header();
            if header.message_type() != Type::MethodCall
                || header.member().map(|member| member.as_str()) != Some("Inhibit")
            {
                continue;
            }
            let (kept, handed_out) = UnixStream::pair().expect("socket pair");
            logind
                .reply(&header, &(Fd::from(&handed_out),))
                .await
                .expect("reply sent");
            return kept;
        }
    }

    /// Waits until the peer closed its end of `kept`, that is, released the inhibitor.
    fn released(kept: &UnixStream) -> bool {
        kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buffer = [0u8; 1];
        matches!((&*kept).read(&mut buffer), Ok(0))
    }

    #[tokio::test]
    async fn sleep_clears_then_releases_inhibitor() {
        let bus = PrivateBus::start();
        let logind = bus.connect().await;
        logind.request_name(LOGIND).await.expect("name owned");
        let mut calls = MessageStream::from(&logind);
        let app = bus.connect().await;
        let recorder = Arc::new(Recorder::default());

        let watcher = {
            let recorder = recorder.clone();
            tokio::spawn(async move { watch(&app, &*recorder).await })
        };
        let first = answer_inhibit(&logind, &mut calls).await;

        emit_prepare_for_sleep(&logind, true).await;
        let first = tokio::task::spawn_blocking(move || released(&first))
            .await
            .unwrap();
        assert!(first, "the inhibitor is released after the sleep notice");
        assert_eq!(*recorder.events.lock().unwrap(), ["suspending"]);

        emit_prepare_for_sleep(&logind, false).await;
        let second =
            tokio::time::timeout(Duration::from_secs(5), answer_inhibit(&logind, &mut calls))
                .await
                .expect("a new inhibitor after the wake-up");
        assert_eq!(*recorder.events.lock().unwrap(), ["suspending", "resumed"]);
        assert!(!watcher.is_finished(), "the watcher keeps running");
        drop(second);
        watcher.abort();
    }
}
