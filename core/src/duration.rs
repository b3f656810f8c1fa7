//! Durations as written in `service.toml` (`"30s"`, `"500ms"`, `"2m"`).

/// Parses a human duration into whole milliseconds; zero is refused because every
/// duration in the format is a timeout, and a zero timeout can never be met.
///
/// ```
/// use service_manifest_core::duration::parse_millis;
/// assert_eq!(parse_millis("500ms"), Ok(500));
/// assert_eq!(parse_millis("1m 30s"), Ok(90_000));
/// assert!(parse_millis("30").is_err());
/// ```
pub fn parse_millis(text: &str) -> Result<u64, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|e| match e {
        humantime::DurationError::NumberOverflow => "too long".to_owned(),
        _ => "not a number followed by a unit".to_owned(),
    })?;
    let ms = u64::try_from(duration.as_millis()).map_err(|_| "too long".to_owned())?;
    if ms == 0 {
        return Err("must be at least 1ms".to_owned());
    }
    Ok(ms)
}
