// IndexedDB, promise-shaped: everything the app captures is stored here first.
// Used by the pages and by the service worker (no DOM in this module).

const DB_NAME = 'supervision';
const DB_VERSION = 2;

/** Raised when the device has no room left; earlier records stay intact. */
export class StorageFullError extends Error {
  constructor(cause) {
    super('Storage is full');
    this.name = 'StorageFullError';
    this.cause = cause;
  }
}

let opening = null;

export function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (event.oldVersion < 1) {
        db.createObjectStore('visits', { keyPath: 'id' });
        db.createObjectStore('photos', { keyPath: 'id' }).createIndex('visit_id', 'visit_id');
        db.createObjectStore('checklists', { keyPath: 'key' });
        db.createObjectStore('kv', { keyPath: 'key' });
      }
      // 2: the evidence of fixed actions, with its photos, waiting to be sent (fixes.js).
      if (event.oldVersion < 2) db.createObjectStore('fixes', { keyPath: 'id' });
    };
    request.onsuccess = () => {
      const db = request.result;
      // A newer version of the app wants to upgrade the schema: let it.
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    request.onerror = () => { opening = null; reject(request.error); };
  });
  return opening;
}

function asStorageError(error) {
  const name = error && error.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED'
    ? new StorageFullError(error) : error;
}

/**
 * Run `work(tx)` in one transaction over `stores`; resolves with what `work` returned
 * (an IDBRequest's result once done) after the transaction has committed.
 * Writes ask for strict durability: committed means on disk, so a crash cannot lose it.
 */
export async function transact(stores, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    let tx;
    try {
      tx = db.transaction(stores, mode, mode === 'readwrite' ? { durability: 'strict' } : {});
    } catch (error) {
      reject(asStorageError(error));
      return;
    }
    let result;
    tx.oncomplete = () => resolve(result instanceof IDBRequest ? result.result : result);
    tx.onabort = () => reject(asStorageError(tx.error));
    try {
      result = work(tx);
    } catch (error) {
      tx.abort();
      reject(asStorageError(error));
    }
  });
}

const one = (store, mode, call) => transact([store], mode, (tx) => call(tx.objectStore(store)));

export const get = (store, key) => one(store, 'readonly', (s) => s.get(key));
export const put = (store, value) => one(store, 'readwrite', (s) => s.put(value));
export const del = (store, key) => one(store, 'readwrite', (s) => s.delete(key));
export const all = (store) => one(store, 'readonly', (s) => s.getAll());
export const byIndex = (store, index, value) =>
  one(store, 'readonly', (s) => s.index(index).getAll(value));

export async function getKv(key, fallback = null) {
  const row = await get('kv', key);
  return row === undefined ? fallback : row.value;
}

export const setKv = (key, value) => put('kv', { key, value });
export const delKv = (key) => del('kv', key);
