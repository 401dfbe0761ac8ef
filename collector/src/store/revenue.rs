//! The money reports: how the revenue base splits by the accounts' segments, how much of it
//! answered, and its revenue-weighted NPS, each one statement over the accounts' running
//! totals (or, for a date range, over that range's responses) joined with their records.

use sqlx::Row;

use super::accounts::{account_figures, segment_condition};
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
        account_figures(&mut sql, &filter);
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
                segment_condition(segment)
            ));
        }
        case.push_str(" END");
        sql.push(&format!(
            ") SELECT seg, CAST(COUNT(*) AS BIGINT),
                CAST(COALESCE(SUM(r.arr_cents), 0) AS BIGINT),
                SUM(CASE WHEN p + pa + d > 0 AND r.arr_cents IS NOT NULL
                    THEN CAST(r.arr_cents AS DOUBLE PRECISION) * (p - d) * 100 / (p + pa + d)
                    END),
                CAST(COALESCE(SUM(CASE WHEN p + pa + d > 0 THEN r.arr_cents END), 0) AS BIGINT)
             FROM (SELECT t.*, {case} AS seg FROM t) AS x
             LEFT JOIN account_records r ON r.account_id = x.account_id
             GROUP BY seg"
        ));
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
