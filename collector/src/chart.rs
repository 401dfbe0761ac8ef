//! The trend as an SVG line chart, drawn on the server so the dashboard needs no charting
//! library and its CSP stays strict. Only our own numbers and period names go in, never
//! respondent text.

use crate::model::{Annotation, Interval};
use crate::reach::html as escape;
use crate::report::Summary;

/// The trend with no annotations.
pub fn trend_svg(summary: &Summary) -> String {
    trend_svg_with(summary, &[])
}

/// The trend as an SVG line chart: NPS from −100 to 100 per period, with the number of
/// answers under each point, and the team's annotations (a mark with its text for a day, a
/// band for a range) on the periods they fall in. Only our own numbers, period names and the
/// team's annotations (escaped) go in, never respondent text.
pub fn trend_svg_with(summary: &Summary, annotations: &[Annotation]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 48.0;
    let plot_h = H - TOP - BOTTOM;
    let y = |nps: f64| TOP + (100.0 - nps) / 200.0 * plot_h;
    let n = summary.trend.len().max(1);
    let step = (W - LEFT - RIGHT) / n as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         font-family=\"system-ui,sans-serif\" font-size=\"11\"><title>NPS by {}</title>",
        summary.interval
    );
    for level in [-100, -50, 0, 50, 100] {
        let ly = y(f64::from(level));
        let stroke = if level == 0 { "#6b7280" } else { "#e5e7eb" };
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{stroke}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#4b5563\">{level}</text>",
            W - RIGHT,
            LEFT - 6.0,
            ly + 4.0
        ));
    }
    // The 95 % band: NPS ± margin of error, clipped to the scale.
    let band: Vec<(f64, f64, f64)> = summary
        .trend
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let (v, m) = (p.figures.nps?, p.figures.margin_of_error?);
            Some((x(i), y((v + m).min(100.0)), y((v - m).max(-100.0))))
        })
        .collect();
    if band.len() > 1 {
        let upper = band.iter().map(|(px, hi, _)| format!("{px:.1},{hi:.1}"));
        let lower = band
            .iter()
            .rev()
            .map(|(px, _, lo)| format!("{px:.1},{lo:.1}"));
        let all: Vec<String> = upper.chain(lower).collect();
        out.push_str(&format!(
            "<polygon fill=\"#c7d2fe\" fill-opacity=\"0.6\" stroke=\"none\" points=\"{}\"><title>95 % margin of error</title></polygon>",
            all.join(" ")
        ));
    } else if let Some((px, hi, lo)) = band.first() {
        out.push_str(&format!(
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{hi:.1}\" y2=\"{lo:.1}\" stroke=\"#c7d2fe\" stroke-width=\"8\"/>"
        ));
    }
    let points: Vec<(f64, f64)> = summary
        .trend
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.figures.nps.map(|v| (x(i), y(v))))
        .collect();
    if points.len() > 1 {
        let path: Vec<String> = points
            .iter()
            .map(|(px, py)| format!("{px:.1},{py:.1}"))
            .collect();
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#4338ca\" stroke-width=\"2.5\" points=\"{}\"/>",
            path.join(" ")
        ));
    }
    // The periods where the survey's text changed: a dashed line before the period's point.
    for (i, p) in summary.trend.iter().enumerate() {
        if let Some(version) = p.new_wording {
            let lx = x(i) - step / 2.0;
            out.push_str(&format!(
                "<line class=\"wording\" x1=\"{lx:.1}\" x2=\"{lx:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" \
                 stroke=\"#b45309\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"><title>new wording \
                 from {}: version {version}</title></line>",
                H - BOTTOM,
                p.period
            ));
        }
    }
    // The team's notes: the period each falls in (or the next one with answers).
    let interval = if summary.interval == "month" {
        Interval::Month
    } else {
        Interval::Week
    };
    let period_of = |day: &str| crate::clock::period_of(&format!("{day}T00:00:00.000Z"), interval);
    for a in annotations {
        let Some(start) = period_of(&a.date) else {
            continue;
        };
        let Some(first) = summary.trend.iter().position(|p| p.period >= start) else {
            continue;
        };
        let text = escape(&a.text);
        let short: String = a.text.chars().take(24).collect();
        let label = escape(&if a.text.chars().count() > 24 {
            format!("{short}…")
        } else {
            short
        });
        match a.end_date.as_deref().and_then(period_of) {
            Some(end) => {
                let last = summary
                    .trend
                    .iter()
                    .rposition(|p| p.period <= end)
                    .unwrap_or(first)
                    .max(first);
                let bx = x(first) - step / 2.0;
                let bw = step * (last - first + 1) as f64;
                out.push_str(&format!(
                    "<rect class=\"annotation-band\" x=\"{bx:.1}\" y=\"{TOP}\" width=\"{bw:.1}\" \
                     height=\"{:.1}\" fill=\"#fde68a\" fill-opacity=\"0.35\"><title>{} to {}: {text}</title></rect>\
                     <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#92400e\">{label}</text>",
                    H - BOTTOM - TOP,
                    a.date,
                    a.end_date.as_deref().unwrap_or_default(),
                    bx + 2.0,
                    TOP + 10.0
                ));
            }
            None => {
                let mx = if summary.trend[first].period == start {
                    x(first)
                } else {
                    x(first) - step / 2.0
                };
                out.push_str(&format!(
                    "<line class=\"annotation\" x1=\"{mx:.1}\" x2=\"{mx:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" \
                     stroke=\"#92400e\" stroke-width=\"1.5\"><title>{}: {text}</title></line>\
                     <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#92400e\">{label}</text>",
                    H - BOTTOM,
                    a.date,
                    mx + 3.0,
                    TOP + 22.0
                ));
            }
        }
    }
    let label_every = n.div_ceil(8);
    for (i, p) in summary.trend.iter().enumerate() {
        if let Some(v) = p.figures.nps {
            // Small samples are hollow points: visible, but not to be read as facts.
            let (fill, note) = if p.small_sample {
                ("#ffffff", " (fewer than 30 answers)")
            } else {
                ("#4338ca", "")
            };
            out.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"#4338ca\" stroke-width=\"2\"><title>{}: NPS {v} ± {}, {} answers{note}</title></circle>",
                x(i),
                y(v),
                p.period,
                p.figures.margin_of_error.unwrap_or_default(),
                p.figures.answers
            ));
        }
        if i % label_every == 0 {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\">{}</text>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#6b7280\">n={}</text>",
                x(i),
                H - BOTTOM + 18.0,
                p.period,
                x(i),
                H - BOTTOM + 32.0,
                p.figures.answers
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interval;
    use crate::report::summarize;
    use crate::report::tests::counts;

    #[test]
    fn the_trend_chart_plots_each_scored_period() {
        let periods = vec![
            counts("2026-10", 1, 0, 0, 0),
            counts("2026-11", 0, 0, 1, 0),
            counts("2026-12", 0, 0, 0, 1),
        ];
        let svg = trend_svg(&summarize(periods, Interval::Month));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(
            svg.matches("<circle").count(),
            2,
            "a period without answers has no point"
        );
        assert!(svg.contains("2026-10: NPS 100 ± 73.5, 1 answers (fewer than 30 answers)"));
        assert!(svg.contains("2026-11: NPS -100 ± 73.5, 1 answers (fewer than 30 answers)"));
        assert!(svg.contains("<polygon"), "the margin-of-error band");
        assert!(svg.contains(">2026-12</text>"));
        assert!(svg.ends_with("</svg>"));
        assert!(
            !svg.contains("wording"),
            "one survey's versions only mark its own trend"
        );
    }

    #[test]
    fn the_periods_where_the_wording_changed_are_marked() {
        use crate::report::mark_wording;
        use serde_json::json;
        let periods = vec![
            counts("2026-10", 5, 1, 1, 0),
            counts("2026-11", 1, 1, 5, 0),
            counts("2026-12", 1, 1, 5, 0),
        ];
        let mut summary = summarize(periods, Interval::Month);
        let text = |q: &str| json!({"strings": {"question": q}});
        mark_wording(
            &mut summary,
            vec![
                (3, "2026-11-05T10:00:00.000Z".into(), text("New?")),
                (1, "2026-09-01T10:00:00.000Z".into(), text("Old?")),
                // Activated: the same text, no mark.
                (2, "2026-10-02T10:00:00.000Z".into(), text("Old?")),
                // Paused in December: the same text again.
                (4, "2026-12-09T10:00:00.000Z".into(), text("New?")),
            ],
            Interval::Month,
        );
        let marks: Vec<Option<i64>> = summary.trend.iter().map(|p| p.new_wording).collect();
        assert_eq!(marks, [None, Some(3), None]);
        let svg = trend_svg(&summary);
        assert_eq!(svg.matches("class=\"wording\"").count(), 1);
        assert!(svg.contains("new wording from 2026-11: version 3"));
    }
}
