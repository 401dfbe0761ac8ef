//! The per-account view: each account's counts per segment, the mean of its people's latest
//! scores (each person counted once), the last answer, the newest comment and its open
//! follow-ups, lowest NPS first.
//!
//! Over all time (no `from`/`to`), the figures come from the running totals the schema keeps
//! (`account_totals`, see `migrate`): one row per account, so a page of accounts, or the
//! accounts of one segment, costs the same with 1,000 responses or 1.2 million. A date range
//! sums its whole months from the accounts' counts per month (`account_months`: counts,
//! closed follow-ups, the sum and number of the scores given) and counts its partial first and
//! last months from the responses; in a range, an account's mean is of the scores given in it.
//! Only the newest comment, which does not add up by month, is read for the page's accounts.

use nps_widget::segment::Segment;
use sqlx::Row;
use time::Date;

use super::sql::Sql;
use super::{count, tally, Result, Store};
use crate::clock;
use crate::model::{
    AccountCounts, AccountQuery, AccountRecord, AccountSort, Bound, Filter, Opportunity, Status,
};

/// The accounts' order: those with answers first, lowest NPS first, then by id; over columns
/// `p`, `pa`, `d` of a subquery `accounts`.
const ORDER: &str = " ORDER BY CASE WHEN p + pa + d = 0 THEN 1 ELSE 0 END,
    (p - d) * 1.0 / CASE WHEN p + pa + d = 0 THEN 1 ELSE p + pa + d END,
    accounts.account_id";

/// An account's segment from the sum and number of its people's latest scores (in a date range,
/// of the scores given in it), in integers: a mean of at least 9 is a promoter account, at
/// least 7 a passive one. `table` prefixes the columns (`accounts.`, or empty).
pub(super) fn segment_condition(segment: Segment, table: &str) -> String {
    let t = table;
    match segment {
        Segment::Silent => format!("{t}p + {t}pa + {t}d = 0 AND {t}s > 0"),
        Segment::Promoter => format!("{t}people > 0 AND {t}score_sum >= 9 * {t}people"),
        Segment::Passive => format!(
            "{t}people > 0 AND {t}score_sum >= 7 * {t}people AND {t}score_sum < 9 * {t}people"
        ),
        Segment::Detractor => format!("{t}people > 0 AND {t}score_sum < 7 * {t}people"),
    }
}

/// Where an account stands in [`ORDER`], for the next page by keyset: whether it has no
/// answers, its NPS as the fraction `(p - d) / answers`, its id. Fractions are compared by
/// cross-multiplying, in integers, so a page boundary is exact on both databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKey {
    empty: i64,
    net: i64,
    answers: i64,
    account_id: String,
}

impl AccountKey {
    /// The key of `account`, the last of a page.
    pub fn of(account: &AccountCounts) -> AccountKey {
        let answers = account.tally.answers() as i64;
        AccountKey {
            empty: i64::from(answers == 0),
            net: account.tally.promoters as i64 - account.tally.detractors as i64,
            answers: answers.max(1),
            account_id: account.account_id.clone(),
        }
    }

    /// The condition "after this key" over the columns of `accounts`.
    fn push_after(&self, sql: &mut Sql) {
        const EMPTY: &str = "(CASE WHEN p + pa + d = 0 THEN 1 ELSE 0 END)";
        const ANSWERS: &str = "(CASE WHEN p + pa + d = 0 THEN 1 ELSE p + pa + d END)";
        sql.push(&format!("({EMPTY} > "))
            .push_bind_int(self.empty)
            .push(&format!(" OR ({EMPTY} = "))
            .push_bind_int(self.empty)
            .push(" AND ((p - d) * ")
            .push_bind_int(self.answers)
            .push(" > ")
            .push_bind_int(self.net)
            .push(&format!(" * {ANSWERS} OR ((p - d) * "))
            .push_bind_int(self.answers)
            .push(" = ")
            .push_bind_int(self.net)
            .push(&format!(" * {ANSWERS} AND accounts.account_id > "))
            .push_bind(self.account_id.as_str())
            .push("))))");
    }
}

/// Which page of accounts.
#[derive(Debug, Clone)]
pub enum Page<'k> {
    /// Skip this many (the JSON list's `offset`).
    Offset(i64),
    /// Those after this key (the CSV export, page after page).
    After(Option<&'k AccountKey>),
}

/// The medians of ARR per plan (cents), over every account record on a plan with an ARR.
const MEDIANS: &str = "medians AS MATERIALIZED (SELECT plan,
    CAST(AVG(CAST(arr_cents AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS median
    FROM (SELECT plan, arr_cents,
            ROW_NUMBER() OVER (PARTITION BY plan ORDER BY arr_cents) AS n,
            COUNT(*) OVER (PARTITION BY plan) AS c
        FROM account_records WHERE plan IS NOT NULL AND arr_cents IS NOT NULL) AS ranked
    WHERE n = (c + 1) / 2 OR n = (c + 2) / 2 GROUP BY plan)";

/// The record's columns, in the order [`record_of`] reads them from `first` on.
const RECORD_COLUMNS: &str =
    "r.name, r.arr_cents, r.plan, r.owner, r.renewal_on, r.crm_url, r.traits";

/// An account's record from columns `first..first + 7` ([`RECORD_COLUMNS`]), `None` when it has
/// none (every column empty).
pub(super) fn record_of(
    row: &sqlx::any::AnyRow,
    first: usize,
) -> Result<Option<AccountRecord>, sqlx::Error> {
    let traits: Option<String> = row.try_get(first + 6)?;
    let record = AccountRecord {
        name: row.try_get(first)?,
        arr_cents: row.try_get(first + 1)?,
        plan: row.try_get(first + 2)?,
        owner: row.try_get(first + 3)?,
        renewal_on: row.try_get(first + 4)?,
        crm_url: row.try_get(first + 5)?,
        traits: traits.and_then(|t| serde_json::from_str(&t).ok()),
    };
    Ok((record != AccountRecord::default()).then_some(record))
}

impl Store {
    /// Per-account figures of the responses matching `filter` (its segment aside), in the
    /// order `query` asks (lowest NPS first by default, accounts without answers last), then
    /// by id; `filter.limit` accounts from `offset`; with a segment, only the accounts in that
    /// segment (`silent` when people there were asked and nobody answered). Accounts with a
    /// record but no responses are listed too, with empty counts.
    pub async fn account_counts(
        &self,
        filter: &Filter,
        offset: i64,
        query: &AccountQuery,
    ) -> Result<Vec<AccountCounts>> {
        self.accounts_page(filter, Page::Offset(offset), query)
            .await
    }

    /// Like [`Store::account_counts`], for any [`Page`] (a keyset page is for the NPS order).
    pub async fn accounts_page(
        &self,
        filter: &Filter,
        page: Page<'_>,
        query: &AccountQuery,
    ) -> Result<Vec<AccountCounts>> {
        let filter = filter.without_segment();
        let upsell = query.opportunity == Some(Opportunity::Upsell);
        // A date range by months.
        let months = Months::of(&filter);
        let mut sql = Sql::new(self.backend, "WITH t AS MATERIALIZED (");
        match &months {
            Some(months) => months.figures(&mut sql, &filter),
            None => account_figures(&mut sql, &filter),
        }
        sql.push(")");
        if upsell {
            sql.push(", ").push(MEDIANS);
        }
        sql.push(&format!(
            " SELECT accounts.*, {gap} FROM (
                SELECT t.account_id, p, pa, d, s, last_answer_at, score_sum, people,
                    latest_comment, closed, {RECORD_COLUMNS}
                FROM t LEFT JOIN account_records r ON r.account_id = t.account_id
                UNION ALL
                SELECT r.account_id, CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT),
                    CAST(0 AS BIGINT), NULL, CAST(0 AS BIGINT), CAST(0 AS BIGINT), NULL,
                    CAST(0 AS BIGINT), {RECORD_COLUMNS}
                FROM account_records r
                WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.account_id = r.account_id)",
            gap = if upsell {
                "m.median - accounts.arr_cents AS gap"
            } else {
                "CAST(NULL AS DOUBLE PRECISION) AS gap"
            }
        ));
        if let Some(account) = &filter.account_id {
            sql.push(" AND r.account_id = ").push_bind(account.as_str());
        }
        sql.push(") AS accounts");
        if upsell {
            // Promoter and passive accounts by today's segment (their people's latest scores
            // over all time), whatever the range.
            sql.push(
                " JOIN medians m ON m.plan = accounts.plan
                 JOIN account_totals today ON today.account_id = accounts.account_id
                    AND today.scope = ",
            )
            .push_bind(filter.survey_id.clone().unwrap_or_default());
        }
        sql.new_where();
        if upsell {
            sql.and().push(
                "today.people > 0 AND today.score_sum >= 7 * today.people
                 AND accounts.arr_cents < m.median",
            );
        }
        if let Some(segment) = query.segment {
            // Qualified: the upsell list joins the running totals, which have these columns too.
            sql.and().push(&segment_condition(segment, "accounts."));
        }
        if let Some(owner) = &query.owner {
            sql.and().push("owner = ").push_bind(owner.as_str());
        }
        if let Some(plan) = &query.plan {
            sql.and().push("accounts.plan = ").push_bind(plan.as_str());
        }
        if let Some(day) = &query.renewal_before {
            sql.and().push("renewal_on < ").push_bind(day.as_str());
        }
        if let Page::After(Some(key)) = &page {
            sql.and();
            key.push_after(&mut sql);
        }
        sql.push(if upsell {
            " ORDER BY gap DESC, accounts.account_id"
        } else {
            match query.sort {
                AccountSort::Nps => ORDER,
                AccountSort::Arr => {
                    " ORDER BY CASE WHEN arr_cents IS NULL THEN 1 ELSE 0 END, arr_cents DESC,
                        accounts.account_id"
                }
                AccountSort::RenewalOn => {
                    " ORDER BY CASE WHEN renewal_on IS NULL THEN 1 ELSE 0 END, renewal_on,
                        accounts.account_id"
                }
            }
        })
        .push(" LIMIT ")
        .push_bind_int(filter.limit.max(0));
        if let Page::Offset(offset) = page {
            sql.push(" OFFSET ").push_bind_int(offset.max(0));
        }
        let rows = sql.build().fetch_all(&self.pool).await?;
        let mut closed = std::collections::HashMap::new();
        let mut accounts = rows
            .iter()
            .map(|r| {
                let people = count(r, 7)?;
                let score_sum = r.try_get::<Option<i64>, _>(6)?.unwrap_or(0);
                let account = AccountCounts {
                    account_id: r.try_get(0)?,
                    tally: tally(r, 1)?,
                    last_answer_at: r.try_get(5)?,
                    latest_comment: r.try_get(8)?,
                    mean_score: (people > 0).then(|| score_sum as f64 / people as f64),
                    people,
                    open_follow_ups: 0,
                    record: record_of(r, 10)?,
                    gap_cents: r.try_get(17)?,
                };
                closed.insert(account.account_id.clone(), count(r, 9)?);
                Ok(account)
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        if accounts.is_empty() {
            return Ok(accounts);
        }
        if months.is_some() {
            // The range's newest comments, for this page's accounts only.
            // Read by the (account_id, shown_at) index, the range as instants at midnight:
            // neither the survey's nor the days' index may lead (`survey_id || ''` keeps the
            // survey's out; with a page of ids SQLite's planner would otherwise walk the
            // survey's quarter, 1.1 s at 1.2 M responses).
            let ids: Vec<&str> = accounts.iter().map(|a| a.account_id.as_str()).collect();
            let instant = |bound: &Option<Bound>| match bound {
                Some(Bound::Day(day)) => Some(clock::stamp(day.midnight().assume_utc())),
                Some(Bound::Instant(at)) => Some(clock::stamp(*at)),
                None => None,
            };
            let mut sql = Sql::new(
                self.backend,
                "SELECT account_id, comment FROM (SELECT account_id, comment, ROW_NUMBER() OVER (
                    PARTITION BY account_id ORDER BY COALESCE(answered_at, '') DESC, id DESC)
                    AS newest
                 FROM responses",
            );
            sql.and().push("account_id ").push_in(ids.iter().copied());
            if let Some(from) = instant(&filter.from) {
                sql.and().push("shown_at >= ").push_bind(from);
            }
            if let Some(to) = instant(&filter.to) {
                sql.and().push("shown_at < ").push_bind(to);
            }
            if let Some(survey) = &filter.survey_id {
                sql.and()
                    .push("survey_id || '' = ")
                    .push_bind(survey.as_str());
            }
            sql.and()
                .push("comment IS NOT NULL AND comment <> '') AS commented WHERE newest = 1");
            let mut comments = std::collections::HashMap::new();
            for row in sql.build().fetch_all(&self.pool).await? {
                let comment: Option<String> = row.try_get(1)?;
                comments.insert(row.try_get::<String, _>(0)?, comment);
            }
            for a in &mut accounts {
                a.latest_comment = comments.remove(&a.account_id).flatten();
            }
        } else if filter.has_dates() {
            // Open follow-ups in a date range: every response is open but the closed ones,
            // which are few (a person closes them), so the closed ones are read first, by
            // their index, and their responses looked up by id (`CROSS JOIN` keeps SQLite's
            // planner from walking the survey's responses instead).
            let mut sql = Sql::new(
                self.backend,
                "SELECT account_id, CAST(COUNT(*) AS BIGINT) FROM follow_ups f
                 CROSS JOIN responses",
            );
            sql.and()
                .push("responses.id = f.response_id")
                .and()
                .push(&format!("f.status IN ({})", Status::closed_sql()))
                .filter(&filter)
                .and()
                .push("account_id ");
            sql.push_in(accounts.iter().map(|a| a.account_id.as_str()))
                .push(" GROUP BY account_id");
            closed.clear();
            for row in sql.build().fetch_all(&self.pool).await? {
                closed.insert(row.try_get::<String, _>(0)?, count(&row, 1)?);
            }
        }
        for a in &mut accounts {
            let total = a.tally.answers() + a.tally.silents;
            a.open_follow_ups =
                total.saturating_sub(closed.get(&a.account_id).copied().unwrap_or(0));
        }
        Ok(accounts)
    }
}

/// Columns `account_id, p, pa, d, s, last_answer_at, score_sum, people, latest_comment,
/// closed` of every account with responses `filter` selects: from the running totals over all
/// time, counted from the responses for a date range.
pub(super) fn account_figures(sql: &mut Sql, filter: &Filter) {
    if filter.has_dates() {
        counted_from_responses(sql, filter);
    } else {
        from_totals(sql, filter);
    }
}

/// Columns `account_id, p, pa, d, s, last_answer_at, score_sum, people, latest_comment` of
/// every account, from the running totals of the filter's survey (or of all surveys).
fn from_totals(sql: &mut Sql, filter: &Filter) {
    sql.push(
        "SELECT account_id, promoters AS p, passives AS pa, detractors AS d,
            silent AS s, last_answer_at, score_sum, people, latest_comment, closed
         FROM account_totals WHERE scope = ",
    );
    sql.push_bind(filter.survey_id.clone().unwrap_or_default());
    if let Some(account) = &filter.account_id {
        sql.push(" AND account_id = ").push_bind(account.as_str());
    }
    sql.push(" AND promoters + passives + detractors + silent > 0");
}

/// The same columns counted from the responses the filter selects (a date range), of every
/// account. In a range, `score_sum` and `people` are those of the scores given
/// in it (a person who answered twice in the range counts twice), so they add up by month
/// (see [`Months`]); the totals of all time hold the people's latest scores instead.
fn counted_from_responses(sql: &mut Sql, filter: &Filter) {
    sql.push(
        "SELECT counts.account_id, p, pa, d, s, last_answer_at, score_sum, people,
            latest_comment, CAST(0 AS BIGINT) AS closed
         FROM (SELECT account_id,
                CAST(SUM(CASE WHEN segment = 'promoter' THEN 1 ELSE 0 END) AS BIGINT) AS p,
                CAST(SUM(CASE WHEN segment = 'passive' THEN 1 ELSE 0 END) AS BIGINT) AS pa,
                CAST(SUM(CASE WHEN segment = 'detractor' THEN 1 ELSE 0 END) AS BIGINT) AS d,
                CAST(SUM(CASE WHEN segment = 'silent' THEN 1 ELSE 0 END) AS BIGINT) AS s,
                MAX(answered_at) AS last_answer_at,
                CAST(COALESCE(SUM(score), 0) AS BIGINT) AS score_sum,
                CAST(COUNT(score) AS BIGINT) AS people
            FROM responses",
    );
    sql.filter(filter);
    sql.and()
        .push("account_id IS NOT NULL GROUP BY account_id) AS counts")
        .push(
            " LEFT JOIN (SELECT account_id, comment AS latest_comment
            FROM (SELECT account_id, comment, ROW_NUMBER() OVER (
                    PARTITION BY account_id ORDER BY COALESCE(answered_at, '') DESC, id DESC)
                    AS newest
                FROM responses",
        );
    sql.new_where().filter(filter);
    sql.and()
        .push("account_id IS NOT NULL AND comment IS NOT NULL AND comment <> ''")
        .push(
            ") AS commented WHERE newest = 1) AS comments
            ON comments.account_id = counts.account_id",
        );
}

/// A date range as `account_months` answers it: the whole months `[first, end)` summed there,
/// the days before and after them (`[from, first)`, `[end, to)`) counted from the responses.
/// `None` as a month bound: no bound (the range is open on that side). Only day bounds split
/// so; an instant or a survey version needs the responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Months {
    from: Option<Date>,
    to: Option<Date>,
    /// The whole months, or `None` when the range holds no whole month.
    whole: Option<(Option<Date>, Option<Date>)>,
}

impl Months {
    /// How `filter`'s range splits, if it has one the months can answer.
    pub(super) fn of(filter: &Filter) -> Option<Months> {
        if !filter.has_dates() || filter.survey_version.is_some() {
            return None;
        }
        let day = |bound: &Option<Bound>| match bound {
            None => Some(None),
            Some(Bound::Day(day)) => Some(Some(*day)),
            Some(Bound::Instant(_)) => None,
        };
        let (from, to) = (day(&filter.from)?, day(&filter.to)?);
        let first = from.map(|d| if d.day() == 1 { d } else { next_month(d) });
        let end = to.and_then(|d| d.replace_day(1).ok());
        let whole = match (first, end) {
            (Some(first), Some(end)) if first >= end => None,
            bounds => Some(bounds),
        };
        Some(Months { from, to, whole })
    }

    /// Columns `account_id, p, pa, d, s, last_answer_at, score_sum, people, latest_comment,
    /// closed` of every account with responses in the range, as [`account_figures`] gives
    /// them, but for `latest_comment`, which does not add up by month: empty here,
    /// [`Store::accounts_page`] reads it for its page.
    pub(super) fn figures(&self, sql: &mut Sql, filter: &Filter) {
        sql.push(
            "SELECT parts.account_id, CAST(SUM(parts.p) AS BIGINT) AS p,
                CAST(SUM(parts.pa) AS BIGINT) AS pa, CAST(SUM(parts.d) AS BIGINT) AS d,
                CAST(SUM(parts.s) AS BIGINT) AS s, MAX(parts.last_answer_at) AS last_answer_at,
                CAST(SUM(parts.score_sum) AS BIGINT) AS score_sum,
                CAST(SUM(parts.scored) AS BIGINT) AS people,
                CAST(NULL AS TEXT) AS latest_comment,
                CAST(SUM(parts.closed) AS BIGINT) AS closed
             FROM (",
        );
        self.counts(sql, filter);
        sql.push(
            ") AS parts GROUP BY parts.account_id
             HAVING SUM(parts.p) + SUM(parts.pa) + SUM(parts.d) + SUM(parts.s) > 0",
        );
    }

    /// Rows `account_id, p, pa, d, s, last_answer_at, closed, score_sum, scored` to be summed
    /// per account: the
    /// whole months' rows, then the edges' responses and their closed follow-ups.
    fn counts(&self, sql: &mut Sql, filter: &Filter) {
        let mut parts = 0;
        let mut union = |sql: &mut Sql| {
            parts += 1;
            sql.new_where();
            if parts > 1 {
                sql.push(" UNION ALL ");
            }
        };
        if let Some((first, end)) = self.whole {
            union(sql);
            sql.push(
                "SELECT account_id, promoters AS p, passives AS pa, detractors AS d,
                    silent AS s, last_answer_at, closed, score_sum, scored FROM account_months",
            );
            sql.and()
                .push("scope = ")
                .push_bind(filter.survey_id.clone().unwrap_or_default());
            if let Some(account) = &filter.account_id {
                sql.and().push("account_id = ").push_bind(account.as_str());
            }
            if let Some(first) = first {
                sql.and().push("month >= ").push_bind(month(first));
            }
            if let Some(end) = end {
                sql.and().push("month < ").push_bind(month(end));
            }
        }
        let edges = match self.whole {
            None => [Some((self.from, self.to)), None],
            Some((first, end)) => [
                first
                    .filter(|f| Some(*f) != self.from)
                    .map(|f| (self.from, Some(f))),
                end.filter(|e| Some(*e) != self.to)
                    .map(|e| (Some(e), self.to)),
            ],
        };
        for (from, to) in edges.into_iter().flatten() {
            let edge = Filter {
                from: from.map(Bound::Day),
                to: to.map(Bound::Day),
                ..filter.clone()
            };
            union(sql);
            sql.push(
                "SELECT account_id,
                    CASE WHEN segment = 'promoter' THEN 1 ELSE 0 END AS p,
                    CASE WHEN segment = 'passive' THEN 1 ELSE 0 END AS pa,
                    CASE WHEN segment = 'detractor' THEN 1 ELSE 0 END AS d,
                    CASE WHEN segment = 'silent' THEN 1 ELSE 0 END AS s,
                    answered_at AS last_answer_at, 0 AS closed,
                    COALESCE(score, 0) AS score_sum,
                    CASE WHEN score IS NULL THEN 0 ELSE 1 END AS scored
                 FROM responses",
            );
            sql.filter(&edge).and().push("account_id IS NOT NULL");
            // The edges' closed follow-ups: few, read by their status's index first.
            union(sql);
            sql.push(
                "SELECT account_id, 0, 0, 0, 0, CAST(NULL AS TEXT), 1, 0, 0
                 FROM follow_ups f CROSS JOIN responses",
            );
            sql.and()
                .push("responses.id = f.response_id")
                .and()
                .push(&format!("f.status IN ({})", Status::closed_sql()))
                .filter(&edge)
                .and()
                .push("account_id IS NOT NULL");
        }
        if parts == 0 {
            // Unreachable (a range has whole months or an edge), but an empty union is no SQL.
            sql.push(
                "SELECT account_id, 0 AS p, 0 AS pa, 0 AS d, 0 AS s,
                    CAST(NULL AS TEXT) AS last_answer_at, 0 AS closed, 0 AS score_sum,
                    0 AS scored
                 FROM account_months WHERE 1 = 0",
            );
        }
    }
}

/// The first day of the month after `day`'s.
fn next_month(day: Date) -> Date {
    let (year, month) = match day.month() {
        time::Month::December => (day.year() + 1, time::Month::January),
        m => (day.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(day)
}

/// `YYYY-MM`, as `account_months` keys a month.
fn month(day: Date) -> String {
    let mut text = crate::clock::day(day);
    text.truncate(7);
    text
}
