// Photos from the camera, shrunk on the device before they are stored and sent, and what the
// device knows of them (when, where), read before the shrink drops the camera's metadata.

// 1600 px at JPEG quality 0.7: a price board's 48 px rows (in a 4000 px photo) still read, and
// the photo is about a third of the bytes of 2000 px at 0.85 (docs/performance.md, "Photo
// bytes"). It is also the server's display size, so the report embeds it without a shrink.
// WebP was tried: larger at the same size on a camera's noise, and twice as slow to encode.
export const MAX_EDGE = 1600;
const QUALITY = 0.7;
// The server takes times of the years 2000 to 2100; a file dated outside them says nothing.
const EARLIEST = Date.UTC(2000, 0, 1);
// Where the device is: asked once at most every POSITION_AGE, and never waited on longer than
// POSITION_WAIT (a capture does not wait on a GPS that has no fix, nor on a permission prompt).
const POSITION_WAIT = 2000;
const POSITION_AGE = 60000;
// EXIF comes first in a camera's JPEG: its APP1 segment is at most 64 KB, after an optional APP0.
const EXIF_WINDOW = 256 * 1024;

/** The encoding: MAX_EDGE and QUALITY, unless localStorage "photo-encoding" holds another
 * ({"edge": 2000, "quality": 0.85}: how bench/sync.py measures the old one). */
function encoding() {
  try {
    const asked = JSON.parse(globalThis.localStorage?.getItem('photo-encoding') || 'null');
    if (asked && asked.edge > 0 && asked.quality > 0 && asked.quality <= 1) return asked;
  } catch {
    // No storage, or not JSON: the defaults.
  }
  return { edge: MAX_EDGE, quality: QUALITY };
}

/** When a photo was taken: a picked file's last change (a camera's file is written as it is
 * taken), else now. */
export function takenAt(file, at = Date.now()) {
  const modified = file && file.lastModified;
  return new Date(modified && modified >= EARLIEST && modified <= at ? modified : at).toISOString();
}

/** What the device knows of a photo before it is shrunk: when it was taken (the camera's EXIF
 * DateTimeOriginal, else `takenAt`) and where the device is ({lat, lon, accuracy_m} or null).
 * Takes at most about POSITION_WAIT; `location: false` does not ask where the device is. */
export async function photoFacts(file, { location: where = true } = {}) {
  const [exif, location] = await Promise.all([exifTakenAt(file), where ? devicePosition() : null]);
  return { taken_at: exif || takenAt(file), location };
}

/** The EXIF DateTimeOriginal of a JPEG file as an ISO time (with OffsetTimeOriginal when the
 * camera wrote it, else in the device's time zone), or null: not a JPEG, no EXIF, a damaged
 * block, a time outside 2000..now. Reads only the file's first EXIF_WINDOW bytes. */
export async function exifTakenAt(file, at = Date.now()) {
  try {
    if (!file || typeof file.slice !== 'function') return null;
    const view = new DataView(await file.slice(0, EXIF_WINDOW).arrayBuffer());
    const found = exifTimes(view);
    const time = found && exifInstant(found.original, found.offset);
    return time !== null && time >= EARLIEST && time <= at + 60000 ? new Date(time).toISOString() : null;
  } catch {
    return null; // whatever is wrong with the bytes, the file's time will do
  }
}

/** {original, offset} strings from the Exif IFD of a JPEG's APP1 segment, or null. Every read
 * is checked against the view's end (DataView throws past it; the caller catches). */
function exifTimes(view) {
  if (view.getUint16(0) !== 0xffd8) return null;
  let at = 2;
  while (at + 4 <= view.byteLength) {
    const marker = view.getUint16(at);
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null; // the image data: no EXIF
    const length = view.getUint16(at + 2);
    if (marker === 0xffe1 && length >= 16 && ascii(view, at + 4, 6) === 'Exif\0\0') {
      const tiff = new DataView(view.buffer, view.byteOffset + at + 10,
        Math.min(length - 8, view.byteLength - at - 10));
      return tiffTimes(tiff);
    }
    at += 2 + length;
  }
  return null;
}

function tiffTimes(tiff) {
  const order = ascii(tiff, 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const little = order === 'II';
  if (tiff.getUint16(2, little) !== 42) return null;
  const ifd0 = entries(tiff, tiff.getUint32(4, little), little);
  const pointer = ifd0.get(0x8769); // the Exif IFD
  if (!pointer) return null;
  const exif = entries(tiff, pointer.value, little);
  const original = text(tiff, exif.get(0x9003));
  return original ? { original, offset: text(tiff, exif.get(0x9011)) } : null;
}

/** An IFD's entries by tag: {type, count, value (the 4 bytes as a number: a value or an offset)}. */
function entries(tiff, offset, little) {
  const found = new Map();
  const count = Math.min(tiff.getUint16(offset, little), 500);
  for (let n = 0; n < count; n += 1) {
    const at = offset + 2 + 12 * n;
    found.set(tiff.getUint16(at, little), {
      type: tiff.getUint16(at + 2, little), count: tiff.getUint32(at + 4, little),
      value: tiff.getUint32(at + 8, little), at: at + 8,
    });
  }
  return found;
}

/** An ASCII entry's text (type 2), without its NUL; inline when it fits in 4 bytes. */
function text(tiff, entry) {
  if (!entry || entry.type !== 2 || entry.count > 64) return null;
  const start = entry.count <= 4 ? entry.at : entry.value;
  return ascii(tiff, start, entry.count).replace(/\0.*$/s, '').trim() || null;
}

function ascii(view, start, length) {
  let result = '';
  for (let n = 0; n < length; n += 1) result += String.fromCharCode(view.getUint8(start + n));
  return result;
}

/** "2026:11:30 09:15:42" (and "+08:00") → milliseconds since the epoch, or null. Without an
 * offset the time is the camera's local time: the device's time zone is the best guess. */
function exifInstant(original, offset) {
  const parts = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(original);
  if (!parts) return null;
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  const zone = /^([+-])(\d{2}):(\d{2})$/.exec(offset || '');
  if (zone) {
    const minutes = (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]));
    return Date.UTC(year, month - 1, day, hour, minute, second) - minutes * 60000;
  }
  return new Date(year, month - 1, day, hour, minute, second).getTime();
}

let position = { at: 0, value: null };
let asking = null;

/** Where the device is ({lat, lon, accuracy_m}) or null: no geolocation, refused, no fix within
 * POSITION_WAIT. A position up to POSITION_AGE old is reused; one request at a time. */
export function devicePosition() {
  if (position.value && Date.now() - position.at < POSITION_AGE) return Promise.resolve(position.value);
  const geolocation = globalThis.navigator?.geolocation;
  if (!geolocation) return Promise.resolve(null);
  asking ||= new Promise((resolve) => {
    geolocation.getCurrentPosition(({ coords }) => {
      position = { at: Date.now(), value: {
        lat: coords.latitude, lon: coords.longitude,
        accuracy_m: Number.isFinite(coords.accuracy) ? Math.round(coords.accuracy) : null,
      } };
      resolve(position.value);
    }, () => resolve(null), { enableHighAccuracy: false, timeout: POSITION_WAIT, maximumAge: POSITION_AGE });
  }).finally(() => { asking = null; });
  // The timeout above starts only once the user has answered the permission prompt.
  return Promise.race([asking, new Promise((resolve) => setTimeout(resolve, POSITION_WAIT, null))]);
}

async function decode(file) {
  if (typeof createImageBitmap === 'function') {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      // Fall through to an <img>, which knows more formats in some browsers.
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    return image;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function canvasBlob(canvas, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: 'image/jpeg', quality });
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

/**
 * A JPEG Blob whose long edge is at most MAX_EDGE (or the encoding asked for), with its size.
 * A format the browser cannot decode (HEIC outside Safari) is kept as it is: the server converts it.
 */
export async function downscale(file) {
  let source;
  try {
    source = await decode(file);
  } catch {
    return { blob: file, type: file.type || 'application/octet-stream', width: null, height: null };
  }
  const width = source.width || source.naturalWidth;
  const height = source.height || source.naturalHeight;
  const { edge, quality } = encoding();
  const scale = Math.min(1, edge / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(w, h) : Object.assign(document.createElement('canvas'), { width: w, height: h });
  const context = canvas.getContext('2d');
  context.imageSmoothingQuality = 'high'; // small text stays sharp through the shrink
  context.drawImage(source, 0, 0, w, h);
  if (source.close) source.close();
  const blob = await canvasBlob(canvas, quality);
  if (!blob) return { blob: file, type: file.type, width, height };
  return { blob, type: 'image/jpeg', width: w, height: h };
}
