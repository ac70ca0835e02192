//! The client half of the Wine test of the COM layer: attaches through `swyx_com::connector`
//! to whatever is registered under SwyxIt!'s ProgID (the fake server in that test).
//!
//! `wine_client absent` expects no running server: attaching must fail with `NotRunning`
//! without starting one. `wine_client present` expects the fake server to run, and calls its
//! members across the process boundary, then tells it to quit.

#[cfg(windows)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match client::run(std::env::args().nth(1).as_deref()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wine_client: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(windows))]
fn main() {
    eprintln!("wine_client runs only on Windows or under Wine");
}

#[cfg(windows)]
mod client {
    use std::sync::Arc;
    use std::time::Duration;

    use clock::{SharedClock, SystemClock};
    use swyx::automation::{Arg, AutomationError, Notification, Variant};

    pub async fn run(mode: Option<&str>) -> Result<(), String> {
        let clock: SharedClock = Arc::new(SystemClock::new());
        let connector = swyx_com::connector(clock, Duration::from_secs(20));
        match mode {
            Some("absent") => match connector.connect().await {
                Err(AutomationError::NotRunning) => {
                    println!("absent: NotRunning, as expected");
                    Ok(())
                }
                Err(error) => Err(format!("expected NotRunning, got {error}")),
                Ok(_) => Err("attached although no server was running".into()),
            },
            Some("present") => {
                let connection = connector
                    .connect()
                    .await
                    .map_err(|error| format!("connect: {error}"))?;
                let root = connection.root();
                connection
                    .put(root, "Value", Variant::I4(1234))
                    .await
                    .map_err(|e| format!("put: {e}"))?;
                let value = connection
                    .get(root, "Value")
                    .await
                    .map_err(|e| format!("get: {e}"))?;
                check("Value", &value, &Variant::I4(1234))?;
                let outs = vec![
                    Arg::Out(Variant::I4(0)),
                    Arg::Out(Variant::Str(String::new())),
                ];
                let reply = connection
                    .invoke(root, "Outs", outs)
                    .await
                    .map_err(|e| format!("Outs: {e}"))?;
                check(
                    "Outs",
                    &reply.by_ref,
                    &vec![Variant::I4(41), Variant::Str("line".into())],
                )?;
                let missing = connection.get(root, "Missing").await;
                check(
                    "Missing",
                    &missing,
                    &Err(AutomationError::UnknownName {
                        member: "Missing".into(),
                    }),
                )?;
                let mut notifications = connection
                    .subscribe()
                    .map_err(|e| format!("subscribe: {e}"))?;
                let during_call = vec![Arg::In(Variant::I4(60)), Arg::In(Variant::I4(7))];
                connection
                    .invoke(root, "Notify", during_call)
                    .await
                    .map_err(|e| format!("Notify: {e}"))?;
                let later = vec![Arg::In(Variant::I4(61)), Arg::In(Variant::I4(2))];
                connection
                    .invoke(root, "NotifyLater", later)
                    .await
                    .map_err(|e| format!("NotifyLater: {e}"))?;
                for expected in [
                    Notification {
                        message: 60,
                        param: 7,
                    },
                    Notification {
                        message: 61,
                        param: 2,
                    },
                ] {
                    let received =
                        tokio::time::timeout(Duration::from_secs(5), notifications.recv()).await;
                    let received = received
                        .ok()
                        .flatten()
                        .map(|(notification, _guard)| notification);
                    check("notification", &received, &Some(expected))?;
                }
                println!("present: events arrive during a call and while idle");
                let pid = connection
                    .get(root, "Pid")
                    .await
                    .map_err(|e| format!("Pid: {e}"))?;
                println!("present: calls across the process boundary work (server pid {pid:?})");
                let probe = swyx_com::probe_type_info(swyx_com::PROG_ID);
                print!("{probe}");
                if !probe.contains("DispIsLoggedIn: NOT FOUND") {
                    return Err("the probe did not list the members it looked for".into());
                }
                connection
                    .invoke(root, "Quit", Vec::new())
                    .await
                    .map_err(|e| format!("Quit: {e}"))?;
                Ok(())
            }
            _ => Err("usage: wine_client absent|present".into()),
        }
    }

    fn check<T: std::fmt::Debug + PartialEq>(
        what: &str,
        actual: &T,
        expected: &T,
    ) -> Result<(), String> {
        if actual == expected {
            Ok(())
        } else {
            Err(format!("{what}: expected {expected:?}, got {actual:?}"))
        }
    }
}
