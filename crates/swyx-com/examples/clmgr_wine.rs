//! The Wine test of the COM layer against the fake Client Line Manager
//! (`examples/clmgr_fake.rs`), which runs as a 32-bit local server registered under SwyxIt!'s
//! ProgID. This 64-bit client drives the layer through `swyx_com::connector`, exactly as the
//! adapter does, and scripts the fake through its test-only `FakeControl` member over a
//! connection of its own.
//!
//! Build the layer with the feature `fake-clmgr-events`, so that its event sink implements
//! the fake's event interface. `clmgr_wine [CASE...]` runs the named cases, or all of them, in
//! order, prints one `PASS`/`FAIL` line per case with its time, and fails when any case fails.

#[cfg(windows)]
fn main() -> std::process::ExitCode {
    cases::main()
}

#[cfg(not(windows))]
fn main() {
    eprintln!("clmgr_wine runs only on Windows or under Wine");
}

#[cfg(windows)]
mod cases {
    #![deny(clippy::undocumented_unsafe_blocks)]

    use std::mem::ManuallyDrop;
    use std::ops::DerefMut;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use clock::{SharedClock, SystemClock};
    use engine::SwyxSettable;
    use swyx::automation::{
        Arg, AutomationError, Connection, Notification, NotificationReceiver, ObjectRef, Variant,
    };
    use swyx::messages;
    use swyx::{SwyxAdapter, SwyxEvent};
    use windows::Win32::Foundation::CloseHandle;
    use windows::Win32::System::Com::{
        CLSIDFromProgID, CoCreateInstance, CoInitializeEx, IDispatch, CLSCTX_LOCAL_SERVER,
        COINIT_MULTITHREADED, DISPATCH_METHOD, DISPPARAMS, EXCEPINFO,
    };
    use windows::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W,
        TH32CS_SNAPPROCESS,
    };
    use windows::Win32::System::Variant::{VariantClear, VARIANT, VARIANT_0_0, VT_BSTR};
    use windows_core::{BSTR, GUID, HSTRING, PCWSTR};

    /// The server's image name, as installed in the Wine prefix.
    const SERVER_IMAGE: &str = "CLMgr.exe";
    /// The fake's event interface, which the probe must list.
    const EVENT_INTERFACE: &str = "B5FB15E5-3248-411A-B22A-BFFDF6D17612";

    type Outcome = Result<(), String>;

    /// The test's own line to the fake, outside the layer.
    struct Control {
        root: Option<IDispatch>,
    }

    fn tagged(variant: &VARIANT) -> &VARIANT_0_0 {
        // SAFETY: only the tagged form of VARIANT is used here.
        unsafe { &variant.Anonymous.Anonymous }
    }

    fn tagged_mut(variant: &mut VARIANT) -> &mut VARIANT_0_0 {
        // SAFETY: as in `tagged`.
        unsafe { DerefMut::deref_mut(&mut variant.Anonymous.Anonymous) }
    }

    impl Control {
        /// Activates the class, which makes COM start the server when none runs.
        fn launch(&mut self) -> Result<(), String> {
            let name = HSTRING::from(swyx_com::PROG_ID);
            // SAFETY: a NUL-terminated name that outlives the call.
            let clsid = unsafe { CLSIDFromProgID(PCWSTR(name.as_ptr())) }
                .map_err(|error| format!("CLSIDFromProgID: {error}"))?;
            // SAFETY: a valid class ID.
            let root: IDispatch = unsafe { CoCreateInstance(&clsid, None, CLSCTX_LOCAL_SERVER) }
                .map_err(|error| format!("starting the server: {error}"))?;
            self.root = Some(root);
            Ok(())
        }

        /// Sends a `FakeControl` command and returns the server's reply.
        fn send(&mut self, command: &str) -> Result<String, String> {
            let root = self.root.as_ref().ok_or("the server was not started")?;
            let name = HSTRING::from("FakeControl");
            let names = [PCWSTR(name.as_ptr())];
            let mut dispid = 0;
            // SAFETY: one name and one writable DISPID.
            unsafe { root.GetIDsOfNames(&GUID::zeroed(), names.as_ptr(), 1, 0, &mut dispid) }
                .map_err(|error| format!("FakeControl: {error}"))?;
            let mut argument = VARIANT::default();
            tagged_mut(&mut argument).vt = VT_BSTR;
            tagged_mut(&mut argument).Anonymous.bstrVal = ManuallyDrop::new(BSTR::from(command));
            let params = DISPPARAMS {
                rgvarg: &mut argument,
                rgdispidNamedArgs: std::ptr::null_mut(),
                cArgs: 1,
                cNamedArgs: 0,
            };
            let mut result = VARIANT::default();
            let mut exception = EXCEPINFO::default();
            // SAFETY: `params` points at one initialised VARIANT; the out pointers are valid.
            let invoked = unsafe {
                root.Invoke(
                    dispid,
                    &GUID::zeroed(),
                    0,
                    DISPATCH_METHOD,
                    &params,
                    Some(&mut result),
                    Some(&mut exception),
                    None,
                )
            };
            let answer = if tagged(&result).vt == VT_BSTR {
                // SAFETY: the active member is the BSTR.
                unsafe { tagged(&result).Anonymous.bstrVal.to_string() }
            } else {
                String::new()
            };
            // SAFETY: both VARIANTs are initialised and owned here.
            unsafe {
                let _ = VariantClear(&mut argument);
                let _ = VariantClear(&mut result);
            }
            invoked.map_err(|error| format!("FakeControl({command}): {error}"))?;
            Ok(answer)
        }
    }

    /// The state shared by every case.
    struct Context {
        control: Control,
        clock: SharedClock,
    }

    impl Context {
        fn connector(&self, call_timeout: Duration) -> Arc<dyn swyx::automation::Connector> {
            swyx_com::connector(self.clock.clone(), call_timeout)
        }

        /// Starts a server unless one runs and replies, and returns its `stats` line.
        fn ensure_server(&mut self) -> Result<String, String> {
            if let Ok(stats) = self.control.send("stats") {
                return Ok(stats);
            }
            self.control.root = None;
            self.control.launch()?;
            self.control.send("stats")
        }

        /// Waits until `stats` contains `expected`, letting the runtime's other tasks run.
        async fn wait_for_stats(&mut self, expected: &str) -> Outcome {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let stats = self.control.send("stats")?;
                if stats.contains(expected) {
                    return Ok(());
                }
                if Instant::now() > deadline {
                    return Err(format!("stats: expected {expected:?}, got {stats:?}"));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Returns the ids of running processes named like the server.
    fn server_processes() -> Vec<u32> {
        let mut found = Vec::new();
        // SAFETY: no preconditions; the handle is closed below.
        let Ok(snapshot) = (unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) }) else {
            return found;
        };
        let mut entry = PROCESSENTRY32W {
            dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
            ..Default::default()
        };
        // SAFETY: a valid snapshot and an entry with its size set.
        let mut more = unsafe { Process32FirstW(snapshot, &mut entry) }.is_ok();
        while more {
            let length = entry.szExeFile.iter().position(|&c| c == 0).unwrap_or(0);
            let name = String::from_utf16_lossy(&entry.szExeFile[..length]);
            if name.eq_ignore_ascii_case(SERVER_IMAGE) {
                found.push(entry.th32ProcessID);
            }
            // SAFETY: as above.
            more = unsafe { Process32NextW(snapshot, &mut entry) }.is_ok();
        }
        // SAFETY: the snapshot is closed once.
        let _ = unsafe { CloseHandle(snapshot) };
        found
    }

    fn wait_until_no_server(within: Duration) -> Outcome {
        let deadline = Instant::now() + within;
        while !server_processes().is_empty() {
            if Instant::now() > deadline {
                return Err(format!("the server still runs: {:?}", server_processes()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn check<T: std::fmt::Debug + PartialEq>(what: &str, actual: T, expected: T) -> Outcome {
        if actual == expected {
            Ok(())
        } else {
            Err(format!("{what}: expected {expected:?}, got {actual:?}"))
        }
    }

    fn failed(what: &str) -> impl Fn(AutomationError) -> String + '_ {
        move |error| format!("{what}: {error:?}")
    }

    /// Waits up to five seconds for the next notification.
    async fn next_event(events: &mut NotificationReceiver) -> Result<Notification, String> {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some((notification, _guard))) => Ok(notification),
            Ok(None) => Err("the notification channel closed".into()),
            Err(_) => Err("no notification within 5 s".into()),
        }
    }

    /// Expects exactly these notifications next, in order.
    async fn expect_events(events: &mut NotificationReceiver, expected: &[(i32, i32)]) -> Outcome {
        for &(message, param) in expected {
            let got = next_event(events).await?;
            check("notification", got, Notification { message, param })?;
        }
        Ok(())
    }

    /// Attaches, subscribes and waits until the fake has advised the sink.
    async fn attach_subscribed(
        context: &mut Context,
        call_timeout: Duration,
    ) -> Result<(Box<dyn Connection>, NotificationReceiver), String> {
        // An earlier case's sink must be gone, or the wait below could see it instead.
        context.wait_for_stats("sinks=0 ").await?;
        let connection = context
            .connector(call_timeout)
            .connect()
            .await
            .map_err(failed("connect"))?;
        let events = connection.subscribe().map_err(failed("subscribe"))?;
        context.wait_for_stats("sinks=1 ").await?;
        Ok((connection, events))
    }

    async fn config(connection: &dyn Connection) -> Result<ObjectRef, String> {
        let root = connection.root();
        let config = connection
            .get(root, "DispClientConfig")
            .await
            .map_err(failed("DispClientConfig"))?;
        config
            .as_object()
            .ok_or(format!("DispClientConfig: not an object: {config:?}"))
    }

    /// Attaching never starts the server: with none running, it reports `NotRunning`.
    async fn attach_refuses_to_start_the_server(context: &mut Context) -> Outcome {
        check("server processes before", server_processes(), Vec::new())?;
        let attached = context.connector(Duration::from_secs(20)).connect().await;
        check("connect", attached.err(), Some(AutomationError::NotRunning))?;
        std::thread::sleep(Duration::from_millis(500));
        check("server processes after", server_processes(), Vec::new())
    }

    /// With the 32-bit server running, the layer attaches by ProgID to the same singleton.
    async fn attach_by_prog_id(context: &mut Context) -> Outcome {
        let stats = context.ensure_server()?;
        if !stats.contains("bits=32") {
            return Err(format!("the server is not a 32-bit process: {stats}"));
        }
        let connection = context
            .connector(Duration::from_secs(20))
            .connect()
            .await
            .map_err(failed("connect"))?;
        let root = connection.root();
        check(
            "DispIsLoggedIn",
            connection.get(root, "DispIsLoggedIn").await,
            Ok(Variant::I4(1)),
        )?;
        check(
            "DispGetCurrentUser",
            connection.get(root, "DispGetCurrentUser").await,
            Ok(Variant::Str("Alex Demo".into())),
        )?;
        check(
            "Missing",
            connection.get(root, "Missing").await,
            Err(AutomationError::UnknownName {
                member: "Missing".into(),
            }),
        )?;
        // E_INVALIDARG travels in the exception record of DISP_E_EXCEPTION.
        check(
            "DispGetLine(99)",
            connection
                .invoke(root, "DispGetLine", vec![Arg::In(Variant::I4(99))])
                .await
                .map(|reply| reply.value),
            Err(AutomationError::Failed {
                member: "DispGetLine".into(),
                hresult: 0x8007_0057,
            }),
        )?;

        let config = config(&*connection).await?;
        context.wait_for_stats("objects=1").await?;
        connection.release(config);
        context.wait_for_stats("objects=0").await
    }

    /// The app writes Away and Do not disturb, and reads what the user set by hand.
    async fn presence_read_and_write(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        context.control.send("status available")?;
        let connection = context
            .connector(Duration::from_secs(20))
            .connect()
            .await
            .map_err(failed("connect"))?;
        let config = config(&*connection).await?;
        connection
            .put(config, "Away", Variant::I4(1))
            .await
            .map_err(failed("put Away"))?;
        let state = context.control.send("state")?;
        if !state.contains("status=Away") {
            return Err(format!("after put Away: {state}"));
        }
        check(
            "Away",
            connection.get(config, "Away").await,
            Ok(Variant::I4(1)),
        )?;
        connection
            .put(config, "DoNotDisturb", Variant::Bool(true))
            .await
            .map_err(failed("put DoNotDisturb"))?;
        let state = context.control.send("state")?;
        if !state.contains("status=DoNotDisturb") {
            return Err(format!("after put DoNotDisturb: {state}"));
        }
        check(
            "Away",
            connection.get(config, "Away").await,
            Ok(Variant::I4(0)),
        )?;
        context.control.send("status away")?;
        check(
            "Away",
            connection.get(config, "Away").await,
            Ok(Variant::I4(1)),
        )?;
        check(
            "DoNotDisturb",
            connection.get(config, "DoNotDisturb").await,
            Ok(Variant::I4(0)),
        )?;
        connection
            .put(config, "AwayText", Variant::Str("Im Büro ☎".into()))
            .await
            .map_err(failed("put AwayText"))?;
        check(
            "AwayText",
            connection.get(config, "AwayText").await,
            Ok(Variant::Str("Im Büro ☎".into())),
        )?;
        check(
            "Away as a bool",
            connection
                .put(config, "Away", Variant::Str("yes".into()))
                .await,
            Err(AutomationError::TypeMismatch {
                member: "Away".into(),
            }),
        )?;
        context.control.send("status available")?;
        context.control.send("text ")?;
        Ok(())
    }

    /// `GetOwnUserPresenceInfo` fills five by-reference outputs, typed or as VARIANTs.
    async fn by_reference_outputs(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        context.control.send("status dnd")?;
        context.control.send("text Zurück um 3")?;
        let connection = context
            .connector(Duration::from_secs(20))
            .connect()
            .await
            .map_err(failed("connect"))?;
        let config = config(&*connection).await?;
        let typed = vec![
            Arg::Out(Variant::I4(0)),
            Arg::Out(Variant::I4(0)),
            Arg::Out(Variant::Str(String::new())),
            Arg::Out(Variant::I4(0)),
            Arg::Out(Variant::Str("unchanged?".into())),
        ];
        let expected = vec![
            Variant::I4(6),
            Variant::I4(0),
            Variant::Str("Zurück um 3".into()),
            Variant::I4(1),
            Variant::Str(String::new()),
        ];
        let reply = connection
            .invoke(config, "GetOwnUserPresenceInfo", typed)
            .await
            .map_err(failed("GetOwnUserPresenceInfo"))?;
        check("typed outputs", reply.by_ref, expected.clone())?;
        let untyped = vec![Arg::Out(Variant::Empty); 5];
        let reply = connection
            .invoke(config, "GetOwnUserPresenceInfo", untyped)
            .await
            .map_err(failed("GetOwnUserPresenceInfo"))?;
        check("VARIANT outputs", reply.by_ref, expected)?;
        check(
            "four outputs",
            connection
                .invoke(
                    config,
                    "GetOwnUserPresenceInfo",
                    vec![Arg::Out(Variant::Empty); 4],
                )
                .await
                .map(|reply| reply.by_ref),
            Err(AutomationError::BadArgumentCount {
                member: "GetOwnUserPresenceInfo".into(),
            }),
        )?;
        context.control.send("status available")?;
        context.control.send("text ")?;
        Ok(())
    }

    /// Every CLMgr line state reaches the idle client as events, and reads back from the line.
    async fn every_line_state(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        let (connection, mut events) = attach_subscribed(context, Duration::from_secs(20)).await?;
        let root = connection.root();
        let line = connection
            .invoke(root, "DispGetLine", vec![Arg::In(Variant::I4(0))])
            .await
            .map_err(failed("DispGetLine"))?
            .value
            .as_object()
            .ok_or("DispGetLine: not an object")?;
        let speaking = |state: i32| matches!(state, 8..=11 | 13);
        let mut was_speaking = false;
        for state in 0..=15 {
            // The STA thread sits in its message loop; the events arrive through it.
            context.control.send(&format!("line 1 {state}"))?;
            let mut expected = vec![
                (messages::LINE_STATE_CHANGED, 0),
                (messages::LINE_STATE_CHANGED_EX, state << 16),
            ];
            if speaking(state) != was_speaking {
                let presence = if speaking(state) { 3 } else { 2 };
                expected.push((messages::OWN_PRESENCE_CHANGED, presence));
            }
            was_speaking = speaking(state);
            expect_events(&mut events, &expected)
                .await
                .map_err(|error| format!("line state {state}: {error}"))?;
            check(
                &format!("DispState after state {state}"),
                connection.get(line, "DispState").await,
                Ok(Variant::I4(state)),
            )?;
        }
        context.control.send("line 1 0")?;
        expect_events(
            &mut events,
            &[
                (messages::LINE_STATE_CHANGED, 0),
                (messages::LINE_STATE_CHANGED_EX, 0),
            ],
        )
        .await?;
        check(
            "DispNumberOfLines",
            connection.get(root, "DispNumberOfLines").await,
            Ok(Variant::I4(2)),
        )
    }

    /// An event that the client's own call causes arrives during that call: the server fires
    /// it before the call returns, so it is queued by the time the reply is.
    async fn events_during_a_pending_call(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        context.control.send("status available")?;
        let (connection, mut events) = attach_subscribed(context, Duration::from_secs(20)).await?;
        let config = config(&*connection).await?;
        for (member, presence) in [("Away", 5), ("DoNotDisturb", 6)] {
            connection
                .put(config, member, Variant::I4(1))
                .await
                .map_err(failed(member))?;
            let queued = events.try_recv().map(|(notification, _guard)| notification);
            check(
                &format!("event queued when put {member} returned"),
                queued.ok(),
                Some(Notification {
                    message: messages::OWN_PRESENCE_CHANGED,
                    param: presence,
                }),
            )?;
        }
        // Two calls at once, each causing an event in the middle: neither request is lost in
        // the modal loop.
        let away = connection.put(config, "Away", Variant::I4(1));
        let text = connection.put(config, "DoNotDisturb", Variant::I4(1));
        let (away, text) = tokio::join!(away, text);
        away.map_err(failed("put Away"))?;
        text.map_err(failed("put DoNotDisturb"))?;
        expect_events(
            &mut events,
            &[
                (messages::OWN_PRESENCE_CHANGED, 5),
                (messages::OWN_PRESENCE_CHANGED, 6),
            ],
        )
        .await?;
        context.control.send("status available")?;
        expect_events(&mut events, &[(messages::OWN_PRESENCE_CHANGED, 2)]).await?;

        // An event from elsewhere while a call hangs in the server reaches the sink through
        // the modal loop of that call.
        context.control.send("hang 1")?;
        let pending = connection.get(connection.root(), "DispIsLoggedIn");
        tokio::pin!(pending);
        // Polling once sends the request; the server's count shows when it hangs there.
        tokio::select! {
            early = &mut pending => return Err(format!("the hung call returned: {early:?}")),
            _ = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
        context.wait_for_stats("calls=1").await?;
        context.control.send("line 2 3")?;
        let during = next_event(&mut events).await;
        context.control.send("hang 0")?;
        check(
            "event while the call hangs",
            during,
            Ok(Notification {
                message: messages::LINE_STATE_CHANGED,
                param: 1,
            }),
        )?;
        check("the call after the hang", pending.await, Ok(Variant::I4(1)))?;
        expect_events(
            &mut events,
            &[(messages::LINE_STATE_CHANGED_EX, 3 << 16 | 1)],
        )
        .await?;
        context.control.send("line 2 0")?;
        Ok(())
    }

    /// A call that hangs times out, retires the connection, and a new one works once the
    /// server answers again.
    async fn hung_call_times_out(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        let timeout = Duration::from_secs(2);
        let connection = context
            .connector(timeout)
            .connect()
            .await
            .map_err(failed("connect"))?;
        let root = connection.root();
        context.control.send("hang 1")?;
        let started = Instant::now();
        let hung = connection.get(root, "DispIsLoggedIn").await;
        context.wait_for_stats("calls=1").await?;
        let waited = started.elapsed();
        check("hung call", hung, Err(AutomationError::Timeout))?;
        println!(
            "    hung call returned Timeout after {:.2} s",
            waited.as_secs_f64()
        );
        let started = Instant::now();
        let next = connection.get(root, "DispIsLoggedIn").await;
        check("next call", next, Err(AutomationError::Timeout))?;
        println!(
            "    the next call failed after {:.3} s",
            started.elapsed().as_secs_f64()
        );
        context.control.send("hang 0")?;
        context.wait_for_stats("calls=0").await?;
        drop(connection);
        let connection = context
            .connector(timeout)
            .connect()
            .await
            .map_err(failed("reconnect"))?;
        check(
            "after the hang",
            connection.get(connection.root(), "DispIsLoggedIn").await,
            Ok(Variant::I4(1)),
        )
    }

    /// Dropping the connection unsubscribes and releases every object in the server.
    async fn drop_releases_everything(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        context.wait_for_stats("sinks=0 objects=0").await?;
        let (connection, _events) = attach_subscribed(context, Duration::from_secs(20)).await?;
        let _config = config(&*connection).await?;
        let _line = connection
            .invoke(
                connection.root(),
                "DispGetLine",
                vec![Arg::In(Variant::I4(1))],
            )
            .await
            .map_err(failed("DispGetLine"))?;
        context.wait_for_stats("sinks=1 objects=2").await?;
        drop(connection);
        context.wait_for_stats("sinks=0 objects=0").await
    }

    /// Waits up to ten seconds for an adapter report that `wanted` accepts, skipping others.
    async fn adapter_report(
        reports: &mut tokio::sync::mpsc::UnboundedReceiver<(SwyxEvent, clock::WorkGuard)>,
        what: &str,
        wanted: impl Fn(&SwyxEvent) -> bool,
    ) -> Result<SwyxEvent, String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut skipped = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, reports.recv()).await {
                Ok(Some((report, _guard))) if wanted(&report) => return Ok(report),
                Ok(Some((report, _guard))) => skipped.push(report),
                Ok(None) => return Err(format!("{what}: the adapter stopped")),
                Err(_) => return Err(format!("{what}: not reported within 10 s; got {skipped:?}")),
            }
        }
    }

    /// The Swyx adapter runs over the layer: it attaches, reads the user, writes Away, follows
    /// a call through the events, and lets go on shutdown.
    async fn adapter_over_the_layer(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        context.control.send("status available")?;
        context.wait_for_stats("sinks=0 ").await?;
        let connector = context.connector(Duration::from_secs(5));
        let (adapter, mut reports) = SwyxAdapter::spawn(connector, context.clock.clone());

        let attached = adapter_report(&mut reports, "attach", |report| {
            matches!(report, SwyxEvent::Attached { .. })
        })
        .await?;
        let SwyxEvent::Attached {
            observation,
            identity,
            ..
        } = attached
        else {
            return Err(format!("expected an attach, got {attached:?}"));
        };
        check(
            "e-mail address",
            identity.email.as_deref(),
            Some("alex.demo@contoso.example"),
        )?;
        check(
            "status at attach",
            observation.status,
            SwyxSettable::Available,
        )?;
        check("speaking at attach", observation.speaking, false)?;

        adapter
            .write(SwyxSettable::Away)
            .await
            .map_err(|error| format!("write Away: {error:?}"))?;
        let state = context.control.send("state")?;
        if !state.contains("status=Away") {
            return Err(format!("after the adapter wrote Away: {state}"));
        }
        adapter_report(&mut reports, "own Away", |report| {
            matches!(report, SwyxEvent::Observed(seen)
                if seen.status == SwyxSettable::Away && seen.caused_by_us)
        })
        .await?;

        context.control.send("call 1 start")?;
        adapter_report(
            &mut reports,
            "call start",
            |report| matches!(report, SwyxEvent::Observed(seen) if seen.speaking),
        )
        .await?;
        context.control.send("call 1 end")?;
        adapter_report(
            &mut reports,
            "call end",
            |report| matches!(report, SwyxEvent::Observed(seen) if !seen.speaking),
        )
        .await?;

        adapter.shutdown();
        context.wait_for_stats("sinks=0 objects=0").await?;
        context.control.send("status available")?;
        Ok(())
    }

    /// The server's process ends without notice: calls report `ServerGone`, the events close,
    /// attaching reports `NotRunning`, and the layer attaches again once a new server runs.
    async fn server_exit_and_reattach(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        let (connection, mut events) = attach_subscribed(context, Duration::from_secs(20)).await?;
        let root = connection.root();
        context.control.send("exit")?;
        wait_until_no_server(Duration::from_secs(10))?;
        check(
            "call after the exit",
            connection.get(root, "DispIsLoggedIn").await,
            Err(AutomationError::ServerGone),
        )?;
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(None) => {}
            other => return Err(format!("events after the exit: {other:?}")),
        }
        check(
            "connect while down",
            context
                .connector(Duration::from_secs(20))
                .connect()
                .await
                .err(),
            Some(AutomationError::NotRunning),
        )?;
        drop(connection);
        context.control.root = None;
        context.ensure_server()?;
        let (connection, mut events) = attach_subscribed(context, Duration::from_secs(20)).await?;
        check(
            "call after the restart",
            connection.get(connection.root(), "DispIsLoggedIn").await,
            Ok(Variant::I4(1)),
        )?;
        context.control.send("notify 6 0")?;
        expect_events(&mut events, &[(messages::SERVER_UP, 0)]).await
    }

    /// SwyxIt! quits: the shut-down request (message 11) arrives, then the server is gone.
    async fn shut_down_request(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        let (connection, mut events) = attach_subscribed(context, Duration::from_secs(20)).await?;
        context.control.send("quit")?;
        expect_events(&mut events, &[(messages::CLIENT_SHUT_DOWN_REQUEST, 0)]).await?;
        // The adapter drops the connection on this message; the layer then lets go.
        drop(connection);
        wait_until_no_server(Duration::from_secs(10))?;
        context.control.root = None;
        check(
            "connect after the quit",
            context
                .connector(Duration::from_secs(20))
                .connect()
                .await
                .err(),
            Some(AutomationError::NotRunning),
        )
    }

    /// The probe reads the fake's type library and lists its event interface.
    async fn probe_lists_the_event_interface(context: &mut Context) -> Outcome {
        context.ensure_server()?;
        let text = swyx_com::probe_type_info(swyx_com::PROG_ID);
        for expected in [EVENT_INTERFACE, "PubOnLineMgrNotification", "DispGetLine"] {
            if !text
                .to_ascii_uppercase()
                .contains(&expected.to_ascii_uppercase())
            {
                return Err(format!("the probe does not list {expected}:\n{text}"));
            }
        }
        Ok(())
    }

    type Case = for<'a> fn(
        &'a mut Context,
    )
        -> std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + 'a>>;

    macro_rules! cases {
        ($($name:ident),* $(,)?) => {
            [$((stringify!($name), (|context| Box::pin($name(context))) as Case)),*]
        };
    }

    pub fn main() -> std::process::ExitCode {
        // SAFETY: called once on the main thread, which stays in COM until the process ends.
        if let Err(error) = unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) }.ok() {
            eprintln!("CoInitializeEx: {error}");
            return std::process::ExitCode::FAILURE;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let mut context = Context {
            control: Control { root: None },
            clock: Arc::new(SystemClock::new()),
        };
        let selected: Vec<String> = std::env::args().skip(1).collect();
        let all = cases![
            attach_refuses_to_start_the_server,
            attach_by_prog_id,
            presence_read_and_write,
            by_reference_outputs,
            every_line_state,
            events_during_a_pending_call,
            hung_call_times_out,
            drop_releases_everything,
            probe_lists_the_event_interface,
            adapter_over_the_layer,
            server_exit_and_reattach,
            shut_down_request,
        ];
        let mut failures = 0;
        let mut ran = 0;
        let started = Instant::now();
        for (name, case) in all {
            if !selected.is_empty() && !selected.iter().any(|wanted| wanted == name) {
                continue;
            }
            ran += 1;
            let case_started = Instant::now();
            let outcome = runtime.block_on(case(&mut context));
            let seconds = case_started.elapsed().as_secs_f64();
            match outcome {
                Ok(()) => println!("PASS {name} ({seconds:.2} s)"),
                Err(message) => {
                    failures += 1;
                    println!("FAIL {name} ({seconds:.2} s): {message}");
                }
            }
        }
        if ran == 0 {
            println!("no case matches {selected:?}");
            return std::process::ExitCode::FAILURE;
        }
        println!(
            "{} passed, {failures} failed in {:.1} s",
            ran - failures,
            started.elapsed().as_secs_f64()
        );
        // Stop a server that a case left running.
        let _ = context.control.send("quit");
        if failures == 0 {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}
