// Reference data from the API, device first (stale-while-revalidate): a screen draws at once
// from the copy kept on the device and draws again when the network's answer arrives. Without a
// kept copy it waits on the network at most WAIT_MS, then shows its empty state.

import { ApiError, getJson } from './api.js';
import { getKv, setKv } from './db.js';

export const WAIT_MS = 1500;  // then the request has stalled: with the page's own start, within 3 s
const fresh = new Map();   // path → the network's answer during this page's life
const asking = new Map();  // path → the request under way
const shown = new Map();   // path → when the kept copy on screen was fetched
const watchers = new Set();
let keptIsOld = false;     // the user changed something: what the device kept is out of date

const keyOf = (path) => `kept:${document.body.dataset.userId || ''}:${path}`;

/** fn(redraw): redraw is true when something on the screen changed (or arrived late). */
export function watchData(fn) { watchers.add(fn); }

let pendingRedraw = null;
function changed(redraw) {
  if (!redraw) { for (const fn of watchers) fn(false); return; }
  // Several answers arriving together redraw the screen once.
  pendingRedraw ??= setTimeout(() => { pendingRedraw = null; for (const fn of watchers) fn(true); }, 50);
}

/** When the oldest kept copy shown now was fetched (ms since the epoch), or null. */
export function deviceAge() {
  return shown.size ? Math.min(...shown.values()) : null;
}

function ask(path) {
  if (!asking.has(path)) {
    // The service worker lets these through: the copy on the device is this module's.
    asking.set(path, getJson(path, { headers: { 'X-Device-First': '1' }, patience: WAIT_MS }).then(async (body) => {
      fresh.set(path, body);
      shown.delete(path);
      await setKv(keyOf(path), { at: Date.now(), body }).catch(() => null);
      return body;
    }).finally(() => asking.delete(path)));
  }
  return asking.get(path);
}

/** GET a JSON document of the API, device first: the kept copy at once (then refreshed in the
 * background, watchers told), else the network for at most WAIT_MS; throws ApiError. */
export async function cachedJson(path) {
  if (fresh.has(path)) return fresh.get(path);
  const network = ask(path);
  const kept = keptIsOld ? null : await getKv(keyOf(path));
  if (kept) {
    shown.set(path, kept.at);
    network.then((body) => changed(JSON.stringify(body) !== JSON.stringify(kept.body)), () => changed(false));
    changed(false);
    return kept.body;
  }
  let late = null;
  const answer = await Promise.race([network, new Promise((resolve) => { late = setTimeout(resolve, WAIT_MS); })]);
  clearTimeout(late);
  if (answer !== undefined) return answer;
  network.then(() => changed(true), () => null);
  throw new ApiError('network', 'slow');
}

/** After a change made on this page: the next reads wait for the network's answers. */
export function forget() {
  fresh.clear();
  shown.clear();
  keptIsOld = true;
}

/** Draw a screen now with `draw` (which reads through cachedJson), and again whenever fresher
 * data arrives — unless the user has started changing something on it; the search being typed
 * in keeps its focus. */
export async function deviceFirst(draw) {
  let touched = false;
  const touch = (event) => {
    const field = event.target.closest && event.target.closest('button, input:not([type=search]), select, textarea');
    if (field && field.closest('#view')) touched = true;
  };
  document.addEventListener('input', touch);
  document.addEventListener('click', touch);
  watchData(async (redraw) => {
    if (!redraw || touched) return;
    const active = document.activeElement;
    const id = active && active.id;
    const caret = id && typeof active.selectionStart === 'number' ? active.selectionStart : null;
    await draw();
    const again = id && document.getElementById(id);
    if (again && again !== active) {
      again.focus();
      if (caret !== null) again.setSelectionRange(caret, caret);
    }
  });
  await draw();
}

export const loadStores = () => cachedJson('/api/v1/stores');

export async function storesById() {
  const stores = await loadStores().catch(() => []);
  return Object.fromEntries(stores.map((s) => [s.id, s]));
}

/** Distance in metres between two {lat, lon} points (haversine). */
export function distance(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(x));
}

export function rows(body) {
  return Array.isArray(body) ? body : (body && body.items) || [];
}
