//! The request protocol between async callers and the one thread that owns an apartment.
//!
//! COM pointers of a single-threaded apartment (STA) may only be used on the thread that made
//! them, so each connection gets its own thread that owns every pointer, and callers reach it
//! with plain-data [`Request`]s over a channel. The thread follows three rules:
//!
//! 1. It takes requests only in its own outer loop ([`serve`]), one at a time and in arrival
//!    order. While a call is in flight, COM runs a modal loop on the same thread and may
//!    deliver events (re-entrant calls into the event sink) or swallow the thread message
//!    that announced a request. The sink therefore only queues each event to the
//!    notification channel and never calls back into COM, and the outer loop drains the
//!    request channel after every request, so no announced request is lost.
//! 2. A call that does not return within the call timeout, or whose caller stops waiting,
//!    retires the connection. The caller gets [`AutomationError::Timeout`], which breaks the
//!    link. Every later call fails at once instead of queueing behind the stuck one, and the
//!    thread gets a shutdown request that it handles once the stuck call returns. The next
//!    [`Connector::connect`] starts a fresh thread.
//! 3. After a call reports that the server is gone, or on shutdown (the caller dropping the
//!    connection, for example on the server's shut-down request), the thread unsubscribes,
//!    releases every pointer and ends.
//!
//! The thread's work is behind the [`Apartment`] trait: COM on Windows, a fake in tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self as std_mpsc, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use clock::{SharedClock, WorkGuard};
use swyx::automation::{
    AutomationError, AutomationFuture, Call, Connection, Connector, Notification,
    NotificationReceiver, ObjectRef, Reply,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

/// The sending end of a subscription's notifications.
pub type EventSender = mpsc::UnboundedSender<(Notification, WorkGuard)>;

/// Wakes the apartment thread after a request was queued; it must not block.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// `E_FAIL`, reported when the apartment thread cannot be started.
const E_FAIL: u32 = 0x8000_4005;

/// The objects one apartment thread owns, and how that thread waits.
pub trait Apartment {
    /// Calls one member.
    fn call(&mut self, call: &Call) -> Result<Reply, AutomationError>;

    /// Releases one object; an unknown handle is ignored.
    fn release(&mut self, object: ObjectRef);

    /// Sends the root object's events to `events`, replacing an earlier subscription. On
    /// failure `events` is dropped, which closes the subscriber's channel.
    fn subscribe(&mut self, events: EventSender) -> Result<(), AutomationError>;

    /// Waits until the thread is woken, dispatching whatever else arrives meanwhile (window
    /// messages, calls into the event sink); false when the thread must end.
    fn wait(&mut self) -> bool;

    /// Unsubscribes and releases every object; called once, before the thread ends.
    fn close(&mut self);
}

/// A freshly entered apartment, attached to the server.
pub struct Opened<A> {
    /// The apartment, owned by its thread from now on.
    pub apartment: A,
    /// The root object's handle.
    pub root: ObjectRef,
    /// Wakes this thread from [`Apartment::wait`].
    pub wake: Waker,
}

/// Enters an apartment on the calling (new) thread and attaches to the server.
pub type Open<A> = dyn Fn() -> Result<Opened<A>, AutomationError> + Send + Sync;

/// One request to the apartment thread.
enum Request {
    Call {
        call: Call,
        reply: oneshot::Sender<Result<Reply, AutomationError>>,
        /// Dropped once the reply is sent, so a manual clock waits for the reply.
        _busy: WorkGuard,
    },
    Release(ObjectRef),
    Subscribe(EventSender),
    Shutdown,
}

/// A [`Connector`] that starts one apartment thread per connection.
pub struct ThreadConnector<A> {
    open: Arc<Open<A>>,
    clock: SharedClock,
    call_timeout: Duration,
}

impl<A: Apartment + 'static> ThreadConnector<A> {
    /// Creates a connector; `open` runs on each new thread, and `call_timeout` bounds attaching
    /// and every call.
    pub fn new(open: Arc<Open<A>>, clock: SharedClock, call_timeout: Duration) -> Self {
        Self {
            open,
            clock,
            call_timeout,
        }
    }
}

impl<A: Apartment + 'static> Connector for ThreadConnector<A> {
    fn connect(&self) -> AutomationFuture<'_, Result<Box<dyn Connection>, AutomationError>> {
        Box::pin(async move {
            let (ready_tx, ready_rx) = oneshot::channel();
            let (requests, requests_rx) = std_mpsc::channel();
            let open = self.open.clone();
            let spawned = std::thread::Builder::new()
                .name("swyx-com-sta".into())
                .spawn(move || run_thread(&*open, &requests_rx, ready_tx));
            if let Err(error) = spawned {
                warn!(%error, "starting the apartment thread failed");
                return Err(AutomationError::Failed {
                    member: String::new(),
                    hresult: E_FAIL,
                });
            }

            // On a timeout the thread is abandoned: it finds the ready channel closed once the
            // attach returns, and then releases what it holds and ends.
            let ready = clock::timeout(&*self.clock, self.call_timeout, ready_rx).await;
            let (root, wake) = match ready {
                Err(_elapsed) => return Err(AutomationError::Timeout),
                Ok(Err(_thread_ended)) => return Err(AutomationError::ServerGone),
                Ok(Ok(attached)) => attached?,
            };
            let connection = ThreadConnection {
                root,
                requests,
                wake,
                retired: AtomicBool::new(false),
                clock: self.clock.clone(),
                call_timeout: self.call_timeout,
            };
            Ok(Box::new(connection) as Box<dyn Connection>)
        })
    }
}

/// The body of an apartment thread.
fn run_thread<A: Apartment>(
    open: &Open<A>,
    requests: &std_mpsc::Receiver<Request>,
    ready: oneshot::Sender<Result<(ObjectRef, Waker), AutomationError>>,
) {
    let Opened {
        mut apartment,
        root,
        wake,
    } = match open() {
        Ok(opened) => opened,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    if ready.send(Ok((root, wake))).is_ok() {
        serve(&mut apartment, requests);
    } else {
        debug!("the caller stopped waiting for the attach; detaching at once");
    }
    apartment.close();
}

/// Serves requests until shutdown, a dead server or a dropped connection.
fn serve<A: Apartment>(apartment: &mut A, requests: &std_mpsc::Receiver<Request>) {
    loop {
        loop {
            match requests.try_recv() {
                Ok(request) => {
                    if !handle(apartment, request) {
                        return;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if !apartment.wait() {
            return;
        }
    }
}

/// Handles one request; false when the thread must end.
fn handle<A: Apartment>(apartment: &mut A, request: Request) -> bool {
    match request {
        Request::Call { call, reply, _busy } => {
            let result = apartment.call(&call);
            let server_gone = matches!(result, Err(AutomationError::ServerGone));
            let _ = reply.send(result);
            !server_gone
        }
        Request::Release(object) => {
            apartment.release(object);
            true
        }
        Request::Subscribe(events) => match apartment.subscribe(events) {
            Ok(()) => true,
            Err(error) => {
                warn!(%error, "subscribing to the server's events failed");
                !matches!(error, AutomationError::ServerGone)
            }
        },
        Request::Shutdown => false,
    }
}

/// A connection served by one apartment thread.
struct ThreadConnection {
    root: ObjectRef,
    requests: std_mpsc::Sender<Request>,
    wake: Waker,
    /// Set once a call timed out or was abandoned; see the module rules.
    retired: AtomicBool,
    clock: SharedClock,
    call_timeout: Duration,
}

impl ThreadConnection {
    /// Queues a request and wakes the thread; false when the thread has ended.
    fn send(&self, request: Request) -> bool {
        let sent = self.requests.send(request).is_ok();
        if sent {
            (self.wake)();
        }
        sent
    }

    /// Retires the connection and queues a shutdown request that the thread handles once it is
    /// free again.
    fn retire(&self, member: &str) {
        if !self.retired.swap(true, Ordering::AcqRel) {
            warn!(
                member,
                "automation call did not return in time; retiring the apartment thread"
            );
            self.send(Request::Shutdown);
        }
    }
}

/// Retires the connection when a call's future is dropped before its reply arrived.
struct Abandoned<'a> {
    connection: &'a ThreadConnection,
    member: String,
    armed: bool,
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.connection.retire(&self.member);
        }
    }
}

impl Connection for ThreadConnection {
    fn root(&self) -> ObjectRef {
        self.root
    }

    fn call(&self, call: Call) -> AutomationFuture<'_, Result<Reply, AutomationError>> {
        Box::pin(async move {
            if self.retired.load(Ordering::Acquire) {
                return Err(AutomationError::Timeout);
            }
            let mut abandoned = Abandoned {
                connection: self,
                member: call.member.clone(),
                armed: true,
            };
            let (reply, answer) = oneshot::channel();
            if !self.send(Request::Call {
                call,
                reply,
                _busy: self.clock.busy(),
            }) {
                abandoned.armed = false;
                return Err(AutomationError::ServerGone);
            }
            let answer = clock::timeout(&*self.clock, self.call_timeout, answer).await;
            abandoned.armed = false;
            match answer {
                Ok(Ok(result)) => result,
                Ok(Err(_thread_ended)) => Err(AutomationError::ServerGone),
                Err(_elapsed) => {
                    self.retire(&abandoned.member);
                    Err(AutomationError::Timeout)
                }
            }
        })
    }

    fn release(&self, object: ObjectRef) {
        self.send(Request::Release(object));
    }

    fn subscribe(&self) -> Result<NotificationReceiver, AutomationError> {
        if self.retired.load(Ordering::Acquire) {
            return Err(AutomationError::Timeout);
        }
        let (events, receiver) = mpsc::unbounded_channel();
        if self.send(Request::Subscribe(events)) {
            Ok(receiver)
        } else {
            Err(AutomationError::ServerGone)
        }
    }
}

impl Drop for ThreadConnection {
    fn drop(&mut self) {
        self.send(Request::Shutdown);
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::sync::Mutex;
    use std::task::Poll;
    use std::thread::ThreadId;

    use clock::{Clock, ManualClock};
    use swyx::automation::Variant;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// What the fake apartments of one test share with the test.
    #[derive(Default)]
    struct Shared {
        /// Everything the fakes did, in order, e.g. "open 1", "call Away", "close 1".
        log: Mutex<Vec<String>>,
        /// The threads the fakes ran calls on.
        threads: Mutex<Vec<ThreadId>>,
        opens: Mutex<u32>,
        /// Signalled when a fake enters a call that blocks.
        entered: Mutex<Option<std_mpsc::Sender<()>>>,
        /// Received from by a blocked fake; any message or a dropped sender unblocks it.
        proceed: Mutex<Option<std_mpsc::Receiver<()>>>,
    }

    impl Shared {
        fn note(&self, line: String) {
            self.log.lock().unwrap().push(line);
        }

        fn log(&self) -> Vec<String> {
            self.log.lock().unwrap().clone()
        }

        /// Blocks the calling fake until the test lets it go, as a stuck COM call would.
        fn block(&self, clock: &ManualClock) {
            let _waiting = clock.waiting();
            if let Some(entered) = self.entered.lock().unwrap().as_ref() {
                let _ = entered.send(());
            }
            let proceed = self.proceed.lock().unwrap().take();
            if let Some(proceed) = proceed {
                let _ = proceed.recv();
            }
        }
    }

    /// A fake apartment: members are answered from a fixed table, events are sent on request.
    struct Fake {
        id: u32,
        shared: Arc<Shared>,
        clock: Arc<ManualClock>,
        wakes: std_mpsc::Receiver<()>,
        events: Option<EventSender>,
    }

    impl Apartment for Fake {
        fn call(&mut self, call: &Call) -> Result<Reply, AutomationError> {
            self.shared
                .threads
                .lock()
                .unwrap()
                .push(std::thread::current().id());
            self.shared.note(format!("call {}", call.member));
            match call.member.as_str() {
                "Away" => Ok(Reply {
                    value: Variant::I4(1),
                    by_ref: Vec::new(),
                }),
                "Echo" => Ok(Reply {
                    value: Variant::Str(format!("{:?}", call.args)),
                    by_ref: Vec::new(),
                }),
                "Gone" => Err(AutomationError::ServerGone),
                "Notify" => {
                    // A COM event delivered while this call is in flight.
                    if let Some(events) = &self.events {
                        let _ = events.send((
                            Notification {
                                message: 60,
                                param: 7,
                            },
                            WorkGuard::none(),
                        ));
                    }
                    Ok(Reply::default())
                }
                "Hang" => {
                    self.shared.block(&self.clock);
                    Ok(Reply::default())
                }
                "SwallowWakes" => {
                    // COM's modal loop may swallow the thread message that announced the next
                    // request while this call is in flight.
                    self.shared.block(&self.clock);
                    while self.wakes.try_recv().is_ok() {}
                    Ok(Reply::default())
                }
                member => Err(AutomationError::UnknownName {
                    member: member.to_owned(),
                }),
            }
        }

        fn release(&mut self, object: ObjectRef) {
            self.shared.note(format!("release {}", object.0));
        }

        fn subscribe(&mut self, events: EventSender) -> Result<(), AutomationError> {
            self.shared.note(format!("subscribe {}", self.id));
            self.events = Some(events);
            Ok(())
        }

        fn wait(&mut self) -> bool {
            self.wakes.recv().is_ok()
        }

        fn close(&mut self) {
            self.shared.note(format!("close {}", self.id));
        }
    }

    /// How the fake's attach behaves.
    #[derive(Clone, Copy, PartialEq)]
    enum Attach {
        Works,
        NotRunning,
        Hangs,
    }

    fn connector(
        shared: &Arc<Shared>,
        clock: &Arc<ManualClock>,
        attach: Attach,
    ) -> ThreadConnector<Fake> {
        let (shared_for_open, clock_for_open) = (shared.clone(), clock.clone());
        let open = move || {
            let id = {
                let mut opens = shared_for_open.opens.lock().unwrap();
                *opens += 1;
                *opens
            };
            shared_for_open.note(format!("open {id}"));
            match attach {
                Attach::Works => {}
                Attach::NotRunning => return Err(AutomationError::NotRunning),
                Attach::Hangs => shared_for_open.block(&clock_for_open),
            }
            let (wake_tx, wakes) = std_mpsc::channel();
            let wake: Waker = Arc::new(move || {
                let _ = wake_tx.send(());
            });
            let apartment = Fake {
                id,
                shared: shared_for_open.clone(),
                clock: clock_for_open.clone(),
                wakes,
                events: None,
            };
            Ok(Opened {
                apartment,
                root: ObjectRef(1),
                wake,
            })
        };
        let dyn_clock: SharedClock = clock.clone();
        ThreadConnector::new(Arc::new(open), dyn_clock, TIMEOUT)
    }

    /// Arms the blocking fake calls: returns the "entered" receiver and the "proceed" sender.
    fn arm_block(shared: &Shared) -> (std_mpsc::Receiver<()>, std_mpsc::Sender<()>) {
        let (entered_tx, entered) = std_mpsc::channel();
        let (proceed, proceed_rx) = std_mpsc::channel();
        *shared.entered.lock().unwrap() = Some(entered_tx);
        *shared.proceed.lock().unwrap() = Some(proceed_rx);
        (entered, proceed)
    }

    /// Polls a future once, so that its request is queued, and returns its output if ready.
    async fn poll_once<T>(future: &mut AutomationFuture<'_, T>) -> Option<T> {
        poll_fn(|cx| match future.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready(Some(output)),
            Poll::Pending => Poll::Ready(None),
        })
        .await
    }

    /// Waits in real time until the fakes' log contains `line`.
    async fn wait_for_log(shared: &Shared, line: &str) {
        for _ in 0..500 {
            if shared.log().iter().any(|entry| entry == line) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("{line:?} never logged; log: {:?}", shared.log());
    }

    fn setup() -> (Arc<Shared>, Arc<ManualClock>) {
        (
            Arc::new(Shared::default()),
            Arc::new(ManualClock::starting_now()),
        )
    }

    #[tokio::test]
    async fn calls_are_answered_on_one_other_thread() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        assert_eq!(connection.root(), ObjectRef(1));

        fn check(
            result: Result<Reply, AutomationError>,
            expected: Result<Variant, AutomationError>,
        ) {
            assert_eq!(result.map(|reply| reply.value), expected);
        }
        check(
            connection.call(Call::get(ObjectRef(1), "Away")).await,
            Ok(Variant::I4(1)),
        );
        let echo = Call::method(
            ObjectRef(2),
            "Echo",
            vec![swyx::automation::Arg::In(Variant::I4(4))],
        );
        check(
            connection.call(echo).await,
            Ok(Variant::Str("[In(I4(4))]".into())),
        );
        check(
            connection.call(Call::get(ObjectRef(1), "Missing")).await,
            Err(AutomationError::UnknownName {
                member: "Missing".into(),
            }),
        );

        let threads = shared.threads.lock().unwrap().clone();
        assert_eq!(threads.len(), 3);
        assert!(
            threads.iter().all(|thread| *thread == threads[0]),
            "{threads:?}"
        );
        assert_ne!(threads[0], std::thread::current().id());
    }

    #[tokio::test]
    async fn drop_releases_everything_and_ends_thread() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        connection.release(ObjectRef(5));
        drop(connection);
        wait_for_log(&shared, "close 1").await;
        assert_eq!(shared.log(), ["open 1", "release 5", "close 1"]);
    }

    #[tokio::test]
    async fn attach_failure_reaches_the_caller() {
        let (shared, clock) = setup();
        let result = connector(&shared, &clock, Attach::NotRunning)
            .connect()
            .await;
        assert_eq!(result.err(), Some(AutomationError::NotRunning));
    }

    #[tokio::test]
    async fn hung_attach_times_out_and_detaches_later() {
        let (shared, clock) = setup();
        let (entered, proceed) = arm_block(&shared);
        let connector = connector(&shared, &clock, Attach::Hangs);
        let mut connecting = connector.connect();
        assert!(poll_once(&mut connecting).await.is_none());
        entered.recv().unwrap();

        // The future must be polled while the clock moves, or its woken timer stalls the clock.
        let (result, ()) = tokio::join!(connecting, clock.advance(TIMEOUT));
        assert_eq!(result.err(), Some(AutomationError::Timeout));

        // Once the attach returns, the abandoned thread finds nobody waiting and detaches.
        proceed.send(()).unwrap();
        wait_for_log(&shared, "close 1").await;
    }

    #[tokio::test]
    async fn server_gone_ends_the_thread() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        let gone = connection.call(Call::get(ObjectRef(1), "Gone")).await;
        assert_eq!(gone, Err(AutomationError::ServerGone));
        wait_for_log(&shared, "close 1").await;

        let later = connection.call(Call::get(ObjectRef(1), "Away")).await;
        assert_eq!(later, Err(AutomationError::ServerGone));
        assert_eq!(
            connection.subscribe().err(),
            Some(AutomationError::ServerGone)
        );
        assert_eq!(shared.log(), ["open 1", "call Gone", "close 1"]);
    }

    #[tokio::test]
    async fn hung_call_retires_the_connection() {
        let (shared, clock) = setup();
        let connector = connector(&shared, &clock, Attach::Works);
        let connection = connector.connect().await.unwrap();
        let (entered, proceed) = arm_block(&shared);
        let mut hung = connection.call(Call::get(ObjectRef(1), "Hang"));
        assert!(poll_once(&mut hung).await.is_none());
        entered.recv().unwrap();

        let (result, ()) = tokio::join!(hung, clock.advance(TIMEOUT));
        assert_eq!(result, Err(AutomationError::Timeout));

        // Later calls fail at once instead of queueing behind the stuck one.
        let later = connection.call(Call::get(ObjectRef(1), "Away")).await;
        assert_eq!(later, Err(AutomationError::Timeout));
        assert_eq!(connection.subscribe().err(), Some(AutomationError::Timeout));

        // The thread ends once the stuck call returns, and a new connect starts a fresh one.
        proceed.send(()).unwrap();
        wait_for_log(&shared, "close 1").await;
        let fresh = connector.connect().await.unwrap();
        let away = fresh.call(Call::get(ObjectRef(1), "Away")).await;
        assert_eq!(away.map(|reply| reply.value), Ok(Variant::I4(1)));
        assert_eq!(
            shared.log(),
            ["open 1", "call Hang", "close 1", "open 2", "call Away"]
        );
    }

    #[tokio::test]
    async fn abandoned_call_retires_the_connection() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        let (entered, proceed) = arm_block(&shared);
        let mut hung = connection.call(Call::get(ObjectRef(1), "Hang"));
        assert!(poll_once(&mut hung).await.is_none());
        entered.recv().unwrap();

        // The caller's own timeout drops the future before the reply arrived.
        drop(hung);
        let later = connection.call(Call::get(ObjectRef(1), "Away")).await;
        assert_eq!(later, Err(AutomationError::Timeout));
        proceed.send(()).unwrap();
        wait_for_log(&shared, "close 1").await;
        assert_eq!(shared.log(), ["open 1", "call Hang", "close 1"]);
    }

    #[tokio::test]
    async fn swallowed_wake_loses_no_request() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        let (entered, proceed) = arm_block(&shared);
        let mut first = connection.call(Call::get(ObjectRef(1), "SwallowWakes"));
        assert!(poll_once(&mut first).await.is_none());
        entered.recv().unwrap();

        // Queued while the first call is in flight; the fake then swallows its wake-up.
        let mut second = connection.call(Call::get(ObjectRef(1), "Away"));
        assert!(poll_once(&mut second).await.is_none());
        proceed.send(()).unwrap();

        assert_eq!(first.await, Ok(Reply::default()));
        // A lost request would leave the thread waiting for a wake-up that never comes.
        let second = tokio::time::timeout(Duration::from_secs(10), second).await;
        assert_eq!(
            second
                .expect("second request lost")
                .map(|reply| reply.value),
            Ok(Variant::I4(1))
        );
    }

    #[tokio::test]
    async fn events_arrive_during_calls() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        let mut notifications = connection.subscribe().unwrap();
        connection
            .call(Call::method(ObjectRef(1), "Notify", Vec::new()))
            .await
            .unwrap();
        let (notification, _guard) = notifications.recv().await.unwrap();
        assert_eq!(
            notification,
            Notification {
                message: 60,
                param: 7
            }
        );
    }

    #[tokio::test]
    async fn second_subscription_replaces_first() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        let mut first = connection.subscribe().unwrap();
        let mut second = connection.subscribe().unwrap();
        connection
            .call(Call::method(ObjectRef(1), "Notify", Vec::new()))
            .await
            .unwrap();
        assert!(first.recv().await.is_none(), "the replaced channel closes");
        assert_eq!(
            second.recv().await.map(|(n, _)| n),
            Some(Notification {
                message: 60,
                param: 7
            })
        );
    }

    #[tokio::test]
    async fn notifications_close_when_connection_drops() {
        let (shared, clock) = setup();
        let connection = connector(&shared, &clock, Attach::Works)
            .connect()
            .await
            .unwrap();
        let mut notifications = connection.subscribe().unwrap();
        drop(connection);
        assert!(notifications.recv().await.is_none());
        wait_for_log(&shared, "close 1").await;
    }
}
