//! Terms that travel together, grouped: a plain co-occurrence clustering, written here because
//! it is small and its rules are the product's (a keyphrase crate such as yake-rust ranks the
//! phrases of one text; what a team needs is the suggestions many comments share, each comment
//! counted once).
//!
//! 0. A word common to two topics (`shared`: "teams", the chat tool and "small teams") is
//!    replaced, in each of its comments, by its sense there: one term per topic it is used
//!    for. A word joins a group by the comments it shares with it, so a word that two
//!    suggestions share would join one of them and then pull in the other's words, through
//!    its comments, as one theme. A sense holds its own topic together, weighs for it when
//!    comments are given to groups, and never names a group (it is not among its `terms`).
//! 1. Candidates are the terms of at least two comments, most comments first (on a tie the
//!    longer term, so "dark mode" comes before "dark").
//! 2. Each candidate joins the group whose comments hold at least half of its own comments,
//!    and at least two (a word that only ever appears inside one suggestion's comments, such
//!    as the tool an invoice is sent to, joins that suggestion; one shared comment would let
//!    any two-comment word chain a stranger in: "comments", from "the export misses the
//!    comments column", would bring "No comment"), or starts a group of its own. A word that
//!    `shared` tested and found to be one topic's, and that two groups each hold half of,
//!    joins them into one: "integration", in the comments of "Slack" and of "Microsoft Teams".
//! 3. Each comment belongs to the group its terms weigh most in (a term weighs the number of
//!    comments it is in), so a comment that names two suggestions counts for its stronger one,
//!    and the counts add up.
//! 4. Groups left with fewer than two comments, or made of senses only, are dissolved and
//!    their comments go to their next group, or to `other`.

use std::collections::{HashMap, HashSet};

use super::shared;

/// Most groups formed before the rest of the candidates are only matched against them.
const MAX_GROUPS: usize = 200;

/// A group's terms (indexes into the caller's term table) and the comments it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Group {
    /// Its own terms, strongest first: not the words it shares with other groups.
    pub(super) terms: Vec<usize>,
    /// The comments that belong to it, in input order.
    pub(super) comments: Vec<usize>,
}

/// Groups `docs` (each comment's distinct term indexes, of `term_count` terms); the groups
/// with their comments, most comments first, and the comments with terms in no group.
pub(super) fn group(
    docs: &[Vec<usize>],
    term_count: usize,
    lengths: &[usize],
) -> (Vec<Group>, usize) {
    let postings = postings_of(docs, term_count);
    let candidates = candidates_of(&postings, lengths);

    // 0. Split the words common to two topics into their senses: sense `k` of the `i`th
    // common word is term `term_count + offset[i] + k`, as long as the word it stands for.
    let common = shared::common(docs, &postings, &candidates);
    let one_topic: HashSet<usize> = shared::tested(&postings, &candidates)
        .filter(|t| !common.iter().any(|c| c.term == *t))
        .collect();
    let mut docs = docs.to_vec();
    let mut lengths = lengths.to_vec();
    lengths.resize(term_count, 0);
    let mut senses = 0;
    for c in &common {
        for (&d, sense) in postings[c.term].iter().zip(&c.senses) {
            docs[d].retain(|&t| t != c.term);
            if let Some(k) = sense {
                docs[d].push(term_count + senses + k);
            }
        }
        lengths.extend(std::iter::repeat_n(lengths[c.term], c.topics));
        senses += c.topics;
    }
    let own = |t: usize| t < term_count;
    let postings = postings_of(&docs, term_count + senses);
    let candidates = candidates_of(&postings, &lengths);

    // 2. Form the groups.
    let mut group_terms: Vec<Vec<usize>> = Vec::new();
    let mut group_docs: Vec<HashSet<usize>> = Vec::new();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for &t in &candidates {
        let mut best: Option<(usize, usize)> = None;
        let mut holding = Vec::new();
        for (g, docs) in group_docs.iter().enumerate() {
            let overlap = postings[t].iter().filter(|d| docs.contains(d)).count();
            if best.is_none_or(|(_, o)| overlap > o) {
                best = Some((g, overlap));
            }
            if overlap >= 2 && overlap * 2 >= postings[t].len() {
                holding.push(g);
            }
        }
        match best {
            Some((g, overlap)) if overlap >= 2 && overlap * 2 >= postings[t].len() => {
                group_terms[g].push(t);
                group_docs[g].extend(postings[t].iter().copied());
                group_of.insert(t, g);
                // A word found to be one topic's links the groups that each hold half its
                // comments: "integration" the Slack and the Microsoft Teams comments.
                if one_topic.contains(&t) {
                    for h in holding.into_iter().filter(|&h| h != g) {
                        let terms = std::mem::take(&mut group_terms[h]);
                        let docs = std::mem::take(&mut group_docs[h]);
                        for &u in &terms {
                            group_of.insert(u, g);
                        }
                        group_terms[g].extend(terms);
                        group_docs[g].extend(docs);
                    }
                }
            }
            _ if group_terms.len() < MAX_GROUPS => {
                group_of.insert(t, group_terms.len());
                group_terms.push(vec![t]);
                group_docs.push(postings[t].iter().copied().collect());
            }
            _ => {}
        }
    }

    // 3 and 4. Give each comment to its strongest group; dissolve groups under two comments.
    let mut alive = vec![true; group_terms.len()];
    loop {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); group_terms.len()];
        let mut other = 0;
        for (d, terms) in docs.iter().enumerate() {
            let mut weight: HashMap<usize, usize> = HashMap::new();
            for t in terms {
                if let Some(&g) = group_of.get(t) {
                    if alive[g] {
                        *weight.entry(g).or_default() += postings[*t].len();
                    }
                }
            }
            // The heaviest group; on a tie the one formed first (the more common).
            match weight
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            {
                Some((g, _)) => members[g].push(d),
                None => other += 1,
            }
        }
        let small: Vec<usize> = (0..members.len())
            .filter(|&g| {
                alive[g] && (members[g].len() < 2 || !group_terms[g].iter().any(|&t| own(t)))
            })
            .collect();
        if small.is_empty() {
            let mut groups: Vec<Group> = members
                .into_iter()
                .enumerate()
                .filter(|(g, m)| alive[*g] && !m.is_empty())
                .map(|(g, comments)| Group {
                    terms: group_terms[g].iter().copied().filter(|&t| own(t)).collect(),
                    comments,
                })
                .collect();
            groups.sort_by_key(|g| std::cmp::Reverse(g.comments.len()));
            return (groups, other);
        }
        for g in small {
            alive[g] = false;
        }
    }
}

/// Each term's comments, in input order.
fn postings_of(docs: &[Vec<usize>], term_count: usize) -> Vec<Vec<usize>> {
    let mut postings: Vec<Vec<usize>> = vec![Vec::new(); term_count];
    for (d, terms) in docs.iter().enumerate() {
        for &t in terms {
            postings[t].push(d);
        }
    }
    postings
}

/// The terms of at least two comments, most comments first, then the longer, then the first.
fn candidates_of(postings: &[Vec<usize>], lengths: &[usize]) -> Vec<usize> {
    let mut candidates: Vec<usize> = (0..postings.len())
        .filter(|&t| postings[t].len() >= 2)
        .collect();
    candidates.sort_by(|&a, &b| {
        postings[b]
            .len()
            .cmp(&postings[a].len())
            .then(lengths.get(b).cmp(&lengths.get(a)))
            .then(a.cmp(&b))
    });
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_that_travel_together_form_one_group_and_comments_count_once() {
        // Terms: 0 invoice, 1 pdf, 2 quickbooks (only with invoice), 3 dark, 4 mode, 5 noise.
        let docs = vec![
            vec![0, 1],
            vec![0, 2],
            vec![0, 1, 2],
            vec![1, 0],
            vec![3, 4],
            vec![3, 4, 0],
            vec![4, 3],
            vec![5],
            vec![],
        ];
        let (groups, other) = group(&docs, 6, &[7, 3, 10, 4, 4, 5]);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0].terms[0], 0, "the most common term leads");
        assert!(
            groups[0].terms.contains(&2),
            "quickbooks joins the invoices"
        );
        assert_eq!(groups[0].comments, [0, 1, 2, 3]);
        assert_eq!(
            groups[1].comments,
            [4, 5, 6],
            "the comment naming both counts once"
        );
        assert_eq!(other, 2, "the noise, and the comment without a term");
    }
}
