//! ISO 8601 durations as Graph takes them in `expirationDuration` (`PT5M`, `PT1H30M`, `P1D`).

use std::time::Duration;

/// Parses an ISO 8601 duration of days, hours, minutes and (fractional) seconds.
///
/// Years, months and weeks are rejected because their length depends on a calendar, and Graph
/// only documents durations in minutes and hours for presence.
pub fn parse_iso8601(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P').or_else(|| text.strip_prefix('p'))?;
    let (date_part, time_part) = match rest.find(['T', 't']) {
        Some(split) => (&rest[..split], Some(&rest[split + 1..])),
        None => (rest, None),
    };
    if date_part.is_empty() && time_part.is_none_or(str::is_empty) {
        return None;
    }

    let mut total = Duration::ZERO;
    total += parse_fields(date_part, &[('D', 86_400.0)])?;
    if let Some(time_part) = time_part {
        if time_part.is_empty() {
            return None;
        }
        total += parse_fields(time_part, &[('H', 3_600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    Some(total)
}

/// Reads `<number><unit>` fields in the order `units` gives, each at most once.
fn parse_fields(mut text: &str, units: &[(char, f64)]) -> Option<Duration> {
    let mut seconds = 0.0;
    let mut next_unit = 0;
    while !text.is_empty() {
        let number_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = text[..number_end].parse().ok()?;
        let unit = text[number_end..].chars().next()?.to_ascii_uppercase();
        let position = units[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)?;
        let (_, factor) = units[next_unit + position];
        let only_seconds_may_be_fractional = unit == 'S' || number.fract() == 0.0;
        if !only_seconds_may_be_fractional {
            return None;
        }
        seconds += number * factor;
        next_unit += position + 1;
        text = &text[number_end + 1..];
    }
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<u64>) {
        let parsed = parse_iso8601(text).map(|duration| duration.as_millis() as u64);
        assert_eq!(
            parsed,
            expected.map(|seconds| seconds * 1000),
            "parsing {text:?}"
        );
    }

    #[test]
    fn parses_durations() {
        check("PT5M", Some(300));
        check("PT4H", Some(14_400));
        check("PT1H30M", Some(5_400));
        check("PT90S", Some(90));
        check("P1D", Some(86_400));
        check("P1DT1H", Some(90_000));
        check("pt5m", Some(300));
    }

    #[test]
    fn rejects_malformed_durations() {
        for text in [
            "", "P", "PT", "5M", "PT5", "PTM", "PT5M5H", "PT5M5M", "P1M", "PT1.5H", "P1W", "PT-5M",
        ] {
            assert_eq!(parse_iso8601(text), None, "parsing {text:?}");
        }
    }

    #[test]
    fn keeps_fractional_seconds() {
        assert_eq!(parse_iso8601("PT0.5S"), Some(Duration::from_millis(500)));
    }
}
