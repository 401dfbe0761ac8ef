//! Making the writer's commits durable beside it (SQLite): see [`Flusher`].

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{Result, StoreError};
use crate::model::Upsert;

/// The answers of one committed batch, each with where it goes.
pub(super) type Answers = Vec<(oneshot::Sender<Result<Upsert>>, Upsert)>;

/// Makes the writer's commits durable beside it (SQLite). The writer's connection commits with
/// `synchronous = NORMAL`: the WAL's pages are written but not flushed, and the writer goes on
/// to the next batch at once, while this thread flushes the WAL file (`fdatasync`) and only
/// then sends the batch's answers, so a 2xx still means on disk. One flush covers every batch
/// committed before it began (group commit, with the flush pipelined): measured, the writer's
/// own flush in each commit was where most of a batch's time went, with the cores a third idle.
/// A checkpoint (run by the writer's commits) flushes the WAL before it copies from it and
/// the database file after, as SQLite does in this mode. When the flush fails the batch's
/// requests get an error, and the widget sends them again.
pub(super) struct Flusher {
    pub(super) batches: std::sync::mpsc::SyncSender<Answers>,
}

impl Flusher {
    /// Starts the flushing thread for the WAL file `wal`; it ends with the writer.
    pub(super) fn start(wal: std::path::PathBuf) -> std::io::Result<Flusher> {
        let (batches, committed) = std::sync::mpsc::sync_channel::<Answers>(8);
        std::thread::Builder::new()
            .name("nps-flush".into())
            .spawn(move || {
                while let Ok(first) = committed.recv() {
                    let mut ready = vec![first];
                    ready.extend(committed.try_iter());
                    let flushed = std::fs::File::open(&wal).and_then(|f| f.sync_data());
                    if let Err(e) = &flushed {
                        tracing::error!(wal = %wal.display(), error = %e, "flushing the WAL");
                    }
                    let failed = flushed.err().map(Arc::new);
                    for (reply, upsert) in ready.into_iter().flatten() {
                        let _ = reply.send(match &failed {
                            None => Ok(upsert),
                            Some(e) => Err(StoreError::Flush {
                                path: wal.display().to_string(),
                                source: e.clone(),
                            }),
                        });
                    }
                }
            })?;
        Ok(Flusher { batches })
    }
}

#[cfg(test)]
mod tests {
    use super::{Flusher, Upsert};
    use crate::store::StoreError;

    #[test]
    fn a_batch_is_answered_after_its_flush_and_refused_when_the_flush_fails() {
        let dir = std::env::temp_dir().join(format!("nps-flush-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wal = dir.join("x.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        let flusher = Flusher::start(wal).unwrap();
        let (reply, answer) = tokio::sync::oneshot::channel();
        flusher
            .batches
            .send(vec![(reply, Upsert::Inserted)])
            .unwrap();
        assert!(matches!(
            answer.blocking_recv().unwrap(),
            Ok(Upsert::Inserted)
        ));

        let flusher = Flusher::start(dir.join("missing.db-wal")).unwrap();
        let (reply, answer) = tokio::sync::oneshot::channel();
        flusher
            .batches
            .send(vec![(reply, Upsert::Updated)])
            .unwrap();
        match answer.blocking_recv().unwrap() {
            Err(StoreError::Flush { path, .. }) => assert!(path.ends_with("missing.db-wal")),
            other => panic!("a failed flush acknowledged the batch: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
