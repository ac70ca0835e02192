//! `Retry-After` as Graph sends it: delay seconds or an HTTP date.

use std::time::{Duration, SystemTime};

/// Returns the wait a `Retry-After` value requests, measured from `now` for an HTTP date, or
/// `None` when the value is neither form. A date in the past means no wait.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, now: SystemTime, expected: Option<Duration>) {
        assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
    }

    #[test]
    fn seconds_and_dates() {
        let now = httpdate::parse_http_date("Fri, 04 Dec 2026 17:00:00 GMT").unwrap();
        check("7", now, Some(Duration::from_secs(7)));
        check(" 120 ", now, Some(Duration::from_secs(120)));
        check("0", now, Some(Duration::ZERO));
        check(
            "Fri, 04 Dec 2026 17:00:30 GMT",
            now,
            Some(Duration::from_secs(30)),
        );
        check("Fri, 04 Dec 2026 16:59:00 GMT", now, Some(Duration::ZERO));
        check("-5", now, None);
        check("1.5", now, None);
        check("soon", now, None);
        check("", now, None);
    }
}
