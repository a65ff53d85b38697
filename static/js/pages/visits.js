// Visits of the region (or one's own), with filters; the review queue is a preset of it.

import { boot, user } from '../app.js';
import { cachedJson, deviceFirst, loadStores, rows } from '../data.js';
import { _, fmt, storeName } from '../i18n.js';
import { emptyState, h, icon, mount, params, scoreChip, statusBadge, unavailable } from '../ui.js';

await boot();
const root = document.getElementById('view');
const query = params();
const review = query.get('queue') === 'review';
const filters = {
  store_id: query.get('store_id') || '',
  kind: review ? 'mystery' : query.get('kind') || '',
  status: review ? 'submitted' : query.get('status') || '',
  from: query.get('from') || '',
  to: query.get('to') || '',
};
let stores = [];
let byId = {};

function select(id, label, value, options) {
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name: id }, options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value) }, text))));
}

function filterForm() {
  const active = Object.entries(filters).filter(([, v]) => v).length;
  const form = h('form', { class: 'filters', id: 'visit-filters',
    onsubmit: (e) => {
      e.preventDefault();
      const data = new FormData(e.target);
      const next = new URLSearchParams();
      for (const [k, v] of data) if (v) next.set(k, v);
      window.location.search = next.toString();
    } },
  select('store_id', _('Store'), filters.store_id, [['', _('All stores')], ...stores.map((s) => [s.id, storeName(s)])]),
  select('kind', _('Kind'), filters.kind, [['', _('All kinds')], ['audit', _('Audit')], ['mystery', _('Mystery visit')]]),
  select('status', _('Status'), filters.status, [['', _('Any status')], ['submitted', _('Awaiting review')],
    ['published', _('Published')], ['rejected', _('Returned')], ['draft', _('Draft')]]),
  h('div', { class: 'field' }, h('label', { for: 'from' }, _('From')), h('input', { type: 'date', id: 'from', name: 'from', value: filters.from })),
  h('div', { class: 'field' }, h('label', { for: 'to' }, _('To')), h('input', { type: 'date', id: 'to', name: 'to', value: filters.to })),
  h('div', { class: 'row', style: 'grid-column:1/-1' },
    h('button', { class: 'btn primary', type: 'submit' }, _('Apply')),
    h('a', { class: 'btn ghost', href: '/visits' }, _('Clear'))));
  // Open on a tablet; on a phone only the summary line shows until tapped.
  return h('details', { class: 'card filter-box', style: 'margin-bottom:16px', open: window.innerWidth >= 700 || active > 0 },
    h('summary', {}, icon('list'), _('Filter'), active ? h('span', { class: 'badge blue' }, active) : null), form);
}

function visitRow(v) {
  return h('li', {}, h('a', { class: 'list-item', href: `/visit?id=${v.id}`, dataset: { visit: v.id } },
    icon(v.kind === 'audit' ? 'clipboard' : 'eye-off'),
    h('div', { class: 'main' },
      h('div', { class: 'title' }, storeName(byId[v.store_id]) || `#${v.store_id}`),
      h('div', { class: 'meta' }, [fmt(v.started_at), v.kind === 'audit' ? _('Audit') : _('Mystery visit')].join(' · ')),
      h('div', { class: 'row', style: 'gap:6px;margin-top:4px' }, statusBadge(v.status),
        v.red_line ? h('span', { class: 'badge red' }, icon('alert'), _('Red line')) : null,
        (v.flags || []).length ? h('span', { class: 'badge amber' }, icon('flag'), _('{n} flag(s)', { n: v.flags.length })) : null)),
    scoreChip(v.total, v.red_line)));
}

async function render() {
  const search = new URLSearchParams({ limit: '100' });
  for (const [k, v] of Object.entries(filters)) if (v) search.set(k, v);
  let list;
  [stores, list] = await Promise.all([loadStores().catch(() => []),
    cachedJson(`/api/v1/visits?${search}`).then(rows).catch(() => null)]);
  byId = Object.fromEntries(stores.map((s) => [s.id, s]));
  const title = review ? _('Review queue') : user.role === 'shopper' ? _('My visits') : _('Visits');
  const sub = review ? _('Mystery visits waiting for a reviewer: publish them or return them with a comment.')
    : _('Newest first.');
  mount(root,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, title), h('p', { class: 'sub' }, sub))),
    review ? null : filterForm(),
    list === null ? unavailable()
      : list.length ? h('ul', { class: 'list card', id: 'visit-list', style: 'padding:0 12px' }, list.map(visitRow))
        : h('div', { class: 'card' }, emptyState('list', review ? _('Nothing waits for review.') : _('No visit matches.'))));
  root.removeAttribute('aria-busy');
}

await deviceFirst(render);
