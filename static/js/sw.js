// The service worker (a module, served from /sw.js so that it controls the whole site).
// Shell: precached per version, served from the cache at once and refreshed in the background.
// Checklists and reference data: network first, cache fallback before the pages' 3 s budget
// (the pages' device-first requests, data.js, keep their own copies and pass through).
// It never activates itself while an older version controls pages: the pages decide (app.js).

import { flush } from '/static/js/outbox.js';

const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const SHELL_CACHE = `shell-${VERSION}`;
const DATA_CACHE = 'data-v1';
const NETWORK_TIMEOUT_MS = 2500;
const SHELLS = PRECACHE.filter((url) => !url.includes('.') && !url.startsWith('/static/'));
const DATA_PATHS = [/^\/api\/v1\/checklists/, /^\/api\/v1\/stores/, /^\/api\/v1\/regions/,
  /^\/api\/v1\/me$/, /^\/api\/v1\/assignments/];

async function fetchInto(cache, url) {
  const response = await fetch(new Request(url, { cache: 'reload', credentials: 'same-origin' }));
  // A shell fetched without a session is the login page: never keep that under the shell's name.
  if (response.ok && !response.redirected) await cache.put(url, response);
  else if (url.startsWith('/static/')) throw new Error(`precache ${url}: ${response.status}`);
}

async function precache(urls) {
  const cache = await caches.open(SHELL_CACHE);
  await Promise.all(urls.map((url) => fetchInto(cache, url)));
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache(PRECACHE));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('shell-') && n !== SHELL_CACHE)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const type = event.data && event.data.type;
  if (type === 'SKIP_WAITING') self.skipWaiting();
  if (type === 'VERSION' && event.ports[0]) event.ports[0].postMessage(VERSION);
  if (type === 'REFRESH_SHELLS') {
    event.waitUntil(caches.open(SHELL_CACHE).then((cache) =>
      Promise.all([...SHELLS, '/manifest.webmanifest'].map((url) => fetchInto(cache, url).catch(() => null)))));
  }
  if (type === 'CLEAR_USER_DATA') {
    event.waitUntil(Promise.all([
      caches.delete(DATA_CACHE),
      caches.open(SHELL_CACHE).then((cache) => Promise.all(SHELLS.map((url) => cache.delete(url)))),
    ]));
  }
});

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
}

async function networkFirst(event, cacheName, key) {
  const cache = await caches.open(cacheName);
  const network = fetch(event.request).then(async (response) => {
    if (response.ok && response.type === 'basic' && !response.redirected) {
      await cache.put(key, response.clone());
    }
    return response;
  });
  event.waitUntil(network.catch(() => null));
  const answer = await withTimeout(network.catch(() => null), NETWORK_TIMEOUT_MS);
  if (answer && (answer.ok || answer.type === 'opaqueredirect' || answer.status < 500)) return answer;
  const cached = await cache.match(key);
  if (cached) return cached;
  return answer || (await network.catch(() => null)) || offlineAnswer(event.request);
}

/** A page shell from the cache at once (fetched again for the next time), else the network. */
async function shellFirst(event, path) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(path);
  if (!cached) return networkFirst(event, SHELL_CACHE, path);
  event.waitUntil(fetchInto(cache, path).catch(() => null));
  return cached;
}

function offlineAnswer(request) {
  if (request.mode === 'navigate') {
    return caches.match('/', { cacheName: SHELL_CACHE })
      .then((home) => home || new Response('Offline', { status: 503, headers: { 'Content-Type': 'text/plain' } }));
  }
  return new Response(JSON.stringify({ code: 503, status: 'Offline', message: 'offline' }), {
    status: 503, headers: { 'Content-Type': 'application/json' },
  });
}

async function cacheFirst(event) {
  const cache = await caches.open(SHELL_CACHE);
  const url = new URL(event.request.url);
  const cached = await cache.match(url.pathname);
  if (cached) return cached;
  const response = await fetch(event.request);
  if (response.ok) event.waitUntil(cache.put(url.pathname, response.clone()));
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    if (!SHELLS.includes(url.pathname)) return;
    // A change of language (?lang=) or a new sign-in asks the server: the kept shell may be in
    // the other language, or someone else's.
    const fromLogin = request.referrer && new URL(request.referrer).pathname.startsWith('/login');
    event.respondWith(url.searchParams.has('lang') || fromLogin
      ? networkFirst(event, SHELL_CACHE, url.pathname) : shellFirst(event, url.pathname));
    return;
  }
  if (url.pathname.startsWith('/static/') || url.pathname.startsWith('/i18n/')
      || url.pathname === '/manifest.webmanifest') {
    event.respondWith(cacheFirst(event));
    return;
  }
  if (DATA_PATHS.some((pattern) => pattern.test(url.pathname)) && !request.headers.has('X-Device-First')) {
    event.respondWith(networkFirst(event, DATA_CACHE, url.pathname + url.search));
  }
});

// Background Sync where the browser has it; the pages retry on their own everywhere else.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(flush().then((result) => {
    if (result.state === 'retry') throw new Error('outbox: retry later');
  }));
});
