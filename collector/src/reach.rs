//! What reaches people outside the site: the email block with the eleven score buttons, the
//! hosted survey page of a personal link (and its expired, refused and thanks pages), and the
//! chat texts of a detractor alert. Every string from a person, a site owner or a locale table
//! goes through [`html`] or [`chat`] escaping: text, never markup.
//!
//! The strings are the widget's own (`nps_widget::i18n`), so an email in French asks the
//! question the French card asks.

use nps_widget::i18n::{choose_locale, is_rtl, Strings, Text};
use nps_widget::segment::Segment;

/// `text` safe inside HTML text and double-quoted attributes.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` safe inside a Slack-compatible `text` (Slack, Mattermost, Rocket.Chat, Google Chat):
/// `&`, `<` and `>` escaped as Slack asks, so a comment cannot make a link or a mention
/// (`<!channel>`), and line breaks kept.
pub fn chat(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The primary language the widget has strings for, from a link's locale (English otherwise).
pub fn locale_of(locale: Option<&str>) -> String {
    choose_locale(&[locale.unwrap_or("en")], &[])
}

fn strings(locale: &str, product: &str) -> Strings {
    Strings::new(locale, product, &[], None)
}

/// The block an email tool takes (a CRM sequence, a newsletter tool, a plain client): the
/// question and the eleven scores as links to `url?score=N`, with the end labels. Tables and
/// inline styles only, no script, no external CSS; every element sets its own text and
/// background colour, so clients that darken the background in dark mode keep the contrast.
pub fn email_html(url: &str, locale: Option<&str>, product: &str) -> String {
    let locale = locale_of(locale);
    let s = strings(&locale, product);
    let dir = if is_rtl(&locale) { "rtl" } else { "ltr" };
    let font = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
    let mut cells = String::new();
    for n in 0..=10 {
        cells.push_str(&format!(
            "<td align=\"center\" style=\"padding:2px\"><a href=\"{href}\" \
             style=\"display:block;min-width:28px;padding:10px 0;border:1px solid #6b7280;\
             border-radius:4px;background:#ffffff;color:#111827;{font};font-size:16px;\
             font-weight:bold;line-height:20px;text-decoration:none;text-align:center\" \
             aria-label=\"{n}\">{n}</a></td>",
            href = html(&format!("{url}?score={n}")),
        ));
    }
    format!(
        "<table role=\"presentation\" dir=\"{dir}\" lang=\"{lang}\" cellpadding=\"0\" \
         cellspacing=\"0\" border=\"0\" style=\"border-collapse:separate;background:#ffffff;\
         color:#111827;max-width:560px\"><tr><td colspan=\"11\" style=\"padding:12px 2px;\
         {font};font-size:18px;line-height:24px;color:#111827;background:#ffffff\">{question}\
         </td></tr><tr>{cells}</tr><tr><td colspan=\"5\" style=\"padding:6px 2px;{font};\
         font-size:13px;color:#374151;background:#ffffff;text-align:start\">{low}</td>\
         <td></td><td colspan=\"5\" style=\"padding:6px 2px;{font};font-size:13px;\
         color:#374151;background:#ffffff;text-align:end\">{high}</td></tr></table>",
        lang = html(&locale),
        question = html(&s.get(Text::Question)),
        low = html(&s.get(Text::LowLabel)),
        high = html(&s.get(Text::HighLabel)),
    )
}

/// The email block as a page of its own, for the dashboard's preview frame: no script at all.
pub fn email_page(block: &str, locale: Option<&str>) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"color-scheme\" content=\"light dark\"><title>Email preview</title>\
         </head><body style=\"margin:12px\"><main><h1 style=\"font:13px sans-serif;\
         margin:0 0 8px\">Email preview</h1>{block}</main></body></html>",
        lang = html(&locale_of(locale)),
    )
}

/// What the hosted page needs to start the widget: read by `hosted.js` from a JSON block
/// (data, never run), so the page has no inline script.
#[derive(Debug, serde::Serialize)]
pub struct PageConfig<'a> {
    /// Where the page posts: `/s/<token>`.
    pub endpoint: String,
    /// Fills `{product}`.
    pub product: &'a str,
    /// The survey asked.
    pub survey_id: &'a str,
    /// The person's language, if the link says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<&'a str>,
    /// The score already recorded (a visit after the partial): the page opens on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<i64>,
}

/// The hosted survey page: the widget inline, started by `hosted.js` once the tab is visible.
pub fn survey_page(config: &PageConfig<'_>) -> String {
    let locale = locale_of(config.locale);
    let s = strings(&locale, config.product);
    // JSON inside <script type="application/json">: `<` escaped so no text ends the element.
    let data = serde_json::to_string(config)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    page(
        &locale,
        &s.get(Text::Question),
        &format!(
            "<div id=\"nps\"></div>\
             <p id=\"nps-wait\" class=\"quiet\">…</p>\
             <script type=\"application/json\" id=\"nps-link\">{data}</script>\
             <script type=\"module\" src=\"/s/hosted.js\"></script>"
        ),
    )
}

/// The page of a link that was answered: the thanks of the person's segment.
pub fn thanks_page(locale: Option<&str>, product: &str, segment: Segment) -> String {
    let locale = locale_of(locale);
    let s = strings(&locale, product);
    let thanks = match segment {
        Segment::Promoter => s.get(Text::PromoterThanks),
        Segment::Passive => s.get(Text::PassiveThanks),
        _ => s.get(Text::DetractorThanks),
    };
    page(
        &locale,
        &thanks,
        &format!("<h1 class=\"message\">{}</h1>", html(&thanks)),
    )
}

/// The page of a link that cannot be used: expired (410) or not valid (403).
pub fn refused_page(message: &str) -> String {
    page(
        "en",
        message,
        &format!(
            "<h1 class=\"message\">{}.</h1><p class=\"quiet\">Ask whoever sent it for a new \
             one.</p>",
            html(&capitalized(message))
        ),
    )
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn page(locale: &str, title: &str, body: &str) -> String {
    let dir = if is_rtl(locale) { "rtl" } else { "ltr" };
    format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/s/hosted.css\"></head>\
         <body><main>{body}</main></body></html>",
        lang = html(locale),
        title = html(title),
    )
}

/// One detractor alert's text.
#[derive(Debug, Clone)]
pub struct Alert<'a> {
    /// 0–6.
    pub score: Option<i64>,
    /// The account, if any.
    pub account_id: Option<&'a str>,
    /// Who answered (email, else id).
    pub person: Option<&'a str>,
    /// What they wrote.
    pub comment: Option<&'a str>,
    /// The item in the dashboard.
    pub link: &'a str,
}

/// `Detractor (3/10) from acct_42 (ana@example.com): "…" <link|Open in the dashboard>`.
pub fn alert_text(a: &Alert<'_>) -> String {
    let mut text = format!(
        "Detractor ({}/10)",
        a.score.map_or("?".to_owned(), |s| s.to_string())
    );
    match (a.account_id, a.person) {
        (Some(acct), Some(p)) => text.push_str(&format!(" from {} ({})", chat(acct), chat(p))),
        (Some(acct), None) => text.push_str(&format!(" from {}", chat(acct))),
        (None, Some(p)) => text.push_str(&format!(" from {}", chat(p))),
        (None, None) => text.push_str(" from an anonymous visitor"),
    }
    match a.comment.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => text.push_str(&format!(": \u{201c}{}\u{201d}", chat(c))),
        None => text.push_str(", no comment"),
    }
    text.push_str(&format!("\n<{}|Open in the dashboard>", a.link));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_block_has_eleven_score_links_and_no_script() {
        let block = email_html("https://nps.example.com/s/abc.def", None, "Acme");
        for n in 0..=10 {
            assert!(block.contains(&format!(
                "href=\"https://nps.example.com/s/abc.def?score={n}\""
            )));
        }
        assert_eq!(block.matches("<a ").count(), 11);
        assert!(block.contains("How likely are you to recommend Acme"));
        assert!(block.contains("Not at all likely") && block.contains("Extremely likely"));
        for banned in ["<script", "<style", "<link", "class="] {
            assert!(!block.contains(banned), "{banned}");
        }
    }

    #[test]
    fn the_email_block_speaks_the_links_language_and_escapes_the_product() {
        let fr = email_html("https://x/s/t", Some("fr-CA"), "<b>Acme</b>");
        assert!(fr.contains("lang=\"fr\""));
        assert!(fr.contains("&lt;b&gt;Acme&lt;/b&gt;"));
        assert!(!fr.contains("<b>"));
        let ar = email_html("https://x/s/t", Some("ar"), "Acme");
        assert!(ar.contains("dir=\"rtl\""));
        let unknown = email_html("https://x/s/t", Some("xx"), "Acme");
        assert!(unknown.contains("lang=\"en\""));
    }

    #[test]
    fn the_page_data_cannot_end_its_script_element() {
        let page = survey_page(&PageConfig {
            endpoint: "/s/t".into(),
            product: "</script><script>alert(1)</script>",
            survey_id: "default",
            locale: None,
            score: Some(3),
        });
        assert_eq!(page.matches("</script>").count(), 2);
        assert!(page.contains("\\u003c/script\\u003e"));
        assert!(page.contains("&lt;/script&gt;"));
    }

    #[test]
    fn alerts_are_plain_text_in_the_chat_format() {
        let text = alert_text(&Alert {
            score: Some(2),
            account_id: Some("acct_42"),
            person: Some("ana@example.com"),
            comment: Some("Export broke <!channel> & <https://evil|click>"),
            link: "https://nps.example.com/dashboard#response=r1",
        });
        assert!(text.starts_with("Detractor (2/10) from acct_42 (ana@example.com): "));
        assert!(text.contains("&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"));
        assert!(
            text.ends_with("<https://nps.example.com/dashboard#response=r1|Open in the dashboard>")
        );
        let bare = alert_text(&Alert {
            score: Some(0),
            account_id: None,
            person: None,
            comment: None,
            link: "x",
        });
        assert!(bare.contains("anonymous visitor, no comment"));
    }

    #[test]
    fn refused_and_thanks_pages_are_text() {
        assert!(refused_page("this link has expired").contains("This link has expired."));
        let thanks = thanks_page(Some("de"), "Acme", Segment::Promoter);
        assert!(thanks.contains("lang=\"de\""));
        assert!(!thanks.contains("<script"));
    }
}
