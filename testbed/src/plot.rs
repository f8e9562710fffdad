//! The demo's timeline as an SVG picture (`testbed demo --svg PATH`): leases
//! granted per second by each server (one line per server), each server's
//! failover state as coloured bands under it, and vertical lines marking
//! events (the primary's SIGKILL and restart).
//!
//! Drawn with `plotters`' SVG backend only: the text goes into the file as
//! `<text>` elements, to be laid out by whatever shows the picture, so no
//! font is read while drawing.

use std::time::Duration;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::demo::{DemoResult, FailoverDemoResult};

/// Picture width in pixels.
const WIDTH: u32 = 1000;
/// Picture height in pixels (with state bands; without, two thirds of it).
const HEIGHT: u32 = 620;
/// Width of the legends' strip on the right.
const LEGEND_WIDTH: u32 = 230;

/// What a timeline picture shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// The picture's title.
    pub title: String,
    /// One track per server, drawn top to bottom in this order.
    pub servers: Vec<ServerTrack>,
    /// Events marked with vertical lines.
    pub marks: Vec<Mark>,
}

/// One server's part of a [`Timeline`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerTrack {
    /// Its name in the legend and on the band's axis.
    pub name: String,
    /// Leases it granted in each second (index = second).
    pub leases: Vec<usize>,
    /// Its failover state from each time on (seconds, state), in time
    /// order; empty for a server without failover (no band is drawn).
    pub states: Vec<(f64, String)>,
}

/// An event on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// When, in seconds from the start.
    pub at: f64,
    /// Its label, written next to the line.
    pub label: String,
}

/// Why a picture could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the timeline: {0}")]
pub struct PlotError(String);

impl PlotError {
    fn from_drawing<E: std::error::Error + Send + Sync>(
        e: plotters::drawing::DrawingAreaErrorKind<E>,
    ) -> Self {
        Self(e.to_string())
    }
}

impl Timeline {
    /// The failover demo's timeline: one track per server (primary first)
    /// with its leases per second and sampled states, and the kill and the
    /// restart marked.
    pub fn from_failover(result: &FailoverDemoResult) -> Self {
        let rows = result.report.timeline(Duration::from_secs(1));
        let (a1, a2) = result.addresses;
        let leases = |a| {
            rows.iter()
                .map(|r| r.get(&a).copied().unwrap_or(0))
                .collect::<Vec<_>>()
        };
        let states = |primary: bool| {
            result
                .states
                .iter()
                .map(|s| {
                    let st = if primary { &s.primary } else { &s.secondary };
                    (s.at.as_secs_f64(), st.clone())
                })
                .collect::<Vec<_>>()
        };
        Self {
            title: format!(
                "testbed demo: failover pair ({}), {} simulated PXE clients, primary SIGKILLed mid-storm",
                result.server,
                result.report.clients.len()
            ),
            servers: vec![
                ServerTrack {
                    name: format!("primary {a1}"),
                    leases: leases(a1),
                    states: states(true),
                },
                ServerTrack {
                    name: format!("secondary {a2}"),
                    leases: leases(a2),
                    states: states(false),
                },
            ],
            marks: vec![
                Mark {
                    at: result.killed_at.as_secs_f64(),
                    label: "primary SIGKILLed".to_owned(),
                },
                Mark {
                    at: result.restarted_at.as_secs_f64(),
                    label: "primary restarted".to_owned(),
                },
            ],
        }
    }

    /// The single-server demo's timeline: leases per second of each server
    /// that granted any; no states, no marks.
    pub fn from_single(result: &DemoResult) -> Self {
        let rows = result.report.timeline(Duration::from_secs(1));
        let servers: std::collections::BTreeSet<_> =
            rows.iter().flat_map(|r| r.keys().copied()).collect();
        Self {
            title: format!(
                "testbed demo: {} simulated PXE clients against {}",
                result.report.clients.len(),
                result.server
            ),
            servers: servers
                .into_iter()
                .map(|a| ServerTrack {
                    name: format!("{} {a}", result.server),
                    leases: rows
                        .iter()
                        .map(|r| r.get(&a).copied().unwrap_or(0))
                        .collect(),
                    states: Vec::new(),
                })
                .collect(),
            marks: Vec::new(),
        }
    }

    /// Seconds the picture spans: every lease bucket, state sample and mark,
    /// rounded up to a whole second (at least one).
    pub fn span(&self) -> f64 {
        let leases = self.servers.iter().map(|s| s.leases.len() as f64);
        let states = self
            .servers
            .iter()
            .filter_map(|s| s.states.last().map(|(t, _)| *t));
        let marks = self.marks.iter().map(|m| m.at);
        leases
            .chain(states)
            .chain(marks)
            .fold(1.0_f64, f64::max)
            .ceil()
    }

    /// The picture as an SVG document.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        let bands = self.servers.iter().any(|s| !s.states.is_empty());
        let height = if bands { HEIGHT } else { HEIGHT * 2 / 3 };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            root.fill(&WHITE).map_err(PlotError::from_drawing)?;
            let root = root
                .titled(&self.title, ("sans-serif", 18))
                .map_err(PlotError::from_drawing)?;
            let (main, strip) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
            if bands {
                let (top, bottom) = main.split_vertically(height * 56 / 100);
                let (top_strip, bottom_strip) = strip.split_vertically(height * 56 / 100);
                let lines = self.draw_leases(&top)?;
                draw_legend(&top_strip, "leases per second", &lines)?;
                let swatches = self.draw_states(&bottom)?;
                draw_legend(&bottom_strip, "failover state", &swatches)?;
            } else {
                let lines = self.draw_leases(&main)?;
                draw_legend(&strip, "leases per second", &lines)?;
            }
            root.present().map_err(PlotError::from_drawing)?;
        }
        Ok(svg)
    }

    /// The leases-per-second chart, with the marks and their labels;
    /// returns its legend.
    fn draw_leases(
        &self,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<Vec<LegendEntry>, PlotError> {
        let span = self.span();
        let mut legend = Vec::new();
        let top = self
            .servers
            .iter()
            .flat_map(|s| s.leases.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1) as f64
            * 1.15;
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..span, 0.0..top)
            .map_err(PlotError::from_drawing)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the first client started")
            .y_desc("leases granted per second")
            .x_label_formatter(&seconds_label(span))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(PlotError::from_drawing)?;
        for (i, server) in self.servers.iter().enumerate() {
            let colour = server_colour(i);
            // Bucket k holds the leases of [k, k+1): drawn at its middle.
            let points = server
                .leases
                .iter()
                .enumerate()
                .map(|(k, n)| (k as f64 + 0.5, *n as f64));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)).point_size(3))
                .map_err(PlotError::from_drawing)?;
            legend.push(LegendEntry::Line(server.name.clone(), colour));
        }
        for mark in &self.marks {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(mark.at, 0.0), (mark.at, top)],
                    BLACK.stroke_width(1),
                )))
                .map_err(PlotError::from_drawing)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(" {}", mark.label),
                    (mark.at, top * 0.97),
                    ("sans-serif", 14).into_font().color(&BLACK),
                )))
                .map_err(PlotError::from_drawing)?;
        }
        Ok(legend)
    }

    /// One band per server coloured by its failover state, and the marks;
    /// returns the legend of the states shown.
    fn draw_states(
        &self,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<Vec<LegendEntry>, PlotError> {
        let span = self.span();
        let mut legend = Vec::new();
        let n = self.servers.len();
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(150)
            .caption("failover state", ("sans-serif", 15))
            .build_cartesian_2d(0.0..span, 0.0..n.max(1) as f64)
            .map_err(PlotError::from_drawing)?;
        // The server names take the place of the y axis's labels (drawn
        // below, at the middle of each band).
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("seconds since the first client started")
            .x_label_formatter(&seconds_label(span))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(PlotError::from_drawing)?;
        // Track i is drawn in row n-1-i, so the first is on top.
        let row_of = |i: usize| (n - 1 - i) as f64;
        // (state, [(row, from, to)]) in order of first appearance.
        let mut by_state: Vec<(String, Vec<Span>)> = Vec::new();
        for (i, server) in self.servers.iter().enumerate() {
            for (from, to, state) in bands(&server.states, span) {
                let at = match by_state.iter().position(|(s, _)| *s == state) {
                    Some(at) => at,
                    None => {
                        by_state.push((state, Vec::new()));
                        by_state.len() - 1
                    }
                };
                by_state[at].1.push((row_of(i), from, to));
            }
        }
        for (k, (state, rects)) in by_state.iter().enumerate() {
            let colour = state_colour(state, k);
            chart
                .draw_series(rects.iter().map(|(row, from, to)| {
                    Rectangle::new([(*from, row + 0.06), (*to, row + 0.94)], colour.filled())
                }))
                .map_err(PlotError::from_drawing)?;
            legend.push(LegendEntry::Swatch(state.clone(), colour));
        }
        for mark in &self.marks {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(mark.at, 0.0), (mark.at, n as f64)],
                    BLACK.stroke_width(1),
                )))
                .map_err(PlotError::from_drawing)?;
        }
        let (base_x, base_y) = area.get_base_pixel();
        let font = ("sans-serif", 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, server) in self.servers.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(0.0, row_of(i) + 0.5));
            let at = (x - base_x - 8, y - base_y);
            area.draw(&Text::new(server.name.clone(), at, font.clone()))
                .map_err(PlotError::from_drawing)?;
        }
        Ok(legend)
    }
}

/// One line of a legend.
enum LegendEntry {
    /// A series drawn as a line of this colour.
    Line(String, RGBColor),
    /// Bands filled with this colour.
    Swatch(String, RGBColor),
}

/// A legend in its own area (pixel coordinates): a heading, then one entry
/// a line.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    heading: &str,
    entries: &[LegendEntry],
) -> Result<(), PlotError> {
    let font = ("sans-serif", 14).into_font().color(&BLACK);
    area.draw(&Text::new(heading.to_owned(), (8, 24), font.clone()))
        .map_err(PlotError::from_drawing)?;
    for (k, entry) in entries.iter().enumerate() {
        let y = 50 + 22 * k as i32;
        let label = match entry {
            LegendEntry::Line(label, colour) => {
                area.draw(&PathElement::new(
                    vec![(10, y), (34, y)],
                    colour.stroke_width(2),
                ))
                .map_err(PlotError::from_drawing)?;
                area.draw(&Circle::new((22, y), 3, colour.stroke_width(1)))
                    .map_err(PlotError::from_drawing)?;
                label
            }
            LegendEntry::Swatch(label, colour) => {
                area.draw(&Rectangle::new([(10, y - 7), (34, y + 7)], colour.filled()))
                    .map_err(PlotError::from_drawing)?;
                label
            }
        };
        area.draw(&Text::new(label.clone(), (42, y - 8), font.clone()))
            .map_err(PlotError::from_drawing)?;
    }
    Ok(())
}

/// The x axis's label format: whole seconds, or tenths on a short span
/// (where whole seconds would repeat).
fn seconds_label(span: f64) -> impl Fn(&f64) -> String {
    let decimals = if span < 5.0 { 1 } else { 0 };
    move |x| format!("{x:.decimals$}")
}

/// A band's row and its start and end, seconds.
type Span = (f64, f64, f64);

/// State samples as bands: (from, to, state), consecutive equal states
/// merged, the last band running to `end`.
fn bands(states: &[(f64, String)], end: f64) -> Vec<(f64, f64, String)> {
    let mut out: Vec<(f64, f64, String)> = Vec::new();
    for (k, (at, state)) in states.iter().enumerate() {
        let to = states.get(k + 1).map_or(end, |(t, _)| *t).max(*at);
        match out.last_mut() {
            Some(last) if last.2 == *state => last.1 = to,
            _ => out.push((*at, to, state.clone())),
        }
    }
    out
}

/// The line colour of the `i`-th server.
fn server_colour(i: usize) -> RGBColor {
    const COLOURS: [RGBColor; 4] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
    ];
    COLOURS[i % COLOURS.len()]
}

/// The band colour of a failover state (RFC 8156's names, as our daemon and
/// ISC dhcpd log them; `down` while the process is killed); states without
/// a colour of their own take one from a palette by `k`.
fn state_colour(state: &str, k: usize) -> RGBColor {
    match state.to_ascii_lowercase().replace(['_', ' '], "-").as_str() {
        "normal" => RGBColor(44, 160, 44),
        "communications-interrupted" => RGBColor(255, 165, 0),
        "partner-down" => RGBColor(214, 39, 40),
        "recover" => RGBColor(31, 119, 180),
        "recover-wait" => RGBColor(107, 174, 214),
        "recover-done" => RGBColor(158, 202, 225),
        "potential-conflict" => RGBColor(148, 103, 189),
        "resolution-interrupted" => RGBColor(197, 176, 213),
        "conflict-done" => RGBColor(140, 86, 75),
        "paused" | "shutdown" => RGBColor(188, 189, 34),
        "startup" | "-" => RGBColor(199, 199, 199),
        "down" => RGBColor(64, 64, 64),
        _ => {
            let c = Palette99::pick(k + 20).to_rgba();
            RGBColor(c.0, c.1, c.2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic() -> Timeline {
        let st = |v: &[(f64, &str)]| v.iter().map(|(t, s)| (*t, (*s).to_owned())).collect();
        Timeline {
            title: "synthetic takeover".to_owned(),
            servers: vec![
                ServerTrack {
                    name: "primary 10.99.0.1".to_owned(),
                    leases: vec![10, 12, 11, 0, 0, 0, 4, 9],
                    states: st(&[
                        (0.0, "normal"),
                        (2.5, "normal"),
                        (3.0, "down"),
                        (5.5, "recover"),
                        (6.5, "normal"),
                    ]),
                },
                ServerTrack {
                    name: "secondary 10.99.0.2".to_owned(),
                    leases: vec![9, 11, 10, 6, 5, 5, 4, 8],
                    states: st(&[
                        (0.0, "normal"),
                        (3.5, "communications-interrupted"),
                        (5.5, "normal"),
                    ]),
                },
            ],
            marks: vec![
                Mark {
                    at: 3.0,
                    label: "primary SIGKILLed".to_owned(),
                },
                Mark {
                    at: 5.5,
                    label: "primary restarted".to_owned(),
                },
            ],
        }
    }

    #[test]
    fn short_spans_get_tenths_of_seconds() {
        assert_eq!(seconds_label(1.0)(&0.5), "0.5");
        assert_eq!(seconds_label(15.0)(&4.0), "4");
    }

    #[test]
    fn bands_merge_equal_states_and_run_to_the_end() {
        let s = synthetic();
        let b = bands(&s.servers[0].states, 8.0);
        let names: Vec<&str> = b.iter().map(|(_, _, s)| s.as_str()).collect();
        assert_eq!(names, ["normal", "down", "recover", "normal"]);
        assert_eq!((b[0].0, b[0].1), (0.0, 3.0));
        assert_eq!(b[3].1, 8.0);
        assert_eq!(s.span(), 8.0);
    }

    #[test]
    fn svg_has_lines_bands_marks_axes_and_legend() {
        let svg = synthetic().to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        for text in [
            "synthetic takeover",
            "leases granted per second",
            "seconds since the first client started",
            "failover state",
            "primary 10.99.0.1",
            "secondary 10.99.0.2",
            "leases per second",
            "primary SIGKILLed",
            "primary restarted",
            "communications-interrupted",
            "recover",
            "down",
        ] {
            assert!(svg.contains(text), "no {text:?} in the SVG");
        }
        // Two lease lines (plus the legend's samples and the mark lines).
        assert!(svg.matches("<polyline").count() >= 2);
        // Normal bands: two per server, plus the legend's swatch.
        let normal = "fill=\"#2CA02C\"";
        assert_eq!(svg.matches(normal).count(), 5, "normal bands");
        assert!(svg.contains("fill=\"#404040\""), "the down band");
    }

    #[test]
    fn one_server_with_states_gets_one_band_row() {
        let mut t = synthetic();
        t.servers.truncate(1);
        let svg = t.to_svg().unwrap();
        assert!(svg.contains("primary 10.99.0.1"));
        assert!(!svg.contains("secondary"));
        assert_eq!(svg.matches("fill=\"#2CA02C\"").count(), 3, "normal bands");
        assert!(svg.contains("fill=\"#404040\""), "the down band");
    }

    #[test]
    fn without_states_there_is_no_band_chart() {
        let mut t = synthetic();
        for s in &mut t.servers {
            s.states.clear();
        }
        t.marks.clear();
        let svg = t.to_svg().unwrap();
        assert!(svg.contains("leases granted per second"));
        assert!(!svg.contains("failover state"));
        assert!(svg.contains(&format!("height=\"{}\"", HEIGHT * 2 / 3)));
    }
}
