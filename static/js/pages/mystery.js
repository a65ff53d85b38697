// The mystery shopper's visit: a discreet quick-capture screen in the store (tap to timestamp
// each key moment, photos), then the questionnaire after leaving.

import { boot, saveFailed, setCaptureOpen } from '../app.js';
import { questionnaire } from '../capture.js';
import { thumbs } from '../form.js';
import { _, fmt, storeName, tr } from '../i18n.js';
import { items } from '../score.js';
import { emptyState, h, icon, mount, params, toast } from '../ui.js';
import { addPhoto, loadVisit, movePhoto, photosOf, removePhoto, saveVisit } from '../visits.js';

await boot();
const root = document.getElementById('view');
const id = params().get('visit');
const visit = id ? await loadVisit(id) : null;

if (!visit || visit.kind !== 'mystery') {
  mount(root, emptyState('clipboard', _('This visit is not on this device.')),
    h('p', { class: 'center' }, h('a', { class: 'btn primary', href: '/' }, _('Your assignments'))));
} else if (visit.outbox !== 'draft') {
  mount(root, h('div', { class: 'card center' }, h('h1', {}, storeName(visit.store)),
    h('p', {}, _('This visit has been submitted and is in the outbox.')),
    h('a', { class: 'btn primary', href: '/outbox' }, _('Open the outbox'))));
} else {
  setCaptureOpen(true);
  if (visit.phase === 'questionnaire') await showQuestionnaire(); else await quickCapture();
}

function photoItems(definition) {
  return [...items(definition)].map(([, item]) => item).filter((i) => i.photo && i.photo.rule !== 'none');
}

/** Quick-capture photos go to the overall-impression item (a text item taking photos) by default. */
function defaultPhotoItem(definition) {
  const list = photoItems(definition);
  return (list.find((i) => i.type === 'text') || list.find((i) => i.photo.rule === 'required') || list[0]
    || definition.sections[0].items[0]).id;
}

async function quickCapture() {
  document.body.classList.add('discreet');
  const definition = visit.definition;
  let photos = await photosOf(visit.id);
  const timeOf = (moment) => visit.moments.find((m) => m.moment === moment.id)?.at;

  async function stamp(moment) {
    const at = new Date().toISOString();
    visit.moments = [...visit.moments.filter((m) => m.moment !== moment.id), { moment: moment.id, at }];
    visit.moments.sort((a, b) => a.at.localeCompare(b.at));
    try { await saveVisit(visit); } catch (error) { saveFailed(error); return; }
    if (navigator.vibrate) navigator.vibrate(30);
    toast(`${tr(moment.title)} · ${fmt(at, 'seconds')}`, 1500);
    render();
  }

  async function undo() {
    const last = [...visit.moments].sort((a, b) => a.at.localeCompare(b.at)).pop();
    if (!last) return;
    visit.moments = visit.moments.filter((m) => m !== last);
    await saveVisit(visit).catch(saveFailed);
    render();
  }

  async function takePhotos(event) {
    for (const file of event.target.files) {
      try {
        photos.push(await addPhoto(visit, defaultPhotoItem(definition), file));
      } catch (error) {
        saveFailed(error);
      }
    }
    event.target.value = '';
    if (navigator.vibrate) navigator.vibrate(30);
    render();
  }

  async function leave() {
    visit.phase = 'questionnaire';
    visit.ended_at = visit.ended_at || new Date().toISOString();
    await saveVisit(visit).catch(saveFailed);
    document.body.classList.remove('discreet');
    window.scrollTo({ top: 0 });
    await showQuestionnaire();
  }

  function render() {
    const first = visit.moments.length ? visit.moments[0].at : null;
    const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true,
      class: 'file-input', id: 'quick-photo', 'aria-label': _('Take a photo'), tabindex: '-1', onchange: takePhotos });
    mount(root, h('div', { class: 'quick' },
      h('div', { class: 'status' }, h('span', {}, storeName(visit.store)),
        h('span', {}, first ? _('since {time}', { time: fmt(first, 'seconds') }) : _('Tap a moment as it happens'))),
      visit.scenario ? h('details', { class: 'small', style: 'margin-bottom:12px' },
        h('summary', {}, _('Scenario')), h('p', {}, visit.scenario)) : null,
      h('div', { class: 'moment-grid' },
        definition.moments.map((moment) => {
          const at = timeOf(moment);
          return h('button', { type: 'button', class: `moment-btn ${at ? 'done' : ''}`, dataset: { moment: moment.id },
            onclick: () => stamp(moment) },
          h('span', {}, tr(moment.title)),
          h('span', { class: `time ${at ? '' : 'pending'}` }, at ? fmt(at, 'seconds') : _('tap to record')));
        }),
        h('button', { type: 'button', class: 'moment-btn wide', id: 'quick-photo-button', onclick: () => input.click() },
          h('span', {}, icon('camera'), ' ', _('Photo')),
          h('span', { class: 'time' }, _('{n} taken', { n: photos.length }))),
        input),
      photos.length ? thumbs(photos, {}) : null,
      h('div', { class: 'row', style: 'margin-top:14px' },
        h('button', { type: 'button', class: 'btn dark', onclick: undo, disabled: !visit.moments.length }, _('Undo last time')),
        h('span', { class: 'spacer' })),
      h('button', { type: 'button', class: 'btn big block leave', id: 'leave-store', style: 'margin-top:16px', onclick: leave },
        icon('next'), _('I have left the store — fill in the questionnaire'))));
    root.removeAttribute('aria-busy');
  }
  render();
}

async function showQuestionnaire() {
  document.body.classList.add('has-actionbar');
  await questionnaire({ visit, root, topExtras: momentsCard, summaryExtras: photosCard,
    submitLabel: _('Submit visit') });
}

function momentsCard(current) {
  if (window.location.hash && !window.location.hash.endsWith('s=0')) return null;
  const byId = Object.fromEntries(current.definition.moments.map((m) => [m.id, m]));
  return h('div', { class: 'card', style: 'margin-bottom:12px' },
    h('h2', {}, _('Your times')),
    current.moments.length
      ? h('ul', { class: 'timeline' }, current.moments.map((m, n) => h('li', { dataset: { moment: m.moment } },
        h('span', { class: 't' }, fmt(m.at, 'seconds')), h('span', {}, tr(byId[m.moment]?.title) || m.moment),
        n ? h('span', { class: 'muted' }, ` +${elapsed(current.moments[n - 1].at, m.at)}`) : null)))
      : h('p', { class: 'muted' }, _('No times recorded.')),
    h('button', { type: 'button', class: 'btn ghost', onclick: async () => {
      current.phase = 'capture';
      await saveVisit(current).catch(saveFailed);
      window.location.hash = '';
      window.location.reload();
    } }, icon('clock'), _('Back to quick capture')));
}

/** The time between two moments to the second, as a stopwatch shows it: 0:35, 12:30, 1:02:05. */
function elapsed(from, to) {
  const total = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const two = (n) => String(n).padStart(2, '0');
  return hours ? `${hours}:${two(minutes)}:${two(seconds)}` : `${minutes}:${two(seconds)}`;
}

function photosCard(current, { render }) {
  const choices = photoItems(current.definition);
  const card = h('div', { class: 'card' }, h('h2', {}, _('Photos of the visit')),
    h('p', { class: 'muted' }, _('Check which question each photo documents.')));
  photosOf(current.id).then((photos) => {
    if (!photos.length) { card.append(h('p', { class: 'muted' }, _('No photos yet.'))); return; }
    for (const photo of photos) {
      const selectId = `move-${photo.id}`;
      card.append(h('div', { class: 'row', style: 'margin:10px 0;flex-wrap:nowrap' },
        thumbs([photo], { onRemovePhoto: async () => {
          if (!window.confirm(_('Remove this photo?'))) return;
          await removePhoto(current, photo.id);
          window.location.reload();
        } }),
        h('div', { style: 'flex:1;min-width:0' }, h('label', { for: selectId, class: 'small' }, _('Documents')),
          h('select', { id: selectId, onchange: async (e) => {
            await movePhoto(current, photo, e.target.value).catch(saveFailed);
            window.location.reload();
          } }, choices.map((item) => h('option', { value: item.id, selected: item.id === photo.item }, tr(item.text)))))));
    }
  });
  return card;
}
