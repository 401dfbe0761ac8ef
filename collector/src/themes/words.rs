//! A comment's terms: the words and two-word phrases a theme can be made of, in the comment's
//! own language. Latin-script languages (en, es, fr, de, pt): lower-cased words of three
//! letters or more, stop words dropped (NLTK's lists from the `stop-words` crate, plus a few
//! fillers of survey answers), stemmed by Snowball (`rust-stemmers`), then, in English, folded
//! so that an adjective and its adverb meet (`easy`/`easily` stem to `easi`/`easili`,
//! `simple`/`simply` to `simpl`/`simpli`; Snowball already joins `sync`/`syncing`). Japanese
//! has no spaces: a run of katakana is one word (loanwords such as エクスポート), and a run of
//! kanji and kana gives the run itself and its character bigrams that hold a kanji, as CJK
//! search engines index text; kana-only bigrams (particles, endings) are dropped. Bigrams cost
//! no dictionary and no dependency. Measured against the segmenters (docs/PERFORMANCE.md,
//! "Japanese: bigrams or a segmenter"): lindera 6.2 with its embedded IPADIC does not build
//! without a network, since its build script downloads the dictionary (and then embeds it in
//! the binary); tinysegmenter 0.1 builds offline but adds 138 KB to a release binary for
//! words the bigrams already find in the planted corpus.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Words that carry no theme in survey answers, on top of the stop-word lists.
const FILLERS: &[&str] = &[
    "please", "would", "could", "should", "love", "like", "need", "want", "really", "also", "much",
    "lot", "thanks", "thank", "great", "good", "nice", "better", "make", "get", "use", "using",
    "one", "even", "still", "bit", "way", "think", "por", "favor", "bitte", "merci", "add",
];

/// The languages themes are found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Language {
    English,
    Spanish,
    French,
    German,
    Portuguese,
    Japanese,
}

impl Language {
    /// The language of a locale (`pt-BR`); English for any other.
    pub(super) fn of(locale: &str) -> Language {
        match locale.get(..2).unwrap_or("").to_ascii_lowercase().as_str() {
            "es" => Language::Spanish,
            "fr" => Language::French,
            "de" => Language::German,
            "pt" => Language::Portuguese,
            "ja" => Language::Japanese,
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
            Language::Japanese => "ja",
        }
    }

    fn algorithm(self) -> Option<Algorithm> {
        match self {
            Language::English => Some(Algorithm::English),
            Language::Spanish => Some(Algorithm::Spanish),
            Language::French => Some(Algorithm::French),
            Language::German => Some(Algorithm::German),
            Language::Portuguese => Some(Algorithm::Portuguese),
            Language::Japanese => None,
        }
    }

    /// The stop words, read once per process (the crate parses its JSON on every call).
    fn stop_words(self) -> &'static HashSet<String> {
        static LISTS: OnceLock<HashMap<&'static str, HashSet<String>>> = OnceLock::new();
        let lists = LISTS.get_or_init(|| {
            ["en", "es", "fr", "de", "pt"]
                .into_iter()
                .map(|code| {
                    let mut words: HashSet<String> = stop_words::get(code).into_iter().collect();
                    words.extend(FILLERS.iter().map(|w| (*w).to_owned()));
                    (code, words)
                })
                .collect()
        });
        static EMPTY: OnceLock<HashSet<String>> = OnceLock::new();
        lists
            .get(self.code())
            .unwrap_or_else(|| EMPTY.get_or_init(HashSet::new))
    }
}

/// One term of a comment: its key (stems) and the words it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Term {
    /// What equal terms share: a stem, two stems, or a CJK word or bigram.
    pub(super) key: String,
    /// As written (lower case).
    pub(super) form: String,
}

/// Cuts comments into terms, keeping one stemmer per language.
#[derive(Default)]
pub(super) struct Reader {
    stemmers: HashMap<Language, Stemmer>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

/// Folds English stems whose adjective and adverb differ: `easili` → `easi` (easy), `slowli` →
/// `slow` (Snowball strips `-li` only after c, d, e, g, h, k, m, n, r, t), then a final `i` of a
/// longer stem (`simpli` → `simpl`, simple), the same for every form.
fn fold_english(stem: &str) -> String {
    let mut s = stem;
    if s.ends_with("ili") || s.ends_with("wli") {
        s = &s[..s.len() - 2];
    }
    if s.len() >= 5 && s.ends_with('i') {
        s = &s[..s.len() - 1];
    }
    s.to_owned()
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{31f0}'..='\u{31ff}' | '\u{ff66}'..='\u{ff9f}')
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30a0}'..='\u{30ff}' | '\u{31f0}'..='\u{31ff}' | '\u{ff66}'..='\u{ff9f}')
}

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

fn is_cjk(c: char) -> bool {
    is_kana(c) || is_kanji(c)
}

impl Reader {
    /// The distinct terms of `text` in `language`: words and two-word phrases of content
    /// words (a stop word or punctuation ends a phrase), or CJK words and bigrams.
    pub(super) fn terms(&mut self, text: &str, language: Language) -> Vec<Term> {
        let mut out = Vec::new();
        let lower = text.to_lowercase();
        if language == Language::Japanese || lower.chars().any(is_cjk) {
            cjk_terms(&lower, &mut out);
        }
        if let Some(algorithm) = language.algorithm().or(Some(Algorithm::English)) {
            let stemmer = self
                .stemmers
                .entry(language)
                .or_insert_with(|| Stemmer::create(algorithm));
            let stop = language.stop_words();
            let mut previous: Option<Term> = None;
            for word in lower.split(|c: char| !c.is_alphanumeric() || is_cjk(c)) {
                let content = word.chars().count() >= 3
                    && !word.chars().all(|c| c.is_numeric())
                    && !stop.contains(word);
                if !content {
                    if !word.is_empty() {
                        previous = None;
                    }
                    continue;
                }
                let stem = stemmer.stem(word);
                let key = if language == Language::English {
                    fold_english(&stem)
                } else {
                    stem.into_owned()
                };
                let term = Term {
                    key,
                    form: word.to_owned(),
                };
                if let Some(prev) = previous.take() {
                    if prev.key != term.key {
                        out.push(Term {
                            key: format!("{} {}", prev.key, term.key),
                            form: format!("{} {}", prev.form, term.form),
                        });
                    }
                }
                out.push(term.clone());
                previous = Some(term);
            }
        }
        let mut seen = HashSet::new();
        out.retain(|t| seen.insert(t.key.clone()));
        out
    }
}

/// Japanese (and other CJK) terms of lower-cased `text`.
fn cjk_terms(text: &str, out: &mut Vec<Term>) {
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut Vec<Term>| {
        if run.len() >= 2 {
            if run.iter().all(|c| is_katakana(*c)) {
                let word: String = run.iter().collect();
                out.push(Term {
                    key: word.clone(),
                    form: word,
                });
            } else if run.iter().any(|c| is_kanji(*c)) {
                // The kanji core of the run (without trailing kana) as a word, and its bigrams.
                let core: String = run
                    .iter()
                    .skip_while(|c| !is_kanji(**c))
                    .take_while(|c| is_kanji(**c))
                    .collect();
                if core.chars().count() >= 2 {
                    out.push(Term {
                        key: core.clone(),
                        form: core,
                    });
                }
                for pair in run.windows(2) {
                    if pair.iter().any(|c| is_kanji(*c)) {
                        let bigram: String = pair.iter().collect();
                        out.push(Term {
                            key: bigram.clone(),
                            form: bigram,
                        });
                    }
                }
            }
        }
        run.clear();
    };
    let mut previous_kind = None;
    for c in text.chars() {
        if !is_cjk(c) {
            flush(&mut run, out);
            previous_kind = None;
            continue;
        }
        // A change between katakana and the rest starts a new run (ファイルを出力: ファイル, 出力).
        let kind = if is_katakana(c) {
            1
        } else if is_kanji(c) {
            2
        } else {
            3
        };
        if let Some(previous) = previous_kind {
            let boundary = (previous == 1) != (kind == 1) || (previous == 3 && kind == 2);
            if boundary {
                flush(&mut run, out);
            }
        }
        run.push(c);
        previous_kind = Some(kind);
    }
    flush(&mut run, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str, language: Language) -> Vec<String> {
        Reader::default()
            .terms(text, language)
            .into_iter()
            .map(|t| t.key)
            .collect()
    }

    #[test]
    fn word_forms_meet() {
        for (a, b) in [
            ("quick", "quickly"),
            ("easy", "easily"),
            ("slow", "slowly"),
            ("simple", "simply"),
            ("sync", "syncing"),
            ("invoice", "invoicing"),
            ("export", "exports"),
        ] {
            assert_eq!(
                keys(a, Language::English),
                keys(b, Language::English),
                "{a} / {b}"
            );
        }
        assert_ne!(
            keys("export", Language::English),
            keys("expert", Language::English)
        );
    }

    #[test]
    fn phrases_stop_at_stop_words_and_punctuation() {
        let k = keys("Dark mode, please. Export to Excel", Language::English);
        assert!(k.contains(&"dark mode".to_owned()), "{k:?}");
        assert!(!k.iter().any(|t| t.contains("mode export")), "{k:?}");
        assert!(
            !k.contains(&"export excel".to_owned()),
            "'to' ends the phrase: {k:?}"
        );
    }

    #[test]
    fn japanese_is_cut_into_words_and_bigrams() {
        let k = keys(
            "請求書のPDFが遅いです。エクスポートしたい",
            Language::Japanese,
        );
        assert!(k.contains(&"請求書".to_owned()), "{k:?}");
        assert!(k.contains(&"請求".to_owned()), "{k:?}");
        assert!(k.contains(&"エクスポート".to_owned()), "{k:?}");
        assert!(
            k.contains(&"pdf".to_owned()),
            "latin words inside Japanese: {k:?}"
        );
        assert!(
            !k.iter().any(|t| t == "です" || t == "した"),
            "kana endings dropped: {k:?}"
        );
    }
}
