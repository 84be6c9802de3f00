//! Date functions (with `jiff`): ARM's `dateTimeAdd`, `dateTimeFromEpoch`, `dateTimeToEpoch`, and
//! the policy function `addDays`. Results are UTC ISO 8601 (`2024-01-31T10:00:00Z`).

use super::{Call, Failure, Outcome};
use crate::value::Value;
use jiff::{civil::DateTime, tz::TimeZone, SignedDuration, Span, Timestamp};

const DAY: i64 = 86_400;

/// An ISO 8601 date-time: with an offset (`2024-01-31T10:00:00Z`, `2024-01-31 10:00:00+02:00`),
/// or without one, taken as UTC (`2024-01-31T10:00:00`, `2024-01-31`).
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| format!("'{s}' is not an ISO 8601 date-time"))
}

/// UTC ISO 8601 text, with fractional seconds only when there are some.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
}

/// An ISO 8601 duration (`P1D`, `PT1H30M`, `-P7D`) as ARM counts it: a year is 365 days and a
/// month 30, whatever the calendar says.
pub fn parse_duration(s: &str) -> Result<SignedDuration, String> {
    let span: Span = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not an ISO 8601 duration"))?;
    let days = i64::from(span.get_years()) * 365
        + i64::from(span.get_months()) * 30
        + i64::from(span.get_weeks()) * 7
        + i64::from(span.get_days());
    let calendar = SignedDuration::from_secs(days * DAY);
    let clock = SignedDuration::from_hours(i64::from(span.get_hours()))
        + SignedDuration::from_mins(span.get_minutes())
        + SignedDuration::from_secs(span.get_seconds())
        + SignedDuration::from_millis(span.get_milliseconds())
        + SignedDuration::from_micros(span.get_microseconds())
        + SignedDuration::from_nanos(span.get_nanoseconds());
    calendar
        .checked_add(clock)
        .ok_or_else(|| format!("'{s}' is too long a duration"))
}

fn shifted(c: &Call<'_>, t: Timestamp, by: SignedDuration) -> Outcome {
    t.checked_add(by)
        .map(|t| Value::string(format_time(t)))
        .map_err(|_| c.error("gives a date-time out of range"))
}

/// `dateTimeAdd(base, duration)`; with a format (third argument) it is not evaluated.
pub(super) fn date_time_add(c: &Call<'_>) -> Outcome {
    if c.args.len() > 2 {
        return Err(c.error("with an output format is not evaluated"));
    }
    let t = parse_time(c.str(0)?).map_err(Failure::Error)?;
    let d = parse_duration(c.str(1)?).map_err(Failure::Error)?;
    shifted(c, t, d)
}

/// `addDays(dateTime, days)`.
pub(super) fn add_days(c: &Call<'_>) -> Outcome {
    let t = parse_time(c.str(0)?).map_err(Failure::Error)?;
    let days = c.int(1)?;
    let d = days
        .checked_mul(DAY)
        .map(SignedDuration::from_secs)
        .ok_or_else(|| c.error("adds too many days"))?;
    shifted(c, t, d)
}

/// `dateTimeFromEpoch(seconds)`.
pub(super) fn date_time_from_epoch(c: &Call<'_>) -> Outcome {
    Timestamp::from_second(c.int(0)?)
        .map(|t| Value::string(format_time(t)))
        .map_err(|_| c.error("needs seconds within the years -9999 to 9999"))
}

/// `dateTimeToEpoch(dateTime)`: whole seconds since 1970-01-01T00:00:00Z.
pub(super) fn date_time_to_epoch(c: &Call<'_>) -> Outcome {
    let t = parse_time(c.str(0)?).map_err(Failure::Error)?;
    Ok(Value::int(t.as_second()))
}
