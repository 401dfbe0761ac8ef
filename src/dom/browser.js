// The few browser calls the widget makes in JS rather than through web-sys, each for a reason
// given beside it. Everything else is in bindings.rs.

// Each locale file by a literal URL: bundlers (Vite, webpack, Rollup with its import-meta-assets
// plugin) find and emit the files they see written out, never a URL built from a variable.
// The script tag's module and the fallback are built with LOCALES, the hash of the locale
// files (`cargo xtask dist`: locales/<tag>.<hash>.json, cacheable forever), and then need no
// list. Called only for the locales that ship as files; undefined for another.
/* global LOCALES */
export function localeUrl(tag) {
  if (typeof LOCALES === 'string') {
    return new URL(`./locales/${tag}.${LOCALES}.json`, import.meta.url).href;
  }
  switch (tag) {
    case 'es':
      return new URL('./locales/es.json', import.meta.url).href;
    case 'fr':
      return new URL('./locales/fr.json', import.meta.url).href;
    case 'de':
      return new URL('./locales/de.json', import.meta.url).href;
    case 'pt':
      return new URL('./locales/pt.json', import.meta.url).href;
    case 'ja':
      return new URL('./locales/ja.json', import.meta.url).href;
    case 'ar':
      return new URL('./locales/ar.json', import.meta.url).href;
    default:
      return undefined;
  }
}

// `pushState` and `replaceState` fire no event, so in-app navigation (a single-page app's
// router) is seen by wrapping them, once per page and transparently: each call that changes the
// address dispatches `nps:navigate` on the window. Replacing a method on `history` is not
// something web-sys can express.
let historyWatched = false;

export function watchHistory() {
  if (historyWatched) {
    return;
  }
  historyWatched = true;
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name];
    history[name] = function (...args) {
      const before = location.href;
      const result = original.apply(this, args);
      if (location.href !== before) {
        dispatchEvent(new Event('nps:navigate'));
      }
      return result;
    };
  }
}

// Web Locks are behind `web_sys_unstable_apis` in web-sys, which would need a compiler flag on
// every build. Resolves with a function that releases the lock, or null when another tab holds
// it; the lock is held until that function is called. Where the request itself fails (a
// sandboxed frame), the send goes ahead unlocked: the collector's upsert by id makes a double
// delivery harmless, a lost one would not be.
export function tryLock(name) {
  return new Promise((resolve) => {
    navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        return new Promise((release) => resolve(release));
      })
      .catch(() => resolve(() => {}));
  });
}
