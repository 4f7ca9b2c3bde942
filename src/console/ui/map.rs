//! The overview's map: items with GPS positions (one dot per counted cell) in Braille over
//! the borders, with city names and the cursor's cell.

use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::text::{Line as TextLine, Span};
use ratatui::widgets::canvas::{Canvas, Context, Line, Points, Rectangle};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::outline::{CITIES, LEBANON, SYRIA};
use crate::console::overview::{items_near, near_km};
use crate::console::state::OverviewState;
use crate::console::theme::Theme;
use crate::text::width;

pub fn render(o: &OverviewState, theme: &Theme, f: &mut Frame, area: Rect) {
    let focused = o.on_map;
    let title = format!(
        " map · {} items with GPS in {} cells ",
        o.data.located,
        o.data.places.len()
    );
    let block = Block::bordered().title(Span::styled(
        title,
        if focused {
            theme.heading()
        } else {
            theme.title()
        },
    ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 3 || inner.width < 10 {
        return;
    }
    let canvas_area = Rect::new(inner.x, inner.y, inner.width, inner.height - 1);
    let info = Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1);
    let (x, y) = fitted_bounds(o.map_bounds, canvas_area);
    let border = color(theme.label().fg);
    let dots = color(theme.heading().fg);
    let places: Vec<(f64, f64)> = o.data.places.iter().map(|p| (p.lon, p.lat)).collect();
    // Busy cells get a small square, so that a place with hundreds of items stands out from
    // one with a single photo.
    let busiest = o.data.places.iter().map(|p| p.items).max().unwrap_or(0);
    let busy: Vec<(f64, f64)> = o
        .data
        .places
        .iter()
        .filter(|p| busiest > 1 && p.items * 4 >= busiest)
        .map(|p| (p.lon, p.lat))
        .collect();
    let dot = (x[1] - x[0]) / f64::from(canvas_area.width.max(1) * 2);
    let labels = city_labels(x, y, canvas_area);
    let canvas = Canvas::default()
        .marker(Marker::Braille)
        .x_bounds(x)
        .y_bounds(y)
        .paint(|ctx| {
            polyline(ctx, SYRIA, border);
            polyline(ctx, LEBANON, border);
            ctx.layer();
            ctx.draw(&Points::new(&places, dots));
            for (lon, lat) in &busy {
                ctx.draw(&Rectangle {
                    x: lon - dot,
                    y: lat - dot,
                    width: dot * 2.0,
                    height: dot * 2.0,
                    color: dots,
                });
            }
            if focused {
                let half = o.map_step / 2.0;
                ctx.draw(&Rectangle {
                    x: o.map_lon - half,
                    y: o.map_lat - half,
                    width: o.map_step,
                    height: o.map_step,
                    color: Color::Reset,
                });
            }
            for (name, lon, lat) in &labels {
                ctx.print(*lon, *lat, Span::styled(name.clone(), theme.dim()));
            }
        });
    f.render_widget(canvas, canvas_area);
    let text = if focused {
        format!(
            "{:.2}{} {:.2}{}: {} items within {} km · Enter filters",
            o.map_lat.abs(),
            if o.map_lat < 0.0 { "S" } else { "N" },
            o.map_lon.abs(),
            if o.map_lon < 0.0 { "W" } else { "E" },
            items_near(o),
            near_km(o.map_step),
        )
    } else {
        "Tab here: arrows or h/j/k/l move, Enter filters".to_string()
    };
    f.render_widget(
        Paragraph::new(TextLine::styled(
            width::truncate(&text, info.width as usize),
            theme.dim(),
        )),
        info,
    );
}

fn color(c: Option<Color>) -> Color {
    c.unwrap_or(Color::Reset)
}

fn polyline(ctx: &mut Context, points: &[(f64, f64)], color: Color) {
    for w in points.windows(2) {
        ctx.draw(&Line {
            x1: w[0].0,
            y1: w[0].1,
            x2: w[1].0,
            y2: w[1].1,
            color,
        });
    }
}

/// The bounds widened so that a degree east and a degree north keep their true proportion
/// (a degree of longitude shrinks with the cosine of the latitude; Braille dots are about
/// square). Returns ([west, east], [south, north]).
fn fitted_bounds(b: (f64, f64, f64, f64), area: Rect) -> ([f64; 2], [f64; 2]) {
    let (s, w, n, e) = b;
    let dots_x = f64::from(area.width.max(1)) * 2.0;
    let dots_y = f64::from(area.height.max(1)) * 4.0;
    let shrink = ((s + n) / 2.0).to_radians().cos().max(0.1);
    let (lon_span, lat_span) = ((e - w).max(1e-6), (n - s).max(1e-6));
    let per_dot_x = lon_span * shrink / dots_x;
    let per_dot_y = lat_span / dots_y;
    if per_dot_x > per_dot_y {
        let want = per_dot_x * dots_y;
        let mid = (s + n) / 2.0;
        ([w, e], [mid - want / 2.0, mid + want / 2.0])
    } else {
        let want = per_dot_y * dots_x / shrink;
        let mid = (w + e) / 2.0;
        ([mid - want / 2.0, mid + want / 2.0], [s, n])
    }
}

/// City names that fit without overlapping an earlier (more important) one, each as
/// (text, lon, lat) of where it starts: the cell right of the city, so that the city's own
/// cell still shows the items there.
fn city_labels(x: [f64; 2], y: [f64; 2], area: Rect) -> Vec<(String, f64, f64)> {
    let (cols, rows) = (f64::from(area.width), f64::from(area.height));
    if cols < 2.0 || rows < 2.0 {
        return vec![];
    }
    let mut taken: Vec<(i64, i64, i64)> = Vec::new();
    let mut out = Vec::new();
    for (name, lat, lon) in CITIES {
        if !(x[0]..=x[1]).contains(lon) || !(y[0]..=y[1]).contains(lat) {
            continue;
        }
        let text = name.to_string();
        let len = width::width(&text) as i64;
        let mut col = ((lon - x[0]) * (cols - 1.0) / (x[1] - x[0])) as i64 + 1;
        let row = ((y[1] - lat) * (rows - 1.0) / (y[1] - y[0])) as i64;
        col = col.min(cols as i64 - len).max(0);
        let clash = taken
            .iter()
            .any(|(r, a, b)| *r == row && col <= *b + 1 && col + len >= *a - 1);
        if clash {
            continue;
        }
        taken.push((row, col, col + len - 1));
        // Back from the cell to coordinates inside it (the canvas truncates to a cell).
        let lon_at = x[0] + (col as f64 + 0.5) * (x[1] - x[0]) / (cols - 1.0);
        let lat_at = y[1] - (row as f64 + 0.5) * (y[1] - y[0]) / (rows - 1.0);
        out.push((text, lon_at.min(x[1]), lat_at.max(y[0])));
    }
    out
}
