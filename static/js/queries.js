// The store's queries of a published mystery result, on the visit page: the store manager
// queries an item with facts and photos while the window is open; the reviewer rules (uphold,
// amend with the corrected answer, or order a re-shop) and the store reads the ruling and its
// reason. Sent online: a query is a considered act, made when the result is read.

import { failure, getJson, jsonOf, send, writeJson } from './api.js';
import { _, fmt, tr } from './i18n.js';
import { downscale, photoFacts } from './photos.js';
import { h, icon, toast } from './ui.js';

const STATUS = {
  open: () => [_('Waiting for the ruling'), 'amber'], upheld: () => [_('Result upheld'), ''],
  amended: () => [_('Corrected after query'), 'green'], reshop: () => [_('Re-shop ordered'), 'blue'],
};

export function queryStatus(query) {
  const [label, cls] = (STATUS[query.status] || (() => [query.status, '']))();
  return h('span', { class: `badge ${cls}`, dataset: { queryStatus: query.status } }, label);
}

/** The visit's queries, or [] where the caller may not read them (a shopper). */
export async function queriesOf(visit) {
  if (visit.kind !== 'mystery' || visit.status !== 'published') return [];
  try { return await getJson(`/api/v1/visits/${visit.id}/queries`); } catch { return []; }
}

export const windowOpen = (visit) => Boolean(visit.queries_close_at) && new Date(visit.queries_close_at) > new Date();

/** The form under an item: the facts, and photos taken or picked on the phone. */
export function queryForm(visit, item, done) {
  const reason = h('textarea', { id: `query-reason-${item.id}`, rows: 3, class: 'query-reason',
    placeholder: _('The facts: what happened, when, who; a receipt or the queue ticket helps.') });
  const files = h('input', { type: 'file', accept: 'image/*', multiple: true, class: 'query-photos',
    id: `query-photos-${item.id}` });
  const button = h('button', { type: 'button', class: 'btn primary query-send' }, icon('check'), _('Send the query'));
  button.onclick = async () => {
    if (!reason.value.trim()) { toast(_('Write the facts first.')); reason.focus(); return; }
    button.disabled = true;
    try {
      await raise(visit, item, reason.value.trim(), [...files.files]);
      toast(_('Query sent: the reviewer will rule on it.'));
      done();
    } catch (error) {
      button.disabled = false;
      toast(error.message);
    }
  };
  return h('div', { class: 'query-form', dataset: { item: item.id } },
    h('label', { for: reason.id }, _('Why is this result wrong?')), reason,
    h('label', { for: files.id }, icon('camera'), ' ', _('Photos'), h('span', { class: 'muted' }, ` · ${_('optional')}`)), files,
    h('div', { class: 'row', style: 'margin-top:8px' }, button));
}

async function raise(visit, item, reason, files) {
  const photos = await Promise.all(files.map(async (file) => {
    const { taken_at: taken } = await photoFacts(file, { location: false });
    return { id: crypto.randomUUID(), taken, ...(await downscale(file)) };
  }));
  const query = await writeJson('POST', `/api/v1/visits/${visit.id}/queries`,
    { item: item.id, reason, evidence: photos.map((p) => p.id) });
  for (const photo of photos) {
    const at = photo.taken ? `?taken_at=${encodeURIComponent(photo.taken)}` : '';
    const response = await send('PUT', `/api/v1/queries/${query.id}/evidence/${photo.id}${at}`, {
      body: photo.blob, headers: { 'Content-Type': photo.type || 'image/jpeg' }, timeout: 120000 });
    const body = await jsonOf(response);
    if (!response.ok) throw await failure(response, body);
  }
  return query;
}

/** One query as both sides read it: the store's facts and photos, then the ruling's reason. */
export function queryBlock(query, item, answerText, reviewer, onRuled) {
  const evidence = query.evidence || [];
  return h('div', { class: 'query', id: `query-${query.id}`, dataset: { item: query.item } },
    h('div', { class: 'row', style: 'gap:6px' }, icon('flag'), h('b', {}, _('Store query')), queryStatus(query),
      h('span', { class: 'muted small' }, fmt(query.raised_at))),
    h('p', { class: 'quote' }, query.reason),
    evidence.length ? h('div', { class: 'thumbs' }, evidence.map((p) => h('a', { class: 'thumb', target: '_blank',
      href: `/api/v1/queries/${query.id}/evidence/${p.id}?size=display` },
    h('img', { src: `/api/v1/queries/${query.id}/evidence/${p.id}?size=thumb`, alt: _('Photo sent with the query'), loading: 'lazy' })))) : null,
    query.status !== 'open' ? h('div', { class: 'ruling' },
      query.status === 'amended' && query.old_value && query.new_value && item
        ? h('p', { class: 'diff' }, h('span', { class: 'old' }, answerText(item, query.old_value)),
          h('span', { class: 'arrow' }, ' → '), h('span', { class: 'new' }, answerText(item, query.new_value))) : null,
      h('p', {}, h('b', {}, _('Ruling: ')), h('span', { class: 'ruling-comment' }, query.ruling_comment || ''),
        query.ruled_at ? h('span', { class: 'muted small' }, ` · ${fmt(query.ruled_at)}`) : null))
      : reviewer ? rulingForm(query, item, onRuled) : null);
}

/** The reviewer's ruling: uphold, amend (the corrected answer), or a re-shop by another shopper. */
function rulingForm(query, item, onRuled) {
  const name = `ruling-${query.id}`;
  const choice = (value, label) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name, value, checked: value === 'uphold' }), ' ', label);
  const value = answerInput(item, query.id);
  const amendRow = h('div', { class: 'amend-value', hidden: true }, h('label', {}, _('Corrected answer')), value.element);
  const comment = h('textarea', { id: `ruling-comment-${query.id}`, rows: 2, class: 'ruling-input',
    placeholder: _('The reason the store will read') });
  const radios = h('div', { class: 'row', style: 'gap:14px;flex-wrap:wrap' },
    choice('uphold', _('Uphold the result')), choice('amend', _('Amend the answer')), choice('reshop', _('Order a re-shop')));
  radios.addEventListener('change', () => { amendRow.hidden = picked() !== 'amend'; });
  const picked = () => radios.querySelector('input:checked').value;
  const button = h('button', { type: 'button', class: 'btn primary rule' }, icon('check'), _('Rule'));
  button.onclick = async () => {
    if (!comment.value.trim()) { toast(_('Give the store the reason.')); comment.focus(); return; }
    const body = { ruling: picked(), comment: comment.value.trim() };
    if (body.ruling === 'amend') Object.assign(body, value.read());
    button.disabled = true;
    try {
      await writeJson('PATCH', `/api/v1/queries/${query.id}`, body);
      onRuled();
    } catch (error) {
      button.disabled = false;
      toast(error.message);
    }
  };
  return h('div', { class: 'ruling-form' }, radios, amendRow,
    h('label', { for: comment.id }, _('Reason')), comment, h('div', { class: 'row', style: 'margin-top:8px' }, button));
}

/** An input for a corrected answer of the item's type; read() gives {value} or {na: true}. */
function answerInput(item, key) {
  const id = `amend-${key}`;
  if (!item) return { element: h('input', { id }), read: () => ({ value: null }) };
  const options = item.type === 'yes_no' ? [[true, _('Yes')], [false, _('No')]]
    : item.type === 'scale' ? [1, 2, 3, 4, 5].map((n) => [n, `${n} / 5`])
      : item.type === 'choice' ? item.options.map((o) => [o.id, tr(o.label)]) : null;
  if (options) {
    const select = h('select', { id, class: 'amend-input' },
      options.map(([v, label], n) => h('option', { value: String(n) }, label)),
      item.required ? null : h('option', { value: 'na' }, _('N/A')));
    return { element: select, read: () => (select.value === 'na' ? { na: true } : { value: options[Number(select.value)][0] }) };
  }
  const input = h('input', { id, class: 'amend-input', type: item.type === 'number' ? 'number' : 'text' });
  return { element: input, read: () => ({ value: item.type === 'number' ? Number(input.value) : input.value }) };
}
