//! Chart primitives on plotters: line charts (linear or log axes, shaded fault bands, a
//! tail-percentile axis, interval bands or error bars, censored points, reference lines) and
//! grouped bar charts (with error bars, on a linear or log axis). Each chart is drawn once per
//! backend and written as SVG and PNG; PNG text uses DejaVu Sans carried by the `dejavu` crate,
//! so no system font is needed.
//!
//! Every chart follows the same rules: labelled ticks on both axes ([`ticks`]: log axes with
//! 1, 2 and 5 in each decade), the legend in a column beside the plot where it covers no data
//! ([`legend`]), and text that does not collide (fault labels are packed into rows, long
//! category names are wrapped or turned).

mod bars;
mod legend;
mod line;
mod scale;
pub mod ticks;

use crate::ReportError;
use model::protocol::Protocol;
use plotters::prelude::*;
use plotters::style::FontStyle;
pub use plotters::style::RGBColor;
use std::path::Path;
use std::sync::Once;

/// Raft's colour in every chart.
pub const RAFT: RGBColor = RGBColor(31, 119, 180);
/// Multi-Paxos's colour.
pub const PAXOS: RGBColor = RGBColor(230, 110, 20);
/// The no-replication baseline's colour.
pub const NULL: RGBColor = RGBColor(120, 120, 120);
/// Extra colours for charts with more series.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 110, 20),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(120, 120, 120),
];

/// The colour of a protocol's series.
pub fn protocol_color(protocol: Protocol) -> RGBColor {
    match protocol {
        Protocol::Raft => RAFT,
        Protocol::Paxos => PAXOS,
        Protocol::Etcd => RGBColor(44, 160, 44),
        Protocol::Null => NULL,
    }
}

/// A protocol's display name.
pub fn protocol_label(protocol: Protocol) -> &'static str {
    protocol.display_name()
}

static FONTS: Once = Once::new();

fn register_fonts() {
    FONTS.call_once(|| {
        // Registration only fails for a malformed font, which the crate's bytes are not.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// One line.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// Draw dots at each point as well.
    pub markers: bool,
}

/// A shaded stretch of the x axis (a fault while it lasted).
#[derive(Clone, Debug)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

/// How an axis maps values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Axis {
    Linear,
    Log,
    /// Tail percentiles: x = -log10(1 - q), labelled 50%, 90%, 99%, ...
    Tail,
}

/// A line chart.
#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_axis: Axis,
    pub y_axis: Axis,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
}

/// Bars grouped by category, one bar per series in each group.
#[derive(Clone, Debug)]
pub struct BarChart {
    pub title: String,
    pub y_label: String,
    pub categories: Vec<String>,
    /// (label, colour, one value per category).
    pub series: Vec<(String, RGBColor, Vec<f64>)>,
}

/// Extra marks on a line chart: intervals, censored points, reference lines.
#[derive(Clone, Debug, Default)]
pub struct Overlay {
    pub intervals: Vec<IntervalSeries>,
    pub censored: Vec<Censored>,
    pub lines: Vec<RefLine>,
}

/// A 95 % interval around a series: `(x, low, high)` per point.
#[derive(Clone, Debug)]
pub struct IntervalSeries {
    pub color: RGBColor,
    pub points: Vec<(f64, f64, f64)>,
    pub style: IntervalStyle,
}

/// How an interval is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntervalStyle {
    /// A vertical bar with caps at each point.
    Bars,
    /// A shaded band along the series.
    Band,
}

/// Trials stopped at a cap (e.g. "no leader after 10 s"): drawn as open triangles at the cap,
/// with their own legend entry, so a reader sees them instead of a missing point.
#[derive(Clone, Debug)]
pub struct Censored {
    /// The legend entry; empty to share the one of an earlier group (several series censored
    /// at the same cap, each in its own colour).
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// A horizontal reference line (a bound, a cap) with its label.
#[derive(Clone, Debug)]
pub struct RefLine {
    pub y: f64,
    pub label: String,
}

/// Extra settings of a bar chart.
#[derive(Clone, Debug)]
pub struct BarOptions {
    /// Per series, per category: the 95 % interval `(low, high)` drawn as an error bar.
    pub intervals: Vec<Vec<Option<(f64, f64)>>>,
    /// `Linear` (from zero) or `Log` (for values that span decades, such as p99 latency).
    pub y_axis: Axis,
}

impl Default for BarOptions {
    fn default() -> Self {
        BarOptions {
            intervals: Vec::new(),
            y_axis: Axis::Linear,
        }
    }
}

/// Width and height of a chart; the legend sits in a column to the right of the plot.
const W: u32 = 1000;
const H: u32 = 500;

/// What drawing into one backend returns: plotters' errors as text.
type Res = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Maps a quantile to the tail axis.
pub fn tail_x(q: f64) -> f64 {
    -(1.0 - q.min(0.99999)).log10()
}

fn tail_label(x: f64) -> String {
    let q = 1.0 - 10f64.powf(-x);
    let pct = q * 100.0;
    let s = format!("{pct:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// An axis label (see [`ticks::format_number`]).
pub fn format_number(v: f64) -> String {
    ticks::format_number(v)
}

/// A drawing error on `path`.
fn plot_error(path: &Path) -> impl FnOnce(String) -> ReportError + '_ {
    move |message| ReportError::Plot {
        path: path.to_path_buf(),
        message,
    }
}

/// Writes `stem.svg` and `stem.png` under `dir`.
pub fn write_line(dir: &Path, stem: &str, c: &LineChart) -> Result<(), ReportError> {
    write_line_with(dir, stem, c, &Overlay::default())
}

/// Writes `stem.svg` and `stem.png` under `dir`, with `overlay` drawn on the lines.
pub fn write_line_with(dir: &Path, stem: &str, c: &LineChart, overlay: &Overlay) -> Result<(), ReportError> {
    register_fonts();
    let svg = dir.join(format!("{stem}.svg"));
    line::draw(SVGBackend::new(&svg, (W, H)).into_drawing_area(), c, overlay).map_err(plot_error(&svg))?;
    let png = dir.join(format!("{stem}.png"));
    line::draw(BitMapBackend::new(&png, (W, H)).into_drawing_area(), c, overlay).map_err(plot_error(&png))
}

/// Writes `stem.svg` and `stem.png` under `dir`.
pub fn write_bars(dir: &Path, stem: &str, c: &BarChart) -> Result<(), ReportError> {
    write_bars_with(dir, stem, c, &BarOptions::default())
}

/// Writes `stem.svg` and `stem.png` under `dir`, with error bars and the y axis of `options`.
pub fn write_bars_with(
    dir: &Path,
    stem: &str,
    c: &BarChart,
    options: &BarOptions,
) -> Result<(), ReportError> {
    register_fonts();
    let h = H + bars::label_room(&c.categories);
    let svg = dir.join(format!("{stem}.svg"));
    bars::draw(SVGBackend::new(&svg, (W, h)).into_drawing_area(), c, options).map_err(plot_error(&svg))?;
    let png = dir.join(format!("{stem}.png"));
    bars::draw(BitMapBackend::new(&png, (W, h)).into_drawing_area(), c, options).map_err(plot_error(&png))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_axis_labels_read_as_percentiles() {
        assert_eq!(tail_label(tail_x(0.5)), "50%");
        assert_eq!(tail_label(tail_x(0.99)), "99%");
        assert_eq!(tail_label(tail_x(0.999)), "99.9%");
    }

    #[test]
    fn charts_render_to_svg_and_png_without_system_fonts() {
        let dir = tempfile::tempdir().unwrap();
        let chart = LineChart {
            title: "Test".into(),
            x_label: "time (s)".into(),
            y_label: "ops/s".into(),
            x_axis: Axis::Linear,
            y_axis: Axis::Log,
            series: vec![Series {
                label: "Raft".into(),
                color: RAFT,
                points: vec![(0.0, 10.0), (1.0, 100.0), (2.0, 50.0)],
                markers: true,
            }],
            bands: vec![Band {
                from: 0.5,
                to: 1.5,
                label: "crash n1".into(),
            }],
        };
        write_line(dir.path(), "line", &chart).unwrap();
        let bars = BarChart {
            title: "Bars".into(),
            y_label: "messages per command".into(),
            categories: vec!["steady-3".into(), "steady-5".into()],
            series: vec![
                ("Raft".into(), RAFT, vec![3.0, 5.0]),
                ("Multi-Paxos".into(), PAXOS, vec![3.5, 5.5]),
            ],
        };
        write_bars(dir.path(), "bars", &bars).unwrap();
        for f in ["line.svg", "line.png", "bars.svg", "bars.png"] {
            assert!(std::fs::metadata(dir.path().join(f)).unwrap().len() > 1000, "{f}");
        }
        let svg = std::fs::read_to_string(dir.path().join("line.svg")).unwrap();
        assert!(svg.contains("crash n1") && svg.contains("time (s)"));
    }
}
