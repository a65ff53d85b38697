// The supervisor's audit: six functions section by section, then actions and submission.

import { boot, setCaptureOpen } from '../app.js';
import { questionnaire } from '../capture.js';
import { _, storeName, tr } from '../i18n.js';
import { emptyState, h, icon, mount, params } from '../ui.js';
import { loadVisit } from '../visits.js';

await boot();
const root = document.getElementById('view');
const id = params().get('visit');
const visit = id ? await loadVisit(id) : null;

if (!visit || visit.kind !== 'audit') {
  mount(root, emptyState('clipboard', _('This visit is not on this device.')),
    h('p', { class: 'center' }, h('a', { class: 'btn primary', href: '/stores' }, _('Start an audit'))));
} else if (visit.outbox !== 'draft') {
  mount(root, h('div', { class: 'card center' },
    h('h1', {}, storeName(visit.store)),
    h('p', {}, _('This visit has been submitted and is in the outbox.')),
    h('a', { class: 'btn primary', href: '/outbox' }, _('Open the outbox'))));
} else {
  setCaptureOpen(true);
  questionnaire({ visit, root, summaryExtras: actionsEditor, submitLabel: _('Submit audit') });
}

const inDays = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);

function actionsEditor(current, { render, persist, score }) {
  current.actions ||= [];
  const add = (action) => {
    current.actions.push({ id: crypto.randomUUID(), owner: '', due_date: inDays(7), ...action });
    persist(false).then(render);
  };
  const taken = new Set(current.actions.map((a) => a.item_id));
  const weak = Object.entries(score.statuses)
    .filter(([item, status]) => ['failed', 'red_line', 'partial'].includes(status) && !taken.has(item))
    .map(([item]) => findItem(current.definition, item))
    .filter((item) => item.kano !== 'delighter'); // a delighter only adds: nothing to fix
  return h('div', { class: 'card' },
    h('h2', {}, _('Agreed actions')),
    h('p', { class: 'muted' }, _('Agree each action with the store manager: what, who, by when.')),
    current.actions.map((action, n) => actionRow(current, action, n, { render, persist })),
    weak.length ? h('div', { style: 'margin:12px 0' },
      h('p', { class: 'small muted', style: 'margin-bottom:6px' }, _('Suggested from this visit')),
      h('div', { class: 'row' }, weak.map((item) => h('button', { type: 'button', class: 'btn',
        onclick: () => add({ item_id: item.id, title: _('Fix: {item}', { item: tr(item.text) }),
          coaching_question: item.coaching_question ? tr(item.coaching_question) : null }) },
      icon('plus'), tr(item.text))))) : null,
    h('button', { type: 'button', class: 'btn', onclick: () => add({ item_id: null, title: '' }) },
      icon('plus'), _('Add an action')));
}

function findItem(definition, itemId) {
  for (const section of definition.sections) {
    const found = section.items.find((i) => i.id === itemId);
    if (found) return found;
  }
  return null;
}

function actionRow(current, action, n, { render, persist }) {
  const field = (key, label, type = 'text') => {
    const inputId = `action-${n}-${key}`;
    return h('div', { class: 'field' }, h('label', { for: inputId }, label),
      h('input', { id: inputId, type, value: action[key] || '',
        oninput: (e) => { action[key] = e.target.value; persist(true); } }));
  };
  return h('div', { class: 'card flat', style: 'margin-bottom:10px;background:var(--surface-2)' },
    field('title', _('Action')),
    action.coaching_question ? h('p', { class: 'small muted' }, _('Coaching question'), ': ', action.coaching_question) : null,
    h('div', { class: 'grid two' }, field('owner', _('Owner')), field('due_date', _('Due date'), 'date')),
    h('button', { type: 'button', class: 'btn ghost', onclick: () => {
      current.actions.splice(n, 1);
      persist(false).then(render);
    } }, icon('trash'), _('Remove')));
}
