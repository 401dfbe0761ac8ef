//! The detractor alerts the writer queues in a batch's transaction (`notices`, sent by
//! `notify`).

use nps_widget::response::Response;
use sqlx::{Any, Transaction};

use super::sql::Sql;
use super::{Backend, Queues};
use crate::clock;

/// Queues a detractor alert per chat URL for each detractor the batch changed: due now when
/// the response is complete, `notify_delay_ms` after a partial (the comment may follow). A
/// response already alerted is not alerted again; a complete arriving before a partial's
/// alert makes it due at once.
pub(super) async fn queue_alerts(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    changed: &[&Response],
    queues: &Queues,
) -> Result<(), sqlx::Error> {
    let now = clock::now_ms();
    let mut due: std::collections::BTreeMap<&str, i64> = Default::default();
    for r in changed {
        if r.segment != nps_widget::segment::Segment::Detractor {
            continue;
        }
        let at = if r.state == nps_widget::response::State::Complete {
            now
        } else {
            now + queues.notify_delay_ms
        };
        let entry = due.entry(r.id.as_str()).or_insert(at);
        *entry = (*entry).min(at);
    }
    let rows: Vec<(&str, i64, &str)> = due
        .iter()
        .flat_map(|(id, at)| queues.notify.iter().map(move |t| (*id, *at, t.as_str())))
        .collect();
    let earlier = match backend {
        Backend::Sqlite => "MIN(notices.due_at, excluded.due_at)",
        Backend::Postgres => "LEAST(notices.due_at, excluded.due_at)",
    };
    for chunk in rows.chunks(100) {
        let mut sql = Sql::new(
            backend,
            "INSERT INTO notices (response_id, target, due_at, attempts, next_at) VALUES ",
        );
        for (n, (id, at, target)) in chunk.iter().enumerate() {
            sql.open_row(n)
                .push_bind(*id)
                .push(", ")
                .push_bind(*target)
                .push(", ")
                .push_bind_int(*at)
                .push(", 0, 0)");
        }
        sql.push(&format!(
            " ON CONFLICT (response_id, target) DO UPDATE SET due_at = {earlier} \
             WHERE notices.sent_at IS NULL"
        ));
        sql.build().execute(&mut **tx).await?;
    }
    Ok(())
}
