// The manager's mystery waves: a period, a checklist, a scenario mix, the stores and the rules
// (peak share, lockout, shoppers). The server proposes one visit per store within the rules;
// the manager changes a shopper or confirms, and the shoppers are told.

import { getJson, writeJson } from '../api.js';
import { boot } from '../app.js';
import { refreshChecklists } from '../checklists.js';
import { _, fmt, locale, storeName, tr } from '../i18n.js';
import {
  addDays, field, keepValues, pickedStores, select, showErrors, storePicker, today,
} from '../plan-forms.js';
import { emptyState, h, icon, mount, params, toast, unavailable } from '../ui.js';

await boot();
const root = document.getElementById('view');
const state = { regions: [], stores: [], checklists: [], shoppers: [], waves: null, wave: null };
const day = (iso) => fmt(`${iso}T12:00:00`, 'date');
// A visit's day and hours as they are at the store (its own time zone), whatever the device's.
const atStore = (iso, store, options) => new Intl.DateTimeFormat(locale,
  { ...options, timeZone: store.timezone || undefined }).format(new Date(iso));
const DATE = { month: 'short', day: 'numeric', weekday: 'short' };
const HOUR = { hour: '2-digit', minute: '2-digit', hour12: false };
const REASONS = () => ({ lockout: _('every allowed shopper was there within the lockout'),
  no_shopper: _('no shopper is allowed'), no_day: _('no day of the period fits'),
  none: _('no visit in this wave') });
const SLOTS = () => ({ peak: _('Peak'), offpeak: _('Off-peak') });

async function load() {
  try {
    const id = params().get('wave');
    const [regions, stores, checklists, shoppers, waves, wave] = await Promise.all([
      getJson('/api/v1/regions'), getJson('/api/v1/stores'), refreshChecklists(),
      getJson('/api/v1/shoppers'), getJson('/api/v1/waves'), id ? getJson(`/api/v1/waves/${id}`) : null]);
    Object.assign(state, { regions, stores, shoppers, waves, wave,
      checklists: checklists.filter((c) => c.kind === 'mystery' && !c.retired) });
  } catch {
    state.waves = null;
  }
}

const storeOf = (id) => state.stores.find((s) => s.id === id) || { id, code: `#${id}`, name: `#${id}` };
// The shopper's record, to choose by: the reviewers' average grade and the flags raised so far.
function shopperLabel(s) {
  const flags = Object.values(s.flags || {}).reduce((sum, n) => sum + n, 0);
  const record = [s.average_grade === null || s.average_grade === undefined ? null
    : _('grade {g}', { g: s.average_grade }), flags ? _('{n} flagged', { n: flags }) : null].filter(Boolean);
  return record.length ? `${s.name} (${record.join(' · ')})` : s.name;
}

function waveForm() {
  const form = h('form', { class: 'card', id: 'wave-form', novalidate: true });
  const start = addDays(today(), 1);
  const draft = { mix: [[_('Consultation'), 60], [_('Dispute'), 40]] };
  const redraw = () => keepValues(form, () => mount(form, ...body()));

  function body() {
    const regionId = Number(form.querySelector('#wave-region')?.value || state.regions[0]?.id);
    const which = form.querySelector('#wave-which')?.value || 'region';
    const stores = state.stores.filter((s) => s.region_id === regionId && s.active !== false);
    return [
      h('h2', {}, _('New mystery wave')),
      h('div', { class: 'grid two' },
        h('div', { dataset: { field: 'name' } }, field(_('Name'), h('input', { id: 'wave-name', type: 'text', required: true,
          placeholder: _('e.g. Wave 1, spring') }))),
        h('div', { dataset: { field: 'region_id' } }, field(_('Region'), select('wave-region',
          state.regions.map((r) => [r.id, tr({ zh: r.name, en: r.name_en || r.name })]), regionId, { onchange: redraw })))),
      h('div', { class: 'grid three' },
        h('div', { dataset: { field: 'checklist' } }, field(_('Checklist'), select('wave-checklist',
          state.checklists.map((c) => [c.slug, tr(c.title)])))),
        h('div', { dataset: { field: 'starts_on' } }, field(_('From'), h('input', { id: 'wave-start', type: 'date', value: start }))),
        h('div', { dataset: { field: 'ends_on' } }, field(_('To'), h('input', { id: 'wave-end', type: 'date',
          value: addDays(start, 27) })))),
      h('fieldset', { class: 'mix', dataset: { field: 'scenario_mix' } }, h('legend', {}, _('Scenario mix (%)')),
        draft.mix.map(([name, percent], n) => h('div', { class: 'row mix-row' },
          h('input', { id: `mix-name-${n}`, type: 'text', value: name, 'aria-label': _('Scenario'), dataset: { draft: 1 },
            oninput: (e) => { draft.mix[n][0] = e.target.value; } }),
          h('input', { id: `mix-percent-${n}`, type: 'number', min: 0, max: 100, value: percent, 'aria-label': _('Percent'),
            dataset: { draft: 1 },
            oninput: (e) => { draft.mix[n][1] = Number(e.target.value); } }),
          h('button', { type: 'button', class: 'btn ghost', 'aria-label': _('Remove'),
            onclick: () => { draft.mix.splice(n, 1); redraw(); } }, icon('trash')))),
        h('button', { type: 'button', class: 'btn', onclick: () => { draft.mix.push(['', 0]); redraw(); } },
          icon('plus'), _('Add a scenario'))),
      h('div', { class: 'grid two' },
        h('div', { dataset: { field: 'peak_percent' } }, field(_('Visits at peak time (%)'), h('input', { id: 'wave-peak',
          type: 'number', min: 0, max: 100, value: 50 }), _('Peak: weekends 10:00–16:00 and weekday evenings 17:00–20:00; off-peak: weekday afternoons 14:00–17:00.'))),
        h('div', { dataset: { field: 'lockout_days' } }, field(_('Lockout (days)'), h('input', { id: 'wave-lockout',
          type: 'number', min: 0, max: 365, value: 30 }), _('A shopper returns to the same store only this many days later.')))),
      h('div', { dataset: { field: 'store_ids' } }, field(_('Stores'), select('wave-which',
        [['region', _('The whole region')], ['stores', _('Chosen stores')]], which, { onchange: redraw })),
      which === 'stores' ? storePicker('wave-stores', stores) : null),
      h('div', { dataset: { field: 'shopper_ids' } }, h('fieldset', { class: 'store-picker', id: 'wave-shoppers' },
        h('legend', {}, _('Shoppers (none ticked: all of the region)')),
        state.shoppers.map((s) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: s.id }),
          ` ${shopperLabel(s)}`)))),
      h('button', { type: 'submit', class: 'btn primary', id: 'wave-propose' }, icon('check'), _('Propose the visits')),
    ];
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id) => form.querySelector(`#${id}`)?.value;
    const shopperIds = pickedStores('wave-shoppers');
    const payload = {
      name: value('wave-name'), region_id: Number(value('wave-region')), checklist: value('wave-checklist'),
      starts_on: value('wave-start'), ends_on: value('wave-end'),
      scenario_mix: Object.fromEntries(draft.mix.filter(([name]) => name.trim()).map(([name, p]) => [name.trim(), p])),
      store_ids: value('wave-which') === 'stores' ? pickedStores('wave-stores') : null,
      rules: { peak_percent: Number(value('wave-peak')), lockout_days: Number(value('wave-lockout')),
        shopper_ids: shopperIds.length ? shopperIds : null },
    };
    const button = form.querySelector('#wave-propose');
    button.disabled = true;
    try {
      const wave = await writeJson('POST', '/api/v1/waves', payload);
      window.location.href = `/waves?wave=${wave.id}`;
    } catch (error) {
      button.disabled = false;
      showErrors(form, error);
    }
  });
  redraw();
  return form;
}

function waveDetail(wave) {
  const draftWave = wave.status === 'draft';
  const counts = wave.assignments.reduce((c, a) => ({ ...c, [a.slot]: (c[a.slot] || 0) + 1 }), {});
  return [
    h('p', {}, h('a', { href: '/waves' }, icon('prev'), _('All waves'))),
    h('div', { class: 'card', id: 'wave-detail', dataset: { wave: wave.id, status: wave.status } },
      h('div', { class: 'row', style: 'justify-content:space-between' },
        h('h2', { style: 'margin:0' }, wave.name),
        h('span', { class: `badge ${draftWave ? 'amber' : 'green'}` }, draftWave ? _('Proposed') : _('Confirmed'))),
      h('p', { class: 'small muted' }, `${day(wave.starts_on)} – ${day(wave.ends_on)} · `,
        _('{n} visit(s): {peak} at peak, {off} off-peak', { n: wave.assignments.length, peak: counts.peak || 0, off: counts.offpeak || 0 }),
        ' · ', _('lockout {n} days', { n: wave.rules.lockout_days })),
      wave.unfilled.length ? h('div', { class: 'banner warn', style: 'border-radius:12px' }, icon('alert'),
        h('p', {}, _('Not placed'), ': ', wave.unfilled.map((u) =>
          `${storeOf(u.store_id).code} (${REASONS()[u.reason] || u.reason})`).join('; '))) : null,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'wave-visits' },
        h('thead', {}, h('tr', {}, [_('Store'), _('Shopper'), _('When'), _('Time'), _('Scenario')].map((t) => h('th', {}, t)))),
        h('tbody', {}, wave.assignments.map((a) => h('tr', { dataset: { assignment: a.id } },
          h('td', {}, `${a.store.code} ${storeName(a.store)}`),
          h('td', {}, a.status === 'proposed' ? select(`shopper-${a.id}`, state.shoppers.map((s) => [s.id, shopperLabel(s)]),
            a.shopper_id, { 'aria-label': _('Shopper'), onchange: (e) => changeShopper(a, e.target) }) : a.shopper_name),
          h('td', {}, atStore(a.window_start, a.store, DATE)),
          h('td', {}, `${atStore(a.window_start, a.store, HOUR)}–${atStore(a.window_end, a.store, HOUR)} · ${SLOTS()[a.slot] || ''}`),
          h('td', {}, a.scenario || '–')))))),
      draftWave ? h('div', { class: 'row', style: 'margin-top:12px' },
        h('button', { type: 'button', class: 'btn primary', id: 'wave-confirm', onclick: confirmWave },
          icon('check'), _('Confirm and tell the shoppers'))) : null),
  ];
}

async function changeShopper(assignment, node) {
  try {
    await writeJson('PATCH', `/api/v1/assignments/${assignment.id}`, { shopper_id: Number(node.value) });
    assignment.shopper_id = Number(node.value);
    toast(_('Shopper changed.'));
  } catch (error) {
    node.value = assignment.shopper_id;
    const messages = error.body?.errors?.json ? Object.values(error.body.errors.json).flat() : [error.message];
    toast(messages.map((m) => _(m)).join(' '), 6000);
  }
}

async function confirmWave() {
  const button = document.getElementById('wave-confirm');
  button.disabled = true;
  try {
    state.wave = await writeJson('POST', `/api/v1/waves/${state.wave.id}/confirm`, {});
    toast(_('Confirmed: the shoppers are told.'));
    render();
  } catch (error) {
    button.disabled = false;
    toast(error.message);
  }
}

function waveList() {
  return [h('h2', { class: 'section-title' }, _('Waves')),
    state.waves.length ? h('ul', { class: 'list card', id: 'wave-list', style: 'padding:0 12px' }, state.waves.map((w) =>
      h('li', {}, h('a', { class: 'list-item', href: `/waves?wave=${w.id}` },
        h('div', { class: 'main' }, h('div', { class: 'title' }, w.name),
          h('div', { class: 'meta' }, `${day(w.starts_on)} – ${day(w.ends_on)}`)),
        h('span', { class: `badge ${w.status === 'draft' ? 'amber' : 'green'}` },
          w.status === 'draft' ? _('Proposed') : _('Confirmed')), icon('next')))))
      : h('div', { class: 'card' }, emptyState('eye-off', _('No wave yet.')))];
}

function render() {
  if (state.waves === null) mount(root, unavailable());
  else if (state.wave) mount(root, waveDetail(state.wave));
  else mount(root, waveList(), waveForm());
  root.removeAttribute('aria-busy');
}

await load();
render();
