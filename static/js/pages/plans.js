// The manager's audit plans: which stores, which checklist, how often, who — and how each is
// kept (due, done, overdue, missed). A new plan generates its due audits at once.

import { getJson, writeJson } from '../api.js';
import { boot } from '../app.js';
import { refreshChecklists } from '../checklists.js';
import { _, fmt, tr } from '../i18n.js';
import { field, keepValues, pickedStores, select, showErrors, storePicker, today } from '../plan-forms.js';
import { emptyState, h, icon, mount, toast, unavailable } from '../ui.js';

await boot();
const root = document.getElementById('view');
const WEEKDAYS = () => [_('Mon'), _('Tue'), _('Wed'), _('Thu'), _('Fri'), _('Sat'), _('Sun')];
const day = (iso) => fmt(`${iso}T12:00:00`, 'date');
const state = { regions: [], stores: [], checklists: [], supervisors: [], plans: null, editing: null };

async function load() {
  try {
    const [regions, stores, checklists, supervisors, plans] = await Promise.all([
      getJson('/api/v1/regions'), getJson('/api/v1/stores'), refreshChecklists(),
      getJson('/api/v1/supervisors'), getJson('/api/v1/plans')]);
    Object.assign(state, { regions, stores, supervisors, plans,
      // The storefront audit first: the checklist of most rounds.
      checklists: checklists.filter((c) => c.kind === 'audit' && !c.retired)
        .sort((a, b) => (b.slug === 'storefront-audit') - (a.slug === 'storefront-audit')) });
  } catch {
    state.plans = null;
  }
}

function recurrenceText(recurrence) {
  if (recurrence.every_days) return _('Every {n} days', { n: recurrence.every_days });
  if (recurrence.per_month) return _('{n} times a month', { n: recurrence.per_month });
  return recurrence.weekdays.map((d) => WEEKDAYS()[d]).join(' · ');
}

function storesText(plan) {
  if (plan.store_ids) return _('{n} chosen stores', { n: plan.store_ids.length });
  if (plan.tag) return _('Stores tagged {tag}', { tag: plan.tag });
  return _('The whole region');
}

function planCard(plan) {
  const checklist = state.checklists.find((c) => c.slug === plan.checklist);
  const f = plan.figures;
  return h('article', { class: 'card plan-card', dataset: { plan: plan.id } },
    h('div', { class: 'row', style: 'justify-content:space-between;align-items:flex-start' },
      h('div', {}, h('h3', { style: 'margin:0' }, plan.name),
        h('p', { class: 'small muted', style: 'margin:4px 0 0' }, [
          checklist ? tr(checklist.title) : plan.checklist, storesText(plan), recurrenceText(plan.recurrence),
          _('{n} day(s) to do each', { n: plan.window_days }),
          plan.supervisor_name || _('Any supervisor of the region')].join(' · '))),
      plan.active ? h('span', { class: 'badge green' }, _('Active')) : h('span', { class: 'badge' }, _('Ended'))),
    h('p', { class: 'small', style: 'margin:8px 0' }, _('From {start}', { start: day(plan.starts_on) }),
      plan.ends_on ? ` ${_('to {end}', { end: day(plan.ends_on) })}` : ''),
    h('div', { class: 'figures' },
      [['due', _('Due')], ['done', _('Done')], ['overdue', _('Overdue')], ['missed', _('Missed')]].map(([key, label]) =>
        h('span', { class: `figure ${key}` }, h('strong', {}, f[key]), ' ', label))),
    plan.active ? h('div', { class: 'row', style: 'margin-top:8px' },
      h('button', { type: 'button', class: 'btn', onclick: () => { state.editing = plan; render(); window.scrollTo(0, 0); } },
        _('Change from the next one')),
      h('button', { type: 'button', class: 'btn ghost', onclick: () => endPlan(plan) }, icon('x'), _('End the plan')))
      : null);
}

async function endPlan(plan) {
  if (!window.confirm(_('End this plan? The audits still to come are removed; the past ones stay.'))) return;
  try {
    await writeJson('PATCH', `/api/v1/plans/${plan.id}`, { active: false });
    await load();
    render();
  } catch (error) {
    toast(error.message);
  }
}

function planForm() {
  const plan = state.editing;
  const region = plan ? plan.region_id : state.regions[0]?.id;
  const storesOf = (regionId) => state.stores.filter((s) => s.region_id === Number(regionId) && s.active !== false);
  const tagsOf = (regionId) => [...new Set(storesOf(regionId).flatMap((s) => s.tags || []))].sort();
  const which = plan ? (plan.store_ids ? 'stores' : plan.tag ? 'tag' : 'region') : 'region';
  const kind = plan ? Object.keys(plan.recurrence)[0] : 'weekdays';
  const form = h('form', { class: 'card', id: 'plan-form', novalidate: true });
  const redraw = () => keepValues(form, () => mount(form, ...formBody()));

  function formBody() {
    const regionId = form.querySelector('#plan-region')?.value || region;
    const chosenWhich = form.querySelector('#plan-which')?.value || which;
    const chosenKind = form.querySelector('#plan-kind')?.value || kind;
    return [
      h('h2', {}, plan ? _('Change “{name}” from its next audit', { name: plan.name }) : _('New audit plan')),
      h('div', { class: 'grid two' },
        h('div', { dataset: { field: 'name' } }, field(_('Name'), h('input', { id: 'plan-name', type: 'text', value: plan?.name || '', required: true,
          placeholder: _('e.g. Weekly round of class A halls') }))),
        h('div', { dataset: { field: 'region_id' } }, field(_('Region'), select('plan-region',
          state.regions.map((r) => [r.id, tr({ zh: r.name, en: r.name_en || r.name })]), regionId,
          { disabled: plan ? true : null, onchange: redraw })))),
      h('div', { class: 'grid two' },
        h('div', { dataset: { field: 'checklist' } }, field(_('Checklist'), select('plan-checklist',
          state.checklists.map((c) => [c.slug, tr(c.title)]), plan?.checklist))),
        h('div', { dataset: { field: 'supervisor_id' } }, field(_('Who'), select('plan-supervisor',
          [['', _('Any supervisor of the region')], ...state.supervisors
            .filter((s) => s.region_ids.includes(Number(regionId))).map((s) => [s.id, s.name])],
          plan?.supervisor_id ?? '')))),
      h('div', { dataset: { field: 'store_ids' } }, h('div', { dataset: { field: 'tag' } },
        field(_('Stores'), select('plan-which', [['region', _('The whole region')], ['tag', _('Stores with a tag')],
          ['stores', _('Chosen stores')]], chosenWhich, { onchange: redraw })),
        chosenWhich === 'tag' ? field(_('Tag'), select('plan-tag', tagsOf(regionId).map((t) => [t, t]), plan?.tag),
          tagsOf(regionId).length ? null : _('No store of this region has a tag yet (the store import has a 门店分类 column).')) : null,
        chosenWhich === 'stores' ? storePicker('plan-stores', storesOf(regionId), plan?.store_ids || []) : null)),
      h('div', { class: 'grid two', dataset: { field: 'recurrence' } },
        field(_('How often'), select('plan-kind', [['weekdays', _('On given weekdays')], ['every_days', _('Every N days')],
          ['per_month', _('N times a month')]], chosenKind, { onchange: redraw })),
        chosenKind === 'weekdays'
          ? h('fieldset', { class: 'weekday-picker', id: 'plan-weekdays' }, h('legend', {}, _('Weekdays')),
            WEEKDAYS().map((label, d) => h('label', { class: 'check' },
              h('input', { type: 'checkbox', value: d, checked: (plan?.recurrence.weekdays || [0]).includes(d) ? true : null }),
              ` ${label}`)))
          : field(chosenKind === 'every_days' ? _('Days between audits') : _('Audits a month'),
            h('input', { id: 'plan-n', type: 'number', min: 1, max: chosenKind === 'every_days' ? 366 : 28,
              value: plan?.recurrence[chosenKind] || (chosenKind === 'every_days' ? 7 : 2) }))),
      h('div', { class: 'grid three' },
        h('div', { dataset: { field: 'window_days' } }, field(_('Days to do each'), h('input', { id: 'plan-window', type: 'number',
          min: 1, max: 31, value: plan?.window_days || 1 }))),
        h('div', { dataset: { field: 'starts_on' } }, field(_('Starts on'), h('input', { id: 'plan-start', type: 'date',
          value: plan?.starts_on || today() }))),
        h('div', { dataset: { field: 'ends_on' } }, field(_('Ends on (optional)'), h('input', { id: 'plan-end', type: 'date',
          value: plan?.ends_on || '' })))),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn primary', id: 'plan-save' }, icon('check'),
          plan ? _('Save the change') : _('Create the plan')),
        plan ? h('button', { type: 'button', class: 'btn ghost', onclick: () => { state.editing = null; render(); } }, _('Cancel')) : null),
    ];
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id) => form.querySelector(`#${id}`)?.value;
    const chosenKind = value('plan-kind');
    const recurrence = chosenKind === 'weekdays'
      ? { weekdays: [...form.querySelectorAll('#plan-weekdays input:checked')].map((b) => Number(b.value)) }
      : { [chosenKind]: Number(value('plan-n')) };
    const chosenWhich = value('plan-which');
    const body = {
      name: value('plan-name'), checklist: value('plan-checklist'), recurrence,
      window_days: Number(value('plan-window')), starts_on: value('plan-start'), ends_on: value('plan-end') || null,
      supervisor_id: value('plan-supervisor') ? Number(value('plan-supervisor')) : null,
      store_ids: chosenWhich === 'stores' ? pickedStores('plan-stores') : null,
      tag: chosenWhich === 'tag' ? value('plan-tag') || null : null,
    };
    const button = form.querySelector('#plan-save');
    button.disabled = true;
    try {
      const saved = plan
        ? await writeJson('PATCH', `/api/v1/plans/${plan.id}`, body)
        : await writeJson('POST', '/api/v1/plans', { ...body, region_id: Number(value('plan-region')) });
      toast(_('Saved: {n} audit(s) due in the coming weeks.', { n: saved.figures.due }));
      state.editing = null;
      await load();
      render();
    } catch (error) {
      button.disabled = false;
      showErrors(form, error);
    }
  });
  redraw();
  return form;
}

function render() {
  if (state.plans === null) {
    mount(root, unavailable());
  } else {
    // The plans first (what a manager comes back to), then the form for a new one.
    mount(root,
      state.editing ? null : [h('h2', { class: 'section-title' }, _('Plans')),
        state.plans.length ? h('div', { class: 'plan-cards', id: 'plan-list' }, state.plans.map(planCard))
          : h('div', { class: 'card' }, emptyState('clock', _('No plan yet: create the first one below.')))],
      planForm());
  }
  root.removeAttribute('aria-busy');
}

await load();
render();
