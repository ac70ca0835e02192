//! One attachment to SwyxIt!: which members exist, how to read the user's own state, and how
//! to write a settable status. Everything Swyx-specific about the object model lives here.

use std::collections::BTreeSet;
use std::time::Duration;

use clock::SharedClock;
use engine::{SwyxSettable, SwyxUnavailable};
use tracing::{debug, info, warn};

use super::{AwayWrite, SpeakingSources, SwyxIdentity};
use crate::automation::{
    Arg, AutomationError, Call, Connection, NotificationReceiver, ObjectRef, Reply, Variant,
};

/// Line states that count as Speaking: connected (8), on hold (9), conference connected (10)
/// or held (11), held for a transfer (13), and 15, which only reverse-engineered code lists
/// (as a direct call) and which is not verified against a real client.
const SPEAKING_LINE_STATES: [i32; 6] = [8, 9, 10, 11, 13, 15];

/// Line states that are known and do not count as Speaking: idle, off hook, ringing, dialing,
/// alerting, knocking, busy, terminated and wrap-up time.
const OTHER_KNOWN_LINE_STATES: [i32; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 12, 14];

/// The server's own presence state for a call on any device ("Calling", shown as Speaking).
/// The SDK's speed-dial numbering and reverse-engineered code agree on this value.
///
/// FIXME: that `GetOwnUserPresenceInfo` numbers its state like the speed dials is inferred, not
/// documented; dumping its type information on a real SwyxIt! 14.x would settle it.
const SERVER_STATE_CALLING: i32 = 3;

/// The server's own presence state for Away; both numberings agree on it too. The two
/// disagree on Do not disturb (6 or 4), so DND is read from the `DoNotDisturb` flag only.
const SERVER_STATE_AWAY: i32 = 5;

/// The user's own state as read in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    pub(crate) status: SwyxSettable,
    pub(crate) speaking: bool,
}

/// Whether the client can be used now, and why not.
pub(crate) enum Usability {
    Usable,
    NotUsable(SwyxUnavailable),
}

/// How a flag property was last seen typed, so that writes use the same type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlagKind {
    I4,
    Bool,
}

impl FlagKind {
    fn variant(self, set: bool) -> Variant {
        match self {
            FlagKind::I4 => Variant::I4(i32::from(set)),
            FlagKind::Bool => Variant::Bool(set),
        }
    }

    fn other(self) -> FlagKind {
        match self {
            FlagKind::I4 => FlagKind::Bool,
            FlagKind::Bool => FlagKind::I4,
        }
    }

    fn of(value: &Variant) -> Option<FlagKind> {
        match value {
            Variant::I4(_) => Some(FlagKind::I4),
            Variant::Bool(_) => Some(FlagKind::Bool),
            _ => None,
        }
    }
}

/// The flags as read before a write.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    away: bool,
    dnd: bool,
}

/// A connection to SwyxIt! and the objects and facts gathered on it.
pub(crate) struct Link {
    connection: Box<dyn Connection>,
    clock: SharedClock,
    call_timeout: Duration,
    pub(crate) notifications: Option<NotificationReceiver>,
    /// The configuration object, while the client is usable.
    config: Option<ObjectRef>,
    lines: Vec<ObjectRef>,
    away_kind: FlagKind,
    dnd_kind: FlagKind,
    /// Whether `Away`/`DoNotDisturb` exist as properties; when not, `GetOwnUserPresenceInfo`'s
    /// outputs stand in.
    flag_properties: bool,
    pub(crate) sources: SpeakingSources,
    detected_away_member: bool,
    /// Whether this adapter reported a detected away state that it must take back.
    published_detected_away: bool,
    unknown_line_states: BTreeSet<i32>,
}

impl Link {
    /// Wraps a fresh connection and subscribes to its notifications.
    ///
    /// Subscribing comes first, so that no change between the first read and the subscription
    /// goes unnoticed.
    pub(crate) fn new(
        connection: Box<dyn Connection>,
        clock: SharedClock,
        call_timeout: Duration,
    ) -> Result<Self, AutomationError> {
        let notifications = match connection.subscribe() {
            Ok(receiver) => Some(receiver),
            Err(error) if error.is_link_broken() => return Err(error),
            Err(error) => {
                warn!(%error, "subscribing to SwyxIt! notifications failed; reading every second only");
                None
            }
        };
        Ok(Self {
            connection,
            clock,
            call_timeout,
            notifications,
            config: None,
            lines: Vec::new(),
            away_kind: FlagKind::I4,
            dnd_kind: FlagKind::I4,
            flag_properties: true,
            sources: SpeakingSources::default(),
            detected_away_member: true,
            published_detected_away: false,
            unknown_line_states: BTreeSet::new(),
        })
    }

    /// One call, bounded by the call timeout on the shared clock.
    async fn call(&self, call: Call) -> Result<Reply, AutomationError> {
        let member = call.member.clone();
        let result = clock::timeout(&*self.clock, self.call_timeout, self.connection.call(call))
            .await
            .unwrap_or(Err(AutomationError::Timeout));
        if let Err(error) = &result {
            debug!(member, %error, "SwyxIt! call failed");
        }
        result
    }

    async fn get(&self, object: ObjectRef, member: &str) -> Result<Variant, AutomationError> {
        Ok(self.call(Call::get(object, member)).await?.value)
    }

    async fn method(
        &self,
        object: ObjectRef,
        member: &str,
        args: Vec<Arg>,
    ) -> Result<Reply, AutomationError> {
        self.call(Call::method(object, member, args)).await
    }

    async fn get_flag(&self, object: ObjectRef, member: &str) -> Result<bool, AutomationError> {
        let value = self.get(object, member).await?;
        value.as_flag().ok_or(AutomationError::TypeMismatch {
            member: member.to_owned(),
        })
    }

    /// Checks that the client is logged on and its server reachable.
    pub(crate) async fn usability(&self) -> Result<Usability, AutomationError> {
        let root = self.connection.root();
        if !self.get_flag(root, "DispIsLoggedIn").await? {
            return Ok(Usability::NotUsable(SwyxUnavailable::LoggedOff));
        }
        match self.get_flag(root, "DispIsServerUp").await {
            Ok(false) => Ok(Usability::NotUsable(SwyxUnavailable::ServerDown)),
            Ok(true) => Ok(Usability::Usable),
            // A client without the member is taken as up; a logged-on client implies it.
            Err(error) if error.is_unsupported_member() => Ok(Usability::Usable),
            Err(error) => Err(error),
        }
    }

    /// Prepares reading and writing once the client is usable: the configuration object, the
    /// identity, the lines and which sources of Speaking exist.
    pub(crate) async fn set_up(&mut self) -> Result<SwyxIdentity, AutomationError> {
        self.release_objects();
        let root = self.connection.root();
        let config = self.get(root, "DispClientConfig").await?;
        let config = config.as_object().ok_or(AutomationError::TypeMismatch {
            member: "DispClientConfig".into(),
        })?;
        self.config = Some(config);

        self.sources.server_presence = match self.own_presence_info(config).await {
            Ok(_) => true,
            Err(error) if error.is_unsupported_member() => false,
            Err(error) => return Err(error),
        };
        self.sources.local_lines = match self.refresh_lines().await {
            Ok(()) => true,
            Err(error) if error.is_unsupported_member() => false,
            Err(error) => return Err(error),
        };
        self.flag_properties = true;
        self.detected_away_member = true;

        let identity = SwyxIdentity {
            email: self.own_email(config).await?,
            user: self.optional_string(root, "DispGetCurrentUser").await?,
            server: self.optional_string(root, "DispGetCurrentServer").await?,
            speaking_sources: self.sources,
        };
        info!(
            local_lines = identity.speaking_sources.local_lines,
            server_presence = identity.speaking_sources.server_presence,
            lines = self.lines.len(),
            "SwyxIt! attached"
        );
        Ok(identity)
    }

    /// Releases the configuration and line objects, as when the client becomes unusable.
    pub(crate) fn release_objects(&mut self) {
        if let Some(config) = self.config.take() {
            self.connection.release(config);
        }
        for line in self.lines.drain(..) {
            self.connection.release(line);
        }
    }

    /// `GetOwnEmailAddress`, on the configuration object or else on the root object.
    async fn own_email(&self, config: ObjectRef) -> Result<Option<String>, AutomationError> {
        for object in [config, self.connection.root()] {
            match self.method(object, "GetOwnEmailAddress", Vec::new()).await {
                Ok(reply) => return Ok(reply.value.as_str().map(str::to_owned)),
                Err(error) if error.is_unsupported_member() => continue,
                Err(error) => return Err(error),
            }
        }
        Ok(None)
    }

    async fn optional_string(
        &self,
        object: ObjectRef,
        member: &str,
    ) -> Result<Option<String>, AutomationError> {
        match self.get(object, member).await {
            Ok(value) => Ok(value.as_str().map(str::to_owned)),
            Err(error) if error.is_unsupported_member() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `GetOwnUserPresenceInfo(out state, out away, out text, out dnd, out appointment)`; the
    /// texts are not read further.
    async fn own_presence_info(&self, config: ObjectRef) -> Result<(i32, Flags), AutomationError> {
        let member = "GetOwnUserPresenceInfo";
        let outs = vec![
            Arg::Out(Variant::I4(0)),
            Arg::Out(Variant::I4(0)),
            Arg::Out(Variant::Str(String::new())),
            Arg::Out(Variant::I4(0)),
            Arg::Out(Variant::Str(String::new())),
        ];
        let reply = self.method(config, member, outs).await?;
        let mismatch = || AutomationError::TypeMismatch {
            member: member.to_owned(),
        };
        let state = reply
            .by_ref
            .first()
            .and_then(Variant::as_i32)
            .ok_or_else(mismatch)?;
        let away = reply
            .by_ref
            .get(1)
            .and_then(Variant::as_flag)
            .ok_or_else(mismatch)?;
        let dnd = reply
            .by_ref
            .get(3)
            .and_then(Variant::as_flag)
            .ok_or_else(mismatch)?;
        Ok((state, Flags { away, dnd }))
    }

    /// Re-reads the number of lines and fetches the line objects when it changed.
    pub(crate) async fn refresh_lines(&mut self) -> Result<(), AutomationError> {
        let root = self.connection.root();
        let count = self.get(root, "DispNumberOfLines").await?;
        let count = count.as_i32().ok_or(AutomationError::TypeMismatch {
            member: "DispNumberOfLines".into(),
        })?;
        let count = usize::try_from(count).unwrap_or(0);
        if count == self.lines.len() {
            return Ok(());
        }
        for line in self.lines.drain(..) {
            self.connection.release(line);
        }
        for index in 0..count {
            let line = self
                .method(
                    root,
                    "DispGetLine",
                    vec![Arg::In(Variant::I4(index as i32))],
                )
                .await?;
            match line.value.as_object() {
                Some(object) => self.lines.push(object),
                None => {
                    return Err(AutomationError::TypeMismatch {
                        member: "DispGetLine".into(),
                    })
                }
            }
        }
        debug!(lines = count, "SwyxIt! line objects fetched");
        Ok(())
    }

    /// Reads the user's own status and whether they are Speaking.
    pub(crate) async fn read(&mut self) -> Result<Reading, AutomationError> {
        let config = self.config.ok_or(AutomationError::ServerGone)?;

        let mut server_state = None;
        let mut info_flags = None;
        if self.sources.server_presence {
            match self.own_presence_info(config).await {
                Ok((state, flags)) => {
                    server_state = Some(state);
                    info_flags = Some(flags);
                }
                Err(error) if error.is_unsupported_member() => {
                    warn!("GetOwnUserPresenceInfo disappeared; Speaking now comes from the local lines only");
                    self.sources.server_presence = false;
                }
                Err(error) => return Err(error),
            }
        }
        let flags = self.read_flags(config, info_flags).await?;

        let mut line_speaking = false;
        if self.sources.local_lines {
            self.refresh_lines().await?;
            for index in 0..self.lines.len() {
                let state = self.get(self.lines[index], "DispState").await?;
                let state = state.as_i32().unwrap_or(-1);
                line_speaking |= self.is_speaking_line_state(state);
            }
        }

        // NOTE: during a call the server reports Calling, which hides a detected Away; only the
        // manual flags show the status then.
        let server_away = server_state == Some(SERVER_STATE_AWAY);
        let status = if flags.dnd {
            SwyxSettable::DoNotDisturb
        } else if flags.away || server_away {
            SwyxSettable::Away
        } else {
            SwyxSettable::Available
        };
        let speaking = line_speaking || server_state == Some(SERVER_STATE_CALLING);
        Ok(Reading { status, speaking })
    }

    /// The Away and DND flags: from the properties, or from the presence info when this client
    /// version lacks them.
    async fn read_flags(
        &mut self,
        config: ObjectRef,
        info_flags: Option<Flags>,
    ) -> Result<Flags, AutomationError> {
        if self.flag_properties {
            match self.read_flag_properties(config).await {
                Ok(flags) => return Ok(flags),
                Err(error) if error.is_unsupported_member() => {
                    warn!(%error, "SwyxIt! lacks the Away/DoNotDisturb properties; reading GetOwnUserPresenceInfo instead");
                    self.flag_properties = false;
                }
                Err(error) => return Err(error),
            }
        }
        info_flags.ok_or(AutomationError::UnknownName {
            member: "Away".into(),
        })
    }

    async fn read_flag_properties(&mut self, config: ObjectRef) -> Result<Flags, AutomationError> {
        let away = self.get(config, "Away").await?;
        let dnd = self.get(config, "DoNotDisturb").await?;
        self.away_kind = FlagKind::of(&away).unwrap_or(self.away_kind);
        self.dnd_kind = FlagKind::of(&dnd).unwrap_or(self.dnd_kind);
        let mismatch = |member: &str| AutomationError::TypeMismatch {
            member: member.to_owned(),
        };
        Ok(Flags {
            away: away.as_flag().ok_or_else(|| mismatch("Away"))?,
            dnd: dnd.as_flag().ok_or_else(|| mismatch("DoNotDisturb"))?,
        })
    }

    fn is_speaking_line_state(&mut self, state: i32) -> bool {
        if SPEAKING_LINE_STATES.contains(&state) {
            return true;
        }
        if !OTHER_KNOWN_LINE_STATES.contains(&state) && self.unknown_line_states.insert(state) {
            info!(
                line_state = state,
                "unknown SwyxIt! line state; not counted as Speaking"
            );
        }
        false
    }

    /// Writes a settable status with as few writes as possible. The status text is never
    /// touched.
    pub(crate) async fn write(
        &mut self,
        target: SwyxSettable,
        away_write: AwayWrite,
    ) -> Result<(), AutomationError> {
        let config = self.config.ok_or(AutomationError::ServerGone)?;
        let flags = self.read_flags_for_write(config).await?;

        match target {
            SwyxSettable::Available => {
                if flags.away {
                    self.put_flag(config, "Away", false).await?;
                }
                if flags.dnd {
                    self.put_flag(config, "DoNotDisturb", false).await?;
                }
                self.withdraw_detected_away(config).await?;
            }
            SwyxSettable::Away => {
                let detected = away_write == AwayWrite::Detected && self.detected_away_member;
                if detected && self.publish_detected_away(config, true).await? {
                    if flags.dnd {
                        self.put_flag(config, "DoNotDisturb", false).await?;
                    }
                    return Ok(());
                }
                if !flags.away {
                    self.put_flag(config, "Away", true).await?;
                }
                // A client whose flags are independent keeps DND set; clear it too.
                if self.read_flags_for_write(config).await?.dnd {
                    self.put_flag(config, "DoNotDisturb", false).await?;
                }
            }
            SwyxSettable::DoNotDisturb => {
                if !flags.dnd {
                    self.put_flag(config, "DoNotDisturb", true).await?;
                }
                if self.read_flags_for_write(config).await?.away {
                    self.put_flag(config, "Away", false).await?;
                }
                self.withdraw_detected_away(config).await?;
            }
        }
        Ok(())
    }

    async fn read_flags_for_write(&mut self, config: ObjectRef) -> Result<Flags, AutomationError> {
        if self.flag_properties {
            return self.read_flags(config, None).await;
        }
        Ok(self.own_presence_info(config).await?.1)
    }

    /// Puts a flag with the type it was read with, and once more with the other type when the
    /// client rejects it with a type mismatch.
    async fn put_flag(
        &mut self,
        config: ObjectRef,
        member: &str,
        set: bool,
    ) -> Result<(), AutomationError> {
        let kind = if member == "Away" {
            self.away_kind
        } else {
            self.dnd_kind
        };
        let first = self
            .call(Call::put(config, member, kind.variant(set)))
            .await;
        let kind = match first {
            Ok(_) => {
                info!(member, set, "SwyxIt! flag written");
                return Ok(());
            }
            Err(AutomationError::TypeMismatch { .. }) => kind.other(),
            Err(error) => return Err(error),
        };
        self.call(Call::put(config, member, kind.variant(set)))
            .await?;
        info!(member, set, "SwyxIt! flag written with the other type");
        if member == "Away" {
            self.away_kind = kind;
        } else {
            self.dnd_kind = kind;
        }
        Ok(())
    }

    /// Reports a detected away state; returns false when this client lacks the member.
    async fn publish_detected_away(
        &mut self,
        config: ObjectRef,
        away: bool,
    ) -> Result<bool, AutomationError> {
        let args = vec![Arg::In(Variant::I4(i32::from(away)))];
        match self
            .method(config, "PublicateDetectedAwayState", args)
            .await
        {
            Ok(_) => {
                self.published_detected_away = away;
                info!(away, "SwyxIt! detected away state reported");
                Ok(true)
            }
            Err(error) if error.is_unsupported_member() => {
                warn!("PublicateDetectedAwayState is missing; writing a manual Away instead");
                self.detected_away_member = false;
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    async fn withdraw_detected_away(&mut self, config: ObjectRef) -> Result<(), AutomationError> {
        if self.published_detected_away {
            self.publish_detected_away(config, false).await?;
        }
        Ok(())
    }
}
