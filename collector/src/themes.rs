//! Comment themes: what people in a segment keep asking for. Each comment is cut into words,
//! stop words are dropped (NLTK's lists, from the `stop-words` crate, plus a few fillers of
//! survey answers), the rest are stemmed (Snowball, `rust-stemmers`) in the comment's language
//! (en, es, fr, de, pt; English otherwise), so that "export to Excel", "CSV exports" and
//! "exporting reports" share the stem `export`. A theme is a stem, or a two-word phrase of
//! stems, found in at least two comments; a phrase wins over its words when it covers the
//! same comments ("dark mode" rather than "dark" and "mode"), a word over the phrases it
//! already covers. Most common first, counted once per comment.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;

/// One theme of `GET /v1/themes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Theme {
    /// The words most people used for it ("export", "dark mode").
    pub theme: String,
    /// Comments that mention it.
    pub count: usize,
    /// Up to five of those responses' ids, newest first.
    pub examples: Vec<String>,
}

/// Words that carry no theme in survey answers, on top of the stop-word lists.
const FILLERS: &[&str] = &[
    "please", "would", "could", "should", "love", "like", "need", "want", "really", "also", "much",
    "lot", "thanks", "thank", "great", "good", "nice", "better", "make", "get", "use", "using",
    "one", "even", "still", "bit", "way", "think", "por", "favor", "bitte", "merci",
];

/// The languages with a stemmer and a stop-word list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Language {
    English,
    Spanish,
    French,
    German,
    Portuguese,
}

impl Language {
    fn of(locale: &str) -> Language {
        match locale.get(..2).unwrap_or("").to_ascii_lowercase().as_str() {
            "es" => Language::Spanish,
            "fr" => Language::French,
            "de" => Language::German,
            "pt" => Language::Portuguese,
            _ => Language::English,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Spanish => "es",
            Language::French => "fr",
            Language::German => "de",
            Language::Portuguese => "pt",
        }
    }

    fn algorithm(self) -> Algorithm {
        match self {
            Language::English => Algorithm::English,
            Language::Spanish => Algorithm::Spanish,
            Language::French => Algorithm::French,
            Language::German => Algorithm::German,
            Language::Portuguese => Algorithm::Portuguese,
        }
    }

    /// The stop words, read once per process (the crate parses its JSON on every call).
    fn stop_words(self) -> &'static HashSet<String> {
        static LISTS: OnceLock<HashMap<Language, HashSet<String>>> = OnceLock::new();
        let lists = LISTS.get_or_init(|| {
            [
                Language::English,
                Language::Spanish,
                Language::French,
                Language::German,
                Language::Portuguese,
            ]
            .into_iter()
            .map(|l| {
                let mut words: HashSet<String> = stop_words::get(l.code()).into_iter().collect();
                words.extend(FILLERS.iter().map(|w| (*w).to_owned()));
                (l, words)
            })
            .collect()
        });
        &lists[&self]
    }
}

/// What one candidate theme gathered.
#[derive(Debug, Default)]
struct Candidate {
    /// Indexes of the comments it is in.
    comments: BTreeSet<usize>,
    /// How often each surface form was used.
    forms: BTreeMap<String, usize>,
    /// Its stems (one, or two for a phrase).
    stems: Vec<String>,
}

impl Candidate {
    /// The most used surface form; the shortest on a tie.
    fn label(&self) -> String {
        self.forms
            .iter()
            .max_by(|a, b| {
                a.1.cmp(b.1)
                    .then(b.0.len().cmp(&a.0.len()))
                    .then(b.0.cmp(a.0))
            })
            .map(|(form, _)| form.clone())
            .unwrap_or_default()
    }
}

/// The themes of `comments` (`(response id, comment, locale)`, newest first), most common
/// first, at most `max`.
pub fn themes(comments: &[(String, String, String)], max: usize) -> Vec<Theme> {
    let mut stemmers: HashMap<Language, Stemmer> = HashMap::new();
    let mut candidates: HashMap<String, Candidate> = HashMap::new();
    for (index, (_, text, locale)) in comments.iter().enumerate() {
        let language = Language::of(locale);
        let stemmer = stemmers
            .entry(language)
            .or_insert_with(|| Stemmer::create(language.algorithm()));
        let stop = language.stop_words();
        // Runs of content words: a stop word or punctuation ends a phrase.
        let mut previous: Option<(String, String)> = None;
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !c.is_alphanumeric()) {
            let content = word.chars().count() >= 3
                && !word.chars().all(|c| c.is_numeric())
                && !stop.contains(word);
            if !content {
                if !word.is_empty() {
                    previous = None;
                }
                continue;
            }
            let stem = stemmer.stem(word).into_owned();
            let single = candidates.entry(stem.clone()).or_default();
            single.comments.insert(index);
            *single.forms.entry(word.to_owned()).or_default() += 1;
            single.stems = vec![stem.clone()];
            if let Some((prev_stem, prev_word)) = previous.take() {
                if prev_stem != stem {
                    let pair = candidates.entry(format!("{prev_stem} {stem}")).or_default();
                    pair.comments.insert(index);
                    *pair.forms.entry(format!("{prev_word} {word}")).or_default() += 1;
                    pair.stems = vec![prev_stem, stem.clone()];
                }
            }
            previous = Some((stem, word.to_owned()));
        }
    }
    let mut ranked: Vec<&Candidate> = candidates
        .values()
        .filter(|c| c.comments.len() >= 2)
        .collect();
    // Most comments first; a phrase before a word on a tie; then by name, for a stable order.
    ranked.sort_by(|a, b| {
        b.comments
            .len()
            .cmp(&a.comments.len())
            .then(b.stems.len().cmp(&a.stems.len()))
            .then(a.label().cmp(&b.label()))
    });
    let mut chosen: Vec<&Candidate> = Vec::new();
    for c in ranked {
        let covered = chosen.iter().any(|k| {
            k.stems.iter().any(|s| c.stems.contains(s))
                && c.comments.difference(&k.comments).count() < 2
        });
        if !covered {
            chosen.push(c);
        }
        if chosen.len() == max {
            break;
        }
    }
    chosen
        .into_iter()
        .map(|c| Theme {
            theme: c.label(),
            count: c.comments.len(),
            examples: c
                .comments
                .iter()
                .take(5)
                .map(|&i| comments[i].0.clone())
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(items: &[(&str, &str)]) -> Vec<(String, String, String)> {
        items
            .iter()
            .enumerate()
            .map(|(i, (locale, text))| (format!("r{i}"), (*text).to_owned(), (*locale).to_owned()))
            .collect()
    }

    #[test]
    fn planted_themes_are_found_in_order() {
        let comments = corpus(&[
            ("en", "Please add export to Excel"),
            ("en", "A dark mode, please!"),
            ("en", "CSV exports would help a lot"),
            ("en", "The pricing is too high for small teams"),
            ("en", "Exporting reports is painful"),
            ("en", "Dark mode for the dashboard"),
            ("en", "I need to export my data every week"),
            ("en", "Lower the price"),
            ("en", "Would love dark mode at night"),
            ("en", "Better export options"),
            ("en", "Faster support answers"),
            ("en-GB", "Exports to Google Sheets"),
        ]);
        let found = themes(&comments, 10);
        let names: Vec<(&str, usize)> = found.iter().map(|t| (t.theme.as_str(), t.count)).collect();
        assert_eq!(
            names[..3],
            [("export", 6), ("dark mode", 3), ("price", 2)],
            "{names:?}"
        );
        assert_eq!(found[0].examples, ["r0", "r2", "r4", "r6", "r9"]);
        assert!(
            !names.iter().any(|(n, _)| *n == "dark" || *n == "mode"),
            "the phrase stands for its words: {names:?}"
        );
        assert!(!names.iter().any(|(_, n)| *n < 2), "{names:?}");
    }

    #[test]
    fn each_comment_is_read_in_its_own_language() {
        let comments = corpus(&[
            ("es", "Quiero exportar a Excel"),
            ("es-MX", "La exportación de informes"),
            ("es", "Los informes son lentos"),
            ("fr", "Le mode sombre, s'il vous plaît"),
            ("fr", "Un mode sombre pour le soir"),
            ("de", "Die Preise sind zu hoch"),
            ("de", "Günstigere Preise bitte"),
            ("pt", "Integração com o Slack"),
            ("pt-BR", "Integrações com outras ferramentas"),
        ]);
        let found = themes(&comments, 10);
        let names: Vec<(&str, usize)> = found.iter().map(|t| (t.theme.as_str(), t.count)).collect();
        for expected in ["mode sombre", "informes", "preise"] {
            assert!(
                names.iter().any(|(n, c)| *n == expected && *c == 2),
                "{expected}: {names:?}"
            );
        }
        assert!(
            names
                .iter()
                .any(|(n, c)| n.starts_with("export") && *c == 2),
            "exportar and exportación share a stem: {names:?}"
        );
        assert!(
            names
                .iter()
                .any(|(n, c)| n.starts_with("integra") && *c == 2),
            "integração and integrações share a stem: {names:?}"
        );
        assert!(
            !names.iter().any(|(n, _)| *n == "sombre" || *n == "mode"),
            "{names:?}"
        );
    }

    #[test]
    fn no_comments_no_themes() {
        assert!(themes(&[], 10).is_empty());
        assert!(themes(&corpus(&[("en", "the and of")]), 10).is_empty());
    }
}
