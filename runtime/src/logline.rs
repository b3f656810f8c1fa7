//! A log line as the monitor writes it: the time its first byte arrived, in RFC 3339 with
//! microseconds in UTC, a space, then the daemon's text (as s6-log's `T` directive and
//! journald's `short-iso-precise` have it). The logs of a service's actions merge in time
//! order from these stamps, and a person reading the file sees when each line came.
//!
//! ```
//! use service_manifest_runtime::logline;
//! let mut stamp = [0u8; logline::STAMP_LEN];
//! logline::write_stamp(&mut stamp, 1_796_294_106, 555_232);
//! assert_eq!(&stamp, b"2026-12-03T10:35:06.555232Z ");
//! let line = format!("{}listening", std::str::from_utf8(&stamp).unwrap());
//! assert_eq!(logline::split(&line), (Some(1_796_294_106_555_232), "listening"));
//! assert_eq!(logline::split("no stamp"), (None, "no stamp"));
//! ```

/// `2026-12-03T10:35:06.555232Z ` is this long.
pub const STAMP_LEN: usize = 28;

/// Writes the stamp for `secs` and `micros` since the Unix epoch into `out`, without
/// allocating: the monitor calls it after a fork.
pub fn write_stamp(out: &mut [u8; STAMP_LEN], secs: i64, micros: u32) {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil(days);
    let mut put = |at: usize, value: i64, digits: usize| {
        let mut v = value;
        for i in (0..digits).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, i64::from(month), 2);
    put(8, i64::from(day), 2);
    put(11, rest / 3600, 2);
    put(14, rest / 60 % 60, 2);
    put(17, rest % 60, 2);
    put(20, i64::from(micros.min(999_999)), 6);
    for (at, byte) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (26, b'Z'), (27, b' ')] {
        out[at] = byte;
    }
}

/// The date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A time in µs since the Unix epoch as people read it next to a log line or an event,
/// to the millisecond: `2026-12-03T10:35:06.555Z`.
///
/// ```
/// assert_eq!(service_manifest_runtime::logline::shown(1_796_294_106_555_232), "2026-12-03T10:35:06.555Z");
/// ```
pub fn shown(us: u64) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_micros(us)).to_string()
}

/// A line's stamp, in µs since the Unix epoch, and its text; `None` for a line without one
/// (written before stamps, or by something else).
pub fn split(line: &str) -> (Option<u64>, &str) {
    let stamped = line.len() >= STAMP_LEN
        && line.as_bytes()[STAMP_LEN - 2] == b'Z'
        && line.as_bytes()[STAMP_LEN - 1] == b' '
        && line.as_bytes()[10] == b'T';
    let parsed = stamped.then(|| humantime::parse_rfc3339(&line[..STAMP_LEN - 1]).ok()).flatten();
    match parsed.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()) {
        Some(at) => (Some(u64::try_from(at.as_micros()).unwrap_or(u64::MAX)), &line[STAMP_LEN..]),
        None => (None, line),
    }
}
