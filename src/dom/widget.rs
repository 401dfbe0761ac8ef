//! One widget instance in the page: mounts the card, turns what the person does into
//! [`Survey`] events, renders the next step, hands deliveries to the outbox and tells the site
//! through events.
//!
//! A widget lives in [`LIVE`] from its start until `destroy()`; the JS class holds its id (a
//! slot, as Ruffle's web crate holds its players). Its listeners, timers and the card are values
//! it owns, each holding only a weak handle back: dropping the widget removes them all, and a
//! callback that fires for a widget already gone does nothing. Site callbacks run after our
//! borrow is released, so a callback may call back into the widget.

use std::cell::{Cell, RefCell, RefMut};
use std::rc::{Rc, Weak};

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use js_sys::Map;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event, EventTarget, MouseEvent};

use super::bindings::{
    address, after, document, emit, fetch_definition, fetch_locale, hidden, is_touch, listen, load,
    log, now_iso, now_ms, page, performance_now, random, random_bytes, scroll_y, scrolled, store,
    unstore, watch_history, window, Fetched,
};
use super::card::{Act, Card, Frame, Leaving};
use super::convert::{from_js, to_js};
use super::delivery::{Attempt, Delivery, Problem, Send};
use crate::config::{self, Config, Position, Source, Theme, Trigger, Value};
use crate::flow::{Step, Survey};
use crate::i18n::{choose_locale, is_rtl, ships_as_file, Strings};
use crate::response::{uuid_v4, Context, User};
use crate::segment::Score;
use crate::targeting::{self, Facts, Memory, Page, Rules};
use crate::why;
use crate::wire::Field;

type Shared = Rc<RefCell<Widget>>;

thread_local! {
    /// The widgets started and not yet destroyed, by id.
    static LIVE: RefCell<Vec<(u32, Shared)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
    /// Whether any card has been shown on this page: at most one is shown by a trigger.
    static SHOWN_ON_PAGE: Cell<bool> = const { Cell::new(false) };
}

/// The widget with this id, if it is alive.
pub(crate) fn live(id: u32) -> Option<Handle> {
    LIVE.with(|live| {
        let list = live.try_borrow().ok()?;
        list.iter()
            .find(|(i, _)| *i == id)
            .map(|(_, w)| Handle(w.clone()))
    })
}

/// What the site hears about, collected while the widget is borrowed and sent after.
struct Emit {
    name: &'static str,
    detail: JsValue,
}

type Emits = Vec<Emit>;

/// One `NpsWidget` instance.
pub(crate) struct Widget {
    id: u32,
    /// Itself, for the callbacks it hands out.
    this: Weak<RefCell<Widget>>,
    config: Config,
    locale: String,
    strings: Strings,
    /// False while the locale's strings are being fetched; a show waits for them.
    strings_ready: bool,
    /// A show asked for while the strings were on their way (`Some(force)`).
    pending_show: Option<bool>,
    survey: Option<Survey>,
    card: Option<Card>,
    /// The card the person closed, fading out.
    leaving: Option<Leaving>,
    delivery: Delivery,
    /// The site's listeners (a JS `Map` of event name → functions, filled by the `NpsWidget`
    /// class).
    hub: Map,
    /// Page listeners: online, leaving, and what the trigger watches.
    listeners: Vec<EventListener>,
    /// Right after start-up: flush what earlier pages left, `ready`, the first trigger check.
    started: Option<Timeout>,
    /// The trigger's delay.
    show_timer: Option<Timeout>,
    /// The next retry of the outbox.
    retry_timer: Option<Timeout>,
    /// What we remember about this person for this survey (localStorage).
    memory: Memory,
    /// What the page is doing, for the trigger.
    page: Page,
    /// `?nps_preview=1`: targeting and throttling are off.
    preview: bool,
    /// `debug` or `?nps_debug=1`: say on the console why the card shows or not.
    debug: bool,
    /// The last line said, so a decision taken again (a scroll, a route change) is said once.
    said: String,
    /// The event last tracked, for the `shown` line.
    event: String,
    /// The page's config as given, kept until a survey's definition (`survey_url`) is merged
    /// over it.
    given: Option<Given>,
    /// The version of the survey's definition the config came from.
    survey_version: Option<u32>,
    /// The survey is paused (or its definition could not be had): no card.
    paused: bool,
    /// Events tracked while the definition was on its way, counted once it is here.
    early: Vec<String>,
    /// When another survey of this site last asked this person (read by `recall`).
    other_asked_ms: Option<f64>,
}

/// A config as the page gave it, and how it was written.
pub(crate) type Given = (Value, Source);

/// The handle the JS API holds.
#[derive(Clone)]
pub(crate) struct Handle(Shared);

/// What callbacks hold: the widget if it still lives.
#[derive(Clone)]
struct WeakHandle(Weak<RefCell<Widget>>);

impl WeakHandle {
    fn run(&self, f: impl FnOnce(&mut Widget, &mut Emits)) {
        if let Some(widget) = self.0.upgrade() {
            Handle(widget).run(f);
        }
    }
}

impl Handle {
    /// Starts a widget for a validated config, with the site's listeners in `hub`; flushes
    /// what earlier pages left in the outbox and arms the trigger. Returns its id, or why it
    /// cannot start.
    pub(crate) fn start(config: Config, given: Given, hub: Map) -> Result<u32, &'static str> {
        if window().is_none() || document().is_none() {
            return Err("create() needs a browser page with a document");
        }
        let id = NEXT_ID.with(|n| n.replace(n.get().wrapping_add(1)));
        let query = page().query;
        let config_debug = config.debug;
        let shared = Rc::new_cyclic(|this| {
            RefCell::new(Widget {
                id,
                this: this.clone(),
                delivery: Delivery::new(&config),
                strings_ready: false,
                pending_show: None,
                locale: String::new(),
                strings: Strings::new("en", &config.product, &config.strings, None),
                config,
                survey: None,
                card: None,
                leaving: None,
                hub,
                listeners: Vec::new(),
                started: None,
                show_timer: None,
                retry_timer: None,
                memory: Memory::default(),
                page: Page::default(),
                preview: targeting::is_preview(&query),
                debug: config_debug || targeting::is_debug(&query),
                said: String::new(),
                event: String::new(),
                given: None,
                survey_version: None,
                paused: false,
                early: Vec::new(),
                other_asked_ms: None,
            })
        });
        LIVE.with(|live| {
            if let Ok(mut live) = live.try_borrow_mut() {
                live.push((id, shared.clone()));
            }
        });
        Handle(shared).run(|w, emits| match w.config.survey_url.clone() {
            // The survey the team manages: its definition first, then the rest.
            Some(url) => {
                w.given = Some(given);
                let (weak, timeout) = (w.weak(), w.config.timeout_ms);
                spawn_local(async move {
                    let fetched = fetch_definition(&url, timeout).await;
                    weak.run(|w, emits| w.definition_loaded(&url, fetched, emits));
                });
            }
            None => w.begin(emits),
        });
        Ok(id)
    }

    /// Runs `f` with the widget borrowed, then sends what it emitted. A re-entrant call (a site
    /// callback calling us while we are mid-update) is dropped rather than panicking.
    fn run(&self, f: impl FnOnce(&mut Widget, &mut Emits)) {
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
    fn begin(&self) -> Option<(RefMut<'_, Widget>, Option<Element>)> {
        let w = self.0.try_borrow_mut().ok()?;
        let before = w.card.as_ref().map(|c| c.host().clone());
        Some((w, before))
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
            w.leaving = None;
            w.listeners.clear();
            w.started = None;
            w.show_timer = None;
            w.retry_timer = None;
            w.hub = Map::new();
            id = w.id;
        });
        // Dropped after the borrow ends; `self` still holds the widget here.
        let gone = LIVE.with(|live| {
            let mut live = live.try_borrow_mut().ok()?;
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
            // (While a survey's definition is on its way, `begin` recalls, under its id.)
            if !same_person && w.given.is_none() {
                w.recall();
            }
            if let Some(s) = w.survey.as_mut() {
                s.identify(user);
            }
        });
    }

    /// Counts an event of the config's `events` (`trigger: "event"`; other triggers ignore it)
    /// in this person's memory, across page loads, and looks at the trigger again.
    pub(crate) fn track(&self, name: String) {
        self.run(|w, _| w.track(name));
    }

    /// Reports a problem the way every other problem is reported.
    pub(crate) fn report(&self, message: &str) {
        self.run(|_, emits| error(emits, message, None));
    }
}

impl Widget {
    /// Counts an event of the config's `events` (`trigger: "event"`); one tracked while the
    /// survey's definition is on its way is counted when it is here.
    fn track(&mut self, name: String) {
        if self.given.is_some() {
            self.early.push(name);
        } else if matches!(self.config.trigger, Trigger::Event(_))
            && self.config.events.contains(&name)
        {
            self.memory.events = self.memory.events.saturating_add(1);
            self.event = name;
            self.remember();
            self.consider();
        }
    }

    /// Sends what a [`Handle::run`] emitted, after releasing the borrow (kept out of `run`,
    /// which is copied for each caller).
    #[inline(never)]
    fn send(w: RefMut<'_, Widget>, before: Option<Element>, emits: Emits) {
        if emits.is_empty() {
            return;
        }
        let host = w.card.as_ref().map(|c| c.host().clone()).or(before);
        let hub = w.hub.clone();
        drop(w);
        for Emit { name, detail } in emits {
            emit(&hub, host.as_ref(), name, &detail);
        }
    }

    /// Picks the locale and its strings (fetching a locale that ships as a file), remembers
    /// this page view, listens, and right after this call returns flushes what earlier pages
    /// left, says `ready` and looks at the trigger.
    fn begin(&mut self, emits: &mut Emits) {
        // Memory first: a show() the page asked for while the definition was on its way is
        // judged by what this person did.
        self.recall();
        self.watch();
        let facts = page();
        self.locale = choose_locale(
            &[
                self.config.locale.as_deref().unwrap_or(""),
                &facts.html_lang,
                &facts.browser_lang,
            ],
            &self.config.strings,
        );
        self.strings = Strings::new(
            &self.locale,
            &self.config.product,
            &self.config.strings,
            None,
        );
        if ships_as_file(&self.locale) {
            // A locale that is not built in: `locales/<tag>.json` next to the module.
            let (weak, locale) = (self.weak(), self.locale.clone());
            spawn_local(async move {
                let list = fetch_locale(&locale).await;
                weak.run(|w, emits| w.strings_loaded(list, emits));
            });
        } else {
            self.strings_ready = true;
            if let Some(force) = self.pending_show.take() {
                self.show(force, emits);
            }
        }
        // What earlier pages left goes out right after this call returns, so listeners added
        // next (the loader replays queued `on` calls) hear about any problem, and about
        // `ready`; then the trigger is looked at.
        self.started = Some(self.after(0, |w, emits| {
            w.started = None;
            w.flush(false, true, emits);
            let detail = to_js(&Field::Object(vec![(
                "survey_id",
                Field::Text(&w.config.survey_id),
            )]));
            emits.push(Emit {
                name: "ready",
                detail,
            });
            w.consider();
        }));
    }

    /// The survey's definition came (or not): merged over the page's config, then the widget
    /// begins. Kept in localStorage, it stands in when the collector cannot be reached; a
    /// paused survey shows nothing; without any, no card and one `error` naming the URL.
    fn definition_loaded(&mut self, url: &str, fetched: Fetched, emits: &mut Emits) {
        let mut key = String::from("nps-widget:survey:");
        key.push_str(url);
        let body = match fetched {
            Fetched::Body(body) => {
                store(&key, &body);
                Some(body)
            }
            Fetched::Refused => {
                unstore(&key);
                None
            }
            Fetched::Unreachable => load(&key),
        };
        let read = body
            .and_then(|b| js_sys::JSON::parse(&b).ok())
            .map(|v| from_js(&v))
            .and_then(definition_of);
        let given = self.given.take();
        let merged = match (read, given) {
            (Some((id, version, paused, definition)), Some((page, source))) => {
                match config::parse(&config::merge(page, definition, &id), source) {
                    Ok(config) => {
                        self.survey_version = Some(version);
                        self.paused = paused;
                        Some(config)
                    }
                    Err(e) => {
                        error(emits, e.message(), None);
                        None
                    }
                }
            }
            _ => {
                let mut m = String::from("could not load the survey definition from \"");
                m.push_str(url);
                m.push('"');
                error(emits, &m, None);
                None
            }
        };
        match merged {
            Some(mut config) => {
                // Who answers is the page's (user is page-only), as identify() may have set it.
                config.user = core::mem::take(&mut self.config.user);
                self.delivery = Delivery::new(&config);
                self.config = config;
            }
            None => self.paused = true,
        }
        self.begin(emits);
        for name in core::mem::take(&mut self.early) {
            self.track(name);
        }
    }

    fn weak(&self) -> WeakHandle {
        WeakHandle(self.this.clone())
    }

    /// A timer that runs `f` on this widget, if it still lives then.
    fn after(&self, ms: u32, f: impl FnOnce(&mut Widget, &mut Emits) + 'static) -> Timeout {
        let weak = self.weak();
        after(ms, move || weak.run(f))
    }

    /// A listener that runs `f` on this widget.
    fn listen(
        &self,
        target: &EventTarget,
        kind: &'static str,
        mut f: impl FnMut(&mut Widget, &Event, &mut Emits) + 'static,
    ) -> EventListener {
        let weak = self.weak();
        listen(target, kind, move |event| {
            weak.run(|w, emits| f(w, event, emits))
        })
    }

    /// Where this person's memory for this survey is kept (`js/gate.js` reads it too).
    fn memory_key(&self) -> String {
        let mut key = String::from("nps-widget:memory:");
        key.push_str(&self.config.survey_id);
        key.push(':');
        key.push_str(self.user_key());
        key
    }

    fn user_key(&self) -> &str {
        self.config.user.id.as_deref().unwrap_or("-")
    }

    /// Where the site keeps which survey last asked this person, and when (any survey id).
    fn asked_key(&self) -> String {
        let mut key = String::from("nps-widget:asked:");
        key.push_str(self.user_key());
        key
    }

    /// Loads what we remember (for the current user), counts this page view, decides sampling
    /// once, and stores it back.
    fn recall(&mut self) {
        self.memory = Memory::decode(&load(&self.memory_key()).unwrap_or_default());
        self.memory.page_views = self.memory.page_views.saturating_add(1);
        self.memory.first_seen_ms.get_or_insert_with(now_ms);
        // Read once a view: within a page, one card at most is shown anyway.
        self.other_asked_ms = load(&self.asked_key())
            .and_then(|record| targeting::other_asked(&record, &self.config.survey_id));
        targeting::sample(&mut self.memory, &Rules::of(&self.config), random());
        self.remember();
    }

    /// Stores what we remember, with what follows from it for the script-tag loader: until
    /// when this person will not be asked by this survey (`q=`, the quiet path's gate, which
    /// `js/gate.js` reads), or nothing when they may be.
    fn remember(&mut self) {
        self.memory.quiet_ms = targeting::quiet_until(
            &self.memory,
            &Rules::of(&self.config),
            now_ms(),
            self.other_asked_ms,
        );
        store(&self.memory_key(), &self.memory.encode());
    }

    /// Listens to what delivery needs (back online, the page going away) and what the trigger
    /// needs (scrolling, exit intent, in-app route changes).
    fn watch(&mut self) {
        let (Some(window), Some(document)) = (window(), document()) else {
            return;
        };
        let mut listeners = vec![
            self.listen(&window, "online", |w, _, emits| w.flush(false, true, emits)),
            self.listen(&window, "pagehide", |w, _, emits| {
                w.page_leaving(true, emits)
            }),
            self.listen(&document, "visibilitychange", |w, _, emits| {
                w.page_leaving(hidden(), emits)
            }),
        ];
        match self.config.trigger {
            Trigger::Scroll(_) => listeners.push(self.listen(&window, "scroll", |w, _, _| {
                w.page.scrolled = scrolled();
                w.consider();
            })),
            Trigger::ExitIntent => {
                // The pointer leaving through the top of the window…
                listeners.push(self.listen(&document, "mouseout", |w, event, _| {
                    let event = event.unchecked_ref::<MouseEvent>();
                    let toward_top = event.related_target().is_none() && event.client_y() <= 0;
                    if toward_top {
                        w.exit_intent();
                    }
                }));
                // …or, on a touch screen, a fast scroll back up (1.5 px/ms).
                if is_touch() {
                    let (mut y, mut t) = (scroll_y(), performance_now());
                    listeners.push(self.listen(&window, "scroll", move |w, _, _| {
                        let (now_y, now_t) = (scroll_y(), performance_now());
                        if y - now_y > 1.5 * (now_t - t).max(1.0) {
                            w.exit_intent();
                        }
                        (y, t) = (now_y, now_t);
                    }));
                }
            }
            _ => {}
        }
        watch_history();
        for kind in ["popstate", "nps:navigate"] {
            listeners.push(self.listen(&window, kind, |w, _, _| {
                w.memory.page_views = w.memory.page_views.saturating_add(1);
                w.remember();
                w.consider();
            }));
        }
        self.listeners.extend(listeners);
    }

    fn exit_intent(&mut self) {
        self.page.leaving = true;
        self.consider();
    }

    /// Arms the show timer when the trigger has fired and targeting allows it.
    fn consider(&mut self) {
        if self.card.is_some() || self.show_timer.is_some() {
            return;
        }
        if matches!(self.config.trigger, Trigger::Scroll(_)) && self.page.scrolled == 0.0 {
            self.page.scrolled = scrolled();
        }
        if self.allowed(true) {
            self.show_timer =
                Some(self.after(self.config.delay_ms, |w, emits| w.show(false, emits)));
        }
    }

    /// Whether targeting and throttling allow a card now, the trigger too with `trigger` (a
    /// preview or `force` config skips them all); with debug on, says which rule did not.
    fn allowed(&mut self, trigger: bool) -> bool {
        if self.preview {
            return true;
        }
        if self.paused {
            if self.debug {
                self.say(String::from("nps-widget: not shown: the survey is paused"));
            }
            return false;
        }
        if self.config.force {
            return true;
        }
        let (address, path_at) = address();
        let path = address.get(path_at..).unwrap_or("");
        let decision = targeting::decide(
            &self.config,
            &self.memory,
            &Facts {
                now_ms: now_ms(),
                shown_on_page: SHOWN_ON_PAGE.with(Cell::get),
                other_asked_ms: self.other_asked_ms,
                path,
                address: &address,
                page: self.page,
            },
            trigger,
        );
        if let Err(skip) = decision {
            if self.debug {
                self.say(why::not_shown(&skip, &self.config, &self.memory, path));
            }
        }
        decision.is_ok()
    }

    /// One `console.info` line, unless it is the line said last.
    fn say(&mut self, line: String) {
        if line != self.said {
            super::bindings::info(&line);
            self.said = line;
        }
    }

    /// The fetched strings arrived (or did not: then English, and an `error` event).
    fn strings_loaded(&mut self, list: Option<Vec<String>>, emits: &mut Emits) {
        match list {
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

    /// `pagehide` (`hidden` is then true) or `visibilitychange`: a card left open becomes a
    /// silent response, and everything waiting goes out with `keepalive`.
    fn page_leaving(&mut self, hidden: bool, emits: &mut Emits) {
        let Some(survey) = self.survey.as_mut() else {
            if hidden {
                self.flush(true, false, emits);
            }
            return;
        };
        if !hidden {
            survey.resume();
            return;
        }
        if survey.leave(now_iso()).is_some() {
            self.deliver(true, emits);
        }
        self.flush(true, false, emits);
    }

    fn show(&mut self, force: bool, emits: &mut Emits) {
        self.show_timer = None;
        if !self.strings_ready {
            self.pending_show = Some(force || self.pending_show.unwrap_or(false));
            return;
        }
        if self.card.is_some() || !(force && !self.paused || self.allowed(false)) {
            return;
        }
        let survey = Survey::new(
            uuid_v4(random_bytes()),
            &self.config.survey_id,
            self.config.user.clone(),
            page_context(self.config.include_query, &self.locale),
            now_iso(),
        )
        .of_version(self.survey_version);
        if !self.mount(emits) {
            return;
        }
        let detail = to_js(&Field::Object(vec![
            ("id", Field::Text(&survey.response().id)),
            ("survey_id", Field::Text(&self.config.survey_id)),
        ]));
        self.survey = Some(survey);
        SHOWN_ON_PAGE.with(|shown| shown.set(true));
        if self.debug {
            let forced = force || self.config.force || self.preview;
            self.say(why::shown(&self.config, forced, &self.event));
        }
        if !self.preview {
            // Asked: other surveys of the site wait `wait_days_between_surveys`, and the
            // events count again from here.
            store(
                &self.asked_key(),
                &targeting::asked_record(now_ms(), &self.config.survey_id),
            );
            self.other_asked_ms = None;
            self.memory.events = 0;
            self.remember();
        }
        self.render();
        emits.push(Emit {
            name: "shown",
            detail,
        });
        if let Some(n) = self.config.score {
            self.act(Act::Choose(n), emits);
        }
    }

    /// Mounts the card frame. False (with an error event) when an inline target is missing.
    fn mount(&mut self, emits: &mut Emits) -> bool {
        let target = match &self.config.position {
            Position::Inline(selector) => Some(selector.as_str()),
            _ => None,
        };
        let mut style = String::new();
        if !self.config.style.is_empty() {
            style.push_str(":host{");
            for (name, value) in &self.config.style {
                style.push_str("--nps-");
                for c in name.chars() {
                    style.push(if c == '_' { '-' } else { c });
                }
                style.push(':');
                style.push_str(value);
                style.push(';');
            }
            style.push('}');
        }
        let frame = Frame {
            target,
            position: match self.config.position {
                Position::BottomRight => "bottom-right",
                Position::BottomLeft => "bottom-left",
                Position::Modal => "modal",
                Position::Inline(_) => "inline",
            },
            theme: match self.config.theme {
                Theme::Auto => "auto",
                Theme::Light => "light",
                Theme::Dark => "dark",
            },
            style: &style,
            lang: &self.locale,
            rtl: is_rtl(&self.locale),
        };
        let weak = self.weak();
        let card = Card::mount(&frame, &self.strings, move |act| {
            weak.run(|w, emits| w.act(act, emits))
        });
        match card {
            Some(card) => {
                self.card = Some(card);
                true
            }
            None => {
                let mut m = String::from("target \"");
                m.push_str(target.unwrap_or("body"));
                m.push_str("\" matches no element");
                error(emits, &m, None);
                false
            }
        }
    }

    /// Removes the card; `animate` when the person closed it (not on `hide()`/`destroy()`).
    fn unmount(&mut self, animate: bool) {
        if let Some(card) = self.card.take() {
            self.leaving = card.unmount(animate);
        }
    }

    fn render(&mut self) {
        let (Some(card), Some(survey)) = (&mut self.card, &self.survey) else {
            return;
        };
        let step = survey.step();
        let referral = match step {
            Step::Thanks(segment) => self.config.referral.as_ref().filter(|r| r.asks(segment)),
            _ => None,
        };
        card.draw(
            step,
            &self.strings,
            self.config.contact_consent,
            referral.map(|r| (r.url.as_str(), r.text.as_deref().unwrap_or(""))),
        );
    }

    fn act(&mut self, act: Act, emits: &mut Emits) {
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
            Act::Submit { comment, consent } => {
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
            emits.push(Emit {
                name: event,
                detail,
            });
        }
        if redraw {
            self.render();
        }
    }

    /// Queues the survey's response as it stands in the outbox and starts sending it; with
    /// `leaving` (the page is being hidden or unloaded) at once, with `keepalive`. Returns the
    /// JS object the body was made from, which is also what event listeners receive.
    fn deliver(&mut self, leaving: bool, emits: &mut Emits) -> JsValue {
        let Some(survey) = &self.survey else {
            return JsValue::NULL;
        };
        let response = survey.response();
        let object = to_js(response);
        let body = js_sys::JSON::stringify(&object)
            .map(String::from)
            .unwrap_or_default();
        for p in self.delivery.queue(&response.id, response.rank(), body) {
            problem(emits, p);
        }
        self.flush(leaving, false, emits);
        object
    }

    /// Sends what is due; with `now_all` (start-up, back online) every entry whatever its
    /// backoff; with `keepalive` everything waiting, as the page goes away.
    fn flush(&mut self, keepalive: bool, now_all: bool, emits: &mut Emits) {
        let mut problems = Vec::new();
        let sends = self.delivery.due(keepalive, now_all, &mut problems);
        for p in problems {
            problem(emits, p);
        }
        for send in sends {
            let attempt = self.delivery.attempt(&send, keepalive);
            let weak = self.weak();
            spawn_local(async move {
                let attempt = attempt.await;
                weak.run(|w, emits| w.sent(&send, attempt, emits));
            });
        }
        self.arm_retry();
    }

    /// One attempt ended.
    fn sent(&mut self, send: &Send, attempt: Attempt, emits: &mut Emits) {
        if let Some(p) = self.delivery.done(send, attempt) {
            problem(emits, p);
        }
        self.flush(false, false, emits);
    }

    fn arm_retry(&mut self) {
        self.retry_timer = self.delivery.next_wait().map(|wait| {
            self.after(wait as u32 + 1, |w, emits| {
                w.retry_timer = None;
                w.flush(false, false, emits);
            })
        });
    }
}

fn problem(emits: &mut Emits, p: Problem) {
    error(emits, &p.message, p.status);
}

/// An `error` event and one console line, prefixed so site owners can search for it.
fn error(emits: &mut Emits, message: &str, status: Option<u16>) {
    let mut line = String::from("nps-widget: ");
    line.push_str(message);
    log(&line);
    emits.push(Emit {
        name: "error",
        detail: to_js(&Field::Object(match status {
            Some(status) => vec![
                ("message", Field::Text(message)),
                ("status", Field::Number(f64::from(status))),
            ],
            None => vec![("message", Field::Text(message))],
        })),
    });
}

/// What `Context` needs from the page's address, now (in-app routes change it).
fn page_context(include_query: bool, locale: &str) -> Context {
    let facts = page();
    let mut url = facts.address;
    if include_query {
        url.push_str(&facts.query);
    }
    Context {
        url,
        locale: locale.into(),
        referrer: Some(facts.referrer).filter(|r| !r.is_empty()),
    }
}

/// A survey's public definition read: `{ id, version, status, definition }` as the collector
/// serves it; its id, version, whether it is paused, and its config keys.
fn definition_of(value: Value) -> Option<(String, u32, bool, Value)> {
    let Value::Map(entries) = value else {
        return None;
    };
    let (mut id, mut version, mut paused, mut definition) = (None, None, false, None);
    for (key, value) in entries {
        match (key.as_str(), value) {
            ("id", Value::Text(t)) => id = Some(t),
            ("version", Value::Number(n)) => version = Some(n as u32),
            ("status", Value::Text(t)) => paused = t == "paused",
            ("definition", d @ Value::Map(_)) => definition = Some(d),
            _ => {}
        }
    }
    Some((id?, version?, paused, definition?))
}
