// How the dashboard writes numbers, money, times and the API's names.

/// An NPS with its sign: `+37.5`, `0`, `-20`, `–` for none.
export function fmt(nps) {
  return nps == null ? '–' : (nps > 0 ? '+' : '') + nps;
}

/// `+37.5 ± 42.5`, or the bare NPS when there is no margin.
export function withMargin(figures) {
  return figures.margin_of_error == null ? fmt(figures.nps) : `${fmt(figures.nps)} ± ${figures.margin_of_error}`;
}

/// `2026-11-30 10:12` from an RFC 3339 time.
export function shortTime(ts) {
  return ts ? ts.slice(0, 16).replace('T', ' ') : '';
}

/// `referral_asked` → `referral asked`.
export function label(name) {
  return name.replace(/_/g, ' ');
}

/// `0.624` → `62 %`.
export function percent(ratio) {
  return `${Math.round(ratio * 100)} %`;
}

const moneyFormats = new Map();

/// `84000, "USD"` → `$84,000`, in the collector's currency (whole units: these are ARR
/// figures, not invoices).
export function money(amount, currency) {
  if (amount == null) {
    return '';
  }
  const code = currency || 'USD';
  if (!moneyFormats.has(code)) {
    moneyFormats.set(code, new Intl.NumberFormat('en', { style: 'currency', currency: code, maximumFractionDigits: 0 }));
  }
  return moneyFormats.get(code).format(amount);
}

/// The people of a segment as the lists title them.
export const SEGMENT_TITLES = {
  promoter: 'Promoters: ask for a referral or a review',
  passive: 'Passives: ask what would earn a 9 or 10',
  detractor: 'Detractors: contact them',
  silent: 'Silent: chase the people who never answer',
};
export const SEGMENTS = Object.keys(SEGMENT_TITLES);
/// A list's name (its view's heading and its tab).
export const LIST_NAMES = {
  promoter: 'Promoters',
  passive: 'Passives',
  detractor: 'Detractors',
  silent: 'Silent people',
};
