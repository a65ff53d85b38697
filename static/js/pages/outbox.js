// The outbox: every visit captured on this device with its state (and its sign-off), the
// evidence of fixed actions, retry, export, storage status.

import { boot, syncNow, user } from '../app.js';
import { all, getKv, put } from '../db.js';
import { pendingFixes } from '../fixes.js';
import { _, fmt, storeName, tr } from '../i18n.js';
import { pending } from '../outbox.js';
import { actionTitle, emptyState, h, icon, mount, scoreChip } from '../ui.js';
import { photosOf, recentlySent } from '../visits.js';

await boot();
const root = document.getElementById('view');

const STEP_LABELS = () => ({
  visit: _('Waiting to send the answers'),
  photos: _('Sending photos'),
  submit: _('Submitting'),
  verify: _('Checking with the server'),
  actions: _('Sending the agreed actions'),
  signoff: _('Sending the sign-off'),
});

async function render() {
  const [waiting, fixes, sent, backoff, paused] = await Promise.all([
    pending(user.id), pendingFixes(user.id), recentlySent(user.id), getKv('backoff'), getKv('auth_paused')]);
  const count = waiting.length + fixes.length;
  const photoCounts = {};
  for (const visit of waiting) {
    const photos = await photosOf(visit.id);
    photoCounts[visit.id] = { left: photos.filter((p) => p.state === 'pending').length, total: visit.photos.length };
  }
  mount(root,
    await storageCard(),
    h('div', { class: 'row', style: 'margin:4px 0 12px' },
      h('h2', { style: 'margin:0' }, _('Waiting to be sent'), ' ', h('span', { class: 'badge', id: 'outbox-waiting' }, count)),
      h('span', { class: 'spacer' }),
      count ? h('button', { type: 'button', class: 'btn primary', id: 'send-now', onclick: sendNow }, icon('refresh'), _('Send now')) : null),
    count
      ? h('ul', { class: 'list card', style: 'padding:0 12px', id: 'outbox-list' },
        waiting.map((v) => waitingRow(v, photoCounts[v.id], backoff, paused)),
        fixes.map((f) => fixRow(f, backoff, paused)))
      : h('div', { class: 'card', id: 'outbox-empty' }, emptyState('check', _('Nothing waiting: everything has reached the server.'))),
    waiting.length ? h('p', { style: 'margin-top:12px' },
      h('button', { type: 'button', class: 'btn', onclick: exportPending }, icon('download'), _('Export waiting visits to a file'))) : null,
    h('h2', { class: 'section-title' }, _('Sent from this device')),
    sent.length
      ? h('ul', { class: 'list card', style: 'padding:0 12px', id: 'sent-list' }, sent.map(sentRow))
      : h('div', { class: 'card' }, emptyState('upload', _('Nothing sent yet.'))));
  root.removeAttribute('aria-busy');
}

function stateText(visit, backoff, paused, sending = null) {
  if (visit.outbox === 'attention') return [_('Needs attention'), 'red'];
  if (paused) return [_('Paused: log in again'), 'amber'];
  if (!navigator.onLine) return [_('Waiting for the network'), 'amber'];
  if (backoff && backoff.next_at > Date.now()) {
    return [_('Retrying at {time}', { time: fmt(backoff.next_at, 'seconds') }), 'amber'];
  }
  return [sending || STEP_LABELS()[visit.sync?.step || 'visit'], 'blue'];
}

function waitingRow(visit, counts, backoff, paused) {
  const [label, cls] = stateText(visit, backoff, paused);
  const error = visit.sync?.last_error;
  return h('li', { class: 'list-item', dataset: { visit: visit.id }, style: 'align-items:flex-start' },
    icon(visit.kind === 'audit' ? 'clipboard' : 'eye-off'),
    h('div', { class: 'main' },
      h('div', { class: 'title' }, storeName(visit.store)),
      h('div', { class: 'meta' }, `${tr(visit.definition.title)} · ${fmt(visit.started_at)}`),
      h('div', { class: 'meta' }, _('Photos: {sent} of {total} sent', { sent: counts.total - counts.left, total: counts.total })),
      visit.signoff?.state === 'pending' ? h('div', { class: 'meta' }, icon('note'), ' ',
        _('Signed by {name}: the sign-off follows the visit', { name: visit.signoff.body.name })) : null,
      error && visit.outbox === 'attention' ? errorDetails(error) : null,
      error && visit.outbox !== 'attention' ? h('div', { class: 'meta' }, _('Last try: {error}', { error: errorText(error) })) : null),
    h('div', { class: 'end', style: 'display:flex;flex-direction:column;gap:8px;align-items:flex-end' },
      h('span', { class: `badge ${cls}`, dataset: { state: visit.outbox } }, label),
      visit.outbox === 'attention' ? h('button', { type: 'button', class: 'btn', onclick: () => retry(visit) }, _('Try again')) : null,
      visit.outbox === 'attention' && ['visit', 'photos', 'submit'].includes(visit.sync?.step)
        ? h('button', { type: 'button', class: 'btn ghost', onclick: () => reopen(visit) }, _('Edit')) : null));
}

/** The evidence of a fix: its photos, then the action marked done. */
function fixRow(fix, backoff, paused) {
  const [label, cls] = stateText(fix, backoff, paused, _('Sending the evidence'));
  const error = fix.sync?.last_error;
  const left = fix.photos.filter((p) => p.state === 'pending').length;
  return h('li', { class: 'list-item', dataset: { fix: fix.id }, style: 'align-items:flex-start' },
    icon('camera'),
    h('div', { class: 'main' },
      h('div', { class: 'title' }, actionTitle(fix.action)),
      h('div', { class: 'meta' }, [storeName(fix.action.store), _('Evidence of the fix')].filter(Boolean).join(' · ')),
      h('div', { class: 'meta' }, _('Photos: {sent} of {total} sent', { sent: fix.photos.length - left, total: fix.photos.length })),
      error && fix.outbox === 'attention' ? errorDetails(error) : null,
      error && fix.outbox !== 'attention' ? h('div', { class: 'meta' }, _('Last try: {error}', { error: errorText(error) })) : null),
    h('div', { class: 'end', style: 'display:flex;flex-direction:column;gap:8px;align-items:flex-end' },
      h('span', { class: `badge ${cls}`, dataset: { state: fix.outbox } }, label),
      fix.outbox === 'attention' ? h('button', { type: 'button', class: 'btn', onclick: () => retryFix(fix) }, _('Try again')) : null));
}

async function retryFix(fix) {
  fix.outbox = 'queued';
  await put('fixes', fix);
  await syncNow(true);
  await render();
}

function errorText(error) {
  if (error.kind === 'network') return _('no network');
  if (error.message === 'not-acknowledged') return _('the network answered instead of the server (a Wi-Fi login page?)');
  if (error.kind === 'auth') return _('signed out');
  return error.message || `HTTP ${error.status}`;
}

function errorDetails(error) {
  const lines = [];
  const walk = (value, path) => {
    if (Array.isArray(value)) lines.push(`${path}: ${value.join(' ')}`);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(error.errors, '');
  return h('div', { class: 'flash small', style: 'margin-top:6px' }, errorText(error),
    lines.length ? h('ul', { style: 'margin:4px 0 0;padding-left:18px' }, lines.slice(0, 6).map((l) => h('li', {}, l))) : null);
}

function sentRow(visit) {
  const score = visit.server && visit.server.score;
  const unsigned = visit.kind === 'audit' && !visit.signoff;
  return h('li', { class: 'row', style: 'flex-wrap:nowrap;gap:4px' },
    h('a', { class: 'list-item', style: 'flex:1;min-width:0', href: `/visit?id=${visit.id}`, dataset: { visit: visit.id } },
      icon('check'),
      h('div', { class: 'main' }, h('div', { class: 'title' }, storeName(visit.store)),
        h('div', { class: 'meta' }, _('Sent {time}', { time: fmt(visit.sent_at) }),
          visit.signoff ? ` · ${_('Signed by {name}', { name: visit.signoff.body.name })}` : '')),
      score ? scoreChip(score.total, (score.red_lines || []).length > 0) : null),
    unsigned ? h('a', { class: 'btn ghost', href: `/signoff?visit=${visit.id}`, 'aria-label': _('Sign-off') }, icon('note'), h('span', { class: 'hide-phone' }, _('Sign-off'))) : null);
}

async function storageCard() {
  const persisted = await getKv('persisted');
  let usage = '';
  if (navigator.storage && navigator.storage.estimate) {
    const { usage: used = 0, quota = 0 } = await navigator.storage.estimate();
    usage = _('{used} MB used of {quota} MB available', { used: (used / 1e6).toFixed(1), quota: Math.round(quota / 1e6) });
  }
  const [text, cls] = persisted === 'granted'
    ? [_('Persistent storage: granted. The browser will not clear saved visits.'), 'green']
    : persisted === 'refused'
      ? [_('Persistent storage: refused. The browser may clear saved visits when space runs low — send them soon or export them.'), 'amber']
      : [_('Persistent storage: not available in this browser.'), 'amber'];
  return h('div', { class: 'card', style: 'margin-bottom:16px', id: 'storage-card' },
    h('div', { class: 'row', style: 'flex-wrap:nowrap;align-items:flex-start' },
      h('span', { class: `badge ${cls}`, dataset: { persisted: persisted || 'unknown' } }, icon(cls === 'green' ? 'check' : 'alert')),
      h('div', {}, h('p', { style: 'margin:0' }, text), usage ? h('p', { class: 'muted small', style: 'margin:0' }, usage) : null)));
}

async function sendNow(event) {
  event.currentTarget.disabled = true;
  await syncNow(true);
  await render();
}

async function retry(visit) {
  visit.outbox = 'queued';
  await put('visits', visit);
  await syncNow(true);
  await render();
}

async function reopen(visit) {
  visit.outbox = 'draft';
  visit.sync = { step: 'visit', attempts: 0, last_error: visit.sync?.last_error || null };
  await put('visits', visit);
  window.location.href = `/${visit.kind}?visit=${visit.id}#s=${visit.definition.sections.length}`;
}

function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** The last resort: every waiting visit with its photos in one JSON file the user keeps. */
async function exportPending() {
  const visits = (await all('visits')).filter((v) => v.user_id === user.id && v.outbox !== 'sent');
  const out = [];
  for (const visit of visits) {
    const photos = [];
    for (const photo of await photosOf(visit.id)) {
      if (photo.blob) photos.push({ id: photo.id, item: photo.item, type: photo.type, taken_at: photo.taken_at, data: await dataUrl(photo.blob) });
    }
    const { definition, ...rest } = visit;
    out.push({ ...rest, checklist_title: definition.title, photos_data: photos });
  }
  const file = new Blob([JSON.stringify({ exported_at: new Date().toISOString(), user_id: user.id, visits: out }, null, 1)],
    { type: 'application/json' });
  const link = h('a', { href: URL.createObjectURL(file), download: `visits-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}.json` });
  document.body.append(link);
  link.click();
  link.remove();
}

if (typeof BroadcastChannel === 'function') {
  let timer = null;
  new BroadcastChannel('outbox').addEventListener('message', () => {
    clearTimeout(timer);
    timer = setTimeout(render, 150);
  });
}
window.addEventListener('online', render);
window.addEventListener('offline', render);
await render();
