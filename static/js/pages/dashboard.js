// The regional manager's dashboard (GET /api/v1/dashboard): for a region, a period and a
// checklist, the league table with the change since the period before, the items failing most,
// the functions × key moments heat map, the peak and end tiles, action closure and coverage.
// Every figure opens the visits behind it; a visit opens with its photos. The bars are SVG
// drawn here; the colours come from the server (the region report's heat colours).

import { boot } from '../app.js';
import { cachedJson, deviceFirst, rows } from '../data.js';
import { _, fmt, lang } from '../i18n.js';
import { emptyState, h, icon, mount, params, unavailable } from '../ui.js';

await boot();
const root = document.getElementById('view');
const query = params();
const SVG = 'http://www.w3.org/2000/svg';

const day = (value) => (value ? fmt(`${value}T12:00:00`, 'date') : '');
const num = (value) => (value === null || value === undefined ? '–' : String(Math.round(value * 10) / 10));

function dashboardPath(regionId) {
  const args = new URLSearchParams({ region_id: regionId, lang });
  for (const key of ['from', 'to', 'checklist']) if (query.get(key)) args.set(key, query.get(key));
  return `/api/v1/dashboard?${args}`;
}

/** A horizontal bar of 0–100 as SVG, in the figure's colour. */
function bar(percent, color) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 100 10');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'dash-bar');
  svg.setAttribute('aria-hidden', 'true');
  const back = document.createElementNS(SVG, 'rect');
  Object.entries({ width: 100, height: 10, rx: 2, fill: '#e8edf1' }).forEach(([k, v]) => back.setAttribute(k, v));
  const front = document.createElementNS(SVG, 'rect');
  Object.entries({ width: Math.max(0, Math.min(100, percent || 0)), height: 10, rx: 2, fill: color || '#6b8796' })
    .forEach(([k, v]) => front.setAttribute(k, v));
  svg.append(back, front);
  return svg;
}

function change(value) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, '–');
  const up = value > 0;
  const flat = value === 0;
  return h('span', { class: `dash-change ${flat ? '' : up ? 'up' : 'down'}`,
    title: _('Change since the period before') }, flat ? '±0' : `${up ? '▲ +' : '▼ '}${num(value)}`);
}

// ---------- The visits behind a figure ----------

/** The visits behind a figure, in a dialog over the page: each opens with its photos. */
function drill(body, title, figure) {
  const panel = document.getElementById('drill');
  const ids = figure.visit_ids || [];
  mount(panel, h('div', { class: 'row dash-drill-head' }, h('h2', {}, title),
    h('button', { class: 'btn ghost', type: 'button', onclick: () => panel.close() }, _('Close'))),
  ids.length ? h('ul', { class: 'dash-visits' }, ids.map((id) => {
    const v = body.visits[id] || {};
    return h('li', {}, h('a', { href: `/visit?id=${id}`, class: 'dash-visit', dataset: { visit: id } },
      h('span', { class: 'dash-visit-store' }, v.store || id, h('span', { class: 'muted small' }, ` ${v.code || ''}`)),
      h('span', { class: 'muted small' }, day(v.date)),
      v.red_line ? h('span', { class: 'badge red' }, _('Red line')) : null,
      h('span', { class: 'dash-visit-score' }, num(v.total)), icon('next')));
  })) : emptyState('check', _('No visit missed anything here.')),
  figure.more ? h('p', { class: 'muted small' }, _('{n} more visits are not listed.', { n: figure.more })) : null);
  panel.showModal();
}

// ---------- Sections ----------

function field(id, label, input) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

function filterForm(regions, body) {
  const form = h('form', { class: 'filters', id: 'dashboard-filters',
    onsubmit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams();
      for (const [k, v] of new FormData(e.target)) if (v) next.set(k, v);
      window.location.search = next.toString();
    } },
  field('region_id', _('Region'), h('select', { id: 'region_id', name: 'region_id' }, regions.map((r) =>
    h('option', { value: r.id, selected: r.id === body.region.id }, lang === 'en' && r.name_en ? r.name_en : r.name)))),
  field('checklist', _('Checklist'), h('select', { id: 'checklist', name: 'checklist' },
    body.checklists.map((c) => h('option', { value: c.slug, selected: body.checklist && c.slug === body.checklist.slug },
      `${c.title} (${c.visits})`)))),
  field('from', _('From'), h('input', { type: 'date', id: 'from', name: 'from', value: body.period.from })),
  field('to', _('To'), h('input', { type: 'date', id: 'to', name: 'to', value: body.period.to })),
  h('div', { class: 'row' }, h('button', { class: 'btn primary', type: 'submit' }, _('Apply'))));
  return h('details', { class: 'card filter-box', style: 'margin-bottom:16px', open: window.innerWidth >= 700 },
    h('summary', {}, icon('list'), `${body.region.name} · ${day(body.period.from)} – ${day(body.period.to)}`), form);
}

function tile(key, label, value, sub, alert = false, onclick = null) {
  const attrs = { class: `card stat dash-tile ${alert ? 'alert' : ''}`, dataset: { figure: key } };
  const inner = [h('div', { class: 'value' }, value), h('div', { class: 'label' }, label), sub ? h('div', { class: 'muted small' }, sub) : null];
  return onclick ? h('button', { ...attrs, type: 'button', onclick }, inner) : h('div', attrs, inner);
}

function tiles(body) {
  const k = body.kpis;
  const a = body.actions;
  const c = body.coverage;
  const peaks = body.peak_end.map((t) => tile(`moment-${t.moment}`, t.label,
    h('span', { class: 'dash-tile-value' }, num(t.percent), h('span', { class: 'dash-swatch', style: `background:${t.color}` })),
    h('span', {}, change(t.change), ' ', _('{n} visits', { n: t.rated })), false,
    () => drill(body, `${t.label} · ${_('visits that missed something')}`, t)));
  return h('div', { class: 'dash-tiles', id: 'dashboard-tiles' },
    tile('visits', _('Visits (all checklists)'), k.visits, _('{visited} of {stores} stores visited', { visited: k.visited, stores: k.stores })),
    tile('red_lines', _('Visits with a red line'), k.red_line_visits, null, k.red_line_visits > 0),
    ...peaks,
    tile('closure', _('Actions closed'), a.rate === null ? '–' : `${a.rate}%`,
      a.median_days === null ? _('{verified} of {agreed} verified', { verified: a.verified, agreed: a.agreed })
        : _('{verified} of {agreed} verified · median {days} days', { verified: a.verified, agreed: a.agreed, days: num(a.median_days) })),
    tile('overdue', _('Actions overdue'), a.overdue, null, a.overdue > 0),
    tile('disputes', _('Disputes overdue'), k.overdue_disputes, null, k.overdue_disputes > 0),
    tile('coverage', _('Visits due, done'), `${c.done}/${c.done + c.due + c.overdue + c.missed}`,
      _('{overdue} overdue · {missed} missed', { overdue: c.overdue, missed: c.missed }), c.overdue + c.missed > 0));
}

function league(body) {
  return h('div', { class: 'card', id: 'dashboard-league' },
    h('h2', {}, _('League table')),
    h('div', { class: 'cov-scroll' }, h('table', { class: 'table dash-table' },
      h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, _('Store')), h('th', { class: 'dash-wide' }, ''),
        h('th', { class: 'num' }, _('Score')), h('th', { class: 'num' }, _('Change')), h('th', { class: 'num' }, _('Visits')),
        h('th', { class: 'num' }, _('Red lines')))),
      h('tbody', {}, body.league.map((r) => h('tr', { dataset: { store: r.code }, class: r.visits ? 'dash-link' : 'muted',
        onclick: r.visits ? () => drill(body, `${r.name} · ${_('visits')}`, r) : null },
      h('td', { class: 'num' }, r.rank ?? h('span', { class: 'muted', title: _('Too few visits to rank') }, '–')),
      h('td', {}, r.name, h('div', { class: 'muted small' }, r.code)),
      h('td', { class: 'dash-wide' }, r.score === null ? '' : bar(r.score, r.color)),
      h('td', { class: 'num dash-score' }, num(r.score)), h('td', { class: 'num' }, change(r.change)),
      h('td', { class: 'num' }, r.visits), h('td', { class: `num ${r.red_lines ? 'cov-alert' : 'muted'}` }, r.red_lines)))))),
    h('p', { class: 'muted small' }, _('Change: against {from} – {to}. A store with fewer than 3 visits is not ranked.',
      { from: day(body.previous.from), to: day(body.previous.to) })));
}

function items(body) {
  return h('div', { class: 'card', id: 'dashboard-items' },
    h('h2', {}, _('Items failing most')),
    body.items.length ? h('ul', { class: 'dash-items' }, body.items.map((i) => h('li', {},
      h('button', { type: 'button', class: 'dash-item', dataset: { item: i.item },
        onclick: () => drill(body, `${i.text} · ${_('visits that missed it')}`, i) },
      h('span', { class: 'dash-item-text' }, i.text),
      h('span', { class: 'dash-item-bar' }, bar(i.rate, '#c0392b')),
      h('span', { class: 'num dash-item-rate' }, `${i.rate}%`),
      h('span', { class: 'muted small' }, _('{missed} of {scored} visits · {stores} stores', { missed: i.missed, scored: i.scored, stores: i.stores }))))))
      : emptyState('check', _('No item was missed in this period.')));
}

function heatmap(body) {
  const map = body.heatmap;
  if (!map.cells.length) return null;
  const cells = new Map(map.cells.map((c) => [`${c.function}|${c.moment}`, c]));
  return h('div', { class: 'card', id: 'dashboard-heatmap' },
    h('h2', {}, _('Functions × key moments')),
    h('div', { class: 'cov-scroll' }, h('table', { class: 'dash-heat' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), map.moments.map((m) => h('th', { class: m.peak_end ? 'dash-peak' : '' }, m.label)))),
      h('tbody', {}, map.functions.map((f) => h('tr', {}, h('th', { scope: 'row' }, f.label),
        map.moments.map((m) => {
          const c = cells.get(`${f.id}|${m.id}`);
          if (!c) return h('td', { class: 'dash-empty' }, '');
          return h('td', {}, h('button', { type: 'button', class: 'dash-cell', style: `background:${c.color}`,
            dataset: { cell: `${f.id}-${m.id}` }, title: _('{missed} of {rated} visits missed something', { missed: c.missed, rated: c.rated }),
            onclick: () => drill(body, `${f.label} × ${m.label} · ${_('visits that missed something')}`, c) },
          num(c.percent), c.missed ? h('small', {}, ` (${c.missed})`) : null));
        })))))),
    h('p', { class: 'muted small' }, _('Average percent of the visits in each cell; in brackets, the visits that missed something there. The dispute (the peak) and the departure (the end) are marked.')));
}

async function render() {
  let regions = null;
  let body = null;
  let refused = false;
  try {
    regions = rows(await cachedJson('/api/v1/regions'));
    const regionId = query.get('region_id') || (regions[0] && regions[0].id);
    if (regionId) body = await cachedJson(dashboardPath(regionId));
  } catch (error) {
    refused = error.status === 403 || error.status === 404;
  }
  if (refused) {
    mount(root, h('div', { class: 'card' }, emptyState('alert', _('The dashboard is for the managers of a region.'))));
  } else if (!body) {
    mount(root, unavailable());
  } else {
    mount(root, filterForm(regions, body), tiles(body),
      h('dialog', { class: 'card dash-drill', id: 'drill', onclick: (e) => { if (e.target.id === 'drill') e.target.close(); } }),
      body.checklist ? h('div', { class: 'dash-grid' }, league(body), items(body)) :
        h('div', { class: 'card' }, emptyState('clock', _('No visit of this checklist in this period.'))),
      heatmap(body));
  }
  root.removeAttribute('aria-busy');
}

await deviceFirst(render);
