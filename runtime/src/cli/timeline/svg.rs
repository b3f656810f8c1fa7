//! The timeline as a Gantt-style SVG, in the spirit of `systemd-analyze plot`: one row per
//! action in the order they began to wait, a bar from its wait to its spawn (grey), from
//! its spawn to ready (blue) and from ready to healthy (green), the critical chain
//! outlined in red, and a time axis with a grid. [`Layout`] says where each thing is
//! drawn, so a test can look at the rendered pixels where the journal places a bar.

use std::fmt::Write;

use super::{Timeline, format_ms};

/// The colours of the bars, as `#rrggbb`.
pub const WAITING: &str = "#c8c8c8";
/// Spawn → ready.
pub const STARTING: &str = "#4a90d9";
/// Ready → healthy.
pub const HEALTHY: &str = "#7cb342";
/// The outline of the critical chain.
pub const CRITICAL: &str = "#d62728";

/// Where things are drawn, in SVG user units (pixels at scale 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    /// The whole picture's width.
    pub width: f64,
    /// The whole picture's height.
    pub height: f64,
    /// Where time 0 is drawn.
    pub left: f64,
    /// How many units a µs takes.
    pub scale: f64,
    /// The top of the first row.
    pub top: f64,
    /// Each row's height.
    pub row: f64,
}

const WIDTH: f64 = 1000.0;
const LABEL: f64 = 310.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 56.0;
const ROW: f64 = 24.0;
const BAR: f64 = 14.0;
const LEGEND: f64 = 40.0;

impl Layout {
    /// The layout of `timeline`'s picture.
    pub fn of(timeline: &Timeline) -> Self {
        let span = timeline.total_us.max(1) as f64;
        let rows = timeline.actions.len().max(1) as f64;
        Self {
            width: WIDTH,
            height: TOP + rows * ROW + LEGEND,
            left: LABEL,
            scale: (WIDTH - LABEL - RIGHT) / span,
            top: TOP,
            row: ROW,
        }
    }

    /// The x of a time (µs since the start).
    pub fn x(&self, us: u64) -> f64 {
        self.left + us as f64 * self.scale
    }

    /// The y of row `i`'s middle.
    pub fn middle(&self, i: usize) -> f64 {
        self.top + i as f64 * self.row + self.row / 2.0
    }
}

/// `1, 2, 5 × 10^k` ms, so that about six ticks cover `total_us`.
fn tick_ms(total_us: u64) -> u64 {
    let target = (total_us / 1000 / 6).max(1);
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= target {
                return step * m;
            }
        }
        step *= 10;
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(super) fn render(t: &Timeline) -> String {
    let l = Layout::of(t);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">"#,
        w = l.width,
        h = l.height
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let title = format!("{}: last start, {} to the last action up", t.service, format_ms(t.total_us));
    let _ = writeln!(out, r#"<text x="10" y="20" font-size="15" font-weight="bold">{}</text>"#, escape(&title));
    // The axis: a grid line and a label at each tick.
    let step = tick_ms(t.total_us);
    let bottom = l.top + t.actions.len() as f64 * l.row;
    let mut ms = 0;
    while ms * 1000 <= t.total_us.max(1) {
        let x = l.x(ms * 1000);
        let _ =
            writeln!(out, r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom}" stroke="#e6e6e6"/>"##, l.top - 6.0);
        let _ = writeln!(
            out,
            r##"<text x="{x:.1}" y="{}" text-anchor="middle" fill="#555">{}</text>"##,
            l.top - 10.0,
            format_ms(ms * 1000)
        );
        ms += step;
    }
    for (i, s) in t.actions.iter().enumerate() {
        let (mid, bar_top) = (l.middle(i), l.middle(i) - BAR / 2.0);
        let colour = if s.critical { CRITICAL } else { "#222" };
        let weight = if s.critical { "bold" } else { "normal" };
        let _ = writeln!(
            out,
            r#"<text x="10" y="{:.1}" fill="{colour}" font-weight="{weight}">{}</text>"#,
            mid + 4.0,
            escape(&s.action)
        );
        let stroke = if s.critical { format!(r#" stroke="{CRITICAL}" stroke-width="2""#) } else { String::new() };
        let mut bar = |from: u64, to: u64, fill: &str, what: &str| {
            let (x, w) = (l.x(from), ((to.saturating_sub(from)) as f64 * l.scale).max(1.0));
            let _ = writeln!(
                out,
                r#"<rect x="{x:.1}" y="{bar_top:.1}" width="{w:.1}" height="{BAR}" fill="{fill}"{stroke}><title>{} {what}: {}</title></rect>"#,
                escape(&s.action),
                format_ms(to.saturating_sub(from))
            );
        };
        let end = s.spawned_us.unwrap_or(t.total_us);
        bar(s.waiting_us, end, WAITING, "waiting");
        if let (Some(a), Some(b)) = (s.spawned_us, s.ready_us) {
            bar(a, b, STARTING, "spawn → ready");
        }
        if let (Some(a), Some(b)) = (s.ready_us, s.healthy_us) {
            bar(a, b, HEALTHY, "ready → healthy");
        }
        if let Some(ended) = s.ended.as_ref().filter(|_| s.up_us().is_none()) {
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" fill="{CRITICAL}">{}</text>"#,
                l.x(end) + 4.0,
                mid + 4.0,
                escape(&crate::text::cut_line(ended))
            );
        }
    }
    let y = bottom + 24.0;
    let mut x = 10.0;
    for (fill, what) in [(WAITING, "waiting for gates"), (STARTING, "spawned → ready"), (HEALTHY, "ready → healthy")]
    {
        let _ = writeln!(out, r#"<rect x="{x}" y="{}" width="14" height="10" fill="{fill}"/>"#, y - 9.0);
        let _ = writeln!(out, r#"<text x="{}" y="{y}">{what}</text>"#, x + 20.0);
        x += 170.0;
    }
    let _ = writeln!(
        out,
        r#"<rect x="{x}" y="{}" width="14" height="10" fill="white" stroke="{CRITICAL}" stroke-width="2"/>"#,
        y - 9.0
    );
    let _ = writeln!(out, r#"<text x="{}" y="{y}">critical chain</text>"#, x + 20.0);
    out.push_str("</svg>\n");
    out
}
