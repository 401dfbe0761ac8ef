//! The counts behind the summary, the trend, the period comparison and the themes: each an
//! SQL aggregate over an index, so the collector reads a few hundred rows whatever the size of
//! the table.

use nps_widget::segment::Tally;
use sqlx::Row;

use super::sql::Sql;
use super::{tally, Backend, Result, Store};
use crate::model::{Filter, Interval, PeriodCounts};
use crate::themes::Comment;

/// Counts per segment, as SQL columns over rows that have a `segment` and a count `n`.
const SEGMENT_SUMS: &str = "CAST(SUM(CASE WHEN segment = 'promoter' THEN n ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN segment = 'passive' THEN n ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN segment = 'detractor' THEN n ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN segment = 'silent' THEN n ELSE 0 END) AS BIGINT)";

impl Store {
    /// Responses matching `filter` (its segment and limit aside), counted per segment and
    /// period by the database, oldest period first. Rows are first counted per day and
    /// segment (an index scan), then the days are folded into weeks or months.
    pub async fn period_counts(
        &self,
        filter: &Filter,
        interval: Interval,
    ) -> Result<Vec<PeriodCounts>> {
        let period = match (interval, self.backend) {
            (Interval::Month, _) => "substr(day, 1, 7)",
            (Interval::Week, Backend::Sqlite) => "date(day, 'weekday 0', '-6 days')",
            (Interval::Week, Backend::Postgres) => {
                "to_char(date_trunc('week', CAST(day AS timestamp)), 'YYYY-MM-DD')"
            }
        };
        let mut sql = Sql::new(
            self.backend,
            &format!(
                "SELECT period, {SEGMENT_SUMS} FROM (
                SELECT {period} AS period, segment, n FROM (
                    SELECT shown_day AS day, segment, COUNT(*) AS n FROM responses"
            ),
        );
        sql.filter(&filter.without_segment()).push(
            " GROUP BY shown_day, segment
                ) AS days
             ) AS periods
             GROUP BY period ORDER BY period",
        );
        let rows = sql.build().fetch_all(&self.pool).await?;
        let periods = rows
            .iter()
            .map(|r| {
                Ok(PeriodCounts {
                    period: r.try_get::<Option<String>, _>(0)?.unwrap_or_default(),
                    tally: tally(r, 1)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(periods)
    }

    /// Responses matching `filter` (segment aside), counted per segment.
    pub async fn tally(&self, filter: &Filter) -> Result<Tally> {
        let mut sql = Sql::new(
            self.backend,
            &format!("SELECT {SEGMENT_SUMS} FROM (SELECT segment, COUNT(*) AS n FROM responses"),
        );
        sql.filter(&filter.without_segment())
            .push(" GROUP BY segment) AS segments");
        let row = sql.build().fetch_one(&self.pool).await?;
        Ok(tally(&row, 0)?)
    }

    /// The latest comments of `filter`'s responses (with who wrote them), newest first, at
    /// most `limit`: what the themes are found in.
    pub async fn comments(&self, filter: &Filter, limit: i64) -> Result<Vec<Comment>> {
        let mut sql = Sql::new(
            self.backend,
            "SELECT id, comment, locale, segment, COALESCE(user_id, id), account_id
             FROM responses",
        );
        sql.filter(filter)
            .and()
            .push("comment IS NOT NULL AND comment <> ''")
            .push(" ORDER BY shown_at DESC, id DESC LIMIT ")
            .push_bind_int(limit.max(0));
        let comments = sql
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Comment {
                    id: r.try_get(0)?,
                    text: r.try_get(1)?,
                    locale: r.try_get(2)?,
                    segment: r.try_get(3)?,
                    person: r.try_get(4)?,
                    account: r.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(comments)
    }
}
