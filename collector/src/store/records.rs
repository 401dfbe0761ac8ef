//! Account records: what each account is worth (ARR), its plan, owner, renewal and CRM link,
//! keyed by the widget's `account_id`. A record is edited key by key (a change merges into
//! it) or upserted from a CRM export, many at a time, in one transaction.

use sqlx::Row;

use super::accounts::record_of;
use super::sql::{pieces, Sql};
use super::{Result, Store};
use crate::clock;
use crate::model::AccountRecord;

/// A change to one record: each key absent (`None`) keeps its value, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordChange {
    /// The name.
    pub name: Option<Option<String>>,
    /// ARR in cents.
    pub arr_cents: Option<Option<i64>>,
    /// The plan.
    pub plan: Option<Option<String>>,
    /// The owner.
    pub owner: Option<Option<String>>,
    /// `YYYY-MM-DD`.
    pub renewal_on: Option<Option<String>>,
    /// http(s) only (checked by the caller).
    pub crm_url: Option<Option<String>>,
    /// A JSON object; its keys merge into the stored traits (a `null` value removes one).
    pub traits: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl RecordChange {
    /// `record` with this change applied.
    pub fn apply(&self, mut record: AccountRecord) -> AccountRecord {
        fn set<T: Clone>(slot: &mut Option<T>, change: &Option<Option<T>>) {
            if let Some(value) = change {
                *slot = value.clone();
            }
        }
        set(&mut record.name, &self.name);
        set(&mut record.arr_cents, &self.arr_cents);
        set(&mut record.plan, &self.plan);
        set(&mut record.owner, &self.owner);
        set(&mut record.renewal_on, &self.renewal_on);
        set(&mut record.crm_url, &self.crm_url);
        match &self.traits {
            None => {}
            Some(None) => record.traits = None,
            Some(Some(changes)) => {
                let mut traits = match record.traits.take() {
                    Some(serde_json::Value::Object(map)) => map,
                    _ => serde_json::Map::new(),
                };
                for (key, value) in changes {
                    if value.is_null() {
                        traits.remove(key);
                    } else {
                        traits.insert(key.clone(), value.clone());
                    }
                }
                record.traits = (!traits.is_empty()).then_some(serde_json::Value::Object(traits));
            }
        }
        record
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    /// Records that did not exist.
    pub created: u64,
    /// Records that changed.
    pub updated: u64,
    /// Records already as the file has them.
    pub unchanged: u64,
}

impl Store {
    /// Account `id`'s record, if it has one.
    pub async fn account_record(&self, id: &str) -> Result<Option<AccountRecord>> {
        let row = sqlx::query(
            "SELECT r.name, r.arr_cents, r.plan, r.owner, r.renewal_on, r.crm_url, r.traits
             FROM account_records r WHERE r.account_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => Some(record_of(&row, 0)?.unwrap_or_default()),
            None => None,
        })
    }

    /// Applies `change` to account `id`'s record (made if it has none), as teammate `by`, in
    /// one transaction; the record after it.
    pub async fn change_account_record(
        &self,
        id: &str,
        change: &RecordChange,
        by: &str,
    ) -> Result<AccountRecord> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT r.name, r.arr_cents, r.plan, r.owner, r.renewal_on, r.crm_url, r.traits
             FROM account_records r WHERE r.account_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let before = match row {
            Some(row) => record_of(&row, 0)?.unwrap_or_default(),
            None => AccountRecord::default(),
        };
        let after = change.apply(before);
        upsert(&mut tx, self.backend, &[(id.to_owned(), after.clone())], by).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Upserts `records` by id (a later duplicate in the list wins), as teammate `by`, in one
    /// transaction: what was created, updated, or already so.
    pub async fn import_account_records(
        &self,
        records: &[(String, AccountRecord)],
        by: &str,
    ) -> Result<Imported> {
        let mut latest: std::collections::HashMap<&str, &AccountRecord> =
            std::collections::HashMap::new();
        let mut order = Vec::new();
        for (id, record) in records {
            if latest.insert(id.as_str(), record).is_none() {
                order.push(id.as_str());
            }
        }
        let mut done = Imported::default();
        let mut tx = self.begin_write().await?;
        let mut changed = Vec::new();
        for ids in pieces(&order) {
            let mut sql = Sql::new(
                self.backend,
                "SELECT r.account_id, r.name, r.arr_cents, r.plan, r.owner, r.renewal_on,
                    r.crm_url, r.traits FROM account_records r WHERE r.account_id ",
            );
            sql.push_in(ids.iter().copied());
            let mut stored = std::collections::HashMap::new();
            for row in sql.build().fetch_all(&mut *tx).await? {
                let id: String = row.try_get(0)?;
                stored.insert(id, record_of(&row, 1)?.unwrap_or_default());
            }
            for id in ids {
                let Some(new) = latest.get(id) else { continue };
                match stored.get(*id) {
                    None => done.created += 1,
                    Some(old) if old == *new => {
                        done.unchanged += 1;
                        continue;
                    }
                    Some(_) => done.updated += 1,
                }
                changed.push(((*id).to_owned(), (*new).clone()));
            }
        }
        upsert(&mut tx, self.backend, &changed, by).await?;
        tx.commit().await?;
        Ok(done)
    }
}

/// Writes `records` whole, a few hundred rows a statement.
async fn upsert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: super::Backend,
    records: &[(String, AccountRecord)],
    by: &str,
) -> Result<()> {
    let now = clock::now_rfc3339();
    for rows in pieces(records) {
        let mut sql = Sql::new(
            backend,
            "INSERT INTO account_records (account_id, name, arr_cents, plan, owner, renewal_on,
                crm_url, traits, updated_at, updated_by) VALUES ",
        );
        for (i, (id, r)) in rows.iter().enumerate() {
            sql.open_row(i)
                .push_bind(id.as_str())
                .push(", ")
                .push_bind_opt(r.name.clone())
                .push(", ")
                .push_bind_int_opt(r.arr_cents)
                .push(", ")
                .push_bind_opt(r.plan.clone())
                .push(", ")
                .push_bind_opt(r.owner.clone())
                .push(", ")
                .push_bind_opt(r.renewal_on.clone())
                .push(", ")
                .push_bind_opt(r.crm_url.clone())
                .push(", ")
                .push_bind_opt(r.traits.as_ref().map(|t| t.to_string()))
                .push(", ")
                .push_bind(now.as_str())
                .push(", ")
                .push_bind(by)
                .push(")");
        }
        sql.push(
            " ON CONFLICT (account_id) DO UPDATE SET name = excluded.name,
                arr_cents = excluded.arr_cents, plan = excluded.plan, owner = excluded.owner,
                renewal_on = excluded.renewal_on, crm_url = excluded.crm_url,
                traits = excluded.traits, updated_at = excluded.updated_at,
                updated_by = excluded.updated_by",
        );
        sql.build().execute(&mut **tx).await?;
    }
    Ok(())
}
