//! Grouped bar charts: one bar per series in each category, with 95 % error bars, on a
//! linear axis from zero or a log axis; long category names turned and given room below.

use super::legend::{self, Entry, Swatch};
use super::scale::Scale;
use super::{Axis, BarChart, BarOptions, Res, err, ticks};
use plotters::coord::Shift;
use plotters::prelude::*;

const LABEL_FONT: u32 = 12;
/// About how wide the plot is, legend and axis taken away.
const PLOT_WIDTH: u32 = 640;

/// Whether the category names are written downwards: when one is wider than its group.
fn turned(categories: &[String]) -> bool {
    let font = ("sans-serif", LABEL_FONT).into_font();
    let group = PLOT_WIDTH / categories.len().max(1) as u32;
    categories
        .iter()
        .any(|c| font.box_size(c).map_or(c.len() as u32 * 7, |(w, _)| w) + 8 > group)
}

/// Extra height, in pixels, that turned category names need below the plot.
pub(super) fn label_room(categories: &[String]) -> u32 {
    if !turned(categories) {
        return 0;
    }
    let font = ("sans-serif", LABEL_FONT).into_font();
    categories
        .iter()
        .map(|c| font.box_size(c).map_or(c.len() as u32 * 7, |(w, _)| w))
        .max()
        .unwrap_or(0)
        + 16
}

pub(super) fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &BarChart, o: &BarOptions) -> Res
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let mut entries: Vec<Entry> = c
        .series
        .iter()
        .map(|(label, color, _)| Entry {
            label: label.clone(),
            swatch: Swatch::Box(*color),
        })
        .collect();
    if o.intervals.iter().flatten().any(Option::is_some) {
        entries.push(Entry {
            label: "95 % confidence interval".into(),
            swatch: Swatch::ErrorBar(BLACK),
        });
    }
    let lw = legend::width(&entries);
    let (w, _) = root.dim_in_pixel();
    let (plot_area, legend_area) = root.split_horizontally(w - lw);

    let groups = c.categories.len().max(1);
    let per = c.series.len().max(1);
    let values = c
        .series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .chain(o.intervals.iter().flatten().flatten().map(|&(_, hi)| hi))
        .filter(|v| v.is_finite());
    let log = o.y_axis == Axis::Log;
    let (y0, y1) = if log {
        let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
        let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = positive.iter().copied().fold(0.0, f64::max);
        if lo.is_finite() {
            (lo / 2.0, hi * 2.0)
        } else {
            (1.0, 10.0)
        }
    } else {
        (0.0, values.fold(0.0, f64::max).max(1e-9) * 1.12)
    };
    let rotate = turned(&c.categories);
    let x_area = if rotate {
        12 + label_room(&c.categories)
    } else {
        48
    };
    let cats = c.categories.clone();
    // One tick under the middle of each group, labelled with its category unless turned.
    let centres: Vec<f64> = (0..groups).map(|i| i as f64 + 0.5).collect();
    let xfmt = |v: &f64| {
        let i = v.floor() as usize;
        if rotate || i >= cats.len() {
            String::new()
        } else {
            cats[i].clone()
        }
    };
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&c.title, ("sans-serif", 22).into_font())
        .margin(12)
        .x_label_area_size(x_area)
        .y_label_area_size(84)
        .build_cartesian_2d(
            Scale::with_ticks(0.0, groups as f64, centres),
            Scale::new(if log { Axis::Log } else { Axis::Linear }, y0, y1),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&xfmt)
        .x_label_style(("sans-serif", LABEL_FONT))
        .y_desc(&c.y_label)
        .y_label_formatter(&|v: &f64| ticks::format_number(*v))
        .axis_desc_style(("sans-serif", 16))
        .y_label_style(("sans-serif", 13))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(242, 242, 242))
        .draw()
        .map_err(err)?;
    let width = 0.8 / per as f64;
    for (si, (_, color, vals)) in c.series.iter().enumerate() {
        let color = *color;
        chart
            .draw_series(vals.iter().enumerate().map(|(gi, &v)| {
                let x = gi as f64 + 0.1 + si as f64 * width;
                Rectangle::new([(x, y0), (x + width * 0.92, v.max(y0))], color.filled())
            }))
            .map_err(err)?;
        for (gi, iv) in o.intervals.get(si).into_iter().flatten().enumerate() {
            let Some((lo, hi)) = *iv else { continue };
            let x = gi as f64 + 0.1 + si as f64 * width + width * 0.46;
            let (px, plo) = chart.backend_coord(&(x, lo.max(y0)));
            let (_, phi) = chart.backend_coord(&(x, hi));
            let style = ShapeStyle::from(&BLACK).stroke_width(2);
            plot_area
                .draw(&PathElement::new(vec![(px, plo), (px, phi)], style))
                .map_err(err)?;
            for py in [plo, phi] {
                plot_area
                    .draw(&PathElement::new(vec![(px - 4, py), (px + 4, py)], style))
                    .map_err(err)?;
            }
        }
    }
    if rotate {
        let style = ("sans-serif", LABEL_FONT)
            .into_font()
            .transform(FontTransform::Rotate90);
        for (i, name) in cats.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, y0));
            plot_area
                .draw(&Text::new(name.clone(), (px + 6, py + 8), style.clone()))
                .map_err(err)?;
        }
    }
    legend::draw(&legend_area, &entries, 48)?;
    root.present().map_err(err)
}
