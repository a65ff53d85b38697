// Choose a store (nearest first when location is allowed) and a checklist, then start a visit.

import { boot, user } from '../app.js';
import { currentChecklist, refreshChecklists } from '../checklists.js';
import { deviceFirst, distance, loadStores } from '../data.js';
import { getKv, setKv } from '../db.js';
import { _, storeName, tr } from '../i18n.js';
import { emptyState, h, icon, mount, params, toast, unavailable } from '../ui.js';
import { createVisit } from '../visits.js';

await boot();
const root = document.getElementById('view');
const kind = params().get('kind') === 'mystery' ? 'mystery' : 'audit';
const state = { stores: null, here: await getKv('last_position'), query: '', checklists: [] };

// The storefront audit first: it is the one a supervisor walks on almost every visit.
const ofKind = (list) => (list || []).filter((c) => c.kind === kind && !c.retired)
  .sort((a, b) => (b.slug === 'storefront-audit') - (a.slug === 'storefront-audit') || a.slug.localeCompare(b.slug));
// The checklists on the device draw at once; the network's list follows when it comes.
state.checklists = ofKind(await getKv('checklists', []));
refreshChecklists().then((list) => { state.checklists = ofKind(list); render(); }).catch(() => null);
await deviceFirst(async () => {
  state.stores = await loadStores().catch(() => null);
  render();
});
if (navigator.permissions) {
  navigator.permissions.query({ name: 'geolocation' })
    .then((status) => { if (status.state === 'granted') locate(); })
    .catch(() => null);
}

function locate() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(async (position) => {
    state.here = { lat: position.coords.latitude, lon: position.coords.longitude,
      accuracy_m: position.coords.accuracy, at: Date.now() };
    await setKv('last_position', state.here);
    render();
  }, () => toast(_('Location is not available: stores are listed by code.')),
  { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
}

function sorted() {
  if (state.stores === null) return [];
  const q = state.query.trim().toLowerCase();
  const list = state.stores.filter((s) => !q || [s.name, s.name_en, s.code, s.address]
    .some((v) => v && v.toLowerCase().includes(q)));
  if (!state.here) return list.map((s) => ({ store: s, metres: null }));
  return list.map((s) => ({ store: s, metres: s.lat == null ? null : distance(state.here, s) }))
    .sort((a, b) => (a.metres ?? Infinity) - (b.metres ?? Infinity));
}

function km(metres) {
  if (metres === null) return '';
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(metres < 10000 ? 1 : 0)} km`;
}

async function start(store, slug) {
  // Tapped before the list reached the device: the same first choice the picker would offer.
  slug ||= ofKind(await refreshChecklists().catch(() => []))[0]?.slug;
  const checklist = await currentChecklist({ kind, slug });
  if (!checklist) {
    toast(_('The checklist is not on this device yet: connect once to download it.'));
    return;
  }
  const here = state.here;
  // Only a recent position tells where the visit happened.
  const location = here && Date.now() - (here.at || 0) < 600000
    ? { lat: here.lat, lon: here.lon, accuracy_m: here.accuracy_m } : null;
  const visit = await createVisit({ kind, store, checklist, user, location });
  window.location.href = `/${kind}?visit=${visit.id}`;
}

function render() {
  const list = sorted();
  const search = h('input', { type: 'search', id: 'store-search', placeholder: _('Search by name, code or address'),
    'aria-label': _('Search stores'), value: state.query,
    oninput: (e) => { state.query = e.target.value; renderList(); } });
  const picker = state.checklists.length > 1
    ? h('div', { class: 'field' }, h('label', { for: 'checklist-pick' }, _('Checklist')),
      h('select', { id: 'checklist-pick' }, state.checklists.map((c) => h('option', { value: c.slug }, tr(c.title)))))
    : null;
  const listHost = h('ul', { class: 'list card', id: 'store-list', style: 'padding:0 12px' });
  function renderList() {
    const current = sorted();
    mount(listHost, state.stores === null ? h('li', {}, unavailable()) : current.length ? current.map(({ store, metres }) => h('li', {},
      h('button', { type: 'button', class: 'list-item btn ghost block', style: 'text-align:left;justify-content:flex-start;font-weight:400',
        dataset: { store: store.code },
        onclick: () => start(store, document.getElementById('checklist-pick')?.value || state.checklists[0]?.slug) },
      icon('store'),
      h('span', { class: 'main' }, h('span', { class: 'title', style: 'display:block;color:var(--text)' }, storeName(store)),
        h('span', { class: 'meta', style: 'display:block' }, [store.code, store.address].filter(Boolean).join(' · '))),
      h('span', { class: 'end muted small' }, km(metres)), icon('next'))))
      : h('li', {}, emptyState('store', _('No store matches.'))));
  }
  renderList();
  mount(root,
    h('div', { class: 'row', style: 'margin-bottom:12px;flex-wrap:nowrap' }, search,
      h('button', { type: 'button', class: 'btn', style: 'white-space:nowrap', onclick: locate, 'aria-label': _('Nearest first') },
        icon('target'), h('span', { class: 'hide-phone' }, _('Nearest first')))),
    state.here ? h('p', { class: 'small muted' }, icon('pin'), ' ', _('Sorted by distance from you.')) : null,
    picker,
    state.checklists.length ? null : h('p', { class: 'flash' }, _('No checklist on this device yet: connect once to download it.')),
    listHost);
  root.removeAttribute('aria-busy');
}
