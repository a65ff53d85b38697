// The store manager's home: the actions to put right (overdue first) with the camera to show
// each fix, the proposals to agree, the visits to acknowledge, and the coaching questions of the
// last visit — for the store (or stores) of this account.

import { writeJson } from '../api.js';
import { user } from '../app.js';
import { definitionFor } from '../checklists.js';
import { coachingQuestions } from '../coaching.js';
import { cachedJson, rows } from '../data.js';
import { _, fmt, storeName, tr } from '../i18n.js';
import { plan } from '../plan.js';
import { emptyState, h, icon, mount, scoreChip, toast, unavailable } from '../ui.js';

const name = document.body.dataset.userName || '';
const OPEN = ['agreed', 'reopened'];

async function safe(path) {
  try { return rows(await cachedJson(path)); } catch { return null; }
}

export async function storeHome(root) {
  const [stores, actions, visits] = await Promise.all([
    safe('/api/v1/stores'), safe('/api/v1/actions'), safe('/api/v1/visits?status=published&limit=50')]);
  const byStore = Object.fromEntries((stores || []).map((s) => [s.id, s]));
  const cards = plan(user, { showStore: (stores || []).length > 1, onChange: () => recount(root) });
  await cards.load();
  const list = actions || [];
  const open = list.filter((a) => OPEN.includes(a.status))
    .sort((a, b) => Number(b.overdue) - Number(a.overdue) || (a.due_date || '9').localeCompare(b.due_date || '9'));
  const proposed = list.filter((a) => a.status === 'proposed');
  const waiting = list.filter((a) => a.status === 'done');
  const unsigned = (visits || []).filter((v) => !v.signoff);
  const latest = [...(visits || [])].sort((a, b) => b.started_at.localeCompare(a.started_at))[0];
  mount(root,
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', {}, _('Hello, {name}', { name })),
      h('p', { class: 'sub' }, [(stores || []).map(storeName).join('、'), fmt(new Date(), 'date')].filter(Boolean).join(' · ')))),
    h('div', { class: 'grid four', style: 'margin-bottom:16px', id: 'store-stats' },
      stat(_('Overdue'), actions ? open.filter((a) => a.overdue).length : '–', '#todo', open.some((a) => a.overdue)),
      stat(_('To put right'), actions ? open.length : '–', '#todo'),
      stat(_('To agree'), actions ? proposed.length : '–', '#proposals', proposed.length > 0),
      stat(_('To acknowledge'), visits ? unsigned.length : '–', '#acknowledge', unsigned.length > 0)),
    section('todo', _('To put right'), actions === null ? unavailable() : open.length
      ? h('div', { class: 'plan-list' }, open.map(cards.card))
      : h('div', { class: 'card' }, emptyState('check', _('Nothing to put right now.')))),
    proposed.length ? section('proposals', _('Proposals to agree'),
      h('p', { class: 'muted small' }, _('Proposed from the gaps of a visit: agree each with an owner and a due date, or dismiss it with a reason.')),
      h('div', { class: 'plan-list' }, proposed.map(cards.card))) : null,
    section('acknowledge', _('Visits to acknowledge'), visits === null ? unavailable() : unsigned.length
      ? h('ul', { class: 'list card', style: 'padding:0 12px' }, unsigned.map((v) => acknowledgeRow(v, byStore)))
      : h('div', { class: 'card' }, emptyState('clipboard', _('Every published visit is acknowledged.')))),
    latest ? await questionsCard(latest, byStore) : null,
    waiting.length ? section('waiting', _('Waiting for approval'),
      h('div', { class: 'plan-list' }, waiting.map(cards.card))) : null);
}

function section(id, title, ...children) {
  return h('section', { id, class: 'home-section' }, h('h2', { class: 'section-title' }, title), children);
}

function stat(label, value, href, alert = false) {
  return h('a', { class: `card stat ${alert ? 'alert' : ''}`, href, style: 'text-decoration:none;color:inherit' },
    h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
}

/** The figures follow what was just agreed, dismissed or done, without a reload. */
function recount(root) {
  const count = (selector) => root.querySelectorAll(selector).length;
  const values = root.querySelectorAll('#store-stats .value');
  if (values.length < 3) return;
  values[1].textContent = count('#todo .plan-card[data-status=agreed], #todo .plan-card[data-status=reopened]');
  values[2].textContent = count('#proposals .plan-card[data-status=proposed]');
}

function acknowledgeRow(visit, byStore) {
  const store = byStore[visit.store_id];
  const button = h('button', { type: 'button', class: 'btn primary', id: `ack-${visit.id}`, onclick: async () => {
    button.disabled = true;
    try {
      await writeJson('POST', `/api/v1/visits/${visit.id}/signoff`, { name, signed_at: new Date().toISOString() });
      button.replaceWith(h('span', { class: 'badge green', dataset: { acknowledged: visit.id } }, icon('check'), _('Acknowledged')));
    } catch (error) {
      button.disabled = false;
      toast(error.kind === 'network' ? _('This needs a network connection.') : error.message);
    }
  } }, icon('check'), _('Acknowledge'));
  return h('li', { class: 'list-item', dataset: { visit: visit.id } },
    icon(visit.kind === 'audit' ? 'clipboard' : 'eye-off'),
    h('a', { class: 'main', href: `/visit?id=${visit.id}`, style: 'color:inherit;text-decoration:none' },
      h('div', { class: 'title' }, storeName(store) || `#${visit.store_id}`),
      h('div', { class: 'meta' }, [fmt(visit.started_at), visit.kind === 'audit' ? _('Audit') : _('Mystery visit')].join(' · '))),
    scoreChip(visit.total, visit.red_line),
    button);
}

/** The questions the last visit left the store to think about (the report's coached gaps). */
async function questionsCard(visit, byStore) {
  // Only a checklist at hand: a slow link must not hold the page (it is kept for the next time).
  const doc = await Promise.race([definitionFor(visit.checklist.slug, visit.checklist.version),
    new Promise((resolve) => { setTimeout(resolve, 500); })]).catch(() => null);
  if (!doc || !visit.score) return null;
  const peakEnd = (doc.scoring && doc.scoring.peak_end_moments) || [];
  const questions = coachingQuestions(doc.definition, visit.score, peakEnd);
  if (!questions.length) return null;
  return section('questions', _('Coaching questions of the last visit'),
    h('div', { class: 'card' },
      h('p', { class: 'muted small' }, [storeName(byStore[visit.store_id]), tr(doc.definition.title), fmt(visit.started_at, 'date')]
        .filter(Boolean).join(' · ')),
      h('ol', { class: 'questions' }, questions.map((q) => h('li', {},
        h('div', { class: 'muted small' }, q.text), h('div', {}, q.question)))),
      h('a', { class: 'btn ghost', href: `/visit?id=${visit.id}` }, _('Open the visit'), icon('next'))));
}
