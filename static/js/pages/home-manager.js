// The regional manager's overview: the stores of the region with their scores, what waits for
// review, overdue actions, and the PDF reports.

import { cachedJson, rows } from '../data.js';
import { downloadPdf, lastDays } from '../download.js';
import { _, fmt, fmtNumber, storeName } from '../i18n.js';
import { emptyState, h, icon, mount, scoreChip, unavailable } from '../ui.js';

const PERIOD_DAYS = 30;

async function safe(path) {
  try { return rows(await cachedJson(path)); } catch { return null; }
}

export async function managerHome(root) {
  const period = lastDays(PERIOD_DAYS);
  const [stores, regions, visits, queue, overdue, queries] = await Promise.all([
    safe('/api/v1/stores'), safe('/api/v1/regions'),
    safe(`/api/v1/visits?from=${period.from}&limit=200`),
    safe('/api/v1/visits?kind=mystery&status=submitted&limit=200'),
    safe('/api/v1/actions?overdue=true'),
    safe('/api/v1/queries?status=open'),
  ]);
  const scored = (visits || []).filter((v) => v.total !== null && v.total !== undefined);
  const average = scored.length ? scored.reduce((sum, v) => sum + v.total, 0) / scored.length : null;
  mount(root,
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', {}, _('Region overview')),
      h('p', { class: 'sub' }, _('Last {n} days', { n: PERIOD_DAYS }), ` · ${fmt(period.from, 'date')} – ${fmt(period.to, 'date')}`))),
    h('div', { class: 'grid four', style: 'margin-bottom:16px' },
      stat(_('Visits'), visits ? visits.length : '–', '/visits'),
      stat(_('Average score'), average === null ? '–' : fmtNumber(average, 1)),
      stat(_('Awaiting review'), queue ? queue.length : '–', '/visits?queue=review', queue && queue.length > 0),
      stat(_('Overdue actions'), overdue ? overdue.length : '–', '/actions?filter=overdue', overdue && overdue.length > 0)),
    queriesCard(queries || []),
    stores === null ? unavailable() : storesCard(stores, visits || [], period),
    regionsCard(regions || [], period));
}

/** The stores' queries of mystery results waiting for a ruling, oldest first. */
function queriesCard(queries) {
  if (!queries.length) return null;
  return h('div', { class: 'card', id: 'queries-to-rule', style: 'margin-bottom:16px' },
    h('h2', {}, icon('flag'), ' ', _('Queries to rule ({n})', { n: queries.length })),
    h('ul', { class: 'query-list' }, [...queries].reverse().map((q) => h('li', {},
      h('a', { href: `/visit?id=${q.visit_id}#query-${q.id}` }, q.reason.length > 60 ? `${q.reason.slice(0, 60)}…` : q.reason),
      h('span', { class: 'muted small' }, ` · ${fmt(q.raised_at)}`)))));
}

function stat(label, value, href = null, alert = false) {
  const body = [h('div', { class: 'value' }, value), h('div', { class: 'label' }, label)];
  return href
    ? h('a', { class: `card stat ${alert ? 'alert' : ''}`, href, style: 'text-decoration:none;color:inherit' }, body)
    : h('div', { class: 'card stat' }, body);
}

function latestByStore(visits) {
  const latest = {};
  const count = {};
  for (const v of visits) {
    count[v.store_id] = (count[v.store_id] || 0) + 1;
    if (!latest[v.store_id] || v.started_at > latest[v.store_id].started_at) latest[v.store_id] = v;
  }
  return { latest, count };
}

function storesCard(stores, visits, period) {
  const { latest, count } = latestByStore(visits);
  const ordered = [...stores].sort((a, b) => {
    const sa = latest[a.id]?.total ?? 101;
    const sb = latest[b.id]?.total ?? 101;
    return sa - sb || a.code.localeCompare(b.code);
  });
  if (!ordered.length) return h('div', { class: 'card' }, emptyState('store', _('No store in your regions.')));
  return h('div', { class: 'card', style: 'margin-bottom:16px' },
    h('div', { class: 'row', style: 'margin-bottom:8px' }, h('h2', { style: 'margin:0' }, _('Stores')),
      h('span', { class: 'spacer' }), h('span', { class: 'muted small' }, _('Lowest score first'))),
    h('div', { style: 'overflow-x:auto' }, h('table', { class: 'table', id: 'stores-table' },
      h('thead', {}, h('tr', {},
        h('th', {}, _('Store')), h('th', { class: 'hide-phone' }, _('Last visit')),
        h('th', { class: 'num hide-phone' }, _('Visits')), h('th', { class: 'num' }, _('Score')),
        h('th', {}, h('span', { class: 'sr-only' }, _('Report'))))),
      h('tbody', {}, ordered.map((store) => {
        const last = latest[store.id];
        return h('tr', { dataset: { store: store.code } },
          h('td', {}, last ? h('a', { href: `/visits?store_id=${store.id}` }, storeName(store)) : storeName(store),
            h('div', { class: 'muted small' }, store.code)),
          h('td', { class: 'hide-phone' }, last ? fmt(last.started_at, 'date') : '–'),
          h('td', { class: 'num hide-phone' }, count[store.id] || 0),
          h('td', { class: 'num' }, last ? scoreChip(last.total, last.red_line) : h('span', { class: 'muted' }, '–')),
          h('td', { class: 'num' }, h('button', { type: 'button', class: 'btn ghost',
            'aria-label': _('Store report: {store}', { store: storeName(store) }),
            onclick: (e) => downloadPdf(`/api/v1/stores/${store.id}/report.pdf?from=${period.from}&to=${period.to}`,
              e.currentTarget, `${store.code}.pdf`) }, icon('download'))));
      })))));
}

function regionsCard(regions, period) {
  if (!regions.length) return null;
  return h('div', { class: 'card' }, h('h2', {}, _('Reports')),
    h('p', { class: 'muted' }, _('A PDF per region for the last {n} days: scores, red lines, trends and actions.', { n: PERIOD_DAYS })),
    h('div', { class: 'row' }, regions.map((region) => h('button', { type: 'button', class: 'btn', dataset: { region: region.code },
      onclick: (e) => downloadPdf(`/api/v1/regions/${region.id}/report.pdf?from=${period.from}&to=${period.to}`,
        e.currentTarget, `${region.code}.pdf`) }, icon('download'), storeName(region)))));
}
