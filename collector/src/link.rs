//! Personal survey links: a token the collector signs over the survey, the person and the
//! expiry, so that `/s/<token>` knows who answers without a login, and nobody can change the
//! person or stretch the expiry (the way Formbricks signs its personal links, where PostHog
//! passes the id unsigned).
//!
//! A token is `<payload>.<tag>`: the payload is the link's JSON in base64url, the tag the
//! HMAC-SHA256 of `"nps-link.v1." + payload` with the link key (kept in the database, or
//! `--link-secret`), also base64url. The response a link records has an id derived from the
//! tag, so every visit of one link updates one response, and a second visit can tell that
//! the person already answered.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Days a link lasts unless its creator says: 30.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest a link may last.
pub const MAX_DAYS: u32 = 365;

/// Who a link is for, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The survey asked.
    #[serde(rename = "s")]
    pub survey_id: String,
    /// The person's id in the site's own system.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Their account (B2B).
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Their email address.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Their language, when known (the hosted page and the email block use it).
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Seconds since the epoch after which the link is refused.
    #[serde(rename = "x")]
    pub expires_at: i64,
    /// Random, so that two links for one person and expiry differ.
    #[serde(rename = "n")]
    pub nonce: String,
    /// Seconds since the epoch when it was signed (0 in links signed before it was kept): a
    /// link signed before its person was erased is refused.
    #[serde(rename = "i", default, skip_serializing_if = "is_zero")]
    pub issued_at: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not a token this collector signed, or one changed since.
    #[error("this link is not valid: it was changed or not made by this collector")]
    Invalid,
    /// Signed, but past its expiry.
    #[error("this link has expired")]
    Expired,
    /// Signed for a person erased since (`DELETE /v1/people`).
    #[error("this link is no longer valid: what was held about the person it was made for has been erased")]
    Erased,
}

fn tag(key: &[u8], payload: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length: no error to handle.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(b"nps-link.v1.");
    mac.update(payload.as_bytes());
    mac
}

impl Link {
    /// The link's token, signed with `key`.
    pub fn sign(&self, key: &[u8]) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let payload = B64URL.encode(json);
        let tag = B64URL.encode(tag(key, &payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The link a token names, if `key` signed it and it has not expired at `now` (seconds).
    pub fn verify(key: &[u8], token: &str, now: i64) -> Result<Link, Refused> {
        let (payload, given) = token.split_once('.').ok_or(Refused::Invalid)?;
        let given = B64URL.decode(given).map_err(|_| Refused::Invalid)?;
        // Constant time: a wrong tag says nothing about how much of it was right.
        tag(key, payload)
            .verify_slice(&given)
            .map_err(|_| Refused::Invalid)?;
        let json = B64URL.decode(payload).map_err(|_| Refused::Invalid)?;
        let link: Link = serde_json::from_slice(&json).map_err(|_| Refused::Invalid)?;
        if now >= link.expires_at {
            return Err(Refused::Expired);
        }
        Ok(link)
    }

    /// The person as the response's `user` (only what the link says, never the page's).
    pub fn user(&self) -> serde_json::Value {
        let mut user = serde_json::Map::new();
        for (name, value) in [
            ("id", &self.user_id),
            ("account_id", &self.account_id),
            ("email", &self.email),
        ] {
            if let Some(v) = value {
                user.insert(name.into(), v.clone().into());
            }
        }
        user.into()
    }
}

/// The id of the one response a token records: a UUID v4 made of the token's tag, so it is
/// the same on every visit and for every collector, and nobody can guess it from the link's
/// contents.
pub fn response_id(token: &str) -> String {
    let tag = token.rsplit_once('.').map_or(token, |(_, t)| t);
    let digest = <Sha256 as sha2::Digest>::digest(tag.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::team::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A fresh nonce: 9 random bytes, base64url.
pub fn nonce() -> String {
    let mut bytes = [0u8; 9];
    // The system's randomness only fails on a broken system; the nonce then still differs
    // by expiry, and the tag keeps the link unforgeable.
    let _ = getrandom::getrandom(&mut bytes);
    B64URL.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link {
            survey_id: "default".into(),
            user_id: Some("u_1".into()),
            account_id: Some("acct_9".into()),
            email: Some("ana@example.com".into()),
            locale: Some("fr".into()),
            expires_at: 2_000_000_000,
            nonce: "abc".into(),
            issued_at: 0,
        }
    }

    const KEY: &[u8] = b"a link key of thirty-two bytes!!";

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let token = link().sign(KEY);
        assert_eq!(Link::verify(KEY, &token, 1_999_999_999), Ok(link()));
        assert_eq!(
            Link::verify(KEY, &token, 2_000_000_000),
            Err(Refused::Expired)
        );
    }

    #[test]
    fn a_changed_token_or_another_key_is_refused() {
        let token = link().sign(KEY);
        assert_eq!(
            Link::verify(b"another key", &token, 0),
            Err(Refused::Invalid)
        );
        // Another person, with the old tag.
        let (_, tag) = token.split_once('.').unwrap();
        let other = Link {
            user_id: Some("u_2".into()),
            ..link()
        };
        let (payload, _) = other
            .sign(b"attacker")
            .split_once('.')
            .map(|(p, t)| (p.to_owned(), t.to_owned()))
            .unwrap();
        assert_eq!(
            Link::verify(KEY, &format!("{payload}.{tag}"), 0),
            Err(Refused::Invalid)
        );
        // A later expiry, with the old tag.
        let longer = Link {
            expires_at: 4_000_000_000,
            ..link()
        };
        let payload = longer.sign(KEY).split_once('.').unwrap().0.to_owned();
        assert_eq!(
            Link::verify(KEY, &format!("{payload}.{tag}"), 0),
            Err(Refused::Invalid)
        );
        for junk in ["", ".", "x.y", "no-dot", &format!("{token}x")] {
            assert_eq!(Link::verify(KEY, junk, 0), Err(Refused::Invalid), "{junk}");
        }
    }

    #[test]
    fn each_link_records_one_response_under_a_uuid_v4() {
        let a = link().sign(KEY);
        let b = Link {
            nonce: "def".into(),
            ..link()
        }
        .sign(KEY);
        let id = response_id(&a);
        assert_eq!(id, response_id(&a));
        assert_ne!(id, response_id(&b));
        let shape: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(shape, [8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn the_user_is_what_the_link_says() {
        assert_eq!(
            link().user(),
            serde_json::json!({"id": "u_1", "account_id": "acct_9", "email": "ana@example.com"})
        );
        assert_ne!(nonce(), nonce());
    }
}
