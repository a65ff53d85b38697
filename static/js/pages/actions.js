// Corrective actions in scope, by what they wait for: overdue, open (agreed or reopened),
// proposals to agree, fixes to approve, all. Each card carries its next step (plan.js).

import { boot, user } from '../app.js';
import { cachedJson, deviceFirst, rows } from '../data.js';
import { _ } from '../i18n.js';
import { plan } from '../plan.js';
import { emptyState, h, mount, params, unavailable } from '../ui.js';

await boot();
const root = document.getElementById('view');
const FILTERS = () => [['overdue', _('Overdue')], ['open', _('Open')], ['proposed', _('To confirm')],
  ['done', _('To approve')], ['all', _('All')]];
const filter = FILTERS().some(([key]) => key === params().get('filter')) ? params().get('filter') : 'overdue';
const EMPTY = () => ({ overdue: _('No action is overdue.'), proposed: _('No proposal waits to be agreed.'),
  done: _('No fix waits for approval.') });

function paths() {
  if (filter === 'overdue') return ['/api/v1/actions?overdue=true'];
  if (filter === 'open') return ['/api/v1/actions?status=agreed', '/api/v1/actions?status=reopened'];
  if (filter === 'all') return ['/api/v1/actions'];
  return [`/api/v1/actions?status=${filter}`];
}

async function render() {
  let list = null;
  try {
    list = (await Promise.all(paths().map(cachedJson))).flatMap(rows);
  } catch {
    list = null;
  }
  const cards = plan(user, { showStore: true });
  await cards.load();
  mount(root,
    h('nav', { class: 'chips', 'aria-label': _('Filter') }, FILTERS().map(([key, label]) =>
      h('a', { class: 'chip', href: `/actions?filter=${key}`, 'aria-pressed': String(key === filter) }, label))),
    list === null ? unavailable()
      : list.length ? h('div', { class: 'plan-list', id: 'action-list' },
        list.sort((a, b) => (a.due_date || '9').localeCompare(b.due_date || '9')).map(cards.card))
        : h('div', { class: 'card' }, emptyState('check', EMPTY()[filter] || _('No action.'))));
  root.removeAttribute('aria-busy');
}

await deviceFirst(render);
