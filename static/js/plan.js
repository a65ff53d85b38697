// The action plan, one card per action, with what the reader may do next: agree a proposal
// (owner from the store's roster, due date) or dismiss it with a reason; show the fix (photos
// taken in the app and a note, sent through the outbox); approve or reject a fix.
// Agreeing and deciding need the network; evidence is kept on the device until it is sent.

import { ApiError, getJson, writeJson } from './api.js';
import { syncNow } from './app.js';
import { get } from './db.js';
import { addFixPhoto, draftFix, fixesOf, queueFix, removeFixPhoto, saveFix } from './fixes.js';
import { _, fmt, storeName } from './i18n.js';
import { notify } from './outbox.js';
import { actionQuestion, actionStatus, actionTitle, h, icon, toast } from './ui.js';

const AGREE = ['admin', 'manager', 'supervisor', 'store_manager'];
const KEEP_ROSTER = ['admin', 'manager', 'store_manager'];
const DECIDE = ['admin', 'manager', 'supervisor'];
const OPEN = ['agreed', 'reopened'];

/**
 * A plan for `user`: {card(action) → node, load() → latest local fix by action id}.
 * options: {showStore, onChange(action)} — onChange after the server took a step.
 */
export function plan(user, { showStore = false, onChange = () => {} } = {}) {
  const rosters = {};
  const fixes = {};
  const roster = (storeId) => {
    rosters[storeId] ||= getJson(`/api/v1/stores/${storeId}/staff?active=true`).catch(() => null);
    return rosters[storeId];
  };

  async function load() {
    const mine = await fixesOf(user.id);
    mine.sort((a, b) => (a.created_at || '').localeCompare(b.created_at || ''));
    for (const fix of mine) fixes[fix.action_id] = fix;
  }

  function replace(node, action) {
    const next = card(action);
    node.replaceWith(next);
    onChange(action);
    return next;
  }

  /** Write to the API; the card shows the answer, a toast says why not. */
  async function step(node, method, path, body, button) {
    if (button) button.disabled = true;
    try {
      const answer = await writeJson(method, path, body);
      const action = answer && answer.id !== undefined && answer.status ? answer
        : await getJson(`/api/v1/actions/${node.dataset.action}`);
      replace(node, action);
      return action;
    } catch (error) {
      if (button) button.disabled = false;
      toast(error instanceof ApiError && error.kind === 'network'
        ? _('This needs a network connection.') : firstError(error), 6000);
      return null;
    }
  }

  function card(action) {
    const node = h('article', { class: `plan-card card flat status-${action.status}`,
      dataset: { action: action.id, status: action.status } });
    node.append(...[...head(action), ...facts(action), ...controls(action, node)].filter(Boolean));
    return node;
  }

  function head(action) {
    return [h('div', { class: 'plan-head' },
      h('h3', {}, actionTitle(action)),
      h('span', { class: `badge ${badgeClass(action)}` }, actionStatus(action)),
      action.overdue ? h('span', { class: 'badge red' }, icon('clock'), _('Overdue')) : null)];
  }

  function facts(action) {
    const owner = action.owner_staff ? staffLabel(action.owner_staff) : action.status === 'proposed' ? null : action.owner;
    const question = actionQuestion(action);
    return [
      h('p', { class: 'meta' }, [showStore ? storeName(action.store) : null,
        owner ? _('Owner: {name}', { name: owner }) : null,
        action.due_date ? _('due {date}', { date: fmt(action.due_date, 'date') }) : null].filter(Boolean).join(' · ')),
      question ? h('p', { class: 'plan-question' }, h('b', {}, _('Coaching question'), ': '), question) : null,
      action.status === 'dismissed' && action.dismiss_reason
        ? h('p', { class: 'meta' }, _('Dismissed because: {reason}', { reason: action.dismiss_reason })) : null,
      action.status === 'reopened' && action.decision_comment
        ? h('p', { class: 'plan-returned' }, icon('alert'), _('Fix not accepted: {reason}', { reason: action.decision_comment })) : null,
      ['done', 'verified'].includes(action.status) ? evidence(action) : null,
      action.status === 'verified' && action.verified_at
        ? h('p', { class: 'meta' }, icon('check'), ' ', _('Verified {date}', { date: fmt(action.verified_at, 'date') })) : null,
    ];
  }

  function evidence(action) {
    const photos = action.evidence || [];
    return h('div', { class: 'plan-evidence' },
      action.done_note ? h('p', {}, h('b', {}, _('What was done'), ': '), action.done_note) : null,
      photos.length ? h('div', { class: 'thumbs' }, photos.map((p) => h('a', { class: 'thumb',
        href: `/api/v1/actions/${action.id}/evidence/${p.id}?size=display`, target: '_blank',
        title: p.taken_at ? _('Taken {time}', { time: fmt(p.taken_at) }) : null },
      h('img', { src: `/api/v1/actions/${action.id}/evidence/${p.id}?size=thumb`, alt: _('Evidence photo'), loading: 'lazy' }))))
        : null);
  }

  function controls(action, node) {
    if (action.status === 'proposed' && AGREE.includes(user.role)) return [agreeForm(action, node)];
    if (OPEN.includes(action.status) && user.role === 'store_manager') return [fixForm(action, node)];
    if (action.status === 'done' && DECIDE.includes(user.role)) return [decisionForm(action, node)];
    if (action.status === 'done') return [h('p', { class: 'meta' }, icon('clock'), ' ', _('Waiting for the supervisor to approve the fix.'))];
    return [];
  }

  // ---------- Agree or dismiss a proposal ----------

  function agreeForm(action, node) {
    const id = action.id;
    const select = h('select', { id: `owner-${id}` }, h('option', { value: '' }, '…'));
    const due = h('input', { type: 'date', id: `due-${id}`, value: action.due_date || '' });
    const reason = h('textarea', { id: `reason-${id}`, rows: 2, placeholder: _('Why this action is not needed') });
    const dismissBox = h('div', { class: 'field', hidden: true },
      h('label', { for: reason.id }, _('Reason')), reason,
      h('button', { type: 'button', class: 'btn', id: `dismiss-confirm-${id}`, onclick: (e) => {
        if (!reason.value.trim()) { toast(_('Say why the action is dismissed.')); reason.focus(); return; }
        step(node, 'PATCH', `/api/v1/actions/${id}`, { status: 'dismissed', reason: reason.value.trim() }, e.currentTarget);
      } }, _('Dismiss the action')));
    const adder = KEEP_ROSTER.includes(user.role) ? rosterAdder(action, select) : null;
    fillRoster(action, select, adder);
    return h('div', { class: 'plan-form' },
      h('div', { class: 'grid two' },
        h('div', { class: 'field' }, h('label', { for: select.id }, _('Owner')), select, adder),
        h('div', { class: 'field' }, h('label', { for: due.id }, _('Due date')), due)),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn primary', id: `agree-${id}`, onclick: (e) => {
          if (!select.value) { toast(_('Choose who owns the action.')); select.focus(); return; }
          const body = { status: 'agreed', owner_staff_id: Number(select.value) };
          if (due.value) body.due_date = due.value;
          step(node, 'PATCH', `/api/v1/actions/${id}`, body, e.currentTarget);
        } }, icon('check'), _('Agree')),
        h('button', { type: 'button', class: 'btn ghost', id: `dismiss-${id}`, onclick: () => {
          dismissBox.hidden = false;
          reason.focus();
        } }, icon('x'), _('Dismiss'))),
      dismissBox);
  }

  async function fillRoster(action, select, adder) {
    const staff = await roster(action.store_id);
    const options = [h('option', { value: '' }, staff ? _('Choose a person') : _('The roster needs a network connection.'))];
    for (const person of staff || []) {
      options.push(h('option', { value: person.id, selected: person.id === action.owner_staff_id }, staffLabel(person)));
    }
    select.replaceChildren(...options);
    if (staff && !staff.length) select.firstChild.textContent = _('No one on the roster yet');
    if (adder) adder.open = Boolean(staff && !staff.length);
  }

  function rosterAdder(action, select) {
    const name = h('input', { type: 'text', id: `staff-name-${action.id}`, maxlength: '120', placeholder: _('Name of the person') });
    const badge = h('input', { type: 'text', id: `staff-badge-${action.id}`, maxlength: '32', placeholder: _('Badge number') });
    return h('details', { class: 'roster-add' }, h('summary', {}, icon('plus'), _('Add a person to the roster')),
      h('div', { class: 'row', style: 'flex-wrap:nowrap;margin-top:8px' }, name, badge,
        h('button', { type: 'button', class: 'btn', onclick: async (e) => {
          if (!name.value.trim()) { name.focus(); return; }
          e.currentTarget.disabled = true;
          try {
            const person = await writeJson('POST', `/api/v1/stores/${action.store_id}/staff`,
              { name: name.value.trim(), badge: badge.value.trim() || null });
            delete rosters[action.store_id];
            await fillRoster({ ...action, owner_staff_id: person.id }, select, null);
            name.value = ''; badge.value = '';
          } catch (error) {
            toast(firstError(error));
          }
          e.currentTarget.disabled = false;
        } }, _('Add'))));
  }

  // ---------- Show the fix (store manager) ----------

  function fixForm(action, node) {
    const holder = h('div', { class: 'plan-form fix', id: `fix-${action.id}` });
    const local = fixes[action.id];
    if (local && (local.outbox === 'queued' || local.outbox === 'attention')) {
      holder.append(h('p', { class: 'meta' }, h('span', { class: `badge ${local.outbox === 'attention' ? 'red' : 'amber'}` },
        icon('upload'), local.outbox === 'attention' ? _('Needs attention') : _('Waiting to be sent')), ' ',
      _('{n} photo(s) and the note are kept on this device until they reach the server.', { n: local.photos.length }),
      ' ', h('a', { href: '/outbox' }, _('Outbox'))));
      return holder;
    }
    draftFix(action, user.id).then((fix) => fixCapture(action, node, holder, fix));
    return holder;
  }

  function fixCapture(action, node, holder, fix) {
    const id = action.id;
    const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'file-input',
      id: `evidence-input-${id}`, 'aria-label': _('Take a photo'), tabindex: '-1', onchange: async (e) => {
        for (const file of e.target.files) {
          try { await addFixPhoto(fix, file); } catch (error) { toast(error.message || String(error)); }
        }
        e.target.value = '';
        fixes[id] = fix;
        render();
      } });
    const note = h('textarea', { id: `fix-note-${id}`, rows: 2, placeholder: _('What was done, by whom') }, fix.note || '');
    let timer = null;
    note.addEventListener('input', () => {
      fix.note = note.value;
      update();
      clearTimeout(timer);
      timer = setTimeout(() => { if (fix.outbox === 'draft') saveFix(fix).catch(() => null); }, 300);
    });
    const done = h('button', { type: 'button', class: 'btn primary', id: `done-${id}`, onclick: async () => {
      done.disabled = true;
      clearTimeout(timer); // the draft's last save must not land after the outbox sent it
      fix.note = note.value.trim();
      try { await queueFix(fix); } catch (error) { done.disabled = false; toast(error.message || String(error)); return; }
      notify();
      fixes[id] = fix;
      node.replaceWith(card({ ...action }));
      syncNow(true);
    } }, icon('check'), _('Mark done'));
    const update = () => { done.disabled = !fix.photos.length || !note.value.trim(); };
    const thumbs = h('div', { class: 'thumbs' });
    function render() {
      thumbs.replaceChildren(...fix.photos.filter((p) => p.blob).map((photo) => h('div', { class: 'thumb' },
        h('img', { src: blobUrl(photo), alt: _('Evidence photo') }),
        h('button', { type: 'button', 'aria-label': _('Remove photo'), onclick: async () => {
          await removeFixPhoto(fix, photo.id);
          render();
        } }, '×'))));
      update();
    }
    holder.replaceChildren(
      h('p', { class: 'plan-lead' }, _('Show the fix: a photo of the result, taken now, and what was done.')),
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn', id: `evidence-button-${id}`, onclick: () => input.click() },
        icon('camera'), _('Take a photo')), input),
      thumbs,
      h('div', { class: 'field', style: 'margin-top:10px' }, h('label', { for: note.id }, _('What was done')), note),
      done);
    render();
  }

  // ---------- Approve or reject a fix ----------

  function decisionForm(action, node) {
    const id = action.id;
    const reason = h('textarea', { id: `reject-reason-${id}`, rows: 2, placeholder: _('What is still wrong, and what to do') });
    const due = h('input', { type: 'date', id: `reject-due-${id}` });
    const box = h('div', { hidden: true, class: 'plan-reject' },
      h('div', { class: 'field' }, h('label', { for: reason.id }, _('Reason')), reason),
      h('div', { class: 'field' }, h('label', { for: due.id }, _('New due date'), h('span', { class: 'muted' }, ` · ${_('optional')}`)), due),
      h('button', { type: 'button', class: 'btn danger', id: `reject-confirm-${id}`, onclick: (e) => {
        if (!reason.value.trim()) { toast(_('Say why the fix is not accepted.')); reason.focus(); return; }
        const body = { decision: 'reject', comment: reason.value.trim() };
        if (due.value) body.due_date = due.value;
        step(node, 'POST', `/api/v1/actions/${id}/decision`, body, e.currentTarget);
      } }, _('Return to the store')));
    return h('div', { class: 'plan-form' },
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'btn primary', id: `approve-${id}`, onclick: (e) =>
          step(node, 'POST', `/api/v1/actions/${id}/decision`, { decision: 'approve', comment: null }, e.currentTarget) },
        icon('check'), _('Approve')),
        h('button', { type: 'button', class: 'btn', id: `reject-${id}`, onclick: () => { box.hidden = false; reason.focus(); } },
          icon('x'), _('Reject'))),
      box);
  }

  // A fix sent by the outbox (this page or another): show what the server now has.
  if (typeof BroadcastChannel === 'function') {
    new BroadcastChannel('outbox').addEventListener('message', async (event) => {
      if (!event.data || !event.data.sent) return;
      const fix = await get('fixes', event.data.sent).catch(() => null);
      const node = fix && document.querySelector(`.plan-card[data-action="${fix.action_id}"]`);
      if (!node) return;
      fixes[fix.action_id] = fix;
      const action = await getJson(`/api/v1/actions/${fix.action_id}`).catch(() => null);
      if (action) replace(node, action);
    });
  }

  return { card, load, fixes };
}

export function staffLabel(person) {
  return [person.name, person.badge, person.position].filter(Boolean).join(' · ');
}

function badgeClass(action) {
  if (action.overdue || action.status === 'reopened') return 'red';
  return { verified: 'green', done: 'blue', proposed: 'amber', dismissed: '' }[action.status] ?? '';
}

/** The first field error of an API answer, else its message. */
function firstError(error) {
  const fields = error && error.body && error.body.errors && error.body.errors.json;
  if (fields) {
    const [name, messages] = Object.entries(fields)[0] || [];
    if (name) return `${name}: ${[].concat(messages).join(' ')}`;
  }
  return (error && error.message) || String(error);
}

const urls = new Map();
function blobUrl(photo) {
  if (!urls.has(photo.id)) urls.set(photo.id, URL.createObjectURL(photo.blob));
  return urls.get(photo.id);
}
