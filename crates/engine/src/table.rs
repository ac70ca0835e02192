//! The Teams → Swyx mapping table and the case-insensitive reading of Graph presence values.
//!
//! The table is data: [`ALIASES`] rewrites an availability first, then [`ROWS`] is searched in
//! order and the first matching row wins. Rows with a fixed activity come first, so a pair with
//! no row of its own falls through to the row of its availability alone (activity `Any`). An
//! availability with no row at all maps to "no synchronization".

use crate::api::{Settings, SwyxTarget, TeamsPresence};
use crate::labels::teams as label;

/// A user setting that can switch a row off ("no synchronization" while it is off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSwitch {
    /// "Teams Do not disturb sets Swyx Do not disturb": the rows with availability DoNotDisturb
    /// and target DoNotDisturb (Presenting maps to Speaking and is not covered).
    DndSetsDnd,
    /// "Teams Away sets Swyx Away": the rows Teams shows as Away or Be right back (availability
    /// Away or BeRightBack, and Available/AvailableInactive). Busy, In a meeting and Appear
    /// offline also map to Away but are other Teams statuses and stay on.
    AwaySetsAway,
}

/// The activity a row matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityMatch {
    /// This activity, compared case-insensitively.
    Is(&'static str),
    /// Any activity: the fallback row of an availability.
    Any,
}

/// One row of the mapping table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Graph availability, compared case-insensitively.
    pub availability: &'static str,
    /// Graph activity.
    pub activity: ActivityMatch,
    /// Whether the row matches only when `isOutOfOffice` is true.
    pub needs_out_of_office: bool,
    /// The Swyx target, or `None` for "no synchronization".
    pub target: Option<SwyxTarget>,
    /// The Teams status in words.
    pub label: &'static str,
    /// The setting that switches this row off, if any.
    pub switch: Option<RowSwitch>,
}

/// A rewrite of the availability before the lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    /// The availability as Graph may send it.
    pub from: &'static str,
    /// The availability to look up instead.
    pub availability: &'static str,
    /// The activity to look up instead, ignoring the received one; `None` keeps it.
    pub activity: Option<&'static str>,
}

/// Idle forms, and activity names that turn up as the availability.
pub const ALIASES: &[Alias] = &[
    alias("AvailableIdle", "Available", None),
    alias("BusyIdle", "Busy", None),
    alias("Focusing", "DoNotDisturb", Some("Focusing")),
    alias("InACall", "Busy", Some("InACall")),
    alias("InAMeeting", "Busy", Some("InAMeeting")),
    alias("Presenting", "DoNotDisturb", Some("Presenting")),
];

use ActivityMatch::{Any, Is};
use RowSwitch::{AwaySetsAway, DndSetsDnd};
use SwyxTarget::{Available, Away, DoNotDisturb, Speaking};

/// The mapping table, searched top to bottom.
pub const ROWS: &[Row] = &[
    // Pairs with a row of their own. Out-of-office forms come before the plain pair.
    ooo(
        "Available",
        Is("Available"),
        Some(Available),
        label::AVAILABLE_OUT_OF_OFFICE,
    ),
    row(
        "Available",
        Is("Available"),
        Some(Available),
        label::AVAILABLE,
        None,
    ),
    row(
        "Available",
        Is("OutOfOffice"),
        Some(Available),
        label::AVAILABLE_OUT_OF_OFFICE,
        None,
    ),
    row(
        "Available",
        Is("AvailableInactive"),
        Some(Away),
        label::AWAY,
        Some(AwaySetsAway),
    ),
    row("Busy", Is("Busy"), Some(Away), label::BUSY, None),
    ooo(
        "Busy",
        Is("InACall"),
        Some(Speaking),
        label::IN_A_CALL_OUT_OF_OFFICE,
    ),
    row(
        "Busy",
        Is("InACall"),
        Some(Speaking),
        label::IN_A_CALL,
        None,
    ),
    row(
        "Busy",
        Is("InAConferenceCall"),
        Some(Speaking),
        label::IN_A_CALL,
        None,
    ),
    row(
        "Busy",
        Is("InAMeeting"),
        Some(Away),
        label::IN_A_MEETING,
        None,
    ),
    row(
        "DoNotDisturb",
        Is("DoNotDisturb"),
        Some(DoNotDisturb),
        label::DO_NOT_DISTURB,
        Some(DndSetsDnd),
    ),
    row(
        "DoNotDisturb",
        Is("Presenting"),
        Some(Speaking),
        label::PRESENTING,
        None,
    ),
    row(
        "DoNotDisturb",
        Is("Focusing"),
        Some(DoNotDisturb),
        label::FOCUSING,
        Some(DndSetsDnd),
    ),
    row(
        "DoNotDisturb",
        Is("UrgentInterruptionsOnly"),
        Some(DoNotDisturb),
        label::URGENT_INTERRUPTIONS_ONLY,
        Some(DndSetsDnd),
    ),
    row(
        "Away",
        Is("Away"),
        Some(Away),
        label::AWAY,
        Some(AwaySetsAway),
    ),
    row(
        "Away",
        Is("Inactive"),
        Some(Away),
        label::AWAY,
        Some(AwaySetsAway),
    ),
    row(
        "Away",
        Is("BeRightBack"),
        Some(Away),
        label::BE_RIGHT_BACK,
        Some(AwaySetsAway),
    ),
    row(
        "BeRightBack",
        Is("BeRightBack"),
        Some(Away),
        label::BE_RIGHT_BACK,
        Some(AwaySetsAway),
    ),
    row(
        "Offline",
        Is("OffWork"),
        Some(Away),
        label::APPEAR_OFFLINE,
        None,
    ),
    row("Offline", Is("Offline"), None, label::OFFLINE, None),
    row(
        "Offline",
        Is("OutOfOffice"),
        None,
        label::OUT_OF_OFFICE,
        None,
    ),
    row("PresenceUnknown", Any, None, label::STATUS_UNKNOWN, None),
    row("OutOfOffice", Any, None, label::OUT_OF_OFFICE, None),
    // Fallback by availability: a pair with no row of its own.
    ooo(
        "Available",
        Any,
        Some(Available),
        label::AVAILABLE_OUT_OF_OFFICE,
    ),
    row("Available", Any, Some(Available), label::AVAILABLE, None),
    row("Busy", Any, Some(Away), label::BUSY, None),
    row(
        "DoNotDisturb",
        Any,
        Some(DoNotDisturb),
        label::DO_NOT_DISTURB,
        Some(DndSetsDnd),
    ),
    row("Away", Any, Some(Away), label::AWAY, Some(AwaySetsAway)),
    row(
        "BeRightBack",
        Any,
        Some(Away),
        label::BE_RIGHT_BACK,
        Some(AwaySetsAway),
    ),
    row("Offline", Any, None, label::OFFLINE, None),
];

const fn alias(
    from: &'static str,
    availability: &'static str,
    activity: Option<&'static str>,
) -> Alias {
    Alias {
        from,
        availability,
        activity,
    }
}

const fn row(
    availability: &'static str,
    activity: ActivityMatch,
    target: Option<SwyxTarget>,
    label: &'static str,
    switch: Option<RowSwitch>,
) -> Row {
    Row {
        availability,
        activity,
        needs_out_of_office: false,
        target,
        label,
        switch,
    }
}

const fn ooo(
    availability: &'static str,
    activity: ActivityMatch,
    target: Option<SwyxTarget>,
    label: &'static str,
) -> Row {
    Row {
        availability,
        activity,
        needs_out_of_office: true,
        target,
        label,
        switch: None,
    }
}

/// The outcome of looking up one Teams presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// The matching row, or `None` for an availability with no row at all.
    pub row: Option<&'static Row>,
    /// The availability after the alias rewrite, as spelled in the table when known.
    pub availability: Normalized,
    /// Whether the activity is one Graph documents (it appears in an alias or a row).
    pub activity_known: bool,
    /// Whether the availability is one Graph documents (it appears in an alias or a row).
    pub availability_known: bool,
}

/// An availability after the alias rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalized {
    /// An availability of the table, in the table's spelling.
    Known(&'static str),
    /// Anything else.
    Unknown,
}

impl Lookup {
    /// Returns the target with the two mapping switches applied.
    pub fn target(&self, settings: &Settings) -> Option<SwyxTarget> {
        let row = self.row?;
        let switched_off = match row.switch {
            Some(RowSwitch::DndSetsDnd) => !settings.dnd_sets_dnd,
            Some(RowSwitch::AwaySetsAway) => !settings.away_sets_away,
            None => false,
        };
        if switched_off {
            return None;
        }
        row.target
    }

    /// Returns the Teams status in words.
    pub fn label(&self) -> &'static str {
        self.row.map_or(label::STATUS_UNKNOWN, |row| row.label)
    }

    /// Tells whether the availability (after the rewrite) is Busy.
    pub fn is_busy(&self) -> bool {
        self.availability == Normalized::Known("Busy")
    }

    /// Tells whether the presence is Busy/InACall, the pair the app's own session shows.
    pub fn is_in_a_call(&self) -> bool {
        self.row
            .is_some_and(|row| row.availability == "Busy" && row.activity == Is("InACall"))
    }
}

/// Looks up a Teams presence in the table.
pub fn lookup(presence: &TeamsPresence) -> Lookup {
    let received_availability = presence.availability.trim();
    let received_activity = presence.activity.trim();

    let alias = ALIASES
        .iter()
        .find(|a| a.from.eq_ignore_ascii_case(received_availability));
    let (availability, activity) = match alias {
        Some(a) => (a.availability, a.activity.unwrap_or(received_activity)),
        None => (received_availability, received_activity),
    };

    let row = ROWS.iter().find(|row| {
        row.availability.eq_ignore_ascii_case(availability)
            && (!row.needs_out_of_office || presence.is_out_of_office)
            && match row.activity {
                Is(name) => name.eq_ignore_ascii_case(activity),
                Any => true,
            }
    });

    let normalized = ROWS
        .iter()
        .find(|row| row.availability.eq_ignore_ascii_case(availability))
        .map_or(Normalized::Unknown, |row| {
            Normalized::Known(row.availability)
        });
    let availability_known = alias.is_some() || normalized != Normalized::Unknown;
    // An activity replaced by an alias was ignored, so it cannot be unknown.
    let activity_known = alias.is_some_and(|a| a.activity.is_some()) || is_known_activity(activity);

    Lookup {
        row,
        availability: normalized,
        activity_known,
        availability_known,
    }
}

fn is_known_activity(activity: &str) -> bool {
    let in_rows = ROWS
        .iter()
        .any(|row| matches!(row.activity, Is(name) if name.eq_ignore_ascii_case(activity)));
    let in_aliases = ALIASES.iter().any(|a| {
        a.activity
            .is_some_and(|name| name.eq_ignore_ascii_case(activity))
    });
    in_rows || in_aliases
}
