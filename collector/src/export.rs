//! The lists and the accounts as CSV (RFC 4180, CRLF), written by the `csv` crate, for a
//! spreadsheet or a CRM import. Text that came from a respondent or a site (comments, ids,
//! emails) is defused: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! prefixed with `'`, so a spreadsheet never runs it as a formula (OWASP's CSV injection
//! advice). Our own numbers go in as they are.

use std::borrow::Cow;

use crate::model::Stored;
use crate::report::Account;

/// The columns of the responses' export.
pub const RESPONSE_COLUMNS: [&str; 13] = [
    "id",
    "survey_id",
    "segment",
    "score",
    "comment",
    "contact_consent",
    "user_id",
    "account_id",
    "email",
    "state",
    "silent_reason",
    "shown_at",
    "answered_at",
];

/// The columns of the accounts' export.
pub const ACCOUNT_COLUMNS: [&str; 20] = [
    "account_id",
    "segment",
    "nps",
    "margin_of_error",
    "mean_score",
    "people",
    "promoters",
    "passives",
    "detractors",
    "silent",
    "open_follow_ups",
    "last_answer_at",
    "latest_comment",
    "name",
    "arr",
    "plan",
    "owner",
    "renewal_on",
    "crm_url",
    "gap",
];

/// A writer of CRLF-terminated records into memory.
fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

/// The records written so far (writing into memory cannot fail but for a bug in a record's
/// length, which the fixed column arrays rule out; such a record is dropped and logged).
fn finish(out: csv::Writer<Vec<u8>>) -> Vec<u8> {
    out.into_inner().unwrap_or_else(|e| {
        tracing::error!(error = %e.error(), "writing CSV");
        Vec::new()
    })
}

fn write(out: &mut csv::Writer<Vec<u8>>, record: &[Cow<'_, str>]) {
    if let Err(e) = out.write_record(record.iter().map(|c| c.as_bytes())) {
        tracing::error!(error = %e, "writing a CSV record");
    }
}

/// Text from outside, defused for spreadsheets.
fn text(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

fn optional(value: &Option<String>) -> Cow<'_, str> {
    text(value.as_deref().unwrap_or_default())
}

fn number(value: Option<impl ToString>) -> Cow<'static, str> {
    Cow::Owned(value.map(|v| v.to_string()).unwrap_or_default())
}

/// Responses as CSV lines, after the header when `header`.
pub fn responses(rows: &[Stored], header: bool) -> Vec<u8> {
    let mut out = writer();
    if header {
        write(&mut out, &RESPONSE_COLUMNS.map(Cow::Borrowed));
    }
    for r in rows {
        write(
            &mut out,
            &[
                text(&r.id),
                text(&r.survey_id),
                text(&r.segment),
                number(r.score),
                optional(&r.comment),
                number(r.contact_consent),
                optional(&r.user_id),
                optional(&r.account_id),
                optional(&r.email),
                text(&r.state),
                optional(&r.silent_reason),
                text(&r.shown_at),
                optional(&r.answered_at),
            ],
        );
    }
    finish(out)
}

/// Accounts as CSV, with the header.
pub fn accounts(accounts: &[Account], header: bool) -> Vec<u8> {
    let mut out = writer();
    if header {
        write(&mut out, &ACCOUNT_COLUMNS.map(Cow::Borrowed));
    }
    for a in accounts {
        write(
            &mut out,
            &[
                text(&a.account_id),
                Cow::Borrowed(a.segment),
                number(a.figures.nps),
                number(a.figures.margin_of_error),
                number(a.mean_score),
                number(Some(a.people)),
                number(Some(a.figures.promoters)),
                number(Some(a.figures.passives)),
                number(Some(a.figures.detractors)),
                number(Some(a.figures.silent)),
                number(Some(a.open_follow_ups)),
                optional(&a.last_answer_at),
                optional(&a.latest_comment),
                optional(&a.name),
                number(a.arr),
                optional(&a.plan),
                optional(&a.owner),
                optional(&a.renewal_on),
                optional(&a.crm_url),
                number(a.gap),
            ],
        );
    }
    finish(out)
}

/// The columns of the referrals' export.
pub const REFERRAL_COLUMNS: [&str; 15] = [
    "id",
    "status",
    "value",
    "name",
    "company",
    "email",
    "note",
    "referrer_segment",
    "referrer_email",
    "account_id",
    "response_id",
    "crm_url",
    "created_at",
    "created_by",
    "updated_at",
];

/// Referrals as CSV, with the header.
pub fn referrals(referrals: &[crate::model::Referral]) -> Vec<u8> {
    let mut out = writer();
    write(&mut out, &REFERRAL_COLUMNS.map(Cow::Borrowed));
    for r in referrals {
        write(
            &mut out,
            &[
                number(Some(r.id)),
                Cow::Borrowed(r.status.as_str()),
                number(r.value),
                text(&r.name),
                optional(&r.company),
                optional(&r.email),
                optional(&r.note),
                text(&r.referrer_segment),
                optional(&r.referrer_email),
                optional(&r.account_id),
                text(&r.response_id),
                optional(&r.crm_url),
                text(&r.created_at),
                text(&r.created_by),
                text(&r.updated_at),
            ],
        );
    }
    finish(out)
}

/// The columns of the audit trail's CSV.
pub const AUDIT_COLUMNS: [&str; 6] = ["seq", "at", "actor", "action", "object", "detail"];

/// Rows of the audit trail as CSV, with the header.
pub fn audit(rows: &[crate::store::AuditEntry]) -> Vec<u8> {
    let mut out = writer();
    write(&mut out, &AUDIT_COLUMNS.map(Cow::Borrowed));
    for r in rows {
        write(
            &mut out,
            &[
                number(Some(r.seq)),
                text(&r.at),
                text(&r.actor),
                text(&r.action),
                text(&r.object),
                optional(&r.detail),
            ],
        );
    }
    finish(out)
}

/// The columns of a mail merge (`POST /v1/links/bulk`).
pub const LINK_COLUMNS: [&str; 4] = ["email", "user_id", "account_id", "url"];

/// Personal links as CSV, one row per person: `(email, user_id, account_id, url)`.
pub fn links(rows: &[(String, Option<String>, Option<String>, String)], header: bool) -> Vec<u8> {
    let mut out = writer();
    if header {
        write(&mut out, &LINK_COLUMNS.map(Cow::Borrowed));
    }
    for (email, user_id, account_id, url) in rows {
        write(
            &mut out,
            &[
                text(email),
                optional(user_id),
                optional(account_id),
                text(url),
            ],
        );
    }
    finish(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(segment: &str, comment: Option<&str>, account: Option<&str>) -> Stored {
        Stored {
            id: format!("{segment}-1"),
            survey_id: "default".into(),
            score: Some(2),
            segment: segment.into(),
            silent_reason: None,
            comment: comment.map(Into::into),
            contact_consent: None,
            state: "complete".into(),
            user_id: None,
            account_id: account.map(Into::into),
            email: None,
            shown_at: "2026-11-23T10:00:00Z".into(),
            answered_at: Some("2026-11-23T10:00:00Z".into()),
            body: "{}".into(),
            follow_up: Default::default(),
        }
    }

    fn csv_of(rows: &[Stored]) -> String {
        String::from_utf8(responses(rows, true)).unwrap()
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let text = csv_of(&[row(
            "detractor",
            Some("=HYPERLINK(\"x\")\nsecond line"),
            Some("a,b"),
        )]);
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"x\"\")"), "{line}");
        assert!(text.contains("\"a,b\""));
        assert!(text.starts_with("id,survey_id,segment,score,comment,"));
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn cells_starting_with_a_tab_or_a_carriage_return_are_defused_too() {
        for (comment, defused) in [
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("fine", "fine"),
        ] {
            let text = csv_of(&[row("detractor", Some(comment), None)]);
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            assert_eq!(&record[4], defused, "{comment:?}");
        }
    }

    #[test]
    fn our_own_negative_numbers_stay_numbers() {
        let account = Account {
            account_id: "acct".into(),
            figures: nps_widget::segment::Tally {
                promoters: 0,
                passives: 0,
                detractors: 1,
                silents: 0,
            }
            .into(),
            last_answer_at: None,
            latest_comment: None,
            name: None,
            arr: None,
            plan: None,
            owner: None,
            renewal_on: None,
            crm_url: None,
            traits: None,
            gap: None,
            segment: "detractor",
            mean_score: Some(2.0),
            people: 1,
            open_follow_ups: 1,
        };
        let text = String::from_utf8(accounts(&[account], true)).unwrap();
        assert!(text.contains("\r\nacct,detractor,-100,"), "{text}");
    }
}
