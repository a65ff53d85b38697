// Coverage of a region over a period, for its managers: per store the visits due, done, overdue
// and missed (plans' audits, follow-ups, confirmed mystery-wave visits), by plan and wave, each
// store's last visit, and the stores not visited for more than N days (GET /api/v1/coverage).

import { boot } from '../app.js';
import { cachedJson, deviceFirst, rows } from '../data.js';
import { _, fmt, lang, storeName } from '../i18n.js';
import { emptyState, h, icon, mount, params, unavailable } from '../ui.js';

await boot();
const root = document.getElementById('view');
const query = params();
const FIGURES = () => [['due', _('Due')], ['done', _('Done')], ['overdue', _('Overdue')], ['missed', _('Missed')]];
const ALERT = new Set(['overdue', 'missed']);

/** A local calendar day (YYYY-MM-DD) as people read it, never shifted by the device's zone. */
const day = (value) => (value ? fmt(`${value}T12:00:00`, 'date') : '');

function coveragePath(regionId) {
  const args = new URLSearchParams({ region_id: regionId });
  for (const key of ['from', 'to', 'days']) if (query.get(key)) args.set(key, query.get(key));
  return `/api/v1/coverage?${args}`;
}

function field(id, label, input) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

function filterForm(regions, body) {
  const form = h('form', { class: 'filters', id: 'coverage-filters',
    onsubmit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams();
      for (const [k, v] of new FormData(e.target)) if (v) next.set(k, v);
      window.location.search = next.toString();
    } },
  field('region_id', _('Region'), h('select', { id: 'region_id', name: 'region_id' }, regions.map((r) =>
    h('option', { value: r.id, selected: r.id === body.region.id }, lang === 'en' && r.name_en ? r.name_en : r.name)))),
  field('from', _('From'), h('input', { type: 'date', id: 'from', name: 'from', value: body.from, required: true })),
  field('to', _('To'), h('input', { type: 'date', id: 'to', name: 'to', value: body.to, required: true })),
  field('days', _('Not visited for more than (days)'), h('input', { type: 'number', id: 'days', name: 'days',
    min: 1, max: 3660, inputmode: 'numeric', value: body.days })),
  h('div', { class: 'row' }, h('button', { class: 'btn primary', type: 'submit' }, _('Apply')),
    h('a', { class: 'btn ghost', href: '/coverage' }, _('Clear'))));
  return h('details', { class: 'card filter-box', style: 'margin-bottom:16px', open: window.innerWidth >= 700 },
    h('summary', {}, icon('list'), `${body.region.code} · ${day(body.from)} – ${day(body.to)}`), form);
}

function stat(key, label, value) {
  return h('div', { class: `card stat ${ALERT.has(key) && value ? 'alert' : ''}`, dataset: { figure: key } },
    h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
}

function figureCells(figures, visitsHref = null) {
  return FIGURES().map(([key]) => {
    const value = figures[key];
    const text = key === 'done' && value && visitsHref ? h('a', { href: visitsHref }, value) : value;
    return h('td', { class: `num ${ALERT.has(key) && value ? 'cov-alert' : ''} ${value ? '' : 'muted'}`,
      dataset: { figure: key } }, text);
  });
}

function figureHead(first, extra = []) {
  return h('thead', {}, h('tr', {}, h('th', {}, first),
    FIGURES().map(([, label]) => h('th', { class: 'num' }, label)), extra));
}

function groupsCard(body) {
  const groups = [
    ...body.plans.map((p) => ({ name: p.kind === 'plan' ? p.name : _('Follow-up visits'), figures: p.figures, kind: p.kind })),
    ...body.waves.map((w) => ({ name: _('Wave: {name}', { name: w.name }), figures: w.figures, kind: 'wave' })),
  ];
  if (!groups.length) return null;
  return h('div', { class: 'card', id: 'coverage-groups', style: 'margin-bottom:16px' },
    h('h2', {}, _('By plan and wave')),
    h('div', { class: 'cov-scroll' }, h('table', { class: 'table cov-table' }, figureHead(_('Plan or wave')),
      h('tbody', {}, groups.map((g) => h('tr', { dataset: { kind: g.kind } },
        h('td', {}, g.name), figureCells(g.figures)))))));
}

function storesCard(body) {
  if (!body.stores.length) return h('div', { class: 'card' }, emptyState('store', _('No store in this region.')));
  const late = new Set(body.not_visited.map((s) => s.id));
  const period = `from=${body.from}&to=${body.to}`;
  return h('div', { class: 'card', id: 'coverage-stores', style: 'margin-bottom:16px' },
    h('h2', {}, _('Per store')),
    h('div', { class: 'cov-scroll' }, h('table', { class: 'table cov-table' },
      figureHead(_('Store'), [h('th', { class: 'cov-wide' }, _('Last visit')), h('th', { class: 'num cov-wide' }, _('Days since'))]),
      h('tbody', {}, body.stores.map((s) => h('tr', { dataset: { store: s.code } },
        h('td', { class: 'cov-store' }, h('a', { href: `/visits?store_id=${s.id}`, title: _('Visits of this store') }, storeName(s)),
          h('div', { class: 'muted small' }, s.code, h('span', { class: 'cov-narrow' },
            s.last_visit ? ` · ${day(s.last_visit)} · ${_('{n} days', { n: s.days_since })}` : ` · ${_('Never visited')}`))),
        figureCells(s.figures, `/visits?store_id=${s.id}&${period}`),
        h('td', { class: 'cov-wide' }, s.last_visit ? day(s.last_visit) : h('span', { class: 'muted' }, _('Never visited'))),
        h('td', { class: `num cov-wide ${late.has(s.id) ? 'cov-alert' : ''}` }, s.days_since ?? '–')))))),
    h('p', { class: 'muted small cov-note' }, _('Due: window open or still to come. Overdue: window passed, can still be done. Missed: never done, no longer expected.')));
}

function notVisitedCard(body) {
  const list = body.not_visited;
  return h('div', { class: 'card', id: 'coverage-not-visited' },
    h('h2', {}, icon('alert'), ' ', _('Stores not visited for more than {n} days', { n: body.days })),
    list.length ? h('ul', { class: 'cov-list' }, list.map((s) => h('li', { dataset: { store: s.code } },
      h('a', { href: `/visits?store_id=${s.id}` }, storeName(s)), h('span', { class: 'muted small' }, ` ${s.code}`),
      h('span', { class: 'spacer' }),
      s.last_visit ? h('span', { class: 'badge amber' }, _('{n} days', { n: s.days_since }))
        : h('span', { class: 'badge red' }, _('Never visited')))))
      : emptyState('check', _('Every store was visited in the last {n} days.', { n: body.days })));
}

async function render() {
  let regions = null;
  let body = null;
  let refused = false;
  try {
    regions = rows(await cachedJson('/api/v1/regions'));
    const regionId = query.get('region_id') || (regions[0] && regions[0].id);
    if (regionId) body = await cachedJson(coveragePath(regionId));
  } catch (error) {
    refused = error.status === 403 || error.status === 404;
  }
  if (refused) {
    mount(root, h('div', { class: 'card' }, emptyState('alert', _('Coverage is for the managers of a region.'))));
  } else if (regions && !regions.length) {
    mount(root, h('div', { class: 'card' }, emptyState('store', _('No store in this region.'))));
  } else if (!body) {
    mount(root, unavailable());
  } else {
    const nothing = !body.plans.length && !body.waves.length;
    mount(root, filterForm(regions, body),
      h('div', { class: 'grid four', style: 'margin-bottom:16px', id: 'coverage-totals' },
        FIGURES().map(([key, label]) => stat(key, label, body.totals[key]))),
      nothing ? h('div', { class: 'card', style: 'margin-bottom:16px' }, emptyState('clock', _('Nothing was due in this period.'))) : null,
      groupsCard(body), storesCard(body), notVisitedCard(body));
  }
  root.removeAttribute('aria-busy');
}

await deviceFirst(render);
