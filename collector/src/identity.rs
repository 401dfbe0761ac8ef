//! Verified identity: the site's server signs who the visitor is, so a script cannot answer
//! for another person or account. `user.hash` is the lower-case hex HMAC-SHA256, keyed by the
//! identity secret, of `user.id + "\n" + (user.account_id or "")` (the way Intercom and
//! Refiner verify users). The account is inside the signature: a valid hash for one account
//! does not vouch for another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a response's claimed identity comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No user id and no account: an anonymous visitor.
    Anonymous,
    /// The hash matches the id and the account.
    Verified,
    /// An id or an account without a hash.
    Missing,
    /// A hash that does not match.
    Forged,
}

/// The hash the site's server computes for `user_id` in `account_id`.
pub fn sign(secret: &[u8], user_id: &str, account_id: Option<&str>) -> String {
    crate::team::hex(&mac(secret, user_id, account_id).finalize().into_bytes())
}

fn mac(secret: &[u8], user_id: &str, account_id: Option<&str>) -> Hmac<Sha256> {
    // HMAC takes a key of any length (`KeyInit`): no error to handle.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(user_id.as_bytes());
    mac.update(b"\n");
    mac.update(account_id.unwrap_or_default().as_bytes());
    mac
}

/// Checks the identity a response claims against `secret`, in constant time.
pub fn verify(
    secret: &[u8],
    user_id: Option<&str>,
    account_id: Option<&str>,
    hash: Option<&str>,
) -> Verdict {
    if user_id.is_none() && account_id.is_none() {
        return Verdict::Anonymous;
    }
    let Some(hash) = hash else {
        return Verdict::Missing;
    };
    let Some(bytes) = unhex(hash) else {
        return Verdict::Forged;
    };
    match mac(secret, user_id.unwrap_or_default(), account_id).verify_slice(&bytes) {
        Ok(()) => Verdict::Verified,
        Err(_) => Verdict::Forged,
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .filter(|pair| {
                    pair.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                })
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"identity-secret-for-tests";

    #[test]
    fn a_known_vector_matches_what_the_readme_snippets_compute() {
        // printf 'u42\nacme' | openssl dgst -sha256 -hmac identity-secret-for-tests
        assert_eq!(
            sign(SECRET, "u42", Some("acme")),
            "a26ebddc42f97c27cbfc3297fff7c75c5a0bf052f604b0d84148fa2ce3f8a75d"
        );
    }

    #[test]
    fn verdicts() {
        let hash = sign(SECRET, "u42", Some("acme"));
        assert_eq!(verify(SECRET, None, None, None), Verdict::Anonymous);
        assert_eq!(
            verify(SECRET, Some("u42"), Some("acme"), Some(&hash)),
            Verdict::Verified
        );
        assert_eq!(
            verify(SECRET, Some("u42"), Some("acme"), None),
            Verdict::Missing
        );
        assert_eq!(
            verify(SECRET, Some("u42"), Some("globex"), Some(&hash)),
            Verdict::Forged,
            "a valid user hash does not vouch for another account"
        );
        assert_eq!(
            verify(SECRET, Some("u43"), Some("acme"), Some(&hash)),
            Verdict::Forged
        );
        assert_eq!(
            verify(
                SECRET,
                Some("u42"),
                Some("acme"),
                Some(&hash.to_uppercase())
            ),
            Verdict::Forged,
            "lower-case hex only"
        );
        let alone = sign(SECRET, "u42", None);
        assert_eq!(
            verify(SECRET, Some("u42"), None, Some(&alone)),
            Verdict::Verified
        );
        assert_eq!(verify(SECRET, None, Some("acme"), None), Verdict::Missing);
    }
}
