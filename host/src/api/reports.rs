//! `GET /v1/reports/weekly`: the last seven days of a tenant's signals as
//! JSON, or as Markdown for a chat message or an e-mail
//! (`?format=markdown`, or `Accept: text/markdown`). Built from the daily
//! counters only, so it works for signal-only pipelines and after the raw
//! logs are gone.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::query::Params;
use super::{ApiError, AppState, auth::Authenticated};
use crate::event::json::format_ns;
use crate::pipeline::registry::now_ns;
use crate::store::DAY_NS;
use crate::store::signals::{NewFingerprint, SignalRow};

/// Fingerprints listed as the week's top.
const TOP: usize = 10;

/// One day of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Events.
    pub total: u64,
    /// Error and fatal events.
    pub errors: u64,
    /// Events by level.
    pub levels: BTreeMap<String, u64>,
}

/// A count of one thing over the week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    /// The service or fingerprint.
    pub name: String,
    /// Events.
    pub total: u64,
}

/// The seven-day report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyReport {
    /// Tenant.
    pub tenant: String,
    /// Project, when the report is of one.
    pub project: Option<String>,
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day.
    pub to: String,
    /// Events over the week.
    pub total: u64,
    /// Error and fatal events over the week.
    pub errors: u64,
    /// `errors / total` this week.
    pub error_rate: f64,
    /// The same over the seven days before.
    pub previous_error_rate: f64,
    /// `rising`, `falling` or `steady`.
    pub trend: &'static str,
    /// 0 (quiet) to 100: error rate (60 %), new fingerprints (25 %), any fatal (15 %).
    pub severity_score: u32,
    /// Each day.
    pub days: Vec<Day>,
    /// Services by volume.
    pub services: Vec<Count>,
    /// The busiest fingerprints.
    pub top_fingerprints: Vec<Count>,
    /// Fingerprints first seen this week.
    pub new_fingerprints: Vec<NewFingerprint>,
}

fn date(day: i64) -> String {
    format_ns(day.saturating_mul(DAY_NS))
        .chars()
        .take(10)
        .collect()
}

fn is_error(level: &str) -> bool {
    level == "error" || level == "fatal"
}

/// Build the report for the week ending on `to_day` from the counters of
/// the fourteen days ending then.
pub fn build(
    tenant: &str,
    project: Option<&str>,
    to_day: i64,
    rows: &[SignalRow],
    new_fingerprints: Vec<NewFingerprint>,
) -> WeeklyReport {
    let from_day = to_day - 6;
    let mut days: BTreeMap<i64, Day> = (from_day..=to_day)
        .map(|d| {
            (
                d,
                Day {
                    date: date(d),
                    total: 0,
                    errors: 0,
                    levels: BTreeMap::new(),
                },
            )
        })
        .collect();
    let (mut previous_total, mut previous_errors) = (0_u64, 0_u64);
    let mut services: HashMap<&str, u64> = HashMap::new();
    let mut fingerprints: HashMap<&str, u64> = HashMap::new();
    let mut fatal = false;
    for row in rows {
        if row.day < from_day {
            match row.dimension.as_str() {
                "total" => previous_total += row.count,
                "level" if is_error(&row.item) => previous_errors += row.count,
                _ => {}
            }
            continue;
        }
        let Some(day) = days.get_mut(&row.day) else {
            continue;
        };
        match row.dimension.as_str() {
            "total" => day.total += row.count,
            "level" => {
                *day.levels.entry(row.item.clone()).or_default() += row.count;
                if is_error(&row.item) {
                    day.errors += row.count;
                }
                fatal |= row.item == "fatal" && row.count > 0;
            }
            "service" => *services.entry(&row.item).or_default() += row.count,
            "fingerprint" => *fingerprints.entry(&row.item).or_default() += row.count,
            _ => {}
        }
    }
    let days: Vec<Day> = days.into_values().collect();
    let total: u64 = days.iter().map(|d| d.total).sum();
    let errors: u64 = days.iter().map(|d| d.errors).sum();
    let rate = |errors: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            errors as f64 / total as f64
        }
    };
    let error_rate = rate(errors, total);
    let previous_error_rate = rate(previous_errors, previous_total);
    let change = error_rate - previous_error_rate;
    let trend = if change.abs() < 0.01 || change.abs() < previous_error_rate * 0.2 {
        "steady"
    } else if change > 0.0 {
        "rising"
    } else {
        "falling"
    };
    let ranked = |counts: HashMap<&str, u64>, limit: usize| {
        let mut list: Vec<Count> = counts
            .into_iter()
            .map(|(name, total)| Count {
                name: name.to_owned(),
                total,
            })
            .collect();
        list.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
        list.truncate(limit);
        list
    };
    let score = 60.0 * (error_rate * 2.0).min(1.0)
        + 25.0 * (new_fingerprints.len() as f64 / 10.0).min(1.0)
        + if fatal { 15.0 } else { 0.0 };
    WeeklyReport {
        tenant: tenant.to_owned(),
        project: project.map(str::to_owned),
        from: date(from_day),
        to: date(to_day),
        total,
        errors,
        error_rate,
        previous_error_rate,
        trend,
        severity_score: score.round() as u32,
        days,
        services: ranked(services, usize::MAX),
        top_fingerprints: ranked(fingerprints, TOP),
        new_fingerprints,
    }
}

impl WeeklyReport {
    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut text = format!(
            "# Weekly report: {}{}\n\n{} to {} · {} events · {} errors ({:.1} %, {} from {:.1} %) · severity {}/100\n\n",
            self.tenant,
            self.project
                .as_ref()
                .map(|p| format!(" / {p}"))
                .unwrap_or_default(),
            self.from,
            self.to,
            self.total,
            self.errors,
            self.error_rate * 100.0,
            self.trend,
            self.previous_error_rate * 100.0,
            self.severity_score
        );
        text.push_str("## Days\n\n| Day | Events | Errors |\n| --- | ---: | ---: |\n");
        for day in &self.days {
            text.push_str(&format!(
                "| {} | {} | {} |\n",
                day.date, day.total, day.errors
            ));
        }
        text.push_str("\n## Services\n\n");
        for service in &self.services {
            let name = if service.name.is_empty() {
                "(none)"
            } else {
                service.name.as_str()
            };
            text.push_str(&format!("- {name}: {}\n", service.total));
        }
        text.push_str("\n## Top fingerprints\n\n");
        for fingerprint in &self.top_fingerprints {
            text.push_str(&format!(
                "- `{}`: {}\n",
                fingerprint.name, fingerprint.total
            ));
        }
        text.push_str("\n## New this week\n\n");
        if self.new_fingerprints.is_empty() {
            text.push_str("None.\n");
        }
        for new in &self.new_fingerprints {
            text.push_str(&format!(
                "- `{}` since {}: {}\n",
                new.fingerprint,
                date(new.first_day),
                new.template.as_deref().unwrap_or("(no template)")
            ));
        }
        text
    }
}

/// `GET /v1/reports/weekly?project&until&format=json|markdown`
pub async fn weekly(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    headers: HeaderMap,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut params = Params::new(raw);
    let project = params.text("project");
    let until = params.time("until")?.unwrap_or_else(now_ns);
    let format = params.text("format");
    params.finish()?;
    let markdown = match format.as_deref() {
        Some("markdown") => true,
        Some("json") | None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/markdown")),
        Some(_) => {
            return Err(
                ApiError::bad_request("invalid_parameter", "expected json or markdown")
                    .at_field("format"),
            );
        }
    };
    let to_day = until.div_euclid(DAY_NS);
    let rows = state
        .signals
        .counts(&tenant, project.as_deref(), to_day - 13, to_day)
        .await?;
    let new = state
        .signals
        .new_fingerprints(&tenant, project.as_deref(), to_day - 6, to_day)
        .await?;
    let report = build(&tenant, project.as_deref(), to_day, &rows, new);
    Ok(if markdown {
        (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            report.to_markdown(),
        )
            .into_response()
    } else {
        axum::Json(report).into_response()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: i64, dimension: &str, item: &str, count: u64) -> SignalRow {
        SignalRow {
            day,
            dimension: dimension.into(),
            item: item.into(),
            count,
        }
    }

    #[test]
    fn the_week_counts_its_own_days_and_compares_with_the_one_before() {
        let rows = [
            row(3, "total", "", 100),
            row(3, "level", "error", 1),
            row(10, "total", "", 40),
            row(10, "level", "info", 30),
            row(10, "level", "error", 8),
            row(10, "level", "fatal", 2),
            row(10, "service", "api", 25),
            row(10, "service", "web", 15),
            row(11, "fingerprint", "00000000000000aa", 7),
        ];
        let report = build("acme", None, 13, &rows, Vec::new());
        assert_eq!(
            (report.from.as_str(), report.to.as_str()),
            ("1970-01-08", "1970-01-14")
        );
        assert_eq!((report.total, report.errors), (40, 10));
        assert_eq!(report.days.len(), 7);
        assert_eq!(report.days[3].levels["fatal"], 2);
        assert!((report.error_rate - 0.25).abs() < 1e-9);
        assert!((report.previous_error_rate - 0.01).abs() < 1e-9);
        assert_eq!(report.trend, "rising");
        assert_eq!(report.services[0].name, "api");
        assert_eq!(report.severity_score, 30 + 15);
        let markdown = report.to_markdown();
        assert!(markdown.contains("| 1970-01-11 | 40 | 10 |"), "{markdown}");
        assert!(markdown.contains("- api: 25"));
    }
}
