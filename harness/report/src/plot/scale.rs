//! An axis with the ticks of [`super::ticks`]: one coordinate type for linear and log axes,
//! so that every chart is one type and gets our tick positions instead of plotters' own.

use super::{Axis, ticks};
use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use std::ops::Range;

enum Map {
    Linear(RangedCoordf64),
    Log(LogCoord<f64>),
}

/// A linear or log axis over `[lo, hi]` whose labelled ticks are `major` and whose light grid
/// lines are `minor`.
pub struct Scale {
    map: Map,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl Scale {
    /// The axis of kind `axis` over `[lo, hi]`, ticked by [`ticks::for_axis`].
    pub fn new(axis: Axis, lo: f64, hi: f64) -> Scale {
        let major = ticks::for_axis(axis, lo, hi);
        match axis {
            Axis::Log => Scale {
                map: Map::Log((lo..hi).log_scale().into()),
                minor: ticks::log_minor(lo, hi),
                major,
            },
            Axis::Linear | Axis::Tail => Scale {
                map: Map::Linear((lo..hi).into()),
                minor: Vec::new(),
                major,
            },
        }
    }

    /// An axis with the given ticks (a bar chart's category centres).
    pub fn with_ticks(lo: f64, hi: f64, major: Vec<f64>) -> Scale {
        Scale {
            map: Map::Linear((lo..hi).into()),
            major,
            minor: Vec::new(),
        }
    }
}

impl Ranged for Scale {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        match &self.map {
            Map::Linear(r) => r.map(value, limit),
            Map::Log(r) => r.map(value, limit),
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        match &self.map {
            Map::Linear(r) => r.range(),
            Map::Log(r) => r.range(),
        }
    }
}
