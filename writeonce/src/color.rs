//! The values the drafts vote on: red, blue, green and a few more.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A candidate value. Ordered as listed, so the bully rule ("the biggest wins") over a set of
/// colours picks the one listed last.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    Red,
    Blue,
    Green,
    Yellow,
    Purple,
    Orange,
    Teal,
    Brown,
}

impl Color {
    /// Every colour, in order.
    pub const ALL: [Color; 8] = [
        Color::Red,
        Color::Blue,
        Color::Green,
        Color::Yellow,
        Color::Purple,
        Color::Orange,
        Color::Teal,
        Color::Brown,
    ];

    /// The `i`-th colour (wrapping), for "node i proposes a colour of its own".
    pub fn nth(i: usize) -> Color {
        Self::ALL[i % Self::ALL.len()]
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Color::Red => "red",
            Color::Blue => "blue",
            Color::Green => "green",
            Color::Yellow => "yellow",
            Color::Purple => "purple",
            Color::Orange => "orange",
            Color::Teal => "teal",
            Color::Brown => "brown",
        }
    }

    /// A CSS colour to draw it in.
    pub fn css(self) -> &'static str {
        match self {
            Color::Red => "#d62728",
            Color::Blue => "#1f77b4",
            Color::Green => "#2ca02c",
            Color::Yellow => "#bcbd22",
            Color::Purple => "#9467bd",
            Color::Orange => "#ff7f0e",
            Color::Teal => "#17becf",
            Color::Brown => "#8c564b",
        }
    }
}

// Lowercase in traces: `Vote(red)` reads better than `Vote(Red)`.
impl fmt::Debug for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
