// The JSON API with a bearer token, so the outbox keeps working after the cookie session ends.
// Used by the pages and by the service worker (no DOM in this module).

import { delKv, getKv, setKv } from './db.js';

/**
 * kind: 'network' (no answer), 'transient' (5xx, 429, a captive portal's page), 'auth' (401),
 * 'invalid' (other 4xx: retrying the same request cannot help), 'notfound' (404).
 */
export class ApiError extends Error {
  constructor(kind, message, { status = 0, body = null, retryAfter = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

export async function currentAuth() {
  return getKv('auth');
}

/** Trade the page session (cookie + CSRF) for a bearer token and keep it on the device. */
export async function refreshToken(csrfToken) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10000);
  const response = await fetch('/app/token', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRFToken': csrfToken, Accept: 'application/json' },
    signal: controller.signal,
  }).finally(() => clearTimeout(timer));
  const body = await jsonOf(response);
  if (!response.ok || !body || !body.token) return null;
  await setKv('auth', { token: body.token, user: body.user, at: new Date().toISOString() });
  await delKv('auth_paused');
  return body;
}

export function retryAfterSeconds(response) {
  const value = response.headers.get('Retry-After');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** The parsed body when the answer really is JSON (a captive portal's 200 text/html is not). */
export async function jsonOf(response) {
  const type = response.headers.get('Content-Type') || '';
  if (!type.includes('application/json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

// The link as the requests find it: slow while a request waits longer than its patience for its
// answer (SLOW_MS; less for a screen's data, data.js), or when the last answer took that long.
export const SLOW_MS = 3000;
export const link = { slow: false, stalled: 0, lastSlow: false };
const linkWatchers = new Set();

/** fn({slow, ok}) when the link turns slow and after each answer (ok: the server said 2xx). */
export function watchLink(fn) { linkWatchers.add(fn); }

function linkState(ok) {
  link.slow = link.stalled > 0 || link.lastSlow;
  for (const fn of linkWatchers) fn({ slow: link.slow, ok });
}

/** fetch with the bearer token and a time limit; network failures become ApiError('network'). */
export async function send(method, path, { json, body, headers = {}, timeout = 30000, patience = SLOW_MS } = {}) {
  const auth = await currentAuth();
  const finalHeaders = { Accept: 'application/json', ...headers };
  if (auth && auth.token) finalHeaders.Authorization = `Bearer ${auth.token}`;
  if (json !== undefined) {
    finalHeaders['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  let late = false;
  const stall = setTimeout(() => { late = true; link.stalled += 1; linkState(false); }, patience);
  const settle = (ok, slow) => {
    clearTimeout(stall);
    if (late) link.stalled -= 1;
    link.lastSlow = slow;
    linkState(ok);
  };
  try {
    const response = await fetch(path, {
      method, body, headers: finalHeaders, credentials: 'same-origin',
      signal: controller.signal, cache: 'no-store',
    });
    settle(response.ok, late);
    return response;
  } catch (error) {
    const timedOut = error && error.name === 'AbortError';
    settle(false, late || timedOut);
    throw new ApiError('network', timedOut ? 'timeout' : 'offline');
  } finally {
    clearTimeout(timer);
  }
}

/** Turn a non-acknowledging answer into the right ApiError. */
export async function failure(response, body) {
  const status = response.status;
  const message = (body && body.message) || `HTTP ${status}`;
  const options = { status, body, retryAfter: retryAfterSeconds(response) };
  if (status === 401) return new ApiError('auth', message, options);
  if (status === 404) return new ApiError('notfound', message, options);
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    return new ApiError('transient', message, options);
  }
  if (status >= 400) return new ApiError('invalid', message, options);
  // A 2xx or 3xx that is not our JSON: a captive portal or a proxy answered, not the server.
  return new ApiError('transient', 'not-acknowledged', options);
}

/** GET a JSON document of the API; throws ApiError. */
export async function getJson(path, { headers = {}, patience = SLOW_MS } = {}) {
  const response = await send('GET', path, { headers, patience });
  const body = await jsonOf(response);
  if (response.ok && body !== null) return body;
  throw await failure(response, body);
}

/** POST/PATCH JSON and return the JSON answer; throws ApiError. */
export async function writeJson(method, path, json) {
  const response = await send(method, path, { json });
  const body = await jsonOf(response);
  if (response.ok && body !== null) return body;
  throw await failure(response, body);
}
