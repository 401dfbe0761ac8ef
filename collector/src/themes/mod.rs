//! Comment themes: the suggestions a segment's comments share, each worth something. Each
//! comment is cut into terms in its own language (`words`), terms that keep appearing in the
//! same comments are grouped into one theme (`group`), and each comment counts for at most one
//! theme, its strongest, so the counts add up: the themes' counts plus `other` (comments with
//! text that joined no theme) are the comments read. A word two topics share ("teams": the
//! chat tool, and "small teams") joins neither (`shared`). A theme is labelled by its defining
//! term, the one most specific to it, as people wrote it, and carries who said it (`people`,
//! `accounts`) and what fixing it is worth: `nps_gain`, the points the NPS would gain if its
//! passives became promoters and its detractors passives, against every answer of the same
//! survey and dates; `arr`, the ARR of the accounts behind it; and, for passives, the
//! referrals they would bring as promoters (`referrals`, `referral_value`), at the rate this
//! period's promoters referred.

mod group;
mod shared;
mod words;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use words::{Language, Reader};

/// One comment the themes are found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The response's id.
    pub id: String,
    /// What they wrote.
    pub text: String,
    /// The response's locale (`pt-BR`).
    pub locale: String,
    /// The response's segment (`passive`).
    pub segment: String,
    /// Who: the user id, or the response id when there is none.
    pub person: String,
    /// Their account, if the site said.
    pub account: Option<String>,
}

/// What the accounts and referrals are worth, for the themes' money figures.
#[derive(Debug, Clone, Default)]
pub struct Worth {
    /// Each account's ARR (accounts without a record are absent: worth 0).
    pub arr: HashMap<String, f64>,
    /// Referrals per promoter measured in the period (referrals ÷ promoters), if any promoters.
    pub referral_rate: Option<f64>,
    /// `--referral-value`: the average won value of one referral; None when not set.
    pub referral_value: Option<f64>,
}

/// One theme of `GET /v1/themes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Theme {
    /// Its defining term as written ("invoice", "dark mode"): the most specific to it.
    pub theme: String,
    /// Comments that belong to it (each comment to one theme only).
    pub count: usize,
    /// Distinct respondents among them.
    pub people: usize,
    /// Distinct accounts among them.
    pub accounts: usize,
    /// NPS points gained if its passives became promoters and its detractors passives.
    pub nps_gain: f64,
    /// The ARR of the distinct accounts behind its comments (an account without a record
    /// counts 0), so a theme's accounts are counted once however many of their people said it.
    pub arr: f64,
    /// The referrals its passives would bring as promoters: its distinct passive people times
    /// the period's referrals per promoter. `None` when it holds no passive's comment (a
    /// detractor becoming a passive refers no one) or no promoter was measured.
    pub referrals: Option<f64>,
    /// `referrals` times the average won value of one referral; `None` when either is unknown.
    pub referral_value: Option<f64>,
    /// Up to five of its responses' ids, newest first.
    pub examples: Vec<String>,
}

/// `GET /v1/themes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Themes {
    /// Most comments first.
    pub themes: Vec<Theme>,
    /// Comments with text that joined no theme.
    pub other: usize,
    /// Comments read: the themes' counts plus `other`.
    pub comments: usize,
}

/// The themes of `comments` (newest first), at most `max` (the rest count as `other`);
/// `answers` is the number of answers (promoters, passives, detractors) the NPS is computed
/// over, for `nps_gain`; `worth` prices the accounts and referrals behind each theme.
pub fn themes(comments: &[Comment], max: usize, answers: u64, worth: &Worth) -> Themes {
    let mut reader = Reader::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut forms: Vec<BTreeMap<String, usize>> = Vec::new();
    let mut lengths: Vec<usize> = Vec::new();
    let docs: Vec<Vec<usize>> = comments
        .iter()
        .map(|c| {
            let terms = reader.terms(&c.text, Language::of(&c.locale));
            terms
                .into_iter()
                .map(|term| {
                    let next = index.len();
                    let t = *index.entry(term.key.clone()).or_insert(next);
                    if t == forms.len() {
                        forms.push(BTreeMap::new());
                        lengths.push(term.key.chars().count());
                    }
                    *forms[t].entry(term.form).or_default() += 1;
                    t
                })
                .collect()
        })
        .collect();
    let (groups, mut other) = group::group(&docs, index.len(), &lengths);
    let mut found = Vec::new();
    for g in groups {
        if found.len() == max {
            other += g.comments.len();
            continue;
        }
        found.push(theme(&g, comments, &docs, &forms, answers, worth));
    }
    Themes {
        themes: found,
        other,
        comments: comments.len(),
    }
}

/// A group as the API shows it.
fn theme(
    g: &group::Group,
    comments: &[Comment],
    docs: &[Vec<usize>],
    forms: &[BTreeMap<String, usize>],
    answers: u64,
    worth: &Worth,
) -> Theme {
    // The label: the group's defining term, the one most specific to it: its comments in the
    // group times the share of all its comments that are in the group (uses² ÷ comments), so
    // a word the group holds only some of ("responses", in exports and in slowness) loses to
    // the group's own ("export"). Then the most specific longer term that contains it, when
    // that is in at least half as many: "dark mode" rather than "dark" (which "dark theme"
    // also has), 請求書 rather than its bigram 求書. Words common to two groups are not among
    // its terms (`group`), so never label it.
    let mut uses: HashMap<usize, usize> = HashMap::new();
    for &d in &g.comments {
        for t in &docs[d] {
            if g.terms.contains(t) {
                *uses.entry(*t).or_default() += 1;
            }
        }
    }
    let used = |t: &usize| uses.get(t).copied().unwrap_or(0);
    // Each comment holds a term once, so its forms' counts sum to its comments.
    let everywhere = |t: &usize| forms[*t].values().sum::<usize>().max(1) as u128;
    let specific = |a: &usize, b: &usize| {
        let (ua, ub) = (used(a) as u128, used(b) as u128);
        (ua * ua * everywhere(b)).cmp(&(ub * ub * everywhere(a)))
    };
    let longest = |a: &&usize, b: &&usize| {
        specific(a, b).then(
            most_used(&forms[**a])
                .chars()
                .count()
                .cmp(&most_used(&forms[**b]).chars().count()),
        )
    };
    let top = g.terms.iter().max_by(longest).copied().unwrap_or_default();
    let top_form = most_used(&forms[top]);
    let phrase = g
        .terms
        .iter()
        .filter(|t| **t != top && most_used(&forms[**t]).contains(&top_form))
        .max_by(longest)
        .copied()
        .filter(|p| used(p) * 2 >= used(&top));
    let label_term = phrase.unwrap_or(top);
    let mut people = HashSet::new();
    let mut passives = HashSet::new();
    // Ordered, so the ARR is summed in the same order on every run.
    let mut accounts = BTreeSet::new();
    let mut moved = 0u64;
    for &d in &g.comments {
        let c = &comments[d];
        people.insert(c.person.as_str());
        if let Some(a) = &c.account {
            accounts.insert(a.as_str());
        }
        if c.segment == "passive" || c.segment == "detractor" {
            moved += 1;
        }
        if c.segment == "passive" {
            passives.insert(c.person.as_str());
        }
    }
    let arr = accounts
        .iter()
        .filter_map(|a| worth.arr.get(*a))
        .sum::<f64>();
    let referrals = worth
        .referral_rate
        .filter(|_| !passives.is_empty())
        .map(|rate| passives.len() as f64 * rate);
    let referral_value = referrals.zip(worth.referral_value).map(|(r, v)| r * v);
    let nps_gain = if answers == 0 {
        0.0
    } else {
        (1000.0 * moved as f64 / answers as f64).round() / 10.0
    };
    Theme {
        theme: most_used(&forms[label_term]),
        count: g.comments.len(),
        people: people.len(),
        accounts: accounts.len(),
        nps_gain,
        arr,
        referrals,
        referral_value,
        examples: g
            .comments
            .iter()
            .take(5)
            .map(|&d| comments[d].id.clone())
            .collect(),
    }
}

/// The most used written form; the shortest, then the first alphabetically, on a tie.
fn most_used(forms: &BTreeMap<String, usize>) -> String {
    forms
        .iter()
        .max_by(|a, b| {
            a.1.cmp(b.1)
                .then(b.0.len().cmp(&a.0.len()))
                .then(b.0.cmp(a.0))
        })
        .map(|(form, _)| form.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
