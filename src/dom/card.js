// The card on the page: its shadow DOM, markup, styles, keyboard and focus. Rust decides what
// to show and what an action means (widget.rs); this module only draws and reports clicks and
// keys. Written in JS because building a dozen nodes through web-sys cost ~10 KB of gzipped wasm,
// and this costs ~1.5 KB. Every text arrives as text and is set with textContent or
// setAttribute, never parsed as markup.
//
// `:host { all: initial !important }` wins over any host-page rule, `!important` ones included
// (inside a shadow tree important declarations beat the outer page's), so the page cannot restyle
// or hide the card, and nothing here can reach the page. Theme values are CSS custom properties,
// which `all` leaves alone, so a page may set `--nps-accent` on any ancestor.

const CSS =
  `:host{all:initial!important;display:block!important;position:fixed!important;z-index:var(--nps-z-index,2147483000)!important;bottom:16px!important;right:16px!important;--a:var(--nps-accent,#4338ca);--on:var(--nps-on-accent,#fff);--bg:var(--nps-background,#fff);--fg:var(--nps-text,#111827);--mu:var(--nps-muted,#4b5563);--ln:#9ca3af;--b2:#f3f4f6;--r:var(--nps-radius,12px);--f:var(--nps-font,system-ui,-apple-system,'Segoe UI',Roboto,sans-serif)}` +
  `:host([hidden]){display:none!important}:host([data-position=bottom-left]){right:auto!important;left:16px!important}` +
  `:host([data-position=modal]){inset:0!important;display:grid!important;place-items:center!important;background:rgba(17,24,39,.5)!important}` +
  `:host([data-position=inline]){position:relative!important;inset:auto!important;z-index:auto!important}` +
  `:host([data-theme=dark]){--a:var(--nps-accent,#a5b4fc);--on:var(--nps-on-accent,#111827);--bg:var(--nps-background,#1f2937);--fg:var(--nps-text,#f9fafb);--mu:var(--nps-muted,#d1d5db);--ln:#6b7280;--b2:#374151}` +
  `@media (prefers-color-scheme:dark){:host([data-theme=auto]){--a:var(--nps-accent,#a5b4fc);--on:var(--nps-on-accent,#111827);--bg:var(--nps-background,#1f2937);--fg:var(--nps-text,#f9fafb);--mu:var(--nps-muted,#d1d5db);--ln:#6b7280;--b2:#374151}` +
  `}.card{box-sizing:border-box;position:relative;width:min(380px,calc(100vw - 32px));background:var(--bg);color:var(--fg);font:15px/1.45 var(--f);border-radius:var(--r);padding:18px 18px 14px;box-shadow:0 12px 32px rgba(0,0,0,.2),0 1px 3px rgba(0,0,0,.12);animation:nps-in .22s ease-out;text-align:start}` +
  `:host([data-position=inline]) .card{width:100%;max-width:420px;box-shadow:0 0 0 1px var(--ln)}` +
  `.card *{box-sizing:border-box;font:inherit;color:inherit;margin:0}@keyframes nps-in{from{opacity:0;transform:translateY(10px)}` +
  `}.card.out{animation:nps-out .18s ease-in forwards;pointer-events:none}@keyframes nps-out{to{opacity:0;transform:translateY(10px)}}@media (prefers-reduced-motion:reduce){.card,.card.out{animation:none}}.q,.p,.t{font-weight:600;font-size:16px;margin-inline-end:30px!important;display:block}` +
  `.scale{display:grid;grid-template-columns:repeat(11,1fr);gap:4px;margin-top:12px!important}` +
  `.scale button,.btn,.x{cursor:pointer;border-radius:8px;border:1px solid var(--ln);background:var(--b2);color:var(--fg);font-weight:600;padding:0}` +
  `.scale button{min-width:24px;min-height:38px}.scale button:hover,.btn:hover{border-color:var(--a)}` +
  `.scale button[aria-checked=true]{background:var(--a);color:var(--on);border-color:var(--a)}` +
  `button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid var(--a);outline-offset:2px}` +
  `.ends{display:flex;justify-content:space-between;gap:8px;font-size:12.5px;color:var(--mu);margin-top:6px!important}` +
  `.x{position:absolute;top:8px;inset-inline-end:8px;width:32px;height:32px;font-size:20px;line-height:1;background:transparent;border-color:transparent;color:var(--mu)}` +
  `textarea{display:block;width:100%;min-height:84px;margin-top:10px!important;padding:8px 10px;border:1px solid var(--ln);border-radius:8px;background:var(--bg);color:var(--fg);resize:vertical}` +
  `textarea::placeholder{color:var(--mu);opacity:1}.consent{display:flex;gap:8px;align-items:center;margin-top:10px!important;font-size:14px}` +
  `.consent input{width:18px;height:18px;accent-color:var(--a)}.actions{display:flex;justify-content:flex-end;gap:8px;margin-top:12px!important}` +
  `.btn{min-height:38px;padding:0 16px}.primary{background:var(--a);color:var(--on);border-color:var(--a)}` +
  `.ref{display:inline-block;margin-top:12px!important;color:var(--a);font-weight:600;text-decoration:underline}` +
  `.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}` +
  `@media (max-width:420px){:host{right:8px!important;bottom:8px!important}:host([data-position=bottom-left]){left:8px!important}` +
  `.card{width:calc(100vw - 16px);padding:14px 12px 12px}.scale{grid-template-columns:repeat(6,1fr)}` +
  `.scale button:nth-child(7){grid-column-start:2}}`;

// What a control asks for; the numbers are `Act` in widget.rs.
const ACTS = ['choose', 'submit', 'skip', 'close', 'referral'];

// Applies the styles so that a strict CSP (`style-src 'self'`) still allows them.
function adopt(root, css) {
  try {
    const s = new CSSStyleSheet();
    s.replaceSync(css);
    root.adoptedStyleSheets = [s];
  } catch {
    // No constructable stylesheets (older Safari): a <style> in the shadow root.
    const s = document.createElement('style');
    s.textContent = css;
    root.append(s);
  }
}

function el(parent, tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text) e.textContent = text;
  parent.append(e);
  return e;
}

// Mounts an empty card and returns it, or null when the inline `target` matches nothing.
// `texts` are the 18 strings in `Text` order, joined by NUL; `act(kind, number, comment)` hears
// the person:
// the number is the score for a choice (kind 0), the consent box (1 or 0) for a submit (kind 1).
export function mount(target, position, theme, css, lang, rtl, texts, act) {
  texts = texts.split('\0');
  const parent = target ? document.querySelector(target) : document.body;
  if (!parent) return null;
  const host = document.createElement('nps-widget');
  const root = host.attachShadow({ mode: 'open' });
  const modal = position == 'modal';
  host.setAttribute('data-nps-widget', '');
  host.setAttribute('data-position', position);
  host.setAttribute('data-theme', theme);
  adopt(root, CSS + css);
  const card = el(root, 'div', { class: 'card', role: 'dialog', 'aria-label': texts[0], lang, dir: rtl ? 'rtl' : 'ltr' });
  if (modal) card.setAttribute('aria-modal', 'true');
  el(card, 'button', { type: 'button', class: 'x', 'data-act': 'close', 'aria-label': texts[3] }, '×');
  const c = {
    host, root, modal, rtl, texts, card,
    body: el(card, 'div', {}),
    live: el(card, 'p', { class: 'sr', role: 'status', 'aria-live': 'polite' }),
    back: modal ? document.activeElement : null,
  };
  root.addEventListener('click', (e) => {
    const control = e.target.closest && e.target.closest('[data-act],[data-score]');
    if (!control) return;
    const score = control.getAttribute('data-score');
    if (score) control.setAttribute('aria-checked', 'true');
    const kind = score ? 0 : ACTS.indexOf(control.getAttribute('data-act'));
    const comment = root.querySelector('#c'), consent = root.querySelector('#k');
    if (kind >= 0) act(kind, kind ? +!!(consent && consent.checked) : +score, comment ? comment.value.trim() : '');
  });
  root.addEventListener('keydown', (e) => {
    if (e.key == 'Escape') return act(3);
    if (key(c, e)) e.preventDefault();
  });
  parent.append(host);
  return c;
}

// Arrows, Home and End move the radio group's single tab stop (mirrored right to left); Tab
// stays inside a modal. True when the key was ours.
function key(c, e) {
  const k = e.key;
  if (e.target.getAttribute('role') == 'radio') {
    const radios = [...c.body.querySelectorAll('[role=radio]')];
    const last = radios.length - 1, i = radios.findIndex((r) => r.tabIndex == 0), f = c.rtl ? -1 : 1;
    let j = { ArrowRight: i + f, ArrowLeft: i - f, ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: last }[k];
    if (j == null) return false;
    j = j < 0 ? last : j > last ? 0 : j;
    radios.forEach((r, n) => r.setAttribute('tabindex', n == j ? '0' : '-1'));
    radios[j].focus();
    return true;
  }
  if (k != 'Tab' || !c.modal) return false;
  const stops = c.root.querySelectorAll('.x,[role=radio][tabindex="0"],textarea,input,.btn,a[href]');
  const first = stops[0], last = stops[stops.length - 1], active = c.root.activeElement;
  if (active && active != (e.shiftKey ? first : last)) return false;
  (e.shiftKey ? last : first).focus();
  return true;
}

// Draws a step: 0 the question, 1 the follow-up, 2 the thanks. `segment` is 0 promoter,
// 1 passive, 2 detractor.
export function draw(c, step, segment, consentBox, referralUrl, referralText) {
  const { body, texts } = c;
  body.textContent = '';
  let focus, say;
  if (step == 0) {
    el(body, 'p', { id: 'q', class: 'q' }, texts[0]);
    const scale = el(body, 'div', { role: 'radiogroup', 'aria-labelledby': 'q', class: 'scale' });
    for (let n = 0; n <= 10; n++) {
      const end = n == 0 ? ', ' + texts[1] : n == 10 ? ', ' + texts[2] : '';
      el(scale, 'button', {
        type: 'button', role: 'radio', 'aria-checked': 'false', 'aria-label': n + end,
        tabindex: n ? '-1' : '0', 'data-score': n,
      }, '' + n);
    }
    const ends = el(body, 'div', { class: 'ends', 'aria-hidden': 'true' });
    el(ends, 'span', {}, texts[1]);
    el(ends, 'span', {}, texts[2]);
    if (c.modal) focus = scale.firstChild;
  } else if (step == 1) {
    say = texts[4 + segment];
    el(body, 'label', { for: 'c', class: 'p', id: 'pl' }, say);
    focus = el(body, 'textarea', { id: 'c', maxlength: '4000', placeholder: texts[15 + segment] });
    if (segment == 2 && consentBox) {
      const row = el(body, 'label', { class: 'consent' });
      el(row, 'input', { type: 'checkbox', id: 'k' });
      el(row, 'span', {}, texts[8]);
    }
    const actions = el(body, 'div', { class: 'actions' });
    el(actions, 'button', { type: 'button', class: 'btn', 'data-act': 'skip' }, texts[10]);
    el(actions, 'button', { type: 'button', class: 'btn primary', 'data-act': 'submit' }, texts[9]);
  } else {
    say = texts[11 + segment];
    focus = el(body, 'p', { class: 't', tabindex: '-1' }, say);
    // The widget passes a URL only to the segments the site asks for a referral.
    if (referralUrl) {
      el(body, 'a', {
        href: referralUrl, target: '_blank', rel: 'noopener', class: 'ref', 'data-act': 'referral',
      }, referralText || texts[14]);
    }
  }
  if (focus) focus.focus();
  if (say) c.live.textContent = say;
  // For `cargo xtask bench-web`: script start (the loader's mark) to the card on screen.
  if (!c.seen) c.seen = performance.mark && performance.mark('nps:visible');
}

// Removes the card; a modal gives focus back to where it was. With `animate` (the person
// closed it) the card fades out first, unless they asked for reduced motion; the host is marked
// `data-leaving` at once.
export function unmount(c, animate) {
  if (c.back && c.back.focus) c.back.focus();
  if (!animate || matchMedia('(prefers-reduced-motion: reduce)').matches) return c.host.remove();
  c.host.setAttribute('data-leaving', '');
  c.card.classList.add('out');
  const done = () => c.host.remove();
  c.card.addEventListener('animationend', done);
  setTimeout(done, 300);
}

// The element site events are dispatched on.
export function host(c) {
  return c.host;
}
