//! A counterexample as a sequence diagram (hand-written SVG, no dependencies): a lifeline
//! per node, an arrow per delivered message from the step that sent it to the step that
//! delivered it, dashed arrows ending in a cross for lost messages, and marks for proposals,
//! timeouts, crashes, partitions and decisions.

use super::trace::{Kind, Timeline};
use crate::Color;
use std::fmt::Write;

const LEFT: f64 = 60.0;
const COLUMN: f64 = 190.0;
const TOP: f64 = 96.0;
const ROW: f64 = 40.0;
const RIGHT: f64 = 190.0;

fn x(node: u32) -> f64 {
    LEFT + COLUMN / 2.0 + node as f64 * COLUMN
}

fn y(t: usize) -> f64 {
    TOP + t as f64 * ROW
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The CSS colour of the first colour name in `label`, black if none.
fn tint(label: &str) -> &'static str {
    Color::ALL
        .iter()
        .filter_map(|c| label.find(c.name()).map(|at| (at, c.css())))
        .min()
        .map_or("#222", |(_, css)| css)
}

/// Draws `timeline` under `title`.
pub fn render(title: &str, timeline: &Timeline) -> String {
    let steps = timeline.len();
    let conclusion_lines: Vec<&str> = wrap(&timeline.conclusion, 110);
    let width = LEFT + timeline.nodes as f64 * COLUMN + RIGHT;
    let bottom = y(steps) + ROW;
    let status_lines: Vec<Vec<&str>> = timeline.final_status.iter().map(|s| wrap(s, 30)).collect();
    let status_height = status_lines.iter().map(Vec::len).max().unwrap_or(0) as f64 * 13.0;
    let footer = bottom + status_height + 16.0;
    let height = footer + 30.0 + conclusion_lines.len() as f64 * 18.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#
    );
    s.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
"##,
    );
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="26" font-size="16" font-weight="bold">{}</text>"#,
        escape(title)
    );

    // Shaded tail: the part that only plays the run out, or the loop.
    if let Some(from) = timeline.aftermath_from {
        let top = y(from) - ROW / 2.0;
        let _ = writeln!(
            s,
            r##"<rect x="0" y="{top}" width="{width}" height="{}" fill="#f2f2f2"/>"##,
            bottom - top
        );
        for (i, text) in wrap(&timeline.aftermath_heading, 28).iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" font-size="11" font-style="italic" fill="#666">{}</text>"##,
                width - RIGHT + 10.0,
                top + 14.0 + i as f64 * 13.0,
                escape(text)
            );
        }
    }
    if let Some(from) = timeline.loop_from {
        let (top, end) = (y(from) - ROW / 2.0, y(steps) + ROW / 2.0);
        let bx = width - RIGHT + 20.0;
        let _ = writeln!(
            s,
            r##"<rect x="0" y="{top}" width="{width}" height="{}" fill="#fff4e0"/><path d="M{bx},{top} h10 V{end} h-10" fill="none" stroke="#d08000" stroke-width="2"/><text x="{}" y="{}" fill="#a06000">repeats forever,</text><text x="{}" y="{}" fill="#a06000">ballots +{} each time</text>"##,
            end - top,
            bx + 16.0,
            (top + end) / 2.0 - 4.0,
            bx + 16.0,
            (top + end) / 2.0 + 12.0,
            timeline.rounds_per_loop
        );
    }

    // Lifelines, cut short by crashes and drawn dashed after a partition.
    for n in 0..timeline.nodes as u32 {
        let crash = timeline
            .lines
            .iter()
            .find(|l| l.kind == Kind::Crash && l.node == n)
            .map(|l| l.t);
        let isolate = timeline
            .lines
            .iter()
            .find(|l| l.kind == Kind::Isolate && l.node == n)
            .map(|l| l.t);
        let head = TOP - 30.0;
        let _ = writeln!(
            s,
            r##"<rect x="{}" y="{}" width="60" height="24" rx="4" fill="#eef" stroke="#446"/><text x="{}" y="{}" text-anchor="middle" font-weight="bold">n{n}</text>"##,
            x(n) - 30.0,
            head - 24.0,
            x(n),
            head - 8.0
        );
        let proposals: Vec<&str> = timeline
            .proposals
            .iter()
            .filter(|(p, _)| *p == n)
            .map(|(_, v)| v.as_str())
            .collect();
        if !proposals.is_empty() {
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#555">proposes {}</text>"##,
                x(n),
                head + 10.0,
                escape(&proposals.join(", "))
            );
        }
        let end = crash.map_or(bottom, y);
        let split = isolate.map_or(end, |t| y(t).min(end));
        let _ = writeln!(
            s,
            r##"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#999" stroke-width="2"/>"##,
            x(n),
            head + 16.0,
            split
        );
        if split < end {
            let _ = writeln!(
                s,
                r##"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#e07000" stroke-width="2" stroke-dasharray="6,4"/>"##,
                x(n),
                split,
                end
            );
        }
    }

    for line in &timeline.lines {
        let (cx, cy) = (x(line.node), y(line.t));
        // The run played out after the scheduler's choices is drawn faint.
        let faint = timeline.aftermath_from.is_some_and(|from| line.t >= from);
        if faint {
            s.push_str(r#"<g opacity="0.45">"#);
        }
        let _ = writeln!(
            s,
            r##"<text x="10" y="{}" fill="#777">t{}</text>"##,
            cy + 4.0,
            line.t
        );
        match line.kind {
            Kind::Deliver => {
                let from = line.from.expect("a delivery has a sender");
                let sent = line.sent_at.unwrap_or(line.t);
                let (x1, y1) = (x(from), y(sent));
                let colour = tint(&line.label);
                let _ = writeln!(
                    s,
                    r##"<line x1="{x1}" y1="{y1}" x2="{cx}" y2="{cy}" stroke="#333" stroke-width="1.3" marker-end="url(#arrow)"/>"##
                );
                let (mx, my) = (x1 + (cx - x1) * 0.7, y1 + (cy - y1) * 0.7 - 4.0);
                let _ = writeln!(
                    s,
                    r##"<text x="{mx}" y="{my}" text-anchor="middle" font-size="11" fill="{colour}" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"##,
                    escape(&line.label)
                );
            }
            Kind::Propose => {
                let _ = writeln!(
                    s,
                    r##"<circle cx="{cx}" cy="{cy}" r="6" fill="{}" stroke="#222"/><text x="{}" y="{}" font-size="11">{}</text>"##,
                    tint(&line.label),
                    cx + 10.0,
                    cy + 4.0,
                    escape(&line.label)
                );
            }
            Kind::Timeout => {
                let _ = writeln!(
                    s,
                    r##"<path d="M{0},{1} h10 l-10,12 h10 z" fill="none" stroke="#555" transform="translate(-5,0)"/><text x="{2}" y="{3}" font-size="11" fill="#555">timeout</text>"##,
                    cx,
                    cy - 6.0,
                    cx + 10.0,
                    cy + 4.0
                );
            }
            Kind::Crash => {
                let _ = writeln!(
                    s,
                    r##"<path d="M{0},{1} l16,16 M{2},{1} l-16,16" stroke="#d00" stroke-width="3"/><text x="{3}" y="{4}" font-weight="bold" fill="#d00">crash</text>"##,
                    cx - 8.0,
                    cy - 8.0,
                    cx + 8.0,
                    cx + 12.0,
                    cy + 4.0
                );
            }
            Kind::Isolate => {
                let _ = writeln!(
                    s,
                    r##"<rect x="{}" y="{}" width="8" height="20" fill="#e07000"/><text x="{}" y="{}" font-weight="bold" fill="#e07000">partitioned off</text>"##,
                    cx - 4.0,
                    cy - 10.0,
                    cx + 10.0,
                    cy + 4.0
                );
            }
        }
        for lost in &line.lost {
            // In flight until this step, or cut off the moment it was sent.
            let (x1, y1) = (x(lost.from), y(lost.sent_at));
            let (ex, ey) = if lost.sent_at < line.t {
                (x1 + (x(lost.to) - x1) * 0.6, cy)
            } else {
                (x1 + (x(lost.to) - x1) * 0.45, cy + ROW * 0.45)
            };
            let _ = writeln!(
                s,
                r##"<line x1="{x1}" y1="{y1}" x2="{ex}" y2="{ey}" stroke="#d00" stroke-width="1.2" stroke-dasharray="4,3"/><text x="{ex}" y="{}" text-anchor="middle" font-weight="bold" fill="#d00">×</text><text x="{}" y="{}" text-anchor="middle" font-size="10" fill="#d00" stroke="white" stroke-width="3" paint-order="stroke">lost {}</text>"##,
                ey + 5.0,
                (x1 + ex) / 2.0,
                (y1 + ey) / 2.0 - 4.0,
                escape(&lost.label)
            );
        }
        for (n, value) in &line.decided {
            let _ = writeln!(
                s,
                r##"<rect x="{}" y="{}" width="64" height="18" rx="9" fill="{}" stroke="#222"/><text x="{}" y="{}" text-anchor="middle" font-size="11" font-weight="bold" fill="white">{}</text>"##,
                x(*n) - 32.0,
                cy + 8.0,
                tint(value),
                x(*n),
                cy + 21.0,
                escape(value)
            );
        }
        for (n, draw) in &line.draws {
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" font-size="10" font-style="italic" fill="#666">backoff: {draw}</text>"##,
                x(*n) + 10.0,
                cy + 16.0
            );
        }
        if faint {
            s.push_str("</g>\n");
        }
    }
    for (n, lines) in status_lines.iter().enumerate() {
        for (i, text) in lines.iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="#335">{}</text>"##,
                x(n as u32),
                bottom + 12.0 + i as f64 * 13.0,
                escape(text)
            );
        }
    }
    for (i, text) in conclusion_lines.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{LEFT}" y="{}" font-size="13">{}</text>"#,
            footer + 24.0 + i as f64 * 18.0,
            escape(text)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Splits `text` at spaces into lines of at most about `width` characters.
fn wrap(text: &str, width: usize) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text.trim();
    while rest.len() > width {
        let mut end = width;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        // A space right after the first `width` characters is a cut at full width.
        let cut = if rest.as_bytes()[end] == b' ' {
            end
        } else {
            rest[..end].rfind(' ').unwrap_or(end)
        };
        lines.push(rest[..cut].trim_end());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_tinted_by_the_colour_they_name() {
        assert_eq!(escape("a<b>&"), "a&lt;b&gt;&amp;");
        assert_eq!(tint("Vote(green)"), Color::Green.css());
        assert_eq!(tint("Prepare(b1.0)"), "#222");
    }

    #[test]
    fn long_conclusions_wrap_at_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
    }
}
