//! The reports: `/v1/summary` (NPS, counts, margin, trend), `/v1/trend.svg`, `/v1/accounts`
//! (JSON pages or CSV), `/v1/compare` (is the change real?), `/v1/themes`, and
//! `/v1/choices`, the allowed values of every enumerated parameter, which the dashboard reads.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::get;
use axum::{Json, Router};
use nps_widget::segment::Segment;
use nps_widget::{config, i18n};
use serde_json::json;

use super::auth::AsViewer;
use super::error::ApiError;
use super::query::Read;
use super::Shared;
use crate::model::{Choice, Filter, Format, Interval, Status, StatusFilter};
use crate::{chart, report, stats, themes};

/// Comments read for the themes, newest first: enough for the common themes to stand out,
/// bounded so the report's time and memory do not grow with the table.
const THEME_COMMENTS: i64 = 20_000;

/// The report routes.
pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/summary", get(summary))
        .route("/v1/trend.svg", get(trend))
        .route("/v1/compare", get(compare))
        .route("/v1/themes", get(themes))
        .route("/v1/choices", get(choices))
}

/// The summary of the query's range, counted by the database.
async fn summary_of(state: &Shared, read: &Read) -> Result<report::Summary, ApiError> {
    let f = read.filter(1)?;
    let interval = read.query.interval.unwrap_or(Interval::Week);
    let periods = state.store.period_counts(&f, interval).await?;
    let mut summary = report::summarize(periods, interval);
    if let Some(id) = &f.survey_id {
        let versions = state.store.survey_versions(id).await?;
        let versions = versions
            .into_iter()
            .map(|v| (v.version, v.changed_at, v.definition))
            .collect();
        report::mark_wording(&mut summary, versions, interval);
    }
    Ok(summary)
}

async fn summary(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<Json<report::Summary>, ApiError> {
    Ok(Json(summary_of(&state, &read).await?))
}

async fn trend(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<HttpResponse, ApiError> {
    let s = summary_of(&state, &read).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml")],
        chart::trend_svg(&s),
    )
        .into_response())
}

/// `GET /v1/compare`: is period b's score really different from period a's?
async fn compare(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<Json<stats::Comparison>, ApiError> {
    let base = read.filter(1)?;
    let q = &read.query;
    let periods = [
        ("a_from", q.a_from),
        ("a_to", q.a_to),
        ("b_from", q.b_from),
        ("b_to", q.b_to),
    ];
    if let Some((missing, _)) = periods.iter().find(|(_, v)| v.is_none()) {
        return Err(ApiError::bad(
            "compare needs a_from, a_to, b_from and b_to",
            *missing,
        ));
    }
    let period = |from, to| Filter {
        from,
        to,
        ..base.clone()
    };
    let a = state.store.tally(&period(q.a_from, q.a_to)).await?;
    let b = state.store.tally(&period(q.b_from, q.b_to)).await?;
    Ok(Json(stats::compare(&a, &b)))
}

/// `GET /v1/themes?segment=…`: the suggestions that segment's comments share, each with what
/// fixing it is worth against the NPS of the same survey and dates over every segment.
async fn themes(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<Json<themes::Themes>, ApiError> {
    let f = read.filter(1)?;
    let comments = state.store.comments(&f, THEME_COMMENTS).await?;
    let everyone = state.store.tally(&f.without_segment()).await?;
    Ok(Json(themes::themes(&comments, 20, everyone.answers())))
}

/// `GET /v1/choices`: every enumerated parameter's allowed values, from the same tables the
/// query is read with, so the dashboard's menus never drift from the API.
async fn choices(_: AsViewer) -> Json<serde_json::Value> {
    Json(json!({
        "segments": Segment::names(),
        "statuses": Status::names(),
        "referral_statuses": Status::ALL.iter().filter(|(_, s)| s.is_referral()).map(|(n, _)| *n).collect::<Vec<_>>(),
        "status_filters": StatusFilter::names(),
        "intervals": Interval::names(),
        "formats": Format::names(),
        "survey_statuses": crate::survey::Status::names(),
        "triggers": config::TRIGGER_NAMES,
        "positions": config::POSITION_NAMES,
        "themes": config::THEME_NAMES,
        "operators": config::OPERATOR_NAMES,
        "text_keys": i18n::Text::KEYS,
        "texts": built_in_texts(),
    }))
}

/// Every text the card shows, per built-in locale (`{"en": {"question": …}}`): the placeholders
/// of the survey editor, which shows what a field left empty will say.
fn built_in_texts() -> serde_json::Value {
    let mut all = serde_json::Map::new();
    for locale in i18n::LOCALES {
        let Some(table) = i18n::table(locale) else {
            continue;
        };
        let texts: serde_json::Map<String, serde_json::Value> = i18n::Text::KEYS
            .iter()
            .enumerate()
            .map(|(i, key)| {
                // The per-segment placeholders fall back to the one placeholder.
                let text = table.get(i).or(table.get(7)).copied().unwrap_or_default();
                ((*key).to_owned(), json!(text))
            })
            .collect();
        all.insert(locale.to_owned(), serde_json::Value::Object(texts));
    }
    serde_json::Value::Object(all)
}
