// The read and write API, with the teammate's token (kept in sessionStorage for the browser
// session) and the filter form's survey and dates on every read.
import { $ } from './dom.js';

const TOKEN_KEY = 'nps-dashboard-token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

/// A refusal of the token: the page signs in again.
export class Unauthorized extends Error {
  constructor() {
    super('unauthorized');
    this.status = 401;
  }
}

function authHeaders() {
  return { Authorization: `Bearer ${token() || ''}` };
}

/// The query string of the filter form, plus `extra` (an empty value takes a key out).
export function query(extra = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of new FormData($('filters'))) {
    if (value) {
      q.set(key, value);
    }
  }
  for (const key in extra) {
    if (extra[key] === '' || extra[key] == null || extra[key] === false) {
      q.delete(key);
    } else {
      q.set(key, extra[key]);
    }
  }
  return q.toString();
}

/// The filter form's survey and dates, as the body of a write (`from`, `to`, `survey_id`).
export function filterBody() {
  const body = {};
  for (const [key, value] of new FormData($('filters'))) {
    if (value && ['survey_id', 'from', 'to'].includes(key)) {
      body[key] = value;
    }
  }
  return body;
}

async function check(r) {
  if (r.status === 401) {
    throw new Unauthorized();
  }
  if (!r.ok) {
    const problem = await r.json().catch(() => ({}));
    throw Object.assign(new Error(problem.error || `${r.status}`), { status: r.status, field: problem.field });
  }
  return r;
}

/// GET `path` with the filters and `extra`; the response (not read yet).
export async function get(path, extra = {}) {
  return check(await fetch(`${path}?${query(extra)}`, { headers: authHeaders() }));
}

/// GET `path` as it is, without the filters (a route that takes none of them).
export async function getPlain(path) {
  return check(await fetch(path, { headers: authHeaders() }));
}

/// GET `path` with the filters and `extra`, read as JSON.
export async function getJson(path, extra = {}) {
  return (await get(path, extra)).json();
}

/// A JSON write (PATCH, POST, PUT, DELETE) without the filter query; its answer as JSON (or
/// null when it has no body).
export async function write(method, path, body) {
  const r = await check(await fetch(path, {
    method,
    headers: { ...authHeaders(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

/// A write that gives its answer whatever the status (the surveys' editor shows the
/// collector's sentence by its field).
export async function call(method, path, body, headers = {}) {
  const r = await fetch(path, {
    method,
    headers: { ...authHeaders(), 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) {
    throw new Unauthorized();
  }
  const answer = await r.json().catch(() => ({}));
  return { status: r.status, ok: r.ok, body: answer };
}

/// A raw POST whose answer is a file (the mail merge's CSV).
export async function postForBlob(path, body) {
  const r = await check(await fetch(path, {
    method: 'POST',
    headers: { ...authHeaders(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }));
  return r.blob();
}
