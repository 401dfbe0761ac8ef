//! Upgrades, over real HTTP on SQLite and PostgreSQL: a database the way each earlier schema
//! version left it opens in today's collector with every row and every report intact.
//!
//! For every version v before today's, an empty database is migrated to v and no further
//! (`Store::migrate_to`), and the fixture is written into it the way the collector of v wrote
//! it: into the tables v has, in the columns v has (read from the database itself), each part
//! (responses; follow-ups; notes; tokens; the link key; surveys and their versions; account
//! records; referrals; annotations; the links issued) only at a version that has all of its
//! tables. Today's collector then opens it, migrating the rest, and the test checks, naming v
//! in every failure:
//! - every fixture row, column by column: what was written, and in a column added after v
//!   what its migration fills it with (`filled_later`);
//! - the running totals, row by row, and every report and list over HTTP (summary and trend,
//!   compare, the lists and their CSV, accounts and their CSV, people, revenue, themes,
//!   referrals, annotations, surveys), against the reference;
//! - a token made at v authenticates with its role; a personal link signed at v with the key
//!   kept in `secrets` opens its page.
//!
//! The reference is a fresh database at today's version that got the same fixture through
//! today's API (`POST /v1/responses` for each delivery, the follow-ups, notes, surveys, records,
//! referrals and annotations by their routes). A version older than a part has no such rows, and
//! neither has its reference: there is one reference per set of parts, built once per backend,
//! and checked to hold the fixture's rows (which shows the fixture is what the collector writes).
//! What differs by nature between the two is named in `NOW_FIELDS`.
//!
//! The running totals (`account_people`, `account_totals`, `account_months`) are kept by the
//! writer as it writes; a database the way version v left it has them consistent with its
//! rows. The test makes them so by clearing them and replaying, in order, every migration step
//! up to v that inserts into, updates or deletes from one of them: the fills from the stored
//! rows (`TOTALS_FROM_RESPONSES`, `TOTALS_EXTRAS`, `MONTHS_V1`, `MONTHS_FROM_RESPONSES`) and
//! the `DELETE` that clears `account_months` before its refill, each as it was written. That is
//! faithful because the running totals of a database equal a fill from its stored rows: the
//! migrations rely on it when they fill the totals of an existing database, and
//! `rebuild_account_totals` after a bulk import; and the comparison with the reference (whose
//! totals the writer kept) would show it if they did not. No other step is replayed: the other
//! rows the migrations insert are seeds (leases, `crm_state`, `chores`), the `shown_day`
//! backfill is a migration's effect the test checks, and SQLite's copies into the `_by_key`
//! tables move totals that the fills already made (`NOT_REPLAYED`).
//!
//! On SQLite the running totals were rebuilt as WITHOUT ROWID tables, each in four steps
//! (create the copy, fill it, drop the old table, rename the copy). No collector ran between
//! those steps, which came in one release, and between the drop and the rename the writer's
//! table does not exist: a version whose schema has a table today's has not is written at the
//! last version before its rebuild began, then migrated on to v.
//!
//! Not covered: the queues (webhook, alerts, CRM) and the audit trail, which a collector
//! without `--forward`, `--notify` or `--crm` leaves empty and no report reads; internal
//! people's responses.

#[macro_use]
mod pg;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use nps_collector::link::{self, Link};
use nps_collector::{Backend, Settings, Store};
use nps_widget::response::Response;
use pg::http::call;
use pg::Db;
use serde_json::{json, Value};
use sqlx::{AnyPool, Row as _};

const ADMIN: &str = "upgrade-test-admin-token-0123456789";

/// The link key the fixture keeps in `secrets`, made as the collector makes one: 32 random
/// bytes in hex, whose text is the key.
const LINK_KEY: &str = "3f6c0e9a4b1d7e2f58a6c3b9d0e1f2a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0";
/// When the fixture's links expire: long after any run of this test.
const LINK_EXPIRES: i64 = 4_000_000_000;
/// When the fixture's newer link was signed (seconds).
const LINK_ISSUED: i64 = 1_750_000_000;

/// The running totals the writer keeps (see the module doc of the collector's `migrate`).
const RUNNING_TOTALS: [&str; 3] = ["account_people", "account_totals", "account_months"];

/// The other tables the migrations write rows into, and why the replay leaves them.
const NOT_REPLAYED: [(&str, &str); 6] = [
    (
        "responses",
        "the shown_day backfill: a migration's effect on stored rows, which the test checks",
    ),
    (
        "leases",
        "a seed row per lease, written once by its migration",
    ),
    ("crm_state", "the CRM sync's seed row"),
    ("chores", "the retention chore's seed row"),
    (
        "account_people_by_key",
        "SQLite's copy of the people's totals into their WITHOUT ROWID table",
    ),
    (
        "account_totals_by_key",
        "SQLite's copy of the accounts' totals into their WITHOUT ROWID table",
    ),
];

/// Keys of the answers, and columns of the CSV, that legitimately differ from the reference's:
/// the reference's API stamps these with the moment of its calls, where the fixture has fixed
/// times.
const NOW_FIELDS: [(&str, &str); 5] = [
    (
        "updated_at",
        "a follow-up's, a referral's or an annotation's last change",
    ),
    ("at", "a note's time"),
    ("created_at", "a referral's or an annotation's creation"),
    ("changed_at", "a survey version's time"),
    (
        "new_wording",
        "the trend's mark of a new survey wording, in the period of its version's changed_at \
         (checked on its own against the fixture)",
    ),
];

/// The fixture's columns stamped by the API with the moment of the call: the reference's hold
/// other times than the fixture's.
const NOW_COLUMNS: [(&str, &str); 11] = [
    ("responses", "received_at"),
    ("responses", "updated_at"),
    ("follow_ups", "updated_at"),
    ("notes", "at"),
    ("surveys", "changed_at"),
    ("survey_versions", "changed_at"),
    ("account_records", "updated_at"),
    ("referrals", "created_at"),
    ("referrals", "updated_at"),
    ("annotations", "created_at"),
    ("annotations", "updated_at"),
];

/// Keys the database makes: the fixture never writes them, as no collector did.
const GENERATED: [(&str, &str); 3] = [
    ("notes", "seq"),
    ("referrals", "seq"),
    ("annotations", "seq"),
];

/// The parts the reference gets through the API (the responses always): the others (tokens,
/// the link key, the links) are in no report.
const API_PARTS: [&str; 6] = [
    "follow_ups",
    "notes",
    "surveys",
    "records",
    "referrals",
    "annotations",
];

on_both!(every_earlier_schema_version_opens_with_its_rows_and_reports);

async fn every_earlier_schema_version_opens_with_its_rows_and_reports(db: Db) {
    let started = Instant::now();
    let fixture = Fixture::new();
    let backend = match db {
        Db::Sqlite => Backend::Sqlite,
        Db::Postgres => Backend::Postgres,
    };
    let steps = Store::migration_steps(backend);
    let known = steps.len() as i64;
    check_replay_classification(&steps);
    let layouts = layouts(db, known).await;
    let plans: Vec<Plan> = (1..known)
        .map(|v| Plan::new(db, v, &layouts, &fixture))
        .collect();
    let mut shapes: Vec<&[&'static str]> = plans.iter().map(|p| p.shape.as_slice()).collect();
    shapes.sort_unstable();
    shapes.dedup();
    let built = shapes
        .iter()
        .map(|shape| Reference::build(db, &fixture, shape, &layouts));
    let built = futures_util::future::join_all(built).await;
    let references: BTreeMap<&[&'static str], Reference> = shapes.into_iter().zip(built).collect();
    // Each lane upgrades every AT_ONCE-th version, one after the other, in a database of its
    // own.
    let lanes = (0..AT_ONCE).map(|lane| {
        let (plans, fixture, layouts, steps) = (&plans, &fixture, &layouts, &steps);
        let references = &references;
        async move {
            let mut lane_database = None;
            for plan in plans.iter().skip(lane).step_by(AT_ONCE) {
                let url = empty_database(db, &mut lane_database, plan.version).await;
                let reference = &references[plan.shape.as_slice()];
                upgrade(plan, &url, fixture, layouts, steps, reference).await;
            }
        }
    });
    futures_util::future::join_all(lanes).await;
    let written_earlier: Vec<i64> = plans
        .iter()
        .filter(|p| p.write_at < p.version)
        .map(|p| p.version)
        .collect();
    println!(
        "upgrade, {db:?}: {} versions ({written_earlier:?} written before a rebuild of the \
         running totals), {} references, {:.1} s",
        known - 1,
        references.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Versions upgraded at once: each waits on its database most of the time.
const AT_ONCE: usize = 4;

/// An empty database for version `v`. SQLite: a new file. PostgreSQL: the lane's database
/// (`reused`), made on its first use and emptied for each next version (its schema dropped and
/// made anew, sequences and all): the server makes new databases one at a time, about 0.4 s
/// each, which was most of the test's time.
async fn empty_database(db: Db, reused: &mut Option<String>, v: i64) -> String {
    match (db, reused.as_ref()) {
        (Db::Postgres, Some(url)) => {
            let pool = sql_pool(url);
            for sql in ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"] {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
            url.clone()
        }
        _ => {
            let url = pg::http::database(db, "upgrade", &format!("v{v}")).await;
            *reused = Some(url.clone());
            url
        }
    }
}

/// How one version is tested: the version its fixture is written at, and what it holds.
struct Plan<'a> {
    version: i64,
    /// `version`, or the last version before a rebuild of the running totals under way at it.
    write_at: i64,
    /// The parts of the fixture whose tables `write_at` has.
    parts: Vec<&'a Part>,
    /// Those the reference gets through the API.
    shape: Vec<&'static str>,
    /// Names the version in every failure.
    at: String,
}

impl<'a> Plan<'a> {
    fn new(db: Db, version: i64, layouts: &[Tables], fixture: &'a Fixture) -> Plan<'a> {
        let today = layouts.last().unwrap();
        let write_at = (1..=version)
            .rev()
            .find(|&u| {
                layouts[u as usize]
                    .keys()
                    .all(|table| today.contains_key(table))
            })
            .unwrap_or(1);
        let written = &layouts[write_at as usize];
        let parts: Vec<&Part> = fixture
            .parts
            .iter()
            .filter(|p| p.tables().iter().all(|t| written.contains_key(*t)))
            .collect();
        let shape = parts
            .iter()
            .map(|p| p.name)
            .filter(|name| API_PARTS.contains(name))
            .collect();
        Plan {
            version,
            write_at,
            parts,
            shape,
            at: format!("{db:?}, schema version {version} (written at {write_at})"),
        }
    }
}

/// Writes the fixture into a database at the plan's version, opens it with today's collector,
/// and checks every row, the running totals, every report, the tokens and the links.
async fn upgrade(
    plan: &Plan<'_>,
    url: &str,
    fixture: &Fixture,
    layouts: &[Tables],
    steps: &[String],
    reference: &Reference,
) {
    let (v, at) = (plan.version, plan.at.as_str());
    let today = layouts.last().unwrap();
    let written = &layouts[plan.write_at as usize];
    Store::migrate_to(url, plan.write_at).await.unwrap();
    let pool = sql_pool(url);
    let replayed = &steps[..plan.write_at as usize];
    write_fixture(&pool, &plan.parts, written, replayed, at).await;
    pool.close().await;
    if plan.write_at < v {
        Store::migrate_to(url, v).await.unwrap();
    }
    let pool = sql_pool(url);
    let version: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_version")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(version, v, "{at}: the database is at the version tested");

    let collector = Collector::start(url, at).await;
    for part in &plan.parts {
        for table in part.tables() {
            let expected = part.expected_rows(table, written, today, at);
            let stored = stored_rows(&pool, table, today).await;
            same_rows(at, table, &expected, &stored, today);
        }
    }
    for table in RUNNING_TOTALS {
        let stored = stored_rows(&pool, table, today).await;
        same_rows(
            &format!("{at}, the running totals against the reference's"),
            table,
            &reference.totals[table],
            &stored,
            today,
        );
    }
    // A follow-up changed before `updated_by` existed has none (who changed it was not kept):
    // the lists say `null` where the reference names the teammate.
    let mut differ: Vec<&str> = NOW_FIELDS.iter().map(|(key, _)| *key).collect();
    if written
        .get("follow_ups")
        .is_some_and(|columns| !columns.iter().any(|c| c == "updated_by"))
    {
        differ.push("updated_by");
    }
    let answers = reports(collector.addr, &differ).await;
    for ((path, upgraded), (_, expected)) in answers.iter().zip(&reference.reports(&differ)) {
        assert!(
            upgraded == expected,
            "{at}: {path} differs from the reference's\n--- upgraded:\n{upgraded}\n--- \
             reference:\n{expected}"
        );
    }
    let has = |part: &str| plan.parts.iter().any(|p| p.name == part);
    if has("surveys") {
        the_new_wording_is_marked(collector.addr, at).await;
    }
    if has("tokens") {
        tokens_authenticate(collector.addr, fixture, at).await;
    }
    if has("link_key") {
        links_open(collector.addr, at).await;
    }
    if has("links") {
        the_links_issued_are_held(collector.addr, at).await;
    }
    collector.stop().await;
    pool.close().await;
}

/// Every data-changing migration step writes a running total (and is replayed) or a table of
/// `NOT_REPLAYED`: a new step that writes another table must be classified here first.
fn check_replay_classification(steps: &[String]) {
    for (i, sql) in steps.iter().enumerate() {
        if let Some(table) = written_table(sql) {
            assert!(
                RUNNING_TOTALS.contains(&table) || NOT_REPLAYED.iter().any(|(t, _)| *t == table),
                "migration {} writes {table}: is it a running total the writer keeps (add it to \
                 RUNNING_TOTALS) or a seed or backfill (add it to NOT_REPLAYED)?\n{sql}",
                i + 1
            );
        }
    }
}

/// The table a data-changing statement writes (`INSERT INTO t`, `UPDATE t`, `DELETE FROM t`);
/// `None` for any other statement.
fn written_table(sql: &str) -> Option<&str> {
    let words: Vec<&str> = sql.split_whitespace().take(3).collect();
    let table = match words.as_slice() {
        [insert, into, table]
            if insert.eq_ignore_ascii_case("insert") && into.eq_ignore_ascii_case("into") =>
        {
            table
        }
        [delete, from, table]
            if delete.eq_ignore_ascii_case("delete") && from.eq_ignore_ascii_case("from") =>
        {
            table
        }
        [update, table, _] if update.eq_ignore_ascii_case("update") => table,
        _ => return None,
    };
    table.split('(').next()
}

/// One version's tables and their columns, in order.
type Tables = BTreeMap<String, Vec<String>>;

/// A table's rows, each value as text (`NULL` as `None`), sorted.
type Rows = Vec<Vec<Option<String>>>;

/// Every version's tables (index v is version v; 0 has none), read from a scratch database
/// migrated one step at a time.
async fn layouts(db: Db, known: i64) -> Vec<Tables> {
    let url = pg::http::database(db, "upgrade", "layouts").await;
    let mut layouts = vec![Tables::new()];
    for v in 1..=known {
        Store::migrate_to(&url, v).await.unwrap();
        let pool = sql_pool(&url);
        let sql = match db {
            Db::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                    AND m.name <> 'schema_version'
                 ORDER BY m.name, p.cid"
            }
            Db::Postgres => {
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT)
                 FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name <> 'schema_version'
                 ORDER BY table_name, ordinal_position"
            }
        };
        let mut tables = Tables::new();
        for row in sqlx::query(sql).fetch_all(&pool).await.unwrap() {
            let (table, column): (String, String) = (row.get(0), row.get(1));
            tables.entry(table).or_default().push(column);
        }
        pool.close().await;
        layouts.push(tables);
    }
    layouts
}

fn sql_pool(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .connect_lazy(url)
        .unwrap()
}

/// Writes `parts` as the collector of the version with `tables` wrote them, then makes the
/// running totals what its writer left: cleared, and the fills of `steps` (the migrations up
/// to that version) replayed in order. One transaction.
async fn write_fixture(
    pool: &AnyPool,
    parts: &[&Part],
    tables: &Tables,
    steps: &[String],
    at: &str,
) {
    let mut tx = pool.begin().await.unwrap();
    for part in parts {
        for row in &part.rows {
            let columns: Vec<&str> = tables[row.table]
                .iter()
                .map(String::as_str)
                .filter(|c| !GENERATED.contains(&(row.table, *c)))
                .collect();
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                row.table,
                columns.join(", "),
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for column in &columns {
                query = match row.cell(column) {
                    Some(Cell::Text(text)) => query.bind(text.clone()),
                    Some(Cell::Int(n)) => query.bind(*n),
                    None => panic!(
                        "{at}: the fixture's {} row has no {column}, a column of that version",
                        row.table
                    ),
                };
            }
            query
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{at}: {sql}: {e}"));
        }
    }
    for table in RUNNING_TOTALS {
        if tables.contains_key(table) {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    for (i, sql) in steps.iter().enumerate() {
        if written_table(sql).is_some_and(|t| RUNNING_TOTALS.contains(&t)) {
            sqlx::query(sql)
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{at}: replaying migration {}: {e}\n{sql}", i + 1));
        }
    }
    tx.commit().await.unwrap();
}

/// Every row of `table` with the columns today's schema gives it (the generated keys aside),
/// each as text, sorted.
async fn stored_rows(pool: &AnyPool, table: &str, today: &Tables) -> Rows {
    let columns: Vec<String> = compared_columns(table, today)
        .iter()
        .map(|c| format!("CAST({c} AS TEXT)"))
        .collect();
    let sql = format!("SELECT {} FROM {table}", columns.join(", "));
    let mut rows: Rows = sqlx::query(&sql)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| (0..columns.len()).map(|i| row.get(i)).collect())
        .collect();
    rows.sort();
    rows
}

/// The columns of `table` the checks compare: today's, the generated keys aside.
fn compared_columns<'a>(table: &str, today: &'a Tables) -> Vec<&'a str> {
    today[table]
        .iter()
        .map(String::as_str)
        .filter(|c| !GENERATED.contains(&(table, *c)))
        .collect()
}

/// Fails, naming `at` and the table, unless `expected` and `stored` hold the same rows; each
/// stored row that differs is shown beside the expected row nearest it, by the columns that
/// differ.
fn same_rows(at: &str, table: &str, expected: &Rows, stored: &Rows, today: &Tables) {
    if expected == stored {
        return;
    }
    let columns = compared_columns(table, today);
    let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
    let whole = |row: &Vec<Option<String>>| -> String {
        let cells: Vec<String> = columns
            .iter()
            .zip(row)
            .map(|(c, v)| format!("{c}={}", value(v)))
            .collect();
        cells.join(", ")
    };
    let mut unmatched: Vec<&Vec<Option<String>>> =
        stored.iter().filter(|r| !expected.contains(r)).collect();
    let mut lines = Vec::new();
    for row in expected.iter().filter(|r| !stored.contains(r)) {
        let alike =
            |other: &Vec<Option<String>>| row.iter().zip(other).filter(|(a, b)| a == b).count();
        let nearest = (0..unmatched.len()).max_by_key(|&i| alike(unmatched[i]));
        match nearest {
            Some(i) if alike(unmatched[i]) > 0 => {
                let other = unmatched.remove(i);
                let differs: Vec<String> = columns
                    .iter()
                    .zip(row.iter().zip(other))
                    .filter(|(_, (a, b))| a != b)
                    .map(|(c, (a, b))| format!("{c}: expected {}, stored {}", value(a), value(b)))
                    .collect();
                // Named by its leading columns, its key in every table compared.
                let key: Vec<String> = columns
                    .iter()
                    .zip(row.iter().zip(other))
                    .take(3)
                    .take_while(|(_, (a, b))| a == b)
                    .map(|(c, (a, _))| format!("{c}={}", value(a)))
                    .collect();
                lines.push(format!("row {}: {}", key.join(", "), differs.join("; ")));
            }
            _ => lines.push(format!("missing: {}", whole(row))),
        }
    }
    for row in unmatched {
        lines.push(format!("not expected: {}", whole(row)));
    }
    panic!(
        "{at}: {table} holds other rows than expected ({} expected, {} stored)\n{}",
        expected.len(),
        stored.len(),
        lines.join("\n")
    );
}

/// What a column added after a row was written holds once migrated: its migration's fill.
fn filled_later(table: &str, column: &str, row: &FixtureRow, at: &str) -> Option<String> {
    match (table, column) {
        // `UPDATE responses SET shown_day = substr(shown_at, 1, 10)`.
        ("responses", "shown_day") => row.text("shown_at").map(|s| s[..10].to_owned()),
        // Added without a fill, with the widget's field: before it, a body naming a version was
        // refused (a response's fields are closed), so no stored answer had one. (The fixture's
        // bodies carry one at every version; the column stays empty as the migration leaves it.)
        ("responses", "survey_version") => None,
        // `NOT NULL DEFAULT 0`: nothing was anonymised before retention.
        ("responses", "anonymised") => Some("0".into()),
        // Added without a fill: who changed a follow-up was not kept before.
        ("follow_ups", "updated_by") => None,
        _ => panic!(
            "{at}: {table}.{column} was added after the fixture was written: say in \
             filled_later what its migration fills it with"
        ),
    }
}

/// One column's value in a fixture row, typed as the collector binds it.
#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Cell {
    /// The value as the checks read it back (`CAST(… AS TEXT)`).
    fn as_text(&self) -> Option<String> {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Int(n) => n.map(|n| n.to_string()),
        }
    }
}

fn text(value: &str) -> Cell {
    Cell::Text(Some(value.to_owned()))
}

fn maybe(value: Option<&str>) -> Cell {
    Cell::Text(value.map(str::to_owned))
}

fn int(value: i64) -> Cell {
    Cell::Int(Some(value))
}

/// One row as the collector writes it: every column today's schema has (the generated keys
/// aside), by name; a version writes those it had.
#[derive(Debug, Clone)]
struct FixtureRow {
    table: &'static str,
    cells: Vec<(&'static str, Cell)>,
}

impl FixtureRow {
    fn cell(&self, column: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, cell)| cell)
    }

    fn text(&self, column: &str) -> Option<String> {
        self.cell(column).and_then(Cell::as_text)
    }
}

/// Rows that belong together, written only at a version that has all their tables.
#[derive(Debug)]
struct Part {
    name: &'static str,
    rows: Vec<FixtureRow>,
}

impl Part {
    fn tables(&self) -> Vec<&'static str> {
        let mut tables: Vec<&'static str> = self.rows.iter().map(|r| r.table).collect();
        tables.dedup();
        tables
    }

    /// The rows `table` should hold once today's collector migrated a database written with
    /// the columns of `written`: as written, and in the columns added since, their fill.
    fn expected_rows(&self, table: &str, written: &Tables, today: &Tables, at: &str) -> Rows {
        let mut rows: Rows = self
            .rows
            .iter()
            .filter(|r| r.table == table)
            .map(|row| {
                compared_columns(table, today)
                    .iter()
                    .map(|column| {
                        if written[table].iter().any(|c| c == column) {
                            row.text(column)
                        } else {
                            filled_later(table, column, row, at)
                        }
                    })
                    .collect()
            })
            .collect();
        rows.sort();
        rows
    }
}

/// A response's id.
fn id(n: u32) -> String {
    format!("7c1e0a52-3b4d-4e6f-8a9b-{n:012}")
}

/// A response as the widget delivers it: number `n` of `survey`, shown in `minute`
/// (`YYYY-MM-DDTHH:MM`, answered 5 s later, completed 20 s later), silent when `score` is
/// `None`.
fn delivery(
    n: u32,
    survey: &str,
    score: Option<u8>,
    state: &str,
    user: &Value,
    minute: &str,
) -> Value {
    let segment = match score {
        None => "silent",
        Some(0..=6) => "detractor",
        Some(7..=8) => "passive",
        Some(_) => "promoter",
    };
    let mut r = json!({
        "schema": 1, "id": id(n), "survey_id": survey, "score": score, "segment": segment,
        "state": state, "user": user,
        "context": {"url": format!("https://app.example/page?n={n}"), "locale": "en"},
        "shown_at": format!("{minute}:00.000Z"), "answered_at": format!("{minute}:05.000Z"),
    });
    if state == "complete" {
        r["completed_at"] = json!(format!("{minute}:20.000Z"));
    }
    r
}

/// `delivery` with more fields.
fn with(mut r: Value, fields: Value) -> Value {
    for (key, value) in fields.as_object().unwrap() {
        if value.is_null() {
            r.as_object_mut().unwrap().remove(key);
        } else {
            r[key] = value.clone();
        }
    }
    r
}

/// The token of the fixture's teammate `name`.
fn token_of(name: &str) -> String {
    format!("upgrade-{name}-token-0123456789")
}

/// A personal link for Ann, signed with the fixture's key: `issued_at` 0 is a link signed
/// before links carried the time they were signed.
fn ann_link(issued_at: i64) -> String {
    Link {
        survey_id: "default".into(),
        user_id: Some("ann".into()),
        account_id: Some("acme".into()),
        email: Some("ann@acme.example".into()),
        locale: None,
        expires_at: LINK_EXPIRES,
        nonce: format!("upgrade-{issued_at}"),
        issued_at,
    }
    .sign(LINK_KEY.as_bytes())
}

/// What a team had in its database when it upgraded, in the terms of the API (what the
/// reference is sent) and as rows (what the earlier collector wrote).
struct Fixture {
    /// Each response's deliveries in order (a partial before its complete, a referral click
    /// after); the last is the stored state.
    answers: Vec<Vec<Value>>,
    /// (response, status, owner), changed by mia.
    follow_ups: Vec<(u32, &'static str, Option<&'static str>)>,
    /// (response, text), by mia, in the order written.
    notes: Vec<(u32, &'static str)>,
    /// The survey `in-app`'s versions: (status, definition), saved by the admin.
    survey: Vec<(&'static str, Value)>,
    /// (account, record as `PUT /v1/accounts/{id}` takes it), by mia.
    records: Vec<(&'static str, Value)>,
    /// (response, referral as `POST /v1/responses/{id}/referrals` takes it), by mia.
    referrals: Vec<(u32, Value)>,
    /// As `POST /v1/annotations` takes them, by mia.
    annotations: Vec<Value>,
    /// (name, role, last used).
    tokens: Vec<(&'static str, &'static str, Option<&'static str>)>,
    parts: Vec<Part>,
}

/// When the fixture's teammates made their changes, and the survey's versions were saved.
const FOLLOW_UP_AT: &str = "2025-06-20T09:00:00.000Z";
const NOTE_AT: &str = "2025-06-20T09:30:00.000Z";
const REFERRAL_AT: &str = "2025-06-21T09:00:00.000Z";
const ANNOTATION_AT: &str = "2025-06-22T09:00:00.000Z";
const RECORD_AT: &str = "2025-06-23T09:00:00.000Z";
const TOKEN_AT: &str = "2025-01-02T08:00:00.000Z";
const SURVEY_AT: [&str; 3] = [
    "2025-03-20T10:00:00.000Z",
    "2025-04-01T10:00:00.000Z",
    "2025-04-01T11:00:00.000Z",
];

impl Fixture {
    fn new() -> Fixture {
        let ann = json!({"id": "ann", "account_id": "acme", "email": "ann@acme.example",
            "traits": {"role": "cfo"}});
        let bob = json!({"id": "bob", "account_id": "acme", "email": "bob@acme.example",
            "traits": {"role": "engineer"}});
        let cat = json!({"id": "cat", "account_id": "globex", "email": "cat@globex.example"});
        let dan = json!({"id": "dan", "account_id": "globex"});
        let eve = json!({"id": "eve", "email": "eve@example.org"});
        let fay = json!({"id": "fay", "account_id": "initech", "email": "fay@initech.example"});
        let gus = json!({"id": "gus", "account_id": "initech"});
        let anonymous = json!({"account_id": "acme"});
        let ann_partial = delivery(1, "default", Some(3), "partial", &ann, "2025-01-10T09:00");
        let cat_answer = with(
            delivery(5, "in-app", Some(10), "complete", &cat, "2025-04-02T12:00"),
            json!({"comment": "Love the new exports", "survey_version": 2}),
        );
        let answers = vec![
            vec![
                ann_partial,
                with(
                    delivery(1, "default", Some(3), "complete", &ann, "2025-01-10T09:00"),
                    json!({"comment": "Billing is slow and the invoice PDF is wrong",
                        "contact_consent": true}),
                ),
            ],
            vec![with(
                delivery(2, "default", Some(9), "complete", &ann, "2025-03-05T10:00"),
                json!({"comment": "Much better since the billing fix"}),
            )],
            vec![delivery(
                3,
                "default",
                Some(8),
                "partial",
                &bob,
                "2025-02-14T15:30",
            )],
            vec![with(
                delivery(
                    4,
                    "default",
                    None,
                    "complete",
                    &anonymous,
                    "2025-02-20T08:00",
                ),
                json!({"silent_reason": "dismissed"}),
            )],
            vec![
                cat_answer.clone(),
                with(cat_answer, json!({"referral_clicked": true})),
            ],
            vec![with(
                delivery(6, "in-app", Some(6), "complete", &dan, "2025-05-18T16:45"),
                json!({"comment": "=export breaks on large files", "survey_version": 2}),
            )],
            vec![delivery(
                7,
                "default",
                Some(7),
                "complete",
                &eve,
                "2025-05-30T11:00",
            )],
            vec![with(
                delivery(8, "default", Some(0), "complete", &fay, "2025-06-12T07:15"),
                json!({"comment": "Reports are too slow, billing too"}),
            )],
            vec![with(
                delivery(9, "default", None, "partial", &gus, "2026-11-20T09:00"),
                json!({"silent_reason": "ignored", "answered_at": null}),
            )],
            vec![delivery(
                10,
                "default",
                Some(10),
                "complete",
                &ann,
                "2026-11-25T09:00",
            )],
        ];
        let mut fixture = Fixture {
            answers,
            follow_ups: vec![
                (1, "contacted", Some("mia")),
                (3, "referral_asked", Some("mia")),
                (5, "referred", None),
                (6, "resolved", Some("mia")),
                (8, "new", Some("vic")),
            ],
            notes: vec![
                (1, "Called Ann: the invoice fix ships Friday"),
                (1, "Fixed; she is happy now"),
                (6, "Sent the workaround for large exports"),
            ],
            survey: vec![
                (
                    "draft",
                    json!({"strings": {"question": "How likely are you to recommend us?"}}),
                ),
                (
                    "draft",
                    json!({"strings": {"question": "How likely are you to recommend our exports?"}}),
                ),
                (
                    "active",
                    json!({"strings": {"question": "How likely are you to recommend our exports?"}}),
                ),
            ],
            records: vec![
                (
                    "acme",
                    json!({"name": "Acme Inc", "arr": 120000, "plan": "pro", "owner": "mia",
                        "renewal_on": "2027-01-31", "crm_url": "https://crm.example/acme",
                        "traits": {"seats": 40}}),
                ),
                (
                    "globex",
                    json!({"name": "Globex", "arr": 30000.5, "plan": "pro"}),
                ),
                (
                    "initech",
                    json!({"arr": 8000, "plan": "starter", "renewal_on": "2026-12-31"}),
                ),
                (
                    "hooli",
                    json!({"name": "Hooli", "arr": 50000, "plan": "pro"}),
                ),
            ],
            referrals: vec![(
                5,
                json!({"name": "Zed Park", "company": "Zedco", "email": "zed@zedco.example",
                    "note": "Wants a demo in May"}),
            )],
            annotations: vec![
                json!({"date": "2025-02-01", "end_date": "2025-02-28", "text": "Billing migration"}),
                json!({"date": "2025-04-02", "text": "Exports launched", "survey_id": "in-app"}),
                json!({"date": "2025-03-01", "text": "Renewal call", "account_id": "acme"}),
            ],
            tokens: vec![
                ("ada", "admin", None),
                ("mia", "member", Some("2025-06-01T10:00:00.000Z")),
                ("vic", "viewer", None),
            ],
            parts: Vec::new(),
        };
        fixture.parts = fixture.rows();
        fixture
    }

    /// The stored state of response `n`.
    fn answer(&self, n: u32) -> Response {
        let last = self.answers[n as usize - 1].last().unwrap();
        serde_json::from_value(last.clone()).unwrap()
    }

    /// The fixture as the rows a collector wrote, by part.
    fn rows(&self) -> Vec<Part> {
        let responses = self
            .answers
            .iter()
            .map(|deliveries| {
                let body = deliveries.last().unwrap();
                let r: Response = serde_json::from_value(body.clone()).unwrap();
                let arrived = r.completed_at.clone().or(r.answered_at.clone());
                let arrived = arrived.unwrap_or(r.shown_at.clone());
                FixtureRow {
                    table: "responses",
                    cells: vec![
                        ("id", text(&r.id)),
                        ("survey_id", text(&r.survey_id)),
                        ("score", Cell::Int(r.score.map(i64::from))),
                        ("segment", text(r.segment.as_str())),
                        ("silent_reason", maybe(r.silent_reason.map(|s| s.as_str()))),
                        ("comment", maybe(r.comment.as_deref())),
                        (
                            "contact_consent",
                            Cell::Int(r.contact_consent.map(i64::from)),
                        ),
                        (
                            "referral_clicked",
                            Cell::Int(r.referral_clicked.map(i64::from)),
                        ),
                        ("state", text(r.state.as_str())),
                        ("rank", int(i64::from(r.rank()))),
                        ("user_id", maybe(r.user.id.as_deref())),
                        ("account_id", maybe(r.user.account_id.as_deref())),
                        ("email", maybe(r.user.email.as_deref())),
                        ("url", text(&r.context.url)),
                        ("locale", text(&r.context.locale)),
                        ("shown_at", text(&r.shown_at)),
                        ("answered_at", maybe(r.answered_at.as_deref())),
                        ("completed_at", maybe(r.completed_at.as_deref())),
                        ("body", text(&body.to_string())),
                        ("received_at", text(&arrived)),
                        ("updated_at", text(&arrived)),
                        ("shown_day", text(&r.shown_at[..10])),
                        ("survey_version", Cell::Int(r.survey_version.map(i64::from))),
                        ("anonymised", int(0)),
                    ],
                }
            })
            .collect();
        let follow_ups = self
            .follow_ups
            .iter()
            .map(|(n, status, owner)| FixtureRow {
                table: "follow_ups",
                cells: vec![
                    ("response_id", text(&id(*n))),
                    ("status", text(status)),
                    ("owner", maybe(*owner)),
                    ("updated_at", text(FOLLOW_UP_AT)),
                    ("updated_by", text("mia")),
                ],
            })
            .collect();
        let notes = self
            .notes
            .iter()
            .map(|(n, note)| FixtureRow {
                table: "notes",
                cells: vec![
                    ("response_id", text(&id(*n))),
                    ("text", text(note)),
                    ("author", text("mia")),
                    ("at", text(NOTE_AT)),
                ],
            })
            .collect();
        let tokens = self
            .tokens
            .iter()
            .map(|(name, role, last_used)| FixtureRow {
                table: "tokens",
                cells: vec![
                    ("name", text(name)),
                    ("role", text(role)),
                    (
                        "digest",
                        text(&nps_collector::team::digest(&token_of(name))),
                    ),
                    ("created_at", text(TOKEN_AT)),
                    ("last_used_at", maybe(*last_used)),
                ],
            })
            .collect();
        let link_key = vec![FixtureRow {
            table: "secrets",
            cells: vec![("name", text("link")), ("value", text(LINK_KEY))],
        }];
        let survey_row = |table: &'static str, version: usize| {
            let (status, definition) = &self.survey[version - 1];
            FixtureRow {
                table,
                cells: vec![
                    ("id", text("in-app")),
                    ("name", text("In-app NPS")),
                    ("status", text(status)),
                    ("version", int(version as i64)),
                    ("definition", text(&definition.to_string())),
                    ("changed_by", text("admin")),
                    ("changed_at", text(SURVEY_AT[version - 1])),
                ],
            }
        };
        let mut surveys = vec![survey_row("surveys", self.survey.len())];
        for version in 1..=self.survey.len() {
            surveys.push(survey_row("survey_versions", version));
        }
        let records = self
            .records
            .iter()
            .map(|(account, record)| {
                let field = |key: &str| maybe(record[key].as_str());
                let arr = record["arr"].as_f64().map(|a| (a * 100.0).round() as i64);
                let traits = record.get("traits").map(Value::to_string);
                FixtureRow {
                    table: "account_records",
                    cells: vec![
                        ("account_id", text(account)),
                        ("name", field("name")),
                        ("arr_cents", Cell::Int(arr)),
                        ("plan", field("plan")),
                        ("owner", field("owner")),
                        ("renewal_on", field("renewal_on")),
                        ("crm_url", field("crm_url")),
                        ("traits", Cell::Text(traits)),
                        ("updated_at", text(RECORD_AT)),
                        ("updated_by", text("mia")),
                    ],
                }
            })
            .collect();
        let referrals = self
            .referrals
            .iter()
            .map(|(n, referral)| {
                let r = self.answer(*n);
                let field = |key: &str| maybe(referral[key].as_str());
                FixtureRow {
                    table: "referrals",
                    cells: vec![
                        ("response_id", text(&id(*n))),
                        ("survey_id", text(&r.survey_id)),
                        ("account_id", maybe(r.user.account_id.as_deref())),
                        ("referrer_segment", text(r.segment.as_str())),
                        ("referrer_user_id", maybe(r.user.id.as_deref())),
                        ("referrer_email", maybe(r.user.email.as_deref())),
                        ("shown_at", text(&r.shown_at)),
                        ("name", field("name")),
                        ("company", field("company")),
                        ("email", field("email")),
                        ("note", field("note")),
                        ("status", text("referred")),
                        ("stage", int(1)),
                        ("value_cents", Cell::Int(None)),
                        ("crm_url", Cell::Text(None)),
                        ("created_at", text(REFERRAL_AT)),
                        ("created_by", text("mia")),
                        ("updated_at", text(REFERRAL_AT)),
                        ("updated_by", text("mia")),
                    ],
                }
            })
            .collect();
        let annotations = self
            .annotations
            .iter()
            .map(|a| {
                let field = |key: &str| maybe(a[key].as_str());
                FixtureRow {
                    table: "annotations",
                    cells: vec![
                        ("day", field("date")),
                        ("end_day", field("end_date")),
                        ("text", field("text")),
                        ("survey_id", field("survey_id")),
                        ("account_id", field("account_id")),
                        ("author", text("mia")),
                        ("created_at", text(ANNOTATION_AT)),
                        ("updated_at", text(ANNOTATION_AT)),
                        ("updated_by", text("mia")),
                        ("deleted_at", Cell::Text(None)),
                        ("deleted_by", Cell::Text(None)),
                    ],
                }
            })
            .collect();
        let newer_link = ann_link(LINK_ISSUED);
        let links = vec![FixtureRow {
            table: "links",
            cells: vec![
                ("response_id", text(&link::response_id(&newer_link))),
                ("survey_id", text("default")),
                ("user_id", text("ann")),
                ("account_id", text("acme")),
                ("email", text("ann@acme.example")),
                (
                    "issued_at",
                    text(&nps_collector::clock::rfc3339(LINK_ISSUED * 1000)),
                ),
                ("expires_at", int(LINK_EXPIRES)),
                ("issued_by", text("mia")),
            ],
        }];
        [
            ("responses", responses),
            ("follow_ups", follow_ups),
            ("notes", notes),
            ("tokens", tokens),
            ("link_key", link_key),
            ("surveys", surveys),
            ("records", records),
            ("referrals", referrals),
            ("annotations", annotations),
            ("links", links),
        ]
        .into_iter()
        .map(|(name, rows)| Part { name, rows })
        .collect()
    }

    /// Sends the responses and the parts of `shape` to the collector at `addr` through the
    /// API, as a team would have made them; mia's token is `member`.
    async fn send(&self, addr: SocketAddr, shape: &[&str], member: &str) {
        let sends = |part: &str| shape.contains(&part);
        if sends("records") {
            for (account, record) in &self.records {
                let path = format!("/v1/accounts/{account}");
                expect(addr, "PUT", &path, member, Some(record.clone()), 200).await;
            }
        }
        if sends("surveys") {
            let (_, first) = &self.survey[0];
            let made = json!({"id": "in-app", "name": "In-app NPS", "definition": first});
            expect(addr, "POST", "/v1/surveys", ADMIN, Some(made), 201).await;
            for pair in self.survey.windows(2) {
                let ((status, definition), (next_status, next)) = (&pair[0], &pair[1]);
                let mut change = json!({});
                if next != definition {
                    change["definition"] = next.clone();
                }
                if next_status != status {
                    change["status"] = json!(next_status);
                }
                expect(addr, "PUT", "/v1/surveys/in-app", ADMIN, Some(change), 200).await;
            }
        }
        for deliveries in &self.answers {
            for body in deliveries {
                let (status, _, text) =
                    call(addr, "POST", "/v1/responses", "", Some(body.clone())).await;
                assert!(status == 201 || status == 200, "{status} {text}");
            }
        }
        if sends("follow_ups") {
            for (n, status, owner) in &self.follow_ups {
                let mut change = json!({"status": status});
                if let Some(owner) = owner {
                    change["owner"] = json!(owner);
                }
                let path = format!("/v1/responses/{}/follow-up", id(*n));
                expect(addr, "PATCH", &path, member, Some(change), 200).await;
            }
        }
        if sends("notes") {
            for (n, note) in &self.notes {
                let path = format!("/v1/responses/{}/notes", id(*n));
                expect(
                    addr,
                    "POST",
                    &path,
                    member,
                    Some(json!({"text": note})),
                    201,
                )
                .await;
            }
        }
        if sends("referrals") {
            for (n, referral) in &self.referrals {
                let path = format!("/v1/responses/{}/referrals", id(*n));
                expect(addr, "POST", &path, member, Some(referral.clone()), 201).await;
            }
        }
        if sends("annotations") {
            for annotation in &self.annotations {
                let body = Some(annotation.clone());
                expect(addr, "POST", "/v1/annotations", member, body, 201).await;
            }
        }
    }
}

/// A call that must answer `status`.
async fn expect(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
) {
    let (got, _, text) = call(addr, method, path, token, body).await;
    assert_eq!(got, status, "{method} {path}: {text}");
}

/// A fresh database at today's version that got (a part of) the fixture through the API:
/// its running totals and its answers to every report.
struct Reference {
    totals: BTreeMap<&'static str, Rows>,
    answers: Vec<(String, Answer)>,
}

impl Reference {
    /// The reference for the parts of `shape`, after checking that its rows are the fixture's
    /// (those the API stamps with the time of the call aside).
    async fn build(
        db: Db,
        fixture: &Fixture,
        shape: &[&'static str],
        layouts: &[Tables],
    ) -> Reference {
        let today = layouts.last().unwrap();
        let url = pg::http::database(db, "upgrade", "reference").await;
        let at = format!("{db:?}, the reference with {shape:?}");
        let collector = Collector::start(&url, &at).await;
        let member = pg::http::make_token(collector.addr, ADMIN, "mia", "member").await;
        fixture.send(collector.addr, shape, &member).await;
        let pool = sql_pool(&url);
        for part in &fixture.parts {
            if part.name != "responses" && !shape.contains(&part.name) {
                continue;
            }
            for table in part.tables() {
                let expected = part.expected_rows(table, today, today, &at);
                let expected = without_now_stamps(table, expected, today);
                let stored = stored_rows(&pool, table, today).await;
                let stored = without_now_stamps(table, stored, today);
                same_rows(
                    &format!("{at}: the fixture is not what the API writes"),
                    table,
                    &expected,
                    &stored,
                    today,
                );
            }
        }
        let mut totals = BTreeMap::new();
        for table in RUNNING_TOTALS {
            totals.insert(table, stored_rows(&pool, table, today).await);
        }
        let answers = raw_reports(collector.addr).await;
        // Every report answers: a database and its reference refusing alike would agree.
        for (path, answer) in &answers {
            let needs_survey = path.starts_with("/v1/surveys/");
            let status = if needs_survey && !shape.contains(&"surveys") {
                404
            } else {
                200
            };
            assert_eq!(answer.status, status, "{at}: {path}: {}", answer.body);
        }
        collector.stop().await;
        pool.close().await;
        Reference { totals, answers }
    }

    /// Its answers, without the fields in `differ`.
    fn reports(&self, differ: &[&str]) -> Vec<(String, String)> {
        self.answers
            .iter()
            .map(|(path, answer)| (path.clone(), answer.shown(differ)))
            .collect()
    }
}

/// `rows` of `table` with the columns the API stamps with the moment of the call emptied.
fn without_now_stamps(table: &str, rows: Rows, today: &Tables) -> Rows {
    let columns = compared_columns(table, today);
    let mut rows: Rows = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .zip(&columns)
                .map(|(value, column)| {
                    let stamped = NOW_COLUMNS.contains(&(table, *column));
                    if stamped {
                        None
                    } else {
                        value
                    }
                })
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

/// The requests every upgraded database must answer as its reference does.
const REPORTS: [&str; 43] = [
    "/v1/summary",
    "/v1/summary?interval=month",
    "/v1/summary?survey_id=default&interval=month",
    "/v1/summary?survey_id=in-app&interval=month",
    "/v1/summary?from=2025-02-01&to=2025-05-20&interval=week",
    "/v1/trend.svg?interval=month",
    "/v1/trend.svg?survey_id=default&interval=month",
    "/v1/compare?a_from=2025-01-01&a_to=2025-03-31&b_from=2025-04-01&b_to=2025-06-30",
    "/v1/responses",
    "/v1/responses?limit=3",
    "/v1/responses?segment=detractor",
    "/v1/responses?segment=silent",
    "/v1/responses?status=open",
    "/v1/responses?status=contacted",
    "/v1/responses?status=referred",
    "/v1/responses?owner=mia",
    "/v1/responses?account_id=acme",
    "/v1/responses?survey_id=in-app",
    "/v1/responses?from=2025-02-01&to=2025-05-20",
    "/v1/responses?format=csv",
    "/v1/responses?segment=promoter&format=csv",
    "/v1/accounts",
    "/v1/accounts?limit=2",
    "/v1/accounts?format=csv",
    "/v1/accounts?segment=detractor",
    "/v1/accounts?survey_id=in-app",
    "/v1/accounts?from=2025-01-15&to=2025-05-20",
    "/v1/accounts?from=2025-02-01&to=2025-05-01&format=csv",
    "/v1/accounts?sort=arr",
    "/v1/accounts?opportunity=upsell",
    "/v1/accounts/acme",
    "/v1/accounts/acme/people",
    "/v1/accounts/globex/people",
    "/v1/revenue",
    "/v1/revenue?from=2025-02-01&to=2025-05-20",
    "/v1/themes",
    "/v1/themes?segment=detractor",
    "/v1/referrals",
    "/v1/referrals?format=csv",
    "/v1/referrals/summary",
    "/v1/annotations",
    "/v1/surveys/in-app/versions",
    "/v1/surveys/in-app/definition",
];

/// One answer as received: status, the `Link` and `ETag` headers, the body.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    /// The answer as compared: JSON without the keys in `differ`, anywhere; CSV without the
    /// columns named so; anything else as it came.
    fn shown(&self, differ: &[&str]) -> String {
        let body = if let Ok(mut value) = serde_json::from_str::<Value>(&self.body) {
            strip(&mut value, differ);
            serde_json::to_string_pretty(&value).unwrap()
        } else if self.headers.contains("text/csv") {
            csv_without(&self.body, differ)
        } else {
            self.body.clone()
        };
        format!("{} {}\n{body}", self.status, self.headers)
    }
}

/// Every answer to `REPORTS`, as the admin.
async fn raw_reports(addr: SocketAddr) -> Vec<(String, Answer)> {
    let mut answers = Vec::new();
    for path in REPORTS {
        let (status, headers, body) = call(addr, "GET", path, ADMIN, None).await;
        let kept: Vec<String> = ["content-type", "link", "etag"]
            .iter()
            .filter_map(|name| {
                let value = headers.get(*name)?.to_str().ok()?;
                Some(format!("{name}: {value}"))
            })
            .collect();
        let answer = Answer {
            status,
            headers: kept.join("; "),
            body,
        };
        answers.push((path.to_owned(), answer));
    }
    answers
}

/// Every answer to `REPORTS` as compared, without the fields in `differ`.
async fn reports(addr: SocketAddr, differ: &[&str]) -> Vec<(String, String)> {
    raw_reports(addr)
        .await
        .into_iter()
        .map(|(path, answer)| (path, answer.shown(differ)))
        .collect()
}

/// Removes the keys in `keys` from `value`, at any depth.
fn strip(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(object) => {
            object.retain(|key, _| !keys.contains(&key.as_str()));
            object.values_mut().for_each(|v| strip(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

/// A CSV without the columns whose header is in `columns`, a record a line.
fn csv_without(csv: &str, columns: &[&str]) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let Some(header) = records.first() else {
        return String::new();
    };
    let kept: Vec<usize> = (0..header.len())
        .filter(|&i| !columns.contains(&&header[i]))
        .collect();
    records
        .iter()
        .map(|record| {
            kept.iter()
                .map(|&i| format!("{:?}", &record[i]))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The survey's second version changed its wording: the trend marks its month.
async fn the_new_wording_is_marked(addr: SocketAddr, at: &str) {
    let (_, _, body) = call(
        addr,
        "GET",
        "/v1/summary?survey_id=in-app&interval=month",
        ADMIN,
        None,
    )
    .await;
    let summary: Value = serde_json::from_str(&body).unwrap();
    let marked: Vec<(&str, &Value)> = summary["trend"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["new_wording"].is_null())
        .map(|p| (p["period"].as_str().unwrap(), &p["new_wording"]))
        .collect();
    assert_eq!(
        marked,
        vec![("2025-04", &json!(2))],
        "{at}: the survey's new wording: {summary}"
    );
}

/// Each token made before the upgrade still says who its holder is and what they may do.
async fn tokens_authenticate(addr: SocketAddr, fixture: &Fixture, at: &str) {
    for (name, role, _) in &fixture.tokens {
        let (status, _, body) = call(addr, "GET", "/v1/team", &token_of(name), None).await;
        assert_eq!(status, 200, "{at}: {name}'s token: {body}");
        let team: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            team["me"],
            json!({"name": name, "role": role}),
            "{at}: {name}'s token"
        );
    }
    let (status, _, body) = call(addr, "GET", "/v1/tokens", &token_of("mia"), None).await;
    assert_eq!(
        status, 403,
        "{at}: a member's token is not an admin's: {body}"
    );
    let (status, _, body) = call(addr, "GET", "/v1/tokens", &token_of("ada"), None).await;
    assert_eq!(status, 200, "{at}: an admin's token: {body}");
}

/// Links signed before the upgrade, with the key the database keeps, open their survey.
async fn links_open(addr: SocketAddr, at: &str) {
    for issued_at in [0, LINK_ISSUED] {
        let token = ann_link(issued_at);
        let (status, _, page) = call(addr, "GET", &format!("/s/{token}"), "", None).await;
        assert_eq!(
            status, 200,
            "{at}: a link signed at that version (issued_at {issued_at}): {page}"
        );
        assert!(
            page.contains(&token),
            "{at}: the survey page of the link: {page}"
        );
    }
}

/// The links issued before the upgrade are part of what is held about their person.
async fn the_links_issued_are_held(addr: SocketAddr, at: &str) {
    let (status, _, body) = call(addr, "GET", "/v1/people?user_id=ann", ADMIN, None).await;
    assert_eq!(status, 200, "{at}: {body}");
    let held: Value = serde_json::from_str(&body).unwrap();
    let links = held["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{at}: {held}");
    assert_eq!(
        links[0]["response_id"],
        json!(link::response_id(&ann_link(LINK_ISSUED))),
        "{at}: {held}"
    );
    assert_eq!(links[0]["issued_by"], "mia", "{at}: {held}");
}

/// Today's collector serving a database on a loopback port of its own, until stopped (the
/// test opens some 70 databases; each collector's connections close with it).
struct Collector {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<()>,
}

impl Collector {
    /// Opens `url` (migrating it to today's version) and serves it; a failure names `at`.
    async fn start(url: &str, at: &str) -> Collector {
        let settings = Settings {
            db: url.to_owned(),
            listen: "127.0.0.1:0".parse().unwrap(),
            token: Some(ADMIN.into()),
            rate_limit: 0,
            ..Settings::default()
        };
        let store = nps_collector::start::open(&settings)
            .await
            .unwrap_or_else(|e| panic!("{at}: today's collector cannot open it: {e}"));
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            nps_collector::run(listener, store, &settings, stopped)
                .await
                .unwrap()
        });
        Collector { addr, stop, served }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.served.await.unwrap();
    }
}
