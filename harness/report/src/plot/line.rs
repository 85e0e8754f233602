//! Line charts: series, fault bands with labels packed into rows, interval bands or error
//! bars, censored points and reference lines; the legend beside the plot.

use super::legend::{self, Entry, Swatch};
use super::scale::Scale;
use super::{Axis, LineChart, Overlay, Res, err, tail_label, ticks};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The data range of an axis: a little room past the values (log: a factor; linear: 8 %
/// above, from zero unless values go below it).
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
        // At least a factor of 3 overall, so the axis has room for labelled ticks.
        let pad = ((3.0 / (hi / lo)).max(1.0)).sqrt().max(1.3);
        (lo / pad, hi * pad)
    } else {
        let lo = lo.min(0.0);
        let span = (hi - lo).max(1e-9);
        (lo, hi + span * 0.08)
    }
}

/// The legend of a chart: its series, then what the overlay adds.
fn entries(c: &LineChart, o: &Overlay) -> Vec<Entry> {
    let mut out: Vec<Entry> = c
        .series
        .iter()
        .filter(|s| !s.label.is_empty())
        .map(|s| Entry {
            label: s.label.clone(),
            swatch: if s.markers {
                Swatch::LineDot(s.color)
            } else {
                Swatch::Line(s.color)
            },
        })
        .collect();
    if let Some(i) = o.intervals.first() {
        out.push(Entry {
            label: "95 % confidence interval".into(),
            swatch: match i.style {
                super::IntervalStyle::Band => Swatch::Band(RGBColor(90, 90, 90)),
                super::IntervalStyle::Bars => Swatch::ErrorBar(RGBColor(90, 90, 90)),
            },
        });
    }
    for cz in o
        .censored
        .iter()
        .filter(|cz| !cz.points.is_empty() && !cz.label.is_empty())
    {
        out.push(Entry {
            label: cz.label.clone(),
            swatch: Swatch::Triangle(cz.color),
        });
    }
    for l in &o.lines {
        out.push(Entry {
            label: l.label.clone(),
            swatch: Swatch::Dashed(RGBColor(80, 80, 80)),
        });
    }
    out
}

/// Rows for the fault labels: each label goes in the first row where it clears the label
/// before it; returns the row of each band (`None`: unlabelled, or no room in any row).
pub(super) fn pack_rows(spans: &[Option<(i32, i32)>], rows: usize) -> Vec<Option<usize>> {
    let mut ends = vec![i32::MIN; rows];
    spans
        .iter()
        .map(|span| {
            let (from, to) = (*span)?;
            let row = (0..rows).find(|&r| ends[r] + 6 <= from)?;
            ends[row] = to;
            Some(row)
        })
        .collect()
}

const LABEL_ROWS: usize = 4;

pub(super) fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &LineChart, o: &Overlay) -> Res
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let legend_entries = entries(c, o);
    let lw = legend::width(&legend_entries);
    let (w, _) = root.dim_in_pixel();
    let (plot_area, legend_area) = root.split_horizontally(w - lw);

    let xs = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(o.intervals.iter().flat_map(|i| i.points.iter().map(|p| p.0)))
        .chain(o.censored.iter().flat_map(|cz| cz.points.iter().map(|p| p.0)));
    let ys = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(
            o.intervals
                .iter()
                .flat_map(|i| i.points.iter().flat_map(|p| [p.1, p.2])),
        )
        .chain(o.censored.iter().flat_map(|cz| cz.points.iter().map(|p| p.1)))
        .chain(o.lines.iter().map(|l| l.y));
    let (x0, x1) = match c.x_axis {
        Axis::Tail => (0.0, range(xs, false).1.max(3.0).ceil()),
        Axis::Log => range(xs, true),
        Axis::Linear => range(xs, false),
    };
    let (mut y0, mut y1) = range(ys, c.y_axis == Axis::Log);
    // Room above the data for the fault labels.
    if !c.bands.is_empty() {
        if c.y_axis == Axis::Log {
            y1 *= (y1 / y0).powf(0.25);
        } else {
            y1 += (y1 - y0) * 0.25;
        }
    }
    if c.y_axis == Axis::Linear && y0 == y1 {
        y0 -= 1.0;
        y1 += 1.0;
    }
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&c.title, ("sans-serif", 22).into_font())
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(84)
        .build_cartesian_2d(Scale::new(c.x_axis, x0, x1), Scale::new(c.y_axis, y0, y1))
        .map_err(err)?;
    let tail = c.x_axis == Axis::Tail;
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .x_label_formatter(&|v: &f64| {
            if tail {
                tail_label(*v)
            } else {
                ticks::format_number(*v)
            }
        })
        .y_label_formatter(&|v: &f64| ticks::format_number(*v))
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 13))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(242, 242, 242))
        .draw()
        .map_err(err)?;
    draw_contents(&plot_area, &mut chart, c, o, (x0, x1), (y0, y1))?;
    legend::draw(&legend_area, &legend_entries, 48)?;
    root.present().map_err(err)
}

/// Everything inside the plot: bands, intervals, lines, markers, censored points, reference
/// lines.
fn draw_contents<DB>(
    area: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    c: &LineChart,
    o: &Overlay,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Res
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    // Fault bands, then their labels packed into rows at the top of the plot.
    let face = ("sans-serif", 12).into_font();
    let font = face.color(&RGBColor(150, 30, 30));
    let mut spans = Vec::new();
    for b in &c.bands {
        let shade = RGBColor(250, 200, 200).mix(if b.to > b.from { 0.35 } else { 0.9 });
        let to = b.to.max(b.from + (x1 - x0) * 0.002);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(b.from, y0), (to, y1)],
                shade.filled(),
            )))
            .map_err(err)?;
        let (px, _) = chart.backend_coord(&(b.from, y1));
        spans.push((!b.label.is_empty()).then(|| {
            let w = face
                .box_size(&b.label)
                .map_or(b.label.len() as u32 * 7, |(w, _)| w);
            (px + 2, px + 2 + w as i32)
        }));
    }
    let (_, top) = chart.backend_coord(&(x0, y1));
    for ((b, span), row) in c.bands.iter().zip(&spans).zip(pack_rows(&spans, LABEL_ROWS)) {
        let (Some(row), Some((px, _))) = (row, span) else {
            continue;
        };
        area.draw(&Text::new(
            b.label.clone(),
            (*px, top + 3 + row as i32 * 15),
            font.clone(),
        ))
        .map_err(err)?;
    }
    for i in &o.intervals {
        let pale = i.color.mix(0.22);
        match i.style {
            super::IntervalStyle::Band => {
                let mut poly: Vec<(f64, f64)> = i.points.iter().map(|&(x, lo, _)| (x, lo)).collect();
                poly.extend(i.points.iter().rev().map(|&(x, _, hi)| (x, hi)));
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, pale.filled())))
                    .map_err(err)?;
            }
            super::IntervalStyle::Bars => {
                let style = ShapeStyle::from(&i.color).stroke_width(2);
                for &(x, lo, hi) in &i.points {
                    let (px, plo) = chart.backend_coord(&(x, lo));
                    let (_, phi) = chart.backend_coord(&(x, hi));
                    area.draw(&PathElement::new(vec![(px, plo), (px, phi)], style))
                        .map_err(err)?;
                    for py in [plo, phi] {
                        area.draw(&PathElement::new(vec![(px - 4, py), (px + 4, py)], style))
                            .map_err(err)?;
                    }
                }
            }
        }
    }
    for s in &c.series {
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), s.color.stroke_width(2)))
            .map_err(err)?;
        if s.markers {
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, s.color.filled())))
                .map_err(err)?;
        }
    }
    for cz in &o.censored {
        let style = ShapeStyle::from(&cz.color).stroke_width(2);
        chart
            .draw_series(cz.points.iter().map(|&p| TriangleMarker::new(p, 6, style)))
            .map_err(err)?;
    }
    for l in &o.lines {
        let (pl, py) = chart.backend_coord(&(x0, l.y));
        let (pr, _) = chart.backend_coord(&(x1, l.y));
        let style = ShapeStyle::from(&RGBColor(80, 80, 80)).stroke_width(1);
        let mut x = pl;
        while x < pr {
            area.draw(&PathElement::new(vec![(x, py), ((x + 8).min(pr), py)], style))
                .map_err(err)?;
            x += 14;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_fault_labels_go_to_different_rows() {
        let spans = [
            Some((0, 100)),
            Some((50, 150)),
            Some((120, 200)),
            None,
            Some((300, 350)),
        ];
        assert_eq!(
            pack_rows(&spans, 3),
            vec![Some(0), Some(1), Some(0), None, Some(0)]
        );
    }

    #[test]
    fn a_label_with_no_free_row_is_left_out() {
        let spans = [Some((0, 100)), Some((10, 100)), Some((20, 100))];
        assert_eq!(pack_rows(&spans, 2), vec![Some(0), Some(1), None]);
    }
}
