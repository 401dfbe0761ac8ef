//! The store on its own, on a real SQLite file and a real PostgreSQL server: upserts that never
//! go backwards, the accounts' running totals (kept by the writer) agreeing with the same figures
//! counted from the responses, follow-ups and notes, the webhook queue and its lease.

#[macro_use]
mod pg;

use pg::Db;

use nps_collector::model::{Filter, Status};
use nps_collector::{clock, Store};
use nps_widget::response::Response;
use nps_widget::segment::Segment;
use serde_json::json;

on_both!(
    upserts_never_go_backwards,
    running_totals_agree_with_the_responses,
    accounts_of_one_segment_come_from_their_peoples_latest_scores,
    the_databases_weeks_and_months_are_the_calendars,
    follow_ups_and_notes_are_kept_apart_from_re_deliveries,
    the_lease_is_held_by_one_collector_at_a_time,
);

/// A store on a fresh database (and the SQLite file's directory, removed on drop).
async fn open(db: Db, forward: bool) -> (Store, TempDir) {
    let dir = pg::http::temp_dir("store-test", "t");
    let url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.join("t.db").display()),
        Db::Postgres => pg::fresh_database().await,
    };
    (
        Store::open_with(&url, nps_collector::store::Queues::forward(forward))
            .await
            .unwrap(),
        TempDir(dir),
    )
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A response `n` of `user` in `account`, scored `score` (`None`: dismissed) at minute `at`.
#[allow(clippy::too_many_arguments)]
fn response(
    n: u32,
    survey: &str,
    user: Option<&str>,
    account: &str,
    score: Option<u8>,
    at: u32,
    state: &str,
    comment: Option<&str>,
) -> (Response, String) {
    let segment = match score {
        None => "silent",
        Some(0..=6) => "detractor",
        Some(7..=8) => "passive",
        Some(_) => "promoter",
    };
    let time = format!(
        "2026-11-{:02}T{:02}:{:02}:00.000Z",
        1 + at / 1440,
        at / 60 % 24,
        at % 60
    );
    let mut body = json!({
        "schema": 1,
        "id": format!("0b6e3c1a-5f7d-4c2e-9a8b-{n:012}"),
        "survey_id": survey,
        "score": score,
        "segment": segment,
        "state": state,
        "user": {"account_id": account},
        "context": {"url": "https://app.example/", "locale": "en"},
        "shown_at": time,
        "answered_at": time,
    });
    if let Some(user) = user {
        body["user"]["id"] = json!(user);
    }
    if score.is_none() {
        body["silent_reason"] = json!("dismissed");
    }
    if let Some(comment) = comment {
        body["comment"] = json!(comment);
    }
    let text = body.to_string();
    (serde_json::from_value(body).unwrap(), text)
}

async fn put(store: &Store, (r, body): (Response, String)) -> nps_collector::model::Upsert {
    store.upsert(r, body).await.unwrap()
}

fn all(limit: i64) -> Filter {
    Filter {
        limit,
        ..Filter::default()
    }
}

/// The same filter, narrowed by dates that hold every response: counted from the responses
/// instead of read from the running totals.
fn counted(filter: &Filter) -> Filter {
    Filter {
        from: clock::parse_bound("2000-01-01"),
        to: clock::parse_bound("2100-01-01"),
        ..filter.clone()
    }
}

async fn upserts_never_go_backwards(db: Db) {
    use nps_collector::model::Upsert;
    let (store, _dir) = open(db, false).await;
    let partial = response(1, "s", Some("u1"), "a", Some(3), 0, "partial", None);
    let complete = response(
        1,
        "s",
        Some("u1"),
        "a",
        Some(3),
        0,
        "complete",
        Some("slow"),
    );
    assert_eq!(put(&store, partial.clone()).await, Upsert::Inserted);
    assert_eq!(put(&store, complete).await, Upsert::Updated);
    assert_eq!(put(&store, partial).await, Upsert::Stale);
    let rows = store.rows(&all(10)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "complete");
    assert_eq!(rows[0].comment.as_deref(), Some("slow"));
    let accounts = store
        .account_counts(&all(10), 0, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        accounts[0].tally.detractors, 1,
        "a response updated twice counts once"
    );
}

async fn running_totals_agree_with_the_responses(db: Db) {
    let (store, _dir) = open(db, false).await;
    // Two surveys; people answering again (the latest counts), anonymous answers (each one a
    // person), dismissals, comments, a partial later completed, an account with only silence.
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    for (survey, user, account, score, at, comment) in [
        ("s1", Some("ann"), "acme", Some(10), 10, Some("love it")),
        ("s1", Some("ann"), "acme", Some(4), 20, Some("export broke")),
        ("s2", Some("ann"), "acme", Some(9), 30, None),
        ("s1", Some("bob"), "acme", Some(8), 15, None),
        ("s1", None, "acme", Some(2), 16, Some("slow")),
        ("s1", None, "acme", Some(7), 17, None),
        ("s1", Some("cid"), "globex", None, 5, None),
        ("s2", Some("dee"), "globex", None, 6, None),
        ("s1", Some("eve"), "initech", Some(9), 40, Some("great")),
        ("s2", Some("eve"), "initech", Some(3), 41, None),
        ("s2", Some("fay"), "initech", Some(10), 39, Some("fast")),
    ] {
        put(
            &store,
            response(
                next(),
                survey,
                user,
                account,
                score,
                at,
                "complete",
                comment,
            ),
        )
        .await;
    }
    let id = next();
    put(
        &store,
        response(
            id,
            "s2",
            Some("gus"),
            "umbrella",
            Some(6),
            50,
            "partial",
            None,
        ),
    )
    .await;
    put(
        &store,
        response(
            id,
            "s2",
            Some("gus"),
            "umbrella",
            Some(6),
            50,
            "complete",
            Some("meh"),
        ),
    )
    .await;
    for survey in [None, Some("s1"), Some("s2")] {
        let filter = Filter {
            survey_id: survey.map(str::to_owned),
            ..all(100)
        };
        let fast = store
            .account_counts(&filter, 0, &Default::default())
            .await
            .unwrap();
        let slow = store
            .account_counts(&counted(&filter), 0, &Default::default())
            .await
            .unwrap();
        // A range's means are of every score given in it; all time's, of each person's
        // latest (checked by hand below): the rest is the same.
        let counts_only = |accounts: &[nps_collector::model::AccountCounts]| {
            accounts
                .iter()
                .map(|a| nps_collector::model::AccountCounts {
                    people: 0,
                    mean_score: None,
                    ..a.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            counts_only(&fast),
            counts_only(&slow),
            "survey {survey:?}: running totals = counted"
        );
        for (segment, name) in [
            (Segment::Promoter, "promoter"),
            (Segment::Passive, "passive"),
            (Segment::Detractor, "detractor"),
            (Segment::Silent, "silent"),
        ] {
            let of_segment = store
                .account_counts(
                    &filter,
                    0,
                    &nps_collector::model::AccountQuery {
                        segment: Some(segment),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let classified: Vec<_> = fast
                .iter()
                .filter(|a| nps_collector::report::account_segment(a.mean_score) == name)
                .cloned()
                .collect();
            assert_eq!(
                of_segment, classified,
                "survey {survey:?}, {segment:?} accounts"
            );
        }
    }
    let everyone = store
        .account_counts(&all(100), 0, &Default::default())
        .await
        .unwrap();
    store.rebuild_account_totals().await.unwrap();
    assert_eq!(
        store
            .account_counts(&all(100), 0, &Default::default())
            .await
            .unwrap(),
        everyone,
        "totals rebuilt from the rows = totals the writer kept"
    );
    let acme = everyone.iter().find(|a| a.account_id == "acme").unwrap();
    // Ann's latest over all surveys is her 9 (s2), Bob 8, two anonymous answers 2 and 7.
    assert_eq!(acme.people, 4);
    assert_eq!(acme.mean_score, Some((9.0 + 8.0 + 2.0 + 7.0) / 4.0));
    assert_eq!(acme.latest_comment.as_deref(), Some("export broke"));
    assert_eq!(acme.tally.answers(), 6);
    let globex = everyone.iter().find(|a| a.account_id == "globex").unwrap();
    assert_eq!((globex.people, globex.mean_score), (0, None));
    assert_eq!(everyone.last().unwrap().account_id, "globex", "silent last");
    let umbrella = everyone
        .iter()
        .find(|a| a.account_id == "umbrella")
        .unwrap();
    assert_eq!(
        (umbrella.tally.detractors, umbrella.people),
        (1, 1),
        "a partial then its complete is one response of one person"
    );
    assert_eq!(umbrella.latest_comment.as_deref(), Some("meh"));
}

async fn accounts_of_one_segment_come_from_their_peoples_latest_scores(db: Db) {
    let (store, _dir) = open(db, false).await;
    let mut n = 0;
    // Mean 9 exactly: a promoter account; 8.5: passive; 7: passive; 6.5: detractor.
    for (account, scores) in [
        ("p9", [9, 9]),
        ("pa85", [8, 9]),
        ("pa7", [7, 7]),
        ("d65", [6, 7]),
    ] {
        for (i, score) in scores.into_iter().enumerate() {
            n += 1;
            let user = format!("{account}-u{i}");
            put(
                &store,
                response(
                    n,
                    "s",
                    Some(&user),
                    account,
                    Some(score),
                    n,
                    "complete",
                    None,
                ),
            )
            .await;
        }
    }
    let ids = |segment| {
        let store = store.clone();
        async move {
            store
                .account_counts(
                    &all(100),
                    0,
                    &nps_collector::model::AccountQuery {
                        segment: Some(segment),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.account_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(Segment::Promoter).await, ["p9"]);
    let mut passive = ids(Segment::Passive).await;
    passive.sort();
    assert_eq!(passive, ["pa7", "pa85"]);
    assert_eq!(ids(Segment::Detractor).await, ["d65"]);
    assert!(ids(Segment::Silent).await.is_empty());
}

async fn follow_ups_and_notes_are_kept_apart_from_re_deliveries(db: Db) {
    let (store, _dir) = open(db, true).await;
    let r = response(
        1,
        "s",
        Some("u1"),
        "a",
        Some(2),
        0,
        "complete",
        Some("broken"),
    );
    let id = r.0.id.clone();
    put(&store, r.clone()).await;
    let f = store
        .set_follow_up(&id, Some(Status::Contacted), Some(Some("sam")), "sam")
        .await
        .unwrap();
    assert_eq!(
        (f.status, f.owner.as_deref()),
        (Status::Contacted, Some("sam"))
    );
    store
        .add_note(&id, "called, will fix", Some("sam"))
        .await
        .unwrap();
    put(&store, r).await;
    let f = store.follow_up(&id).await.unwrap();
    assert_eq!(
        f.status,
        Status::Contacted,
        "a re-delivery keeps the follow-up"
    );
    assert_eq!(f.notes.len(), 1);
    assert_eq!(f.notes[0].text, "called, will fix");
    let open = Filter {
        status: Some(nps_collector::model::StatusFilter::Open),
        ..all(10)
    };
    assert_eq!(store.rows(&open).await.unwrap().len(), 1);
    store
        .set_follow_up(&id, Some(Status::Resolved), None, "sam")
        .await
        .unwrap();
    assert!(store.rows(&open).await.unwrap().is_empty());
    let accounts = store
        .account_counts(&all(10), 0, &Default::default())
        .await
        .unwrap();
    assert_eq!(accounts[0].open_follow_ups, 0, "resolved is closed");
    // The response, the change, the note, the re-delivery, the second change.
    assert_eq!(store.queued_forwards().await.unwrap(), 5);
}

async fn the_lease_is_held_by_one_collector_at_a_time(db: Db) {
    let (store, _dir) = open(db, false).await;
    assert!(store.take_lease("forward", "a", 1_000, 500).await.unwrap());
    assert!(!store.take_lease("forward", "b", 1_200, 500).await.unwrap());
    assert!(
        store.take_lease("forward", "a", 1_300, 500).await.unwrap(),
        "renewed"
    );
    assert!(
        store.take_lease("forward", "b", 1_900, 500).await.unwrap(),
        "expired"
    );
    store.release_lease("forward", "b").await.unwrap();
    assert!(
        store.take_lease("forward", "a", 1_950, 500).await.unwrap(),
        "released"
    );
}

async fn the_databases_weeks_and_months_are_the_calendars(db: Db) {
    use nps_collector::model::Interval;
    let (store, _dir) = open(db, false).await;
    // Minutes from 2026-11-01 (a Sunday): that Sunday, the Monday after, and on through the
    // month's last day, five weeks in all.
    let minutes = [0, 1440, 1440 * 8, 1440 * 15, 1440 * 22, 1440 * 29 + 60];
    for (n, at) in minutes.iter().enumerate() {
        put(
            &store,
            response(n as u32 + 1, "s", None, "a", Some(9), *at, "complete", None),
        )
        .await;
    }
    let shown: Vec<String> = store
        .rows(&all(100))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.shown_at)
        .collect();
    for interval in [Interval::Week, Interval::Month] {
        let mut expected: Vec<String> = shown
            .iter()
            .map(|t| clock::period_of(t, interval).unwrap())
            .collect();
        expected.sort();
        expected.dedup();
        let periods: Vec<String> = store
            .period_counts(&all(1), interval)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.period)
            .collect();
        assert_eq!(
            periods, expected,
            "{interval:?}: SQL buckets = the calendar's"
        );
    }
}
