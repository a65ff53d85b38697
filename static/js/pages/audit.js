// The supervisor's audit: six functions section by section, then submission and the sign-off.

import { getJson } from '../api.js';
import { boot, setCaptureOpen, user } from '../app.js';
import { questionnaire } from '../capture.js';
import { currentChecklist } from '../checklists.js';
import { storesById } from '../data.js';
import { _, storeName } from '../i18n.js';
import { emptyState, h, icon, mount, params } from '../ui.js';
import { createVisit, loadVisit } from '../visits.js';

await boot();
const root = document.getElementById('view');
const id = params().get('visit');
// ?store=…&calibrates=<published audit>: score that audit a second time (a calibration visit).
const calibrates = id ? null : params().get('calibrates');
const visit = id ? await loadVisit(id) : null;
// The server takes a calibration visit started within 4 hours of the audit it scores again.
const CALIBRATION_HOURS = 4;

if (calibrates) {
  const problem = await startCalibration(calibrates, Number(params().get('store')));
  mount(root, emptyState('clipboard', problem),
    h('p', { class: 'center' }, h('a', { class: 'btn', href: `/visit?id=${calibrates}` }, _('Back'))));
} else if (!visit || visit.kind !== 'audit') {
  mount(root, emptyState('clipboard', _('This visit is not on this device.')),
    h('p', { class: 'center' }, h('a', { class: 'btn primary', href: '/stores' }, _('Start an audit'))));
} else if (visit.outbox !== 'draft') {
  mount(root, h('div', { class: 'card center' },
    h('h1', {}, storeName(visit.store)),
    h('p', {}, _('This visit has been submitted and is in the outbox.')),
    h('div', { class: 'row', style: 'justify-content:center' },
      h('a', { class: 'btn primary', href: `/signoff?visit=${visit.id}` }, _('Sign-off')),
      h('a', { class: 'btn', href: '/outbox' }, _('Open the outbox')))));
} else {
  setCaptureOpen(true);
  // A calibration visit rates the raters: no actions, no sign-off by the store.
  questionnaire(visit.calibrates
    ? { visit, root, topExtras: calibrationNote, submitLabel: _('Submit audit') }
    : { visit, root, summaryExtras: actionsEditor, submitLabel: _('Submit audit'),
      afterSubmit: (done) => `/signoff?visit=${done.id}` });
}

/** Creates the calibration visit on this device and opens it; otherwise says why not. */
async function startCalibration(originalId, storeId) {
  let original;
  try {
    original = await getJson(`/api/v1/visits/${encodeURIComponent(originalId)}`);
  } catch {
    return _('The audit to score again could not be loaded: connect and try again.');
  }
  if (Math.abs(Date.now() - Date.parse(original.started_at)) > CALIBRATION_HOURS * 3600000) {
    return _('A calibration visit starts within 4 hours of the audit it scores again.');
  }
  const stores = await storesById();
  const store = stores[original.store_id] || stores[storeId];
  const checklist = await currentChecklist({ kind: 'audit', slug: original.checklist.slug });
  if (!store || !checklist) {
    return _('The checklist is not on this device yet: connect once to download it.');
  }
  const made = await createVisit({ kind: 'audit', store, checklist, user, calibrates: original.id });
  window.location.replace(`/audit?visit=${made.id}`);
  return _('Opening the calibration visit…');
}

function calibrationNote() {
  return h('div', { class: 'card calibration-note' },
    h('h2', {}, icon('clipboard'), ' ', _('Calibration visit')),
    h('p', { class: 'muted' }, _('You score the same store at the same time as another supervisor did: the two are compared item by item. This visit is left out of averages and proposes no actions.')));
}

const inDays = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);

/** Actions beyond the proposals: the gaps' own actions are proposed by the server and agreed
 * with the store manager after the sign-off (owner from the roster), so none is typed here. */
function actionsEditor(current, { render, persist }) {
  current.actions ||= [];
  const add = (action) => {
    current.actions.push({ id: crypto.randomUUID(), owner: '', due_date: inDays(7), ...action });
    persist(false).then(render);
  };
  return h('div', { class: 'card' },
    h('h2', {}, _('Other actions')),
    h('p', { class: 'muted' }, _('The gaps of this audit become proposed actions, agreed with the store manager after the sign-off. Add here anything else agreed: what, who, by when.')),
    current.actions.map((action, n) => actionRow(current, action, n, { render, persist })),
    h('button', { type: 'button', class: 'btn', onclick: () => add({ item_id: null, title: '' }) },
      icon('plus'), _('Add an action')));
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
