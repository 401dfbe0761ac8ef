//! The team: who may do what. Each teammate has a token of their own with a [`Role`]; the
//! collector keeps only its SHA-256 digest, so a copy of the database does not hand out
//! access, and compares digests in constant time.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::Choice;

/// Shortest `--token` accepted: a guessable token is no lock.
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest teammate name.
pub const MAX_NAME_LEN: usize = 64;

/// What a token may do; each role can do everything the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads reports, lists, CSV exports and the dashboard.
    Viewer,
    /// Also changes follow-ups and adds notes.
    Member,
    /// Also manages the team's tokens (and the surveys).
    Admin,
}

impl Choice for Role {
    const NAME: &'static str = "role";
    const ALL: &'static [(&'static str, Role)] = &[
        ("viewer", Role::Viewer),
        ("member", Role::Member),
        ("admin", Role::Admin),
    ];
}

impl Role {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        Role::ALL
            .iter()
            .find(|(_, r)| *r == self)
            .map_or("viewer", |(n, _)| n)
    }
}

/// The teammate behind a request: the token's name and role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    /// The token's name (`ana`), recorded as the author of what they change.
    pub name: String,
    /// What they may do.
    pub role: Role,
}

/// A new token: `nps_` and 32 random bytes, URL-safe base64 without padding (47 characters).
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness for a token: {e}"))?;
    Ok(format!(
        "nps_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The digest a token is stored and looked up by: lower-case hex SHA-256.
pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether two digests are equal, in time that does not depend on where they differ.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a teammate's name: 1–64 ASCII letters, digits, `.`, `_`, `-` or `@` (an email
/// works). ASCII: a name is in paths (`/v1/tokens/{name}`), the audit trail and the owner
/// field, where two names that look alike must not be two teammates.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name must be 1 to {MAX_NAME_LEN} ASCII letters, digits, '.', '_', '-' or '@'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("nps_"));
        assert_eq!(a.len(), 4 + 43, "32 bytes of base64 without padding");
        assert!(a[4..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn digests_compare_whole() {
        let d = digest("nps_example");
        assert_eq!(d.len(), 64);
        assert!(same_digest(&d, &digest("nps_example")));
        assert!(!same_digest(&d, &digest("nps_examplf")));
        assert!(!same_digest(&d, &d[..63]));
    }

    #[test]
    fn roles_are_ordered_and_names_checked() {
        assert!(Role::Viewer < Role::Member && Role::Member < Role::Admin);
        assert_eq!(Role::parse("member"), Some(Role::Member));
        assert_eq!(Role::parse("owner"), None);
        assert!(check_name("ana.lima@example.com").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
