//! HubSpot (CRM API v3, a private app's token): accounts → companies upserted by the unique
//! property `nps_account_id`, people → contacts upserted by `email`, each answer → a note on
//! its contact's timeline; `crm setup` makes the properties (group `nps`); the import reads
//! the companies page by page (`after`).

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use super::{one_by_one, Api, CallError, Items, Links, Sink};
use crate::model::{AccountRecord, CrmAccount, CrmAnswer};

/// HubSpot's batch endpoints take at most 100 inputs.
pub const BATCH: usize = 100;
/// The note → contact association HubSpot defines.
const NOTE_TO_CONTACT: i64 = 202;

/// The HubSpot sink.
#[derive(Debug, Clone, Default)]
pub struct HubSpot;

/// The properties `crm setup` makes: object, name, label, type, field type, unique.
pub const PROPERTIES: [(&str, &str, &str, &str, &str, bool); 12] = [
    (
        "companies",
        "nps_account_id",
        "NPS account id",
        "string",
        "text",
        true,
    ),
    ("companies", "nps_score", "NPS", "number", "number", false),
    (
        "companies",
        "nps_segment",
        "NPS segment",
        "string",
        "text",
        false,
    ),
    (
        "companies",
        "nps_people_answered",
        "NPS people answered",
        "number",
        "number",
        false,
    ),
    (
        "companies",
        "nps_last_response_at",
        "NPS last response",
        "datetime",
        "date",
        false,
    ),
    (
        "companies",
        "nps_open_follow_ups",
        "NPS open follow-ups",
        "number",
        "number",
        false,
    ),
    (
        "companies",
        "nps_dashboard_url",
        "NPS dashboard",
        "string",
        "text",
        false,
    ),
    (
        "contacts",
        "nps_last_score",
        "NPS last score",
        "number",
        "number",
        false,
    ),
    (
        "contacts",
        "nps_last_segment",
        "NPS last segment",
        "string",
        "text",
        false,
    ),
    (
        "contacts",
        "nps_last_response_at",
        "NPS last response",
        "datetime",
        "date",
        false,
    ),
    (
        "contacts",
        "nps_last_comment",
        "NPS last comment",
        "string",
        "textarea",
        false,
    ),
    (
        "contacts",
        "nps_response_url",
        "NPS response",
        "string",
        "text",
        false,
    ),
];

fn number(n: Option<f64>) -> Value {
    n.map_or(Value::String(String::new()), |n| json!(n.to_string()))
}

/// Which inputs of a batch upsert HubSpot took: those whose `id_property` comes back in
/// `results`; the others get the message of `errors` naming them (or the first one).
fn taken(keys: &[&str], id_property: &str, answer: &Value) -> Items {
    let mut done = std::collections::HashSet::new();
    for r in answer["results"].as_array().into_iter().flatten() {
        if let Some(k) = r["properties"][id_property].as_str() {
            done.insert(k.to_lowercase());
        }
        if let Some(k) = r["id"].as_str() {
            done.insert(k.to_lowercase());
        }
    }
    let errors: Vec<&Value> = answer["errors"].as_array().into_iter().flatten().collect();
    keys.iter()
        .map(|k| {
            if done.contains(&k.to_lowercase()) {
                return Ok(());
            }
            let named = errors
                .iter()
                .find(|e| e["context"].to_string().contains(*k));
            Err(named
                .or(errors.first())
                .map(|e| super::message_of(e))
                .unwrap_or_else(|| "HubSpot did not return it".into()))
        })
        .collect()
}

impl HubSpot {
    /// Upserts contacts by email: per input, its contact id or HubSpot's message.
    async fn contacts(
        &self,
        api: &Api,
        inputs: &[(String, Value)],
    ) -> Result<Vec<Result<String, String>>, CallError> {
        let call = |inputs: &[(String, Value)]| {
            let body = json!({"inputs": inputs.iter().map(|(email, properties)| json!({
                "idProperty": "email", "id": email, "properties": properties,
            })).collect::<Vec<_>>()});
            async move {
                api.call(
                    Method::POST,
                    "/crm/v3/objects/contacts/batch/upsert",
                    Some(&body),
                )
                .await
            }
        };
        let ids = |answer: &Value| -> HashMap<String, String> {
            answer["results"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some((
                        r["properties"]["email"].as_str()?.to_lowercase(),
                        r["id"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        };
        let keys: Vec<&str> = inputs.iter().map(|(e, _)| e.as_str()).collect();
        let mut found = HashMap::new();
        let whole = match call(inputs).await {
            Ok((_, answer)) => {
                found.extend(ids(&answer));
                Ok(taken(&keys, "email", &answer))
            }
            Err(e) => Err(e),
        };
        let found = std::sync::Mutex::new(found);
        let items = one_by_one(inputs, whole, |i| {
            let input = &inputs[i];
            let fut = call(std::slice::from_ref(input));
            let found = &found;
            async move {
                let (_, answer) = fut.await?;
                if let Ok(mut f) = found.lock() {
                    f.extend(ids(&answer));
                }
                Ok(taken(&[input.0.as_str()], "email", &answer))
            }
        })
        .await?;
        let found = found.into_inner().unwrap_or_default();
        Ok(keys
            .iter()
            .zip(items)
            .map(|(k, r)| {
                r.and_then(|()| {
                    found
                        .get(&k.to_lowercase())
                        .cloned()
                        .ok_or_else(|| "HubSpot returned no contact id".to_owned())
                })
            })
            .collect())
    }
}

/// A contact's properties from a person's latest answer.
fn contact_properties(links: &Links, a: &CrmAnswer) -> Value {
    json!({
        "email": a.email,
        "nps_last_score": a.score.to_string(),
        "nps_last_segment": a.segment,
        "nps_last_response_at": a.answered_at,
        "nps_last_comment": a.comment.clone().unwrap_or_default(),
        "nps_response_url": links.answer(a),
    })
}

/// The note's text: score, segment and comment as plain text, with the response's id, which
/// says which note is which answer's. HubSpot shows a note's body as HTML, so the comment is
/// escaped: a respondent's `<b>` reads as written.
fn note_body(a: &CrmAnswer) -> String {
    let mut body = format!("NPS {} ({})", a.score, a.segment);
    if let Some(comment) = a.comment.as_deref().filter(|c| !c.is_empty()) {
        body.push_str(": ");
        body.push_str(&crate::reach::html(comment));
    }
    body.push_str(&format!(" [NPS response {}]", a.response_id));
    body
}

impl Sink for HubSpot {
    fn batch(&self) -> usize {
        BATCH
    }

    async fn accounts(
        &self,
        api: &Api,
        links: &Links,
        accounts: &[CrmAccount],
    ) -> Result<Items, CallError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let input = |a: &CrmAccount| {
            let mut properties = json!({
                "nps_account_id": a.account_id,
                "nps_score": number(a.nps),
                "nps_segment": a.segment,
                "nps_people_answered": a.people.to_string(),
                "nps_last_response_at": a.last_response_at.clone().unwrap_or_default(),
                "nps_open_follow_ups": a.open_follow_ups.to_string(),
                "nps_dashboard_url": links.account(&a.account_id),
            });
            if let Some(name) = &a.name {
                properties["name"] = json!(name);
            }
            json!({"idProperty": "nps_account_id", "id": a.account_id, "properties": properties})
        };
        let call = |batch: &[CrmAccount]| {
            let body = json!({"inputs": batch.iter().map(input).collect::<Vec<_>>()});
            let keys: Vec<String> = batch.iter().map(|a| a.account_id.clone()).collect();
            async move {
                let (_, answer) = api
                    .call(
                        Method::POST,
                        "/crm/v3/objects/companies/batch/upsert",
                        Some(&body),
                    )
                    .await?;
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                Ok(taken(&keys, "nps_account_id", &answer))
            }
        };
        let whole = call(accounts).await;
        one_by_one(accounts, whole, |i| {
            call(std::slice::from_ref(&accounts[i]))
        })
        .await
    }

    async fn people(
        &self,
        api: &Api,
        links: &Links,
        people: &[CrmAnswer],
    ) -> Result<Items, CallError> {
        // HubSpot finds contacts by email: a person without one has no contact to update.
        let with_email: Vec<(usize, (String, Value))> = people
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let email = p.email.clone().filter(|e| !e.trim().is_empty())?;
                Some((i, (email, contact_properties(links, p))))
            })
            .collect();
        let inputs: Vec<(String, Value)> = with_email.iter().map(|(_, x)| x.clone()).collect();
        let mut out: Items = vec![Ok(()); people.len()];
        if !inputs.is_empty() {
            for ((i, _), r) in with_email.iter().zip(self.contacts(api, &inputs).await?) {
                out[*i] = r.map(|_| ());
            }
        }
        Ok(out)
    }

    async fn answers(
        &self,
        api: &Api,
        _links: &Links,
        answers: &[CrmAnswer],
    ) -> Result<Items, CallError> {
        // The contacts first (the same upsert: it gives their ids), then one note each.
        let with_email: Vec<(usize, (String, Value))> = answers
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let email = a.email.clone().filter(|e| !e.trim().is_empty())?;
                Some((i, (email, json!({"email": a.email}))))
            })
            .collect();
        let mut out: Items = vec![Ok(()); answers.len()];
        if with_email.is_empty() {
            return Ok(out);
        }
        let inputs: Vec<(String, Value)> = with_email.iter().map(|(_, x)| x.clone()).collect();
        let contacts = self.contacts(api, &inputs).await?;
        let mut notes = Vec::new();
        for ((i, _), contact) in with_email.iter().zip(contacts) {
            match contact {
                Ok(id) => notes.push((*i, id)),
                Err(e) => out[*i] = Err(e),
            }
        }
        let note = |(i, contact): &(usize, String)| {
            let a = &answers[*i];
            json!({
                "properties": {"hs_timestamp": a.answered_at, "hs_note_body": note_body(a)},
                "associations": [{
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED",
                               "associationTypeId": NOTE_TO_CONTACT}],
                }],
            })
        };
        let call = |batch: &[(usize, String)]| {
            let body = json!({"inputs": batch.iter().map(note).collect::<Vec<_>>()});
            let marks: Vec<String> = batch
                .iter()
                .map(|(i, _)| format!("[NPS response {}]", answers[*i].response_id))
                .collect();
            async move {
                let (_, answer) = api
                    .call(
                        Method::POST,
                        "/crm/v3/objects/notes/batch/create",
                        Some(&body),
                    )
                    .await?;
                let bodies: Vec<&str> = answer["results"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["properties"]["hs_note_body"].as_str())
                    .collect();
                let first_error = answer["errors"]
                    .as_array()
                    .and_then(|e| e.first())
                    .map(super::message_of);
                Ok(marks
                    .iter()
                    .map(|m| {
                        if bodies.iter().any(|b| b.contains(m.as_str())) {
                            Ok(())
                        } else {
                            Err(first_error
                                .clone()
                                .unwrap_or_else(|| "HubSpot did not return the note".into()))
                        }
                    })
                    .collect())
            }
        };
        let whole = call(&notes).await;
        let noted = one_by_one(&notes, whole, |i| call(std::slice::from_ref(&notes[i]))).await?;
        for ((i, _), r) in notes.iter().zip(noted) {
            out[*i] = r;
        }
        Ok(out)
    }
}

/// `nps-collector crm setup`: the `nps` property groups and the properties the sync writes,
/// each created or found there already; what it did, line by line.
pub async fn setup(api: &Api) -> Result<Vec<String>, String> {
    let mut said = Vec::new();
    for object in ["companies", "contacts"] {
        let body = json!({"name": "nps", "label": "NPS", "displayOrder": -1});
        match api
            .call(
                Method::POST,
                &format!("/crm/v3/properties/{object}/groups"),
                Some(&body),
            )
            .await
        {
            Ok(_) => said.push(format!("{object}: created the property group nps")),
            Err(CallError::Refused(m)) if m.contains(" 409 ") => {
                said.push(format!("{object}: the property group nps was there"))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    for (object, name, label, kind, field, unique) in PROPERTIES {
        let mut body = json!({
            "name": name, "label": label, "type": kind, "fieldType": field, "groupName": "nps",
        });
        if unique {
            body["hasUniqueValue"] = json!(true);
        }
        match api
            .call(
                Method::POST,
                &format!("/crm/v3/properties/{object}"),
                Some(&body),
            )
            .await
        {
            Ok(_) => said.push(format!("{object}: created {name} ({kind})")),
            Err(CallError::Refused(m)) if m.contains(" 409 ") => {
                said.push(format!("{object}: {name} was there"))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(said)
}

/// The companies, page by page: (account id, record). The id is the company's
/// `nps_account_id`, else its record id (the id a CSV export calls "Record ID").
pub async fn companies(api: &Api) -> Result<Vec<(String, AccountRecord)>, String> {
    let get = |path: String| async move {
        api.call(Method::GET, &path, None)
            .await
            .map(|(_, v)| v)
            .map_err(|e| e.to_string())
    };
    let portal = get("/account-info/v3/details".into()).await?["portalId"]
        .as_i64()
        .ok_or("GET /account-info/v3/details: no portalId in the answer")?;
    let mut owners = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = "/crm/v3/owners?limit=100".to_owned();
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let page = get(path).await?;
        for o in page["results"].as_array().into_iter().flatten() {
            let name = [o["firstName"].as_str(), o["lastName"].as_str()]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let name = if name.is_empty() {
                o["email"].as_str().unwrap_or_default().to_owned()
            } else {
                name
            };
            if let Some(id) = o["id"].as_str() {
                owners.insert(id.to_owned(), name);
            }
        }
        after = page["paging"]["next"]["after"].as_str().map(str::to_owned);
        if after.is_none() {
            break;
        }
    }
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = "/crm/v3/objects/companies?limit=100\
            &properties=name,annualrevenue,hubspot_owner_id,nps_account_id"
            .to_owned();
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let page = get(path).await?;
        for c in page["results"].as_array().into_iter().flatten() {
            let Some(record_id) = c["id"].as_str() else {
                continue;
            };
            let p = &c["properties"];
            let text = |k: &str| p[k].as_str().map(str::trim).filter(|s| !s.is_empty());
            let id = text("nps_account_id").unwrap_or(record_id).to_owned();
            let arr_cents = text("annualrevenue")
                .and_then(|a| a.parse::<f64>().ok())
                .filter(|a| a.is_finite() && *a >= 0.0)
                .map(|a| (a * 100.0).round() as i64);
            out.push((
                id,
                AccountRecord {
                    name: text("name").map(str::to_owned),
                    arr_cents,
                    owner: text("hubspot_owner_id")
                        .map(|o| owners.get(o).cloned().unwrap_or_else(|| o.to_owned())),
                    crm_url: Some(format!(
                        "https://app.hubspot.com/contacts/{portal}/record/0-2/{record_id}"
                    )),
                    ..AccountRecord::default()
                },
            ));
        }
        after = page["paging"]["next"]["after"].as_str().map(str::to_owned);
        if after.is_none() {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_says_the_answer_as_text() {
        let a = CrmAnswer {
            response_id: "r1".into(),
            user_id: Some("u".into()),
            email: Some("u@example.com".into()),
            account_id: None,
            score: 3,
            segment: "detractor".into(),
            comment: Some("<b>Too slow</b> & buggy".into()),
            answered_at: "2026-11-01T10:00:00.000Z".into(),
        };
        assert_eq!(
            note_body(&a),
            "NPS 3 (detractor): &lt;b&gt;Too slow&lt;/b&gt; &amp; buggy [NPS response r1]"
        );
    }
}
