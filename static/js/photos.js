// Photos from the camera, shrunk on the device to about 2000 px before they are stored and sent.

export const MAX_EDGE = 2000;
const QUALITY = 0.85;
// The server takes times of the years 2000 to 2100; a file dated outside them says nothing.
const EARLIEST = Date.UTC(2000, 0, 1);

/** When a photo was taken: a picked file's last change (a camera's file is written as it is
 * taken), else now. Reading the EXIF date is for later. */
export function takenAt(file, at = Date.now()) {
  const modified = file && file.lastModified;
  return new Date(modified && modified >= EARLIEST && modified <= at ? modified : at).toISOString();
}

/** What the device knows of a photo before it is shrunk: when it was taken and where the
 * device was ({lat, lon, accuracy_m} or null). */
export async function photoFacts(file) {
  return { taken_at: takenAt(file), location: null };
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

function canvasBlob(canvas) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
}

/**
 * A JPEG Blob whose long edge is at most MAX_EDGE, with its size.
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
  const scale = Math.min(1, MAX_EDGE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(w, h) : Object.assign(document.createElement('canvas'), { width: w, height: h });
  const context = canvas.getContext('2d');
  context.drawImage(source, 0, 0, w, h);
  if (source.close) source.close();
  const blob = await canvasBlob(canvas);
  if (!blob) return { blob: file, type: file.type, width, height };
  return { blob, type: 'image/jpeg', width: w, height: h };
}
