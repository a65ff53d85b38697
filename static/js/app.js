// Every page starts here: the bearer token, the service worker and its updates, the outbox's
// triggers (start, online, visible, any answer of the server, backoff timer, Background Sync),
// the top bar's status (online, slow, offline; data shown from the device and its age) and its
// count of unread notifications.

import { currentAuth, link, refreshToken, send, watchLink } from './api.js';
import { deviceAge, watchData } from './data.js';
import { delKv, getKv, setKv, StorageFullError } from './db.js';
import { _, locale } from './i18n.js';
import { pendingFixes } from './fixes.js';
import { flush, pending } from './outbox.js';
import { banner, clearBanner, toast } from './ui.js';

export const page = document.body.dataset.page;
export const user = { id: Number(document.body.dataset.userId), role: document.body.dataset.role };
const csrf = () => document.querySelector('meta[name=csrf-token]')?.content || '';

// A capture page sets this: an app update then waits for the user's go-ahead.
let captureOpen = false;
export function setCaptureOpen(flag) { captureOpen = flag; }

export async function boot() {
  markNav();
  keepQueryOnLanguageLinks();
  watchData(showLink);
  watchLink(({ ok }) => {
    showLink();
    if (ok && retrying) syncNow(true);  // the link is back: the failed step goes now
  });
  setInterval(showLink, 30000);  // the age of the device's data
  updateStatus();
  document.getElementById('logout-form')?.addEventListener('submit', onLogout);
  // Only a device without this user's token waits for one; otherwise the page opens at once.
  const tokenReady = ensureToken();
  const auth = await currentAuth();
  if (!auth || auth.user.id !== user.id) await tokenReady;
  showUnread();
  registerWorker();
  tokenReady.finally(startSync);
  askPersistence();
  return { user };
}

function markNav() {
  const queue = new URLSearchParams(window.location.search).get('queue');
  const key = page === 'visits' && queue === 'review' ? 'review' : page === 'visit' ? 'visits'
    : ['waves', 'coverage'].includes(page) ? 'plans' : page;
  for (const link of document.querySelectorAll(`[data-nav="${key}"]`)) link.setAttribute('aria-current', 'page');
}

function keepQueryOnLanguageLinks() {
  for (const link of document.querySelectorAll('[data-lang-link]')) {
    const query = new URLSearchParams(window.location.search);
    query.set('lang', link.dataset.langLink);
    link.href = `${window.location.pathname}?${query}`;
  }
}

async function ensureToken() {
  const auth = await currentAuth();
  const paused = await getKv('auth_paused');
  const old = !auth || !auth.at || Date.now() - Date.parse(auth.at) > 12 * 3600 * 1000;
  if ((old || paused || auth.user.id !== user.id) && navigator.onLine) {
    try { await refreshToken(csrf()); } catch { /* offline or signed out: keep what we have */ }
  }
}

async function onLogout(event) {
  event.preventDefault();
  await delKv('auth');
  const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (worker) worker.postMessage({ type: 'CLEAR_USER_DATA' });
  event.target.submit();
}

// ---------- Service worker and updates ----------

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  const hadController = Boolean(navigator.serviceWorker.controller);
  let registration;
  try {
    registration = await navigator.serviceWorker.register('/sw.js', { type: 'module', scope: '/' });
  } catch (error) {
    console.warn('service worker not registered', error);
    return;
  }
  let asked = false;  // this page asked the new version to take over: reload into it
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController) return;
    if (captureOpen && !asked) {
      banner('update', 'info', _('The app was updated. Reload when convenient: your visit is saved.'),
        [{ label: _('Reload'), primary: true, onclick: () => window.location.reload() }]);
    } else {
      window.location.reload();
    }
  });
  const offer = (worker) => {
    if (!hadController) return;
    if (!captureOpen) { worker.postMessage({ type: 'SKIP_WAITING' }); return; }
    banner('update', 'info', _('A new version of the app is ready. Your visit is saved on this device.'),
      [{ label: _('Reload'), primary: true, onclick: () => { asked = true; worker.postMessage({ type: 'SKIP_WAITING' }); } }]);
  };
  if (registration.waiting) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => { if (worker.state === 'installed') offer(worker); });
  });
  refreshShellsWhenNeeded();
}

async function refreshShellsWhenNeeded() {
  const url = new URL(window.location.href);
  const langChanged = url.searchParams.has('lang');
  const key = `${user.id}:${document.body.dataset.lang}`;
  if (!langChanged && (await getKv('shells_for')) === key) return;
  const ready = await navigator.serviceWorker.ready;
  ready.active?.postMessage({ type: 'REFRESH_SHELLS' });
  await setKv('shells_for', key);
  if (langChanged) {
    url.searchParams.delete('lang');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
}

// ---------- Outbox triggers ----------

let timer = null;
let retrying = false;  // a step failed and waits for its retry: any answer of the server retries it

export async function syncNow(force = true) {
  clearTimeout(timer);
  retrying = false;
  let result;
  try {
    result = await flush({ force });
  } catch (error) {
    console.error('outbox', error);
    result = { state: 'retry', retryIn: 30 };
  }
  if (result.state === 'retry' || result.state === 'waiting') {
    retrying = true;
    timer = setTimeout(() => syncNow(false), Math.max(1, result.retryIn) * 1000);
    registerBackgroundSync();
  } else if (result.state === 'busy') {
    timer = setTimeout(() => syncNow(false), 2000);
  }
  await updateStatus();
  return result;
}

async function registerBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker.ready;
    if ('sync' in registration) await registration.sync.register('outbox');
  } catch {
    // No Background Sync here (Safari, Firefox): the timer and the triggers above suffice.
  }
}

function startSync() {
  window.addEventListener('online', () => { updateStatus(); syncNow(true); });
  window.addEventListener('offline', () => updateStatus());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncNow(true);
  });
  if (typeof BroadcastChannel === 'function') {
    new BroadcastChannel('outbox').addEventListener('message', () => updateStatus());
  }
  syncNow(true);
}

/** How long ago, as people say it: "5 分钟前", "5 min ago". */
function ago(at) {
  const seconds = Math.max(0, Math.round((Date.now() - at) / 1000));
  const say = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
  if (seconds < 60) return say.format(-seconds, 'second');
  if (seconds < 3600) return say.format(-Math.floor(seconds / 60), 'minute');
  if (seconds < 86400) return say.format(-Math.floor(seconds / 3600), 'hour');
  return say.format(-Math.floor(seconds / 86400), 'day');
}

let waitingCount = 0;

/** The pill: online, slow link or offline; and when the data shown is the device's, its age. */
function showLink() {
  const pill = document.getElementById('net-pill');
  if (!pill) return;
  const label = document.getElementById('net-label');
  const age = document.getElementById('net-age');
  const online = navigator.onLine;
  const kept = deviceAge();
  pill.classList.toggle('offline', !online);
  pill.classList.toggle('slow', online && link.slow);
  label.textContent = !online ? _('Offline') : link.slow ? _('Slow link') : _('Online');
  age.hidden = kept === null;
  age.textContent = kept === null ? '' : _('On device · {age}', { age: ago(kept) });
  pill.dataset.link = !online ? 'offline' : link.slow ? 'slow' : 'online';
  pill.dataset.device = String(kept !== null);
  pill.setAttribute('aria-label', [label.textContent, age.textContent, `${_('Outbox')}: ${waitingCount}`]
    .filter(Boolean).join('. '));
}

export async function updateStatus() {
  const count = document.getElementById('outbox-count');
  if (!count) return;
  const waiting = [...await pending(user.id), ...await pendingFixes(user.id)];
  waitingCount = waiting.length;
  count.hidden = waiting.length === 0;
  count.textContent = String(waiting.length);
  showLink();
  await showPaused(waiting.length);
}

/** The bell's badge: how many notifications are unread (none shown when 0 or offline). */
export async function showUnread() {
  const bell = document.getElementById('bell');
  const count = document.getElementById('unread-count');
  if (!bell || !count) return;
  let unread = 0;
  try {
    const response = await send('GET', '/api/v1/notifications?unread=true&limit=1', { timeout: 10000 });
    if (response.ok) unread = Number(response.headers.get('X-Total-Count')) || 0;
  } catch { /* offline: no badge */ }
  bell.dataset.unread = String(unread);
  count.hidden = unread === 0;
  count.textContent = unread > 99 ? '99+' : String(unread);
  bell.setAttribute('aria-label', unread ? `${_('Notifications')}: ${unread}` : _('Notifications'));
}

async function showPaused(waiting) {
  if (!(await getKv('auth_paused'))) { clearBanner('auth'); return; }
  const next = encodeURIComponent(window.location.pathname + window.location.search);
  banner('auth', 'warn',
    _('Your sign-in has expired. Log in again to send {n} waiting visit(s); they stay on this device.', { n: waiting }),
    [{ label: _('Log in again'), href: `/login?next=${next}`, primary: true }]);
}

// ---------- Storage ----------

async function askPersistence() {
  if (!navigator.storage || !navigator.storage.persist) {
    await setKv('persisted', 'unsupported');
    return;
  }
  let persisted = await navigator.storage.persisted();
  if (!persisted && !(await getKv('persist_asked'))) {
    persisted = await navigator.storage.persist();
    await setKv('persist_asked', true);
  }
  await setKv('persisted', persisted ? 'granted' : 'refused');
}

/** Show a failed save: a full device gets its own message; nothing earlier is lost either way. */
export function saveFailed(error) {
  console.error(error);
  if (error instanceof StorageFullError) {
    banner('storage', 'error',
      _('The device storage is full: this change was not saved. Earlier visits are safe. Send or export waiting visits, then free some space.'),
      [{ label: _('Outbox'), href: '/outbox', primary: true }]);
  } else {
    toast(_('Could not save on this device: {error}', { error: error.message || error }));
  }
}
