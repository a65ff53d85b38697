// One visit as the server has it: score, red lines, the store's sign-off, the action plan,
// answers with photos, review, PDF; a returned visit's comment (its author reopens it on the
// device) and what changed since the last submission (for the reviewer).

import { ApiError, getJson, writeJson } from '../api.js';
import { boot, user } from '../app.js';
import { definitionFor } from '../checklists.js';
import { storesById } from '../data.js';
import { downloadPdf } from '../download.js';
import { _, fmt, storeName, tr } from '../i18n.js';
import { plan } from '../plan.js';
import { queriesOf, queryBlock, queryForm, windowOpen } from '../queries.js';
import { captureUrl, reopen, reopened } from '../returned.js';
import { band, emptyState, h, icon, mount, params, scoreText, statusBadge, toast } from '../ui.js';

await boot();
const root = document.getElementById('view');
const id = params().get('id');
const reviewer = user.role === 'manager' || user.role === 'admin';

function answerText(item, response) {
  if (!response) return h('span', { class: 'muted' }, '–');
  if (response.na) return h('span', { class: 'badge' }, _('N/A'));
  const value = response.value;
  if (item.type === 'yes_no') {
    const good = value !== item.inverse;
    return h('span', { class: `badge ${good ? 'green' : 'red'}` }, value ? _('Yes') : _('No'));
  }
  if (item.type === 'scale') return h('span', { class: 'badge blue' }, `${value} / 5`);
  if (item.type === 'number') return h('span', { class: 'badge blue' }, `${value} ${item.unit ? tr(item.unit) : ''}`);
  if (item.type === 'choice') return h('span', { class: 'badge blue' }, tr(item.options.find((o) => o.id === value)?.label) || value);
  return null;
}

function scoreCard(visit, definition) {
  const score = visit.score;
  if (!score) return h('div', { class: 'card' }, h('p', { class: 'muted' }, _('Not scored yet: the visit is a draft.')));
  const titles = Object.fromEntries(definition.sections.map((s) => [s.id, tr(s.title)]));
  return h('div', { class: 'card', id: 'score-card' },
    h('div', { class: 'score-hero' },
      h('div', { class: `ring ${visit.red_line ? 'low' : band(score.total)}`, style: `--p:${score.total}` },
        h('div', {}, h('div', {}, h('div', { class: 'num' }, scoreText(score.total)),
          h('div', { class: 'lbl' }, tr(score.grade && score.grade.label))))),
      h('div', { style: 'flex:1 1 240px' },
        score.red_lines.length
          ? h('div', { class: 'redline-alert' }, icon('alert'), h('div', {}, _('Red line failed: the visit scores 0.'),
            h('ul', { style: 'margin:4px 0 0;padding-left:18px;font-weight:500' }, score.red_lines.map((r) => h('li', {}, tr(r.text))))))
          : h('p', { class: 'muted' }, _('No red line failed.')),
        visit.wait_seconds !== null && visit.wait_seconds !== undefined
          ? h('p', {}, icon('clock'), ' ', _('Waited {m} min {s} s', {
            m: Math.floor(visit.wait_seconds / 60), s: visit.wait_seconds % 60 })) : null)),
    h('div', { class: 'section-bars', style: 'margin-top:16px' }, (score.sections || []).map((s) => h('div', { class: 'row' },
      h('span', { class: 'name' }, titles[s.id] || s.id),
      h('div', { class: `bar ${band(s.percent)}` }, h('span', { style: `width:${s.percent ?? 0}%` })),
      h('span', { class: 'pct' }, scoreText(s.percent))))));
}

function momentsCard(visit, definition) {
  if (!visit.moments || !visit.moments.length) return null;
  const titles = Object.fromEntries((definition.moments || []).map((m) => [m.id, tr(m.title)]));
  return h('div', { class: 'card' }, h('h2', {}, _('Key moments')),
    h('ul', { class: 'timeline' }, visit.moments.map((m) => h('li', {},
      h('span', { class: 't' }, fmt(m.at, 'time')), h('span', {}, titles[m.moment] || m.moment)))));
}

/** "Corrected after query" (the store's side sees only these), or "Modified" for the inside. */
function changeMark(response) {
  const kinds = response.changes || [];
  if (kinds.includes('query_amend')) return h('span', { class: 'badge green changed-mark' }, _('Corrected after query'));
  return kinds.length ? h('span', { class: 'badge amber changed-mark' }, _('Modified')) : null;
}

/** Under an item: its query (with the ruling, or the reviewer's form), or the store's button. */
function queryPart(visit, item, queries, refresh) {
  const query = queries.find((q) => q.item === item.id);
  if (query) return queryBlock(query, item, answerText, reviewer, refresh);
  if (user.role !== 'store_manager' || !windowOpen(visit)) return null;
  const scored = (visit.score?.items || []).find((row) => row.item === item.id);
  if (!scored || scored.status === 'unscored') return null;  // nothing to contest
  const slot = h('div', { class: 'query-slot' });
  const button = h('button', { type: 'button', class: 'query-open', dataset: { item: item.id },
    onclick: () => { button.remove(); slot.append(queryForm(visit, item, refresh)); } }, icon('flag'), _('Query this item'));
  slot.append(button);
  return slot;
}

function answersCard(visit, definition, queries = [], refresh = () => {}) {
  const responses = Object.fromEntries((visit.responses || []).map((r) => [r.item, r]));
  const photos = (visit.photos || []).filter((p) => p.status === 'received' || p.status === 'processed');
  return definition.sections.map((section) => {
    const answered = section.items.filter((item) => responses[item.id]);
    if (!answered.length) return null;
    return h('div', { class: 'card' }, h('h2', {}, tr(section.title)), answered.map((item) => {
      const response = responses[item.id];
      const mine = photos.filter((p) => p.item === item.id);
      return h('div', { class: 'resp', dataset: { item: item.id } },
        h('div', { class: 'q' }, h('div', {}, changeMark(response), ' ', tr(item.text)),
          item.type === 'text' && response.value ? h('p', { class: 'muted', style: 'margin:4px 0 0' }, response.value) : null,
          response.note ? h('p', { class: 'muted small', style: 'margin:4px 0 0' }, icon('note'), ' ', response.note) : null,
          mine.length ? h('div', { class: 'thumbs' }, mine.map((p) => h('a', { class: 'thumb', href: `/api/v1/visits/${visit.id}/photos/${p.id}?size=display`, target: '_blank' },
            h('img', { src: `/api/v1/visits/${visit.id}/photos/${p.id}?size=thumb`, alt: tr(item.text), loading: 'lazy' })))) : null,
          queryPart(visit, item, queries, refresh)),
        h('div', { class: 'a' }, answerText(item, response)));
    }));
  });
}

const FLAG_LABELS = {
  outside_window: () => _('outside the window'), far_from_store: () => _('far from the store'),
  assignment_cancelled: () => _('assignment cancelled'), timer_mismatch: () => _('timers contradict'),
  no_dispute_record: () => _('no dispute record'), duplicate_photo: () => _('reused photo'),
  photo_time_outside: () => _('photo time outside'), short_dwell: () => _('visit too short'),
  duplicate_text: () => _('copied text'), outlier_total: () => _('unusual total'),
};
const flagLabel = (code) => (FLAG_LABELS[code] || (() => code))();

/** The reviewer's grade of the shop (1–10) and the shopper's record so far. */
async function gradeCard(visit) {
  if (!reviewer || visit.kind !== 'mystery' || visit.status === 'draft') return null;
  let record = null;
  try { [record] = await getJson(`/api/v1/shoppers?shopper_id=${visit.author_id}`); } catch { /* not shown */ }
  const grade = h('select', { id: 'review-grade' }, h('option', { value: '' }, '–'),
    [10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => h('option', { value: n, selected: visit.review_grade === n }, String(n))));
  const comment = h('input', { id: 'review-grade-comment', type: 'text', value: visit.review_grade_comment || '',
    placeholder: _('What made this shop good or weak (optional)') });
  const save = h('button', { type: 'button', class: 'btn', id: 'save-grade', onclick: async () => {
    if (!grade.value) { toast(_('Pick a grade from 1 to 10.')); return; }
    try {
      await writeJson('PUT', `/api/v1/visits/${visit.id}/grade`, { grade: Number(grade.value), comment: comment.value.trim() || null });
      toast(_('Grade saved.'));
    } catch (error) { toast(error.message); }
  } }, _('Save the grade'));
  const flags = record ? Object.entries(record.flags || {}) : [];
  return h('div', { class: 'card', id: 'grade-card' }, h('h2', {}, _('Grade of the shop')),
    record ? h('p', { class: 'muted', id: 'shopper-record' }, record.average_grade === null
      ? _('This shopper has no graded shop yet ({n} visits).', { n: record.visits })
      : _('This shopper: average grade {g} over {n} graded shops ({v} visits).', { g: record.average_grade, n: record.graded_visits, v: record.visits }),
    flags.length ? ` · ${_('Flags so far')}: ${flags.map(([code, n]) => `${flagLabel(code)} ×${n}`).join(', ')}` : '') : null,
    h('div', { class: 'row', style: 'gap:8px;flex-wrap:wrap' }, h('label', { for: 'review-grade' }, _('Grade (1–10)')), grade, comment, save));
}

function reviewCard(visit) {
  if (!reviewer || visit.kind !== 'mystery' || visit.status !== 'submitted') return null;
  const comment = h('textarea', { id: 'review-comment', rows: 3, placeholder: _('What should the shopper fix? (needed to return)') });
  const decide = async (decision) => {
    if (decision === 'reject' && !comment.value.trim()) { toast(_('Say what to fix before returning the visit.')); comment.focus(); return; }
    try {
      await writeJson('POST', `/api/v1/visits/${visit.id}/review`, { decision, comment: comment.value.trim() || null });
      window.location.reload();
    } catch (error) {
      toast(error.message);
    }
  };
  return h('div', { class: 'card', id: 'review-card' }, h('h2', {}, _('Review')),
    (visit.flags || []).length ? h('ul', {}, visit.flags.map((f) => h('li', {}, icon('flag'), ' ', f.message || f.code || JSON.stringify(f)))) : null,
    h('label', { for: 'review-comment' }, _('Comment')), comment,
    h('div', { class: 'row', style: 'margin-top:10px' },
      h('button', { type: 'button', class: 'btn primary', id: 'publish', onclick: () => decide('publish') }, icon('check'), _('Publish')),
      h('button', { type: 'button', class: 'btn', id: 'return-visit', onclick: () => decide('reject') }, _('Return to the shopper'))));
}

/** The reviewer's comment on a returned visit; its author reopens it on the device to fix it. */
async function returnedCard(visit, store) {
  if (visit.status !== 'rejected' || !visit.review_comment) return null;
  const mine = visit.author_id === user.id;
  const local = mine ? await reopened(visit) : null;
  const waiting = local && local.outbox !== 'draft';
  const button = h('button', { type: 'button', class: 'btn primary', id: 'reopen-visit', onclick: async () => {
    button.disabled = true;
    try {
      const checklist = await definitionFor(visit.checklist.slug, visit.checklist.version);
      const draft = await reopen(visit, { user, store: store || { id: visit.store_id, code: '', name: `#${visit.store_id}` }, checklist });
      window.location.href = captureUrl(draft);
    } catch (error) {
      button.disabled = false;
      toast(error.message);
    }
  } }, icon('note'), local ? _('Continue fixing') : _('Reopen and fix'));
  return h('div', { class: 'card returned', id: 'returned-card' },
    h('h2', {}, icon('alert'), ' ', _('Returned by the reviewer')),
    h('p', { class: 'quote', id: 'review-comment-shown' }, visit.review_comment),
    mine && !waiting ? h('p', { class: 'muted' }, _('Fix what the reviewer asks, then submit the visit again.')) : null,
    mine && waiting ? h('p', { class: 'muted' }, icon('clock'), ' ', _('Submitted again: waiting in the outbox.')) : null,
    mine && !waiting ? h('div', { class: 'row' }, button) : null,
    mine && waiting ? h('a', { class: 'btn', href: '/outbox' }, _('Open the outbox')) : null);
}

/** The value of one changed field as the reader sees it. */
function changedValue(change, value, item, definition) {
  const off = value === false && (change.field === 'na' || change.field === 'flagged');
  if (value === null || value === undefined || value === '' || off) {
    return h('span', { class: 'muted' }, change.field === 'flagged' ? _('No') : '–');
  }
  if (change.item === 'photo') return h('span', {}, _('Photos: {n}', { n: value.length }));
  if (change.item === 'moment') return h('span', {}, fmt(value, 'seconds'));
  if (change.field === 'value' && item) return answerText(item, { value }) || h('span', {}, String(value));
  if (change.field === 'na') return h('span', { class: 'badge' }, _('N/A'));
  if (change.field === 'flagged') return h('span', {}, _('Yes'));
  return h('span', {}, String(value));
}

const FIELD_LABELS = { value: () => _('Answer'), na: () => _('N/A'), note: () => _('Note'),
  staff: () => _('Staff member'), flagged: () => _('Flag: needs attention') };

function changeLabel(change, index, moments) {
  if (change.item === 'notes') return _('Overall notes');
  if (change.item === 'photo') return `${_('Photos')} · ${index[change.field] ? tr(index[change.field].text) : change.field}`;
  if (change.item === 'moment') return `${_('Key moments')} · ${moments[change.field] || change.field}`;
  const item = index[change.item];
  return `${item ? tr(item.text) : change.item} · ${(FIELD_LABELS[change.field] || (() => change.field))()}`;
}

/** What the last submission changed, for the reviewer (and the author): item, old → new. */
async function changesCard(visit, definition) {
  if (visit.kind !== 'mystery' || !(reviewer || visit.author_id === user.id)) return null;
  let versions = [];
  try { versions = await getJson(`/api/v1/visits/${visit.id}/submissions`); } catch { return null; }
  if (versions.length < 2) return null;
  const last = versions[versions.length - 1];
  const index = {};
  for (const section of definition.sections) for (const item of section.items) index[item.id] = item;
  const moments = Object.fromEntries((definition.moments || []).map((m) => [m.id, tr(m.title)]));
  return h('div', { class: 'card changes', id: 'visit-changes' },
    h('h2', {}, _('Changes since the last submission')),
    h('p', { class: 'muted' }, _('Submission {n} · {time}', { n: last.number, time: fmt(last.submitted_at) })),
    last.answers_comment ? h('p', { class: 'quote' }, _('Answers: {comment}', { comment: last.answers_comment })) : null,
    last.changes.length
      ? h('ul', { class: 'change-list' }, last.changes.map((change) => {
        const item = index[change.item];
        return h('li', { dataset: { item: change.item, field: change.field } },
          h('div', { class: 'what' }, changeLabel(change, index, moments)),
          h('div', { class: 'diff' }, h('span', { class: 'old' }, changedValue(change, change.old, item, definition)),
            h('span', { class: 'arrow', 'aria-label': _('changed to') }, '→'),
            h('span', { class: 'new' }, changedValue(change, change.new, item, definition))));
      }))
      : h('p', {}, _('Nothing changed: submitted again as it was.')));
}

/** The window to query a published mystery result, and the queries in order (for everyone but
 * the shopper): the store reads its rulings here, the reviewer finds what to rule on. */
function queriesCard(visit, queries, definition) {
  if (visit.kind !== 'mystery' || visit.status !== 'published' || user.role === 'shopper') return null;
  const open = windowOpen(visit);
  if (!queries.length && !(open && user.role === 'store_manager')) return null;
  const texts = {};
  for (const section of definition.sections) for (const item of section.items) texts[item.id] = tr(item.text);
  return h('div', { class: 'card', id: 'queries-card' }, h('h2', {}, icon('flag'), ' ', _('Queries')),
    h('p', { class: 'muted' }, open
      ? _('The store may query an item with facts until {time}.', { time: fmt(visit.queries_close_at) })
      : _('The query window closed on {time}.', { time: fmt(visit.queries_close_at) })),
    queries.length ? h('ul', { class: 'query-list' }, queries.map((q) => h('li', {},
      h('a', { href: `#query-${q.id}` }, texts[q.item] || q.item), ' · ',
      h('span', { class: `muted q-${q.status}` }, q.status === 'open' ? _('waiting for the ruling') : (q.ruling_comment || ''))))) : null,
    !queries.length ? h('p', {}, _('Under each answer below, the store can query it with its facts and photos.')) : null);
}

async function actionsCard(visit) {
  if (user.role === 'shopper') return null;
  let list = [];
  try { list = await getJson(`/api/v1/actions?visit_id=${visit.id}`); } catch { return null; }
  if (!list.length) return null;
  const cards = plan(user);
  await cards.load();
  return h('div', { class: 'card', id: 'visit-actions' }, h('h2', {}, _('Action plan')),
    h('div', { class: 'plan-list' }, list.map(cards.card)));
}

/** Who signed for the store, and when; a store manager acknowledges a visit not signed yet. */
function signoffCard(visit) {
  if (user.role === 'shopper' || visit.status === 'draft') return null;
  const signoff = visit.signoff;
  if (signoff) {
    const how = signoff.method === 'signature' ? _('Signed on the tablet') : _('Acknowledged in the app');
    return h('div', { class: 'card', id: 'visit-signoff', dataset: { method: signoff.method } },
      h('div', { class: 'row' }, icon('check'), h('h2', { style: 'margin:0' }, _('Signed by {name}', { name: signoff.name }))),
      h('p', { class: 'muted' }, `${how} · ${fmt(signoff.signed_at)}`),
      signoff.has_signature ? h('img', { class: 'signature-image', src: `/api/v1/visits/${visit.id}/signoff/signature`, alt: _('Signature') }) : null,
      signoff.comment ? h('p', { class: 'quote' }, signoff.comment) : null);
  }
  if (user.role !== 'store_manager' || visit.status !== 'published') {
    return h('div', { class: 'card', id: 'visit-signoff' }, h('p', { class: 'muted', style: 'margin:0' }, icon('clock'), ' ',
      _('Not signed off by the store yet.')));
  }
  const comment = h('textarea', { id: 'ack-comment', rows: 2, placeholder: _('Anything the store wants on record (optional)') });
  const button = h('button', { type: 'button', class: 'btn primary', id: 'acknowledge', onclick: async () => {
    button.disabled = true;
    const body = { name: document.body.dataset.userName || '', signed_at: new Date().toISOString() };
    if (comment.value.trim()) body.comment = comment.value.trim();
    try {
      await writeJson('POST', `/api/v1/visits/${visit.id}/signoff`, body);
      window.location.reload();
    } catch (error) {
      button.disabled = false;
      toast(error.message);
    }
  } }, icon('check'), _('Acknowledge'));
  return h('div', { class: 'card', id: 'visit-signoff' }, h('h2', {}, _('Acknowledge the visit')),
    h('p', { class: 'muted' }, _('Confirm that the store has read this result; the actions are agreed below.')),
    h('label', { for: 'ack-comment' }, _('Comment'), h('span', { class: 'muted' }, ` · ${_('optional')}`)), comment,
    h('div', { class: 'row', style: 'margin-top:10px' }, button));
}

/** Another supervisor scores the same store at the same time again: a calibration visit. */
function calibrateLink(visit) {
  if (user.role !== 'supervisor' || visit.kind !== 'audit' || visit.status !== 'published'
    || visit.author_id === user.id || visit.calibrates) return null;
  return h('a', { class: 'btn', id: 'calibrate', href: `/audit?store=${visit.store_id}&calibrates=${visit.id}` },
    icon('target'), _('Score it again (calibration)'));
}

async function render() {
  let visit;
  try {
    visit = await getJson(`/api/v1/visits/${id}`);
  } catch (error) {
    const offline = error instanceof ApiError && error.kind === 'network';
    mount(root, h('div', { class: 'card' }, emptyState('list', offline ? _('This page needs a network connection.') : _('Visit not found.'))));
    return;
  }
  const [definition, stores, queries] = await Promise.all([
    definitionFor(visit.checklist.slug, visit.checklist.version), storesById(), queriesOf(visit)]);
  const refresh = () => render();
  const store = stores[visit.store_id];
  mount(root,
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, storeName(store) || `#${visit.store_id}`),
        h('p', { class: 'sub' }, `${tr(definition.definition.title)} · ${fmt(visit.started_at)}`),
        h('div', { class: 'row', style: 'gap:6px;margin-top:6px' }, statusBadge(visit.status),
          h('span', { class: 'badge' }, visit.kind === 'audit' ? _('Audit') : _('Mystery visit')))),
      visit.status !== 'draft' ? h('button', { type: 'button', class: 'btn primary', id: 'download-report',
        onclick: (e) => downloadPdf(`/api/v1/visits/${visit.id}/report.pdf`, e.currentTarget, `visit-${visit.id.slice(0, 8)}.pdf`) },
      icon('download'), _('Coaching report (PDF)')) : null,
      calibrateLink(visit)),
    h('div', { class: 'stack' },
      await returnedCard(visit, store),
      await changesCard(visit, definition.definition),
      reviewCard(visit),
      await gradeCard(visit),
      queriesCard(visit, queries, definition.definition),
      scoreCard(visit, definition.definition),
      momentsCard(visit, definition.definition),
      visit.notes ? h('div', { class: 'card' }, h('h2', {}, _('Overall notes')), h('p', { style: 'white-space:pre-line' }, visit.notes)) : null,
      signoffCard(visit),
      await actionsCard(visit),
      answersCard(visit, definition.definition, queries, refresh)));
  root.removeAttribute('aria-busy');
}

if (!id) mount(root, emptyState('list', _('Visit not found.'))); else await render();
