// Small form pieces of the manager's planning pages (plans, waves): labelled fields, the
// region's stores and the API's field errors shown where they belong.

import { ApiError } from './api.js';
import { _, storeName } from './i18n.js';
import { h, toast } from './ui.js';

/** A labelled field around `input` (which carries the id). */
export function field(label, input, hint = null) {
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input,
    hint ? h('p', { class: 'small muted', style: 'margin:4px 0 0' }, hint) : null);
}

export function select(id, options, value = null, attrs = {}) {
  return h('select', { id, ...attrs }, options.map(([key, label]) =>
    h('option', { value: key, selected: String(key) === String(value) ? true : null }, label)));
}

export const today = () => new Date().toLocaleDateString('en-CA');  // YYYY-MM-DD, local
export const addDays = (iso, n) => {
  const day = new Date(`${iso}T12:00:00`);
  day.setDate(day.getDate() + n);
  return day.toLocaleDateString('en-CA');
};

/** Check boxes of the region's stores, by code, with names in the current language. */
export function storePicker(id, stores, chosen = []) {
  return h('fieldset', { class: 'store-picker', id },
    stores.map((store) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: store.id, checked: chosen.includes(store.id) ? true : null }),
      ` ${store.code} ${storeName(store)}`)));
}

export const pickedStores = (id) => [...document.querySelectorAll(`#${id} input:checked`)]
  .map((box) => Number(box.value));

/** Redraw a form with `draw`, keeping what was typed or picked in the fields still there. */
export function keepValues(form, draw) {
  // Fields marked data-draft keep their values in the page's own state.
  const kept = [...form.querySelectorAll('input:not([data-draft]), select')].map((node) => [
    node.id || `${node.closest('[id]')?.id}:${node.value}`, node.type === 'checkbox' ? node.checked : node.value]);
  draw();
  for (const [key, value] of kept) {
    const [host, boxValue] = key.split(':');
    const node = boxValue === undefined ? form.querySelector(`#${key}`)
      : form.querySelector(`#${host} input[value="${boxValue}"]`);
    if (!node || node.disabled) continue;
    if (node.type === 'checkbox') node.checked = value;
    else if (node.tagName !== 'SELECT' || [...node.options].some((o) => o.value === value)) node.value = value;
  }
}

/** Show an API refusal: each field's problem under its field (by `data-field`), or a toast. */
export function showErrors(form, error) {
  form.querySelectorAll('.field-error').forEach((node) => node.remove());
  if (!(error instanceof ApiError)) throw error;
  if (error.kind === 'network') {
    toast(_('Not sent: no connection. Try again when online.'));
    return;
  }
  const fields = flatten((error.body && error.body.errors && error.body.errors.json) || {});
  let placed = 0;
  for (const [name, messages] of fields) {
    const host = form.querySelector(`[data-field="${name}"]`);
    if (!host) continue;
    host.append(h('p', { class: 'field-error', role: 'alert' }, messages.map((m) => _(m)).join(' ')));
    placed += 1;
  }
  if (!placed) toast(_(error.message));
}

function flatten(errors, prefix = '') {
  return Object.entries(errors).flatMap(([key, value]) => (Array.isArray(value)
    ? [[key, value.map(String)]] : typeof value === 'object' ? flatten(value, `${prefix}${key}.`) : []));
}
