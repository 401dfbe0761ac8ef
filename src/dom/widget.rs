//! One widget instance in the page: mounts the card, turns DOM events into [`Survey`] events,
//! renders the next step, hands deliveries to the outbox and tells the site through events.
//!
//! Listeners and timers are owned values that clean up on drop. The browser calls back through
//! the page's one port with the widget's id and a [`wake`] code; a widget lives in [`LIVE`] from
//! its start until `destroy()`, so a call for a destroyed widget finds nothing and does
//! nothing. Site callbacks run after our borrow is released, so a callback may call back into
//! the widget.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use wasm_bindgen::prelude::*;

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::bindings::{
    actor, card, emit, fetch_locale, hidden, load, log, now_iso, now_ms, object, page_facts,
    random, random_bytes, scrolled, set, set_port, store, strings_of, to_json, Off,
};
use super::convert::to_js;
use super::delivery::{Delivery, Problem, Send};
use crate::config::{Config, Position, Theme, Trigger};
use crate::flow::{Step, Survey};
use crate::i18n::{choose_locale, is_rtl, ships_as_file, Strings, Text};
use crate::response::{uuid_v4, Context, User};
use crate::segment::{Score, Segment};
use crate::targeting::{self, Memory, Page, Rules};

/// Whether any card has been shown on this page: at most one is shown by a trigger.
static SHOWN_ON_PAGE: AtomicBool = AtomicBool::new(false);

type Shared = Rc<RefCell<Widget>>;

/// The widgets started and not yet destroyed, by id.
struct Live(RefCell<Vec<(u32, Shared)>>);

// SAFETY: the wasm32 target this module is compiled for has no threads; the `RefCell` still
// checks every borrow.
unsafe impl Sync for Live {}

static LIVE: Live = Live(RefCell::new(Vec::new()));
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// The widget with this id, if it is alive.
pub(crate) fn live(id: u32) -> Option<Handle> {
    let list = LIVE.0.try_borrow().ok()?;
    list.iter()
        .find(|(i, _)| *i == id)
        .map(|(_, w)| Handle(w.clone()))
}

/// What the browser wakes a widget for (the `code` of a port call).
mod wake {
    // 0..=4: the card's acts, in `card.js`'s order.
    pub(super) const CHOOSE: u32 = 0;
    pub(super) const SUBMIT: u32 = 1;
    pub(super) const SKIP: u32 = 2;
    pub(super) const CLOSE: u32 = 3;
    pub(super) const REFERRAL: u32 = 4;
    /// Back online: send everything.
    pub(super) const ONLINE: u32 = 5;
    /// `pagehide` or `visibilitychange` (the text is the event's type).
    pub(super) const LEAVING: u32 = 6;
    pub(super) const SCROLL: u32 = 7;
    pub(super) const EXIT: u32 = 8;
    pub(super) const ROUTE: u32 = 9;
    /// Right after the constructor returned.
    pub(super) const STARTED: u32 = 10;
    /// The trigger's delay is over.
    pub(super) const SHOW: u32 = 11;
    /// A retry is due.
    pub(super) const RETRY: u32 = 12;
    /// The locale's strings arrived (the text; empty when they could not be fetched).
    pub(super) const STRINGS: u32 = 13;
    /// `SENT + n`: POST number `n` ended (the number is the status, the text `Retry-After`).
    pub(super) const SENT: u32 = 64;
}

/// The port: routes a browser call to its widget.
pub(crate) fn wake(id: u32, code: u32, number: u32, text: String) {
    let Some(h) = live(id) else {
        return;
    };
    match code {
        wake::CHOOSE..=wake::REFERRAL => h.act(match code {
            wake::CHOOSE => Act::Choose(number as u8),
            wake::SUBMIT => Act::Submit(text, number != 0),
            wake::SKIP => Act::Skip,
            wake::CLOSE => Act::Close,
            _ => Act::Referral,
        }),
        wake::ONLINE => h.run(|w, emits| w.flush(false, true, emits)),
        wake::LEAVING => h.page_leaving(&text),
        wake::SCROLL => h.run(|w, _| {
            w.page.scrolled = scrolled();
            w.consider();
        }),
        wake::EXIT => h.run(|w, _| {
            w.page.leaving = true;
            w.consider();
        }),
        wake::ROUTE => h.run(|w, _| {
            w.memory.page_views = w.memory.page_views.saturating_add(1);
            w.remember();
            w.consider();
        }),
        wake::STARTED => h.run(|w, emits| {
            w.flush(false, true, emits);
            let detail = object();
            set(&detail, "survey_id", &w.config.survey_id.as_str().into());
            emits.push(Emit::Event("ready", detail));
            w.consider();
        }),
        wake::SHOW => h.show(false),
        wake::RETRY => h.run(|w, emits| w.flush(false, false, emits)),
        wake::STRINGS => h.run(|w, emits| w.strings_loaded(&text, emits)),
        _ => h.run(|w, emits| {
            let n = code.wrapping_sub(wake::SENT);
            let Some(i) = w.flights.iter().position(|(f, _)| *f == n) else {
                return;
            };
            let (_, send) = w.flights.swap_remove(i);
            if let Some(p) = w.delivery.done(&send, number as u16, &text) {
                problem(emits, p);
            }
            w.flush(false, false, emits);
        }),
    }
}

/// What the site hears about, collected while the widget is borrowed and sent after.
enum Emit {
    Event(&'static str, JsValue),
}

/// The card on screen, when there is one: the JS object `card.js` drew and its host element
/// (site events are dispatched there). It reports actions through the port.
struct Card {
    js: JsValue,
    host: JsValue,
}

/// One `NpsWidget` instance.
pub(crate) struct Widget {
    /// The id the browser wakes this widget with.
    id: u32,
    config: Config,
    locale: String,
    strings: Strings,
    /// False while the locale's strings are being fetched; a show waits for them.
    strings_ready: bool,
    /// A show asked for while the strings were on their way (`Some(force)`).
    pending_show: Option<bool>,
    survey: Option<Survey>,
    card: Option<Card>,
    delivery: Delivery,
    /// POSTs under way, by number.
    flights: Vec<(u32, Send)>,
    next_flight: u32,
    /// The site's listeners (a JS `Map` the `NpsWidget` class fills).
    hub: JsValue,
    /// Page listeners and hooks (exit intent, route changes), and the start-up timer.
    watching: Vec<Off>,
    show_timer: Option<Off>,
    /// What we remember about this person for this survey (localStorage).
    memory: Memory,
    /// What the page is doing, for the trigger.
    page: Page,
    /// `?nps_preview=1`: targeting and throttling are off.
    preview: bool,
}

/// The handle the JS API holds.
#[derive(Clone)]
pub(crate) struct Handle(Shared);

impl Handle {
    /// Starts a widget for a validated config, with the site's listeners in `hub` and the page's
    /// port (see [`wake`]); flushes what earlier pages left in the outbox and arms the trigger.
    /// Returns the widget's id.
    pub(crate) fn start(config: Config, hub: JsValue, port: &JsValue) -> u32 {
        set_port(port);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let page = page_facts();
        let (html_lang, nav_lang) = (page[0].as_str(), page[1].as_str());
        let locale = choose_locale(
            &[config.locale.as_deref().unwrap_or(""), html_lang, nav_lang],
            &config.strings,
        );
        let strings = Strings::new(&locale, &config.product, &config.strings, None);
        let fetch = ships_as_file(&locale);
        let shared = Rc::new(RefCell::new(Widget {
            id,
            delivery: Delivery::new(&config),
            flights: Vec::new(),
            next_flight: 0,
            config,
            strings_ready: !fetch,
            pending_show: None,
            locale,
            strings,
            survey: None,
            card: None,
            hub,
            watching: vec![
                Off::listen(false, "online", id, wake::ONLINE),
                Off::listen(false, "pagehide", id, wake::LEAVING),
                Off::listen(true, "visibilitychange", id, wake::LEAVING),
            ],
            show_timer: None,
            memory: Memory::default(),
            page: Page::default(),
            preview: targeting::is_preview(&page[3]),
        }));
        if let Ok(mut live) = LIVE.0.try_borrow_mut() {
            live.push((id, shared.clone()));
        }
        let handle = Handle(shared);
        handle.run(|w, _| {
            if fetch {
                // A locale that is not built in: `dist/locales/<tag>.json`.
                fetch_locale(&w.locale, id, wake::STRINGS);
            }
            w.recall();
            w.watch();
            // What earlier pages left goes out right after this call returns, so listeners
            // added next (the loader replays queued `on` calls) hear about any problem, and
            // about `ready`; then the trigger is looked at. Kept with the watchers, not in the
            // retry slot, where an early flush (an `online` event) would replace it.
            w.watching.push(Off::later(0, id, wake::STARTED));
        });
        id
    }

    /// Runs `f` with the widget borrowed, then sends what it emitted. A re-entrant call (a site
    /// callback calling us while we are mid-update) is dropped rather than panicking.
    fn run(&self, f: impl FnOnce(&mut Widget, &mut Vec<Emit>)) {
        let Some((mut w, before)) = self.begin() else {
            return;
        };
        let mut emits = Vec::new();
        f(&mut w, &mut emits);
        Widget::send(w, before, emits);
    }

    /// The widget borrowed, and its card's host as it is before the update (so `dismiss` still
    /// reaches the host it is removing). Out of line: `run` is copied for each caller.
    #[inline(never)]
    fn begin(&self) -> Option<(core::cell::RefMut<'_, Widget>, Option<JsValue>)> {
        let w = self.0.try_borrow_mut().ok()?;
        let before = w.card.as_ref().map(|c| c.host.clone());
        Some((w, before))
    }

    fn page_leaving(&self, event: &str) {
        let hidden = event == "pagehide" || hidden();
        self.run(|w, emits| {
            let Some(survey) = w.survey.as_mut() else {
                if hidden {
                    w.flush(true, false, emits);
                }
                return;
            };
            if !hidden {
                survey.resume();
                return;
            }
            if survey.leave(now_iso()).is_some() {
                w.deliver(true, emits);
            }
            w.flush(true, false, emits);
        });
    }

    /// Shows the card now (mounting it if needed), unless targeting says no; `force` (or a
    /// preview) skips targeting.
    pub(crate) fn show(&self, force: bool) {
        self.run(|w, emits| w.show(force, emits));
    }

    /// Hides the card without counting it as an answer or a dismissal.
    pub(crate) fn hide(&self) {
        self.run(|w, _| w.unmount(false));
    }

    /// Removes every node, listener and timer this widget added. The outbox stays: what was
    /// answered is still delivered, by this page's next widget or the next page.
    pub(crate) fn destroy(&self) {
        let mut id = 0;
        self.run(|w, _| {
            w.unmount(false);
            w.watching.clear();
            w.show_timer = None;
            w.delivery.set_timer(None);
            w.hub = JsValue::NULL;
            id = w.id;
        });
        // Dropped after the borrow ends; `self` still holds the widget here.
        let gone = LIVE.0.try_borrow_mut().ok().and_then(|mut live| {
            let i = live.iter().position(|(i, _)| *i == id)?;
            Some(live.swap_remove(i))
        });
        drop(gone);
    }

    /// Sets who is answering, for this and later responses.
    pub(crate) fn identify(&self, user: User) {
        self.run(|w, _| {
            let same_person = w.config.user.id == user.id;
            w.config.user = user.clone();
            if !same_person {
                w.recall();
            }
            if let Some(s) = w.survey.as_mut() {
                s.identify(user);
            }
        });
    }

    /// Reports a problem the way every other problem is reported.
    pub(crate) fn report(&self, message: &str) {
        self.run(|_, emits| error(emits, message, None));
    }

    fn act(&self, act: Act) {
        self.run(|w, emits| w.act(act, emits));
    }
}

/// What a click or key on the card asks for.
enum Act {
    Choose(u8),
    Submit(String, bool),
    Skip,
    Close,
    Referral,
}

impl Widget {
    /// Sends what a [`Handle::run`] emitted, after releasing the borrow (kept out of `run`,
    /// which is copied for each caller).
    #[inline(never)]
    fn send(w: core::cell::RefMut<'_, Widget>, before: Option<JsValue>, emits: Vec<Emit>) {
        if emits.is_empty() {
            return;
        }
        let host = w.card.as_ref().map(|c| c.host.clone()).or(before);
        let (hub, host) = (w.hub.clone(), host.unwrap_or(JsValue::NULL));
        drop(w);
        for Emit::Event(name, detail) in emits {
            emit(&hub, &host, name, &detail);
        }
    }

    fn rules(&self) -> Rules {
        Rules {
            sample_rate: self.config.sample_rate,
            recontact_days: self.config.recontact_days,
            dismiss_cooldown_days: self.config.dismiss_cooldown_days,
        }
    }

    /// Where this person's memory for this survey is kept.
    fn memory_key(&self) -> String {
        let mut key = String::from("nps-widget:memory:");
        key.push_str(&self.config.survey_id);
        key.push(':');
        key.push_str(self.config.user.id.as_deref().unwrap_or("-"));
        key
    }

    /// Loads what we remember (for the current user), counts this page view, decides sampling
    /// once, and stores it back.
    fn recall(&mut self) {
        self.memory = Memory::decode(&load(&self.memory_key()).unwrap_or_default());
        self.memory.page_views = self.memory.page_views.saturating_add(1);
        let rules = self.rules();
        targeting::sample(&mut self.memory, &rules, random());
        self.remember();
    }

    fn remember(&self) {
        store(&self.memory_key(), &self.memory.encode());
    }

    /// Watches what the trigger needs: scrolling, exit intent, in-app route changes.
    fn watch(&mut self) {
        let (trigger, id) = (self.config.trigger, self.id);
        if matches!(trigger, Trigger::Scroll(_)) {
            self.watching
                .push(Off::listen(false, "scroll", id, wake::SCROLL));
        }
        if trigger == Trigger::ExitIntent {
            self.watching.push(Off::exit(id, wake::EXIT));
        }
        self.watching.push(Off::routes(id, wake::ROUTE));
    }

    /// Arms the show timer when the trigger has fired and targeting allows it.
    fn consider(&mut self) {
        if self.card.is_some() || self.show_timer.is_some() {
            return;
        }
        if matches!(self.config.trigger, Trigger::Scroll(_)) && self.page.scrolled == 0.0 {
            self.page.scrolled = scrolled();
        }
        if !targeting::fired(self.config.trigger, self.memory.page_views, &self.page)
            || !self.allowed()
        {
            return;
        }
        self.show_timer = Some(Off::later(self.config.delay_ms, self.id, wake::SHOW));
    }

    /// Whether targeting and throttling allow a card now (a preview or `force` config skips
    /// them).
    fn allowed(&self) -> bool {
        self.config.force
            || self.preview
            || targeting::may_show(
                &self.memory,
                &self.rules(),
                now_ms(),
                SHOWN_ON_PAGE.load(Ordering::Relaxed),
            )
            .is_ok()
    }

    /// The fetched strings arrived (or did not: then English, and an `error` event).
    fn strings_loaded(&mut self, text: &str, emits: &mut Vec<Emit>) {
        match strings_of(text) {
            Some(list) => {
                self.strings = Strings::new(
                    &self.locale,
                    &self.config.product,
                    &self.config.strings,
                    Some(list),
                )
            }
            None => {
                let mut m = String::from("could not load the strings of \"");
                m.push_str(&self.locale);
                m.push_str("\", showing English");
                error(emits, &m, None);
                self.locale = String::from("en");
            }
        }
        self.strings_ready = true;
        if let Some(force) = self.pending_show.take() {
            self.show(force, emits);
        }
    }

    fn show(&mut self, force: bool, emits: &mut Vec<Emit>) {
        self.show_timer = None;
        if !self.strings_ready {
            self.pending_show = Some(force || self.pending_show.unwrap_or(false));
            return;
        }
        if self.card.is_some() || !(force || self.allowed()) {
            return;
        }
        let survey = Survey::new(
            uuid_v4(random_bytes()),
            &self.config.survey_id,
            self.config.user.clone(),
            page_context(self.config.include_query, &self.locale),
            now_iso(),
        );
        if !self.mount(emits) {
            return;
        }
        let detail = object();
        set(&detail, "id", &survey.response().id.as_str().into());
        set(&detail, "survey_id", &self.config.survey_id.as_str().into());
        self.survey = Some(survey);
        SHOWN_ON_PAGE.store(true, Ordering::Relaxed);
        self.render();
        emits.push(Emit::Event("shown", detail));
    }

    /// Mounts the card frame. False (with an error event) when an inline target is missing.
    fn mount(&mut self, emits: &mut Vec<Emit>) -> bool {
        let target = match &self.config.position {
            Position::Inline(selector) => selector.as_str(),
            _ => "",
        };
        let position = match self.config.position {
            Position::BottomRight => "bottom-right",
            Position::BottomLeft => "bottom-left",
            Position::Modal => "modal",
            Position::Inline(_) => "inline",
        };
        let theme = match self.config.theme {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        };
        let mut css = String::new();
        if !self.config.style.is_empty() {
            css.push_str(":host{");
            for (name, value) in &self.config.style {
                css.push_str("--nps-");
                for c in name.chars() {
                    css.push(if c == '_' { '-' } else { c });
                }
                css.push(':');
                css.push_str(value);
                css.push(';');
            }
            css.push('}');
        }
        // One NUL-joined string: a NUL in a site's text would be dropped by the page anyway.
        // (Written out here and for the headers in `Delivery::new`: a shared helper measured
        // 310 B gzip more, its generic code copied per caller.)
        let mut texts = String::new();
        for (i, t) in Text::ALL.iter().enumerate() {
            if i > 0 {
                texts.push('\0');
            }
            for part in crate::text::parts(&self.strings.get(*t), 0) {
                texts.push_str(part);
            }
        }
        let js = card::mount(
            target,
            position,
            theme,
            &css,
            &self.locale,
            is_rtl(&self.locale),
            &texts,
            &actor(self.id),
        );
        if js.is_null() {
            let mut m = String::from("target \"");
            m.push_str(target);
            m.push_str("\" matches no element");
            error(emits, &m, None);
            return false;
        }
        self.card = Some(Card {
            host: card::host(&js),
            js,
        });
        true
    }

    /// Removes the card; `animate` when the person closed it (not on `hide()`/`destroy()`).
    fn unmount(&mut self, animate: bool) {
        if let Some(card) = self.card.take() {
            card::unmount(&card.js, animate);
        }
    }

    fn render(&mut self) {
        let (Some(card), Some(survey)) = (&self.card, &self.survey) else {
            return;
        };
        let (step, segment) = match survey.step() {
            Step::Asking => (0, Segment::Silent),
            Step::FollowUp(segment) => (1, segment),
            Step::Thanks(segment) => (2, segment),
            Step::Closed => return,
        };
        let referral = self.config.referral.as_ref().filter(|r| r.asks(segment));
        let segment = match segment {
            Segment::Promoter => 0,
            Segment::Passive => 1,
            _ => 2,
        };
        card::draw(
            &card.js,
            step,
            segment,
            self.config.contact_consent,
            referral.map_or("", |r| r.url.as_str()),
            referral.and_then(|r| r.text.as_deref()).unwrap_or(""),
        );
    }
    fn act(&mut self, act: Act, emits: &mut Vec<Emit>) {
        let Some(survey) = self.survey.as_mut() else {
            return;
        };
        let now = now_iso();
        let redraw = !matches!(act, Act::Close | Act::Referral);
        let (delivered, event) = match act {
            Act::Choose(n) => {
                let Ok(score) = Score::new(i64::from(n)) else {
                    return;
                };
                survey.resume();
                self.memory.answered_ms = Some(now_ms());
                (survey.choose(score, now).is_some(), "score")
            }
            Act::Submit(comment, consent) => {
                (survey.submit(&comment, consent, now).is_some(), "complete")
            }
            Act::Skip => (survey.skip(now).is_some(), "complete"),
            Act::Referral => (survey.referral_clicked().is_some(), "referral"),
            Act::Close => {
                let sent = survey.close(now).is_some();
                if sent {
                    self.memory.dismissed_ms = Some(now_ms());
                }
                self.unmount(true);
                (sent, "dismiss")
            }
        };
        self.remember();
        if delivered {
            let detail = self.deliver(hidden(), emits);
            emits.push(Emit::Event(event, detail));
        }
        if redraw {
            self.render();
        }
    }

    /// Queues the survey's response as it stands in the outbox and starts sending it; with
    /// `leaving` (the page is being hidden or unloaded) at once, with `keepalive`. Returns the
    /// JS object the body was made from, which is also what event listeners receive.
    fn deliver(&mut self, leaving: bool, emits: &mut Vec<Emit>) -> JsValue {
        let Some(survey) = &self.survey else {
            return JsValue::NULL;
        };
        let response = survey.response();
        let object = to_js(response);
        let body = to_json(&object);
        for p in self.delivery.queue(&response.id, response.rank(), body) {
            problem(emits, p);
        }
        self.flush(leaving, false, emits);
        object
    }

    /// Sends what is due; with `now_all` (start-up, back online) every entry whatever its
    /// backoff; with `keepalive` everything waiting, as the page goes away.
    fn flush(&mut self, keepalive: bool, now_all: bool, emits: &mut Vec<Emit>) {
        let mut problems = Vec::new();
        let sends = self.delivery.due(keepalive, now_all, &mut problems);
        for p in problems {
            problem(emits, p);
        }
        for send in sends {
            let n = self.next_flight;
            self.next_flight = n.wrapping_add(1) % 0x00ff_ffff;
            self.delivery
                .start(&send, keepalive, self.id, wake::SENT + n);
            self.flights.push((n, send));
        }
        self.arm_retry();
    }

    fn arm_retry(&mut self) {
        let timer = self
            .delivery
            .next_wait()
            .map(|wait| Off::later(wait as u32 + 1, self.id, wake::RETRY));
        self.delivery.set_timer(timer);
    }
}

fn problem(emits: &mut Vec<Emit>, p: Problem) {
    error(emits, &p.message, p.status);
}

/// An `error` event and one console line, prefixed so site owners can search for it.
fn error(emits: &mut Vec<Emit>, message: &str, status: Option<u16>) {
    let mut line = String::from("nps-widget: ");
    line.push_str(message);
    log(&line);
    let detail = object();
    set(&detail, "message", &message.into());
    if let Some(s) = status {
        set(&detail, "status", &JsValue::from(s));
    }
    emits.push(Emit::Event("error", detail));
}

/// What `Context` needs from the page's address, now (in-app routes change it).
fn page_context(include_query: bool, locale: &str) -> Context {
    let mut page = page_facts();
    let mut url = core::mem::take(&mut page[2]);
    if include_query {
        url.push_str(&page[3]);
    }
    let referrer = core::mem::take(&mut page[4]);
    Context {
        url,
        locale: locale.into(),
        referrer: Some(referrer).filter(|r| !r.is_empty()),
    }
}
