// A visit the reviewer returned: copied from the server onto the device as a draft, fixed on
// the capture screen and submitted again through the outbox. The photos the server already
// has are kept as received (never sent again), with the server's thumbnail to show.

import { send } from './api.js';
import { transact } from './db.js';
import { loadVisit } from './visits.js';

/** The capture screen of a visit on the device. */
export const captureUrl = (visit) => `/${visit.kind === 'audit' ? 'audit' : 'mystery'}?visit=${visit.id}`;

/** The device's copy of a returned visit, when it is being fixed or waits to be sent again. */
export async function reopened(visit) {
  const local = await loadVisit(visit.id);
  return local && local.returned && local.returned.comment === visit.review_comment ? local : null;
}

/** The server's answers as the capture screen keeps them. */
function answersOf(responses) {
  return Object.fromEntries(responses.map((r) => {
    const answer = { value: r.na ? null : r.value };
    if (r.na) answer.na = true;
    for (const key of ['note', 'staff', 'at']) if (r[key]) answer[key] = r[key];
    if (r.flagged) answer.flagged = true;
    return [r.item, answer];
  }));
}

/** The thumbnail the server made, kept so the capture screen shows the photo (null offline). */
async function thumbnail(visitId, photoId) {
  try {
    const response = await send('GET', `/api/v1/visits/${visitId}/photos/${photoId}?size=thumb`,
      { headers: { Accept: 'image/*' }, timeout: 15000 });
    return response.ok ? await response.blob() : null;
  } catch {
    return null;
  }
}

/**
 * Copy the returned `visit` (the server's document) onto the device as an editable draft and
 * return it; a copy already reopened for the same comment is kept as it is (its edits too).
 * `checklist` is the visit's version (definitionFor), `store` the store's row.
 */
export async function reopen(visit, { user, store, checklist }) {
  const kept = await reopened(visit);
  if (kept) return kept;
  const received = visit.photos.filter((p) => p.status === 'received' || p.status === 'processed');
  const photos = [];
  for (const p of received) {
    const blob = await thumbnail(visit.id, p.id);
    photos.push({
      id: p.id, visit_id: visit.id, item: p.item, blob, type: blob ? blob.type : p.content_type,
      width: p.width, height: p.height, size: p.size_bytes, taken_at: p.taken_at,
      url: `/api/v1/visits/${visit.id}/photos/${p.id}?size=thumb`,
      state: 'uploaded', received: true, // on the server already: the outbox sends none of these
    });
  }
  const at = new Date().toISOString();
  const draft = {
    id: visit.id,
    user_id: user.id,
    kind: visit.kind,
    store_id: visit.store_id,
    store: { id: store.id, code: store.code, name: store.name, name_en: store.name_en || null,
      address: store.address || null },
    checklist: { slug: visit.checklist.slug, version: visit.checklist.version },
    definition: checklist.definition,
    scoring: checklist.scoring || null,
    assignment_id: visit.assignment_id,
    scenario: null,
    started_at: visit.started_at,
    ended_at: visit.ended_at,
    location: visit.location,
    moments: visit.moments.map((m) => ({ moment: m.moment, at: m.at })),
    answers: answersOf(visit.responses),
    photos: received.map((p) => ({ id: p.id, item: p.item, taken_at: p.taken_at, location: p.location })),
    notes: visit.notes || '',
    actions: [],
    outbox: 'draft',
    // The server keeps a body whose revision is not lower than its own: each save goes above.
    revision: visit.revision || 0,
    phase: 'questionnaire',
    returned: { comment: visit.review_comment, at },
    created_at: at,
    updated_at: at,
  };
  await transact(['visits', 'photos'], 'readwrite', (tx) => {
    for (const photo of photos) tx.objectStore('photos').put(photo);
    tx.objectStore('visits').put(draft);
  });
  return draft;
}
