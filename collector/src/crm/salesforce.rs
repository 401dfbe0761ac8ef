//! Salesforce (REST API v62.0, an OAuth access token): accounts, contacts and answers
//! upserted by external id through sObject Collections (`allOrNone: false`, at most 200
//! records a call, one result per record, in order); the import reads the accounts by SOQL,
//! page by page (`nextRecordsUrl`).

use reqwest::Method;
use serde_json::{json, Value};

use super::{Api, CallError, Items, Links, Sink};
use crate::model::{AccountRecord, CrmAccount, CrmAnswer};

/// sObject Collections take at most 200 records.
pub const BATCH: usize = 200;
/// The API version the paths name.
pub const VERSION: &str = "v62.0";

/// The custom fields the sync writes, per object, for the README and `crm setup`.
pub const FIELDS: [(&str, &str, &str); 20] = [
    (
        "Account",
        "NPS_Account_Id__c",
        "Text(255), External ID, Unique",
    ),
    ("Account", "NPS_Score__c", "Number(4, 1)"),
    ("Account", "NPS_Segment__c", "Text(20)"),
    ("Account", "NPS_People_Answered__c", "Number(9, 0)"),
    ("Account", "NPS_Last_Response__c", "Date/Time"),
    ("Account", "NPS_Open_Follow_Ups__c", "Number(9, 0)"),
    ("Account", "NPS_Dashboard_URL__c", "URL"),
    (
        "Contact",
        "NPS_User_Id__c",
        "Text(255), External ID, Unique",
    ),
    ("Contact", "NPS_Last_Score__c", "Number(2, 0)"),
    ("Contact", "NPS_Last_Segment__c", "Text(20)"),
    ("Contact", "NPS_Last_Response__c", "Date/Time"),
    ("Contact", "NPS_Last_Comment__c", "Long Text Area"),
    ("Contact", "NPS_Response_URL__c", "URL"),
    (
        "NPS_Response__c",
        "NPS_Response_Id__c",
        "Text(255), External ID, Unique",
    ),
    ("NPS_Response__c", "NPS_Score__c", "Number(2, 0)"),
    ("NPS_Response__c", "NPS_Segment__c", "Text(20)"),
    ("NPS_Response__c", "NPS_Comment__c", "Long Text Area"),
    ("NPS_Response__c", "NPS_Answered_At__c", "Date/Time"),
    ("NPS_Response__c", "NPS_Contact__c", "Lookup(Contact)"),
    ("NPS_Response__c", "NPS_Account__c", "Lookup(Account)"),
];

/// The Salesforce sink.
#[derive(Debug, Clone, Default)]
pub struct Salesforce;

/// Upserts `records` of `object` by `external`: one result per record, in order.
async fn upsert(
    api: &Api,
    object: &str,
    external: &str,
    records: Vec<Value>,
) -> Result<Items, CallError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let n = records.len();
    let body = json!({"allOrNone": false, "records": records});
    let path = format!("/services/data/{VERSION}/composite/sobjects/{object}/{external}");
    let (_, answer) = api.call(Method::PATCH, &path, Some(&body)).await?;
    let results = answer.as_array().cloned().unwrap_or_default();
    if results.len() != n {
        return Err(CallError::Retry(format!(
            "PATCH {path}: {} results for {n} records",
            results.len()
        )));
    }
    Ok(results
        .iter()
        .map(|r| {
            if r["success"].as_bool() == Some(true) {
                Ok(())
            } else {
                let errors: Vec<String> = r["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e["statusCode"].as_str().unwrap_or("ERROR"),
                            e["message"].as_str().unwrap_or_default()
                        )
                    })
                    .collect();
                Err(if errors.is_empty() {
                    "Salesforce did not take it".into()
                } else {
                    errors.join("; ")
                })
            }
        })
        .collect())
}

/// A new Contact needs a `LastName`: the person's email, else their user id.
fn last_name(a: &CrmAnswer) -> String {
    a.email
        .clone()
        .filter(|e| !e.is_empty())
        .or_else(|| a.user_id.clone())
        .unwrap_or_else(|| a.response_id.clone())
}

impl Sink for Salesforce {
    fn batch(&self) -> usize {
        BATCH
    }

    async fn accounts(
        &self,
        api: &Api,
        links: &Links,
        accounts: &[CrmAccount],
    ) -> Result<Items, CallError> {
        let records = accounts
            .iter()
            .map(|a| {
                json!({
                    "attributes": {"type": "Account"},
                    "NPS_Account_Id__c": a.account_id,
                    // A new Account needs a Name.
                    "Name": a.name.clone().unwrap_or_else(|| a.account_id.clone()),
                    "NPS_Score__c": a.nps,
                    "NPS_Segment__c": a.segment,
                    "NPS_People_Answered__c": a.people,
                    "NPS_Last_Response__c": a.last_response_at,
                    "NPS_Open_Follow_Ups__c": a.open_follow_ups,
                    "NPS_Dashboard_URL__c": links.account(&a.account_id),
                })
            })
            .collect();
        upsert(api, "Account", "NPS_Account_Id__c", records).await
    }

    async fn people(
        &self,
        api: &Api,
        links: &Links,
        people: &[CrmAnswer],
    ) -> Result<Items, CallError> {
        let records = people
            .iter()
            .map(|p| {
                let mut record = json!({
                    "attributes": {"type": "Contact"},
                    "NPS_User_Id__c": p.user_id,
                    "LastName": last_name(p),
                    "NPS_Last_Score__c": p.score,
                    "NPS_Last_Segment__c": p.segment,
                    "NPS_Last_Response__c": p.answered_at,
                    "NPS_Last_Comment__c": p.comment,
                    "NPS_Response_URL__c": links.answer(p),
                });
                if let Some(email) = p.email.as_deref().filter(|e| !e.is_empty()) {
                    record["Email"] = json!(email);
                }
                if let Some(account) = &p.account_id {
                    record["Account"] = json!({"NPS_Account_Id__c": account});
                }
                record
            })
            .collect();
        upsert(api, "Contact", "NPS_User_Id__c", records).await
    }

    async fn answers(
        &self,
        api: &Api,
        _links: &Links,
        answers: &[CrmAnswer],
    ) -> Result<Items, CallError> {
        let records = answers
            .iter()
            .map(|a| {
                let mut record = json!({
                    "attributes": {"type": "NPS_Response__c"},
                    "NPS_Response_Id__c": a.response_id,
                    "NPS_Score__c": a.score,
                    "NPS_Segment__c": a.segment,
                    "NPS_Comment__c": a.comment,
                    "NPS_Answered_At__c": a.answered_at,
                });
                if let Some(user) = &a.user_id {
                    record["NPS_Contact__r"] = json!({"NPS_User_Id__c": user});
                }
                if let Some(account) = &a.account_id {
                    record["NPS_Account__r"] = json!({"NPS_Account_Id__c": account});
                }
                record
            })
            .collect();
        upsert(api, "NPS_Response__c", "NPS_Response_Id__c", records).await
    }
}

/// The accounts, page by page: (account id, record). The id is the account's
/// `NPS_Account_Id__c`, else its record id.
pub async fn accounts(api: &Api) -> Result<Vec<(String, AccountRecord)>, String> {
    let soql = "SELECT+Id,Name,AnnualRevenue,Owner.Name,NPS_Account_Id__c+FROM+Account";
    let mut next = Some(format!("/services/data/{VERSION}/query?q={soql}"));
    let mut out = Vec::new();
    while let Some(path) = next.take() {
        let (_, page) = api
            .call(Method::GET, &path, None)
            .await
            .map_err(|e| e.to_string())?;
        for a in page["records"].as_array().into_iter().flatten() {
            let Some(record_id) = a["Id"].as_str() else {
                continue;
            };
            let text = |v: &Value| {
                v.as_str()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let id = text(&a["NPS_Account_Id__c"]).unwrap_or_else(|| record_id.to_owned());
            out.push((
                id,
                AccountRecord {
                    name: text(&a["Name"]),
                    arr_cents: a["AnnualRevenue"]
                        .as_f64()
                        .filter(|a| a.is_finite() && *a >= 0.0)
                        .map(|a| (a * 100.0).round() as i64),
                    owner: text(&a["Owner"]["Name"]),
                    crm_url: Some(format!(
                        "{}/lightning/r/Account/{record_id}/view",
                        api.base()
                    )),
                    ..AccountRecord::default()
                },
            ));
        }
        if page["done"].as_bool() == Some(false) {
            next = page["nextRecordsUrl"].as_str().map(str::to_owned);
        }
    }
    Ok(out)
}
