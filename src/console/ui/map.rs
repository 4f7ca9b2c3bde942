//! The overview's map: items with GPS positions (one dot per counted cell) in Braille over
//! the borders, with city names and the cursor's cell.

use super::text::{line, paragraph, section_block, styled, thousands};
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::widgets::canvas::{Canvas, Context, Line, Points, Rectangle};
use ratatui::Frame;

use super::outline::{CITIES, LEBANON, SYRIA};
use crate::console::overview::{items_near, near_km};
use crate::console::state::OverviewState;
use crate::console::theme::Theme;
use crate::text::width;

pub fn render(o: &OverviewState, theme: &Theme, f: &mut Frame, area: Rect) {
    let focused = o.on_map;
    let title = format!(" map · {} with GPS ", thousands(o.data.located));
    let block = section_block(title, focused, theme);
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
    let cells = Cells {
        x,
        y,
        cols: i64::from(canvas_area.width),
        rows: i64::from(canvas_area.height),
    };
    let with_items: Vec<(i64, i64)> = places
        .iter()
        .map(|(lon, lat)| cells.cell(*lon, *lat))
        .collect();
    let labels = if cells.cols >= 2 && cells.rows >= 2 {
        city_labels(&cells, &with_items)
    } else {
        vec![]
    };
    // Brackets either side of the cursor's cell, on top of everything else.
    let (cur_col, cur_row) = cells.cell(o.map_lon, o.map_lat);
    let brackets: Vec<(&str, f64, f64)> = [("[", cur_col - 1), ("]", cur_col + 1)]
        .into_iter()
        .filter(|(_, c)| focused && (0..cells.cols).contains(c))
        .map(|(t, c)| {
            let (lon, lat) = cells.at(c, cur_row);
            (t, lon, lat)
        })
        .collect();
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
                ctx.print(*lon, *lat, styled(name.clone(), theme.dim()));
            }
            // Incidents with a position: a diamond over the items' dots.
            for (lat, lon) in &o.data.incident_places {
                ctx.print(*lon, *lat, styled("◆", theme.heading()));
            }
            for (text, lon, lat) in &brackets {
                ctx.print(*lon, *lat, styled(*text, theme.heading()));
            }
        });
    f.render_widget(canvas, canvas_area);
    let text = if focused {
        format!(
            "{:.2}{} {:.2}{}: {} within {} km",
            o.map_lat.abs(),
            if o.map_lat < 0.0 { "S" } else { "N" },
            o.map_lon.abs(),
            if o.map_lon < 0.0 { "W" } else { "E" },
            thousands(items_near(o)),
            near_km(o.map_step),
        )
    } else {
        "Tab here, then arrows or h/j/k/l".to_string()
    };
    f.render_widget(
        paragraph(line(
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

/// The canvas's character cells: from coordinates to a cell and back.
struct Cells {
    x: [f64; 2],
    y: [f64; 2],
    cols: i64,
    rows: i64,
}

impl Cells {
    /// Column and row, as the canvas places text.
    fn cell(&self, lon: f64, lat: f64) -> (i64, i64) {
        let col = (lon - self.x[0]) * (self.cols - 1) as f64 / (self.x[1] - self.x[0]);
        let row = (self.y[1] - lat) * (self.rows - 1) as f64 / (self.y[1] - self.y[0]);
        (col as i64, row as i64)
    }

    /// Coordinates that land in this cell (the canvas truncates to a cell).
    fn at(&self, col: i64, row: i64) -> (f64, f64) {
        let lon = self.x[0] + (col as f64 + 0.5) * (self.x[1] - self.x[0]) / (self.cols - 1) as f64;
        let lat = self.y[1] - (row as f64 + 0.5) * (self.y[1] - self.y[0]) / (self.rows - 1) as f64;
        (lon.min(self.x[1]), lat.max(self.y[0]))
    }
}

/// City names, each right (or else left) of its city where it neither covers a cell with
/// items nor overlaps an earlier (more important) name; a name with no such place is left
/// out. As (text, lon, lat) of where the text starts.
fn city_labels(cells: &Cells, busy: &[(i64, i64)]) -> Vec<(String, f64, f64)> {
    let mut taken: Vec<(i64, i64, i64)> = Vec::new();
    let mut out = Vec::new();
    for (name, lat, lon) in CITIES {
        if !(cells.x[0]..=cells.x[1]).contains(lon) || !(cells.y[0]..=cells.y[1]).contains(lat) {
            continue;
        }
        let len = width::width(name) as i64;
        let (col, row) = cells.cell(*lon, *lat);
        let free = |start: i64| {
            start >= 0
                && start + len <= cells.cols
                && !taken
                    .iter()
                    .any(|(r, a, b)| *r == row && start <= *b + 1 && start + len >= *a - 1)
                && !busy
                    .iter()
                    .any(|(c, r)| *r == row && (start..start + len).contains(c))
        };
        let Some(start) = [col + 1, col - len].into_iter().find(|s| free(*s)) else {
            continue;
        };
        taken.push((row, start, start + len - 1));
        let (lon_at, lat_at) = cells.at(start, row);
        out.push((name.to_string(), lon_at, lat_at));
    }
    out
}
