//! Delivery policy: what waits in the outbox, what is retried when, and what is dropped.
//!
//! Pure: the browser layer stores entries (one localStorage key each, via [`Entry::encode`]),
//! does the `fetch`, and reports outcomes here. Time and randomness come in as arguments.

use crate::text::cut;
use crate::text::parse_uint;
use alloc::{borrow::ToOwned, string::String, vec::Vec};
/// Most entries kept; past this the oldest goes (and the site is told).
pub const MAX_ENTRIES: usize = 100;
/// Most bytes of bodies kept.
pub const MAX_BYTES: usize = 256 * 1024;
/// First retry waits up to this long.
pub const BASE_DELAY_MS: f64 = 1_000.0;
/// No retry waits longer than this.
pub const MAX_DELAY_MS: f64 = 5.0 * 60.0 * 1_000.0;
/// What `fetch(…, {keepalive: true})` may carry in total while a page goes away.
pub const KEEPALIVE_BUDGET: usize = 64 * 1024;

/// One response waiting for a 2xx.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The response id: one entry per response.
    pub id: String,
    /// [`crate::response::Response::rank`]: a lower rank never replaces a higher one.
    pub rank: u8,
    /// When it was first queued (ms since the epoch), for dropping the oldest.
    pub queued_ms: u64,
    /// The exact JSON body to POST.
    pub body: String,
}

impl Entry {
    /// `rank queued_ms body`: cheap to write and read without a JSON parser.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.body.len() + 24);
        crate::text::push_uint(&mut out, u64::from(self.rank));
        out.push(' ');
        crate::text::push_uint(&mut out, self.queued_ms);
        out.push(' ');
        out.push_str(&self.body);
        out
    }

    /// The inverse of [`Entry::encode`]; `None` for anything we did not write.
    pub fn decode(id: &str, text: &str) -> Option<Entry> {
        let (rank, rest) = cut(text, b' ')?;
        let (queued_ms, body) = cut(rest, b' ')?;
        let (rank, queued_ms) = (parse_uint(rank)?, parse_uint(queued_ms)?);
        if rank > 2 || !body.starts_with("{") || !crate::response::is_uuid(id) {
            return None;
        }
        Some(Entry {
            id: id.to_owned(),
            rank: rank as u8,
            queued_ms,
            body: body.to_owned(),
        })
    }
}

/// What the endpoint's answer means for an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: stored; the entry leaves the outbox.
    Delivered,
    /// Worth trying again: network error, timeout, 408, 429, 5xx.
    Retry,
    /// The endpoint refuses this body for good (other 4xx, odd statuses): drop and report.
    Rejected,
    /// Not attempted: another tab holds the entry's lock and is sending it. Look again soon,
    /// without counting an attempt; if that tab delivers it, the entry is gone by then.
    Busy,
}

/// Wait before looking again at an entry another tab is sending.
pub fn busy_wait_ms(random: f64) -> f64 {
    500.0 + 1_000.0 * random.clamp(0.0, 1.0)
}

/// Classifies an HTTP status; `None` is a network error or a timeout.
pub fn classify(status: Option<u16>) -> Outcome {
    match status {
        None | Some(408) | Some(429) => Outcome::Retry,
        Some(200..=299) => Outcome::Delivered,
        Some(500..=599) => Outcome::Retry,
        Some(_) => Outcome::Rejected,
    }
}

/// Wait before retry number `attempt` (1 for the first retry): full jitter over an exponential
/// ceiling, so many tabs and visitors do not retry in lock-step. `random` is uniform in [0, 1).
/// A server's `Retry-After` is a floor.
pub fn backoff_ms(attempt: u32, random: f64, retry_after_ms: Option<f64>) -> f64 {
    let ceiling = (BASE_DELAY_MS * f64::from(1u32 << attempt.min(30))).min(MAX_DELAY_MS);
    let jittered = ceiling * random.clamp(0.0, 1.0);
    match retry_after_ms {
        Some(floor) => jittered.max(floor.min(MAX_DELAY_MS * 4.0)),
        None => jittered.max(50.0),
    }
}

/// `Retry-After` as delay-seconds (the form 429s use); HTTP dates are left to the backoff.
pub fn parse_retry_after(header: &str) -> Option<f64> {
    parse_uint(header.trim_ascii())
        .filter(|s| *s <= u64::from(u32::MAX))
        .map(|s| s as f64 * 1000.0)
}

/// What [`plan_put`] decides for a new delivery, given what is already queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Put {
    /// Store the new entry (false when a later state of it is already queued).
    pub store: bool,
    /// Entries to evict to stay within bounds, oldest first.
    pub evict: Vec<String>,
}

/// Decides how `new` goes into an outbox holding `queued`: a later state replaces an earlier one
/// of the same response, never the reverse; past the bounds the oldest others are evicted.
pub fn plan_put(queued: &[Entry], new: &Entry) -> Put {
    if queued.iter().any(|e| e.id == new.id && e.rank > new.rank) {
        return Put {
            store: false,
            evict: Vec::new(),
        };
    }
    let others = oldest_first(queued, &new.id);
    let mut count = others.len() + 1;
    let mut bytes = new.body.len();
    for e in &others {
        bytes += e.body.len();
    }
    let mut evict = Vec::new();
    for oldest in others {
        if count <= MAX_ENTRIES && bytes <= MAX_BYTES {
            break;
        }
        count -= 1;
        bytes -= oldest.body.len();
        evict.push(oldest.id.clone());
    }
    Put { store: true, evict }
}

/// The entries but the one with id `except`, by `queued_ms` (stable): an insertion sort, as
/// there are at most a hundred, and a fraction of the bytes of `slice::sort`'s generic code
/// (and of iterator adapters) in the wasm.
pub fn oldest_first<'a>(entries: &'a [Entry], except: &str) -> Vec<&'a Entry> {
    let mut sorted: Vec<&Entry> = Vec::new();
    for e in entries {
        if e.id == except {
            continue;
        }
        let mut at = sorted.len();
        while at > 0 && sorted[at - 1].queued_ms > e.queued_ms {
            at -= 1;
        }
        sorted.insert(at, e);
    }
    sorted
}

/// Picks the entries to send with `keepalive` while the page goes away: oldest first, within
/// the browser's 64 KB in-flight budget.
pub fn keepalive_batch(queued: &[Entry]) -> Vec<&Entry> {
    let mut used = 0;
    let mut batch = Vec::new();
    for e in oldest_first(queued, "") {
        if used + e.body.len() <= KEEPALIVE_BUDGET {
            used += e.body.len();
            batch.push(e);
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::uuid_v4;

    fn entry(n: u8, rank: u8, queued_ms: u64, size: usize) -> Entry {
        Entry {
            id: uuid_v4([n; 16]),
            rank,
            queued_ms,
            body: format!("{{\"x\":\"{}\"}}", "a".repeat(size)),
        }
    }

    #[test]
    fn statuses_classify_into_retry_deliver_or_reject() {
        let table = [
            (None, Outcome::Retry),
            (Some(200), Outcome::Delivered),
            (Some(201), Outcome::Delivered),
            (Some(204), Outcome::Delivered),
            (Some(400), Outcome::Rejected),
            (Some(401), Outcome::Rejected),
            (Some(403), Outcome::Rejected),
            (Some(404), Outcome::Rejected),
            (Some(408), Outcome::Retry),
            (Some(413), Outcome::Rejected),
            (Some(429), Outcome::Retry),
            (Some(500), Outcome::Retry),
            (Some(503), Outcome::Retry),
            (Some(302), Outcome::Rejected),
            (Some(1), Outcome::Rejected),
        ];
        for (status, outcome) in table {
            assert_eq!(classify(status), outcome, "{status:?}");
        }
    }

    #[test]
    fn an_entry_another_tab_is_sending_is_looked_at_again_within_two_seconds() {
        for r in [0.0, 0.5, 0.999_999, -1.0, 2.0] {
            let wait = busy_wait_ms(r);
            assert!((500.0..=1_500.0).contains(&wait), "{r} -> {wait}");
        }
    }

    #[test]
    fn backoff_grows_exponentially_under_a_cap_with_full_jitter() {
        assert_eq!(backoff_ms(1, 0.999_999, None).round(), 2_000.0);
        assert_eq!(backoff_ms(3, 0.999_999, None).round(), 8_000.0);
        assert_eq!(backoff_ms(30, 0.999_999, None).round(), MAX_DELAY_MS);
        assert_eq!(backoff_ms(3, 0.5, None), 4_000.0);
        assert_eq!(backoff_ms(3, 0.0, None), 50.0, "never a hot loop");
    }

    #[test]
    fn retry_after_is_a_floor() {
        assert_eq!(backoff_ms(1, 0.1, Some(30_000.0)), 30_000.0);
        assert_eq!(parse_retry_after(" 7 "), Some(7_000.0));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn entries_round_trip_and_foreign_data_is_refused() {
        let e = entry(1, 1, 1_700_000_000_123, 5);
        assert_eq!(Entry::decode(&e.id, &e.encode()), Some(e.clone()));
        for junk in ["", "x", "1 2", "3 1 {}", "1 x {}", "1 2 []", "1 2 not json"] {
            assert_eq!(Entry::decode(&e.id, junk), None, "{junk:?}");
        }
        assert_eq!(Entry::decode("not-an-id", &e.encode()), None);
    }

    #[test]
    fn complete_replaces_partial_but_never_the_reverse() {
        let partial = entry(1, 0, 10, 5);
        let complete = entry(1, 1, 20, 5);
        assert!(plan_put(std::slice::from_ref(&partial), &complete).store);
        assert!(!plan_put(std::slice::from_ref(&complete), &partial).store);
        assert!(
            plan_put(std::slice::from_ref(&complete), &complete).store,
            "updates of complete go"
        );
    }

    #[test]
    fn outbox_drops_the_oldest_past_the_entry_bound() {
        let queued: Vec<Entry> = (0..MAX_ENTRIES as u8)
            .map(|n| entry(n, 1, 1000 - u64::from(n), 5))
            .collect();
        let put = plan_put(&queued, &entry(200, 0, 2000, 5));
        assert!(put.store);
        assert_eq!(
            put.evict,
            vec![uuid_v4([99; 16])],
            "queued_ms 901 is the oldest"
        );
    }

    #[test]
    fn outbox_drops_the_oldest_past_the_byte_bound() {
        let queued = vec![entry(1, 1, 1, 100_000), entry(2, 1, 2, 100_000)];
        let put = plan_put(&queued, &entry(3, 1, 3, 100_000));
        assert_eq!(put.evict, vec![uuid_v4([1; 16])]);
    }

    #[test]
    fn keepalive_sends_what_fits_in_64_kb_oldest_first() {
        let queued = vec![
            entry(1, 1, 3, 30_000),
            entry(2, 1, 1, 30_000),
            entry(3, 1, 2, 30_000),
            entry(4, 1, 4, 100),
        ];
        let ids: Vec<&str> = keepalive_batch(&queued)
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(
            ids,
            vec![uuid_v4([2; 16]), uuid_v4([3; 16]), uuid_v4([4; 16])]
        );
    }
}
