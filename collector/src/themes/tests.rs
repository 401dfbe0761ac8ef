//! Fixed corpora with planted themes, one per language the widget ships: three suggestions
//! planted 8, 5 and 3 times (in several words and forms each), a word that only appears inside
//! the first suggestion's comments (the tool invoices are sent to), noise, and a comment that
//! names two suggestions.

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
        let found = themes(&comments, 20, 100);
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
    let found = themes(&c, 20, 40);
    let invoices = &found.themes[0];
    let moved = invoices.count - 1; // all but the promoter move up one segment
    assert_eq!(
        invoices.nps_gain,
        (1000.0 * moved as f64 / 40.0).round() / 10.0
    );
    assert!(invoices.people <= invoices.count && invoices.people > 0);
    assert!(invoices.accounts <= 4 && invoices.accounts > 0);
    assert_eq!(
        themes(&c, 20, 0).themes[0].nps_gain,
        0.0,
        "no answers, no gain"
    );
}

#[test]
fn at_most_max_themes_and_the_rest_is_other() {
    let c = comments(&CORPORA[0]);
    let all = themes(&c, 20, 100);
    let one = themes(&c, 1, 100);
    assert_eq!(one.themes.len(), 1);
    assert_eq!(one.themes[0], all.themes[0]);
    assert_eq!(one.themes[0].count + one.other, c.len());
}

#[test]
fn no_comments_no_themes() {
    let empty = themes(&[], 10, 0);
    assert!(empty.themes.is_empty());
    assert_eq!((empty.other, empty.comments), (0, 0));
}
