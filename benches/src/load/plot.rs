//! The ladder's curves as an SVG picture (`loadbench --svg PATH`): DORA/s
//! achieved and the share of exchanges dropped against the offered rate
//! (`perfdhcp -r`), one series per server: the median of the repeats at
//! each rate, with min–max whiskers.
//!
//! Drawn with `plotters`' SVG backend only: text goes into the file as
//! `<text>` elements, so no font is read while drawing.

use std::time::Duration;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::load::error::{Error, Result};
use crate::load::ladder::Run;
use crate::load::perfdhcp::{Exchange, PerfReport};
use crate::load::servers::Subject;

/// Picture size in pixels.
const SIZE: (u32, u32) = (1000, 820);
/// Width of the legends' strip on the right.
const LEGEND_WIDTH: u32 = 190;
/// The dashed guides' colour.
const GUIDE: RGBColor = RGBColor(150, 150, 150);

/// The median, least and greatest of the repeats at one offered rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// `perfdhcp -r`.
    pub offered: f64,
    /// Median of the repeats (mean of the middle two for an even count).
    pub median: f64,
    /// The least repeat.
    pub min: f64,
    /// The greatest repeat.
    pub max: f64,
}

/// One server's curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    /// The server.
    pub subject: Subject,
    /// Completed DORA exchanges per second, by offered rate.
    pub dora: Vec<Point>,
    /// Exchanges dropped, in percent, by offered rate.
    pub drop_percent: Vec<Point>,
}

/// The curves of every server in `subjects` that has runs, in that order,
/// each rising by offered rate.
pub fn curves(runs: &[Run], subjects: &[Subject]) -> Vec<Curves> {
    subjects
        .iter()
        .filter_map(|&subject| {
            let mine: Vec<&Run> = runs.iter().filter(|r| r.subject == subject).collect();
            let mut rates: Vec<u32> = mine.iter().map(|r| r.rate).collect();
            rates.sort_unstable();
            rates.dedup();
            if rates.is_empty() {
                return None;
            }
            let at = |rate: u32, f: &dyn Fn(&Run) -> f64| {
                let values: Vec<f64> = mine
                    .iter()
                    .filter(|r| r.rate == rate)
                    .map(|r| f(r))
                    .collect();
                summary(f64::from(rate), values)
            };
            Some(Curves {
                subject,
                dora: rates.iter().map(|&r| at(r, &|x| x.report.rate)).collect(),
                drop_percent: rates
                    .iter()
                    .map(|&r| at(r, &|x| x.report.drop_ratio() * 100.0))
                    .collect(),
            })
        })
        .collect()
}

/// Median, min and max of `values` (not empty) at `offered`.
fn summary(offered: f64, mut values: Vec<f64>) -> Point {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    };
    Point {
        offered,
        median,
        min: values.first().copied().unwrap_or(f64::NAN),
        max: values.last().copied().unwrap_or(f64::NAN),
    }
}

/// The runs of a report that `loadbench --out` wrote (its "Every run"
/// table, as also kept in docs/benchmarks.md's run history), to draw them
/// again (`loadbench --replot FILE --svg PATH`). Lines that are not rows of
/// that table are skipped; a row that names a server but does not parse is
/// an error.
pub fn runs_from_markdown(text: &str) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        // "| a | ... | i |" splits into 11 cells, the outer two empty (12
        // with the kernel receive drops column of newer reports).
        if cells.len() != 11 && cells.len() != 12 {
            continue;
        }
        let Some(subject) = Subject::from_name(cells[1]) else {
            continue;
        };
        let bad = || Error::Parse(format!("line {}: {line:?}", n + 1));
        let number = |cell: &str, unit: &str| -> Result<f64> {
            cell.strip_suffix(unit)
                .unwrap_or(cell)
                .trim()
                .parse::<f64>()
                .map_err(|_| bad())
        };
        let pair = |cell: &str| -> Result<(u64, u64)> {
            let (a, b) = cell.split_once('/').ok_or_else(bad)?;
            Ok((
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ))
        };
        let (dsent, offers) = pair(cells[5])?;
        let (rsent, acks) = pair(cells[6])?;
        let exchange = |sent: u64, received: u64, avg_delay_ms: f64| Exchange {
            sent,
            received,
            drops: sent.saturating_sub(received),
            avg_delay_ms,
        };
        runs.push(Run {
            subject,
            rate: cells[2].parse().map_err(|_| bad())?,
            report: PerfReport {
                rate: number(cells[3], "")?,
                discover: exchange(dsent, offers, 0.0),
                request: exchange(rsent, acks, number(cells[7], "ms")?),
            },
            cpu: Duration::from_secs_f64(number(cells[8], "s")?.max(0.0)),
            kernel_drops: (cells.len() == 12)
                .then(|| cells[10].parse().ok())
                .flatten(),
        });
    }
    Ok(runs)
}

/// The line colour of a server (the same in every picture).
fn colour(subject: Subject) -> RGBColor {
    match subject {
        Subject::Ceiling => RGBColor(40, 40, 40),
        Subject::Ours => RGBColor(31, 119, 180),
        Subject::Isc => RGBColor(214, 39, 40),
        Subject::Kea => RGBColor(255, 127, 14),
        Subject::KeaMt => RGBColor(44, 160, 44),
    }
}

fn plot_error<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> Error {
    Error::Plot(e.to_string())
}

/// The picture: DORA/s against offered rate on top (with the line where
/// all that is offered completes), drop % below (with the clean-run limit
/// `max_drop`, a share), under `title`.
pub fn to_svg(curves: &[Curves], title: &str, max_drop: f64) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root.titled(title, ("sans-serif", 18)).map_err(plot_error)?;
        let (main, strip) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let (top, bottom) = main.split_vertically(SIZE.1 * 55 / 100);
        let (top_strip, bottom_strip) = strip.split_vertically(SIZE.1 * 55 / 100);
        let offered_max = curves
            .iter()
            .flat_map(|c| c.dora.iter().map(|p| p.offered))
            .fold(1.0_f64, f64::max)
            * 1.05;
        let dora_max = curves
            .iter()
            .flat_map(|c| c.dora.iter().map(|p| p.max))
            .fold(offered_max, f64::max)
            * 1.05;
        let drop_max = curves
            .iter()
            .flat_map(|c| c.drop_percent.iter().map(|p| p.max))
            .fold(max_drop * 100.0 * 2.0, f64::max)
            .min(100.0)
            * 1.05;
        draw_panel(
            &top,
            curves,
            Panel {
                caption: "completed exchanges",
                y_desc: "DORA/s achieved",
                x_max: offered_max,
                y_max: dora_max,
                pick: |c| &c.dora,
                reference: ReferenceLine::Diagonal,
            },
        )?;
        draw_panel(
            &bottom,
            curves,
            Panel {
                caption: "dropped exchanges",
                y_desc: "exchanges dropped, %",
                x_max: offered_max,
                y_max: drop_max,
                pick: |c| &c.drop_percent,
                reference: ReferenceLine::Level(max_drop * 100.0),
            },
        )?;
        let mut entries: Vec<(String, RGBColor, bool)> = curves
            .iter()
            .map(|c| (c.subject.name().to_owned(), colour(c.subject), false))
            .collect();
        entries.push(("offered = achieved".to_owned(), GUIDE, true));
        draw_legend(&top_strip, "median, min–max", &entries)?;
        let limit = format!("clean-run limit ({} %)", max_drop * 100.0);
        draw_legend(&bottom_strip, "", &[(limit, GUIDE, true)])?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// A dashed guide drawn under the series.
enum ReferenceLine {
    /// y = x.
    Diagonal,
    /// y = the value.
    Level(f64),
}

/// A legend in its own area (pixel coordinates): a heading, then one
/// (label, colour, dashed) entry a line.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    heading: &str,
    entries: &[(String, RGBColor, bool)],
) -> Result<()> {
    let font = ("sans-serif", 14).into_font().color(&BLACK);
    if !heading.is_empty() {
        area.draw(&Text::new(heading.to_owned(), (8, 40), font.clone()))
            .map_err(plot_error)?;
    }
    for (k, (label, colour, dashed)) in entries.iter().enumerate() {
        let y = 70 + 22 * k as i32;
        if *dashed {
            for x in [10, 20, 30] {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 6, y)],
                    colour.stroke_width(1),
                ))
                .map_err(plot_error)?;
            }
        } else {
            area.draw(&PathElement::new(
                vec![(10, y), (36, y)],
                colour.stroke_width(2),
            ))
            .map_err(plot_error)?;
            area.draw(&Circle::new((23, y), 3, colour.stroke_width(1)))
                .map_err(plot_error)?;
        }
        area.draw(&Text::new(label.clone(), (44, y - 8), font.clone()))
            .map_err(plot_error)?;
    }
    Ok(())
}

/// One chart of the picture.
struct Panel {
    caption: &'static str,
    y_desc: &'static str,
    x_max: f64,
    y_max: f64,
    pick: fn(&Curves) -> &Vec<Point>,
    reference: ReferenceLine,
}

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    curves: &[Curves],
    panel: Panel,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .caption(panel.caption, ("sans-serif", 15))
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..panel.x_max, 0.0..panel.y_max)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("offered rate, DISCOVERs/s (perfdhcp -r)")
        .y_desc(panel.y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if panel.y_max < 10.0 {
                format!("{y:.1}")
            } else {
                format!("{y:.0}")
            }
        })
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_error)?;
    let points = match panel.reference {
        ReferenceLine::Diagonal => {
            let end = panel.x_max.min(panel.y_max);
            vec![(0.0, 0.0), (end, end)]
        }
        ReferenceLine::Level(y) => vec![(0.0, y), (panel.x_max, y)],
    };
    chart
        .draw_series(DashedLineSeries::new(points, 6, 4, GUIDE.stroke_width(1)))
        .map_err(plot_error)?;
    for c in curves {
        let colour = colour(c.subject);
        let points = (panel.pick)(c);
        chart
            .draw_series(
                LineSeries::new(
                    points.iter().map(|p| (p.offered, p.median)),
                    colour.stroke_width(2),
                )
                .point_size(3),
            )
            .map_err(plot_error)?;
        chart
            .draw_series(points.iter().filter(|p| p.max > p.min).map(|p| {
                ErrorBar::new_vertical(p.offered, p.min, p.median, p.max, colour.stroke_width(1), 8)
            }))
            .map_err(plot_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run at `rate` that completed `done` exchanges per second and lost
    /// `lost` of 1000.
    fn run(subject: Subject, rate: u32, done: f64, lost: u64) -> Run {
        Run {
            subject,
            rate,
            report: PerfReport {
                rate: done,
                discover: Exchange {
                    sent: 1000,
                    received: 1000,
                    ..Default::default()
                },
                request: Exchange {
                    sent: 1000,
                    received: 1000 - lost,
                    ..Default::default()
                },
            },
            cpu: Duration::from_secs(1),
            kernel_drops: None,
        }
    }

    fn synthetic() -> Vec<Run> {
        use Subject::{Ceiling, Kea, Ours};
        vec![
            run(Ceiling, 5000, 5000.0, 0),
            run(Ceiling, 5000, 4990.0, 2),
            run(Ceiling, 10000, 9980.0, 2),
            run(Ceiling, 10000, 9990.0, 1),
            run(Ours, 5000, 4995.0, 1),
            run(Ours, 5000, 4900.0, 20),
            run(Ours, 5000, 4950.0, 10),
            run(Ours, 10000, 9900.0, 10),
            run(Kea, 5000, 5000.0, 0),
            run(Kea, 10000, 6000.0, 400),
        ]
    }

    #[test]
    fn median_and_whiskers_per_rate() {
        let c = curves(&synthetic(), &[Subject::Ours, Subject::Isc, Subject::Kea]);
        // ISC has no runs: no curves.
        let names: Vec<Subject> = c.iter().map(|c| c.subject).collect();
        assert_eq!(names, [Subject::Ours, Subject::Kea]);
        let ours = &c[0];
        assert_eq!(ours.dora.len(), 2);
        assert_eq!(
            ours.dora[0],
            Point {
                offered: 5000.0,
                median: 4950.0,
                min: 4900.0,
                max: 4995.0
            }
        );
        assert_eq!(ours.dora[1].median, 9900.0);
        let d = ours.drop_percent[0];
        assert!((d.median - 1.0).abs() < 1e-9 && (d.max - 2.0).abs() < 1e-9);
        assert!((d.min - 0.1).abs() < 1e-9);
        // Even count: the mean of the middle two.
        let ceiling = curves(&synthetic(), &[Subject::Ceiling]);
        assert_eq!(ceiling[0].dora[0].median, 4995.0);
    }

    #[test]
    fn svg_has_both_panels_a_series_per_server_and_whiskers() {
        let subjects = [Subject::Ceiling, Subject::Ours, Subject::Kea];
        let svg = to_svg(&curves(&synthetic(), &subjects), "synthetic ladder", 0.01).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        for text in [
            "synthetic ladder",
            "completed exchanges",
            "dropped exchanges",
            "DORA/s achieved",
            "exchanges dropped, %",
            "offered rate, DISCOVERs/s (perfdhcp -r)",
            "offered = achieved",
            "clean-run limit (1 %)",
            "ceiling",
            "ours",
            "kea",
        ] {
            // plotters writes each text on a line of its own.
            let element = format!(">\n{text}\n</text>");
            assert!(svg.contains(&element), "no text {text:?} in the SVG");
        }
        // Each server's colour in both panels (series and legend sample).
        for subject in subjects {
            let c = colour(subject);
            let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
            assert!(svg.matches(&stroke).count() >= 4, "{subject:?}");
        }
    }

    #[test]
    fn runs_read_back_from_the_markdown_report() {
        let runs = synthetic();
        let subjects = [Subject::Ceiling, Subject::Ours, Subject::Kea];
        let text = crate::load::ladder::markdown(&runs, &subjects, 0.01);
        let back = runs_from_markdown(&text).unwrap();
        assert_eq!(back.len(), runs.len());
        for (a, b) in runs.iter().zip(&back) {
            assert_eq!((a.subject, a.rate), (b.subject, b.rate));
            assert_eq!(a.report.rate.round(), b.report.rate);
            assert_eq!(a.report.drop_ratio(), b.report.drop_ratio());
        }
        assert_eq!(curves(&back, &subjects), curves(&runs, &subjects));
        // A row of a known server that does not parse is an error.
        let broken = "| ours | 5000 | x | 0 % | 1 / 1 | 1 / 1 | 0 ms | 0 s | 0 µs |";
        assert!(runs_from_markdown(broken).is_err());
    }
}
