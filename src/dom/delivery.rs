//! The outbox in the browser: every response is written to localStorage before the first
//! attempt and leaves only on a 2xx; retries follow [`crate::outbox`]'s policy.
//!
//! One key per state of a response (`nps-widget:outbox:<survey_id>:<id>.<queued_ms>`), so tabs
//! never overwrite each other's lists. A later state gets its own key and the tab writing it
//! removes the earlier ones; a 2xx removes only what was sent. Tabs see each other's writes
//! late: a tab whose earlier state was delivered may not see the later state another tab has
//! just written, and with one key per state it cannot remove it (with one key per response it
//! did, and the answer was lost).

use std::future::Future;

use super::bindings::{now_ms, random, store, stored, try_lock, unstore, Post, Posted};
use crate::config::{Config, Credentials};
use crate::outbox::{self, Entry, Outcome};

/// Something the site should hear about through the `error` event.
#[derive(Debug)]
pub(crate) struct Problem {
    /// One sentence.
    pub(crate) message: String,
    /// The HTTP status, for rejected responses.
    pub(crate) status: Option<u16>,
}

#[derive(Debug)]
struct Pending {
    id: String,
    attempts: u32,
    next_ms: f64,
    in_flight: bool,
}

/// The per-survey sender: what is in the outbox and when each entry is next due. The widget
/// runs the attempts it hands out and reports how each ended.
#[derive(Debug)]
pub(crate) struct Delivery {
    prefix: String,
    endpoint: String,
    headers: Vec<(String, String)>,
    credentials: Credentials,
    timeout_ms: u32,
    pending: Vec<Pending>,
    /// Entries localStorage refused (private mode, quota): kept for this page's life only.
    memory: Vec<Entry>,
}

/// How one attempt at a POST ended.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Another tab holds the entry's lock and is sending it: nothing was sent.
    Busy,
    /// It was sent.
    Sent(Posted),
}

/// One POST to make: the caller sends it and reports back through [`Delivery::done`].
#[derive(Debug)]
pub(crate) struct Send {
    /// The response id.
    pub(crate) id: String,
    /// The exact body, compared on completion to know whether a newer state arrived meanwhile.
    pub(crate) body: String,
    /// Its [`Entry::rank`]: on a 2xx, stored states of a lower rank go too.
    rank: u8,
}

impl Delivery {
    /// A sender for `config`'s survey and endpoint.
    pub(crate) fn new(config: &Config) -> Delivery {
        let mut prefix = String::from("nps-widget:outbox:");
        prefix.push_str(&config.survey_id);
        prefix.push(':');
        Delivery {
            prefix,
            endpoint: config.endpoint.clone(),
            headers: config.headers.clone(),
            credentials: config.credentials,
            timeout_ms: config.timeout_ms,
            pending: Vec::new(),
            memory: Vec::new(),
        }
    }

    /// Everything in the outbox for this survey. Entries we cannot read are removed and
    /// reported: they are not ours to send, and must not block the rest.
    fn entries(&self, problems: &mut Vec<Problem>) -> Vec<Entry> {
        let mut entries = Vec::new();
        for (key, value) in stored(&self.prefix) {
            let name = key.strip_prefix(self.prefix.as_str()).unwrap_or_default();
            // `<id>.<queued_ms>`, or `<id>` as an older widget wrote it.
            let id = crate::text::cut(name, b'.').map_or(name, |(id, _)| id);
            match Entry::decode(id, &value) {
                Some(entry) => entries.push(entry),
                None => {
                    unstore(&key);
                    problems.push(problem("discarded unreadable outbox entry ", name, None));
                }
            }
        }
        entries
    }

    /// The retry state of a response, made fresh (due now) the first time it is seen.
    fn pending_mut(&mut self, id: &str) -> &mut Pending {
        let i = match self.pending.iter().position(|p| p.id == id) {
            Some(i) => i,
            None => {
                self.pending.push(Pending {
                    id: id.to_owned(),
                    attempts: 0,
                    next_ms: 0.0,
                    in_flight: false,
                });
                self.pending.len() - 1
            }
        };
        &mut self.pending[i]
    }

    /// Every stored state of one response, by the prefix `<id>` of their keys (ids are UUIDs,
    /// all of one length).
    fn states(&self, id: &str) -> Vec<(String, String)> {
        let mut prefix = self.prefix.clone();
        prefix.push_str(id);
        stored(&prefix)
    }

    /// Puts a response in the outbox (before any attempt). Returns what went wrong, if anything:
    /// a full outbox evicts the oldest, and storage may be unavailable (then the response is
    /// still sent, only not kept across reloads).
    pub(crate) fn queue(&mut self, id: &str, rank: u8, body: String) -> Vec<Problem> {
        let mut problems = Vec::new();
        let queued = self.entries(&mut problems);
        let entry = Entry {
            id: id.to_owned(),
            rank,
            queued_ms: now_ms() as u64,
            body,
        };
        let plan = outbox::plan_put(&queued, &entry);
        for old in &plan.evict {
            for (key, _) in self.states(old) {
                unstore(&key);
            }
            if let Some(i) = self.pending.iter().position(|p| &p.id == old) {
                self.pending.swap_remove(i);
            }
            problems.push(problem("outbox full: dropped response ", old, None));
        }
        if plan.store {
            let earlier = self.states(id);
            let mut key = self.prefix.clone();
            key.push_str(id);
            key.push('.');
            crate::text::push_uint(&mut key, entry.queued_ms);
            if store(&key, &entry.encode()) {
                for (old, _) in earlier {
                    if old != key {
                        unstore(&old);
                    }
                }
            } else {
                problems.push(problem(
                    "could not save response to localStorage, sending without a copy: ",
                    id,
                    None,
                ));
                self.forget_memory(id);
                self.memory.push(entry);
            }
            let p = self.pending_mut(id);
            p.attempts = 0;
            p.next_ms = 0.0;
        }
        problems
    }

    /// The POSTs to make now: entries that are due and not already in flight. With `now_all`
    /// (start-up, back online) every entry regardless of its backoff; with `keepalive` (the
    /// page is going away) everything waiting, within the 64 KB budget.
    pub(crate) fn due(
        &mut self,
        keepalive: bool,
        now_all: bool,
        problems: &mut Vec<Problem>,
    ) -> Vec<Send> {
        let now = now_ms();
        let entries = self.entries(problems);
        let mut all = entries;
        for m in &self.memory {
            if !all.iter().any(|e| e.id == m.id) {
                all.push(m.clone());
            }
        }
        // Entries another tab delivered (or evicted) are gone from storage: forget them.
        let mut i = 0;
        while i < self.pending.len() {
            let p = &self.pending[i];
            if p.in_flight || all.iter().any(|e| e.id == p.id) {
                i += 1;
            } else {
                self.pending.swap_remove(i);
            }
        }
        let batch = if keepalive {
            outbox::keepalive_batch(&all)
        } else {
            outbox::oldest_first(&all, "")
        };
        let mut sends = Vec::new();
        for entry in batch {
            let pending = self.pending_mut(&entry.id);
            // As the page goes away, even what is in flight goes again with `keepalive`: the
            // page's own requests may be cancelled, and the upsert by id makes a double harmless.
            if !keepalive && (pending.in_flight || (!now_all && pending.next_ms > now)) {
                continue;
            }
            pending.in_flight = true;
            sends.push(Send {
                id: entry.id.clone(),
                body: entry.body.clone(),
                rank: entry.rank,
            });
        }
        sends
    }

    /// One attempt at sending `send`, to run to its end (it settles within the timeout). Under
    /// the entry's lock, so two tabs never send it at once; but not as the page goes away (a lock
    /// is granted asynchronously, too late for `pagehide`; the idempotent upsert makes a double
    /// harmless).
    pub(crate) fn attempt(&self, send: &Send, keepalive: bool) -> impl Future<Output = Attempt> {
        let post = Post {
            url: self.endpoint.clone(),
            body: send.body.clone(),
            headers: self.headers.clone(),
            credentials: self.credentials,
            keepalive,
            timeout_ms: self.timeout_ms,
        };
        // Not under the outbox prefix: a lease stored there would read as a bad entry.
        let lock = (!keepalive).then(|| {
            let mut name = String::from("nps-widget:lock:");
            name.push_str(&send.id);
            name
        });
        let lease_ms = f64::from(self.timeout_ms) + 1_000.0;
        async move {
            let _held = match lock {
                Some(name) => match try_lock(name, lease_ms).await {
                    Some(lock) => Some(lock),
                    None => return Attempt::Busy,
                },
                None => None,
            };
            Attempt::Sent(post.send().await)
        }
    }

    /// Records how a POST ended. On a 2xx the entry leaves, unless a newer state of the response
    /// replaced it while the request was in flight (that one still has to go).
    pub(crate) fn done(&mut self, send: &Send, attempt: Attempt) -> Option<Problem> {
        let (outcome, status, retry_after) = match attempt {
            Attempt::Busy => (Outcome::Busy, None, None),
            Attempt::Sent(Posted::Failed) => (outbox::classify(None), None, None),
            Attempt::Sent(Posted::Answered {
                status,
                retry_after,
            }) => (outbox::classify(Some(status)), Some(status), retry_after),
        };
        // What was sent leaves, with any earlier state still stored; a later one stays (stored
        // or in memory) and still has to go.
        let mut still_same = true;
        let delivered = matches!(outcome, Outcome::Delivered | Outcome::Rejected);
        for (key, value) in self.states(&send.id) {
            if value.ends_with(send.body.as_str())
                || value
                    .as_bytes()
                    .first()
                    .is_some_and(|r| *r < b'0' + send.rank)
            {
                if delivered {
                    unstore(&key);
                }
            } else {
                still_same = false;
            }
        }
        still_same &= self
            .memory
            .iter()
            .find(|e| e.id == send.id)
            .is_none_or(|e| e.body == send.body);
        let i = self.pending.iter().position(|p| p.id == send.id)?;
        self.pending[i].in_flight = false;
        if still_same && delivered {
            self.forget_memory(&send.id);
            self.pending.swap_remove(i);
        }
        match outcome {
            Outcome::Delivered => None,
            Outcome::Retry => {
                let p = &mut self.pending[i];
                p.attempts += 1;
                let wait = outbox::backoff_ms(
                    p.attempts,
                    random(),
                    retry_after.as_deref().and_then(outbox::parse_retry_after),
                );
                p.next_ms = now_ms() + wait;
                None
            }
            Outcome::Busy => {
                self.pending[i].next_ms = now_ms() + outbox::busy_wait_ms(random());
                None
            }
            Outcome::Rejected => Some(problem("endpoint rejected response ", &send.id, status)),
        }
    }

    /// Drops the in-memory copy of a response, if there is one (ids are unique there).
    fn forget_memory(&mut self, id: &str) {
        if let Some(i) = self.memory.iter().position(|e| e.id == id) {
            self.memory.swap_remove(i);
        }
    }

    /// Milliseconds until the next retry is due, if any entry is waiting.
    pub(crate) fn next_wait(&self) -> Option<f64> {
        let now = now_ms();
        let mut next: Option<f64> = None;
        for p in &self.pending {
            if !p.in_flight {
                let wait = (p.next_ms - now).max(0.0);
                next = Some(next.map_or(wait, |n| n.min(wait)));
            }
        }
        next
    }
}

fn problem(text: &str, id: &str, status: Option<u16>) -> Problem {
    let mut message = String::from(text);
    message.push_str(id);
    if let Some(s) = status {
        message.push_str(" with status ");
        crate::text::push_uint(&mut message, u64::from(s));
    }
    Problem { message, status }
}
