//! Figures and how they are shown: a table on stdout, and optionally JSON.

use anyhow::Context;
use std::path::Path;

/// What a figure must reach.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The Nightshift value must be at most this.
    AtMost(f64),
    /// The Nightshift value must be at least this.
    AtLeast(f64),
    /// Nightshift divided by the baseline must be at most this.
    RatioAtMost(f64),
    /// Nightshift divided by the baseline must be at least this.
    RatioAtLeast(f64),
    /// Nightshift minus the baseline must be at most this.
    DifferenceAtMost(f64),
    /// Reported only.
    None,
}

/// One measured figure beside its baseline from the same run.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Stable name for the JSON output.
    pub key: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub value: f64,
    pub baseline: f64,
    /// What the baseline measured.
    pub baseline_name: String,
    pub target: Target,
}

impl Figure {
    /// Nightshift divided by the baseline, when that means something.
    pub fn ratio(&self) -> Option<f64> {
        let ratio = self.value / self.baseline;
        (self.baseline > 0.0 && ratio.is_finite()).then_some(ratio)
    }

    /// Whether the target is met; `None` without a target (or without a ratio to judge).
    pub fn pass(&self) -> Option<bool> {
        match self.target {
            Target::AtMost(max) => Some(self.value <= max),
            Target::AtLeast(min) => Some(self.value >= min),
            Target::RatioAtMost(max) => self.ratio().map(|r| r <= max),
            Target::RatioAtLeast(min) => self.ratio().map(|r| r >= min),
            Target::DifferenceAtMost(max) => Some(self.value - self.baseline <= max),
            Target::None => None,
        }
    }

    pub fn target_text(&self) -> String {
        match self.target {
            Target::AtMost(max) => format!("<= {} {}", number(max), self.unit),
            Target::AtLeast(min) => format!(">= {} {}", number(min), self.unit),
            Target::RatioAtMost(max) => format!("ratio <= {max:.2}"),
            Target::RatioAtLeast(min) => format!("ratio >= {min:.2}"),
            Target::DifferenceAtMost(max) => {
                format!("<= baseline + {} {}", number(max), self.unit)
            }
            Target::None => "-".into(),
        }
    }

    fn result_text(&self) -> &'static str {
        match (self.pass(), self.target) {
            (Some(true), _) => "PASS",
            (Some(false), _) => "FAIL",
            (None, Target::None) => "(report)",
            (None, _) => "n/a",
        }
    }
}

/// A number with as many decimals as its size deserves.
fn number(x: f64) -> String {
    let magnitude = x.abs();
    // Counts (processes, switches) are whole: "3 procs", not "3.00 procs".
    if magnitude >= 1000.0 || (x.fract() == 0.0 && magnitude < 1e15) {
        format!("{x:.0}")
    } else if magnitude >= 100.0 {
        format!("{x:.1}")
    } else if magnitude >= 1.0 || magnitude == 0.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn with_unit(x: f64, unit: &str) -> String {
    format!("{} {unit}", number(x))
}

/// Prints the table of figures, then the measurements that failed.
pub fn print_table(figures: &[Figure], errors: &[(String, String)]) {
    let header = [
        "Figure",
        "Nightshift",
        "Baseline",
        "Ratio",
        "Target",
        "Result",
        "Baseline is",
    ];
    let rows: Vec<[String; 7]> = figures
        .iter()
        .map(|f| {
            [
                f.name.clone(),
                with_unit(f.value, f.unit),
                with_unit(f.baseline, f.unit),
                f.ratio().map_or("-".into(), |r| format!("{r:.2}x")),
                f.target_text(),
                f.result_text().into(),
                f.baseline_name.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| match i {
                // Numbers right-aligned, words left-aligned.
                1..=3 => format!("{cell:>width$}"),
                _ => format!("{cell:<width$}"),
            })
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(header);
    println!(
        "{}",
        "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1))
    );
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    let failed = figures.iter().filter(|f| f.pass() == Some(false)).count();
    let judged = figures.iter().filter(|f| f.pass().is_some()).count();
    println!("\n{} of {judged} targets met", judged - failed);
    for (measurement, error) in errors {
        println!("ERROR in {measurement}: {error}");
    }
}

/// Writes every figure (and every error) as JSON.
pub fn write_json(
    path: &Path,
    quick: bool,
    figures: &[Figure],
    errors: &[(String, String)],
) -> anyhow::Result<()> {
    let figures: Vec<serde_json::Value> = figures
        .iter()
        .map(|f| {
            serde_json::json!({
                "key": f.key,
                "name": f.name,
                "unit": f.unit,
                "value": f.value,
                "baseline": f.baseline,
                "baseline_name": f.baseline_name,
                "ratio": f.ratio(),
                "target": f.target_text(),
                "pass": f.pass(),
            })
        })
        .collect();
    let errors: Vec<serde_json::Value> = errors
        .iter()
        .map(|(m, e)| serde_json::json!({ "measurement": m, "error": e }))
        .collect();
    let body = serde_json::json!({ "quick": quick, "figures": figures, "errors": errors });
    let text = serde_json::to_string_pretty(&body).context("cannot render the JSON report")?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(value: f64, baseline: f64, target: Target) -> Figure {
        Figure {
            key: "k",
            name: "n".into(),
            unit: "ms",
            value,
            baseline,
            baseline_name: "b".into(),
            target,
        }
    }

    #[test]
    fn targets_judge_values_and_ratios() {
        assert_eq!(figure(2.0, 1.0, Target::AtMost(2.0)).pass(), Some(true));
        assert_eq!(figure(2.1, 1.0, Target::AtMost(2.0)).pass(), Some(false));
        assert_eq!(
            figure(70.0, 100.0, Target::RatioAtLeast(0.7)).pass(),
            Some(true)
        );
        assert_eq!(
            figure(1.6, 1.0, Target::RatioAtMost(1.5)).pass(),
            Some(false)
        );
        assert_eq!(figure(1.0, 0.0, Target::RatioAtMost(1.5)).pass(), None);
        assert_eq!(figure(1.0, 1.0, Target::None).pass(), None);
    }

    #[test]
    fn numbers_keep_the_decimals_they_need() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2.5), "2.50");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(123.45), "123.5");
        assert_eq!(number(12345.6), "12346");
    }
}
