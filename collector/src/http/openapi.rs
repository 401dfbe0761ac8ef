//! The API's contract: an OpenAPI 3.1 document generated from the handlers. Every route of
//! the API is registered through `utoipa_axum`'s `routes!`, which takes a handler's
//! `#[utoipa::path]` with it, so a route cannot be served without being in the document.
//! The document is served at `GET /v1/openapi.json` (no token: it holds nothing a client
//! could not learn by calling) and committed as `collector/openapi.json`, which a test keeps
//! equal to what the handlers say.
//!
//! A text that must not be blank says so with a pattern of the characters Rust's `trim`
//! keeps (Unicode's White_Space), spelled out: `\S` differs between regex engines (ECMA's
//! takes U+0085 for a letter and U+FEFF for a space).
//!
//! What this module holds: the document's frame (title, the bearer token, the tags), the
//! widget's response format (`schema/response.v1.json`, the one published contract, taken
//! as it is rather than described twice), the error body, and the schemas of the query's
//! enumerated values, read from the same tables the query is read with.

use nps_widget::segment::Segment;
use serde_json::Value;
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::model::{
    AccountSort, Choice, Format, Interval, Opportunity, ReferralStatus, Status, StatusFilter,
};

/// The widget's response format, as published.
const RESPONSE_SCHEMA: &str = include_str!("../../../schema/response.v1.json");

/// The document's frame; the paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "nps-collector",
        description = "The reference collector of nps-widget: it stores the widget's responses \
            and answers the reports, lists, accounts, surveys, links and the team's changes. \
            Reads need a viewer's token, changes a member's, the team, surveys, erasure and \
            the audit trail an admin's (`Authorization: Bearer <token>`).",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&Frame),
    components(schemas(Refusal, BoundText)),
    tags(
        (name = "ingest", description = "What the widget posts."),
        (name = "lists", description = "The responses to act on, their follow-ups and notes."),
        (name = "reports", description = "The NPS, its trend, comparisons and themes."),
        (name = "accounts", description = "Accounts, their records, people and revenue."),
        (name = "referrals", description = "Referrals followed to the won deal."),
        (name = "annotations", description = "Notes on the trend."),
        (name = "surveys", description = "The surveys the dashboard manages."),
        (name = "links", description = "Personal links, the hosted page, the digest."),
        (name = "team", description = "Tokens, the team, the CRM sync."),
        (name = "privacy", description = "A person's data, and the audit trail."),
        (name = "operations", description = "Health, readiness, metrics, this document."),
    )
)]
struct Frame;

impl Modify for Frame {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// What every refusal answers.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct Refusal {
    /// What is wrong, in words.
    error: String,
    /// The parameter, header or body field at fault (`segment`, `user.id`, `Authorization`).
    field: Option<String>,
}

/// The answers of a route behind a token when the token is missing or unknown, or the
/// database does not answer: in every such route's document, written once.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(super) enum Reading {
    /// No token, or an unknown one.
    #[response(status = 401)]
    Unauthorized(Refusal),
    /// The database did not answer.
    #[response(status = 503)]
    Unavailable(Refusal),
}

/// [`Reading`]'s answers, and the one of a token whose role is too little.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(super) enum Changing {
    /// No token, or an unknown one.
    #[response(status = 401)]
    Unauthorized(Refusal),
    /// The token's role is too little for this.
    #[response(status = 403)]
    Forbidden(Refusal),
    /// The database did not answer.
    #[response(status = 503)]
    Unavailable(Refusal),
}

/// The widget's response (`schema/response.v1.json`): its schema is put in whole once the
/// document is built (see [`document`]); here it is only its name.
pub(super) struct WidgetResponse;

impl PartialSchema for WidgetResponse {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(Object::new()))
    }
}

impl ToSchema for WidgetResponse {
    fn name() -> std::borrow::Cow<'static, str> {
        "Response".into()
    }
}

/// A string that is one of `T`'s names.
fn choice<T: Choice>() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(T::names()))
        .build()
}

/// `schema` that is also `null` (an optional body field, which `null` leaves as it is).
fn or_null(mut schema: Object) -> Object {
    schema.schema_type = utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]);
    if let Some(values) = schema.enum_values.as_mut() {
        values.push(Value::Null);
    }
    schema
}

pub(super) fn segment() -> Object {
    choice::<Segment>()
}

pub(super) fn segment_or_null() -> Object {
    or_null(segment())
}

pub(super) fn status() -> Object {
    choice::<Status>()
}

pub(super) fn status_filter() -> Object {
    choice::<StatusFilter>()
}

pub(super) fn interval() -> Object {
    choice::<Interval>()
}

pub(super) fn format() -> Object {
    choice::<Format>()
}

pub(super) fn account_sort() -> Object {
    choice::<AccountSort>()
}

pub(super) fn opportunity() -> Object {
    choice::<Opportunity>()
}

pub(super) fn referral_status() -> Object {
    choice::<ReferralStatus>()
}

pub(super) fn role() -> Object {
    choice::<crate::team::Role>()
}

pub(super) fn survey_status() -> Object {
    choice::<crate::survey::Status>()
}

/// A string of a JSON Schema `format`.
fn formatted(format: KnownFormat) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .build()
}

/// A day (`YYYY-MM-DD`) or an RFC 3339 time: a range's bound.
fn bound() -> Schema {
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(formatted(KnownFormat::Date))
            .item(formatted(KnownFormat::DateTime))
            .description(Some("A day (YYYY-MM-DD) or an RFC 3339 time"))
            .build(),
    )
}

/// A range's bound, by name in the document: a day or an RFC 3339 time.
pub(super) struct BoundText;

impl PartialSchema for BoundText {
    fn schema() -> RefOr<Schema> {
        RefOr::T(bound())
    }
}

impl ToSchema for BoundText {
    fn name() -> std::borrow::Cow<'static, str> {
        "Bound".into()
    }
}

/// A day, `YYYY-MM-DD`.
pub(super) fn day() -> Object {
    formatted(KnownFormat::Date)
}

/// The whole document, as JSON: the frame, the paths the routers registered (`paths`), and
/// the widget's response format put in whole.
pub(super) fn document(paths: utoipa::openapi::OpenApi) -> Value {
    let mut api = Frame::openapi();
    api.merge(paths);
    let mut value = serde_json::to_value(&api).unwrap_or_default();
    let mut response: Value = serde_json::from_str(RESPONSE_SCHEMA).unwrap_or_default();
    let mut defs = serde_json::Map::new();
    if let Some(object) = response.as_object_mut() {
        // The document is the schema's home here: its id and dialect are the file's own, and
        // its definitions become components of their own (a `#/$defs/…` pointer would
        // point into the document's root).
        object.remove("$id");
        object.remove("$schema");
        if let Some(Value::Object(d)) = object.remove("$defs") {
            defs = d;
        }
    }
    let names: Vec<(String, String)> = defs
        .keys()
        .map(|k| {
            (
                format!("#/$defs/{k}"),
                format!("#/components/schemas/{}", component(k)),
            )
        })
        .collect();
    repoint(&mut response, &names);
    let schemas = &mut value["components"]["schemas"];
    for (key, mut schema) in defs {
        repoint(&mut schema, &names);
        schemas[component(&key)] = schema;
    }
    schemas["Response"] = response;
    // The changes that need a key at least. Said here: utoipa 5.5 writes a struct's
    // `min_properties` as `maxProperties`.
    for name in AT_LEAST_ONE_KEY {
        if let Some(schema) = schemas.get_mut(*name).and_then(Value::as_object_mut) {
            schema.insert("minProperties".into(), 1.into());
        }
    }
    value
}

/// The bodies that change something and must name what: a follow-up, a referral.
const AT_LEAST_ONE_KEY: &[&str] = &["FollowUpChange", "ReferralChange"];

/// The component name of the response schema's definition `key`: `timestamp` → `Timestamp`.
fn component(key: &str) -> String {
    let mut chars = key.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Every `$ref` in `value` that names one of `names`' first, made its second.
fn repoint(value: &mut Value, names: &[(String, String)]) {
    match value {
        Value::Object(object) => {
            for (key, v) in object.iter_mut() {
                match v {
                    Value::String(s) if key == "$ref" => {
                        if let Some((_, to)) = names.iter().find(|(from, _)| from == s) {
                            *s = to.clone();
                        }
                    }
                    _ => repoint(v, names),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| repoint(v, names)),
        _ => {}
    }
}

/// The document as the app was built with it, serialised once.
#[derive(Debug, Clone)]
pub(super) struct Document(pub(super) axum::body::Bytes);

/// `GET /v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    operation_id = "getOpenApi",
    tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object))
)]
pub(super) async fn served(
    axum::Extension(Document(document)): axum::Extension<Document>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enumerated_values_are_the_query_tables() {
        let schema = serde_json::to_value(segment()).unwrap();
        assert_eq!(serde_json::json!(Segment::names()), schema["enum"]);
        assert_eq!(schema["enum"].as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn the_response_format_is_the_published_one() {
        let doc = document(utoipa::openapi::OpenApi::default());
        let response = &doc["components"]["schemas"]["Response"];
        assert_eq!(response["properties"]["schema"]["const"], 1);
        assert!(response.get("$id").is_none());
        assert_eq!(
            response["properties"]["shown_at"]["$ref"],
            "#/components/schemas/Timestamp"
        );
        assert!(doc["components"]["schemas"]["Timestamp"]["pattern"].is_string());
        assert!(!doc.to_string().contains("#/$defs/"));
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
