// Visits on the device: created, answered and photographed locally, then handed to the outbox.

import { all, byIndex, del, get, put, transact } from './db.js';
import { enqueue } from './outbox.js';
import { downscale, photoFacts } from './photos.js';

const uuid = () => crypto.randomUUID();
const now = () => new Date().toISOString();

/** A new draft visit holding its own copy of the checklist version it follows. */
/** `calibrates`: the published audit this one scores a second time (a calibration visit). */
export async function createVisit({ kind, store, checklist, user, assignment = null, location = null,
  calibrates = null }) {
  const visit = {
    id: uuid(),
    user_id: user.id,
    kind,
    store_id: store.id,
    store: { id: store.id, code: store.code, name: store.name, name_en: store.name_en || null,
      address: store.address || null },
    checklist: { slug: checklist.slug, version: checklist.version },
    definition: checklist.definition,
    scoring: checklist.scoring || null,
    assignment_id: assignment ? assignment.id : null,
    calibrates,
    scenario: assignment ? assignment.scenario || null : null,
    started_at: now(),
    ended_at: null,
    location,
    moments: [],
    answers: {},
    photos: [],
    notes: '',
    actions: [],
    outbox: 'draft',
    revision: 0,
    created_at: now(),
    updated_at: now(),
  };
  await put('visits', visit);
  return visit;
}

export const loadVisit = (id) => get('visits', id);

export async function saveVisit(visit) {
  visit.updated_at = now();
  // The server ignores a body whose revision is lower than the one it has (a late replay).
  visit.revision = (visit.revision || 0) + 1;
  await put('visits', visit);
  return visit;
}

export async function drafts(userId) {
  const visits = await all('visits');
  return visits.filter((v) => v.outbox === 'draft' && v.user_id === userId)
    .sort((a, b) => b.updated_at.localeCompare(a.updated_at));
}

export async function recentlySent(userId, limit = 10) {
  const visits = await all('visits');
  return visits.filter((v) => v.outbox === 'sent' && v.user_id === userId)
    .sort((a, b) => (b.sent_at || '').localeCompare(a.sent_at || '')).slice(0, limit);
}

/** Move a photo to another item (before it is sent). */
export async function movePhoto(visit, photo, item) {
  photo.item = item;
  const entry = visit.photos.find((p) => p.id === photo.id);
  if (entry) entry.item = item;
  visit.updated_at = now();
  visit.revision = (visit.revision || 0) + 1;
  await transact(['visits', 'photos'], 'readwrite', (tx) => {
    tx.objectStore('photos').put(photo);
    tx.objectStore('visits').put(visit);
  });
}

/** Shrink the photo, then store it and announce it on the visit in one transaction. */
export async function addPhoto(visit, item, file) {
  const { taken_at: taken, location } = await photoFacts(file); // read before the shrink
  const shrunk = await downscale(file);
  const photo = {
    id: uuid(), visit_id: visit.id, item: item || null, blob: shrunk.blob, type: shrunk.type,
    width: shrunk.width, height: shrunk.height, size: shrunk.blob.size, taken_at: taken,
    state: 'pending',
  };
  visit.photos.push({ id: photo.id, item: photo.item, taken_at: taken, location });
  visit.updated_at = now();
  visit.revision = (visit.revision || 0) + 1;
  try {
    await transact(['visits', 'photos'], 'readwrite', (tx) => {
      tx.objectStore('photos').put(photo);
      tx.objectStore('visits').put(visit);
    });
  } catch (error) {
    visit.photos.pop();
    throw error;
  }
  return photo;
}

export async function removePhoto(visit, photoId) {
  visit.photos = visit.photos.filter((p) => p.id !== photoId);
  visit.updated_at = now();
  await transact(['visits', 'photos'], 'readwrite', (tx) => {
    tx.objectStore('photos').delete(photoId);
    tx.objectStore('visits').put(visit);
  });
}

export const photosOf = (visitId) => byIndex('photos', 'visit_id', visitId);

export async function discardVisit(visit) {
  for (const photo of await photosOf(visit.id)) await del('photos', photo.id);
  await del('visits', visit.id);
}

/** The user is done: the visit is closed on the device and queued for sending. */
export async function submitVisit(visit) {
  visit.ended_at = visit.ended_at || now();
  visit.updated_at = now();
  await enqueue(visit);
  return visit;
}

/** The store manager signed on this device: the sign-off rides the outbox after the visit (a
 * visit already sent goes back in for this last step). `body` is sent as it is, so a replay
 * is the same sign-off. */
export async function signVisit(visit, body) {
  const fresh = (await get('visits', visit.id)) || visit; // the outbox may have moved it on
  fresh.signoff = { body, state: 'pending', at: now() };
  if (fresh.outbox === 'sent') {
    fresh.sync = { ...fresh.sync, step: 'signoff' };
    await enqueue(fresh);
  } else {
    await put('visits', fresh);
  }
  return fresh;
}
