//! Renders a [`Step`] into the card. Builds fresh nodes per step (a card has a dozen), marks
//! every control with `data-act` so one delegated listener on the shadow root handles them all.

use alloc::string::String;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlTextAreaElement};

use super::bindings::{add, el, focus, set};
use crate::config::{push_uint, Referral};
use crate::flow::Step;
use crate::i18n::{Strings, Text};
use crate::segment::Segment;

/// The body of the card for `step`; returns the element that should take focus, if any.
pub(crate) fn render(
    body: &Element,
    step: Step,
    strings: &Strings,
    consent_box: bool,
    referral: Option<&Referral>,
) -> Option<Element> {
    body.set_text_content(None);
    match step {
        Step::Asking => {
            let q = el(
                "p",
                &strings.get(Text::Question),
                &[("id", "q"), ("class", "q")],
            );
            add(body, &q);
            let scale = el(
                "div",
                "",
                &[
                    ("role", "radiogroup"),
                    ("aria-labelledby", "q"),
                    ("class", "scale"),
                ],
            );
            let low = strings.get(Text::LowLabel);
            let high = strings.get(Text::HighLabel);
            for n in 0..=10u8 {
                let mut digits = String::new();
                push_uint(&mut digits, u64::from(n));
                let mut label = digits.clone();
                if n == 0 || n == 10 {
                    label.push_str(", ");
                    label.push_str(if n == 0 { &low } else { &high });
                }
                let radio = el(
                    "button",
                    &digits,
                    &[
                        ("type", "button"),
                        ("role", "radio"),
                        ("aria-checked", "false"),
                        ("aria-label", &label),
                        ("tabindex", if n == 0 { "0" } else { "-1" }),
                        ("data-score", &digits),
                    ],
                );
                add(&scale, &radio);
            }
            add(body, &scale);
            let ends = el("div", "", &[("class", "ends"), ("aria-hidden", "true")]);
            add(&ends, &el("span", &low, &[]));
            add(&ends, &el("span", &high, &[]));
            add(body, &ends);
            None
        }
        Step::FollowUp(segment) => {
            let prompt = match segment {
                Segment::Promoter => Text::PromoterPrompt,
                Segment::Passive => Text::PassivePrompt,
                _ => Text::DetractorPrompt,
            };
            add(
                body,
                &el(
                    "label",
                    &strings.get(prompt),
                    &[("for", "c"), ("class", "p"), ("id", "pl")],
                ),
            );
            let comment = el(
                "textarea",
                "",
                &[
                    ("id", "c"),
                    ("maxlength", "4000"),
                    ("placeholder", &strings.get(Text::Placeholder)),
                ],
            );
            add(body, &comment);
            if segment == Segment::Detractor && consent_box {
                let row = el("label", "", &[("class", "consent")]);
                add(&row, &el("input", "", &[("type", "checkbox"), ("id", "k")]));
                add(&row, &el("span", &strings.get(Text::Consent), &[]));
                add(body, &row);
            }
            let actions = el("div", "", &[("class", "actions")]);
            add(
                &actions,
                &el(
                    "button",
                    &strings.get(Text::Skip),
                    &[("type", "button"), ("class", "btn"), ("data-act", "skip")],
                ),
            );
            add(
                &actions,
                &el(
                    "button",
                    &strings.get(Text::Submit),
                    &[
                        ("type", "button"),
                        ("class", "btn primary"),
                        ("data-act", "submit"),
                    ],
                ),
            );
            add(body, &actions);
            Some(comment)
        }
        Step::Thanks(segment) => {
            let thanks = match segment {
                Segment::Promoter => Text::PromoterThanks,
                Segment::Passive => Text::PassiveThanks,
                _ => Text::DetractorThanks,
            };
            let t = el(
                "p",
                &strings.get(thanks),
                &[("class", "t"), ("tabindex", "-1")],
            );
            add(body, &t);
            if let (Segment::Promoter, Some(referral)) = (segment, referral) {
                let text = referral
                    .text
                    .clone()
                    .unwrap_or_else(|| strings.get(Text::Referral));
                add(
                    body,
                    &el(
                        "a",
                        &text,
                        &[
                            ("href", &referral.url),
                            ("target", "_blank"),
                            ("rel", "noopener"),
                            ("class", "ref"),
                            ("data-act", "referral"),
                        ],
                    ),
                );
            }
            Some(t)
        }
        Step::Closed => None,
    }
}

/// Marks the chosen radio checked (for the moment before the follow-up replaces the scale).
pub(crate) fn check(radio: &Element) {
    set(radio, "aria-checked", "true");
}

/// Roving tabindex: `target` becomes the one tab stop of the group and takes focus.
pub(crate) fn rove(radios: &[Element], target: usize) {
    for (i, r) in radios.iter().enumerate() {
        set(r, "tabindex", if i == target { "0" } else { "-1" });
    }
    if let Some(r) = radios.get(target) {
        focus(r);
    }
}

/// The follow-up's comment and consent, as typed.
pub(crate) fn follow_up_answers(body: &Element) -> (String, bool) {
    let comment = body
        .query_selector("#c")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlTextAreaElement>().ok())
        .map(|t| t.value())
        .unwrap_or_default();
    let consent = body
        .query_selector("#k")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| i.checked());
    (comment, consent)
}

/// Puts a message in the polite live region, for screen readers.
pub(crate) fn announce(live: &Element, text: &str) {
    live.set_text_content(Some(text));
}
