//! Building one SQL statement with its bound values, for the queries whose conditions depend
//! on the filter. It has the shape of `sqlx::QueryBuilder` (`push`, `push_bind`, `build`), but
//! writes each database's own placeholders: the store runs on sqlx's `Any` driver, and
//! `QueryBuilder<Any>` writes `?` (sqlx-core 0.8's default `Arguments::format_placeholder`),
//! which PostgreSQL refuses. PostgreSQL gets `$1, $2, …`; SQLite gets `?`. SQLite reads `$n`
//! too, but as a *named* parameter, and sqlx looks up every parameter's name when it binds,
//! a linear search in SQLite: a 700-value upsert paid for it quadratically (9 % of the writer's
//! time, measured with perf). A bare `?` has no name to look up.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

use super::Backend;
use crate::clock;
use crate::model::{Bound, Filter, StatusFilter};

/// A value bound to one placeholder.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Int(i64),
    Null,
    NullInt,
}

/// One statement under construction.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
    conditions: usize,
    /// `$n` (PostgreSQL) rather than `?` (SQLite).
    numbered: bool,
}

impl Sql {
    /// Starts a statement with `text`, for `backend`'s placeholders.
    pub(crate) fn new(backend: Backend, text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            numbered: backend == Backend::Postgres,
            ..Sql::default()
        }
    }

    /// Binds `value` to a new placeholder.
    fn bind(&mut self, value: Value) -> &mut Sql {
        self.values.push(value);
        if self.numbered {
            let n = self.values.len();
            self.text.push_str(&format!("${n}"));
        } else {
            self.text.push('?');
        }
        self
    }

    /// Appends SQL of our own (never a value from outside).
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn push_bind(&mut self, value: impl Into<String>) -> &mut Sql {
        self.bind(Value::Text(value.into()))
    }

    /// Appends a placeholder bound to text or `NULL`.
    pub(crate) fn push_bind_opt(&mut self, value: Option<String>) -> &mut Sql {
        let value = match value {
            Some(text) => Value::Text(text),
            None => Value::Null,
        };
        self.bind(value)
    }

    /// Appends a placeholder bound to a number or `NULL`.
    pub(crate) fn push_bind_int_opt(&mut self, value: Option<i64>) -> &mut Sql {
        let value = match value {
            Some(n) => Value::Int(n),
            None => Value::NullInt,
        };
        self.bind(value)
    }

    /// Appends a placeholder bound to a number.
    pub(crate) fn push_bind_int(&mut self, value: i64) -> &mut Sql {
        self.bind(Value::Int(value))
    }

    /// Opens the `n`-th row of a multi-row `VALUES` list: `(`, then `, (`.
    pub(crate) fn open_row(&mut self, n: usize) -> &mut Sql {
        self.push(if n == 0 { "(" } else { ", (" })
    }

    /// Starts the next condition: ` WHERE ` the first time, ` AND ` after.
    pub(crate) fn and(&mut self) -> &mut Sql {
        self.conditions += 1;
        self.push(if self.conditions == 1 {
            " WHERE "
        } else {
            " AND "
        })
    }

    /// Starts a new `WHERE` clause (of the next subquery).
    pub(crate) fn new_where(&mut self) -> &mut Sql {
        self.conditions = 0;
        self
    }

    /// The filter's conditions over `responses` (only those it sets, so that each query can
    /// use its index). Bounds by day let the index narrow the scan and answer alone; a bound
    /// with a time of day adds the exact comparison.
    pub(crate) fn filter(&mut self, filter: &Filter) -> &mut Sql {
        if let Some(survey) = &filter.survey_id {
            self.and().push("survey_id = ").push_bind(survey.as_str());
        }
        if let Some(segment) = filter.segment {
            self.and().push("segment = ").push_bind(segment.as_str());
        }
        if let Some(version) = filter.survey_version {
            self.and().push("survey_version = ").push_bind_int(version);
        }
        if let Some(account) = &filter.account_id {
            self.and().push("account_id = ").push_bind(account.as_str());
        }
        match filter.from {
            Some(Bound::Day(day)) => {
                self.and().push("shown_day >= ").push_bind(clock::day(day));
            }
            Some(Bound::Instant(at)) => {
                self.and()
                    .push("shown_day >= ")
                    .push_bind(clock::day(at.date()));
                self.and().push("shown_at >= ").push_bind(clock::stamp(at));
            }
            None => {}
        }
        match filter.to {
            Some(Bound::Day(day)) => {
                self.and().push("shown_day < ").push_bind(clock::day(day));
            }
            Some(Bound::Instant(at)) => {
                self.and()
                    .push("shown_day <= ")
                    .push_bind(clock::day(at.date()));
                self.and().push("shown_at < ").push_bind(clock::stamp(at));
            }
            None => {}
        }
        self
    }

    /// The follow-up condition, over `follow_ups f` joined to the responses.
    pub(crate) fn status(&mut self, status: Option<StatusFilter>) -> &mut Sql {
        match status {
            None => {}
            Some(StatusFilter::Open) => {
                self.and().push(&format!(
                    "COALESCE(f.status, 'new') NOT IN ({})",
                    crate::model::Status::closed_sql()
                ));
            }
            Some(StatusFilter::Is(status)) => {
                self.and()
                    .push("COALESCE(f.status, 'new') = ")
                    .push_bind(status.as_str());
            }
        }
        self
    }

    /// `IN ($n, …)` over `values`.
    pub(crate) fn push_in<'v>(&mut self, values: impl IntoIterator<Item = &'v str>) -> &mut Sql {
        self.push("IN (");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v);
        }
        self.push(")")
    }

    /// The statement's text.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The statement with its values bound.
    pub(crate) fn build(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut query = sqlx::query(&self.text);
        for value in &self.values {
            query = match value {
                Value::Text(t) => query.bind(t.as_str()),
                Value::Int(i) => query.bind(*i),
                Value::Null => query.bind(None::<String>),
                Value::NullInt => query.bind(None::<i64>),
            };
        }
        query
    }
}

/// Most rows of one multi-row statement (22 bound values each: 2,816, within both databases'
/// limits of 32,766 and 65,535). Statements are made of 128, 64, 32, … or 1 rows, so that a few
/// prepared forms serve every batch size. Each statement is a round trip between the writer's
/// task and the database, and round trips, not rows, are what a batch's time goes to: pieces of
/// 32 rows gave 5.9 k/s, of 128 rows … (100 k responses, 64 connections).
pub(super) const MAX_ROWS: usize = 128;

/// `n` rows cut into pieces of the prepared sizes: 165 → 128, 32, 4, 1.
pub(super) fn pieces<T>(rows: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let mut size = MAX_ROWS;
        while size > rest.len() {
            size /= 2;
        }
        let (piece, tail) = rest.split_at(size);
        out.push(piece);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nps_widget::segment::Segment;

    #[test]
    fn placeholders_are_numbered_in_order_and_only_set_conditions_appear() {
        let mut sql = Sql::new(Backend::Postgres, "SELECT id FROM responses");
        sql.filter(&Filter {
            survey_id: Some("s".into()),
            segment: Some(Segment::Passive),
            from: clock::parse_bound("2026-11-01T09:30:00+01:00"),
            ..Filter::default()
        });
        assert_eq!(
            sql.text(),
            "SELECT id FROM responses WHERE survey_id = $1 AND segment = $2 \
             AND shown_day >= $3 AND shown_at >= $4"
        );
        assert_eq!(sql.values.len(), 4);
        assert!(
            matches!(&sql.values[3], Value::Text(t) if t == "2026-11-01T08:30:00.000Z"),
            "the offset is converted to UTC before comparing"
        );
        let mut empty = Sql::new(Backend::Postgres, "SELECT 1");
        empty.filter(&Filter::default());
        assert_eq!(empty.text(), "SELECT 1");
        let mut sqlite = Sql::new(Backend::Sqlite, "SELECT id FROM responses");
        sqlite.filter(&Filter {
            survey_id: Some("s".into()),
            segment: Some(Segment::Passive),
            ..Filter::default()
        });
        assert_eq!(
            sqlite.text(),
            "SELECT id FROM responses WHERE survey_id = ? AND segment = ?",
            "SQLite gets anonymous placeholders"
        );
    }

    #[test]
    fn batches_are_cut_into_the_prepared_sizes() {
        let rows: Vec<u32> = (0..165).collect();
        let sizes: Vec<usize> = pieces(&rows).iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [128, 32, 4, 1]);
        let rows: Vec<u32> = (0..300).collect();
        let sizes: Vec<usize> = pieces(&rows).iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [128, 128, 32, 8, 4]);
        assert!(pieces::<u32>(&[]).is_empty());
    }
}
