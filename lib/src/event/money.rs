//! Money as events record it: whole micro-units (millionths of the currency, US dollars by
//! convention), so sums are exact; read from and shown as decimal text.

/// Micro-units as money: `$1.25`, `$0.0031` (at least two decimals, at most six).
pub fn money(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let fraction = format!("{:06}", micros % 1_000_000);
    let trimmed = fraction.trim_end_matches('0');
    let decimals = if trimmed.len() < 2 {
        &fraction[..2]
    } else {
        trimmed
    };
    format!("${whole}.{decimals}")
}

/// `1.25`, `$1.25`, `0.0031`, `3` as micro-units; at most six decimals.
pub fn parse_money(input: &str) -> Option<u64> {
    let s = input.trim();
    let s = s.strip_prefix('$').unwrap_or(s);
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: u64 = format!("{fraction:0<6}").parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(fraction)
}
