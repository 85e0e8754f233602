//! The legend: a column to the right of the plot, so it never covers a bar or a point.

use super::Res;
use plotters::coord::Shift;
use plotters::prelude::*;

/// What stands beside a legend label.
#[derive(Clone, Copy, Debug)]
pub enum Swatch {
    Line(RGBColor),
    /// A line with a dot: a series drawn with markers.
    LineDot(RGBColor),
    Dashed(RGBColor),
    Box(RGBColor),
    /// A pale box: an interval band.
    Band(RGBColor),
    /// An error bar.
    ErrorBar(RGBColor),
    /// An open triangle: censored points.
    Triangle(RGBColor),
}

/// One legend line.
#[derive(Clone, Debug)]
pub struct Entry {
    pub label: String,
    pub swatch: Swatch,
}

const FONT: u32 = 14;
const ROW: i32 = 20;
const MAX_WIDTH: u32 = 330;
/// Characters per legend line before a label wraps (the column holds MAX_WIDTH pixels).
const WRAP: usize = 36;

/// `label` broken into lines of at most [`WRAP`] characters at spaces.
fn wrap(label: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in label.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= WRAP => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The column's width in pixels for `entries` (0 without entries).
pub fn width(entries: &[Entry]) -> u32 {
    if entries.is_empty() {
        return 0;
    }
    let font = ("sans-serif", FONT).into_font();
    let text = entries
        .iter()
        .flat_map(|e| wrap(&e.label))
        .map(|l| font.box_size(&l).map_or(l.len() as u32 * 8, |(w, _)| w))
        .max()
        .unwrap_or(0);
    (text + 52).min(MAX_WIDTH)
}

fn swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    ym: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x0, x1) = (6, 30);
    let s = |c: RGBColor, w: u32| ShapeStyle::from(&c).stroke_width(w);
    match swatch {
        Swatch::Line(c) => area.draw(&PathElement::new(vec![(x0, ym), (x1, ym)], s(c, 3))),
        Swatch::LineDot(c) => {
            area.draw(&PathElement::new(vec![(x0, ym), (x1, ym)], s(c, 3)))?;
            area.draw(&Circle::new(((x0 + x1) / 2, ym), 4, c.filled()))
        }
        Swatch::Dashed(c) => {
            area.draw(&PathElement::new(vec![(x0, ym), (x0 + 8, ym)], s(c, 2)))?;
            area.draw(&PathElement::new(vec![(x0 + 14, ym), (x1, ym)], s(c, 2)))
        }
        Swatch::Box(c) => area.draw(&Rectangle::new([(x0 + 4, ym - 6), (x1 - 4, ym + 6)], c.filled())),
        Swatch::Band(c) => area.draw(&Rectangle::new(
            [(x0, ym - 6), (x1, ym + 6)],
            c.mix(0.25).filled(),
        )),
        Swatch::ErrorBar(c) => {
            let xm = (x0 + x1) / 2;
            area.draw(&PathElement::new(vec![(xm, ym - 7), (xm, ym + 7)], s(c, 2)))?;
            area.draw(&PathElement::new(
                vec![(xm - 4, ym - 7), (xm + 4, ym - 7)],
                s(c, 2),
            ))?;
            area.draw(&PathElement::new(
                vec![(xm - 4, ym + 7), (xm + 4, ym + 7)],
                s(c, 2),
            ))
        }
        Swatch::Triangle(c) => area.draw(&TriangleMarker::new(((x0 + x1) / 2, ym), 6, s(c, 2))),
    }
}

/// Draws `entries` top-down in `area`, starting `top` pixels down.
pub fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry], top: i32) -> Res
where
    DB::ErrorType: 'static,
{
    let font = ("sans-serif", FONT).into_font();
    let mut y = top;
    for e in entries {
        swatch(area, e.swatch, y + FONT as i32 / 2 + 1).map_err(super::err)?;
        for line in wrap(&e.label) {
            area.draw(&Text::new(line, (38, y), font.clone()))
                .map_err(super::err)?;
            y += ROW - 3;
        }
        y += 3;
    }
    Ok(())
}
