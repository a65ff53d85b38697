// One checklist item as a card: big answer buttons, N/A where allowed, note, photos.

import { _, tr } from './i18n.js';
import { h, icon } from './ui.js';

const SCALE_LABELS = () => [_('Never'), _('Rarely'), _('Sometimes'), _('Usually'), _('Always')];

/**
 * ctx: {answers, photos (records of this visit), onAnswer(item, patch), onPhoto(item, file),
 *       onRemovePhoto(id), statuses, missing: Set of item ids to highlight}
 */
export function itemCard(item, ctx) {
  const answer = ctx.answers[item.id] || {};
  const status = ctx.statuses[item.id];
  const classes = ['item'];
  // A red-line finding is written down (required note, optional staff) and may be photographed.
  const finding = status === 'red_line';
  if (finding) classes.push('is-redline-failed');
  if (ctx.missing && ctx.missing.has(item.id)) classes.push('is-missing');
  if (answer.flagged) classes.push('is-flagged');
  const labelId = `q-${item.id}`;
  return h('article', { class: classes.join(' '), id: `item-${item.id}`, 'aria-labelledby': labelId },
    h('p', { class: 'item-text', id: labelId }, tr(item.text)),
    tags(item),
    item.standard ? h('p', { class: 'item-guidance' }, h('b', {}, _('Standard') + ' '), tr(item.standard)) : null,
    item.guidance ? h('p', { class: 'item-guidance' }, tr(item.guidance)) : null,
    answerControl(item, answer, ctx, labelId),
    tools(item, answer, ctx, finding),
  );
}

/** A red-line finding still without a note (submission needs one). */
export function needsNote(answer, status) {
  return status === 'red_line' && !(answer && answer.note && answer.note.trim());
}

function tags(item) {
  const list = [];
  if (item.red_line) list.push(h('span', { class: 'badge red' }, icon('alert'), _('Red line')));
  if (item.photo && item.photo.rule === 'required') {
    list.push(h('span', { class: 'badge amber' }, icon('camera'), _('Photo required')));
  }
  if (!item.required && item.type !== 'text') list.push(h('span', { class: 'badge' }, _('Optional')));
  return list.length ? h('div', { class: 'item-tags' }, list) : null;
}

function choiceButton(label, pressed, onclick, cls = '', sub = null, key = null) {
  return h('button', { type: 'button', class: `answer ${cls}`, 'aria-pressed': String(pressed), onclick,
    dataset: key ? { key } : undefined },
    label, sub ? h('small', {}, sub) : null);
}

function answerControl(item, answer, ctx, labelId) {
  const set = (value) => ctx.onAnswer(item, { value, na: false });
  const na = item.allow_na
    ? choiceButton(_('N/A'), Boolean(answer.na), () => ctx.onAnswer(item, { na: !answer.na, value: undefined }),
      'na', null, `${item.id}:na`)
    : null;
  const group = (cls, ...buttons) =>
    h('div', { class: `answers ${cls}`, role: 'group', 'aria-labelledby': labelId }, buttons, na);
  const value = answer.na ? undefined : answer.value;
  if (item.type === 'yes_no') {
    // For an inverse item ("staff argue with the customer") "yes" is the bad answer.
    const [good, bad] = item.inverse ? ['no', 'yes'] : ['yes', 'no'];
    return group('yesno',
      choiceButton(_('Yes'), value === true, () => set(true), good === 'yes' ? 'yes' : 'no', null, `${item.id}:yes`),
      choiceButton(_('No'), value === false, () => set(false), bad === 'no' ? 'no' : 'yes', null, `${item.id}:no`));
  }
  if (item.type === 'scale') {
    const labels = SCALE_LABELS();
    return group('scale', [1, 2, 3, 4, 5].map((n) =>
      choiceButton(String(n), value === n, () => set(n), '', labels[n - 1], `${item.id}:${n}`)));
  }
  if (item.type === 'choice') {
    return group('choice', item.options.map((o) =>
      choiceButton(tr(o.label), value === o.id, () => set(o.id), '', null, `${item.id}:${o.id}`)));
  }
  if (item.type === 'number') return numberControl(item, value, set, na, labelId);
  return h('div', { class: 'field' },
    h('textarea', { id: `text-${item.id}`, 'aria-labelledby': labelId, rows: 4,
      oninput: (e) => ctx.onAnswer(item, { value: e.target.value, na: false }, { quiet: true }) },
    value || ''));
}

function numberControl(item, value, set, na, labelId) {
  const input = h('input', { type: 'number', inputmode: 'decimal', min: '0', step: 'any',
    id: `num-${item.id}`, 'aria-labelledby': labelId, value: value ?? '' });
  const commit = () => {
    const number = input.value === '' ? undefined : Number(input.value);
    if (number === undefined || (Number.isFinite(number) && number >= 0)) set(number);
  };
  input.addEventListener('change', commit);
  const step = (delta) => () => {
    input.value = String(Math.max(0, (Number(input.value) || 0) + delta));
    commit();
  };
  return h('div', { class: 'answers' },
    h('div', { class: 'number-input' },
      h('button', { type: 'button', class: 'btn step', 'aria-label': _('Less'), onclick: step(-1) }, '−'),
      input,
      h('button', { type: 'button', class: 'btn step', 'aria-label': _('More'), onclick: step(1) }, '+'),
      item.unit ? h('span', { class: 'muted' }, tr(item.unit)) : null),
    na);
}

function tools(item, answer, ctx, finding) {
  const photos = ctx.photos.filter((p) => p.item === item.id);
  const rule = item.photo || { rule: 'none', min: 0 };
  const noteId = `note-${item.id}`;
  const note = h('textarea', { id: noteId, class: 'note', rows: finding ? 3 : 2,
    placeholder: finding ? _('What happened, and the exact words used') : _('What did you see?'),
    hidden: !answer.note && !finding, required: finding, 'aria-invalid': finding && !answer.note?.trim() ? 'true' : null,
    'aria-label': finding ? _('Note (required for a red line)') : _('Note'),
    oninput: (e) => {
      ctx.onAnswer(item, { note: e.target.value }, { quiet: true });
      if (finding) e.target.setAttribute('aria-invalid', String(!e.target.value.trim()));
    } }, answer.note || '');
  const fileInput = h('input', { type: 'file', accept: 'image/*', capture: 'environment', class: 'file-input',
    id: `photo-${item.id}`, 'aria-label': _('Take a photo'), tabindex: '-1',
    onchange: async (e) => {
      for (const file of e.target.files) await ctx.onPhoto(item, file);
      e.target.value = '';
    } });
  const need = rule.rule === 'required' ? `${photos.length}/${rule.min || 1}` : String(photos.length || '');
  return h('div', {},
    h('div', { class: 'item-tools' },
      rule.rule !== 'none' || ctx.allowAnyPhoto || finding
        ? h('button', { type: 'button', class: 'btn', id: `photo-button-${item.id}`, onclick: () => fileInput.click() },
          icon('camera'), _('Photo'), need ? h('span', { class: 'photo-need muted' }, need) : null)
        : null,
      finding ? null : h('button', { type: 'button', class: 'btn ghost', 'aria-expanded': String(!note.hidden),
        'aria-controls': noteId,
        onclick: (e) => {
          note.hidden = !note.hidden;
          e.currentTarget.setAttribute('aria-expanded', String(!note.hidden));
          if (!note.hidden) note.focus();
        } }, icon('note'), _('Note')),
      ctx.onFlag ? h('button', { type: 'button', class: 'btn ghost flag', id: `flag-${item.id}`,
        'aria-pressed': String(Boolean(answer.flagged)), dataset: { key: `${item.id}:flag` },
        onclick: () => ctx.onFlag(item) }, icon('flag'), _('Flag: needs attention')) : null,
      fileInput),
    photos.length ? thumbs(photos, ctx) : null,
    finding ? findingFields(item, answer, ctx, note) : note);
}

function findingFields(item, answer, ctx, note) {
  const staffId = `staff-${item.id}`;
  return h('div', { class: 'finding', id: `finding-${item.id}` },
    h('p', { class: 'finding-lead' }, icon('alert'),
      _('Red line: write down what happened (required); a photo if you can do so safely.')),
    h('label', { for: note.id }, _('What happened'), h('span', { class: 'req' }, ` · ${_('required')}`)),
    note,
    h('label', { for: staffId }, _('Staff member'), h('span', { class: 'muted' }, ` · ${_('optional')}`)),
    h('input', { id: staffId, class: 'staff', type: 'text', maxlength: '120', autocomplete: 'off',
      placeholder: _('Name or badge number'), value: answer.staff || '',
      oninput: (e) => ctx.onAnswer(item, { staff: e.target.value }, { quiet: true }) }));
}

const urls = new Map();
/** The photo's image on the device, else (a returned visit's photo already on the server) its
 * thumbnail there. */
function photoUrl(photo) {
  if (!photo.blob) return photo.url;
  if (!urls.has(photo.id)) urls.set(photo.id, URL.createObjectURL(photo.blob));
  return urls.get(photo.id);
}

export function thumbs(photos, ctx) {
  return h('div', { class: 'thumbs' }, photos.filter((p) => p.blob || p.url).map((photo) =>
    h('div', { class: 'thumb' },
      h('img', { src: photoUrl(photo), alt: _('Photo'), loading: 'lazy' }),
      ctx.onRemovePhoto ? h('button', { type: 'button', 'aria-label': _('Remove photo'),
        onclick: () => ctx.onRemovePhoto(photo.id) }, '×') : null)));
}
