// The sign-off at the end of an audit, on the supervisor's tablet: the store manager reads the
// result (score, strengths, coaching questions, proposed actions — computed on this device),
// writes their name and an optional comment, and signs with a finger. The sign-off waits in the
// outbox behind the visit; once the visit has reached the server, the two agree the action plan.

import { getJson } from '../api.js';
import { boot, saveFailed, setCaptureOpen, syncNow, user } from '../app.js';
import { proposals, strengths } from '../coaching.js';
import { storesById } from '../data.js';
import { _, fmt, storeName, tr } from '../i18n.js';
import { plan } from '../plan.js';
import { estimate, indexOf } from '../score.js';
import { signaturePad } from '../signature.js';
import { band, emptyState, h, icon, mount, params, scoreText } from '../ui.js';
import { loadVisit, photosOf, signVisit } from '../visits.js';

await boot();
const root = document.getElementById('view');
const id = params().get('visit');
let visit = id ? await loadVisit(id) : null;
const SEVERITY = () => ({ red_line: _('Red line: within 24 hours'), must_be: _('Must-be: within 48 hours'),
  other: _('Within 7 days') });

if (!visit || visit.kind !== 'audit' || visit.user_id !== user.id) {
  mount(root, emptyState('clipboard', _('This visit is not on this device.')),
    h('p', { class: 'center' }, h('a', { class: 'btn primary', href: '/outbox' }, _('Open the outbox'))));
} else if (visit.outbox === 'draft') {
  mount(root, h('div', { class: 'card center' }, h('p', {}, _('Submit the audit before the sign-off.')),
    h('a', { class: 'btn primary', href: `/audit?visit=${visit.id}` }, _('Back to the audit'))));
} else {
  await render();
  if (typeof BroadcastChannel === 'function') {
    // The outbox moved the visit on (sent, signed off): show where it stands.
    let timer = null;
    new BroadcastChannel('outbox').addEventListener('message', () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    });
  }
  window.addEventListener('online', refresh);
}

async function refresh() {
  const fresh = await loadVisit(visit.id);
  const before = `${visit.outbox}:${visit.signoff?.state}`;
  if (!fresh || `${fresh.outbox}:${fresh.signoff?.state}` === before) return;
  visit = fresh;
  if (visit.signoff) await render();
}

function head() {
  return h('div', { class: 'page-head' }, h('div', {},
    h('h1', {}, _('Sign-off')),
    h('p', { class: 'sub' }, `${storeName(visit.store)} · ${tr(visit.definition.title)} · ${fmt(visit.started_at)}`)));
}

async function render() {
  if (visit.signoff) {
    setCaptureOpen(false);
    mount(root, head(), signedCard(), await planCard());
  } else {
    setCaptureOpen(true); // an app update waits: a half-drawn signature is not saved yet
    mount(root, head(), ...(await reading()), await signCard());
  }
  root.removeAttribute('aria-busy');
}

// ---------- What the store manager reads ----------

async function reading() {
  const definition = visit.definition;
  const rules = visit.scoring;
  const score = estimate(definition, visit.answers, { sofar: false, rules });
  const peakEnd = (rules && rules.peak_end_moments) || [];
  const photos = await photosOf(visit.id).catch(() => []);
  const praised = strengths(definition, score, visit.answers, [...photos, ...(visit.photos || [])], peakEnd);
  const store = (await storesById())[visit.store_id];
  const proposed = proposals(definition, score, visit.started_at, peakEnd, await openActions(), store?.timezone);
  const index = indexOf(definition);
  return [
    h('p', { class: 'lead-in' }, icon('note'), _('For the store manager: read the result with the supervisor, then sign below.')),
    h('div', { class: 'signoff-grid' },
      scoreCard(score),
      h('section', { class: 'card', id: 'signoff-strengths' }, h('h2', {}, _('Strengths')),
        praised.length || visit.notes ? h('ul', { class: 'plain' },
          praised.map((item) => h('li', {}, icon('check'), h('span', {}, tr(item.report_text || item.text),
            visit.answers[item.id]?.note ? h('span', { class: 'muted small' }, ` — ${visit.answers[item.id].note}`) : null)))) : null,
        visit.notes ? h('p', { class: 'quote' }, visit.notes) : null,
        !praised.length && !visit.notes ? h('p', { class: 'muted' }, _('Nothing stood out this time.')) : null)),
    h('section', { class: 'card', id: 'signoff-questions' }, h('h2', {}, _('Coaching questions')),
      proposed.length ? h('ol', { class: 'questions' }, proposed.map((p) => h('li', {},
        h('div', { class: 'muted small' }, tr(index[p.item].item.report_text || index[p.item].item.text)),
        h('div', {}, p.question || _('What would help here?')))))
        : h('p', { class: 'muted' }, _('No gap to talk through.'))),
    h('section', { class: 'card', id: 'signoff-actions' }, h('h2', {}, _('Proposed actions')),
      h('p', { class: 'muted small' }, _('Agreed after signing: each gets an owner from the store roster and a due date, or is dismissed with a reason.')),
      proposed.length ? h('ul', { class: 'list' }, proposed.map((p) => h('li', { class: 'list-item', dataset: { item: p.item } },
        icon('flag'),
        h('div', { class: 'main' }, h('div', { class: 'title' }, p.title),
          h('div', { class: 'meta' }, `${SEVERITY()[p.kind]} · ${_('due {date}', { date: fmt(p.due_date, 'date') })}`)),
        p.kind === 'red_line' ? h('span', { class: 'badge red' }, _('Red line')) : null)))
        : h('p', { class: 'muted' }, _('No action proposed.'))),
  ];
}

/** The store's unfinished actions, so that an item already being fixed gets no second proposal. */
async function openActions() {
  try { return await getJson(`/api/v1/actions?store_id=${visit.store_id}`); } catch { return []; }
}

function scoreCard(score) {
  const low = score.red_lines.length ? 'low' : band(score.total);
  return h('section', { class: 'card', id: 'signoff-score' },
    h('div', { class: 'score-hero' },
      h('div', { class: `ring ${low}`, style: `--p:${score.total ?? 0}` },
        h('div', {}, h('div', {}, h('div', { class: 'num' }, scoreText(score.total)),
          h('div', { class: 'lbl' }, score.grade ? tr(score.grade.label) : '')))),
      h('div', { style: 'flex:1 1 160px' }, h('h2', {}, _('Score')),
        score.red_lines.length
          ? h('div', { class: 'redline-alert' }, icon('alert'), h('div', {}, _('Red line failed: the visit scores 0.'),
            h('ul', { style: 'margin:4px 0 0;padding-left:18px;font-weight:500' }, score.red_lines.map((item) => h('li', {}, tr(item.report_text || item.text))))))
          : null,
        h('p', { class: 'muted small' }, _('Calculated on this device. The score the server gives on submission is final.')))));
}

// ---------- Name, comment, signature ----------

async function signCard() {
  const stores = await storesById();
  const manager = stores[visit.store_id]?.manager_name || '';
  const name = h('input', { type: 'text', id: 'signoff-name', maxlength: '120', autocomplete: 'off', value: manager });
  const comment = h('textarea', { id: 'signoff-comment', rows: 3, placeholder: _('Anything the store wants on record (optional)') });
  const button = h('button', { type: 'button', class: 'btn primary big block', id: 'signoff-submit', disabled: true,
    onclick: () => sign(name, comment, pad, button) }, icon('check'), _('Sign and send'));
  const ready = () => { button.disabled = pad.isEmpty() || !name.value.trim(); };
  const pad = signaturePad({ id: 'signature', label: _('Signature of the store manager'), onchange: ready });
  name.addEventListener('input', ready);
  const where = locate();
  button.dataset.locating = 'true';
  where.finally(() => { delete button.dataset.locating; });
  sign.where = where;
  return h('section', { class: 'card', id: 'signoff-form' },
    h('h2', {}, _('Sign-off by the store manager')),
    h('div', { class: 'field' }, h('label', { for: 'signoff-name' }, _('Name of the store manager')), name),
    h('div', { class: 'field' }, h('label', { for: 'signoff-comment' }, _('Comment'), h('span', { class: 'muted' }, ` · ${_('optional')}`)), comment),
    h('label', { for: 'signature' }, _('Signature')),
    pad.node,
    h('p', { class: 'hint' }, _('By signing, the store manager confirms having read this result with the supervisor.')),
    button,
    h('p', { class: 'center', style: 'margin-top:12px' },
      h('a', { href: '/outbox', id: 'signoff-later' }, _('Not now: the store manager acknowledges later in their app'))));
}

/** Where the tablet is at the signing: a fresh position when one comes quickly, else the visit's. */
function locate() {
  const fallback = visit.location || null;
  if (!navigator.geolocation) return Promise.resolve(fallback);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), 5000);
    navigator.geolocation.getCurrentPosition((position) => {
      clearTimeout(timer);
      const { latitude: lat, longitude: lon, accuracy } = position.coords;
      resolve({ lat, lon, accuracy_m: Math.round(accuracy) });
    }, () => { clearTimeout(timer); resolve(fallback); }, { maximumAge: 300000, timeout: 5000 });
  });
}

async function sign(name, comment, pad, button) {
  button.disabled = true;
  const body = { name: name.value.trim(), signature: pad.toDataURL(), signed_at: new Date().toISOString() };
  if (comment.value.trim()) body.comment = comment.value.trim();
  const location = await sign.where;
  if (location) body.location = location;
  try {
    visit = await signVisit(visit, body);
  } catch (error) {
    button.disabled = false;
    saveFailed(error);
    return;
  }
  setCaptureOpen(false);
  await render();
  window.scrollTo({ top: 0 });
  syncNow(true);
}

// ---------- Signed: where the sign-off stands, then the action plan ----------

function signedCard() {
  const signoff = visit.signoff;
  const states = {
    pending: [_('Waiting to be sent'), 'amber'], sent: [_('Received by the server'), 'green'],
    refused: [_('Not recorded: the visit already had a sign-off'), 'red'],
  };
  const [label, cls] = states[signoff.state] || states.pending;
  return h('section', { class: 'card', id: 'signoff-done', dataset: { state: signoff.state } },
    h('div', { class: 'row' }, icon('check'), h('h2', { style: 'margin:0' }, _('Signed by {name}', { name: signoff.body.name })),
      h('span', { class: 'spacer' }), h('span', { class: `badge ${cls}`, id: 'signoff-state' }, label)),
    h('p', { class: 'muted' }, fmt(signoff.body.signed_at)),
    signoff.body.signature ? h('img', { class: 'signature-image', src: signoff.body.signature, alt: _('Signature') }) : null,
    signoff.body.comment ? h('p', { class: 'quote' }, signoff.body.comment) : null,
    signoff.state === 'refused' && signoff.error ? h('p', { class: 'flash small' }, signoff.error) : null);
}

async function planCard() {
  const card = h('section', { class: 'card', id: 'plan' }, h('h2', {}, _('Agree the action plan')));
  let actions = null;
  if (visit.outbox === 'sent') {
    try { actions = await getJson(`/api/v1/actions?visit_id=${visit.id}`); } catch { actions = null; }
  }
  if (actions === null) {
    card.append(h('p', { class: 'muted', id: 'plan-waiting' }, icon('upload'), ' ',
      _('The action plan opens here once the visit has reached the server.')),
    h('a', { class: 'btn', href: '/outbox' }, _('Open the outbox')));
    return card;
  }
  const cards = plan(user);
  card.append(h('p', { class: 'muted small' }, _('For each proposal: agree it with an owner from the roster and a due date, or dismiss it with a reason.')),
    actions.length ? h('div', { class: 'plan-list', id: 'plan-list' }, actions.map(cards.card))
      : h('p', { class: 'muted' }, _('No action proposed.')),
    h('div', { class: 'row', style: 'margin-top:12px' }, h('a', { class: 'btn primary', href: '/', id: 'signoff-finish' }, _('Done'))));
  return card;
}
