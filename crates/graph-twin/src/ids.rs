//! Random identifiers and the time formats Entra ID and Graph put into their bodies.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;

/// Generates a random GUID in the lower-case 8-4-4-4-12 form Entra and Graph use for ids.
pub fn guid() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Generates a random opaque token of `length` URL-safe characters.
pub fn opaque(length: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), length)
}

/// Generates a device-flow user code: nine upper-case letters and digits, as Entra shows
/// them.
pub fn user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..9)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Splits seconds since the Unix epoch into a UTC civil date and time of day.
fn civil(time: SystemTime) -> (i64, u32, u32, u64, u64, u64, u32) {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let days = (seconds / 86_400) as i64;
    let second_of_day = seconds % 86_400;

    // Days to a proleptic Gregorian date (Howard Hinnant's days_from_civil, inverted).
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);

    (
        year,
        month,
        day,
        second_of_day / 3_600,
        second_of_day % 3_600 / 60,
        second_of_day % 60,
        since_epoch.subsec_millis(),
    )
}

/// Parses `2024-05-01T12:30:05` (optionally with a fraction of a second and a trailing `Z`)
/// as a UTC time.
pub fn parse_utc(text: &str) -> Option<SystemTime> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
    );
    let (clock_time, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut time_parts = clock_time.splitn(3, ':').map(str::parse::<u64>);
    let (hour, minute, second) = (
        time_parts.next()?.ok()?,
        time_parts.next()?.ok()?,
        time_parts.next()?.ok()?,
    );
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }

    // Howard Hinnant's days_from_civil.
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;

    let seconds = u64::try_from(days).ok()? * 86_400 + hour * 3_600 + minute * 60 + second;
    let nanos: u32 = format!("{fraction:0<9}").get(..9)?.parse().ok()?;
    Some(UNIX_EPOCH + std::time::Duration::new(seconds, nanos))
}

/// Formats `time` as `2024-05-01T12:30:05.1234567Z`, the form of Graph's `publishedDateTime`.
pub fn graph_timestamp(time: SystemTime) -> String {
    let (year, month, day, hour, minute, second, _) = civil(time);
    let tenths_of_micros = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos()
        / 100;
    format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{tenths_of_micros:07}Z"
    )
}

/// Formats `time` as `2024-05-01T12:30:05` in UTC, the form of Graph's `innerError.date`.
pub fn graph_date(time: SystemTime) -> String {
    let (year, month, day, hour, minute, second, _) = civil(time);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
}

/// Formats `time` as `2024-05-01 12:30:05Z`, the form of Entra's error `timestamp`.
pub fn entra_timestamp(time: SystemTime) -> String {
    let (year, month, day, hour, minute, second, _) = civil(time);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn guid_has_guid_shape() {
        let id = guid();
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_ne!(guid(), id);
    }

    #[test]
    fn dates_format_in_utc() {
        let check = |seconds: u64, graph: &str, entra: &str| {
            let time = UNIX_EPOCH + Duration::from_secs(seconds);
            assert_eq!(graph_date(time), graph, "graph date of {seconds}");
            assert_eq!(entra_timestamp(time), entra, "entra timestamp of {seconds}");
        };
        check(0, "1970-01-01T00:00:00", "1970-01-01 00:00:00Z");
        check(951_782_400, "2000-02-29T00:00:00", "2000-02-29 00:00:00Z");
        check(1_714_566_605, "2024-05-01T12:30:05", "2024-05-01 12:30:05Z");
    }

    #[test]
    fn parses_utc_times() {
        let check = |text: &str, expected: Option<u64>| {
            let parsed =
                parse_utc(text).map(|time| time.duration_since(UNIX_EPOCH).unwrap().as_secs());
            assert_eq!(parsed, expected, "parsing {text:?}");
        };
        check("1970-01-01T00:00:00", Some(0));
        check("2000-02-29T00:00:00Z", Some(951_782_400));
        check("2024-05-01T12:30:05.2079781", Some(1_714_566_605));
        check("2024-13-01T12:30:05", None);
        check("2024-05-01 12:30:05", None);
        check("2024-05-01T25:30:05", None);
        check("yesterday", None);
        let fraction = parse_utc("2024-05-01T12:30:05.25").unwrap();
        assert_eq!(
            fraction.duration_since(UNIX_EPOCH).unwrap().subsec_millis(),
            250
        );
        assert_eq!(graph_timestamp(fraction), "2024-05-01T12:30:05.2500000Z");
    }

    #[test]
    fn user_code_is_nine_unambiguous_characters() {
        let code = user_code();
        assert_eq!(code.len(), 9);
        assert!(code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        for ambiguous in ['0', 'O', '1', 'I'] {
            assert!(!code.contains(ambiguous), "{code} contains {ambiguous}");
        }
    }
}
