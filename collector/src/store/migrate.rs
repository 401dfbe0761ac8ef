//! The schema: migrations applied in order, once each, under a lock so that collectors
//! starting at once against one database migrate one after the other.
//!
//! Besides the responses, the schema keeps each account's running totals
//! (`account_totals`: counts per segment, the sum of its people's latest scores and their
//! number, the last answer and the newest comment) and each person's latest score
//! (`account_people`), per survey and over all surveys (scope `''`). The writer keeps both as
//! it writes each batch, inside the same transaction (`totals`), so the accounts report reads
//! one row per account instead of every response (5,000 rows, not 1.2 million).
//! A person's row is keyed by the person before the account: new people arrive in id order,
//! so a batch's new rows land on a few pages instead of one page per account (which doubled
//! the pages each commit writes).

use sqlx::{AnyPool, Executor, Row};

use super::{Backend, Result, StoreError};

/// The accounts' running totals computed from the stored responses (on migration, and by
/// `Store::rebuild_account_totals` after a bulk import), into empty tables.
pub(super) const TOTALS_FROM_RESPONSES: [&str; 4] = [
    "INSERT INTO account_people (scope, account_id, person, latest_key, score)
     SELECT scope, account_id, person, latest_key, score FROM (
        SELECT scope, account_id, person, latest_key, score, ROW_NUMBER() OVER (
            PARTITION BY scope, account_id, person ORDER BY latest_key DESC) AS n
        FROM (
            SELECT survey_id AS scope, account_id, COALESCE(user_id, id) AS person,
                COALESCE(answered_at, '') || '|' || id AS latest_key, score
            FROM responses WHERE account_id IS NOT NULL AND score IS NOT NULL
            UNION ALL
            SELECT '' AS scope, account_id, COALESCE(user_id, id) AS person,
                COALESCE(answered_at, '') || '|' || id AS latest_key, score
            FROM responses WHERE account_id IS NOT NULL AND score IS NOT NULL
        ) AS answers
     ) AS ranked WHERE n = 1",
    "INSERT INTO account_totals (scope, account_id, promoters, passives, detractors, silent,
        score_sum, people, last_answer_at)
     SELECT scope, account_id,
        SUM(CASE WHEN segment = 'promoter' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'passive' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'detractor' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'silent' THEN 1 ELSE 0 END),
        0, 0, MAX(answered_at)
     FROM (
        SELECT survey_id AS scope, account_id, segment, answered_at FROM responses
        WHERE account_id IS NOT NULL
        UNION ALL
        SELECT '' AS scope, account_id, segment, answered_at FROM responses
        WHERE account_id IS NOT NULL
     ) AS r GROUP BY scope, account_id",
    "UPDATE account_totals SET score_sum = sums.score_sum, people = sums.people
     FROM (SELECT scope, account_id, SUM(score) AS score_sum, COUNT(*) AS people
        FROM account_people GROUP BY scope, account_id) AS sums
     WHERE sums.scope = account_totals.scope AND sums.account_id = account_totals.account_id",
    "UPDATE account_totals SET latest_comment_key = newest.k, latest_comment = newest.comment
     FROM (SELECT scope, account_id, k, comment FROM (
            SELECT scope, account_id, k, comment, ROW_NUMBER() OVER (
                PARTITION BY scope, account_id ORDER BY k DESC) AS n
            FROM (
                SELECT survey_id AS scope, account_id,
                    COALESCE(answered_at, '') || '|' || id AS k, comment
                FROM responses WHERE account_id IS NOT NULL AND comment <> ''
                UNION ALL
                SELECT '' AS scope, account_id,
                    COALESCE(answered_at, '') || '|' || id AS k, comment
                FROM responses WHERE account_id IS NOT NULL AND comment <> ''
            ) AS commented
        ) AS ranked WHERE n = 1) AS newest
     WHERE newest.scope = account_totals.scope AND newest.account_id = account_totals.account_id",
];

/// The totals' closed follow-ups and people per latest segment, from the stored follow-ups
/// and people (on migration, and after `TOTALS_FROM_RESPONSES`).
pub(super) const TOTALS_EXTRAS: [&str; 2] = [
    "UPDATE account_totals SET closed = shut.n
     FROM (SELECT scope, account_id, COUNT(*) AS n FROM (
            SELECT r.survey_id AS scope, r.account_id FROM follow_ups f
            JOIN responses r ON r.id = f.response_id
            WHERE f.status IN ('resolved', 'referred') AND r.account_id IS NOT NULL
            UNION ALL
            SELECT '' AS scope, r.account_id FROM follow_ups f
            JOIN responses r ON r.id = f.response_id
            WHERE f.status IN ('resolved', 'referred') AND r.account_id IS NOT NULL
        ) AS closed_ones GROUP BY scope, account_id) AS shut
     WHERE shut.scope = account_totals.scope AND shut.account_id = account_totals.account_id",
    "UPDATE account_totals SET people_promoters = sums.p, people_passives = sums.pa,
        people_detractors = sums.d
     FROM (SELECT scope, account_id,
            SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS p,
            SUM(CASE WHEN score >= 7 AND score < 9 THEN 1 ELSE 0 END) AS pa,
            SUM(CASE WHEN score < 7 THEN 1 ELSE 0 END) AS d
        FROM account_people GROUP BY scope, account_id) AS sums
     WHERE sums.scope = account_totals.scope AND sums.account_id = account_totals.account_id",
];

/// The accounts' counts per month of the responses' shown day, and their closed follow-ups,
/// from the stored rows (on migration, and by `Store::rebuild_account_totals`), into an empty
/// `account_months`.
/// The first fill of `account_months`, as it was before it kept scores (a migration runs as
/// it was written).
const MONTHS_V1: &str =
    "INSERT INTO account_months (scope, month, account_id, promoters, passives, detractors,
        silent, last_answer_at)
     SELECT scope, month, account_id,
        SUM(CASE WHEN segment = 'promoter' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'passive' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'detractor' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'silent' THEN 1 ELSE 0 END),
        MAX(answered_at)
     FROM (
        SELECT survey_id AS scope, substr(shown_day, 1, 7) AS month, account_id, segment,
            answered_at
        FROM responses WHERE account_id IS NOT NULL
        UNION ALL
        SELECT '' AS scope, substr(shown_day, 1, 7) AS month, account_id, segment, answered_at
        FROM responses WHERE account_id IS NOT NULL
     ) AS r GROUP BY scope, month, account_id";

pub(super) const MONTHS_FROM_RESPONSES: [&str; 2] = [
    "INSERT INTO account_months (scope, month, account_id, promoters, passives, detractors,
        silent, last_answer_at, score_sum, scored)
     SELECT scope, month, account_id,
        SUM(CASE WHEN segment = 'promoter' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'passive' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'detractor' THEN 1 ELSE 0 END),
        SUM(CASE WHEN segment = 'silent' THEN 1 ELSE 0 END),
        MAX(answered_at), COALESCE(SUM(score), 0), COUNT(score)
     FROM (
        SELECT survey_id AS scope, substr(shown_day, 1, 7) AS month, account_id, segment,
            answered_at, score
        FROM responses WHERE account_id IS NOT NULL
        UNION ALL
        SELECT '' AS scope, substr(shown_day, 1, 7) AS month, account_id, segment, answered_at,
            score
        FROM responses WHERE account_id IS NOT NULL
     ) AS r GROUP BY scope, month, account_id",
    "UPDATE account_months SET closed = shut.n
     FROM (SELECT scope, month, account_id, COUNT(*) AS n FROM (
            SELECT r.survey_id AS scope, substr(r.shown_day, 1, 7) AS month, r.account_id
            FROM follow_ups f JOIN responses r ON r.id = f.response_id
            WHERE f.status IN ('resolved', 'referred') AND r.account_id IS NOT NULL
            UNION ALL
            SELECT '' AS scope, substr(r.shown_day, 1, 7) AS month, r.account_id
            FROM follow_ups f JOIN responses r ON r.id = f.response_id
            WHERE f.status IN ('resolved', 'referred') AND r.account_id IS NOT NULL
        ) AS closed_ones GROUP BY scope, month, account_id) AS shut
     WHERE shut.scope = account_months.scope AND shut.month = account_months.month
        AND shut.account_id = account_months.account_id",
];

/// One migration.
enum Step {
    /// The same SQL on both databases but for `{serial}`, an auto-increment key.
    Both(&'static str),
    /// Different SQL per database.
    Each {
        sqlite: &'static str,
        postgres: &'static str,
    },
}

/// The PostgreSQL advisory lock key held while migrating.
const MIGRATION_LOCK: i64 = 0x006e_7073_5f6d_6967;

const MIGRATIONS: &[Step] = &[
    Step::Both("CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        survey_id TEXT NOT NULL,
        score INTEGER,
        segment TEXT NOT NULL,
        silent_reason TEXT,
        comment TEXT,
        contact_consent INTEGER,
        referral_clicked INTEGER,
        state TEXT NOT NULL,
        rank INTEGER NOT NULL,
        user_id TEXT,
        account_id TEXT,
        email TEXT,
        url TEXT NOT NULL,
        locale TEXT NOT NULL,
        shown_at TEXT NOT NULL,
        answered_at TEXT,
        completed_at TEXT,
        body TEXT NOT NULL,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )"),
    Step::Both("CREATE INDEX responses_survey_shown ON responses (survey_id, shown_at)"),
    Step::Both("CREATE INDEX responses_account ON responses (account_id)"),
    // The webhook queue: each stored change waits here until the forward target took it.
    Step::Both("CREATE TABLE forwards (
        seq {serial},
        response_id TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_at BIGINT NOT NULL
    )"),
    // What the reports read, so that each is an index scan: the summary and trend (all surveys,
    // or one), the lists per segment (keyset by shown_at, id), the accounts.
    // The day a response was shown (`YYYY-MM-DD`): the trend groups by it in index order,
    // with no sort, and the range filters narrow the index scan by it.
    Step::Both("ALTER TABLE responses ADD COLUMN shown_day TEXT"),
    Step::Both("UPDATE responses SET shown_day = substr(shown_at, 1, 10)"),
    Step::Both("CREATE INDEX responses_day_segment ON responses (shown_day, segment)"),
    Step::Both("CREATE INDEX responses_survey_day_segment ON responses (survey_id, shown_day, segment)"),
    Step::Both("DROP INDEX responses_survey_shown"),
    Step::Both("CREATE INDEX responses_segment_shown ON responses (segment, shown_at, id)"),
    Step::Both("CREATE INDEX responses_account_shown ON responses (account_id, shown_at, segment, answered_at)"),
    Step::Both("DROP INDEX responses_account"),
    // Leases: which collector drains the webhook queue while several share one database.
    Step::Both("CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms BIGINT NOT NULL)"),
    Step::Both("INSERT INTO leases (name, holder, until_ms) VALUES ('forward', '', 0)"),
    // Closing the loop: a follow-up state per response, apart from the response itself, so
    // that the widget re-delivering a response never resets it; notes are append-only.
    Step::Both("CREATE TABLE follow_ups (
        response_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        owner TEXT,
        updated_at TEXT NOT NULL
    )"),
    Step::Both("CREATE INDEX follow_ups_status ON follow_ups (status)"),
    Step::Both("CREATE TABLE notes (
        seq {serial},
        response_id TEXT NOT NULL,
        text TEXT NOT NULL,
        author TEXT,
        at TEXT NOT NULL
    )"),
    // The accounts' running totals (see the module's doc).
    Step::Both(
        "CREATE TABLE account_totals (
        scope TEXT NOT NULL,
        account_id TEXT NOT NULL,
        promoters BIGINT NOT NULL,
        passives BIGINT NOT NULL,
        detractors BIGINT NOT NULL,
        silent BIGINT NOT NULL,
        score_sum BIGINT NOT NULL,
        people BIGINT NOT NULL,
        last_answer_at TEXT,
        latest_comment TEXT,
        latest_comment_key TEXT,
        PRIMARY KEY (scope, account_id)
    )",
    ),
    Step::Both(
        "CREATE TABLE account_people (
        scope TEXT NOT NULL,
        account_id TEXT NOT NULL,
        person TEXT NOT NULL,
        latest_key TEXT NOT NULL,
        score BIGINT NOT NULL,
        PRIMARY KEY (scope, person, account_id)
    )",
    ),
    // What was stored before the totals existed.
    Step::Both(TOTALS_FROM_RESPONSES[0]),
    Step::Both(TOTALS_FROM_RESPONSES[1]),
    Step::Both(TOTALS_FROM_RESPONSES[2]),
    Step::Both(TOTALS_FROM_RESPONSES[3]),
    // PostgreSQL: the totals are a few thousand rows updated with every response. Room on
    // each page keeps those updates HOT (no index change), and a vacuum after 1 % of changes
    // keeps the table from filling with dead rows between autovacuum rounds.
    Step::Each {
        sqlite: "SELECT 1",
        postgres: "ALTER TABLE account_totals SET (fillfactor = 50,
            autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000)",
    },
    // SQLite: the running totals as WITHOUT ROWID tables. A table keyed by text keeps its rows
    // in a rowid tree and its key in a second one, two trees to change for every person the
    // writer counts; keyed by the primary key itself, one (ingest measured with both).
    Step::Each {
        sqlite: "CREATE TABLE account_people_by_key (
        scope TEXT NOT NULL,
        account_id TEXT NOT NULL,
        person TEXT NOT NULL,
        latest_key TEXT NOT NULL,
        score BIGINT NOT NULL,
        PRIMARY KEY (scope, person, account_id)
    ) WITHOUT ROWID",
        postgres: "SELECT 1",
    },
    Step::Each {
        sqlite: "INSERT INTO account_people_by_key SELECT scope, account_id, person, latest_key,
            score FROM account_people",
        postgres: "SELECT 1",
    },
    Step::Each {
        sqlite: "DROP TABLE account_people",
        postgres: "SELECT 1",
    },
    Step::Each {
        sqlite: "ALTER TABLE account_people_by_key RENAME TO account_people",
        postgres: "SELECT 1",
    },
    Step::Each {
        sqlite: "CREATE TABLE account_totals_by_key (
        scope TEXT NOT NULL,
        account_id TEXT NOT NULL,
        promoters BIGINT NOT NULL,
        passives BIGINT NOT NULL,
        detractors BIGINT NOT NULL,
        silent BIGINT NOT NULL,
        score_sum BIGINT NOT NULL,
        people BIGINT NOT NULL,
        last_answer_at TEXT,
        latest_comment TEXT,
        latest_comment_key TEXT,
        PRIMARY KEY (scope, account_id)
    ) WITHOUT ROWID",
        postgres: "SELECT 1",
    },
    Step::Each {
        sqlite: "INSERT INTO account_totals_by_key SELECT scope, account_id, promoters, passives,
            detractors, silent, score_sum, people, last_answer_at, latest_comment,
            latest_comment_key FROM account_totals",
        postgres: "SELECT 1",
    },
    Step::Each {
        sqlite: "DROP TABLE account_totals",
        postgres: "SELECT 1",
    },
    Step::Each {
        sqlite: "ALTER TABLE account_totals_by_key RENAME TO account_totals",
        postgres: "SELECT 1",
    },
    // A token per teammate (see `tokens`), and who changed each follow-up.
    Step::Both(
        "CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT
    )",
    ),
    Step::Both("ALTER TABLE follow_ups ADD COLUMN updated_by TEXT"),
    // Reach: the collector's own secrets (the personal links' key), the detractor alerts
    // waiting to be sent (one row per response and chat URL, kept once sent so that a later
    // change of the response does not alert again), and the digests sent, by period.
    Step::Both(
        "CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )",
    ),
    Step::Both(
        "CREATE TABLE notices (
        response_id TEXT NOT NULL,
        target TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        sent_at BIGINT,
        attempts BIGINT NOT NULL DEFAULT 0,
        next_at BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (response_id, target)
    )",
    ),
    Step::Both("CREATE INDEX notices_due ON notices (due_at) WHERE sent_at IS NULL"),
    Step::Both(
        "CREATE TABLE digests (
        period TEXT PRIMARY KEY,
        sent_at BIGINT
    )",
    ),
    Step::Both("INSERT INTO leases (name, holder, until_ms) VALUES ('notify', '', 0)"),
    // The surveys the dashboard manages: the current version, and every version saved.
    Step::Both(
        "CREATE TABLE surveys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        version BIGINT NOT NULL,
        definition TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        changed_at TEXT NOT NULL
    )",
    ),
    Step::Both(
        "CREATE TABLE survey_versions (
        id TEXT NOT NULL,
        version BIGINT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        definition TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        PRIMARY KEY (id, version)
    )",
    ),
    // Which version of its survey's definition each answer saw.
    Step::Both("ALTER TABLE responses ADD COLUMN survey_version BIGINT"),
    // What an account is worth: its record, imported from the CRM or edited in the dashboard.
    // ARR in cents, so every sum of it is exact on both databases.
    Step::Both(
        "CREATE TABLE account_records (
        account_id TEXT PRIMARY KEY,
        name TEXT,
        arr_cents BIGINT,
        plan TEXT,
        owner TEXT,
        renewal_on TEXT,
        crm_url TEXT,
        traits TEXT,
        updated_at TEXT NOT NULL,
        updated_by TEXT
    )",
    ),
    Step::Both("CREATE INDEX account_records_plan ON account_records (plan, arr_cents)"),
    // The totals also keep each account's closed follow-ups (its open ones are its responses
    // less those) and its people by their latest segment: the accounts list and the referral
    // rate read them instead of joining the responses per request.
    Step::Both("ALTER TABLE account_totals ADD COLUMN closed BIGINT NOT NULL DEFAULT 0"),
    Step::Both("ALTER TABLE account_totals ADD COLUMN people_promoters BIGINT NOT NULL DEFAULT 0"),
    Step::Both("ALTER TABLE account_totals ADD COLUMN people_passives BIGINT NOT NULL DEFAULT 0"),
    Step::Both("ALTER TABLE account_totals ADD COLUMN people_detractors BIGINT NOT NULL DEFAULT 0"),
    Step::Both(TOTALS_EXTRAS[0]),
    Step::Both(TOTALS_EXTRAS[1]),
    // Referrals followed from the ask to the deal. `stage`: the furthest it got (1 referred,
    // 2 opportunity, 3 won), kept when a deal is lost.
    Step::Both(
        "CREATE TABLE referrals (
        seq {serial},
        response_id TEXT NOT NULL,
        survey_id TEXT NOT NULL,
        account_id TEXT,
        referrer_segment TEXT NOT NULL,
        referrer_user_id TEXT,
        referrer_email TEXT,
        shown_at TEXT NOT NULL,
        name TEXT NOT NULL,
        company TEXT,
        email TEXT,
        note TEXT,
        status TEXT NOT NULL,
        stage INTEGER NOT NULL,
        value_cents BIGINT,
        crm_url TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )",
    ),
    Step::Both("CREATE INDEX referrals_response ON referrals (response_id)"),
    Step::Both("CREATE INDEX referrals_account ON referrals (account_id)"),
    // The referral links clicked, per survey and day: few rows among millions.
    Step::Both(
        "CREATE INDEX responses_referral_clicked ON responses (survey_id, shown_day, segment)
        WHERE referral_clicked = 1",
    ),
    // Notes on the trend: a day or a range, for everything, a survey or an account.
    Step::Both(
        "CREATE TABLE annotations (
        seq {serial},
        day TEXT NOT NULL,
        end_day TEXT,
        text TEXT NOT NULL,
        survey_id TEXT,
        account_id TEXT,
        author TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        deleted_at TEXT,
        deleted_by TEXT
    )",
    ),
    Step::Both("CREATE INDEX annotations_day ON annotations (day)"),
    // The accounts' counts per month (of the shown day), kept with the running totals: a date
    // range sums its whole months here and counts only its first and last partial months
    // from the responses (5,000 accounts × 3 months, not the quarter's 150,000 responses).
    Step::Both(
        "CREATE TABLE account_months (
        scope TEXT NOT NULL,
        month TEXT NOT NULL,
        account_id TEXT NOT NULL,
        promoters BIGINT NOT NULL DEFAULT 0,
        passives BIGINT NOT NULL DEFAULT 0,
        detractors BIGINT NOT NULL DEFAULT 0,
        silent BIGINT NOT NULL DEFAULT 0,
        closed BIGINT NOT NULL DEFAULT 0,
        last_answer_at TEXT,
        PRIMARY KEY (scope, month, account_id)
    )",
    ),
    Step::Both(MONTHS_V1),
    Step::Both(MONTHS_FROM_RESPONSES[1]),
    // The scores given per month: an account's mean over a date range is that of the scores
    // given in it, summed by month like its counts.
    Step::Both("ALTER TABLE account_months ADD COLUMN score_sum BIGINT NOT NULL DEFAULT 0"),
    Step::Both("ALTER TABLE account_months ADD COLUMN scored BIGINT NOT NULL DEFAULT 0"),
    Step::Both("DELETE FROM account_months"),
    Step::Both(MONTHS_FROM_RESPONSES[0]),
    Step::Both(MONTHS_FROM_RESPONSES[1]),
    // The referral links clicked, led by the flag itself: with the survey first, a range over
    // all surveys could not use the index, and SQLite walked every day's responses instead
    // (1.2 s at 1.2 M responses); this one answers both.
    Step::Both("DROP INDEX responses_referral_clicked"),
    Step::Both(
        "CREATE INDEX responses_clicked_day
        ON responses (referral_clicked, shown_day, segment, survey_id) WHERE referral_clicked = 1",
    ),
    // The CRM sync (`--crm`): what changed since the last send, one row per account, person
    // or answer however often it changed (`version` counts the changes, so a send removes
    // only the row it sent); `error` holds the CRM's answer to an item it refused.
    Step::Both(
        "CREATE TABLE crm_changes (
        kind TEXT NOT NULL,
        item TEXT NOT NULL,
        version BIGINT NOT NULL DEFAULT 1,
        attempts BIGINT NOT NULL DEFAULT 0,
        next_at BIGINT NOT NULL DEFAULT 0,
        error TEXT,
        PRIMARY KEY (kind, item)
    )",
    ),
    // The answers whose history record the CRM has: each is sent once, however often its
    // response is delivered again.
    Step::Both("CREATE TABLE crm_sent (response_id TEXT PRIMARY KEY, sent_at TEXT NOT NULL)"),
    // The sync's last success and last error, whichever collector sent.
    Step::Both(
        "CREATE TABLE crm_state (
        name TEXT PRIMARY KEY,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT
    )",
    ),
    Step::Both("INSERT INTO crm_state (name) VALUES ('crm')"),
    Step::Both("INSERT INTO leases (name, holder, until_ms) VALUES ('crm', '', 0)"),
    // A person's latest answer, for the CRM's contact.
    Step::Both("CREATE INDEX responses_user_answered ON responses (user_id, answered_at)"),
    // Operating it for years. The audit trail: every change made with a token, one row each.
    Step::Both(
        "CREATE TABLE audit (
        seq {serial},
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        object TEXT NOT NULL,
        detail TEXT
    )",
    ),
    // The people erased: digests only (of the user id, of the lowercased email), so that a
    // personal link signed for them before answers 410, and a CRM can be told.
    Step::Both(
        "CREATE TABLE erasures (
        seq {serial},
        at_s BIGINT NOT NULL,
        user_digest TEXT,
        email_digest TEXT
    )",
    ),
    Step::Both("CREATE INDEX erasures_user ON erasures (user_digest)"),
    Step::Both("CREATE INDEX erasures_email ON erasures (email_digest)"),
    // The personal links issued, by the id of the one response each records: what is held
    // about a person includes the links sent to them.
    Step::Both(
        "CREATE TABLE links (
        response_id TEXT PRIMARY KEY,
        survey_id TEXT NOT NULL,
        user_id TEXT,
        account_id TEXT,
        email TEXT,
        issued_at TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        issued_by TEXT NOT NULL
    )",
    ),
    Step::Both("CREATE INDEX links_user ON links (user_id)"),
    Step::Both("CREATE INDEX links_email ON links (email)"),
    // Internal people's responses (`--internal-email-domain`, `--internal-trait`): stored
    // apart, so no report, list, alert or total reads them unless asked.
    Step::Both(
        "CREATE TABLE internal_responses (
        id TEXT PRIMARY KEY,
        survey_id TEXT NOT NULL,
        score INTEGER,
        segment TEXT NOT NULL,
        silent_reason TEXT,
        comment TEXT,
        contact_consent INTEGER,
        referral_clicked INTEGER,
        state TEXT NOT NULL,
        rank INTEGER NOT NULL,
        user_id TEXT,
        account_id TEXT,
        email TEXT,
        url TEXT NOT NULL,
        locale TEXT NOT NULL,
        shown_at TEXT NOT NULL,
        answered_at TEXT,
        completed_at TEXT,
        body TEXT NOT NULL,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        shown_day TEXT,
        survey_version BIGINT,
        anonymised INTEGER NOT NULL DEFAULT 0
    )",
    ),
    Step::Both("CREATE INDEX internal_responses_shown ON internal_responses (shown_at, id)"),
    // The chores run once a day across collectors (retention): when each last ran, what it
    // did, and the day it is done through.
    Step::Both(
        "CREATE TABLE chores (
        name TEXT PRIMARY KEY,
        last_run_at TEXT,
        last_result TEXT,
        done_through TEXT
    )",
    ),
    Step::Both("INSERT INTO chores (name) VALUES ('retain')"),
    Step::Both("INSERT INTO leases (name, holder, until_ms) VALUES ('retain', '', 0)"),
    // Retention (`--retain-days`): a response whose personal data was cleared.
    Step::Both("ALTER TABLE responses ADD COLUMN anonymised INTEGER NOT NULL DEFAULT 0"),
];

/// The schema version this collector writes: one per migration.
pub(super) fn known() -> i64 {
    MIGRATIONS.len() as i64
}

/// A step's SQL as `backend` runs it.
fn sql_of(step: &Step, backend: Backend) -> String {
    let serial = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    match (step, backend) {
        (Step::Both(sql), _) => sql.replace("{serial}", serial),
        (Step::Each { sqlite, .. }, Backend::Sqlite) => (*sqlite).to_owned(),
        (Step::Each { postgres, .. }, Backend::Postgres) => (*postgres).to_owned(),
    }
}

/// Every migration's SQL as `backend` runs it, in order: the first is schema version 1. For
/// the upgrade test, which replays the steps that fill the running totals.
pub(super) fn steps(backend: Backend) -> Vec<String> {
    MIGRATIONS
        .iter()
        .map(|step| sql_of(step, backend))
        .collect()
}

/// Applies the migrations not yet applied, holding a lock (PostgreSQL: an advisory lock for
/// the transaction; SQLite: an immediate transaction, which takes the file's write lock).
pub(super) async fn run(pool: &AnyPool, backend: Backend) -> Result<()> {
    run_to(pool, backend, known()).await
}

/// Like [`run`], but stops at schema `version` (at most [`known`]): a database the way an
/// earlier collector left it, for the upgrade test.
pub(super) async fn run_to(pool: &AnyPool, backend: Backend, version: i64) -> Result<()> {
    let version = version.clamp(0, known());
    let mut conn = pool.acquire().await.map_err(StoreError::Migrate)?;
    let begun = match backend {
        Backend::Sqlite => conn.execute("BEGIN IMMEDIATE").await.map(|_| ()),
        Backend::Postgres => {
            async {
                conn.execute("BEGIN").await?;
                sqlx::query(
                    "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock($1)) AS locked",
                )
                .bind(MIGRATION_LOCK)
                .fetch_one(&mut *conn)
                .await
                .map(|_| ())
            }
            .await
        }
    };
    begun.map_err(StoreError::Migrate)?;
    let result = async {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .execute(&mut *conn)
            .await?;
        let done: i64 =
            sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_version")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
        if done > MIGRATIONS.len() as i64 {
            return Ok(Err(StoreError::Newer {
                database: done,
                known: MIGRATIONS.len() as i64,
            }));
        }
        let wanted = MIGRATIONS.iter().enumerate().take(version as usize);
        for (i, step) in wanted.skip(done.max(0) as usize) {
            conn.execute(sql_of(step, backend).as_str()).await?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(i as i64 + 1)
                .execute(&mut *conn)
                .await?;
        }
        Ok::<_, sqlx::Error>(Ok(()))
    }
    .await;
    match result {
        Ok(Ok(())) => conn
            .execute("COMMIT")
            .await
            .map(|_| ())
            .map_err(StoreError::Migrate),
        Ok(Err(newer)) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(newer)
        }
        Err(e) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(StoreError::Migrate(e))
        }
    }
}
