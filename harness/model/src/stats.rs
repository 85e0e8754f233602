//! Statistics over seeds: the mean of a figure with its 95 % confidence interval, the rule
//! that calls two results different only when their intervals do not overlap, and the
//! arithmetic of saying by how much ("18.7 % higher", "2.6×").
//!
//! The interval is Student's t: `mean ± t(0.975, n-1) · s / √n`, with `s` the sample standard
//! deviation over the `n` seeds. Seeds are independent runs of a deterministic simulator, so
//! the only assumption is that the figure is roughly normal across seeds; with the small `n`
//! a suite affords (5 to 10) the t quantile widens the interval accordingly (2.78 at n = 5).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::fmt;

/// Confidence level of every interval the workbench reports.
pub const CONFIDENCE: f64 = 0.95;

/// The mean of `n` samples with the half-width of its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub n: usize,
    pub mean: f64,
    /// Half the interval's width; `None` with fewer than two samples (no spread to estimate).
    pub half_width: Option<f64>,
}

impl Interval {
    /// The interval of `samples`; `None` when there are none (or one is not finite).
    pub fn of(samples: &[f64]) -> Option<Interval> {
        let n = samples.len();
        if n == 0 || samples.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        let half_width = (n >= 2).then(|| {
            let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            t_quantile(n - 1) * (var / n as f64).sqrt()
        });
        Some(Interval { n, mean, half_width })
    }

    /// Lower end (the mean itself without an interval).
    pub fn lo(&self) -> f64 {
        self.mean - self.half_width.unwrap_or(0.0)
    }

    /// Upper end (the mean itself without an interval).
    pub fn hi(&self) -> f64 {
        self.mean + self.half_width.unwrap_or(0.0)
    }

    /// Whether the two intervals do not overlap: the only case the workbench calls a
    /// difference. Without an interval on either side there is no evidence either way.
    pub fn separated_from(&self, other: &Interval) -> bool {
        self.half_width.is_some()
            && other.half_width.is_some()
            && (self.hi() < other.lo() || other.hi() < self.lo())
    }
}

impl fmt::Display for Interval {
    /// `12.3 ± 0.4 (n = 5)`, with `precision` decimals (`{:.1}`; default 2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(2);
        match self.half_width {
            Some(h) => write!(f, "{:.p$} ± {:.p$} (n = {})", self.mean, h, self.n),
            None => write!(f, "{:.p$} (n = {})", self.mean, self.n),
        }
    }
}

/// What the intervals of two figures say about their difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Significance {
    /// The intervals do not overlap: a difference.
    Separated,
    /// The intervals overlap: no significant difference.
    Overlapping,
    /// One side has fewer than two samples: no interval, so no claim either way.
    TooFewSamples,
}

impl Significance {
    /// The verdict on `a` against `b` (see [`Interval::separated_from`]).
    pub fn of(a: &Interval, b: &Interval) -> Significance {
        if a.half_width.is_none() || b.half_width.is_none() {
            Significance::TooFewSamples
        } else if a.separated_from(b) {
            Significance::Separated
        } else {
            Significance::Overlapping
        }
    }
}

/// How much larger one positive figure is than another, the way a reader says it: a
/// percentage of the smaller one below twice it ("18.7 %"), a ratio from twice on ("2.6×").
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Magnitude {
    /// `(larger - smaller) / smaller`, in percent.
    Percent(f64),
    /// `larger / smaller`, at least 2.
    Times(f64),
}

/// Ratios from this one on are said as "N×" rather than as a percentage.
pub const RATIO_FROM: f64 = 2.0;

impl Magnitude {
    /// How much larger `larger` is than `smaller` (both positive; `None` otherwise, or when
    /// `larger` is the smaller).
    pub fn of(larger: f64, smaller: f64) -> Option<Magnitude> {
        if !(larger.is_finite() && smaller.is_finite() && smaller > 0.0 && larger >= smaller) {
            return None;
        }
        let ratio = larger / smaller;
        Some(if ratio >= RATIO_FROM {
            Magnitude::Times(ratio)
        } else {
            Magnitude::Percent((ratio - 1.0) * 100.0)
        })
    }
}

impl fmt::Display for Magnitude {
    /// `18.7 %` or `2.6×`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Magnitude::Percent(p) => write!(f, "{p:.1} %"),
            Magnitude::Times(r) => write!(f, "{r:.1}×"),
        }
    }
}

/// How much lower `value` is than `base`, in percent of `base` ("25 % lower"): the base is
/// the figure compared against, never the smaller one.
pub fn percent_lower(value: f64, base: f64) -> f64 {
    (base - value) / base * 100.0
}

/// How much higher `value` is than `base`, in percent of `base`.
pub fn percent_higher(value: f64, base: f64) -> f64 {
    (value - base) / base * 100.0
}

/// The two-sided Student's t quantile for [`CONFIDENCE`] with `df` degrees of freedom.
pub fn t_quantile(df: usize) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df as f64).expect("degrees of freedom are positive");
    t.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: Student's t table, 0.975 quantile (e.g. NIST/SEMATECH e-Handbook, 1.3.6.7.2).
    #[test]
    fn t_quantiles_match_the_table() {
        for (df, t) in [(1, 12.706), (4, 2.776), (9, 2.262), (29, 2.045)] {
            assert!((t_quantile(df) - t).abs() < 1e-3, "df {df}: {}", t_quantile(df));
        }
    }

    #[test]
    fn the_interval_of_known_samples_is_mean_plus_minus_t_times_standard_error() {
        // mean 3, s = sqrt(2.5), n = 5: 2.776 * sqrt(2.5 / 5) = 1.963.
        let i = Interval::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((i.n, i.mean), (5, 3.0));
        assert!((i.half_width.unwrap() - 1.9632).abs() < 1e-3, "{i}");
    }

    #[test]
    fn one_sample_has_no_interval_and_separates_from_nothing() {
        let one = Interval::of(&[7.0]).unwrap();
        let far = Interval::of(&[100.0, 101.0, 102.0]).unwrap();
        assert_eq!(one.half_width, None);
        assert!(!one.separated_from(&far) && !far.separated_from(&one));
    }

    #[test]
    fn overlapping_intervals_are_no_significant_difference() {
        let a = Interval::of(&[10.0, 12.0, 11.0, 13.0, 9.0]).unwrap();
        let b = Interval::of(&[11.5, 12.5, 13.5, 10.5, 12.0]).unwrap();
        let c = Interval::of(&[30.0, 31.0, 29.0, 30.5, 29.5]).unwrap();
        assert!(!a.separated_from(&b));
        assert!(a.separated_from(&c) && c.separated_from(&a));
    }

    #[test]
    fn no_samples_or_a_non_finite_one_gives_no_interval() {
        assert_eq!(Interval::of(&[]), None);
        assert_eq!(Interval::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn significance_needs_an_interval_on_both_sides() {
        let a = Interval::of(&[10.0, 11.0, 12.0]).unwrap();
        let far = Interval::of(&[50.0, 51.0, 52.0]).unwrap();
        let one = Interval::of(&[50.0]).unwrap();
        assert_eq!(Significance::of(&a, &far), Significance::Separated);
        assert_eq!(Significance::of(&a, &a), Significance::Overlapping);
        assert_eq!(Significance::of(&a, &one), Significance::TooFewSamples);
    }

    /// The two examples: bridge (8877 against 7479 ops/s) is 18.7 % higher, not the
    /// 16 % that dividing by the larger value gives; loss-20pct (2447 against 941) is 2.6×.
    #[test]
    fn a_difference_is_a_percentage_of_the_smaller_figure_below_twice_it() {
        assert_eq!(Magnitude::of(8877.0, 7479.0).unwrap().to_string(), "18.7 %");
        assert_eq!(Magnitude::of(2447.0, 941.0).unwrap().to_string(), "2.6×");
        assert_eq!(Magnitude::of(2.0, 1.0), Some(Magnitude::Times(2.0)));
        assert_eq!(Magnitude::of(1.0, 2.0), None);
        assert_eq!(Magnitude::of(1.0, 0.0), None);
    }

    #[test]
    fn lower_and_higher_are_percentages_of_the_figure_compared_against() {
        assert!((percent_lower(3.0, 4.0) - 25.0).abs() < 1e-9);
        assert!((percent_higher(4.0, 3.0) - 33.333).abs() < 1e-3);
    }

    #[test]
    fn it_prints_as_mean_plus_minus_half_width() {
        let i = Interval::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(format!("{i:.1}"), "3.0 ± 2.0 (n = 5)");
    }
}
