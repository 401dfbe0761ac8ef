//! A config that cannot be used, said in one sentence that names the key, and the pieces
//! those sentences are made of.

use alloc::{borrow::ToOwned, boxed::Box, string::String};

use super::Value;
use crate::text::number_text;

/// A config that cannot be used: one sentence for the console that names the key at fault,
/// e.g. `unknown key "endpont", did you mean "endpoint"?`. Written when the problem is found:
/// an enum of the cases, formatted later, was twice the code in the wasm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub(super) String);

impl ConfigError {
    /// The sentence.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// An error on its way out of the parser: boxed, so each `?` moves a pointer.
pub(super) type Failed = Box<ConfigError>;

/// A config that is not an object.
pub(super) fn not_an_object() -> Failed {
    Box::new(ConfigError("config must be an object".into()))
}

/// A required key is absent.
pub(super) fn missing(key: &str) -> Failed {
    let mut m = String::new();
    push_all(&mut m, &["\"", key, "\" is required"]);
    Box::new(ConfigError(m))
}

pub(crate) fn push_all(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
}

pub(super) fn nested(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        let mut path = String::with_capacity(parent.len() + key.len() + 1);
        push_all(&mut path, &[parent, ".", key]);
        path
    }
}

pub(super) fn unknown(parent: &str, key: &str, known: &[&'static str]) -> Failed {
    let mut m = String::new();
    push_all(&mut m, &["unknown key \"", &nested(parent, key), "\""]);
    if let Some(k) = nearest(key, known) {
        push_all(&mut m, &[", did you mean \"", &nested(parent, k), "\"?"]);
    }
    Box::new(ConfigError(m))
}

/// `key[i]`.
pub(super) fn at(key: &str, i: usize) -> String {
    let mut path = String::from(key);
    path.push('[');
    crate::text::push_uint(&mut path, i as u64);
    path.push(']');
    path
}

/// `path: ` and the parts.
pub(super) fn said(path: &str, parts: &[&str]) -> Failed {
    let mut m = String::from(path);
    m.push_str(": ");
    push_all(&mut m, parts);
    Box::new(ConfigError(m))
}

/// What other tools call the operators, for "did you mean".
const OPERATOR_ALIASES: [(&str, &str); 4] = [
    ("equals", "is"),
    ("not_equals", "is_not"),
    ("one_of", "in"),
    ("is_older_than", "older_than_days"),
];

/// `audience[1]: unknown operator "equals", did you mean "is"?`
pub(super) fn unknown_operator(path: &str, op: &str) -> Failed {
    let mut guess = nearest(op, super::OPERATOR_NAMES);
    for (alias, name) in OPERATOR_ALIASES {
        if op == alias {
            guess = Some(name);
        }
    }
    match guess {
        Some(name) => said(
            path,
            &[
                "unknown operator \"",
                op,
                "\", did you mean \"",
                name,
                "\"?",
            ],
        ),
        None => said(
            path,
            &[
                "unknown operator \"",
                op,
                "\", expected ",
                super::OPERATOR_EXPECTED,
            ],
        ),
    }
}

pub(super) fn invalid(key: &str, expected: &str, got: &str) -> Failed {
    let mut m = String::new();
    push_all(&mut m, &["\"", key, "\" must be ", expected, ", got ", got]);
    Box::new(ConfigError(m))
}

/// The known key within a small edit distance of `key`, if any: typos, not guesses. The first
/// of the nearest wins. (Plain loops: iterator adapters here cost a kilobyte of wasm.)
pub fn nearest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let mut best = None;
    let mut best_distance = (key.len() / 3).clamp(1, 3) + 1;
    for k in known {
        let d = edit_distance(key.as_bytes(), k.as_bytes());
        if d < best_distance {
            (best, best_distance) = (Some(*k), d);
        }
    }
    best
}

/// Levenshtein distance over bytes (keys are ASCII; a non-ASCII typo only counts as more
/// edits), one row at a time. Keys are short: longer ones are cut to 32 bytes.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let b = &b[..b.len().min(32)];
    let mut row = [0usize; 33];
    for (j, slot) in row.iter_mut().enumerate() {
        *slot = j;
    }
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Describes a value for an error message, as the site wrote it.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Number(n) => number_text(*n),
        Value::Text(s) => {
            let mut out = String::with_capacity(s.len() + 2);
            push_all(&mut out, &["\"", s, "\""]);
            out
        }
        Value::List(_) => "a list".into(),
        Value::Map(_) => "an object".into(),
    }
}
