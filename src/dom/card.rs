//! The card on the page, drawn through web-sys: a host element with an open shadow root, the
//! dialog, the question's radio group, the segment's follow-up and the thanks. It handles the
//! keyboard (a roving radio group, a modal's focus trap, Escape) and focus, and reports what the
//! person did as an [`Act`]; what an act means is the widget's business. Every text is set as
//! text (`textContent`, attribute values), never parsed as markup.

use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::{
    Element, Event, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent, Node, ShadowRoot,
};

use super::bindings::{
    active_element, adopt_styles, after, body, element, find, find_all, focus, listen,
    listen_active, mark, open_shadow, prefers_reduced_motion, select, set_attribute,
};
use crate::flow::Step;
use crate::i18n::{Strings, Text};
use crate::segment::Segment;
use crate::text::{parse_uint, push_uint};

/// The card's styles, applied as a constructable stylesheet in the shadow root.
///
/// `src/dom/card.css` (minified by Lightning CSS in `cargo xtask dist`; `build.rs` says which).
///
/// `:host { all: initial !important }` wins over any rule of the host page, `!important` ones
/// included (inside a shadow tree, important declarations beat the outer page's), so the page
/// cannot restyle or hide the card, and nothing in it reaches the page. Theme values are custom
/// properties, which `all` leaves alone: a page may set `--nps-accent` on any ancestor, or pass
/// `style` in the config. (The explanation lives here, not in the file: the file ships.)
const CSS: &str = include_str!(env!("NPS_CARD_CSS"));

/// What the person did on the card.
#[derive(Debug)]
pub(crate) enum Act {
    /// Picked a score, 0–10.
    Choose(u8),
    /// Sent the follow-up.
    Submit { comment: String, consent: bool },
    /// Skipped the follow-up.
    Skip,
    /// Closed the card (the × or Escape).
    Close,
    /// Followed the referral link.
    Referral,
}

/// Where and how a card is mounted.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    /// The selector of the element an inline card goes in; the page's body otherwise.
    pub(crate) target: Option<&'a str>,
    /// `bottom-right`, `bottom-left`, `modal` or `inline` (the host's `data-position`).
    pub(crate) position: &'static str,
    /// `auto`, `light` or `dark` (the host's `data-theme`).
    pub(crate) theme: &'static str,
    /// The site's `style` values, as CSS custom properties on the host.
    pub(crate) style: &'a str,
    pub(crate) lang: &'a str,
    pub(crate) rtl: bool,
}

/// A card on screen.
#[derive(Debug)]
pub(crate) struct Card {
    host: Element,
    frame: Element,
    body: Element,
    /// A polite live region: what appears after an answer is announced.
    live: Element,
    /// Where focus was before a modal took it, to give it back.
    back: Option<Element>,
    modal: bool,
    /// Whether the first step has been drawn (the `nps:visible` mark).
    seen: bool,
    _click: EventListener,
    _keydown: EventListener,
}

impl Card {
    /// Mounts an empty card. None when the inline target matches nothing (or there is no page
    /// to mount in). `act` hears the person.
    pub(crate) fn mount(
        frame: &Frame<'_>,
        strings: &Strings,
        act: impl Fn(Act) + 'static,
    ) -> Option<Card> {
        let parent: Node = match frame.target {
            Some(selector) => select(selector)?.into(),
            None => body()?.into(),
        };
        let host = super::bindings::document()?
            .create_element("nps-widget")
            .ok()?;
        let root = open_shadow(&host)?;
        let modal = frame.position == "modal";
        set_attribute(&host, "data-nps-widget", "");
        set_attribute(&host, "data-position", frame.position);
        set_attribute(&host, "data-theme", frame.theme);
        let mut css = String::from(CSS);
        css.push_str(frame.style);
        adopt_styles(&root, &css);
        let question = strings.get(Text::Question);
        let card = element(
            &root,
            "div",
            &[
                ("class", "card"),
                ("role", "dialog"),
                ("aria-label", &question),
                ("lang", frame.lang),
                ("dir", if frame.rtl { "rtl" } else { "ltr" }),
            ],
            "",
        )?;
        if modal {
            set_attribute(&card, "aria-modal", "true");
        }
        let close = strings.get(Text::Close);
        element(
            &card,
            "button",
            &[
                ("type", "button"),
                ("class", "x"),
                ("data-act", "close"),
                ("aria-label", &close),
            ],
            "×",
        )?;
        let body = element(&card, "div", &[], "")?;
        let live = element(
            &card,
            "p",
            &[("class", "sr"), ("role", "status"), ("aria-live", "polite")],
            "",
        )?;
        let act: Rc<dyn Fn(Act)> = Rc::new(act);
        let on_click = {
            let (act, root) = (act.clone(), root.clone());
            move |event: &Event| {
                if let Some(a) = clicked(&root, event) {
                    act(a);
                }
            }
        };
        let on_key = {
            let (rtl, root) = (frame.rtl, root.clone());
            move |event: &Event| {
                // Only `keydown` is listened to.
                let key = event.unchecked_ref::<KeyboardEvent>();
                if key.key() == "Escape" {
                    act(Act::Close);
                } else if navigate(&root, modal, rtl, key) {
                    event.prevent_default();
                }
            }
        };
        let card = Card {
            back: if modal { active_element() } else { None },
            _click: listen(&root, "click", on_click),
            _keydown: listen_active(&root, "keydown", on_key),
            host,
            frame: card,
            body,
            live,
            modal,
            seen: false,
        };
        parent.append_child(&card.host).ok()?;
        Some(card)
    }

    /// The element site events are dispatched on.
    pub(crate) fn host(&self) -> &Element {
        &self.host
    }

    /// Draws `step`. `consent_box` adds the detractor's "you may contact me"; `referral` (URL
    /// and link text) is given only for the segments the site asks for a referral.
    pub(crate) fn draw(
        &mut self,
        step: Step,
        strings: &Strings,
        consent_box: bool,
        referral: Option<(&str, &str)>,
    ) {
        let body = &self.body;
        body.set_text_content(None);
        let (focused, said) = match step {
            Step::Asking => (self.draw_question(strings), None),
            Step::FollowUp(segment) => {
                let said = strings.get(pick(
                    segment,
                    Text::PromoterPrompt,
                    Text::PassivePrompt,
                    Text::DetractorPrompt,
                ));
                element(
                    body,
                    "label",
                    &[("for", "c"), ("class", "p"), ("id", "pl")],
                    &said,
                );
                let placeholder = strings.get(pick(
                    segment,
                    Text::PromoterPlaceholder,
                    Text::PassivePlaceholder,
                    Text::DetractorPlaceholder,
                ));
                let text_box = element(
                    body,
                    "textarea",
                    &[
                        ("id", "c"),
                        ("maxlength", "4000"),
                        ("placeholder", &placeholder),
                    ],
                    "",
                );
                if segment == Segment::Detractor && consent_box {
                    if let Some(row) = element(body, "label", &[("class", "consent")], "") {
                        element(&row, "input", &[("type", "checkbox"), ("id", "k")], "");
                        element(&row, "span", &[], &strings.get(Text::Consent));
                    }
                }
                if let Some(actions) = element(body, "div", &[("class", "actions")], "") {
                    let skip = strings.get(Text::Skip);
                    element(
                        &actions,
                        "button",
                        &[("type", "button"), ("class", "btn"), ("data-act", "skip")],
                        &skip,
                    );
                    let submit = strings.get(Text::Submit);
                    element(
                        &actions,
                        "button",
                        &[
                            ("type", "button"),
                            ("class", "btn primary"),
                            ("data-act", "submit"),
                        ],
                        &submit,
                    );
                }
                (text_box, Some(said))
            }
            Step::Thanks(segment) => {
                let said = strings.get(pick(
                    segment,
                    Text::PromoterThanks,
                    Text::PassiveThanks,
                    Text::DetractorThanks,
                ));
                let thanks = element(body, "p", &[("class", "t"), ("tabindex", "-1")], &said);
                if let Some((url, text)) = referral {
                    let default_text;
                    let text = if text.is_empty() {
                        default_text = strings.get(Text::Referral);
                        default_text.as_str()
                    } else {
                        text
                    };
                    element(
                        body,
                        "a",
                        &[
                            ("href", url),
                            ("target", "_blank"),
                            ("rel", "noopener"),
                            ("class", "ref"),
                            ("data-act", "referral"),
                        ],
                        text,
                    );
                }
                (thanks, Some(said))
            }
            Step::Closed => return,
        };
        if let Some(element) = focused {
            focus(&element);
        }
        if let Some(said) = said {
            self.live.set_text_content(Some(&said));
        }
        if !self.seen {
            self.seen = true;
            mark("nps:visible");
        }
    }

    /// The 0–10 radio group with its end labels. Returns what takes focus (the first radio, in
    /// a modal).
    fn draw_question(&self, strings: &Strings) -> Option<Element> {
        let body = &self.body;
        let (low, high) = (strings.get(Text::LowLabel), strings.get(Text::HighLabel));
        element(
            body,
            "p",
            &[("id", "q"), ("class", "q")],
            &strings.get(Text::Question),
        );
        let scale = element(
            body,
            "div",
            &[
                ("role", "radiogroup"),
                ("aria-labelledby", "q"),
                ("class", "scale"),
            ],
            "",
        )?;
        let mut first = None;
        for n in 0..=10u8 {
            let mut number = String::new();
            push_uint(&mut number, u64::from(n));
            let mut label = number.clone();
            if n == 0 || n == 10 {
                label.push_str(", ");
                label.push_str(if n == 0 { &low } else { &high });
            }
            let radio = element(
                &scale,
                "button",
                &[
                    ("type", "button"),
                    ("role", "radio"),
                    ("aria-checked", "false"),
                    ("aria-label", &label),
                    ("tabindex", if n == 0 { "0" } else { "-1" }),
                    ("data-score", &number),
                ],
                &number,
            );
            if n == 0 {
                first = radio;
            }
        }
        if let Some(ends) = element(
            body,
            "div",
            &[("class", "ends"), ("aria-hidden", "true")],
            "",
        ) {
            element(&ends, "span", &[], &low);
            element(&ends, "span", &[], &high);
        }
        first.filter(|_| self.modal)
    }

    /// Removes the card; a modal gives focus back to where it was. With `animate` (the person
    /// closed it) the card fades out first, unless they asked for reduced motion: the host is
    /// marked `data-leaving` at once and goes when the animation ends.
    pub(crate) fn unmount(self, animate: bool) -> Option<Leaving> {
        if let Some(back) = &self.back {
            focus(back);
        }
        if !animate || prefers_reduced_motion() {
            self.host.remove();
            return None;
        }
        set_attribute(&self.host, "data-leaving", "");
        let _ = self.frame.class_list().add_1("out");
        let host = self.host.clone();
        let ended = listen(&self.frame, "animationend", move |_| host.remove());
        let host = self.host.clone();
        // In case the animation never runs (a hidden tab): gone soon after it would have ended.
        let timer = after(300, move || host.remove());
        Some(Leaving {
            host: self.host,
            _ended: ended,
            _timer: timer,
        })
    }
}

/// A closed card fading out. Dropping it removes the card at once.
#[derive(Debug)]
pub(crate) struct Leaving {
    host: Element,
    _ended: EventListener,
    _timer: Timeout,
}

impl Drop for Leaving {
    fn drop(&mut self) {
        self.host.remove();
    }
}

/// One of three things, by segment (silent never reaches a follow-up).
fn pick(segment: Segment, promoter: Text, passive: Text, detractor: Text) -> Text {
    match segment {
        Segment::Promoter => promoter,
        Segment::Passive => passive,
        _ => detractor,
    }
}

/// What a click on the card asks for, if it hit a control.
fn clicked(root: &ShadowRoot, event: &Event) -> Option<Act> {
    // Clicks target elements.
    let target = event.target()?.unchecked_into::<Element>();
    let control = target.closest("[data-act],[data-score]").ok()??;
    if let Some(score) = control.get_attribute("data-score") {
        set_attribute(&control, "aria-checked", "true");
        let score = parse_uint(&score).filter(|n| *n <= 10)?;
        return Some(Act::Choose(score as u8));
    }
    Some(match control.get_attribute("data-act")?.as_str() {
        "submit" => Act::Submit {
            comment: find(root, "#c")
                .map(|c| c.unchecked_into::<HtmlTextAreaElement>().value())
                .unwrap_or_default(),
            consent: find(root, "#k")
                .is_some_and(|k| k.unchecked_into::<HtmlInputElement>().checked()),
        },
        "skip" => Act::Skip,
        "close" => Act::Close,
        "referral" => Act::Referral,
        _ => return None,
    })
}

/// Arrows, Home and End move the radio group's single tab stop (mirrored right to left); Tab
/// stays inside a modal. True when the key was ours.
fn navigate(root: &ShadowRoot, modal: bool, rtl: bool, event: &KeyboardEvent) -> bool {
    let key = event.key();
    let on_radio = event
        .target()
        .and_then(|t| t.unchecked_into::<Element>().get_attribute("role"))
        .is_some_and(|role| role == "radio");
    if on_radio {
        let radios = find_all(root, "[role=radio]");
        let last = radios.len() as i32 - 1;
        let current = radios
            .iter()
            .position(|r| r.get_attribute("tabindex").is_some_and(|t| t == "0"))
            .unwrap_or(0) as i32;
        let forward = if rtl { -1 } else { 1 };
        let next = match key.as_str() {
            "ArrowRight" => current + forward,
            "ArrowLeft" => current - forward,
            "ArrowDown" => current + 1,
            "ArrowUp" => current - 1,
            "Home" => 0,
            "End" => last,
            _ => return false,
        };
        let next = if next < 0 {
            last
        } else if next > last {
            0
        } else {
            next
        };
        for (n, radio) in radios.iter().enumerate() {
            set_attribute(radio, "tabindex", if n as i32 == next { "0" } else { "-1" });
        }
        if let Some(radio) = radios.get(next as usize) {
            focus(radio);
        }
        return true;
    }
    if key != "Tab" || !modal {
        return false;
    }
    let stops = find_all(
        root,
        ".x,[role=radio][tabindex=\"0\"],textarea,input,.btn,a[href]",
    );
    let (Some(first), Some(last)) = (stops.first(), stops.last()) else {
        return false;
    };
    let edge = if event.shift_key() { first } else { last };
    if root.active_element().is_some_and(|active| &active != edge) {
        return false;
    }
    focus(if event.shift_key() { last } else { first });
    true
}
