//! logind's announcements on the system bus: `PrepareForSleep` and `PrepareForShutdown`.
//!
//! The app takes a "delay" inhibitor lock on both, so logind waits (up to its
//! `InhibitDelayMaxSec`, 5 s by default) until the app has cleared the call status it set in
//! Teams. Without a system bus or logind the core notices a resume by the jump of the wall
//! clock, and a call status left behind expires after the 5 minutes it was set for.

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tracing::{debug, info};
use zbus::message::Type;
use zbus::OwnedFd;
use zbus::{Connection, MatchRule, MessageStream};

use crate::lifecycle::{send_and_wait, LifecycleEvent};

const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";

/// Passes logind's announcements on `connection` to `events` until the bus connection ends,
/// the session ends or nobody listens any more.
pub async fn watch(
    connection: &Connection,
    events: &mpsc::Sender<LifecycleEvent>,
) -> zbus::Result<()> {
    let rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .path(LOGIND_PATH)
        .interface(LOGIND_MANAGER)
        .build()?;
    let mut signals = MessageStream::for_match_rule(rule, connection, None).await?;
    let mut sleep_lock = Some(inhibit(connection, "sleep").await?);
    let shutdown_lock = inhibit(connection, "shutdown").await?;
    debug!("sleep and shutdown inhibitors taken");

    while let Some(message) = signals.next().await {
        let message = message?;
        let member = message.header().member().map(|member| member.to_string());
        let starting: bool = match member.as_deref() {
            Some("PrepareForSleep" | "PrepareForShutdown") => message.body().deserialize()?,
            _ => continue,
        };
        match (member.as_deref(), starting) {
            (Some("PrepareForShutdown"), true) => {
                info!("the session ends: the machine shuts down or restarts");
                send_and_wait(events, LifecycleEvent::SessionEnding).await;
                // Closing the descriptor lets the shutdown go ahead.
                drop(shutdown_lock);
                return Ok(());
            }
            (Some("PrepareForSleep"), true) => {
                info!("the machine is about to sleep");
                if !send_and_wait(events, LifecycleEvent::Suspending).await {
                    return Ok(());
                }
                drop(sleep_lock.take());
            }
            (Some("PrepareForSleep"), false) => {
                info!("the machine woke up");
                if events.send(LifecycleEvent::Resumed).await.is_err() {
                    return Ok(());
                }
                sleep_lock = Some(inhibit(connection, "sleep").await?);
            }
            // A cancelled shutdown: the lock is still held, nothing to do.
            _ => {}
        }
    }
    Ok(())
}

/// Takes a delay lock on `what` ("sleep" or "shutdown"); it lasts while the returned
/// descriptor is open.
async fn inhibit(connection: &Connection, what: &str) -> zbus::Result<OwnedFd> {
    let why = match what {
        "sleep" => "Clear the call status set in Teams before the machine sleeps",
        _ => "Clear the call status set in Teams before the session ends",
    };
    let reply = connection
        .call_method(
            Some(LOGIND),
            LOGIND_PATH,
            Some(LOGIND_MANAGER),
            "Inhibit",
            &(what, "Presence Bridge", why, "delay"),
        )
        .await?;
    reply.body().deserialize::<OwnedFd>()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::net::UnixStream;
    use std::process::{Child, Command, Stdio};
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

    /// A fake logind and a running watcher on one private bus.
    struct Fixture {
        _bus: PrivateBus,
        logind: Connection,
        calls: MessageStream,
        events: mpsc::Receiver<LifecycleEvent>,
        watcher: tokio::task::JoinHandle<zbus::Result<()>>,
    }

    impl Fixture {
        async fn start() -> Fixture {
            let bus = PrivateBus::start();
            let logind = bus.connect().await;
            logind.request_name(LOGIND).await.expect("name owned");
            let calls = MessageStream::from(&logind);
            let app = bus.connect().await;
            let (sender, events) = mpsc::channel(4);
            let watcher = tokio::spawn(async move { watch(&app, &sender).await });
            Fixture {
                _bus: bus,
                logind,
                calls,
                events,
                watcher,
            }
        }
    }

    async fn emit(logind: &Connection, member: &str, starting: bool) {
        logind
            .emit_signal(
                None::<()>,
                LOGIND_PATH,
                LOGIND_MANAGER,
                member,
                &(starting,),
            )
            .await
            .expect("signal sent");
    }

    /// Answers the next Inhibit call; returns its `what` and the other end of the handed-out
    /// descriptor.
    async fn answer_inhibit(
        logind: &Connection,
        calls: &mut MessageStream,
    ) -> (String, UnixStream) {
        loop {
            let call = calls.next().await.expect("a message").expect("valid");
            let header = call.header();
            if header.message_type() != Type::MethodCall
                || header.member().map(|member| member.as_str()) != Some("Inhibit")
            {
                continue;
            }
            let (what, _who, _why, mode): (String, String, String, String) =
                call.body().deserialize().expect("Inhibit arguments");
            assert_eq!(mode, "delay");
            let (kept, handed_out) = UnixStream::pair().expect("socket pair");
            logind
                .reply(&header, &(Fd::from(&handed_out),))
                .await
                .expect("reply sent");
            return (what, kept);
        }
    }

    /// Answers the sleep and the shutdown Inhibit calls of a starting watcher.
    async fn answer_both(
        logind: &Connection,
        calls: &mut MessageStream,
    ) -> (UnixStream, UnixStream) {
        let (first_what, first) = answer_inhibit(logind, calls).await;
        let (second_what, second) = answer_inhibit(logind, calls).await;
        assert_eq!(
            [first_what.as_str(), second_what.as_str()],
            ["sleep", "shutdown"]
        );
        (first, second)
    }

    /// Whether the peer closed its end of `kept`, that is, released the inhibitor; waits up to
    /// `wait` for that.
    fn released(kept: &UnixStream, wait: Duration) -> bool {
        kept.set_read_timeout(Some(wait)).unwrap();
        let mut buffer = [0u8; 1];
        matches!((&*kept).read(&mut buffer), Ok(0))
    }

    async fn released_within(kept: UnixStream, wait: Duration) -> (bool, UnixStream) {
        tokio::task::spawn_blocking(move || (released(&kept, wait), kept))
            .await
            .unwrap()
    }

    async fn next_event(events: &mut mpsc::Receiver<LifecycleEvent>) -> LifecycleEvent {
        tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event within 5 s")
            .expect("the watcher still sends")
    }

    #[tokio::test]
    async fn sleep_held_until_cleared() {
        let Fixture {
            _bus,
            logind,
            mut calls,
            mut events,
            watcher,
        } = Fixture::start().await;
        let (sleep_lock, _shutdown_lock) = answer_both(&logind, &mut calls).await;

        emit(&logind, "PrepareForSleep", true).await;
        let LifecycleEvent::Suspending(ack) = next_event(&mut events).await else {
            panic!("a sleep notice must come first");
        };
        let (gone, sleep_lock) = released_within(sleep_lock, Duration::from_millis(300)).await;
        assert!(!gone, "the sleep waits while the session is being cleared");
        ack.send(()).unwrap();
        let (gone, _) = released_within(sleep_lock, Duration::from_secs(5)).await;
        assert!(
            gone,
            "the inhibitor is released once the session is cleared"
        );

        emit(&logind, "PrepareForSleep", false).await;
        assert!(matches!(
            next_event(&mut events).await,
            LifecycleEvent::Resumed
        ));
        let (what, _again) =
            tokio::time::timeout(Duration::from_secs(5), answer_inhibit(&logind, &mut calls))
                .await
                .expect("a new inhibitor after the wake-up");
        assert_eq!(what, "sleep");
        assert!(!watcher.is_finished(), "the watcher keeps running");
        watcher.abort();
    }

    #[tokio::test]
    async fn shutdown_held_until_cleared() {
        let Fixture {
            _bus,
            logind,
            mut calls,
            mut events,
            watcher,
        } = Fixture::start().await;
        let (_sleep_lock, shutdown_lock) = answer_both(&logind, &mut calls).await;

        emit(&logind, "PrepareForShutdown", true).await;
        let LifecycleEvent::SessionEnding(ack) = next_event(&mut events).await else {
            panic!("a shutdown notice was expected");
        };
        let (gone, shutdown_lock) =
            released_within(shutdown_lock, Duration::from_millis(300)).await;
        assert!(
            !gone,
            "the shutdown waits while the session is being cleared"
        );
        ack.send(()).unwrap();
        let (gone, _) = released_within(shutdown_lock, Duration::from_secs(5)).await;
        assert!(
            gone,
            "the inhibitor is released once the session is cleared"
        );
        let ended = tokio::time::timeout(Duration::from_secs(5), watcher)
            .await
            .expect("the watcher ends with the session")
            .unwrap();
        assert!(ended.is_ok(), "{ended:?}");
    }

    #[tokio::test]
    async fn unanswered_shutdown_goes_on() {
        let Fixture {
            _bus,
            logind,
            mut calls,
            mut events,
            watcher,
        } = Fixture::start().await;
        let (_sleep_lock, shutdown_lock) = answer_both(&logind, &mut calls).await;

        emit(&logind, "PrepareForShutdown", true).await;
        let LifecycleEvent::SessionEnding(_ack_never_sent) = next_event(&mut events).await else {
            panic!("a shutdown notice was expected");
        };
        let started = std::time::Instant::now();
        let wait = crate::lifecycle::ACK_TIMEOUT + Duration::from_secs(3);
        let (gone, _) = released_within(shutdown_lock, wait).await;
        assert!(gone, "a hung clear does not hold the shutdown forever");
        assert!(
            started.elapsed() >= crate::lifecycle::ACK_TIMEOUT - Duration::from_millis(500),
            "released after {:?}, before the timeout",
            started.elapsed()
        );
        watcher.abort();
    }
}
