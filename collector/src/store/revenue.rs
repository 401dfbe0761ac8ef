//! The money reports: how the revenue base splits by the accounts' segments (today's), how
//! much of it answered in the period, and its revenue-weighted NPS over the period, each one
//! statement over the accounts' running totals (for a date range, their counts per month and
//! the responses of its partial months) joined with their records.

use sqlx::Row;

use super::accounts::{account_figures, segment_condition, Months};
use super::sql::Sql;
use super::{count, Result, Store};
use crate::model::{Filter, RevenueCounts, SegmentMoney};

impl Store {
    /// The revenue base and its split by segment over the responses `filter` selects.
    pub async fn revenue(&self, filter: &Filter) -> Result<RevenueCounts> {
        let filter = filter.without_segment();
        let base = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(arr_cents), 0) AS BIGINT)
             FROM account_records",
        )
        .fetch_one(&self.pool)
        .await?;
        let mut counts = RevenueCounts {
            accounts: count(&base, 0)?,
            total_arr_cents: base.try_get::<Option<i64>, _>(1)?.unwrap_or(0),
            ..RevenueCounts::default()
        };
        let mut sql = Sql::new(self.backend, "WITH t AS MATERIALIZED (");
        match Months::of(&filter) {
            Some(months) => months.figures(&mut sql, &filter),
            None => account_figures(&mut sql, &filter),
        }
        let segments = ["promoter", "passive", "detractor", "silent"];
        let mut case = String::from("CASE");
        for (name, segment) in segments.iter().zip([
            nps_widget::segment::Segment::Promoter,
            nps_widget::segment::Segment::Passive,
            nps_widget::segment::Segment::Detractor,
            nps_widget::segment::Segment::Silent,
        ]) {
            case.push_str(&format!(
                " WHEN {} THEN '{name}'",
                segment_condition(segment, "")
            ));
        }
        case.push_str(" END");
        // The period's counts are `t`'s (`rp`, `rpa`, `rd`); the segment is today's, from the
        // running totals of the scope.
        sql.push(&format!(
            ") SELECT seg, CAST(COUNT(*) AS BIGINT),
                CAST(COALESCE(SUM(r.arr_cents), 0) AS BIGINT),
                SUM(CASE WHEN rp + rpa + rd > 0 AND r.arr_cents IS NOT NULL
                    THEN CAST(r.arr_cents AS DOUBLE PRECISION) * (rp - rd) * 100 / (rp + rpa + rd)
                    END),
                CAST(COALESCE(SUM(CASE WHEN rp + rpa + rd > 0 THEN r.arr_cents END), 0) AS BIGINT)
             FROM (SELECT account_id, rp, rpa, rd, {case} AS seg FROM (
                    SELECT t.account_id, t.p AS rp, t.pa AS rpa, t.d AS rd,
                        today.promoters AS p, today.passives AS pa, today.detractors AS d,
                        today.silent AS s, today.score_sum, today.people
                    FROM t LEFT JOIN account_totals today ON today.account_id = t.account_id
                        AND today.scope = "
        ))
        .push_bind(filter.survey_id.clone().unwrap_or_default())
        .push(
            ") AS both_ways) AS x
             LEFT JOIN account_records r ON r.account_id = x.account_id
             GROUP BY seg",
        );
        for row in sql.build().fetch_all(&self.pool).await? {
            let seg: Option<String> = row.try_get(0)?;
            let Some(i) = seg
                .as_deref()
                .and_then(|s| segments.iter().position(|n| *n == s))
            else {
                continue;
            };
            counts.by_segment[i] = SegmentMoney {
                accounts: count(&row, 1)?,
                arr_cents: row.try_get::<Option<i64>, _>(2)?.unwrap_or(0),
            };
            counts.weighted_sum += row.try_get::<Option<f64>, _>(3)?.unwrap_or(0.0);
            counts.weighted_arr_cents += row.try_get::<Option<i64>, _>(4)?.unwrap_or(0);
        }
        Ok(counts)
    }
}
