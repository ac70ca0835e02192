//! The mapping table, row by row, with the idle, alias, case, out-of-office and unknown forms.

use crate::api::{Settings, SwyxTarget, TeamsPresence};
use crate::table::lookup;
use SwyxTarget::{Available, Away, DoNotDisturb, Speaking};

/// Looks up one Graph pair with default settings and checks target and label.
fn check(
    availability: &str,
    activity: &str,
    out_of_office: bool,
    target: Option<SwyxTarget>,
    label: &str,
) {
    let presence = TeamsPresence {
        availability: availability.to_owned(),
        activity: activity.to_owned(),
        is_out_of_office: out_of_office,
        sequence_number: None,
    };
    let found = lookup(&presence);
    let pair = format!("{availability}/{activity} (out of office: {out_of_office})");
    assert_eq!(
        found.target(&Settings::default()),
        target,
        "target of {pair}"
    );
    assert_eq!(found.label(), label, "label of {pair}");
}

#[test]
fn every_row_maps_to_its_target() {
    let rows: &[(&str, &str, bool, Option<SwyxTarget>, &str)] = &[
        (
            "Available",
            "Available",
            false,
            Some(Available),
            "Available",
        ),
        (
            "Available",
            "OutOfOffice",
            false,
            Some(Available),
            "Available, out of office",
        ),
        (
            "Available",
            "Available",
            true,
            Some(Available),
            "Available, out of office",
        ),
        ("Busy", "Busy", false, Some(Away), "Busy"),
        ("Busy", "InACall", false, Some(Speaking), "In a call"),
        (
            "Busy",
            "InAConferenceCall",
            false,
            Some(Speaking),
            "In a call",
        ),
        ("Busy", "InAMeeting", false, Some(Away), "In a meeting"),
        (
            "Busy",
            "InACall",
            true,
            Some(Speaking),
            "In a call, out of office",
        ),
        (
            "DoNotDisturb",
            "DoNotDisturb",
            false,
            Some(DoNotDisturb),
            "Do not disturb",
        ),
        (
            "DoNotDisturb",
            "Presenting",
            false,
            Some(Speaking),
            "Presenting",
        ),
        (
            "DoNotDisturb",
            "Focusing",
            false,
            Some(DoNotDisturb),
            "Focusing",
        ),
        (
            "DoNotDisturb",
            "UrgentInterruptionsOnly",
            false,
            Some(DoNotDisturb),
            "Urgent interruptions only",
        ),
        ("Away", "Away", false, Some(Away), "Away"),
        ("Away", "Inactive", false, Some(Away), "Away"),
        ("Available", "AvailableInactive", false, Some(Away), "Away"),
        (
            "BeRightBack",
            "BeRightBack",
            false,
            Some(Away),
            "Be right back",
        ),
        ("Away", "BeRightBack", false, Some(Away), "Be right back"),
        ("Offline", "OffWork", false, Some(Away), "Appear offline"),
        ("Offline", "Offline", false, None, "Offline"),
        (
            "PresenceUnknown",
            "PresenceUnknown",
            false,
            None,
            "Status unknown",
        ),
        ("PresenceUnknown", "Busy", false, None, "Status unknown"),
        ("Offline", "OutOfOffice", false, None, "Out of office"),
        ("OutOfOffice", "OutOfOffice", false, None, "Out of office"),
        ("OutOfOffice", "Available", true, None, "Out of office"),
    ];
    for &(availability, activity, ooo, target, label) in rows {
        check(availability, activity, ooo, target, label);
    }
}

#[test]
fn fallback_by_availability() {
    let rows: &[(&str, &str, bool, Option<SwyxTarget>, &str)] = &[
        (
            "Available",
            "InAHuddle",
            false,
            Some(Available),
            "Available",
        ),
        (
            "Available",
            "InAHuddle",
            true,
            Some(Available),
            "Available, out of office",
        ),
        ("Busy", "InAHuddle", false, Some(Away), "Busy"),
        ("Busy", "", false, Some(Away), "Busy"),
        (
            "DoNotDisturb",
            "InAHuddle",
            false,
            Some(DoNotDisturb),
            "Do not disturb",
        ),
        ("Away", "InAHuddle", false, Some(Away), "Away"),
        (
            "BeRightBack",
            "InAHuddle",
            false,
            Some(Away),
            "Be right back",
        ),
        ("Offline", "InAHuddle", false, None, "Offline"),
        // Out of office does not change a target; the flag only changes the label.
        ("Busy", "Busy", true, Some(Away), "Busy"),
    ];
    for &(availability, activity, ooo, target, label) in rows {
        check(availability, activity, ooo, target, label);
    }
}

#[test]
fn idle_forms_and_activity_names_as_availability() {
    let rows: &[(&str, &str, Option<SwyxTarget>, &str)] = &[
        ("AvailableIdle", "Available", Some(Available), "Available"),
        ("BusyIdle", "Busy", Some(Away), "Busy"),
        ("BusyIdle", "InACall", Some(Speaking), "In a call"),
        // The activity field is ignored when an activity name is the availability.
        ("InACall", "InACall", Some(Speaking), "In a call"),
        ("InACall", "Available", Some(Speaking), "In a call"),
        ("Focusing", "Presenting", Some(DoNotDisturb), "Focusing"),
        ("InAMeeting", "Whatever", Some(Away), "In a meeting"),
        ("Presenting", "Focusing", Some(Speaking), "Presenting"),
    ];
    for &(availability, activity, target, label) in rows {
        check(availability, activity, false, target, label);
    }
}

#[test]
fn values_are_read_case_insensitively() {
    check("busy", "inacall", false, Some(Speaking), "In a call");
    check("BUSY", "INAMEETING", false, Some(Away), "In a meeting");
    check(
        "availableidle",
        "available",
        false,
        Some(Available),
        "Available",
    );
    check(
        "  DoNotDisturb ",
        " focusing",
        false,
        Some(DoNotDisturb),
        "Focusing",
    );
    check("offline", "offwork", false, Some(Away), "Appear offline");
    check("inacall", "", false, Some(Speaking), "In a call");
}

#[test]
fn unknown_availability_is_no_sync() {
    check("Huddling", "Available", false, None, "Status unknown");
    check("", "", false, None, "Status unknown");
    check("42", "Busy", false, None, "Status unknown");
}

#[test]
fn unknown_values_are_flagged() {
    let presence = |availability: &str, activity: &str| TeamsPresence {
        availability: availability.to_owned(),
        activity: activity.to_owned(),
        ..TeamsPresence::default()
    };
    let huddle = lookup(&presence("Busy", "InAHuddle"));
    assert!(huddle.availability_known);
    assert!(!huddle.activity_known);
    let huddling = lookup(&presence("Huddling", "Available"));
    assert!(!huddling.availability_known);
    assert!(huddling.activity_known);
    // An activity replaced by the alias is ignored, so it is not reported.
    let alias = lookup(&presence("Focusing", "NeverHeardOf"));
    assert!(alias.availability_known);
    assert!(alias.activity_known);
    let idle = lookup(&presence("BusyIdle", "NeverHeardOf"));
    assert!(!idle.activity_known);
}

#[test]
fn switches_turn_their_rows_off() {
    let dnd_off = Settings {
        dnd_sets_dnd: false,
        ..Settings::default()
    };
    let away_off = Settings {
        away_sets_away: false,
        ..Settings::default()
    };
    let target = |settings: &Settings, availability: &str, activity: &str| {
        let presence = TeamsPresence {
            availability: availability.to_owned(),
            activity: activity.to_owned(),
            ..TeamsPresence::default()
        };
        lookup(&presence).target(settings)
    };
    let rows: &[(&Settings, &str, &str, Option<SwyxTarget>)] = &[
        (&dnd_off, "DoNotDisturb", "DoNotDisturb", None),
        (&dnd_off, "DoNotDisturb", "Focusing", None),
        (&dnd_off, "Focusing", "Focusing", None),
        (&dnd_off, "DoNotDisturb", "UrgentInterruptionsOnly", None),
        (&dnd_off, "DoNotDisturb", "InAHuddle", None),
        (&dnd_off, "DoNotDisturb", "Presenting", Some(Speaking)),
        (&dnd_off, "Away", "Away", Some(Away)),
        (&away_off, "Away", "Away", None),
        (&away_off, "Away", "Inactive", None),
        (&away_off, "Available", "AvailableInactive", None),
        (&away_off, "BeRightBack", "BeRightBack", None),
        (&away_off, "Away", "BeRightBack", None),
        (&away_off, "Away", "InAHuddle", None),
        (&away_off, "Busy", "Busy", Some(Away)),
        (&away_off, "Busy", "InAMeeting", Some(Away)),
        (&away_off, "Offline", "OffWork", Some(Away)),
        (
            &away_off,
            "DoNotDisturb",
            "DoNotDisturb",
            Some(DoNotDisturb),
        ),
    ];
    for &(settings, availability, activity, expected) in rows {
        assert_eq!(
            target(settings, availability, activity),
            expected,
            "{availability}/{activity}"
        );
    }
}
