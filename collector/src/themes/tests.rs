//! Fixed corpora with planted themes, one per language the widget ships: three suggestions
//! planted 8, 5 and 3 times (in several words and forms each), a word that only appears inside
//! the first suggestion's comments (the tool invoices are sent to), noise, and a comment that
//! names two suggestions. A second, English corpus plants five suggestions that share
//! everyday words ("teams", "report", "responses") and must come out with exactly their
//! planted counts, none labelled by a shared word. Then what each theme is worth in money.

use super::*;

struct Corpus {
    locale: &'static str,
    planted: [&'static [&'static str]; 3],
    noise: &'static [&'static str],
    both: &'static str,
    /// Accepted starts of each planted theme's label.
    labels: [&'static [&'static str]; 3],
    /// The word only found inside the first theme's comments.
    inside: &'static str,
}

const CORPORA: &[Corpus] = &[
    Corpus {
        locale: "en",
        planted: [
            &[
                "PDF invoices take ages to arrive",
                "Invoices to QuickBooks fail every month",
                "Invoicing is slow for big customers",
                "The invoice PDF looks broken",
                "Send invoices straight to QuickBooks",
                "Invoice numbering restarts each year",
                "Billing run invoices are late",
                "Export invoices as PDF",
            ],
            &[
                "Dark mode please",
                "A dark mode for night shifts",
                "Dark mode on the dashboard",
                "Give us a dark theme",
                "Dark mode would be easier on the eyes",
            ],
            &[
                "Sync quickly with Salesforce",
                "Syncing should be quick",
                "Quicker sync between devices",
            ],
        ],
        noise: &["ok", "Nothing to add", "Fine as it is"],
        both: "Dark mode, and PDF invoices",
        labels: [&["invoice"], &["dark mode"], &["sync"]],
        inside: "quickbooks",
    },
    Corpus {
        locale: "es-MX",
        planted: [
            &[
                "Las facturas en PDF tardan mucho",
                "La facturación es lenta",
                "Facturas a Contaplus fallan",
                "La factura en PDF sale rota",
                "Enviar facturas directo a Contaplus",
                "Numeración de facturas",
                "Facturación mensual con retraso",
                "Exportar facturas en PDF",
            ],
            &[
                "Modo oscuro por favor",
                "Un modo oscuro para la noche",
                "Modo oscuro en el panel",
                "Queremos un tema oscuro",
                "El modo oscuro cansa menos la vista",
            ],
            &[
                "Sincronizar rápido con Salesforce",
                "La sincronización debe ser rápida",
                "Sincronización más rápida entre equipos",
            ],
        ],
        noise: &["Nada", "Todo bien", "Sin comentarios"],
        both: "Modo oscuro y facturas en PDF",
        labels: [&["factura"], &["modo oscuro"], &["sincroniz", "rápid"]],
        inside: "contaplus",
    },
    Corpus {
        locale: "fr",
        planted: [
            &[
                "Les factures PDF arrivent tard",
                "La facturation est lente",
                "Factures vers Sage en échec",
                "La facture PDF est cassée",
                "Envoyer les factures à Sage",
                "Numérotation des factures",
                "Facturation mensuelle en retard",
                "Exporter les factures en PDF",
            ],
            &[
                "Un mode sombre svp",
                "Mode sombre pour la nuit",
                "Mode sombre sur le tableau de bord",
                "Un thème sombre",
                "Le mode sombre repose les yeux",
            ],
            &[
                "Synchroniser vite avec Salesforce",
                "La synchronisation doit être rapide",
                "Synchronisation plus rapide entre appareils",
            ],
        ],
        noise: &["Rien", "Tout va bien", "Pas de commentaire"],
        both: "Mode sombre et factures PDF",
        labels: [&["factur"], &["mode sombre"], &["synchronis", "rapide"]],
        inside: "sage",
    },
    Corpus {
        locale: "de",
        planted: [
            &[
                "PDF-Rechnungen kommen spät",
                "Die Rechnung kommt langsam",
                "Rechnungen an DATEV schlagen fehl",
                "Die Rechnung als PDF ist kaputt",
                "Rechnungen direkt an DATEV senden",
                "Nummerierung der Rechnungen",
                "Monatliche Rechnungen verspätet",
                "Rechnungen als PDF exportieren",
            ],
            &[
                "Dunkelmodus bitte",
                "Ein Dunkelmodus für die Nacht",
                "Dunkelmodus im Dashboard",
                "Ein dunkles Design",
                "Der Dunkelmodus schont die Augen",
            ],
            &[
                "Schnell mit Salesforce synchronisieren",
                "Die Synchronisierung muss schnell sein",
                "Schnelle Synchronisierung zwischen Geräten",
            ],
        ],
        noise: &["Nichts", "Alles gut", "Kein Kommentar"],
        both: "Dunkelmodus und PDF-Rechnungen",
        labels: [
            &["rechnung"],
            &["dunkelmodus"],
            &["schnell", "synchronisier"],
        ],
        inside: "datev",
    },
    Corpus {
        locale: "pt-BR",
        planted: [
            &[
                "As faturas em PDF demoram",
                "O faturamento é lento",
                "Faturas para o Omie falham",
                "A fatura em PDF sai quebrada",
                "Enviar faturas direto ao Omie",
                "Numeração das faturas",
                "Faturamento mensal atrasado",
                "Exportar faturas em PDF",
            ],
            &[
                "Modo escuro por favor",
                "Um modo escuro para a noite",
                "Modo escuro no painel",
                "Um tema escuro",
                "O modo escuro cansa menos a vista",
            ],
            &[
                "Sincronizar rápido com Salesforce",
                "A sincronização deve ser rápida",
                "Sincronização mais rápida entre aparelhos",
            ],
        ],
        noise: &["Nada", "Tudo certo", "Sem comentários"],
        both: "Modo escuro e faturas em PDF",
        labels: [&["fatura"], &["modo escuro"], &["sincroniz", "rápid"]],
        inside: "omie",
    },
    Corpus {
        locale: "ja",
        planted: [
            &[
                "請求書のPDFが届くのが遅い",
                "請求書の発行が遅い",
                "弥生会計への請求書連携が失敗する",
                "請求書PDFが崩れる",
                "請求書を弥生会計に直接送りたい",
                "請求書の番号が毎年リセットされる",
                "月次の請求書が遅れる",
                "請求書をPDFで出力したい",
            ],
            &[
                "ダークモードがほしい",
                "夜用のダークモード",
                "ダッシュボードにダークモードを",
                "暗いテーマがほしい",
                "ダークモードは目に優しい",
            ],
            &[
                "Salesforceとの同期を速く",
                "同期が速いとうれしい",
                "端末間の同期をもっと速く",
            ],
        ],
        noise: &["特になし", "満足です", "コメントなし"],
        both: "ダークモードと請求書PDF",
        labels: [&["請求書"], &["ダークモード"], &["同期"]],
        inside: "弥生会計",
    },
];

/// The corpus's comments, newest first, all from passives in accounts `a0`…`a3`.
fn comments(corpus: &Corpus) -> Vec<Comment> {
    let mut texts: Vec<&str> = Vec::new();
    // Interleaved, so no theme owns a run of ids.
    let longest = corpus.planted.iter().map(|p| p.len()).max().unwrap_or(0);
    for i in 0..longest {
        for planted in corpus.planted {
            if let Some(t) = planted.get(i) {
                texts.push(t);
            }
        }
        if let Some(n) = corpus.noise.get(i) {
            texts.push(n);
        }
    }
    texts.push(corpus.both);
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| Comment {
            id: format!("r{i}"),
            text: text.to_owned(),
            locale: corpus.locale.to_owned(),
            segment: "passive".into(),
            person: format!("u{}", i % 17),
            account: Some(format!("a{}", i % 4)),
        })
        .collect()
}

#[test]
fn planted_themes_come_out_in_order_in_every_language() {
    for corpus in CORPORA {
        let comments = comments(corpus);
        let found = themes(&comments, 20, 100, &Worth::default());
        let summary: Vec<(&str, usize)> = found
            .themes
            .iter()
            .map(|t| (t.theme.as_str(), t.count))
            .collect();
        let locale = corpus.locale;
        println!("{locale}: {summary:?}, other {}", found.other);
        assert!(found.themes.len() >= 3, "{locale}: {summary:?}");
        for (i, accepted) in corpus.labels.iter().enumerate() {
            let label = &found.themes[i].theme;
            assert!(
                accepted.iter().any(|a| label.starts_with(a)),
                "{locale}: theme {i} is {label:?}, planted {accepted:?}: {summary:?}"
            );
            let planted = corpus.planted[i].len();
            let count = found.themes[i].count;
            assert!(
                count + 1 >= planted && count <= planted + 1,
                "{locale}: {label} counts {count}, planted {planted} (+1 naming two): {summary:?}"
            );
        }
        assert!(
            !found.themes.iter().any(|t| t.theme.contains(corpus.inside)),
            "{locale}: {} only appears inside the first theme: {summary:?}",
            corpus.inside
        );
        let counted: usize = found.themes.iter().map(|t| t.count).sum();
        assert_eq!(
            counted + found.other,
            comments.len(),
            "{locale}: the counts and other add up to the comments: {summary:?}"
        );
        assert_eq!(found.comments, comments.len());
        assert!(
            found.other >= corpus.noise.len().min(2),
            "{locale}: noise is other"
        );
    }
}

#[test]
fn what_fixing_a_theme_is_worth() {
    let mut c = comments(&CORPORA[0]);
    // The invoice theme's first two comments come from detractors and a promoter instead.
    for comment in c.iter_mut().filter(|c| c.text.contains("nvoic")).take(2) {
        comment.segment = "detractor".into();
    }
    if let Some(comment) = c.iter_mut().find(|c| c.text == "Export invoices as PDF") {
        comment.segment = "promoter".into();
    }
    let found = themes(&c, 20, 40, &Worth::default());
    let invoices = &found.themes[0];
    let moved = invoices.count - 1; // all but the promoter move up one segment
    assert_eq!(
        invoices.nps_gain,
        (1000.0 * moved as f64 / 40.0).round() / 10.0
    );
    assert!(invoices.people <= invoices.count && invoices.people > 0);
    assert!(invoices.accounts <= 4 && invoices.accounts > 0);
    assert_eq!(
        themes(&c, 20, 0, &Worth::default()).themes[0].nps_gain,
        0.0,
        "no answers, no gain"
    );
}

#[test]
fn at_most_max_themes_and_the_rest_is_other() {
    let c = comments(&CORPORA[0]);
    let all = themes(&c, 20, 100, &Worth::default());
    let one = themes(&c, 1, 100, &Worth::default());
    assert_eq!(one.themes.len(), 1);
    assert_eq!(one.themes[0], all.themes[0]);
    assert_eq!(one.themes[0].count + one.other, c.len());
}

#[test]
fn no_comments_no_themes() {
    let empty = themes(&[], 10, 0, &Worth::default());
    assert!(empty.themes.is_empty());
    assert_eq!((empty.other, empty.comments), (0, 0));
}

/// The second corpus: English suggestions that share everyday words. "Teams" is a chat tool in
/// the integrations and a size in the prices ("small teams", "the team plan"); "report" is
/// both exported and slow; "responses", "scores", "dashboard" and "app" turn up across topics;
/// the noise speaks of "the team" too.
const INTEGRATIONS: &[&str] = &[
    "Please add a Slack integration",
    "Integration with Microsoft Teams would help us",
    "We need a Teams integration for our support staff",
    "Slack or Teams integration please",
    "Integrate with Slack so alerts reach our channel",
    "Send responses to a Slack channel",
    "Microsoft Teams notifications for new responses",
    "Connect it to Microsoft Teams",
    "Our whole team lives in Slack, an integration would be great",
    "Slack notifications when a detractor answers",
    "A Microsoft Teams app would help",
    "Integrations with Slack and Teams are missing",
    "Post new feedback to Teams",
    "Slack integration is the one thing missing",
    "Integrate with Microsoft Teams channels",
    "We use Teams, not email: send alerts to Teams",
    "Slack alerts for low scores",
    "An integration with HubSpot and Slack",
    "Teams integration so the team sees feedback",
    "Would love a Slack integration",
    "Notify our Slack channel about new scores",
    "Native Microsoft Teams integration",
    "Integrate with Zapier or Slack",
    "Push feedback into Slack",
    "Teams and Slack notifications",
    "Integration with Teams for our managers",
    "A Slack bot for the survey results",
    "Microsoft Teams channel alerts please",
];

const PRICES: &[&str] = &[
    "Too expensive for small teams",
    "Lower the price of the team plan",
    "The price is too high for a small team",
    "Pricing is steep for small teams like ours",
    "The team plan costs too much",
    "Too expensive for what we use",
    "Please lower the price",
    "A cheaper plan for small teams",
    "Price went up again, too expensive",
    "The team plan price is hard to justify",
    "Expensive compared to other tools",
    "A discount for small teams would help",
    "The price per seat is too high",
    "Cheaper pricing for the team plan",
];

const EXPORTS: &[&str] = &[
    "Export the report to Excel",
    "Let me export reports as CSV",
    "CSV export of all responses",
    "Export to Excel please",
    "The export misses the comments column",
    "Exporting the report as PDF",
    "Scheduled export of the monthly report",
    "Export responses to Google Sheets",
    "Excel export with dates",
    "An export button on the report",
];

const SLOWNESS: &[&str] = &[
    "The dashboard is slow to load",
    "The report is slow to open",
    "Pages load slowly",
    "Loading the dashboard takes forever",
    "Slow when there are many responses",
    "The report takes ages to load",
    "Everything is slow on Mondays",
    "Slow loading of the responses page",
];

const MOBILE: &[&str] = &[
    "A mobile app for iOS",
    "The mobile view is broken on my phone",
    "An Android app please",
    "A mobile app to check scores",
    "The dashboard on mobile is hard to read",
    "An app for my phone",
];

const TEAM_NOISE: &[&str] = &[
    "ok",
    "My team is happy with it",
    "Nothing to add",
    "The team likes it",
    "Fine",
    "Works for our team",
    "No comment",
    "Keep going",
];

/// English passives' comments from `topics`, interleaved so no topic owns a run of ids.
fn mixed(topics: &[&[&str]]) -> Vec<Comment> {
    let longest = topics.iter().map(|t| t.len()).max().unwrap_or(0);
    let texts = (0..longest).flat_map(|i| topics.iter().filter_map(move |t| t.get(i)));
    texts
        .enumerate()
        .map(|(i, text)| Comment {
            id: format!("r{i}"),
            text: (*text).to_owned(),
            locale: "en".into(),
            segment: "passive".into(),
            person: format!("u{i}"),
            account: Some(format!("a{}", i % 5)),
        })
        .collect()
}

/// The theme whose label is one of `accepted` (by start), with its count.
fn found<'a>(themes: &'a Themes, accepted: &[&str]) -> Option<&'a Theme> {
    themes
        .themes
        .iter()
        .find(|t| accepted.iter().any(|a| t.theme.starts_with(a)))
}

#[test]
fn a_word_two_topics_share_joins_neither_and_labels_neither() {
    let comments = mixed(&[INTEGRATIONS, PRICES, EXPORTS, SLOWNESS, MOBILE, TEAM_NOISE]);
    let result = themes(&comments, 20, 100, &Worth::default());
    let summary: Vec<(&str, usize)> = result
        .themes
        .iter()
        .map(|t| (t.theme.as_str(), t.count))
        .collect();
    println!("shared words: {summary:?}, other {}", result.other);
    let planted: [(&[&str], &[&str]); 5] = [
        (INTEGRATIONS, &["slack", "integrat"]),
        (PRICES, &["price", "pricing", "expensive", "cheaper"]),
        (EXPORTS, &["export"]),
        (SLOWNESS, &["slow", "load"]),
        (MOBILE, &["mobile", "app"]),
    ];
    for (i, (texts, accepted)) in planted.iter().enumerate() {
        let theme = found(&result, accepted);
        assert!(
            theme.is_some(),
            "planted theme {i} ({accepted:?}) not found: {summary:?}"
        );
        if let Some(theme) = theme {
            assert_eq!(
                theme.count,
                texts.len(),
                "{}: planted {}: {summary:?}",
                theme.theme,
                texts.len()
            );
            assert!(
                theme.theme != "team" && theme.theme != "teams",
                "{summary:?}"
            );
        }
        assert!(
            result
                .themes
                .get(i)
                .is_some_and(|t| accepted.iter().any(|a| t.theme.starts_with(a))),
            "planted theme {i} ({accepted:?}) is in planted order: {summary:?}"
        );
    }
    assert!(
        !result.themes.iter().any(|t| t.theme.contains("team")),
        "no theme is labelled by the shared word: {summary:?}"
    );
    assert_eq!(
        result.other,
        TEAM_NOISE.len(),
        "the noise, and only it: {summary:?}"
    );
}

#[test]
fn teams_the_tool_and_small_teams_stay_two_themes() {
    // The user's case: integrations naming Microsoft Teams, prices for "small teams" and
    // "the team plan", and nothing else.
    let comments = mixed(&[INTEGRATIONS, PRICES]);
    let result = themes(&comments, 20, 100, &Worth::default());
    let summary: Vec<(&str, usize)> = result
        .themes
        .iter()
        .map(|t| (t.theme.as_str(), t.count))
        .collect();
    println!("teams: {summary:?}, other {}", result.other);
    let integrations = found(&result, &["slack", "integrat"]).map(|t| t.count);
    let prices = found(&result, &["price", "pricing", "expensive", "cheaper"]).map(|t| t.count);
    assert_eq!(integrations, Some(INTEGRATIONS.len()), "{summary:?}");
    assert_eq!(prices, Some(PRICES.len()), "{summary:?}");
    assert_eq!(result.themes.len(), 2, "{summary:?}");
    assert_eq!(result.other, 0, "{summary:?}");
}

/// Three passives of one theme in two accounts, a detractor of the same theme, and noise.
fn priced(segment_of_first: &str) -> Vec<Comment> {
    let rows = [
        ("Dark mode please", segment_of_first, "u1", Some("acme")),
        (
            "A dark mode for night shifts",
            "passive",
            "u2",
            Some("acme"),
        ),
        (
            "Dark mode on the dashboard",
            "passive",
            "u3",
            Some("globex"),
        ),
        (
            "Dark mode would be easier on the eyes",
            "passive",
            "u3",
            None,
        ),
        ("ok", "passive", "u4", Some("initech")),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (text, segment, person, account))| Comment {
            id: format!("r{i}"),
            text: (*text).to_owned(),
            locale: "en".into(),
            segment: (*segment).to_owned(),
            person: (*person).to_owned(),
            account: account.map(str::to_owned),
        })
        .collect()
}

fn worth() -> Worth {
    Worth {
        arr: [
            ("acme".to_owned(), 50_000.0),
            ("globex".to_owned(), 34_000.0),
            ("initech".to_owned(), 1_000_000.0),
        ]
        .into_iter()
        .collect(),
        referral_rate: Some(0.5),
        referral_value: Some(12_000.0),
    }
}

#[test]
fn a_theme_is_worth_its_distinct_accounts_arr_and_its_passives_referrals() {
    let found = themes(&priced("passive"), 20, 10, &worth());
    assert_eq!(found.themes.len(), 1, "{:?}", found.themes);
    let dark = &found.themes[0];
    assert_eq!(dark.count, 4);
    // acme twice, globex once, one comment without an account: 50,000 + 34,000; initech's
    // comment is noise, not the theme's.
    assert_eq!(dark.arr, 84_000.0);
    // u1, u2, u3 (twice): 3 passives × 0.5 referrals per promoter.
    assert_eq!(dark.referrals, Some(1.5));
    assert_eq!(dark.referral_value, Some(18_000.0));
}

#[test]
fn only_passives_bring_referrals() {
    // u1 is a detractor now: two passive people remain.
    let found = themes(&priced("detractor"), 20, 10, &worth());
    assert_eq!(found.themes[0].referrals, Some(1.0));
    assert_eq!(found.themes[0].referral_value, Some(12_000.0));
    // A detractors' theme refers no one.
    let mut detractors = priced("detractor");
    for c in &mut detractors {
        c.segment = "detractor".into();
    }
    let found = themes(&detractors, 20, 10, &worth());
    assert_eq!(found.themes[0].referrals, None);
    assert_eq!(found.themes[0].referral_value, None);
    assert_eq!(found.themes[0].arr, 84_000.0, "ARR counts whoever said it");
}

#[test]
fn no_rate_no_referrals_and_no_value_no_referral_value() {
    let no_rate = Worth {
        referral_rate: None,
        ..worth()
    };
    let theme = &themes(&priced("passive"), 20, 10, &no_rate).themes[0];
    assert_eq!((theme.referrals, theme.referral_value), (None, None));
    let no_value = Worth {
        referral_value: None,
        ..worth()
    };
    let theme = &themes(&priced("passive"), 20, 10, &no_value).themes[0];
    assert_eq!((theme.referrals, theme.referral_value), (Some(1.5), None));
    let theme = &themes(&priced("passive"), 20, 10, &Worth::default()).themes[0];
    assert_eq!(theme.arr, 0.0, "accounts without a record are worth 0");
}
