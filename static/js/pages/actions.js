// Corrective actions of the region: overdue first, then open, then done.

import { boot } from '../app.js';
import { cachedJson, rows } from '../data.js';
import { _, fmt, storeName } from '../i18n.js';
import { actionQuestion, actionStatus, actionTitle, emptyState, h, icon, mount, params } from '../ui.js';

await boot();
const root = document.getElementById('view');
const FILTERS = () => [['overdue', _('Overdue')], ['agreed', _('Open')], ['all', _('All')]];
const filter = FILTERS().some(([key]) => key === params().get('filter')) ? params().get('filter') : 'overdue';

function path() {
  if (filter === 'overdue') return '/api/v1/actions?overdue=true';
  if (filter === 'agreed') return '/api/v1/actions?status=agreed';
  return '/api/v1/actions';
}


function row(action) {
  return h('li', { class: 'list-item', dataset: { action: action.id } },
    icon('flag'),
    h('div', { class: 'main' },
      h('div', { class: 'title' }, actionTitle(action)),
      h('div', { class: 'meta' }, [storeName(action.store), action.owner].filter(Boolean).join(' · ')),
      actionQuestion(action) ? h('div', { class: 'meta' }, _('Coaching question'), ': ', actionQuestion(action)) : null),
    h('div', { class: 'end' },
      h('span', { class: `badge ${action.overdue ? 'red' : action.status === 'verified' ? 'green' : ''}` }, actionStatus(action)),
      action.due_date ? h('div', { class: `small ${action.overdue ? '' : 'muted'}`, style: action.overdue ? 'color:var(--danger);font-weight:600' : '' },
        _('due {date}', { date: fmt(action.due_date, 'date') })) : null,
      action.visit_id ? h('a', { class: 'small', href: `/visit?id=${action.visit_id}` }, _('Visit')) : null));
}

async function render() {
  let list = null;
  try { list = rows(await cachedJson(path())); } catch { list = null; }
  mount(root,
    h('nav', { class: 'chips', 'aria-label': _('Filter') }, FILTERS().map(([key, label]) =>
      h('a', { class: 'chip', href: `/actions?filter=${key}`, 'aria-pressed': String(key === filter) }, label))),
    list === null ? h('div', { class: 'card' }, emptyState('upload', _('The list needs a network connection.')))
      : list.length ? h('ul', { class: 'list card', style: 'padding:0 12px', id: 'action-list' },
        list.sort((a, b) => (a.due_date || '9').localeCompare(b.due_date || '9')).map(row))
        : h('div', { class: 'card' }, emptyState('check', filter === 'overdue' ? _('No action is overdue.') : _('No action.'))));
  root.removeAttribute('aria-busy');
}

await render();
