// The overview (`#/overview`): the NPS with its margin and the revenue-weighted NPS beside it,
// the counts, the response rate, whether the latest change is real, the split, the money
// (ARR at risk, coverage against its target), the trend with what happened to the business
// (annotations, which members add), and the themes people ask for, each with what fixing it
// is worth.
import { getJson, get, write } from '../api.js';
import { $, el, button, announce } from '../dom.js';
import { fmt, withMargin, money, percent } from '../format.js';
import { session, canWrite } from '../session.js';

// Passives first: what would earn a 9 or 10 is what the product team needs most.
const THEME_SEGMENTS = [
  ['passive', 'What passives say would earn a 9 or 10'],
  ['detractor', 'What disappointed detractors'],
  ['promoter', 'What promoters love'],
];

/// The first day after `period` (`2026-11-16` a week, `2026-11` a month), as YYYY-MM-DD.
function periodEnd(period, interval) {
  if (interval === 'month') {
    const [year, month] = period.split('-').map(Number);
    return new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 10);
  }
  const start = new Date(`${period}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() + 7);
  return start.toISOString().slice(0, 10);
}

function periodStart(period) {
  return period.length === 7 ? `${period}-01` : period;
}

/// Says in words whether the latest period's score differs from the one before by more than
/// chance, from `GET /v1/compare` over the last two periods of the trend.
async function change(summary) {
  const scored = summary.trend.filter((p) => p.answers > 0);
  if (scored.length < 2) {
    return 'Not enough periods with answers yet to tell whether the score is changing.';
  }
  const [a, b] = scored.slice(-2);
  const c = await getJson('/v1/compare', {
    a_from: periodStart(a.period),
    a_to: periodEnd(a.period, summary.interval),
    b_from: periodStart(b.period),
    b_to: periodEnd(b.period, summary.interval),
    from: '',
    to: '',
  });
  const direction = c.difference > 0 ? `up ${c.difference}` : c.difference < 0 ? `down ${-c.difference}` : 'unchanged at 0';
  const verdict = c.significant
    ? `a real change (z = ${c.z}, 95 % confidence)`
    : `within what chance alone would give (z = ${c.z}); more answers would tell`;
  return `The ${summary.interval} of ${b.period} against the ${summary.interval} of ${a.period}: ` +
    `NPS ${fmt(c.b.nps)} against ${fmt(c.a.nps)}, ${direction} points, ${verdict}.`;
}

export async function show(_param, visit) {
  const [summary, trend, themes, revenue, annotations] = await Promise.all([
    getJson('/v1/summary'),
    get('/v1/trend.svg').then((r) => r.blob()),
    Promise.all(THEME_SEGMENTS.map(([segment]) => getJson('/v1/themes', { segment }))),
    getJson('/v1/revenue'),
    getJson('/v1/annotations', { interval: '' }),
  ]);
  const sentence = await change(summary);
  if (!visit.current()) {
    return;
  }
  renderScore(summary, sentence);
  renderMoney(revenue);
  renderTrend(summary, trend);
  renderAnnotations(annotations);
  renderThemes(themes);
}

function renderScore(summary, sentence) {
  $('nps').textContent = fmt(summary.nps);
  $('moe').textContent = summary.margin_of_error == null ? '' : `± ${summary.margin_of_error} (95 %)`;
  $('counts').textContent =
    `${summary.responses} responses: ${summary.promoters} promoters, ${summary.passives} passives, ` +
    `${summary.detractors} detractors, ${summary.silent} silent`;
  $('rate').textContent = summary.response_rate == null
    ? ''
    : `Response rate ${Math.round(summary.response_rate * 1000) / 10} % (answers of everyone asked)`;
  $('change').textContent = sentence;
  const split = $('split');
  split.textContent = '';
  split.setAttribute('aria-label', $('counts').textContent);
  const parts = [['promoter', summary.promoters], ['passive', summary.passives], ['detractor', summary.detractors], ['silent', summary.silent]];
  for (const [segment, n] of parts) {
    if (!n) {
      continue;
    }
    const bar = el('span', null, segment);
    bar.style.width = `${(100 * n) / summary.responses}%`;
    bar.title = `${segment}: ${n}`;
    split.append(bar);
  }
}

/// ARR at risk, coverage against its target, the weighted NPS (when the collector has them).
function renderMoney(revenue) {
  $('money').hidden = !revenue;
  $('weighted-nps').hidden = !revenue || revenue.weighted_nps == null;
  if (!revenue) {
    return;
  }
  const currency = revenue.currency;
  $('weighted-nps').textContent = `Revenue-weighted NPS ${fmt(revenue.weighted_nps)} (each answer counts by its account's ARR)`;
  const risk = revenue.by_segment;
  $('at-risk').textContent =
    `ARR at risk: ${money(revenue.at_risk_arr, currency)} ` +
    `(${risk.detractor.accounts} detractor and ${risk.silent.accounts} silent accounts)`;
  $('coverage').textContent = revenue.coverage == null
    ? 'Coverage: no account has an ARR yet.'
    : `${percent(revenue.coverage)} of ARR answered, target ${percent(revenue.coverage_target)}`;
  $('arr-total').textContent = `${money(revenue.total_arr, currency)} ARR in ${revenue.accounts} accounts, ${money(revenue.answered_arr, currency)} of it answered`;
}

function renderTrend(summary, trend) {
  const img = $('trend');
  if (img.src) {
    URL.revokeObjectURL(img.src);
  }
  img.src = URL.createObjectURL(trend);
  img.alt = `NPS by ${summary.interval}: ` + summary.trend.map((p) => `${p.period} ${withMargin(p)}`).join(', ');
}

/// `2026-11-03 to 2026-11-10: outage (ana)`.
export function annotationLine(a) {
  return `${a.date}${a.end_date ? ` to ${a.end_date}` : ''}: ${a.text}${a.author ? ` (${a.author})` : ''}`;
}

function renderAnnotations(annotations) {
  $('annotations-box').hidden = !annotations;
  if (!annotations) {
    return;
  }
  const list = $('annotations');
  list.replaceChildren(...annotations.map((a) => el('li', annotationLine(a))));
  if (!annotations.length) {
    list.append(el('li', 'Nothing noted yet: note a pricing change or an outage to read the trend beside it.', 'empty'));
  }
  $('new-annotation').hidden = !canWrite();
}

/// What fixing a theme is worth, in words: `+37.5 NPS, 3 accounts, $84,000 ARR; about 2
/// referrals ≈ $24,000 if these passives became promoters`.
export function worth(segment, theme, currency) {
  const whom = segment === 'passive' ? 'passives became promoters' : 'detractors became passives';
  // Themes without their accounts' ARR (a collector before the themes knew it) say the points.
  if (!('arr' in theme)) {
    return `${fmt(theme.nps_gain)} NPS if these ${theme.people} ${whom}, ${theme.accounts} accounts`;
  }
  const arr = theme.arr == null ? '' : `, ${money(theme.arr, currency)} ARR`;
  const base = `${fmt(theme.nps_gain)} NPS, ${theme.accounts} accounts${arr}`;
  // No referral measured yet (a rate of 0): the sentence says the points and the ARR only.
  if (segment === 'passive' && theme.referral_value != null && theme.referrals > 0) {
    const referrals = theme.referrals >= 1 ? Math.round(theme.referrals) : Math.round(theme.referrals * 10) / 10;
    return `${base}; about ${referrals} referral${referrals === 1 ? '' : 's'} ≈ ${money(theme.referral_value, currency)} if these ${whom}`;
  }
  return `${base} if these ${theme.people} ${whom}`;
}

/// The comments of one segment's responses by id, read once when a theme is opened.
const comments = new Map();

async function commentsOf(segment) {
  if (!comments.has(segment)) {
    const responses = await getJson('/v1/responses', { segment, limit: 1000 });
    comments.set(segment, new Map(responses.map((r) => [r.id, r.comment])));
  }
  return comments.get(segment);
}

function renderThemes(themes) {
  comments.clear();
  const box = $('themes');
  box.textContent = '';
  box.className = 'themes';
  THEME_SEGMENTS.forEach(([segment, title], i) => {
    const column = el('div');
    column.append(el('h4', title));
    const found = themes[i];
    if (!found.themes.length) {
      column.append(el('p', 'No recurring theme yet.', 'empty'));
    } else {
      column.append(el('p', `${found.comments} comments: ${found.comments - found.other} in these themes, ${found.other} on other things.`, 'theme-total'));
    }
    const chips = el('ul', null, 'chips');
    const examples = el('ul', null, 'examples');
    for (const theme of found.themes) {
      const item = el('li');
      const open = button(`${theme.theme} (${theme.count})`, async () => {
        try {
          const text = await commentsOf(segment);
          examples.replaceChildren(...theme.examples.map((id) => el('li', text.get(id) || `response ${id}`)));
          announce(`${theme.count} comments mention ${theme.theme}`);
        } catch (e) {
          announce(`Could not read the comments: ${e.message}`);
        }
      }, 'link');
      open.setAttribute('aria-label', `${theme.theme}: ${theme.count} comments, show them`);
      item.append(open);
      if (segment !== 'promoter') {
        item.append(el('span', ` ${worth(segment, theme, found.currency || session.currency)}`, 'gain'));
      }
      chips.append(item);
    }
    column.append(chips, examples);
    box.append(column);
  });
}

$('new-annotation').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target.elements;
  const surveyId = $('filters').elements.survey_id.value.trim();
  try {
    const made = await write('POST', '/v1/annotations', {
      date: form.date.value,
      end_date: form.end_date.value || null,
      text: form.text.value.trim(),
      ...(surveyId ? { survey_id: surveyId } : {}),
    });
    form.text.value = '';
    form.end_date.value = '';
    announce(`Noted on the trend: ${annotationLine(made)}`);
    const [annotations, trend] = await Promise.all([
      getJson('/v1/annotations', { interval: '' }),
      get('/v1/trend.svg').then((r) => r.blob()),
    ]);
    renderAnnotations(annotations);
    const img = $('trend');
    URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(trend);
  } catch (err) {
    announce(`Could not add the note: ${err.message}`);
  }
});
