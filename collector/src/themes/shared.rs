//! Words common to two topics, which no theme may be made of. "Teams" is the chat tool in "a
//! Microsoft Teams integration" and a size in "too expensive for small teams": grouped like
//! any other word, it pulls both suggestions' comments into one theme, and, being in more
//! comments than either suggestion's own words, labels it "teams". So such a word is split by
//! its senses: in each of its comments it becomes the word of the topic that comment is about
//! ("teams" with the integrations, "teams" with the prices), which holds that topic together
//! ("Slack or Teams", "Microsoft Teams") without reaching the other; where its comment says
//! no topic ("my team likes it") it is dropped. A sense never labels a theme (`group`).
//!
//! A term is common when the other terms of its comments (its companions) fall into two or
//! more sets that no two comments link, and each set is a topic of its own: at least two
//! words, together in at least two of the term's comments, and also said without the term
//! (in at least two comments, and a quarter as many as with it). For "teams": {integration, slack,
//! microsoft, …} and {price, plan, small, …}, both said without "teams" too, and never
//! together. Not common: "invoice", whose aspects (the PDF, QuickBooks) are only ever said
//! with it; "slack", whose companions ("integration", "channel", "alerts") are linked to each
//! other; "export", between "report" and "responses", everyday words on their own. Two
//! companions are linked when they share at least two comments, and at least a fifth of the
//! rarer one's: comments anywhere, not only the term's, so that a topic's words are seen as
//! one even where the term's own comments hold them apart.
//!
//! Bounded: only the most common terms are tested (a word that glues themes is common by its
//! nature), each with its strongest companions, reading at most a fixed number of comments
//! per term.

/// Fewer comments cannot hold two topics of at least two comments each.
const MIN_COMMENTS: usize = 4;
/// The most common terms tested.
const MAX_TESTED: usize = 100;
/// The companions of a term looked at: those in most of its comments.
const MAX_COMPANIONS: usize = 30;
/// The comments read per term (its first, that is its newest).
const MAX_READ: usize = 500;

/// A word common to two topics or more, and the topic it is used for in each of its comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Common {
    /// The term (an index into the caller's term table).
    pub(super) term: usize,
    /// How many topics it is common to.
    pub(super) topics: usize,
    /// For each of its comments, in `postings` order: the topic (`0..topics`) that comment
    /// uses it for, or `None` when the comment names none of them.
    pub(super) senses: Vec<Option<usize>>,
}

/// The `candidates` (term indexes, most comments first) that are common to two topics;
/// `postings` are each term's comments, `docs` each comment's terms.
pub(super) fn common(
    docs: &[Vec<usize>],
    postings: &[Vec<usize>],
    candidates: &[usize],
) -> Vec<Common> {
    let mut common = Vec::new();
    let tested: Vec<usize> = tested(postings, candidates).collect();
    let mut scratch = Scratch {
        together: vec![0; postings.len()],
        node_of: vec![None; postings.len()],
        holds: vec![false; docs.len()],
        stamp: vec![0; docs.len()],
        stamps: 0,
    };
    for t in tested {
        if let Some(c) = topics_around(t, docs, postings, &mut scratch) {
            common.push(c);
        }
    }
    common
}

/// The `candidates` that `common` tests: the most common, of enough comments to hold two
/// topics. Those of them it does not return are each one topic's words.
pub(super) fn tested<'a>(
    postings: &'a [Vec<usize>],
    candidates: &'a [usize],
) -> impl Iterator<Item = usize> + 'a {
    candidates
        .iter()
        .copied()
        .filter(|&t| postings[t].len() >= MIN_COMMENTS)
        .take(MAX_TESTED)
}

/// Buffers reused from one term to the next (each left as found).
struct Scratch {
    /// Per term: comments shared with the term tested.
    together: Vec<usize>,
    /// Per term: its node among the companions.
    node_of: Vec<Option<usize>>,
    /// Per comment: it holds the term tested.
    holds: Vec<bool>,
    /// Per comment: the last count it was counted in, so a comment counts once per count.
    stamp: Vec<usize>,
    stamps: usize,
}

/// `t` with its senses, if its companions form two topics of their own or more.
fn topics_around(
    t: usize,
    docs: &[Vec<usize>],
    postings: &[Vec<usize>],
    s: &mut Scratch,
) -> Option<Common> {
    let read = &postings[t][..postings[t].len().min(MAX_READ)];

    // Its companions: the terms (of two comments or more) in its comments, those in most of
    // them first. One comment is enough: a topic may be worded differently in each of the
    // term's comments ("slow" in one, "load" in another) and still be linked elsewhere.
    let mut touched = Vec::new();
    for &d in read {
        for &u in &docs[d] {
            if u != t && postings[u].len() >= 2 {
                if s.together[u] == 0 {
                    touched.push(u);
                }
                s.together[u] += 1;
            }
        }
    }
    let mut companions = touched.clone();
    companions.sort_by(|&a, &b| s.together[b].cmp(&s.together[a]).then(a.cmp(&b)));
    companions.truncate(MAX_COMPANIONS);
    for u in touched {
        s.together[u] = 0;
    }
    if companions.len() < 4 {
        // Two topics of two words each, at least.
        return None;
    }
    for (i, &u) in companions.iter().enumerate() {
        s.node_of[u] = Some(i);
    }

    // Link the companions that are said together, anywhere.
    let n = companions.len();
    let mut pairs = vec![0usize; n * n];
    for (i, &u) in companions.iter().enumerate() {
        for &d in postings[u].iter().take(MAX_READ) {
            for &v in &docs[d] {
                if let Some(j) = s.node_of[v] {
                    if j > i {
                        pairs[i * n + j] += 1;
                    }
                }
            }
        }
    }
    let mut root: Vec<usize> = (0..n).collect();
    for i in 0..n {
        for j in i + 1..n {
            let shared = pairs[i * n + j];
            let rarer = postings[companions[i]]
                .len()
                .min(postings[companions[j]].len());
            if shared >= 2 && shared * 5 >= rarer {
                let (a, b) = (find(&mut root, i), find(&mut root, j));
                root[a.max(b)] = a.min(b);
            }
        }
    }
    let sets: Vec<usize> = (0..n).map(|i| find(&mut root, i)).collect();

    // Each set's comments with the term, then without it.
    let mut with = vec![0usize; n];
    let mut present = Vec::new();
    for &d in read {
        present.clear();
        present.extend(
            docs[d]
                .iter()
                .filter_map(|&v| s.node_of[v])
                .map(|i| sets[i]),
        );
        present.sort_unstable();
        present.dedup();
        for &r in &present {
            with[r] += 1;
        }
    }
    for &d in &postings[t] {
        s.holds[d] = true;
    }
    let mut size = vec![0usize; n];
    for &r in &sets {
        size[r] += 1;
    }
    // Each topic of its own, by the set it is (its root).
    let mut topic_of: Vec<Option<usize>> = vec![None; n];
    let mut topics = 0;
    for r in (0..n).filter(|&r| sets[r] == r && size[r] >= 2 && with[r] >= 2) {
        let needed = 2.max(with[r].div_ceil(4));
        s.stamps += 1;
        let mut without = 0;
        'count: for (i, &u) in companions.iter().enumerate() {
            if sets[i] != r {
                continue;
            }
            for &d in postings[u].iter().take(MAX_READ) {
                if !s.holds[d] && s.stamp[d] != s.stamps {
                    s.stamp[d] = s.stamps;
                    without += 1;
                    if without >= needed {
                        break 'count;
                    }
                }
            }
        }
        if without >= needed {
            topic_of[r] = Some(topics);
            topics += 1;
        }
    }
    for &d in &postings[t] {
        s.holds[d] = false;
    }
    // Each comment's sense: the topic most of its companions belong to; on a tie the topic
    // found first (the one holding the strongest companion).
    let mut senses = Vec::new();
    if topics >= 2 {
        let mut votes = vec![0usize; topics];
        for &d in &postings[t] {
            votes.iter_mut().for_each(|v| *v = 0);
            for &v in &docs[d] {
                if let Some(k) = s.node_of[v].and_then(|i| topic_of[sets[i]]) {
                    votes[k] += 1;
                }
            }
            let best = votes
                .iter()
                .enumerate()
                .filter(|(_, &v)| v > 0)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map(|(k, _)| k);
            senses.push(best);
        }
    }
    for &u in &companions {
        s.node_of[u] = None;
    }
    (topics >= 2).then_some(Common {
        term: t,
        topics,
        senses,
    })
}

/// The set `i` is in (union-find, with path halving).
fn find(root: &mut [usize], mut i: usize) -> usize {
    while root[i] != i {
        root[i] = root[root[i]];
        i = root[i];
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postings(docs: &[Vec<usize>], terms: usize) -> Vec<Vec<usize>> {
        let mut p = vec![Vec::new(); terms];
        for (d, ts) in docs.iter().enumerate() {
            for &t in ts {
                p[t].push(d);
            }
        }
        p
    }

    #[test]
    fn a_word_between_two_topics_is_common_and_a_topics_own_word_is_not() {
        // Terms: 0 team, 1 slack, 2 integration, 3 price, 4 expensive, 5 pdf, 6 invoice.
        let docs = vec![
            vec![0, 1, 2],
            vec![0, 2],
            vec![0, 1],
            vec![1, 2],
            vec![1, 2],
            vec![0, 3, 4],
            vec![0, 3],
            vec![0, 4],
            vec![3, 4],
            vec![3, 4],
            vec![6, 5],
            vec![6, 5],
            vec![6],
            vec![6],
        ];
        let p = postings(&docs, 7);
        let candidates: Vec<usize> = (0..7).collect();
        let common = common(&docs, &p, &candidates);
        assert_eq!(common.len(), 1, "{common:?}");
        assert_eq!(
            common[0].term, 0,
            "team links the integrations and the prices"
        );
        assert_eq!(common[0].topics, 2);
        assert_eq!(
            common[0].senses,
            [Some(0), Some(0), Some(0), Some(1), Some(1), Some(1)],
            "each of its comments uses it for one topic"
        );
    }
}
