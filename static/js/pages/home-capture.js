// Home of the people who capture: the supervisor's audits, the shopper's assignments.

import { user } from '../app.js';
import { currentChecklist, refreshChecklists } from '../checklists.js';
import { cachedJson, rows, storesById } from '../data.js';
import { getKv } from '../db.js';
import { _, fmt, storeName, tr } from '../i18n.js';
import { pending } from '../outbox.js';
import { estimate } from '../score.js';
import { emptyState, h, icon, mount, scoreChip, toast, unavailable } from '../ui.js';
import { createVisit, discardVisit, drafts } from '../visits.js';

const name = document.body.dataset.userName || '';

/** Keep every checklist the user may need on the device; the page does not wait for it. */
export function keepChecklists() {
  refreshChecklists()
    .then(() => { document.body.dataset.checklists = 'ready'; })
    .catch(() => { document.body.dataset.checklists = 'offline'; });
}

export async function captureHome(root) {
  const [mine, waiting] = await Promise.all([drafts(user.id), pending(user.id)]);
  const shopper = user.role === 'shopper';
  // The cards read the network side by side: a slow link costs one wait, not one per card.
  const [notice, assignments, due, followUp, recent] = await Promise.all([
    mine.length || waiting.length ? persistenceNotice() : null,
    shopper ? assignmentsCard(mine) : startCard(),
    shopper ? null : dueCard(mine),
    shopper ? null : followUpCard(),
    recentCard(shopper)]);
  mount(root,
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', {}, _('Hello, {name}', { name })),
      h('p', { class: 'sub' }, fmt(new Date(), 'date')))),
    notice, assignments, due, outboxCard(waiting), followUp,
    draftsCard(shopper ? mine.filter((v) => !v.assignment_id) : mine),
    recent);
}

async function persistenceNotice() {
  const persisted = await getKv('persisted');
  if (persisted !== 'refused') return null;
  return h('p', { class: 'banner warn', style: 'border-radius:12px;margin-bottom:12px' }, icon('alert'),
    _('This browser did not grant persistent storage: it may clear saved visits when space runs low. Send visits soon, or install the app.'));
}

function startCard() {
  return h('div', { class: 'card', style: 'margin-bottom:12px' },
    h('div', { class: 'row' },
      h('div', { style: 'flex:1 1 240px' }, h('h2', {}, _('Start an audit')),
        h('p', { class: 'muted', style: 'margin:0' }, _('Choose a store — nearest first — and walk the six functions.'))),
      h('a', { class: 'btn primary big', href: '/stores', id: 'start-audit' }, icon('clipboard'), _('Start an audit'))));
}

// The due audits of plans and the follow-ups of failed visits, kept on the device: the coming
// week's and the late ones, so that a supervisor offline still knows where to go.
const DUE_PATH = '/api/v1/due-visits?status=due&status=overdue';
const DUE_AHEAD_DAYS = 7;
const day = (iso) => fmt(`${iso}T12:00:00`, 'date');  // a calendar day, whatever the zone

async function dueCard(mine) {
  const list = await cachedJson(DUE_PATH).then(rows).catch(() => null);
  if (list === null) return [h('h2', { class: 'section-title' }, _('Due audits')), unavailable()];
  const until = new Date(Date.now() + DUE_AHEAD_DAYS * 86400000).toISOString().slice(0, 10);
  const soon = list.filter((d) => d.due_from <= until);
  if (!soon.length) return null;
  const draftOf = (d) => mine.find((v) => v.store_id === d.store.id && v.checklist.slug === d.checklist);
  return [h('h2', { class: 'section-title' }, _('Due audits')),
    h('ul', { class: 'list card', id: 'due-audits', style: 'padding:0 12px' }, soon.map((d) => {
      const draft = draftOf(d);
      return h('li', { class: 'list-item', dataset: { due: d.id, store: d.store.code } },
        icon(d.kind === 'followup' ? 'refresh' : 'clock'),
        h('div', { class: 'main' },
          h('div', { class: 'title' }, storeName(d.store),
            d.status === 'overdue' ? h('span', { class: 'badge red', style: 'margin-left:8px' }, _('Overdue')) : null),
          h('div', { class: 'meta' }, [
            d.kind === 'followup' ? _('Follow-up: {n} item(s) to check again', { n: (d.items || []).length })
              : (d.plan ? d.plan.name : ''),
            d.due_from === d.due_until ? day(d.due_from) : `${day(d.due_from)} – ${day(d.due_until)}`,
          ].filter(Boolean).join(' · '))),
        h('div', { class: 'end' }, draft
          ? h('a', { class: 'btn primary', href: `/audit?visit=${draft.id}` }, _('Continue'))
          : h('button', { type: 'button', class: 'btn primary', onclick: () => startDue(d) }, _('Start'))));
    }))];
}

async function startDue(due) {
  const [checklist, stores] = await Promise.all([currentChecklist({ slug: due.checklist }), storesById()]);
  const store = stores[due.store.id] || due.store;
  if (!checklist) {
    toast(_('The checklist is not on this device yet: connect once to download it.'));
    return;
  }
  const here = await getKv('last_position');
  const location = here && Date.now() - (here.at || 0) < 600000
    ? { lat: here.lat, lon: here.lon, accuracy_m: here.accuracy_m } : null;
  const visit = await createVisit({ kind: 'audit', store, checklist, user, location });
  window.location.href = `/audit?visit=${visit.id}`;
}

/** What the stores ask of the supervisor: fixes to approve, proposals still to agree. */
async function followUpCard() {
  const count = async (status) => {
    try { return rows(await cachedJson(`/api/v1/actions?status=${status}`)).length; } catch { return 0; }
  };
  const [fixes, proposals] = await Promise.all([count('done'), count('proposed')]);
  if (!fixes && !proposals) return null;
  const link = (href, id, text, n) => (n ? h('a', { class: 'card row', href, id,
    style: 'margin-bottom:12px;text-decoration:none;color:inherit' },
  icon('flag'), h('strong', { style: 'flex:1' }, text), h('span', { class: 'badge amber' }, n), icon('next')) : null);
  return [link('/actions?filter=done', 'fixes-to-approve', _('Fixes to approve'), fixes),
    link('/actions?filter=proposed', 'proposals-to-agree', _('Proposed actions to agree'), proposals)];
}

function outboxCard(waiting) {
  if (!waiting.length) return null;
  const attention = waiting.filter((v) => v.outbox === 'attention').length;
  return h('a', { class: 'card row', href: '/outbox', style: 'margin-bottom:12px;text-decoration:none;color:inherit' },
    icon('upload'),
    h('span', { class: 'main', style: 'flex:1' },
      h('strong', {}, _('{n} visit(s) waiting to be sent', { n: waiting.length })),
      attention ? h('span', { class: 'badge red', style: 'margin-left:8px' }, _('{n} need attention', { n: attention })) : null),
    icon('next'));
}

function progress(visit) {
  const score = estimate(visit.definition, visit.answers);
  return `${score.answered}/${score.applicable}`;
}

function draftsCard(list) {
  if (!list.length) return null;
  return [h('h2', { class: 'section-title' }, _('In progress on this device')),
    h('ul', { class: 'list card', style: 'padding:0 12px' }, list.map((visit) => h('li', { class: 'list-item' },
      icon(visit.kind === 'audit' ? 'clipboard' : 'eye-off'),
      h('div', { class: 'main' }, h('div', { class: 'title' }, storeName(visit.store)),
        h('div', { class: 'meta' }, [tr(visit.definition.title), _('started {time}', { time: fmt(visit.started_at) }),
          progress(visit)].join(' · '))),
      h('div', { class: 'end row' },
        h('button', { type: 'button', class: 'btn ghost', 'aria-label': _('Discard'), onclick: async () => {
          if (!window.confirm(_('Discard this visit and its photos? This cannot be undone.'))) return;
          await discardVisit(visit);
          window.location.reload();
        } }, icon('trash')),
        h('a', { class: 'btn primary', href: `/${visit.kind}?visit=${visit.id}` }, _('Continue'))))))];
}

async function recentCard(shopper) {
  const [list, stores] = await Promise.all([
    cachedJson(`/api/v1/visits?kind=${shopper ? 'mystery' : 'audit'}&limit=5`).then(rows).catch(() => null),
    storesById()]);
  return [h('h2', { class: 'section-title' }, shopper ? _('Your recent visits') : _('Recent audits')),
    list === null ? unavailable() : list.length ? h('ul', { class: 'list card', style: 'padding:0 12px' }, list.map((v) => h('li', {},
      h('a', { class: 'list-item', href: `/visit?id=${v.id}` },
        h('div', { class: 'main' }, h('div', { class: 'title' }, storeName(stores[v.store_id]) || `#${v.store_id}`),
          h('div', { class: 'meta' }, fmt(v.started_at))),
        scoreChip(v.total, v.red_line)))))
      : h('div', { class: 'card' }, emptyState('list', _('No visits yet.')))];
}

async function assignmentsCard(mine) {
  const list = await cachedJson('/api/v1/assignments?status=planned').then(rows).catch(() => null);
  const byAssignment = Object.fromEntries(mine.filter((v) => v.assignment_id).map((v) => [v.assignment_id, v]));
  return [h('h2', { class: 'section-title' }, _('Your assignments')),
    list === null ? unavailable() : list.length ? h('div', { class: 'grid two' }, list.map((a) => assignmentCard(a, byAssignment[a.id])))
      : h('div', { class: 'card' }, emptyState('clipboard', _('No assignment right now.'))),
    h('p', { style: 'margin-top:12px' }, h('a', { href: '/stores?kind=mystery' }, _('Visit a store without an assignment')))];
}

function assignmentCard(assignment, draft) {
  const store = assignment.store || { id: assignment.store_id, name: `#${assignment.store_id}` };
  return h('article', { class: 'card', dataset: { assignment: assignment.id } },
    h('h3', {}, storeName(store)),
    h('p', { class: 'muted small', style: 'margin-bottom:8px' }, store.address || ''),
    h('p', { class: 'small' }, icon('clock'), ' ', `${fmt(assignment.window_start, 'date')} – ${fmt(assignment.window_end, 'date')}`),
    assignment.scenario ? h('p', {}, h('strong', {}, _('Scenario'), ': '), assignment.scenario) : null,
    draft
      ? h('a', { class: 'btn primary block', href: `/mystery?visit=${draft.id}` }, _('Continue the visit'))
      : h('button', { type: 'button', class: 'btn primary block', onclick: () => startAssignment(assignment, store) },
        icon('eye-off'), _('Start the visit')));
}

async function startAssignment(assignment, store) {
  const checklist = await currentChecklist({ slug: assignment.checklist });
  if (!checklist) {
    toast(_('The checklist is not on this device yet: connect once to download it.'));
    return;
  }
  const visit = await createVisit({ kind: 'mystery', store, checklist, user, assignment });
  window.location.href = `/mystery?visit=${visit.id}`;
}
