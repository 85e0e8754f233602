//! Where an axis gets its labelled ticks, and how the labels read.
//!
//! - Linear axes: steps of 1, 2 or 5 times a power of ten, about eight of them.
//! - Log axes: every decade with its 2 and 5 (1, 2, 5, 10, 20, 50, ...); across more than
//!   four and a half decades, decades only (past fourteen labels they collide); across one to
//!   one and a half, 1, 2, 3 and 5 in each decade; within less than one decade, the linear steps, so
//!   that a narrow range (30 to 82 ms, or 140 to 330 ms) is still labelled several times.
//! - The tail axis: one tick per nine of the percentile (50 %, 90 %, 99 %, 99.9 %, ...).

use super::Axis;

/// A "nice" step near `raw`: 1, 2 or 5 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let k = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    k * p
}

/// Ticks of a linear axis over `[lo, hi]`.
pub fn linear(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let step = nice_step((hi - lo) / 8.0);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    // Multiply rather than accumulate, so 0.1 * 3 does not drift into 0.30000000000000004.
    (first..=last).map(|i| clean(i as f64 * step)).collect()
}

/// Ticks of a log axis over `[lo, hi]` (both positive).
pub fn log(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return vec![lo];
    }
    let decades = hi.log10() - lo.log10();
    if decades < 1.0 {
        // Within a decade a log axis is nearly linear: linear steps give enough labels.
        return linear(lo, hi).into_iter().filter(|&v| v > 0.0).collect();
    }
    let mantissas: &[f64] = if decades > 4.5 {
        &[1.0]
    } else if decades > 1.5 {
        &[1.0, 2.0, 5.0]
    } else {
        // 1 to 9 would collide once the labels are five digits wide (8000 to 150 000 ops/s).
        &[1.0, 2.0, 3.0, 5.0]
    };
    let mut out = Vec::new();
    for e in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for m in mantissas {
            let v = clean(m * 10f64.powi(e));
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
    }
    out
}

/// Light grid lines of a log axis: 1 to 9 times every decade in the range.
pub fn log_minor(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for m in 1..10 {
            let v = m as f64 * 10f64.powi(e);
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
    }
    out
}

/// Ticks of the tail axis over `[0, hi]` (see [`super::tail_x`]).
pub fn tail(hi: f64) -> Vec<f64> {
    (0..=hi.floor() as i64).map(|i| i as f64).collect()
}

/// The ticks of `axis` over `[lo, hi]`.
pub fn for_axis(axis: Axis, lo: f64, hi: f64) -> Vec<f64> {
    match axis {
        Axis::Linear => linear(lo, hi),
        Axis::Log => log(lo, hi),
        Axis::Tail => tail(hi),
    }
}

/// `v` rounded to 12 significant digits (removes float noise such as 0.30000000000000004).
fn clean(v: f64) -> f64 {
    significant(v, 12)
}

/// `v` rounded to `digits` significant digits.
fn significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// An axis label: integers from 100 on (with thin-space thousands past 9999), up to three
/// significant decimals below.
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 100.0 {
        let s = format!("{v:.0}");
        if v.abs() < 10_000.0 {
            return s;
        }
        // Group digits in threes: 20000 -> 20 000.
        let (sign, digits) = s.split_at(if v < 0.0 { 1 } else { 0 });
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push('\u{2009}');
            }
            out.push(c);
        }
        return format!("{sign}{out}");
    }
    let decimals = if v.abs() >= 10.0 {
        1
    } else if v.abs() >= 1.0 {
        2
    } else {
        (2 - v.abs().log10().floor() as i32).clamp(3, 6) as usize
    };
    format!("{v:.decimals$}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_axis_over_decades_labels_one_two_and_five() {
        assert_eq!(log(0.8, 120.0), vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]);
    }

    /// dd-lag-time's old axis labelled only 100 to 300 ms while Paxos sat at 30 to 82 ms.
    #[test]
    fn a_log_axis_within_one_decade_still_labels_several_ticks() {
        assert_eq!(log(25.0, 85.0), vec![30.0, 40.0, 50.0, 60.0, 70.0, 80.0]);
    }

    /// The election-randomness plot's x axis had no labels at all.
    #[test]
    fn a_narrow_log_axis_between_decade_ticks_still_has_labels() {
        assert_eq!(log(150.5, 155.0), vec![151.0, 152.0, 153.0, 154.0, 155.0]);
        assert_eq!(log(130.0, 330.0), vec![150.0, 200.0, 250.0, 300.0]);
    }

    /// dd-lag-time's axis spans 25 to 300 ms: the Paxos points near 30 ms need a label too.
    #[test]
    fn a_log_axis_over_one_decade_and_a_bit_labels_one_two_three_and_five() {
        assert_eq!(log(25.0, 300.0), vec![30.0, 50.0, 100.0, 200.0, 300.0]);
        assert_eq!(
            log(8000.0, 150_000.0),
            vec![10_000.0, 20_000.0, 30_000.0, 50_000.0, 100_000.0]
        );
    }

    #[test]
    fn a_wide_log_axis_labels_decades_only() {
        assert_eq!(log(1.0, 1e8).len(), 9);
    }

    #[test]
    fn linear_ticks_step_by_one_two_or_five() {
        assert_eq!(linear(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            linear(0.0, 0.35),
            vec![0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35]
        );
    }

    #[test]
    fn labels_read_as_numbers_not_floats() {
        assert_eq!(format_number(0.3), "0.3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(150.0), "150");
        assert_eq!(format_number(20000.0), "20\u{2009}000");
        assert_eq!(format_number(0.002), "0.002");
    }
}
