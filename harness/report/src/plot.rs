//! Chart primitives on plotters: line charts (linear or log axes, shaded fault bands, a
//! tail-percentile axis) and grouped bar charts. Each chart is drawn once per backend and
//! written as SVG and PNG; PNG text uses DejaVu Sans carried by the `dejavu` crate, so no
//! system font is needed.

use crate::ReportError;
use model::protocol::Protocol;
use plotters::coord::Shift;
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

const W: u32 = 900;
const H: u32 = 480;

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

fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.5, hi * 1.5)
    } else {
        let lo = lo.min(0.0);
        let span = (hi - lo).max(1e-9);
        (lo, hi + span * 0.08)
    }
}

fn draw_line<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &LineChart) -> Res
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let xs = c.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (x0, x1) = match c.x_axis {
        Axis::Tail => (0.0, range(xs, false).1.max(3.0).ceil()),
        Axis::Log => range(xs, true),
        Axis::Linear => range(xs, false),
    };
    let (y0, y1) = range(ys, c.y_axis == Axis::Log);
    // The tail axis gets one tick per decade of the tail: 0%, 90%, 99%, 99.9%, ...
    let x_labels = if c.x_axis == Axis::Tail {
        x1 as usize + 1
    } else {
        10
    };
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(&c.title, ("sans-serif", 22).into_font())
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(78);
    // plotters types a log axis differently, so each combination is its own chart type.
    macro_rules! finish {
        ($chart:expr, $xfmt:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(&c.x_label)
                .y_desc(&c.y_label)
                .x_labels(x_labels)
                .x_label_formatter(&$xfmt)
                .y_label_formatter(&|v: &f64| format_number(*v))
                .axis_desc_style(("sans-serif", 16))
                .label_style(("sans-serif", 13))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(err)?;
            for (i, b) in c.bands.iter().enumerate() {
                let shade = RGBColor(250, 200, 200).mix(0.35);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(b.from, y0), (b.to.max(b.from + (x1 - x0) * 0.003), y1)],
                        shade.filled(),
                    )))
                    .map_err(err)?;
                // Stagger labels so neighbouring faults stay readable.
                let row = (i % 3) as f64;
                let y = if c.y_axis == Axis::Log {
                    y1 / (1.6f64).powf(row + 1.0)
                } else {
                    y1 - (y1 - y0) * (0.05 + 0.06 * row)
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        b.label.clone(),
                        (b.from, y),
                        ("sans-serif", 12).into_font().color(&RGBColor(150, 30, 30)),
                    )))
                    .map_err(err)?;
            }
            for s in &c.series {
                let color = s.color;
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(&s.label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
                if s.markers {
                    chart
                        .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                        .map_err(err)?;
                }
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(err)?;
        }};
    }
    let num = |v: &f64| format_number(*v);
    let tail = |v: &f64| tail_label(*v);
    match (c.x_axis, c.y_axis) {
        (Axis::Log, Axis::Log) => {
            finish!(
                builder
                    .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                    .map_err(err)?,
                num
            )
        }
        (Axis::Log, _) => finish!(
            builder
                .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                .map_err(err)?,
            num
        ),
        (Axis::Tail, Axis::Log) => {
            finish!(
                builder
                    .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                    .map_err(err)?,
                tail
            )
        }
        (Axis::Tail, _) => finish!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?, tail),
        (Axis::Linear, Axis::Log) => {
            finish!(
                builder
                    .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                    .map_err(err)?,
                num
            )
        }
        (Axis::Linear, _) => finish!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?, num),
    }
    root.present().map_err(err)
}

fn draw_bars<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &BarChart) -> Res
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let groups = c.categories.len().max(1);
    let per = c.series.len().max(1);
    let ymax = c
        .series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(&c.title, ("sans-serif", 22).into_font())
        .margin(12)
        .x_label_area_size(if c.categories.iter().any(|s| s.len() > 12) {
            // Rotated labels: room for the longest name.
            (c.categories.iter().map(|s| s.len()).max().unwrap_or(0) as u32 * 7 + 16).min(260)
        } else {
            48
        })
        .y_label_area_size(78)
        .build_cartesian_2d(0f64..groups as f64, 0f64..ymax)
        .map_err(err)?;
    let cats = c.categories.clone();
    // Long category names are written downwards under their group instead.
    let rotate = cats.iter().any(|s| s.len() > 12);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups * 2 + 1)
        .x_label_formatter(&|v: &f64| {
            let i = v.floor() as usize;
            if !rotate && (v - v.floor() - 0.5).abs() < 0.01 && i < cats.len() {
                cats[i].clone()
            } else {
                String::new()
            }
        })
        .x_label_style(("sans-serif", 12))
        .y_desc(&c.y_label)
        .y_label_formatter(&|v: &f64| format_number(*v))
        .axis_desc_style(("sans-serif", 16))
        .y_label_style(("sans-serif", 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let width = 0.8 / per as f64;
    for (si, (label, color, values)) in c.series.iter().enumerate() {
        let color = *color;
        chart
            .draw_series(values.iter().enumerate().map(|(gi, &v)| {
                let x = gi as f64 + 0.1 + si as f64 * width;
                Rectangle::new([(x, 0.0), (x + width * 0.92, v.max(0.0))], color.filled())
            }))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    if rotate {
        let style = ("sans-serif", 12).into_font().transform(FontTransform::Rotate90);
        for (i, name) in cats.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(name.clone(), (px + 6, py + 8), style.clone()))
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// An axis label: integers above 100, up to three decimals below.
pub fn format_number(v: f64) -> String {
    if v.abs() >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
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
    register_fonts();
    let svg = dir.join(format!("{stem}.svg"));
    draw_line(SVGBackend::new(&svg, (W, H)).into_drawing_area(), c).map_err(plot_error(&svg))?;
    let png = dir.join(format!("{stem}.png"));
    draw_line(BitMapBackend::new(&png, (W, H)).into_drawing_area(), c).map_err(plot_error(&png))
}

/// Writes `stem.svg` and `stem.png` under `dir`.
pub fn write_bars(dir: &Path, stem: &str, c: &BarChart) -> Result<(), ReportError> {
    register_fonts();
    // Rotated category names take height from the plot; give it back.
    let longest = c.categories.iter().map(|s| s.len()).max().unwrap_or(0) as u32;
    let h = if longest > 12 {
        H + (longest * 7).min(220)
    } else {
        H
    };
    let svg = dir.join(format!("{stem}.svg"));
    draw_bars(SVGBackend::new(&svg, (W, h)).into_drawing_area(), c).map_err(plot_error(&svg))?;
    let png = dir.join(format!("{stem}.png"));
    draw_bars(BitMapBackend::new(&png, (W, h)).into_drawing_area(), c).map_err(plot_error(&png))
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
