//! The reports: `/v1/summary` (NPS, counts, margin, trend), `/v1/trend.svg`, `/v1/accounts`
//! (JSON pages or CSV), `/v1/compare` (is the change real?), `/v1/themes`, and
//! `/v1/choices`, the allowed values of every enumerated parameter, which the dashboard reads.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use nps_widget::segment::Segment;
use nps_widget::{config, i18n};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AsViewer;
use super::error::ApiError;
use super::openapi::{Reading, Refusal};
use super::query::{Read, ReadQuery};
use super::Shared;
use crate::model::{Choice, Filter, Format, Interval, Status, StatusFilter};
use crate::{chart, report, stats, themes};

/// Comments read for the themes, newest first: enough for the common themes to stand out,
/// bounded so the report's time and memory do not grow with the table.
const THEME_COMMENTS: i64 = 20_000;

/// The report routes.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(trend))
        .routes(routes!(compare))
        .routes(routes!(themes))
        .routes(routes!(choices))
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

/// `GET /v1/summary`: the NPS of the query's range with its margin, counts and trend.
#[utoipa::path(
    get,
    path = "/v1/summary",
    operation_id = "getSummary",
    tag = "reports",
    params(ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The NPS, its margin of error, the counts and the trend", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn summary(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<Json<report::Summary>, ApiError> {
    Ok(Json(summary_of(&state, &read).await?))
}

/// `GET /v1/trend.svg`: the trend as a chart, with the notes on it.
#[utoipa::path(
    get,
    path = "/v1/trend.svg",
    operation_id = "getTrendChart",
    tag = "reports",
    params(ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The trend chart", body = String, content_type = "image/svg+xml"),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn trend(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<HttpResponse, ApiError> {
    let s = summary_of(&state, &read).await?;
    let f = read.filter(1)?;
    let day = |b: Option<crate::model::Bound>| {
        b.map(|b| match b {
            crate::model::Bound::Day(d) => crate::clock::day(d),
            crate::model::Bound::Instant(at) => crate::clock::day(at.date()),
        })
    };
    let notes = state
        .store
        .annotations(&crate::store::AnnotationFilter {
            survey_id: f.survey_id.clone(),
            account_id: None,
            from: day(f.from),
            to: day(f.to),
        })
        .await?;
    // The notes for everything and for this survey; an account's own notes belong on its page.
    let notes: Vec<_> = notes
        .into_iter()
        .filter(|a| a.account_id.is_none())
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml")],
        chart::trend_svg_with(&s, &notes),
    )
        .into_response())
}

/// What `GET /v1/compare` reads of the [`ReadQuery`], as the document says it: the two
/// periods required, and the filters both share.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct CompareParams {
    /// Only this survey.
    survey_id: Option<String>,
    /// Only answers to this version of the survey's definition.
    #[param(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    survey_version: Option<i64>,
    /// One account's answers.
    account_id: Option<String>,
    /// Period a, from.
    #[param(value_type = super::openapi::BoundText)]
    a_from: String,
    /// Period a, to.
    #[param(value_type = super::openapi::BoundText)]
    a_to: String,
    /// Period b, from.
    #[param(value_type = super::openapi::BoundText)]
    b_from: String,
    /// Period b, to.
    #[param(value_type = super::openapi::BoundText)]
    b_to: String,
}

/// `GET /v1/compare`: is period b's score really different from period a's?
#[utoipa::path(
    get,
    path = "/v1/compare",
    operation_id = "comparePeriods",
    tag = "reports",
    params(CompareParams),
    security(("token" = [])),
    responses(
        (status = 200, description = "Both periods' NPS and whether the change is real", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
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
#[utoipa::path(
    get,
    path = "/v1/themes",
    operation_id = "getThemes",
    tag = "reports",
    params(ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The themes the comments share, each with what fixing it is worth", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn themes(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<Json<serde_json::Value>, ApiError> {
    let f = read.filter(1)?;
    let comments = state.store.comments(&f, THEME_COMMENTS).await?;
    let everyone = state.store.tally(&f.without_segment()).await?;
    // What the themes are worth: the ARR of their accounts, and for passives' themes the
    // referrals they would bring as promoters at the promoters' measured rate.
    let mut accounts: Vec<&str> = comments
        .iter()
        .filter_map(|c| c.account.as_deref())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    let arr = state.store.account_arr(&accounts).await?;
    let [promoters, _] = state.store.referral_funnel(&f.without_segment()).await?;
    let worth = themes::Worth {
        arr,
        referral_rate: (promoters.people > 0)
            .then(|| promoters.referrals as f64 / promoters.people as f64),
        referral_value: state.money.referral_value,
    };
    let found = themes::themes(&comments, 20, everyone.answers(), &worth);
    let mut answer =
        serde_json::to_value(found).map_err(|e| ApiError::bad(e.to_string(), "body"))?;
    if let Some(object) = answer.as_object_mut() {
        object.insert("currency".into(), json!(state.money.currency));
    }
    Ok(Json(answer))
}

/// `GET /v1/choices`: every enumerated parameter's allowed values, from the same tables the
/// query is read with, so the dashboard's menus never drift from the API.
#[utoipa::path(
    get,
    path = "/v1/choices",
    operation_id = "getChoices",
    tag = "reports",
    security(("token" = [])),
    responses(
        (status = 200, description = "Every enumerated parameter's allowed values, and the card's built-in texts", body = Object),
        Reading,
    )
)]
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
