//! The accounts' running totals (`account_totals`, `account_people`, `account_months`; see
//! `migrate`), kept by
//! the writer batch by batch: as it writes a batch, it notes what each write took out of an
//! account (the row it replaced) and put in (the new row), then applies the sum with a few
//! multi-row statements. Per-row triggers did the same inside the database, but each trigger
//! statement cost about 30 µs per response on SQLite, which halved ingest when measured; a
//! batch's totals cost a handful of statements whatever its size.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use super::sql::{pieces, Sql};
use super::Backend;

/// What the totals need of one stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Counted {
    pub(super) id: String,
    pub(super) survey_id: String,
    pub(super) segment: String,
    pub(super) account_id: Option<String>,
    pub(super) user_id: Option<String>,
    pub(super) score: Option<i64>,
    pub(super) answered_at: Option<String>,
    pub(super) comment: Option<String>,
    /// The month of its shown day, `YYYY-MM`.
    pub(super) month: String,
}

impl Counted {
    /// The order of a person's answers and of an account's comments: by `answered_at`, then
    /// by id, as one text.
    fn key(&self) -> String {
        format!(
            "{}|{}",
            self.answered_at.as_deref().unwrap_or_default(),
            self.id
        )
    }

    /// Its survey's scope and the all-surveys scope (`''`).
    fn scopes(&self) -> [String; 2] {
        [self.survey_id.clone(), String::new()]
    }
}

/// One account's change in one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Delta {
    /// Promoters, passives, detractors, silent.
    counts: [i64; 4],
    score_sum: i64,
    people: i64,
    /// People whose latest score is a promoter's, a passive's, a detractor's.
    people_segments: [i64; 3],
    last_answer_at: Option<String>,
    /// The newest comment seen in the batch: its key and its text.
    comment: Option<(String, String)>,
}

/// One account's change in one scope and month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MonthDelta {
    /// Promoters, passives, detractors, silent.
    counts: [i64; 4],
    /// The sum and the number of the scores given.
    score_sum: i64,
    scored: i64,
    last_answer_at: Option<String>,
}

/// A batch's changes to the totals.
#[derive(Debug, Default)]
pub(super) struct Totals {
    accounts: HashMap<(String, String), Delta>,
    /// Per (scope, month, account).
    months: HashMap<(String, String, String), MonthDelta>,
    /// The latest score the batch saw per (scope, person, account): its key and the score.
    people: HashMap<(String, String, String), (String, i64)>,
}

/// A score's place among promoters, passives, detractors.
fn score_index(score: i64) -> usize {
    match score {
        9.. => 0,
        7..=8 => 1,
        _ => 2,
    }
}

fn segment_index(segment: &str) -> Option<usize> {
    ["promoter", "passive", "detractor", "silent"]
        .iter()
        .position(|s| *s == segment)
}

impl Totals {
    /// A stored row was replaced: its segment leaves its account's counts.
    pub(super) fn remove(&mut self, old: &Counted) {
        let (Some(account), Some(i)) = (&old.account_id, segment_index(&old.segment)) else {
            return;
        };
        for scope in old.scopes() {
            let month = self
                .months
                .entry((scope.clone(), old.month.clone(), account.clone()))
                .or_default();
            month.counts[i] -= 1;
            if let Some(score) = old.score {
                month.score_sum -= score;
                month.scored -= 1;
            }
            self.accounts
                .entry((scope, account.clone()))
                .or_default()
                .counts[i] -= 1;
        }
    }

    /// A row was written: its segment joins its account's counts, with its answer time, its
    /// comment, and its score as its person's latest candidate.
    pub(super) fn add(&mut self, new: &Counted) {
        let Some(account) = &new.account_id else {
            return;
        };
        let key = new.key();
        for scope in new.scopes() {
            let month = self
                .months
                .entry((scope.clone(), new.month.clone(), account.clone()))
                .or_default();
            if let Some(i) = segment_index(&new.segment) {
                month.counts[i] += 1;
            }
            if let Some(score) = new.score {
                month.score_sum += score;
                month.scored += 1;
            }
            if new.answered_at > month.last_answer_at {
                month.last_answer_at = new.answered_at.clone();
            }
            let delta = self
                .accounts
                .entry((scope.clone(), account.clone()))
                .or_default();
            if let Some(i) = segment_index(&new.segment) {
                delta.counts[i] += 1;
            }
            if new.answered_at > delta.last_answer_at {
                delta.last_answer_at = new.answered_at.clone();
            }
            if let Some(comment) = new.comment.as_ref().filter(|c| !c.is_empty()) {
                if delta.comment.as_ref().is_none_or(|(k, _)| key >= *k) {
                    delta.comment = Some((key.clone(), comment.clone()));
                }
            }
            if let Some(score) = new.score {
                let person = new.user_id.clone().unwrap_or_else(|| new.id.clone());
                let latest = self
                    .people
                    .entry((scope, person, account.clone()))
                    .or_insert_with(|| (key.clone(), score));
                if key >= latest.0 {
                    *latest = (key.clone(), score);
                }
            }
        }
    }

    /// Applies the batch's changes in `tx`: the people whose latest score changed, then every
    /// touched account's counts and sums.
    pub(super) async fn apply(
        mut self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
    ) -> Result<(), sqlx::Error> {
        let stored = self.stored_people(tx, backend).await?;
        let mut changed = Vec::new();
        for ((scope, person, account), (key, score)) in std::mem::take(&mut self.people) {
            let before = stored.get(&(scope.clone(), person.clone(), account.clone()));
            let (sum, people, left) = match before {
                None => (score, 1, None),
                Some((old_key, old_score)) if key >= *old_key => {
                    (score - old_score, 0, Some(*old_score))
                }
                Some(_) => continue,
            };
            let delta = self
                .accounts
                .entry((scope.clone(), account.clone()))
                .or_default();
            delta.score_sum += sum;
            delta.people += people;
            if let Some(old) = left {
                delta.people_segments[score_index(old)] -= 1;
            }
            delta.people_segments[score_index(score)] += 1;
            changed.push((scope, person, account, key, score));
        }
        for rows in pieces(&changed) {
            let mut sql = Sql::new(
                backend,
                "INSERT INTO account_people (scope, person, account_id, latest_key, score) VALUES ",
            );
            for (i, (scope, person, account, key, score)) in rows.iter().enumerate() {
                sql.open_row(i)
                    .push_bind(scope.as_str())
                    .push(", ")
                    .push_bind(person.as_str())
                    .push(", ")
                    .push_bind(account.as_str())
                    .push(", ")
                    .push_bind(key.as_str())
                    .push(", ")
                    .push_bind_int(*score)
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (scope, person, account_id) DO UPDATE SET
                    latest_key = excluded.latest_key, score = excluded.score",
            );
            sql.build().execute(&mut **tx).await?;
        }
        let months: Vec<_> = std::mem::take(&mut self.months).into_iter().collect();
        for rows in pieces(&months) {
            let mut sql = Sql::new(
                backend,
                "INSERT INTO account_months (scope, month, account_id, promoters, passives,
                    detractors, silent, score_sum, scored, last_answer_at) VALUES ",
            );
            for (i, ((scope, month, account), d)) in rows.iter().enumerate() {
                sql.open_row(i)
                    .push_bind(scope.as_str())
                    .push(", ")
                    .push_bind(month.as_str())
                    .push(", ")
                    .push_bind(account.as_str());
                for n in d.counts.iter().chain([&d.score_sum, &d.scored]) {
                    sql.push(", ").push_bind_int(*n);
                }
                sql.push(", ")
                    .push_bind_opt(d.last_answer_at.clone())
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (scope, month, account_id) DO UPDATE SET
                    promoters = account_months.promoters + excluded.promoters,
                    passives = account_months.passives + excluded.passives,
                    detractors = account_months.detractors + excluded.detractors,
                    silent = account_months.silent + excluded.silent,
                    score_sum = account_months.score_sum + excluded.score_sum,
                    scored = account_months.scored + excluded.scored,
                    last_answer_at = CASE WHEN account_months.last_answer_at IS NULL
                        OR excluded.last_answer_at > account_months.last_answer_at
                        THEN excluded.last_answer_at ELSE account_months.last_answer_at END",
            );
            sql.build().execute(&mut **tx).await?;
        }
        let accounts: Vec<_> = self.accounts.into_iter().collect();
        for rows in pieces(&accounts) {
            let mut sql = Sql::new(
                backend,
                "INSERT INTO account_totals (scope, account_id, promoters, passives, detractors,
                    silent, score_sum, people, people_promoters, people_passives,
                    people_detractors, last_answer_at, latest_comment, latest_comment_key)
                 VALUES ",
            );
            for (i, ((scope, account), d)) in rows.iter().enumerate() {
                sql.open_row(i)
                    .push_bind(scope.as_str())
                    .push(", ")
                    .push_bind(account.as_str());
                for n in d
                    .counts
                    .iter()
                    .chain([&d.score_sum, &d.people])
                    .chain(d.people_segments.iter())
                {
                    sql.push(", ").push_bind_int(*n);
                }
                sql.push(", ")
                    .push_bind_opt(d.last_answer_at.clone())
                    .push(", ")
                    .push_bind_opt(d.comment.as_ref().map(|(_, text)| text.clone()))
                    .push(", ")
                    .push_bind_opt(d.comment.as_ref().map(|(key, _)| key.clone()))
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (scope, account_id) DO UPDATE SET
                    promoters = account_totals.promoters + excluded.promoters,
                    passives = account_totals.passives + excluded.passives,
                    detractors = account_totals.detractors + excluded.detractors,
                    silent = account_totals.silent + excluded.silent,
                    score_sum = account_totals.score_sum + excluded.score_sum,
                    people = account_totals.people + excluded.people,
                    people_promoters = account_totals.people_promoters + excluded.people_promoters,
                    people_passives = account_totals.people_passives + excluded.people_passives,
                    people_detractors =
                        account_totals.people_detractors + excluded.people_detractors,
                    last_answer_at = CASE WHEN account_totals.last_answer_at IS NULL
                        OR excluded.last_answer_at > account_totals.last_answer_at
                        THEN excluded.last_answer_at ELSE account_totals.last_answer_at END,
                    latest_comment = CASE WHEN excluded.latest_comment_key
                        >= COALESCE(account_totals.latest_comment_key, '')
                        THEN excluded.latest_comment ELSE account_totals.latest_comment END,
                    latest_comment_key = CASE WHEN excluded.latest_comment_key
                        >= COALESCE(account_totals.latest_comment_key, '')
                        THEN excluded.latest_comment_key ELSE account_totals.latest_comment_key END",
            );
            sql.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The stored latest score of every person the batch saw, in every scope it touched: one
    /// query for a batch of up to [`super::sql::MAX_ROWS`] people (the primary key answers
    /// `scope IN (…) AND person IN (…)` with one look-up per pair).
    async fn stored_people(
        &self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
    ) -> Result<HashMap<(String, String, String), (String, i64)>, sqlx::Error> {
        let mut scopes: Vec<&str> = self.people.keys().map(|(s, _, _)| s.as_str()).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let mut people: Vec<&str> = self.people.keys().map(|(_, p, _)| p.as_str()).collect();
        people.sort_unstable();
        people.dedup();
        let mut stored = HashMap::new();
        for chunk in pieces(&people) {
            let mut sql = Sql::new(
                backend,
                "SELECT scope, person, account_id, latest_key, CAST(score AS BIGINT)
                 FROM account_people WHERE scope ",
            );
            sql.push_in(scopes.iter().copied())
                .push(" AND person ")
                .push_in(chunk.iter().copied());
            for row in sql.build().fetch_all(&mut **tx).await? {
                stored.insert(
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                    (row.try_get(3)?, row.try_get(4)?),
                );
            }
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, account: &str, user: &str, score: Option<i64>, at: &str) -> Counted {
        Counted {
            id: id.into(),
            survey_id: "s".into(),
            segment: match score {
                None => "silent",
                Some(0..=6) => "detractor",
                Some(7..=8) => "passive",
                Some(_) => "promoter",
            }
            .into(),
            account_id: Some(account.into()),
            user_id: Some(user.into()),
            score,
            answered_at: Some(at.into()),
            comment: None,
            month: at.get(..7).unwrap_or(at).into(),
        }
    }

    #[test]
    fn a_replaced_row_moves_its_count_and_the_latest_answer_wins() {
        let mut t = Totals::default();
        let partial = row("r1", "acme", "ann", Some(3), "2026-11-01");
        t.add(&partial);
        t.remove(&partial);
        t.add(&row("r1", "acme", "ann", Some(9), "2026-11-01"));
        t.add(&row("r0", "acme", "ann", Some(2), "2026-10-01"));
        let d = &t.accounts[&("s".to_owned(), "acme".to_owned())];
        assert_eq!(
            d.counts,
            [1, 0, 1, 0],
            "one promoter, one earlier detractor"
        );
        assert_eq!(d.last_answer_at.as_deref(), Some("2026-11-01"));
        let latest = &t.people[&("".to_owned(), "ann".to_owned(), "acme".to_owned())];
        assert_eq!(latest.1, 9, "the later answer is the person's latest");
    }
}
