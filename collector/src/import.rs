//! Reading a CRM's account export (CSV) into account records: which column is which field,
//! and each cell read into its field's type. Pure: bytes in, records and row errors out; the
//! database and the HTTP upload live elsewhere.
//!
//! Columns are found by the names HubSpot (companies export) and Salesforce (accounts report,
//! Data Loader) write, compared trimmed and case-insensitively, a UTF-8 BOM ignored; `?map=`
//! names any other column for a field and beats the built-in names. Every column matched to
//! no field is kept in [`Record::traits`] under its header.
//!
//! A bad row never stops the import: it is left out and named in [`Read::errors`] by its line
//! and column, so a site owner can fix the file and upload it again. Only a problem with the
//! header or the map (no id column, a map naming a column the file lacks, not a CSV file)
//! stops it, as an [`ImportError`].
//!
//! Decisions on values a CRM writes in more than one way:
//! - **Amounts** are read exactly into cents (no floats): `12000`, `1234.56`, `12,000.00`,
//!   `1 234.56`, `1'234.56`, with a currency symbol (`$ € £`) or a three-letter code (`USD`)
//!   before or after. A comma is a decimal comma only when it is the one comma and is followed
//!   by 1 or 2 digits at the end (`1 234,56`, `12,5`); `1,234` is a thousand. A dot is always
//!   the decimal point, so `12.000,00` is refused rather than guessed. More than 2 decimals
//!   are refused, not rounded: `12.000` is twelve thousand in Germany and twelve in the US,
//!   and an ARR off by a factor of a thousand is worse than a row to fix. Exponents
//!   (`1.2E+07`) are refused too: the spreadsheet has already lost the digits.
//! - **Dates** become `YYYY-MM-DD`: `2027-03-31`, with any time after it (`2027-03-31 00:00`,
//!   `2027-03-31T00:00:00Z`: the date as written, as a renewal is a calendar day, not an
//!   instant); `3/31/2027` and `03/31/2027` are US month/day, as Salesforce writes for en_US
//!   (an en_GB `31/03/2027` is then refused as month 31, but `04/03/2027` would be read as
//!   April: such exports should use ISO dates); `31.03.2027` is day.month, as every locale that
//!   writes dots (de, fr-CH, ru) does. Impossible dates (`2027-02-30`) are refused.
//! - **Duplicate ids**: the first good row is kept; a later row with the same id is an error
//!   naming the first one's line, as two rows for one account in one file (a report joined
//!   with contacts, say) say the file is not what the owner thinks it is.
//! - **Blank rows** (every cell empty, as a spreadsheet leaves at the end) are skipped, not
//!   errors. A column whose header is blank is ignored: it has no name to keep it under.
//! - Text (id, name, plan, owner) is trimmed and refused over 400 characters; a trait is kept
//!   as written, trimmed. A cell that is not UTF-8 (an export saved as Latin-1) makes its row
//!   an error that says so.
//! - The delimiter is `,` unless the header line has more `;` or tabs than commas (Excel's
//!   "CSV" in locales with a decimal comma).

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

/// One account record as read from a row (every field optional but the id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// The CRM's id of the account, as the widget's `account_id` names it.
    pub id: String,
    /// The account's display name.
    pub name: Option<String>,
    /// Annual recurring revenue in cents (exact integer arithmetic), ≥ 0.
    pub arr_cents: Option<i64>,
    /// The plan or account type.
    pub plan: Option<String>,
    /// Who owns the account in the CRM.
    pub owner: Option<String>,
    /// YYYY-MM-DD.
    pub renewal_on: Option<String>,
    /// http:// or https:// only.
    pub crm_url: Option<String>,
    /// Every other non-empty column, by its header as written: {"Industry": "Software", ...}
    /// (string values).
    pub traits: Map<String, Value>,
}

/// A row left out, named by its line (1-based, the header is line 1; a quoted cell spanning
/// lines: the line the record starts on) and the column (the header's name, or "row" when
/// the problem is the row's shape rather than one cell).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The line the row starts on.
    pub line: u64,
    /// The header of the column at fault, or "row".
    pub column: String,
    /// What is wrong, in words a site owner can act on.
    pub error: String,
}

/// The whole file: the good records and the bad rows.
#[derive(Debug, Default)]
pub struct Read {
    /// Every good row, in file order.
    pub records: Vec<Record>,
    /// Every row left out, in file order.
    pub errors: Vec<RowError>,
}

/// A header or map problem that stops the whole import: nothing in the file can be read
/// into records until it is fixed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImportError {
    /// The file has no bytes, or only blank lines.
    #[error("the file is empty: expected a CSV export with a header line such as \"Record ID,Company name\"")]
    Empty,
    /// The bytes are not a CSV text file.
    #[error("not a CSV file: {0}")]
    NotCsv(&'static str),
    /// No column matched the id, and `?map` named none.
    #[error("no id column: name one with ?map=id:<column>; the header has {}", list(.header))]
    NoIdColumn {
        /// The header's names, as written.
        header: Vec<String>,
    },
    /// A `?map` entry names a field we do not have.
    #[error("unknown field {name:?} in ?map: the fields are {}", Field::names())]
    UnknownField {
        /// The name as written.
        name: String,
    },
    /// A `?map` entry is not `field:column`.
    #[error("?map entry {entry:?} is not field:column (for example id:Record ID)")]
    BadMapEntry {
        /// The entry as written.
        entry: String,
    },
    /// A `?map` names one field twice.
    #[error("?map names {field} twice")]
    FieldMappedTwice {
        /// The field named twice.
        field: Field,
    },
    /// A `?map` entry names a column the header lacks.
    #[error("?map names column {column:?} for {field}, but the header has {}", list(.header))]
    MissingColumn {
        /// The field the entry is for.
        field: Field,
        /// The column as the entry names it.
        column: String,
        /// The header's names, as written.
        header: Vec<String>,
    },
}

/// One of our fields, as `?map` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `id`: the account's id (required).
    Id,
    /// `name`.
    Name,
    /// `arr`: annual recurring revenue.
    Arr,
    /// `plan`.
    Plan,
    /// `owner`.
    Owner,
    /// `renewal_on`: the renewal date.
    RenewalOn,
    /// `crm_url`: the account's page in the CRM.
    CrmUrl,
}

impl Record {
    /// The record as the store keeps it, with its id.
    pub fn into_record(self) -> (String, crate::model::AccountRecord) {
        let record = crate::model::AccountRecord {
            name: self.name,
            arr_cents: self.arr_cents,
            plan: self.plan,
            owner: self.owner,
            renewal_on: self.renewal_on,
            crm_url: self.crm_url,
            traits: (!self.traits.is_empty()).then_some(serde_json::Value::Object(self.traits)),
        };
        (self.id, record)
    }
}

impl Field {
    /// Every field, in the order errors and docs list them.
    pub const ALL: [Field; 7] = [
        Field::Id,
        Field::Name,
        Field::Arr,
        Field::Plan,
        Field::Owner,
        Field::RenewalOn,
        Field::CrmUrl,
    ];

    /// The name `?map` uses.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Arr => "arr",
            Field::Plan => "plan",
            Field::Owner => "owner",
            Field::RenewalOn => "renewal_on",
            Field::CrmUrl => "crm_url",
        }
    }

    /// The field a `?map` name stands for (case-insensitive, trimmed).
    pub fn from_name(name: &str) -> Option<Field> {
        let name = name.trim();
        Field::ALL
            .into_iter()
            .find(|field| field.name().eq_ignore_ascii_case(name))
    }

    /// The headers HubSpot and Salesforce exports use for this field, best first. A company's
    /// "Website" is not its CRM record, so it is no `crm_url`: it stays a trait.
    fn headers(self) -> &'static [&'static str] {
        match self {
            Field::Id => &[
                "Record ID",
                "Company ID",
                "Account ID",
                "Id",
                "account_id",
                "Record ID - Company",
                "Company: Record ID",
            ],
            Field::Name => &["Company name", "Account Name", "Name"],
            Field::Arr => &[
                "ARR",
                "Annual Recurring Revenue",
                "Annual Revenue",
                "AnnualRevenue",
            ],
            Field::Plan => &["Plan", "Account Type", "Type"],
            Field::Owner => &["Company owner", "Account Owner", "Owner", "Owner Name"],
            Field::RenewalOn => &[
                "renewal_on",
                "Renewal Date",
                "Contract End Date",
                "Renewal",
                "EndDate",
            ],
            Field::CrmUrl => &["crm_url", "CRM URL", "Record URL"],
        }
    }

    /// The names, for error messages.
    fn names() -> String {
        Field::ALL.map(Field::name).join(", ")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Text longer than this (in characters) is refused: an id, name, plan or owner that long is
/// a column mix-up, not data.
const MAX_TEXT: usize = 400;
/// A CRM record's address longer than this is not an address.
const MAX_URL: usize = 2048;
/// Header names an error lists before "and N more".
const LISTED_HEADERS: usize = 20;

/// `map` is the `?map=` value, already URL-decoded: `id:Record ID,arr:ARR (EUR)` (our field :
/// their column header), may be empty. Entries are split at commas and each at its first
/// colon, so a column may contain `:` but not `,`.
pub fn parse_map(map: &str) -> Result<Vec<(Field, String)>, ImportError> {
    let mut entries: Vec<(Field, String)> = Vec::new();
    for entry in map.split(',').filter(|entry| !entry.trim().is_empty()) {
        let Some((name, column)) = entry.split_once(':') else {
            return Err(ImportError::BadMapEntry {
                entry: entry.trim().to_owned(),
            });
        };
        let field = Field::from_name(name).ok_or_else(|| ImportError::UnknownField {
            name: name.trim().to_owned(),
        })?;
        let column = column.trim();
        if column.is_empty() {
            return Err(ImportError::BadMapEntry {
                entry: entry.trim().to_owned(),
            });
        }
        if entries.iter().any(|(seen, _)| *seen == field) {
            return Err(ImportError::FieldMappedTwice { field });
        }
        entries.push((field, column.to_owned()));
    }
    Ok(entries)
}

/// Reads a whole export: the header decides which column is which field (`map` first, then
/// the built-in names), then every row is read on its own, good rows into records and bad
/// ones into errors. Linear in the file's size.
pub fn read(csv: &[u8], map: &[(Field, String)]) -> Result<Read, ImportError> {
    let csv = csv.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv);
    if csv.starts_with(b"PK\x03\x04") || csv.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(ImportError::NotCsv(
            "this is an Excel workbook: export the report as CSV",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(csv))
        .from_reader(csv);
    let mut row = csv::ByteRecord::new();

    // Leading blank lines are skipped by the reader; a file of them is empty.
    match reader.read_byte_record(&mut row) {
        Ok(true) => {}
        Ok(false) => return Err(ImportError::Empty),
        Err(_) => return Err(ImportError::NotCsv("its first line cannot be read")),
    }
    let header = row
        .iter()
        .map(|cell| match std::str::from_utf8(cell) {
            Ok(text) if !text.contains('\0') => Ok(text.trim().trim_matches('\u{feff}').trim()),
            _ => Err(ImportError::NotCsv(
                "the header line is not UTF-8 text (export as CSV, UTF-8)",
            )),
        })
        .collect::<Result<Vec<&str>, _>>()?
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<String>>();
    let columns = Columns::match_header(&header, map)?;

    let mut lines = Lines {
        csv,
        at: 0,
        line: 1,
    };
    let mut out = Read::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    loop {
        match reader.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                // Reading bytes from memory with a flexible reader has no error left but a
                // bug; report where it stopped rather than loop on it.
                out.errors.push(RowError {
                    line: lines.of(error.position().map_or(0, csv::Position::byte)),
                    column: "row".to_owned(),
                    error: format!("the file cannot be read past this line: {error}"),
                });
                break;
            }
        }
        let line = lines.of(row.position().map_or(0, csv::Position::byte));
        match columns.record(&header, &row) {
            Ok(None) => {}
            Ok(Some(record)) => {
                if let Some(first) = seen.get(&record.id) {
                    out.errors.push(RowError {
                        line,
                        column: header[columns.id].clone(),
                        error: format!(
                            "duplicate id {}: line {first} has it too; the first row is kept",
                            shown(&record.id)
                        ),
                    });
                } else {
                    seen.insert(record.id.clone(), line);
                    out.records.push(record);
                }
            }
            Err((column, error)) => out.errors.push(RowError {
                line,
                column,
                error,
            }),
        }
    }
    Ok(out)
}

/// Line numbers counted from byte offsets. The reader's own line count is taken before it
/// skips the line ends and blank lines between records, so it is one short after a CRLF or
/// a blank line; counting here is linear over the file, as offsets only grow.
#[derive(Debug)]
struct Lines<'a> {
    csv: &'a [u8],
    /// The offset counted up to.
    at: usize,
    /// The line `at` is on.
    line: u64,
}

impl Lines<'_> {
    /// The line of the first byte at or after `offset` that is not a line end: where the
    /// record the reader found at `offset` really starts.
    fn of(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.csv.len());
        let start = self.csv[offset..]
            .iter()
            .position(|byte| !matches!(byte, b'\r' | b'\n'))
            .map_or(self.csv.len(), |skipped| offset + skipped);
        if start > self.at {
            let newlines = self.csv[self.at..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.line += u64::try_from(newlines).unwrap_or(u64::MAX);
            self.at = start;
        }
        self.line
    }
}

/// `,` unless the first line has more `;` or tabs (outside quotes) than commas.
fn delimiter(csv: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &byte in csv {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    if counts[1] > counts[0] && counts[1] >= counts[2] {
        b';'
    } else if counts[2] > counts[0] {
        b'\t'
    } else {
        b','
    }
}

/// Which column holds which field, and which are traits.
#[derive(Debug)]
struct Columns {
    /// The id's column.
    id: usize,
    /// Every other field's column, if any.
    fields: Vec<(Field, usize)>,
    /// The columns kept as traits.
    traits: Vec<usize>,
}

impl Columns {
    /// `map` first, then the built-in names over the columns `map` left; a column matches one
    /// field at most, unless `map` says otherwise.
    fn match_header(header: &[String], map: &[(Field, String)]) -> Result<Columns, ImportError> {
        let normal: Vec<String> = header.iter().map(|name| name.to_lowercase()).collect();
        let find = |name: &str, claimed: &[bool]| {
            let name = name.trim().to_lowercase();
            normal
                .iter()
                .enumerate()
                .position(|(at, header)| !claimed[at] && *header == name)
        };
        let mut claimed = vec![false; header.len()];
        let mut chosen: Vec<(Field, usize)> = Vec::new();
        for (field, column) in map {
            let Some(at) = find(column, &vec![false; header.len()]) else {
                return Err(ImportError::MissingColumn {
                    field: *field,
                    column: column.clone(),
                    header: header.to_vec(),
                });
            };
            claimed[at] = true;
            chosen.push((*field, at));
        }
        for field in Field::ALL {
            if chosen.iter().any(|(seen, _)| *seen == field) {
                continue;
            }
            if let Some(at) = field.headers().iter().find_map(|name| find(name, &claimed)) {
                claimed[at] = true;
                chosen.push((field, at));
            }
        }
        let Some(id) = chosen
            .iter()
            .find_map(|(field, at)| (*field == Field::Id).then_some(*at))
        else {
            return Err(ImportError::NoIdColumn {
                header: header.to_vec(),
            });
        };
        let traits = (0..header.len())
            .filter(|at| !claimed[*at] && !header[*at].is_empty())
            .collect();
        chosen.retain(|(field, _)| *field != Field::Id);
        Ok(Columns {
            id,
            fields: chosen,
            traits,
        })
    }

    /// One row read: a record, `None` for a blank row, or the first problem as (column,
    /// message).
    fn record(
        &self,
        header: &[String],
        row: &csv::ByteRecord,
    ) -> Result<Option<Record>, (String, String)> {
        if row.iter().all(|cell| cell.trim_ascii().is_empty()) {
            return Ok(None);
        }
        if row.len() != header.len() {
            let column = header
                .get(row.len())
                .filter(|name| !name.is_empty())
                .cloned()
                .unwrap_or_else(|| "row".to_owned());
            return Err((
                column,
                format!(
                    "the row has {}, the header has {}",
                    cells(row.len()),
                    header.len()
                ),
            ));
        }
        let cell = |at: usize| -> Result<&str, (String, String)> {
            let bytes = row.get(at).unwrap_or_default();
            std::str::from_utf8(bytes).map(str::trim).map_err(|_| {
                (
                    header[at].clone(),
                    "the cell is not UTF-8 text (export as CSV, UTF-8)".to_owned(),
                )
            })
        };
        let at_fault = |at: usize| move |error: String| (header[at].clone(), error);

        let id = cell(self.id)?;
        if id.is_empty() {
            return Err((header[self.id].clone(), "the id is empty".to_owned()));
        }
        let mut record = Record {
            id: text(Field::Id, id).map_err(at_fault(self.id))?,
            ..Record::default()
        };
        for &(field, at) in &self.fields {
            let value = cell(at)?;
            if value.is_empty() {
                continue;
            }
            let fault = at_fault(at);
            match field {
                Field::Id => {}
                Field::Name => record.name = Some(text(field, value).map_err(fault)?),
                Field::Plan => record.plan = Some(text(field, value).map_err(fault)?),
                Field::Owner => record.owner = Some(text(field, value).map_err(fault)?),
                Field::Arr => record.arr_cents = Some(cents(value).map_err(fault)?),
                Field::RenewalOn => record.renewal_on = Some(date(value).map_err(fault)?),
                Field::CrmUrl => record.crm_url = Some(url(value).map_err(fault)?),
            }
        }
        for &at in &self.traits {
            let value = cell(at)?;
            if !value.is_empty() {
                record
                    .traits
                    .insert(header[at].clone(), Value::String(value.to_owned()));
            }
        }
        Ok(Some(record))
    }
}

/// Trimmed text within [`MAX_TEXT`].
fn text(field: Field, value: &str) -> Result<String, String> {
    let length = value.chars().count();
    if length > MAX_TEXT {
        return Err(format!(
            "{field} is longer than {MAX_TEXT} characters ({length})"
        ));
    }
    Ok(value.to_owned())
}

/// An amount as exported, in cents (see the module docs for the forms read).
fn cents(value: &str) -> Result<i64, String> {
    let not_amount = || {
        format!(
            "arr is not an amount: {} (write it like 12000 or 12,000.00)",
            shown(value)
        )
    };
    let (negative, rest) = match value.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, value),
    };
    let rest = without_currency(rest);
    let (negative, rest) = match rest.strip_prefix(['-', '\u{2212}']) {
        Some(rest) if !negative => (true, rest.trim_start()),
        _ => (negative, rest),
    };
    let magnitude = match magnitude(rest) {
        Ok(magnitude) => magnitude,
        Err(Refused::NotAnAmount) => return Err(not_amount()),
        Err(Refused::TooManyDecimals) => {
            return Err(format!(
                "arr has more than 2 decimals: {} (a dot is always the decimal point)",
                shown(value)
            ))
        }
        Err(Refused::TooLarge) => return Err(format!("arr is too large: {}", shown(value))),
    };
    if negative && magnitude > 0 {
        return Err(format!("arr must be 0 or more, got {value}"));
    }
    Ok(magnitude)
}

/// Why an amount's digits were refused.
#[derive(Debug, PartialEq)]
enum Refused {
    NotAnAmount,
    TooManyDecimals,
    TooLarge,
}

/// The amount without one currency symbol or three-letter code before or after it.
fn without_currency(value: &str) -> &str {
    const SYMBOLS: [char; 3] = ['$', '€', '£'];
    if let Some(rest) = value.strip_prefix(SYMBOLS) {
        return rest.trim_start();
    }
    if let Some(rest) = value.strip_suffix(SYMBOLS) {
        return rest.trim_end();
    }
    let bytes = value.as_bytes();
    let is_code = |code: &[u8]| code.iter().all(u8::is_ascii_alphabetic);
    if bytes.len() > 3 && is_code(&bytes[..3]) && !bytes[3].is_ascii_alphabetic() {
        return value[3..].trim_start();
    }
    let end = bytes.len().saturating_sub(3);
    if bytes.len() > 3 && is_code(&bytes[end..]) && !bytes[end - 1].is_ascii_alphabetic() {
        return value[..end].trim_end();
    }
    value
}

/// Digits with thousands separators and up to 2 decimals, in cents.
fn magnitude(value: &str) -> Result<i64, Refused> {
    // Spaces in numbers are often no-break spaces (French and Swiss formats).
    let value = value.replace(['\u{a0}', '\u{202f}'], " ");
    let (whole, fraction) = if value.matches('.').count() > 1 {
        return Err(Refused::NotAnAmount);
    } else if let Some((whole, fraction)) = value.split_once('.') {
        (whole, fraction)
    } else {
        match value.rsplit_once(',') {
            Some((whole, fraction))
                if (1..=2).contains(&fraction.len()) && !whole.contains(',') =>
            {
                (whole, fraction)
            }
            _ => (value.as_str(), ""),
        }
    };
    if value.contains('.') && fraction.is_empty() {
        return Err(Refused::NotAnAmount);
    }
    if !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Refused::NotAnAmount);
    }
    let digits = grouped(whole).ok_or(Refused::NotAnAmount)?;
    if fraction.len() > 2 {
        return Err(Refused::TooManyDecimals);
    }
    let mut cents: i64 = 0;
    for byte in digits.bytes().chain(format!("{fraction:0<2}").bytes()) {
        cents = cents
            .checked_mul(10)
            .and_then(|cents| cents.checked_add(i64::from(byte - b'0')))
            .ok_or(Refused::TooLarge)?;
    }
    Ok(cents)
}

/// The digits of a whole number written with at most one kind of thousands separator
/// (`,`, space or `'`) between groups of three.
fn grouped(whole: &str) -> Option<String> {
    let separator = whole.chars().find(|c| matches!(c, ',' | ' ' | '\''));
    let groups: Vec<&str> = match separator {
        Some(separator) => whole.split(separator).collect(),
        None => vec![whole],
    };
    let first = groups.first()?;
    let digits = |group: &&str| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(digits) {
        return None;
    }
    if separator.is_some() && (first.len() > 3 || groups[1..].iter().any(|group| group.len() != 3))
    {
        return None;
    }
    Some(groups.concat())
}

/// A date as exported, as YYYY-MM-DD (see the module docs for the forms read).
fn date(value: &str) -> Result<String, String> {
    let not_date = || {
        format!(
            "renewal_on is not a date: {} (write it like 2027-03-31)",
            shown(value)
        )
    };
    let (day, time) = match value.find([' ', 'T', ',']) {
        Some(at) => (&value[..at], value[at + 1..].trim()),
        None => (value, ""),
    };
    let time_like = time.is_empty()
        || (time.starts_with(|c: char| c.is_ascii_digit())
            && time
                .chars()
                .all(|c| c.is_ascii_digit() || ":.+-Z AaPpMm".contains(c)));
    if !time_like {
        return Err(not_date());
    }
    let number = |part: &str, widths: std::ops::RangeInclusive<usize>| {
        (widths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u16>().ok())
            .flatten()
    };
    let parts: Vec<&str> = day.split(['-', '/', '.']).collect();
    let [a, b, c] = parts[..] else {
        return Err(not_date());
    };
    let separator = day.chars().find(|c| matches!(c, '-' | '/' | '.'));
    if day.chars().filter(|c| Some(*c) == separator).count() != 2 {
        return Err(not_date());
    }
    let ymd = match separator {
        Some('-') => (number(a, 4..=4), number(b, 1..=2), number(c, 1..=2)),
        Some('/') => (number(c, 4..=4), number(a, 1..=2), number(b, 1..=2)),
        Some('.') => (number(c, 4..=4), number(b, 1..=2), number(a, 1..=2)),
        _ => return Err(not_date()),
    };
    let (Some(year), Some(month), Some(day)) = ymd else {
        return Err(not_date());
    };
    let real = u8::try_from(month)
        .ok()
        .and_then(|month| time::Month::try_from(month).ok())
        .zip(u8::try_from(day).ok())
        .and_then(|(month, day)| time::Date::from_calendar_date(i32::from(year), month, day).ok());
    match real {
        Some(date) => Ok(format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )),
        None => Err(format!("renewal_on is not a real date: {}", shown(value))),
    }
}

/// An http(s) address with a host and no spaces: the dashboard links to it.
fn url(value: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "crm_url must be an http:// or https:// address, got {}",
            shown(value)
        )
    };
    let scheme_end = ["http://", "https://"].into_iter().find_map(|scheme| {
        value
            .get(..scheme.len())
            .filter(|start| start.eq_ignore_ascii_case(scheme))
            .map(|_| scheme.len())
    });
    let Some(scheme_end) = scheme_end else {
        return Err(bad());
    };
    let host = value[scheme_end..]
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if host.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    if value.len() > MAX_URL {
        return Err(format!("crm_url is longer than {MAX_URL} characters"));
    }
    Ok(value.to_owned())
}

/// A cell's value quoted for an error message, cut short if long.
fn shown(value: &str) -> String {
    const SHOWN: usize = 60;
    if value.chars().count() > SHOWN {
        let cut: String = value.chars().take(SHOWN).collect();
        format!("{cut:?}…")
    } else {
        format!("{value:?}")
    }
}

/// "1 cell", "2 cells".
fn cells(count: usize) -> String {
    if count == 1 {
        "1 cell".to_owned()
    } else {
        format!("{count} cells")
    }
}

/// Header names for an error message: `"A", "B"`, the tail counted.
fn list(header: &[String]) -> String {
    let mut listed = header
        .iter()
        .take(LISTED_HEADERS)
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if header.is_empty() {
        listed = "no columns".to_owned();
    } else if header.len() > LISTED_HEADERS {
        listed.push_str(&format!(" and {} more", header.len() - LISTED_HEADERS));
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_ok(csv: &str) -> Read {
        read(csv.as_bytes(), &[]).unwrap()
    }

    fn error(line: u64, column: &str, error: &str) -> RowError {
        RowError {
            line,
            column: column.to_owned(),
            error: error.to_owned(),
        }
    }

    #[test]
    fn a_hubspot_companies_export_reads_good_rows_and_names_bad_ones() {
        let csv = "Record ID,Company name,Company owner,Annual Revenue,Create Date,Industry,Renewal Date\n\
                   101,Acme,Ann Lee,$12000.00,2024-01-05 10:00,Software,2027-03-31\n\
                   102,Globex,Bo Chan,\"$12,000.00\",2024-02-01 09:30,,03/31/2027\n\
                   103,Initech,,twelve,2024-02-02 09:30,Retail,\n\
                   104,Umbrella,,5000,2024-02-03 09:30,,2027-02-30\n\
                   ,Nameless,,100,2024-02-04 09:30,,\n\
                   105,  Hooli  ,,,,,\n";
        let read = read_ok(csv);

        assert_eq!(
            read.records
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>(),
            ["101", "102", "105"]
        );
        let acme = &read.records[0];
        assert_eq!(acme.name.as_deref(), Some("Acme"));
        assert_eq!(acme.owner.as_deref(), Some("Ann Lee"));
        assert_eq!(acme.arr_cents, Some(1_200_000));
        assert_eq!(acme.renewal_on.as_deref(), Some("2027-03-31"));
        assert_eq!(acme.traits["Industry"], "Software");
        assert_eq!(acme.traits["Create Date"], "2024-01-05 10:00");
        let globex = &read.records[1];
        assert_eq!(globex.arr_cents, Some(1_200_000));
        assert_eq!(globex.renewal_on.as_deref(), Some("2027-03-31"));
        assert!(
            !globex.traits.contains_key("Industry"),
            "empty cells are left out"
        );
        let hooli = &read.records[2];
        assert_eq!(hooli.name.as_deref(), Some("Hooli"));
        assert_eq!(hooli.arr_cents, None);
        assert!(hooli.traits.is_empty());

        assert_eq!(
            read.errors,
            [
                error(
                    4,
                    "Annual Revenue",
                    "arr is not an amount: \"twelve\" (write it like 12000 or 12,000.00)"
                ),
                error(
                    5,
                    "Renewal Date",
                    "renewal_on is not a real date: \"2027-02-30\""
                ),
                error(6, "Record ID", "the id is empty"),
            ]
        );
    }

    #[test]
    fn a_salesforce_accounts_report_with_a_bom_and_multiline_quoted_cells_reads() {
        let csv = "\u{feff}\"Account ID\",\"Account Name\",\"Account Owner\",\"Type\",\"Annual Revenue\",\"Billing Country\",\"Contract End Date\"\r\n\
                   \"0015g00000AbCdE\",\"Smith, Jones & Co\",\"Dana Kim\",\"Customer - Direct\",\"USD 1,250,000.50\",\"United States\",\"3/1/2027\"\r\n\
                   \"0015g00000FgHiJ\",\"Two\r\nLines Ltd\",\"Eve Roe\",\"Partner\",\"\",\"Germany\",\"\"\r\n\
                   \"0015g00000KlMnO\",\"Later\",\"Eve Roe\",\"Partner\",\"-5\",\"Germany\",\"\"\r\n";
        let read = read_ok(csv);

        assert_eq!(read.records.len(), 2);
        let smith = &read.records[0];
        assert_eq!(smith.id, "0015g00000AbCdE");
        assert_eq!(smith.name.as_deref(), Some("Smith, Jones & Co"));
        assert_eq!(smith.owner.as_deref(), Some("Dana Kim"));
        assert_eq!(smith.plan.as_deref(), Some("Customer - Direct"));
        assert_eq!(smith.arr_cents, Some(125_000_050));
        assert_eq!(smith.renewal_on.as_deref(), Some("2027-03-01"));
        assert_eq!(smith.traits["Billing Country"], "United States");
        assert_eq!(read.records[1].name.as_deref(), Some("Two\r\nLines Ltd"));
        // The two-line record starts on line 3, so the next one starts on line 5.
        assert_eq!(
            read.errors,
            [error(5, "Annual Revenue", "arr must be 0 or more, got -5")]
        );
    }

    #[test]
    fn map_overrides_the_built_in_match_and_the_rest_become_traits() {
        let csv = "Record ID,Company ID,ARR (EUR),Annual Revenue\n\
                   r-1,c-1,\"1.234,00\",999\n\
                   r-2,c-2,\"1 234,50\",999\n";
        let map = parse_map("id:Record ID,arr:ARR (EUR)").unwrap();
        assert_eq!(
            map,
            [
                (Field::Id, "Record ID".to_owned()),
                (Field::Arr, "ARR (EUR)".to_owned())
            ]
        );
        let read = read(csv.as_bytes(), &map).unwrap();

        assert_eq!(read.records.len(), 1);
        let record = &read.records[0];
        assert_eq!(record.id, "r-2");
        assert_eq!(record.arr_cents, Some(123_450));
        assert_eq!(record.traits["Company ID"], "c-2");
        assert_eq!(record.traits["Annual Revenue"], "999");
        assert_eq!(read.errors.len(), 1);
        assert_eq!(read.errors[0].line, 2);
        assert_eq!(read.errors[0].column, "ARR (EUR)");
    }

    #[test]
    fn map_can_name_the_id_column_of_an_unknown_export() {
        let csv = "Customer Key,Company name\nk1,Acme\n";
        let map = parse_map(" ID : customer key ").unwrap();
        let read = read(csv.as_bytes(), &map).unwrap();
        assert_eq!(read.records[0].id, "k1");
        assert_eq!(read.records[0].name.as_deref(), Some("Acme"));
    }

    #[test]
    fn a_header_without_an_id_column_stops_the_import_and_lists_the_header() {
        let error = read(b"Company name,Annual Revenue\nAcme,100\n", &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no id column: name one with ?map=id:<column>; the header has \"Company name\", \"Annual Revenue\""
        );
    }

    #[test]
    fn map_and_file_problems_stop_the_import_with_named_errors() {
        let cases: [(&str, &[u8], &str); 6] = [
            (
                "id:Record ID,revenue:ARR",
                b"Record ID\n1\n",
                "unknown field \"revenue\" in ?map: the fields are id, name, arr, plan, owner, renewal_on, crm_url",
            ),
            (
                "id",
                b"Record ID\n1\n",
                "?map entry \"id\" is not field:column (for example id:Record ID)",
            ),
            ("id:A,id:B", b"A,B\n1,2\n", "?map names id twice"),
            (
                "arr:ARR (EUR)",
                b"Record ID,ARR\n1,2\n",
                "?map names column \"ARR (EUR)\" for arr, but the header has \"Record ID\", \"ARR\"",
            ),
            (
                "",
                b"",
                "the file is empty: expected a CSV export with a header line such as \"Record ID,Company name\"",
            ),
            (
                "",
                b"PK\x03\x04\x14\x00",
                "not a CSV file: this is an Excel workbook: export the report as CSV",
            ),
        ];
        for (map, csv, expected) in cases {
            let result = parse_map(map).and_then(|map| read(csv, &map));
            assert_eq!(
                result.map(|_| ()).unwrap_err().to_string(),
                expected,
                "map {map:?}"
            );
        }
        assert_eq!(
            read(b"\xff\xfeR\x00e\x00", &[]).unwrap_err(),
            ImportError::NotCsv("the header line is not UTF-8 text (export as CSV, UTF-8)")
        );
        assert_eq!(read(b"\n\r\n\n", &[]).unwrap_err(), ImportError::Empty);
    }

    #[test]
    fn amounts_are_read_exactly_into_cents() {
        let cases: [(&str, Result<i64, &str>); 30] = [
            ("12000", Ok(1_200_000)),
            ("0", Ok(0)),
            ("-0", Ok(0)),
            ("1234.56", Ok(123_456)),
            ("1234.5", Ok(123_450)),
            ("12,000.00", Ok(1_200_000)),
            ("$12,000", Ok(1_200_000)),
            ("$ 12,000.00", Ok(1_200_000)),
            ("USD 1,234", Ok(123_400)),
            ("1,234.56 EUR", Ok(123_456)),
            ("€1234", Ok(123_400)),
            ("1234 €", Ok(123_400)),
            ("1 234,56", Ok(123_456)),
            ("1\u{a0}234,56", Ok(123_456)),
            ("1'234.56", Ok(123_456)),
            ("12,5", Ok(1_250)),
            ("1,234", Ok(123_400)),
            ("1,234,567", Ok(123_456_700)),
            ("92233720368547758.07", Ok(i64::MAX)),
            ("-5", Err("arr must be 0 or more, got -5")),
            ("-$5", Err("arr must be 0 or more, got -$5")),
            ("$-5", Err("arr must be 0 or more, got $-5")),
            (
                "12.345",
                Err("arr has more than 2 decimals: \"12.345\" (a dot is always the decimal point)"),
            ),
            (
                "twelve",
                Err("arr is not an amount: \"twelve\" (write it like 12000 or 12,000.00)"),
            ),
            (
                "12.000,00",
                Err("arr is not an amount: \"12.000,00\" (write it like 12000 or 12,000.00)"),
            ),
            (
                "1,23,456",
                Err("arr is not an amount: \"1,23,456\" (write it like 12000 or 12,000.00)"),
            ),
            (
                "1,2345",
                Err("arr is not an amount: \"1,2345\" (write it like 12000 or 12,000.00)"),
            ),
            (
                "1.2E+07",
                Err("arr is not an amount: \"1.2E+07\" (write it like 12000 or 12,000.00)"),
            ),
            (
                ".5",
                Err("arr is not an amount: \".5\" (write it like 12000 or 12,000.00)"),
            ),
            (
                "92233720368547758.08",
                Err("arr is too large: \"92233720368547758.08\""),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(cents(value), expected.map_err(str::to_owned), "{value:?}");
        }
        for value in [
            "12.",
            "1,,234",
            "1 234,567",
            "$",
            "USD",
            "1,234 567",
            "12-5",
        ] {
            assert!(cents(value).is_err(), "{value:?} is refused");
        }
    }

    #[test]
    fn dates_become_iso_days() {
        let cases: [(&str, Result<&str, &str>); 14] = [
            ("2027-03-31", Ok("2027-03-31")),
            ("2027-3-1", Ok("2027-03-01")),
            ("2027-03-31 00:00", Ok("2027-03-31")),
            ("2027-03-31T00:00:00Z", Ok("2027-03-31")),
            ("2027-03-31T23:30:00.000-05:00", Ok("2027-03-31")),
            ("03/31/2027", Ok("2027-03-31")),
            ("3/31/2027", Ok("2027-03-31")),
            ("3/31/2027, 12:00 AM", Ok("2027-03-31")),
            ("31.03.2027", Ok("2027-03-31")),
            ("2028-02-29", Ok("2028-02-29")),
            (
                "2027-02-30",
                Err("renewal_on is not a real date: \"2027-02-30\""),
            ),
            (
                "31/03/2027",
                Err("renewal_on is not a real date: \"31/03/2027\""),
            ),
            (
                "next year",
                Err("renewal_on is not a date: \"next year\" (write it like 2027-03-31)"),
            ),
            (
                "27-03-31",
                Err("renewal_on is not a date: \"27-03-31\" (write it like 2027-03-31)"),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(
                date(value),
                expected.map(str::to_owned).map_err(str::to_owned),
                "{value:?}"
            );
        }
        for value in [
            "2027/03-31",
            "2027-03-31 soon",
            "2027-03",
            "20270331",
            "2027-03-31-01",
        ] {
            assert!(date(value).is_err(), "{value:?} is refused");
        }
    }

    #[test]
    fn crm_urls_must_be_http_or_https_addresses() {
        let cases = [
            ("https://app.hubspot.com/contacts/1/company/101", true),
            ("HTTP://crm.example.com", true),
            (
                "https://x.lightning.force.com/lightning/r/Account/001/view",
                true,
            ),
            ("javascript:alert(1)", false),
            ("ftp://crm.example.com", false),
            ("https://", false),
            ("https:///path", false),
            ("https://crm.example.com/a b", false),
            ("www.example.com", false),
        ];
        for (value, good) in cases {
            assert_eq!(url(value).is_ok(), good, "{value:?}");
        }
        let read = read_ok(
            "Id,CRM URL,Website\n1,javascript:alert(1),https://acme.com\n2,,https://acme.com\n",
        );
        assert_eq!(
            read.errors,
            [error(
                2,
                "CRM URL",
                "crm_url must be an http:// or https:// address, got \"javascript:alert(1)\""
            )]
        );
        assert_eq!(read.records[0].crm_url, None);
        assert_eq!(read.records[0].traits["Website"], "https://acme.com");
    }

    #[test]
    fn rows_of_the_wrong_length_are_errors_not_panics() {
        let read = read_ok("Id,Name,Plan\n1,A\n2,B,Pro,extra\n3,C,Pro\n,,\n\n4\n");
        assert_eq!(
            read.errors,
            [
                error(2, "Plan", "the row has 2 cells, the header has 3"),
                error(3, "row", "the row has 4 cells, the header has 3"),
                error(7, "Name", "the row has 1 cell, the header has 3"),
            ]
        );
        assert_eq!(read.records.len(), 1, "the blank rows are skipped");
        assert_eq!(read.records[0].id, "3");
    }

    #[test]
    fn a_later_row_with_the_same_id_is_an_error_and_the_first_is_kept() {
        let read = read_ok("Id,Name\n7,First\n8,Other\n 7 ,Second\n");
        assert_eq!(
            read.records
                .iter()
                .map(|r| r.name.as_deref())
                .collect::<Vec<_>>(),
            [Some("First"), Some("Other")]
        );
        assert_eq!(
            read.errors,
            [error(
                4,
                "Id",
                "duplicate id \"7\": line 2 has it too; the first row is kept"
            )]
        );
    }

    #[test]
    fn text_over_400_characters_is_refused_and_text_is_trimmed() {
        let long = "é".repeat(401);
        let csv = format!("Id,Name,Owner\n1,{long},x\n2,{},  Ann  \n", "é".repeat(400));
        let read = read_ok(&csv);
        assert_eq!(
            read.errors,
            [error(2, "Name", "name is longer than 400 characters (401)")]
        );
        assert_eq!(read.records[0].owner.as_deref(), Some("Ann"));
    }

    #[test]
    fn headers_match_case_insensitively_trimmed_and_each_column_once() {
        let read = read_ok(" account id ,ACCOUNT NAME,Name,type\nA1,Acme,Other,Pro\n");
        let record = &read.records[0];
        assert_eq!(record.id, "A1");
        assert_eq!(record.name.as_deref(), Some("Acme"));
        assert_eq!(record.plan.as_deref(), Some("Pro"));
        assert_eq!(record.traits["Name"], "Other");
    }

    #[test]
    fn semicolon_exports_from_decimal_comma_locales_read() {
        let read = read_ok("Record ID;Company name;Annual Revenue\n1;Acme, Inc;1 234,50\n");
        assert_eq!(read.records[0].name.as_deref(), Some("Acme, Inc"));
        assert_eq!(read.records[0].arr_cents, Some(123_450));
    }

    #[test]
    fn a_cell_that_is_not_utf8_makes_its_row_an_error() {
        let read = read(b"Id,Name\n1,M\xfcller\n2,Ok\n", &[]).unwrap();
        assert_eq!(
            read.errors,
            [error(
                2,
                "Name",
                "the cell is not UTF-8 text (export as CSV, UTF-8)"
            )]
        );
        assert_eq!(read.records.len(), 1);
    }

    #[test]
    fn a_hundred_thousand_rows_read_in_one_pass() {
        let mut csv = String::from("Record ID,Company name,Annual Revenue,Renewal Date,Industry\n");
        for i in 0..100_000 {
            csv.push_str(&format!(
                "{i},Company {i},\"${},{:03}.00\",2027-03-31,Software\n",
                i / 1000,
                i % 1000
            ));
        }
        let read = read(csv.as_bytes(), &[]).unwrap();
        assert_eq!(read.records.len() + read.errors.len(), 100_000);
        assert_eq!(read.records.len(), 100_000);
    }
}
