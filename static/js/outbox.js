// The outbox: visits captured on the device (with the store's sign-off), and the evidence of
// fixed actions (fixes.js), sent step by step to the idempotent API.
// Runs in the pages and in the service worker (Background Sync), never depends on the latter.
// An item leaves the outbox only when the server's JSON answer names that item's id.

import { ApiError, failure, jsonOf, send } from './api.js';
import { all, byIndex, del, get, getKv, put, setKv } from './db.js';
import { pendingFixes, sendFix } from './fixes.js';
import { applies, indexOf, isAnswered } from './score.js';

const MAX_DELAY_S = 300;
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('outbox') : null;

export function notify(detail = {}) {
  if (channel) channel.postMessage({ type: 'changed', ...detail });
}

/** Put a captured visit in the outbox (it stays on the device until acknowledged). */
export async function enqueue(visit) {
  visit.outbox = 'queued';
  visit.queued_at = visit.queued_at || new Date().toISOString();
  visit.sync = { step: visit.sync?.step || 'visit', attempts: 0, last_error: null };
  await put('visits', visit);
  notify();
}

/** Visits waiting to be sent or needing the user's attention, oldest first. */
export async function pending(userId) {
  const visits = await all('visits');
  return visits
    .filter((v) => (v.outbox === 'queued' || v.outbox === 'attention') && (!userId || v.user_id === userId))
    .sort((a, b) => (a.queued_at || '').localeCompare(b.queued_at || ''));
}

async function withLock(work) {
  const locks = globalThis.navigator && navigator.locks;
  if (locks) {
    return locks.request('outbox-flush', { ifAvailable: true },
      (lock) => (lock ? work() : { state: 'busy' }));
  }
  if (withLock.busy) return { state: 'busy' };
  withLock.busy = true;
  try { return await work(); } finally { withLock.busy = false; }
}

/**
 * Send every queued visit of the signed-in user. Returns {state, retryIn?}:
 * 'idle' all sent, 'retry' wait retryIn seconds, 'paused' log in again, 'waiting', 'busy', 'no-auth'.
 */
export function flush({ force = false } = {}) {
  return withLock(async () => {
    const auth = await getKv('auth');
    if (!auth || !auth.token) return { state: 'no-auth' };
    if (await getKv('auth_paused')) return { state: 'paused' };
    const backoff = await getKv('backoff', { attempt: 0, next_at: 0 });
    // A Retry-After from the server is honoured even when the user asks to send now.
    if ((!force || backoff.hard) && backoff.next_at > Date.now()) {
      return { state: 'waiting', retryIn: (backoff.next_at - Date.now()) / 1000 };
    }
    const queued = (await pending(auth.user.id)).filter((v) => v.outbox === 'queued');
    for (const visit of queued) {
      const outcome = await sendOne(visit, 'visits', sendVisit);
      if (outcome) return outcome;
    }
    const fixes = (await pendingFixes(auth.user.id)).filter((f) => f.outbox === 'queued');
    for (const fix of fixes) {
      const outcome = await sendOne(fix, 'fixes', sendFix);
      if (outcome) return outcome;
      await stepDone();
      notify({ sent: fix.id });
    }
    await stepDone();
    notify();
    return { state: 'idle' };
  });
}

/** A step went through: the next failure waits 1 s again, not the doubled wait of earlier ones. */
async function stepDone() {
  await setKv('backoff', { attempt: 0, next_at: 0 });
}

/** Send one item of `store` ('visits' or 'fixes') with `sender`; null when done or set aside. */
async function sendOne(item, store, sender) {
  try {
    await sender(item);
    return null;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    await recordError(store, item, error);
    if (error.kind === 'auth') {
      await setKv('auth_paused', true);
      notify({ paused: true });
      return { state: 'paused' };
    }
    if (error.kind === 'invalid' || error.kind === 'notfound') return null;
    const backoff = await getKv('backoff', { attempt: 0, next_at: 0 });
    const attempt = backoff.attempt + 1;
    const delay = Math.max(Math.min(MAX_DELAY_S, 2 ** (attempt - 1)), error.retryAfter || 0);
    await setKv('backoff', { attempt, next_at: Date.now() + delay * 1000, hard: Boolean(error.retryAfter) });
    notify();
    return { state: 'retry', retryIn: delay };
  }
}

async function recordError(store, item, error) {
  const fresh = (await get(store, item.id)) || item;
  const permanent = error.kind === 'invalid' || error.kind === 'notfound';
  fresh.outbox = permanent ? 'attention' : fresh.outbox;
  fresh.sync = {
    ...fresh.sync,
    attempts: (fresh.sync?.attempts || 0) + 1,
    last_try: new Date().toISOString(),
    last_error: {
      kind: error.kind, status: error.status, message: error.message,
      errors: error.body && error.body.errors ? error.body.errors : null,
    },
  };
  await put(store, fresh);
  notify();
}

async function sendVisit(visit) {
  let step = visit.sync?.step || 'visit';
  let guard = 0;
  for (;;) {
    await adoptSignoff(visit);
    if (step === 'done' && visit.signoff?.state === 'pending') step = 'signoff';
    if (step === 'done') break;
    if (++guard > 12) throw new ApiError('invalid', 'The server keeps asking for the same photos.');
    step = await STEPS[step](visit);
    await stepDone();
    await adoptSignoff(visit);
    visit.sync = { ...visit.sync, step, attempts: 0, last_error: null, last_try: new Date().toISOString() };
    await put('visits', visit);
    notify();
  }
  await finish(visit);
}

/** A sign-off made on the page while this visit was being sent is kept, not overwritten. */
async function adoptSignoff(visit) {
  const fresh = await get('visits', visit.id);
  if (fresh && fresh.signoff && fresh.signoff.at !== visit.signoff?.at) visit.signoff = fresh.signoff;
}

/** The request body of PUT /visits/{id}, as the API contract names it. */
export function visitBody(visit) {
  const definition = visit.definition;
  const index = indexOf(definition);
  const answers = visit.answers || {};
  // Answers to items that an earlier answer switched off are left out, as the API asks.
  const responses = Object.entries(answers)
    .filter(([item, answer]) => index[item] && isAnswered(answer)
      && applies(definition, index[item].item, answers, index))
    .map(([item, answer]) => {
      const row = { item, value: answer.na ? null : answer.value };
      if (answer.na) row.na = true;
      if (answer.note) row.note = answer.note;
      if (answer.staff && answer.staff.trim()) row.staff = answer.staff.trim();
      if (answer.at) row.at = answer.at;
      if (answer.flagged) row.flagged = true;
      return row;
    });
  const body = {
    store_id: visit.store_id,
    checklist: { slug: visit.checklist.slug, version: visit.checklist.version },
    kind: visit.kind,
    started_at: visit.started_at,
    responses,
    photos: (visit.photos || []).map((p) => ({
      id: p.id, item: p.item,
      ...(p.taken_at ? { taken_at: p.taken_at } : {}),
      ...(p.location ? { location: p.location } : {}),
    })),
    revision: visit.revision || 0,
  };
  if (visit.ended_at) body.ended_at = visit.ended_at;
  if (visit.location) body.location = visit.location;
  if (visit.moments && visit.moments.length) body.moments = visit.moments;
  if (visit.notes) body.notes = visit.notes;
  if (visit.calibrates) body.calibrates = visit.calibrates;
  return body;
}

async function acknowledged(response, id) {
  const body = await jsonOf(response);
  if (response.ok && body && String(body.id) === String(id)) return body;
  throw await failure(response, body);
}

// Server statuses in which a visit still takes edits and waits for its submit.
const EDITABLE = ['draft', 'rejected'];

const STEPS = {
  async visit(visit) {
    const response = await send('PUT', `/api/v1/visits/${visit.id}`, { json: visitBody(visit) });
    if (response.status === 409) {
      // Already submitted by an earlier attempt whose answer was lost: check, do not resend.
      // A visit still open for edits (a draft, or returned by the reviewer) really conflicts.
      const server = await serverVisit(visit);
      if (!EDITABLE.includes(server.status)) return 'verify';
    }
    await acknowledged(response, visit.id);
    return 'photos';
  },

  async photos(visit) {
    const records = await byIndex('photos', 'visit_id', visit.id);
    for (const photo of records.filter((p) => p.state === 'pending' && p.blob)) {
      await uploadPhoto(visit, photo);
    }
    return 'submit';
  },

  async submit(visit) {
    const response = await send('POST', `/api/v1/visits/${visit.id}/submit`, { json: {} });
    const body = await jsonOf(response);
    if (response.ok && body) return 'verify';
    if (response.status === 409) return 'verify';
    throw await failure(response, body);
  },

  async verify(visit) {
    const server = await serverVisit(visit);
    if (EDITABLE.includes(server.status)) return 'submit'; // a returned visit is submitted again
    const missing = server.missing_photos || [];
    if (missing.length) {
      const again = await markMissing(visit, missing);
      if (again) return 'photos';
    }
    visit.server = { status: server.status, score: server.score || null, missing_photos: missing };
    return afterVerify(visit);
  },

  async actions(visit) {
    const existing = await send('GET', `/api/v1/actions?visit_id=${visit.id}`);
    const known = (await jsonOf(existing)) || [];
    const rows = Array.isArray(known) ? known : known.items || [];
    for (const action of visit.actions.filter((a) => !a.server_id && !a.refused)) {
      const match = rows.find((row) => row.title === action.title);
      try {
        action.server_id = match ? match.id : await postAction(visit, action);
      } catch (error) {
        // A hand-typed action the server refuses (no owner…) holds back neither the others nor
        // the sign-off: it is kept on the device with the reason.
        if (!(error instanceof ApiError) || error.kind !== 'invalid') throw error;
        action.refused = error.message;
      }
      await put('visits', visit);
    }
    return afterVerify(visit);
  },

  /** The store manager's sign-off, once the server has the submitted visit. */
  async signoff(visit) {
    if (visit.signoff?.state !== 'pending') return 'done';
    const response = await send('POST', `/api/v1/visits/${visit.id}/signoff`, { json: visit.signoff.body });
    const body = await jsonOf(response);
    if (response.ok && body && String(body.visit_id) === String(visit.id)) {
      visit.signoff = { ...visit.signoff, state: 'sent', server: body };
      return 'done';
    }
    if (response.status === 409) {
      // Another sign-off reached the server first (acknowledged in the store's app): keep it.
      visit.signoff = { ...visit.signoff, state: 'refused', error: (body && body.message) || null };
      return 'done';
    }
    throw await failure(response, body);
  },
};

function afterVerify(visit) {
  if ((visit.actions || []).some((a) => !a.server_id && !a.refused)) return 'actions';
  return visit.signoff?.state === 'pending' ? 'signoff' : 'done';
}

async function serverVisit(visit) {
  const response = await send('GET', `/api/v1/visits/${visit.id}`);
  return acknowledged(response, visit.id);
}

async function uploadPhoto(visit, photo) {
  const query = photo.item ? `?item=${encodeURIComponent(photo.item)}` : '';
  const response = await send('PUT', `/api/v1/visits/${visit.id}/photos/${photo.id}${query}`, {
    body: photo.blob, headers: { 'Content-Type': photo.type || 'image/jpeg' }, timeout: 120000,
  });
  try {
    await acknowledged(response, photo.id);
    photo.state = 'uploaded';
    await stepDone();
  } catch (error) {
    if (error.kind !== 'invalid') throw error;
    photo.state = 'rejected';
    photo.error = error.message;
  }
  await put('photos', photo);
  notify();
}

async function markMissing(visit, missing) {
  let again = false;
  for (const id of missing) {
    const photo = await get('photos', id);
    if (photo && photo.blob && photo.state !== 'rejected') {
      photo.state = 'pending';
      await put('photos', photo);
      again = true;
    }
  }
  return again;
}

async function postAction(visit, action) {
  const body = {
    store_id: visit.store_id, visit_id: visit.id, item_id: action.item_id || null,
    title: action.title, due_date: action.due_date || null,
  };
  if (action.owner && action.owner.trim()) body.owner = action.owner.trim();
  if (action.coaching_question) body.coaching_question = action.coaching_question;
  const response = await send('POST', '/api/v1/actions', { json: body });
  const answer = await jsonOf(response);
  if (response.ok && answer && answer.id !== undefined) return answer.id;
  throw await failure(response, answer);
}

/** Acknowledged: the visit leaves the outbox; its photos leave the device. */
async function finish(visit) {
  await adoptSignoff(visit);
  if (visit.signoff?.state === 'pending') { // signed this very moment: sent at the next flush
    visit.sync = { ...visit.sync, step: 'signoff' };
    await put('visits', visit);
    return;
  }
  visit.outbox = 'sent';
  visit.sent_at = new Date().toISOString();
  await put('visits', visit);
  for (const photo of await byIndex('photos', 'visit_id', visit.id)) {
    if (photo.state === 'uploaded') await del('photos', photo.id);
  }
  notify({ sent: visit.id });
}
