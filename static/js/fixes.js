// The evidence of a fix: photos taken in the app of an action put right, and a note. Kept on the
// device ("fixes" in IndexedDB) until the server holds every photo and has marked the action
// done; sent by the outbox (outbox.js) like visits, so the store can show a fix offline.
// Used by the pages and by the service worker (no DOM in this module).

import { failure, jsonOf, send } from './api.js';
import { all, del, get, put } from './db.js';
import { downscale, photoFacts } from './photos.js';

const now = () => new Date().toISOString();
const FINISHED = ['done', 'verified'];

/** The fix this user is preparing for `action` on this device, or a new (unsaved) one. */
export async function draftFix(action, userId) {
  const found = (await all('fixes')).find((f) => f.action_id === action.id && f.user_id === userId
    && f.outbox === 'draft');
  return found || {
    id: crypto.randomUUID(), user_id: userId, action_id: action.id,
    action: { id: action.id, title: action.title, texts: action.texts || null, store: action.store || null },
    note: '', photos: [], outbox: 'draft', created_at: now(),
  };
}

/** Shrink a photo as visit photos are, and keep it with the fix (its time read on the device,
 * from the camera's EXIF before the shrink; the evidence has no place for a location). */
export async function addFixPhoto(fix, file) {
  const { taken_at: taken } = await photoFacts(file, { location: false });
  const shrunk = await downscale(file);
  fix.photos.push({ id: crypto.randomUUID(), blob: shrunk.blob, type: shrunk.type, width: shrunk.width,
    height: shrunk.height, size: shrunk.blob.size, taken_at: taken, state: 'pending' });
  try {
    await put('fixes', fix);
  } catch (error) {
    fix.photos.pop();
    throw error;
  }
  return fix;
}

export async function removeFixPhoto(fix, photoId) {
  fix.photos = fix.photos.filter((p) => p.id !== photoId);
  await put('fixes', fix);
}

export const saveFix = (fix) => put('fixes', fix);

/** Done on the device: the fix waits in the outbox until the server acknowledges it. */
export async function queueFix(fix) {
  fix.outbox = 'queued';
  fix.queued_at = fix.queued_at || now();
  fix.sync = { step: 'photos', attempts: 0, last_error: null };
  await put('fixes', fix);
}

export async function fixesOf(userId) {
  return (await all('fixes')).filter((f) => f.user_id === userId);
}

/** Fixes waiting to be sent or needing attention, oldest first. */
export async function pendingFixes(userId) {
  return (await fixesOf(userId)).filter((f) => f.outbox === 'queued' || f.outbox === 'attention')
    .sort((a, b) => (a.queued_at || '').localeCompare(b.queued_at || ''));
}

export const discardFix = (fix) => del('fixes', fix.id);

/** Each photo (an idempotent PUT: a replay of the same bytes is a 200), then the action done.
 * Throws ApiError; the outbox records it and tries again later. */
export async function sendFix(fix) {
  for (const photo of fix.photos.filter((p) => p.state === 'pending')) {
    const query = `?taken_at=${encodeURIComponent(photo.taken_at)}`;
    const response = await send('PUT', `/api/v1/actions/${fix.action_id}/evidence/${photo.id}${query}`, {
      body: photo.blob, headers: { 'Content-Type': photo.type || 'image/jpeg' }, timeout: 120000,
    });
    const body = await jsonOf(response);
    if (!response.ok || !body || (body.id !== undefined && String(body.id) !== photo.id)) {
      throw await failure(response, body);
    }
    photo.state = 'uploaded';
    await put('fixes', fix);
  }
  await markDone(fix);
  const fresh = (await get('fixes', fix.id)) || fix;
  // Sent: the photos leave the device; what was sent stays listed.
  Object.assign(fresh, { outbox: 'sent', sent_at: now(), sync: { ...fresh.sync, step: 'done', last_error: null },
    photos: fresh.photos.map(({ blob, ...rest }) => rest) });
  await put('fixes', fresh);
}

async function markDone(fix) {
  const path = `/api/v1/actions/${fix.action_id}`;
  const response = await send('PATCH', path, { json: { status: 'done', note: fix.note } });
  const body = await jsonOf(response);
  if (response.ok && body && body.id === fix.action_id) return;
  if (response.status === 409) {
    // Marked done by an earlier attempt whose answer was lost: check, do not fail.
    const check = await send('GET', path);
    const action = await jsonOf(check);
    if (check.ok && action && FINISHED.includes(action.status)) return;
  }
  throw await failure(response, body);
}
