//! Built-in strings per locale, the choice of locale, and the site owner's overrides.
//!
//! Strings are `&'static str` tables indexed by [`Text`], so the wasm carries each sentence once
//! and looks it up without hashing. `{product}` in any string is replaced by the product name.

use alloc::{borrow::ToOwned, string::String, vec::Vec};
/// Every piece of text the card shows. The snake_case names are the keys of the `strings`
/// config object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Text {
    /// The NPS question.
    Question,
    /// Under 0.
    LowLabel,
    /// Under 10.
    HighLabel,
    /// The close button's accessible name.
    Close,
    /// Follow-up prompt for 9–10.
    PromoterPrompt,
    /// Follow-up prompt for 7–8.
    PassivePrompt,
    /// Follow-up prompt for 0–6.
    DetractorPrompt,
    /// The text box's placeholder.
    Placeholder,
    /// The detractor's consent checkbox.
    Consent,
    /// Sends the follow-up.
    Submit,
    /// Skips the follow-up.
    Skip,
    /// Thanks for 9–10.
    PromoterThanks,
    /// Thanks for 7–8.
    PassiveThanks,
    /// Thanks for 0–6.
    DetractorThanks,
    /// The promoter's referral link, when a referral URL is configured.
    Referral,
    /// The promoter's text box placeholder; [`Text::Placeholder`] unless overridden.
    PromoterPlaceholder,
    /// The passive's text box placeholder; [`Text::Placeholder`] unless overridden.
    PassivePlaceholder,
    /// The detractor's text box placeholder; [`Text::Placeholder`] unless overridden.
    DetractorPlaceholder,
}

impl Text {
    /// All texts, in table order.
    pub const ALL: [Text; 18] = [
        Text::Question,
        Text::LowLabel,
        Text::HighLabel,
        Text::Close,
        Text::PromoterPrompt,
        Text::PassivePrompt,
        Text::DetractorPrompt,
        Text::Placeholder,
        Text::Consent,
        Text::Submit,
        Text::Skip,
        Text::PromoterThanks,
        Text::PassiveThanks,
        Text::DetractorThanks,
        Text::Referral,
        Text::PromoterPlaceholder,
        Text::PassivePlaceholder,
        Text::DetractorPlaceholder,
    ];

    /// The config key that overrides this text.
    pub const KEYS: [&'static str; 18] = [
        "question",
        "low_label",
        "high_label",
        "close",
        "promoter_prompt",
        "passive_prompt",
        "detractor_prompt",
        "placeholder",
        "consent",
        "submit",
        "skip",
        "promoter_thanks",
        "passive_thanks",
        "detractor_thanks",
        "referral",
        "promoter_placeholder",
        "passive_placeholder",
        "detractor_placeholder",
    ];

    /// The config key for this text.
    pub fn key(self) -> &'static str {
        Self::KEYS[self as usize]
    }

    /// The text a config key names.
    pub fn from_key(key: &str) -> Option<Text> {
        Self::KEYS
            .iter()
            .position(|k| *k == key)
            .map(|i| Self::ALL[i])
    }
}

type Table = [&'static str; 15];

const EN: Table = [
    "How likely are you to recommend {product} to a friend or colleague?",
    "Not at all likely",
    "Extremely likely",
    "Close",
    "What do you love most about {product}?",
    "What would we need to do to earn a 9 or 10 from you next time?",
    "We're sorry. What disappointed you, and what should we fix first?",
    "Your answer (optional)",
    "You may contact me about this",
    "Send",
    "Skip",
    "Thank you! We're glad you enjoy {product}.",
    "Thank you! Your answer helps us improve.",
    "Thank you for telling us. We'll work on it.",
    "Refer a colleague",
];

#[cfg(not(target_arch = "wasm32"))]
const ES: Table = [
    "¿Qué probabilidad hay de que recomiendes {product} a un amigo o colega?",
    "Nada probable",
    "Muy probable",
    "Cerrar",
    "¿Qué es lo que más te gusta de {product}?",
    "¿Qué tendríamos que hacer para ganarnos un 9 o un 10 la próxima vez?",
    "Lo sentimos. ¿Qué te decepcionó y qué deberíamos arreglar primero?",
    "Tu respuesta (opcional)",
    "Podéis contactarme sobre esto",
    "Enviar",
    "Omitir",
    "¡Gracias! Nos alegra que disfrutes de {product}.",
    "¡Gracias! Tu respuesta nos ayuda a mejorar.",
    "Gracias por contárnoslo. Trabajaremos en ello.",
    "Recomendar a un colega",
];

#[cfg(not(target_arch = "wasm32"))]
const FR: Table = [
    "Quelle est la probabilité que vous recommandiez {product} à un ami ou un collègue ?",
    "Pas du tout probable",
    "Très probable",
    "Fermer",
    "Qu'appréciez-vous le plus dans {product} ?",
    "Que devrions-nous faire pour obtenir un 9 ou un 10 la prochaine fois ?",
    "Nous sommes désolés. Qu'est-ce qui vous a déçu, et que devrions-nous corriger en premier ?",
    "Votre réponse (facultatif)",
    "Vous pouvez me contacter à ce sujet",
    "Envoyer",
    "Passer",
    "Merci ! Ravis que {product} vous plaise.",
    "Merci ! Votre réponse nous aide à progresser.",
    "Merci de nous l'avoir dit. Nous allons y travailler.",
    "Recommander à un collègue",
];

#[cfg(not(target_arch = "wasm32"))]
const DE: Table = [
    "Wie wahrscheinlich ist es, dass Sie {product} einem Freund oder Kollegen empfehlen?",
    "Überhaupt nicht wahrscheinlich",
    "Äußerst wahrscheinlich",
    "Schließen",
    "Was gefällt Ihnen an {product} am besten?",
    "Was müssten wir tun, damit Sie uns nächstes Mal eine 9 oder 10 geben?",
    "Das tut uns leid. Was hat Sie enttäuscht, und was sollten wir zuerst verbessern?",
    "Ihre Antwort (optional)",
    "Sie dürfen mich dazu kontaktieren",
    "Senden",
    "Überspringen",
    "Danke! Schön, dass Ihnen {product} gefällt.",
    "Danke! Ihre Antwort hilft uns, besser zu werden.",
    "Danke für Ihre Offenheit. Wir kümmern uns darum.",
    "Einen Kollegen empfehlen",
];

#[cfg(not(target_arch = "wasm32"))]
const PT: Table = [
    "Qual a probabilidade de você recomendar {product} a um amigo ou colega?",
    "Nada provável",
    "Extremamente provável",
    "Fechar",
    "O que você mais gosta em {product}?",
    "O que precisaríamos fazer para ganhar um 9 ou 10 de você da próxima vez?",
    "Sentimos muito. O que decepcionou você e o que devemos corrigir primeiro?",
    "Sua resposta (opcional)",
    "Vocês podem me contatar sobre isso",
    "Enviar",
    "Pular",
    "Obrigado! Que bom que você gosta de {product}.",
    "Obrigado! Sua resposta nos ajuda a melhorar.",
    "Obrigado por nos contar. Vamos trabalhar nisso.",
    "Indicar um colega",
];

#[cfg(not(target_arch = "wasm32"))]
const JA: Table = [
    "{product}を友人や同僚に薦める可能性はどのくらいありますか？",
    "まったく薦めない",
    "ぜひ薦めたい",
    "閉じる",
    "{product}の一番気に入っている点は何ですか？",
    "次回9または10をいただくには、何をすればよいでしょうか？",
    "申し訳ありません。何にがっかりされましたか？まず何を直すべきでしょうか？",
    "ご回答（任意）",
    "この件について連絡を受けても構いません",
    "送信",
    "スキップ",
    "ありがとうございます！{product}を気に入っていただけて嬉しいです。",
    "ありがとうございます！ご回答を改善に役立てます。",
    "お聞かせいただきありがとうございます。改善に取り組みます。",
    "同僚に紹介する",
];

#[cfg(not(target_arch = "wasm32"))]
const AR: Table = [
    "ما مدى احتمال أن توصي بـ{product} لصديق أو زميل؟",
    "غير محتمل إطلاقًا",
    "محتمل جدًا",
    "إغلاق",
    "ما أكثر ما يعجبك في {product}؟",
    "ما الذي علينا فعله لنحصل منك على 9 أو 10 في المرة القادمة؟",
    "نأسف لذلك. ما الذي خيّب ظنك، وما الذي يجب أن نصلحه أولًا؟",
    "إجابتك (اختياري)",
    "يمكنكم التواصل معي بشأن هذا",
    "إرسال",
    "تخطٍّ",
    "شكرًا لك! يسعدنا أنك تستمتع بـ{product}.",
    "شكرًا لك! إجابتك تساعدنا على التحسن.",
    "شكرًا لإخبارنا. سنعمل على ذلك.",
    "رشّح زميلًا",
];

/// Locales with built-in strings, by primary language subtag.
pub const LOCALES: [&str; 7] = ["en", "es", "fr", "de", "pt", "ja", "ar"];
#[cfg(not(target_arch = "wasm32"))]
const TABLES: [&Table; 7] = [&EN, &ES, &FR, &DE, &PT, &JA, &AR];

/// The strings of one of [`LOCALES`]. Only English is compiled into the wasm; `cargo xtask dist`
/// writes the others to `dist/locales/<tag>.json` (from this function, natively), and the
/// widget fetches the one a page needs.
#[cfg(not(target_arch = "wasm32"))]
pub fn table(locale: &str) -> Option<&'static Table> {
    LOCALES.iter().position(|l| *l == locale).map(|i| TABLES[i])
}

/// Whether `locale`'s strings ship as a file to fetch (every built-in locale but English).
pub fn ships_as_file(locale: &str) -> bool {
    locale != "en" && LOCALES.contains(&locale)
}

/// Languages written right to left.
const RTL: [&str; 4] = ["ar", "he", "fa", "ur"];

fn primary(tag: &str) -> &str {
    let end = crate::text::find_any(tag, b"-_").unwrap_or(tag.len());
    tag.get(..end).unwrap_or_default()
}

/// Picks the first candidate (config, `<html lang>`, `navigator.language`, in that order) whose
/// primary language has strings: built in, or given by the site (the locales of its per-locale
/// `overrides`). English otherwise. Returns the primary subtag, lower case.
pub fn choose_locale(candidates: &[&str], overrides: &[(Option<String>, Text, String)]) -> String {
    for candidate in candidates {
        let p = primary(candidate);
        let mut known = LOCALES.iter().any(|l| l.eq_ignore_ascii_case(p));
        for (tag, _, _) in overrides {
            known |= tag
                .as_deref()
                .is_some_and(|t| primary(t).eq_ignore_ascii_case(p));
        }
        if known {
            return p.to_ascii_lowercase();
        }
    }
    "en".into()
}

/// Whether text in `locale` runs right to left.
pub fn is_rtl(locale: &str) -> bool {
    RTL.iter().any(|l| l.eq_ignore_ascii_case(primary(locale)))
}

/// The strings a card shows: a locale's table with the site's overrides on top.
#[derive(Debug, Clone)]
pub struct Strings {
    /// A table fetched from `dist/locales/`; empty for a built-in one.
    loaded: Vec<String>,
    built_in: &'static Table,
    overrides: Vec<(Text, String)>,
    product: String,
}

impl Strings {
    /// Strings for `locale`: its table (`loaded` from `dist/locales/`, or built in; English
    /// where there is none), then the site's overrides for every locale (no tag), then those
    /// for this locale (tag `fr`, `fr-CA`…).
    pub fn new(
        locale: &str,
        product: &str,
        overrides: &[(Option<String>, Text, String)],
        loaded: Option<Vec<String>>,
    ) -> Strings {
        #[cfg(not(target_arch = "wasm32"))]
        let built_in = table(locale).unwrap_or(&EN);
        #[cfg(target_arch = "wasm32")]
        let built_in = &EN;
        let mut ordered = Vec::new();
        // Two passes, so a locale's own overrides come after (and win over) the general ones.
        for own in [false, true] {
            for (tag, text, s) in overrides {
                let applies = match tag {
                    None => !own,
                    Some(tag) => own && primary(tag).eq_ignore_ascii_case(locale),
                };
                if applies {
                    ordered.push((*text, s.clone()));
                }
            }
        }
        Strings {
            loaded: loaded.filter(|t| t.len() == EN.len()).unwrap_or_default(),
            built_in,
            overrides: ordered,
            product: product.to_owned(),
        }
    }

    /// The text to show, with `{product}` filled in.
    pub fn get(&self, text: Text) -> String {
        let mut raw = None;
        for (t, s) in &self.overrides {
            if *t == text {
                raw = Some(s.as_str());
            }
        }
        let i = text as usize;
        let from_table = || {
            if self.loaded.is_empty() {
                self.built_in.get(i).copied()
            } else {
                self.loaded.get(i).map(String::as_str)
            }
        };
        let Some(raw) = raw.or_else(from_table) else {
            // Per-segment placeholders fall back to the common one.
            return self.get(Text::Placeholder);
        };
        fill(raw, &self.product)
    }
}

/// `raw` with every `{product}` replaced: by hand, as `str::replace` with a string pattern
/// brings a substring searcher of about 1.5 KB into the wasm.
fn fill(raw: &str, product: &str) -> String {
    let mut out = String::with_capacity(raw.len() + product.len());
    let mut rest = raw;
    while let Some((before, after)) = crate::text::cut(rest, b'{') {
        out.push_str(before);
        match after.strip_prefix("product}") {
            Some(tail) => {
                out.push_str(product);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

// The other locales' tables exist natively only.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn product_fills_every_placeholder_and_other_braces_stay() {
        assert_eq!(fill("{product} & {product}", "Acme"), "Acme & Acme");
        assert_eq!(fill("{ {prod} {product", "Acme"), "{ {prod} {product");
        assert_eq!(fill("x{product}", "{product}"), "x{product}");
        assert_eq!(fill("", "Acme"), "");
    }

    #[test]
    fn locale_comes_from_the_first_candidate_we_speak() {
        assert_eq!(choose_locale(&["fr-CA", "de"], &[]), "fr");
        assert_eq!(choose_locale(&["", "zz", "PT_br"], &[]), "pt");
        assert_eq!(choose_locale(&["ko", "sw"], &[]), "en");
        assert_eq!(choose_locale(&[], &[]), "en");
    }

    #[test]
    fn a_site_can_add_a_language_through_its_strings() {
        let he = (Some("he".to_owned()), Text::Question, "?".to_owned());
        assert_eq!(choose_locale(&["he-IL", "en"], &[he]), "he");
        assert_eq!(choose_locale(&["he-IL", "en"], &[]), "en");
        let overrides = [
            (None, Text::Submit, "Send it".to_owned()),
            (Some("he".to_owned()), Text::Question, "?עד כמה".to_owned()),
        ];
        let he = Strings::new("he", "Acme", &overrides, None);
        assert_eq!(he.get(Text::Question), "?עד כמה");
        assert_eq!(
            he.get(Text::Submit),
            "Send it",
            "general overrides apply too"
        );
        assert_eq!(he.get(Text::Skip), "Skip", "English where nothing is given");
        let fr = Strings::new("fr", "Acme", &overrides, None);
        assert!(
            fr.get(Text::Question).starts_with("Quelle est"),
            "not other locales' strings"
        );
    }

    #[test]
    fn each_segment_can_have_its_own_placeholder() {
        let overrides = [(None, Text::DetractorPlaceholder, "What broke?".to_owned())];
        let s = Strings::new("en", "Acme", &overrides, None);
        assert_eq!(s.get(Text::DetractorPlaceholder), "What broke?");
        assert_eq!(s.get(Text::PromoterPlaceholder), "Your answer (optional)");
        assert_eq!(
            Strings::new("de", "Acme", &[], None).get(Text::PassivePlaceholder),
            "Ihre Antwort (optional)"
        );
    }

    #[test]
    fn arabic_hebrew_and_farsi_are_right_to_left() {
        assert!(is_rtl("ar"));
        assert!(is_rtl("he-IL"));
        assert!(is_rtl("fa"));
        assert!(!is_rtl("en-US"));
        assert!(!is_rtl("ja"));
    }

    #[test]
    fn product_name_fills_every_string() {
        let s = Strings::new("en", "Acme", &[], None);
        assert_eq!(
            s.get(Text::Question),
            "How likely are you to recommend Acme to a friend or colleague?"
        );
        assert_eq!(
            s.get(Text::PromoterPrompt),
            "What do you love most about Acme?"
        );
    }

    #[test]
    fn passive_gets_the_earn_a_nine_prompt() {
        let s = Strings::new("en", "Acme", &[], None);
        assert_eq!(
            s.get(Text::PassivePrompt),
            "What would we need to do to earn a 9 or 10 from you next time?"
        );
    }

    #[test]
    fn a_loaded_table_is_used_when_it_has_every_string() {
        let loaded: Vec<String> = table("fr")
            .unwrap()
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let s = Strings::new("xx", "Acme", &[], Some(loaded));
        assert_eq!(s.get(Text::Submit), "Envoyer");
        let short = Strings::new("xx", "Acme", &[], Some(vec!["Bonjour".to_owned()]));
        assert_eq!(
            short.get(Text::Submit),
            "Send",
            "a truncated file falls back to English"
        );
        assert!(ships_as_file("ja") && !ships_as_file("en") && !ships_as_file("he"));
    }

    #[test]
    fn overrides_win_and_still_get_the_product() {
        let s = Strings::new(
            "de",
            "Acme",
            &[(
                None,
                Text::Question,
                "Würden Sie unseren Support für {product} empfehlen?".into(),
            )],
            None,
        );
        assert_eq!(
            s.get(Text::Question),
            "Würden Sie unseren Support für Acme empfehlen?"
        );
        assert_eq!(s.get(Text::Submit), "Senden");
    }

    #[test]
    fn every_locale_has_every_string_with_product_where_english_has_it() {
        for table in TABLES {
            for (i, text) in table.iter().enumerate() {
                assert!(!text.is_empty());
                assert_eq!(
                    EN[i].contains("{product}"),
                    text.contains("{product}"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn keys_round_trip() {
        for text in Text::ALL {
            assert_eq!(Text::from_key(text.key()), Some(text));
        }
        assert_eq!(Text::from_key("questions"), None);
    }

    #[test]
    fn every_locale_file_is_named_literally_for_bundlers() {
        let bindings = include_str!("dom/browser.js");
        for locale in LOCALES.iter().filter(|l| ships_as_file(l)) {
            let literal = format!("new URL('./locales/{locale}.json', import.meta.url)");
            assert!(bindings.contains(&literal), "{literal} is missing");
        }
    }
}
