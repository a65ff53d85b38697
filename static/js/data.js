// Reference data from the API, kept on the device for when the network is gone.

import { ApiError, getJson } from './api.js';
import { getKv, setKv } from './db.js';

/** GET a JSON document; remember it; answer the remembered copy when offline. */
export async function cachedJson(path) {
  try {
    const body = await getJson(path);
    await setKv(`cache:${path}`, body);
    return body;
  } catch (error) {
    if (error instanceof ApiError && (error.kind === 'network' || error.kind === 'transient')) {
      const kept = await getKv(`cache:${path}`);
      if (kept !== null) return kept;
    }
    throw error;
  }
}

export const loadStores = () => cachedJson('/api/v1/stores');

export async function storesById() {
  const stores = await loadStores().catch(() => []);
  return Object.fromEntries(stores.map((s) => [s.id, s]));
}

/** Distance in metres between two {lat, lon} points (haversine). */
export function distance(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(x));
}

export function rows(body) {
  return Array.isArray(body) ? body : (body && body.items) || [];
}
