//! The DOM layer in headless Chromium (wasm-bindgen-test), read like a user: see the question,
//! pick a score, see the follow-up. Delivery goes to an endpoint that does not exist here; the
//! end-to-end tests cover it against the real collector.
#![cfg(target_arch = "wasm32")]

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

fn config(extra: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&o, &k.into(), &v).unwrap();
    set("endpoint", "/nps-test-endpoint".into());
    set("product", "Acme".into());
    set("trigger", "manual".into());
    for (k, v) in extra {
        set(k, (*v).into());
    }
    o.into()
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn hosts() -> u32 {
    document()
        .query_selector_all("[data-nps-widget]")
        .unwrap()
        .length()
}

/// Cards still on screen (not fading out after a close).
fn visible() -> u32 {
    document()
        .query_selector_all("[data-nps-widget]:not([data-leaving])")
        .unwrap()
        .length()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// A widget through the wasm's exports, as the JS class `NpsWidget` (js/api.js) drives them:
/// an id, and the site's listeners in a `Map`.
#[derive(Debug)]
struct NpsWidget {
    id: u32,
    listeners: js_sys::Map,
}

impl NpsWidget {
    fn create(config: JsValue) -> Result<NpsWidget, JsValue> {
        let listeners = js_sys::Map::new();
        let id = nps_widget::start(config, false, listeners.clone())?;
        Ok(NpsWidget { id, listeners })
    }

    fn show(&self, force: bool) {
        nps_widget::show(self.id, force);
    }

    fn destroy(&self) {
        nps_widget::destroy(self.id);
    }

    fn on(&self, event: &str, listener: JsValue) {
        self.listeners
            .set(&event.into(), &js_sys::Array::of1(&listener));
    }
}

/// One page runs every test, and targeting allows one card per page: shows are forced.
fn force() -> bool {
    true
}

fn shown(extra: &[(&str, &str)]) -> (NpsWidget, ShadowRoot) {
    let widget = NpsWidget::create(config(extra)).expect("valid config");
    widget.show(force());
    let host = document()
        .query_selector("[data-nps-widget]")
        .unwrap()
        .expect("host element");
    let root = host.shadow_root().expect("open shadow root");
    (widget, root)
}

fn find(root: &ShadowRoot, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
}

fn click(root: &ShadowRoot, selector: &str) {
    find(root, selector).unchecked_into::<HtmlElement>().click();
}

fn press(target: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

fn text(root: &ShadowRoot, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
fn question_is_a_radiogroup_of_eleven_numbered_radios() {
    let (widget, root) = shown(&[]);
    let group = find(&root, "[role=radiogroup]");
    let label_id = group.get_attribute("aria-labelledby").unwrap();
    assert_eq!(
        text(&root, &format!("#{label_id}")),
        "How likely are you to recommend Acme to a friend or colleague?"
    );
    let radios = root.query_selector_all("[role=radio]").unwrap();
    assert_eq!(radios.length(), 11);
    for n in 0..11 {
        let radio: Element = radios.item(n).unwrap().unchecked_into();
        let name = radio.get_attribute("aria-label").unwrap();
        assert!(name.starts_with(&n.to_string()), "{name}");
    }
    assert!(find(&root, "[role=radio][aria-label^='0']")
        .get_attribute("aria-label")
        .unwrap()
        .ends_with("Not at all likely"));
    widget.destroy();
}

#[wasm_bindgen_test]
fn choosing_seven_asks_the_passive_follow_up_in_a_focused_labelled_box() {
    let (widget, root) = shown(&[]);
    click(&root, "[data-score='7']");
    assert_eq!(
        text(&root, "label[for=c]"),
        "What would we need to do to earn a 9 or 10 from you next time?"
    );
    let active = root.active_element().expect("focus inside the card");
    assert_eq!(active.id(), "c");
    assert!(
        root.query_selector("#k").unwrap().is_none(),
        "no consent box for passives"
    );
    click(&root, "[data-act=skip]");
    assert_eq!(
        text(&root, "p.t"),
        "Thank you! Your answer helps us improve."
    );
    widget.destroy();
}

#[wasm_bindgen_test]
fn detractors_get_the_sorry_prompt_and_a_consent_box() {
    let (widget, root) = shown(&[]);
    click(&root, "[data-score='3']");
    assert_eq!(
        text(&root, "label[for=c]"),
        "We're sorry. What disappointed you, and what should we fix first?"
    );
    assert!(text(&root, ".consent").contains("You may contact me about this"));
    widget.destroy();
}

#[wasm_bindgen_test]
async fn close_removes_the_card_and_destroy_leaves_nothing_behind() {
    let (widget, root) = shown(&[]);
    assert_eq!(hosts(), 1);
    click(&root, "[data-act=close]");
    assert_eq!(visible(), 0, "closing starts at once");
    sleep(400).await;
    assert_eq!(hosts(), 0, "and the card is gone after its exit animation");
    widget.show(force());
    assert_eq!(hosts(), 1, "show() asks again after a close");
    widget.destroy();
    assert_eq!(hosts(), 0);
}

#[wasm_bindgen_test]
async fn escape_closes_the_card() {
    let (widget, root) = shown(&[]);
    press(&find(&root, "[data-score='0']"), "Escape");
    assert_eq!(visible(), 0);
    sleep(400).await;
    assert_eq!(hosts(), 0);
    widget.destroy();
}

#[wasm_bindgen_test]
fn arrow_keys_move_the_single_tab_stop_and_wrap() {
    let (widget, root) = shown(&[]);
    let zero = find(&root, "[data-score='0']");
    press(&zero, "ArrowRight");
    assert_eq!(
        find(&root, "[tabindex='0']")
            .get_attribute("data-score")
            .unwrap(),
        "1"
    );
    press(&find(&root, "[data-score='1']"), "End");
    assert_eq!(
        find(&root, "[tabindex='0']")
            .get_attribute("data-score")
            .unwrap(),
        "10"
    );
    press(&find(&root, "[data-score='10']"), "ArrowRight");
    assert_eq!(
        find(&root, "[tabindex='0']")
            .get_attribute("data-score")
            .unwrap(),
        "0"
    );
    assert_eq!(
        root.query_selector_all("[tabindex='0']").unwrap().length(),
        1
    );
    widget.destroy();
}

#[wasm_bindgen_test]
fn product_names_are_text_never_markup() {
    let (widget, root) = shown(&[("product", "<img src=x onerror=alert(1)>")]);
    assert!(root.query_selector("img").unwrap().is_none());
    assert!(text(&root, "#q").contains("<img src=x onerror=alert(1)>"));
    widget.destroy();
}

#[wasm_bindgen_test]
fn bad_config_is_refused_with_the_key_named_and_shows_nothing() {
    let o = Object::new();
    Reflect::set(&o, &"endpont".into(), &"/x".into()).unwrap();
    let err = NpsWidget::create(o.into()).expect_err("unknown key");
    let message = Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(
        message,
        "nps-widget: unknown key \"endpont\", did you mean \"endpoint\"?"
    );
    assert_eq!(hosts(), 0);
}

/// Built-in locales other than English are fetched from `locales/` next to the widget's files;
/// this test page has none, which is the failure case: English, left to right, and an error.
#[wasm_bindgen_test]
async fn a_locale_whose_strings_cannot_be_fetched_falls_back_to_english() {
    let widget = NpsWidget::create(config(&[("locale", "ar")])).expect("valid config");
    let errors = js_sys::Array::new();
    let sink = errors.clone();
    let on_error = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    widget.on("error", on_error.as_ref().clone());
    widget.show(force());
    assert_eq!(hosts(), 0, "the card waits for its strings");
    for _ in 0..50 {
        if hosts() == 1 {
            break;
        }
        sleep(20).await;
    }
    let root = document()
        .query_selector("[data-nps-widget]")
        .unwrap()
        .expect("the card, once the fetch failed")
        .shadow_root()
        .unwrap();
    let card = find(&root, ".card");
    assert_eq!(card.get_attribute("lang").as_deref(), Some("en"));
    assert_eq!(card.get_attribute("dir").as_deref(), Some("ltr"));
    assert!(text(&root, ".q").starts_with("How likely"));
    let message = Reflect::get(&errors.get(0), &"message".into()).unwrap();
    assert_eq!(
        message.as_string().as_deref(),
        Some("could not load the strings of \"ar\", showing English")
    );
    widget.destroy();
}
