// The caller's notifications, newest first: tapping one marks it read and opens what it is about.

import { getJson, writeJson } from '../api.js';
import { boot, showUnread } from '../app.js';
import { cachedJson, deviceFirst, forget } from '../data.js';
import { downloadPdf } from '../download.js';
import { _, fmt } from '../i18n.js';
import { emptyState, h, icon, mount, params, unavailable } from '../ui.js';

await boot();
const root = document.getElementById('view');
const readAll = document.getElementById('read-all');
const FILTERS = () => [['unread', _('Unread')], ['all', _('All')]];
const filter = params().get('filter') === 'unread' ? 'unread' : 'all';
const ICONS = { visit_published: 'clipboard', visit_rejected: 'alert', assignment_created: 'pin',
  report_ready: 'download', report_failed: 'alert' };
const JOB = /^\/api\/v1\/jobs\/[^/]+$/;

/** The page of the app that a notification's link points at, or null (stay here). */
function pageOf(link) {
  if (!link) return null;
  const visit = /^\/api\/v1\/visits\/([0-9a-f-]+)$/i.exec(link);
  if (visit) return `/visit?id=${visit[1]}`;
  if (/^\/api\/v1\/assignments\/\d+$/.test(link)) return '/';  // the shopper's assignments
  return link.startsWith('/') && !link.startsWith('/api/') ? link : null;
}

async function open(event, note) {
  event.preventDefault();
  const button = event.currentTarget;
  const target = pageOf(note.link);
  if (!note.read) {
    try {
      await writeJson('PATCH', `/api/v1/notifications/${note.id}`, { read: true });
      note.read = true;
    } catch { /* offline: it stays unread, the page it points at may still open */ }
  }
  if (target) { window.location.href = target; return; }
  if (note.kind === 'report_ready' && JOB.test(note.link)) await openReport(note.link, button);
  forget();
  await render();
  showUnread();
}

/** A finished region report: download the PDF that the job document names. */
async function openReport(link, button) {
  let job = null;
  try { job = await getJson(link); } catch { return; }
  if (job.result_url) await downloadPdf(job.result_url, button, 'region-report.pdf');
}

function row(note) {
  const target = pageOf(note.link);
  const attrs = { class: `list-item ${note.read ? '' : 'unread'}`, dataset: { notification: note.id },
    onclick: (event) => open(event, note) };
  const content = [icon(ICONS[note.kind] || 'note'),
    h('div', { class: 'main' },
      h('div', { class: 'title' }, note.read ? null : h('span', { class: 'sr-only' }, _('Unread'), ': '), note.subject),
      note.body.split('\n').filter(Boolean).map((line) => h('div', { class: 'meta' }, line))),
    h('time', { class: 'end', datetime: note.created_at }, fmt(note.created_at))];
  return h('li', {}, target ? h('a', { ...attrs, href: target }, content) : h('button', { ...attrs, type: 'button' }, content));
}

async function render() {
  let list = null;
  try { list = await cachedJson(`/api/v1/notifications${filter === 'unread' ? '?unread=true' : ''}`); } catch { list = null; }
  readAll.hidden = !list || !list.some((note) => !note.read);
  mount(root,
    h('nav', { class: 'chips', 'aria-label': _('Filter') }, FILTERS().map(([key, label]) =>
      h('a', { class: 'chip', href: `/notifications?filter=${key}`, 'aria-pressed': String(key === filter) }, label))),
    list === null ? unavailable()
      : list.length ? h('ul', { class: 'list card notes', style: 'padding:0 12px', id: 'notification-list' }, list.map(row))
        : h('div', { class: 'card' }, emptyState('bell', filter === 'unread' ? _('No unread notification.') : _('No notification yet.'))));
  root.removeAttribute('aria-busy');
}

readAll.addEventListener('click', async () => {
  readAll.disabled = true;
  try { await writeJson('POST', '/api/v1/notifications/read', {}); } catch { /* offline: nothing changed */ }
  forget();
  readAll.disabled = false;
  await render();
  showUnread();
});

await deviceFirst(render);
