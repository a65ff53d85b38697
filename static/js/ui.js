// Small DOM helpers: element builder, icons, banners, toasts, score colours.

import { _, tr } from './i18n.js';

/** h('button', {class: 'btn', onclick}, 'text', child, …) — children may be arrays or falsy. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'style') node.style.cssText = value; // the CSSOM: allowed by the page's CSP
    else if (key === 'html') node.innerHTML = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function icon(name, cls = 'icon') {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

export function mount(target, ...children) {
  const node = typeof target === 'string' ? document.querySelector(target) : target;
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A banner under the top bar, replaced by id; actions: [{label, onclick, primary}]. */
export function banner(id, kind, message, actions = []) {
  const host = document.getElementById('banners');
  if (!host) return null;
  const node = h('div', { class: `banner ${kind}`, id: `banner-${id}`, role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'info' ? 'refresh' : 'alert'), h('p', {}, message),
    actions.map((a) => (a.href
      ? h('a', { class: `btn ${a.primary ? 'primary' : ''}`, href: a.href }, a.label)
      : h('button', { class: `btn ${a.primary ? 'primary' : ''}`, type: 'button', onclick: a.onclick }, a.label))));
  const old = document.getElementById(`banner-${id}`);
  if (old) old.replaceWith(node); else host.append(node);
  return node;
}

export function clearBanner(id) {
  const old = document.getElementById(`banner-${id}`);
  if (old) old.remove();
}

let toastTimer = null;
export function toast(message, ms = 3500) {
  let node = document.querySelector('.toast');
  if (!node) {
    node = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.append(node);
  }
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, ms);
}

export function band(total) {
  if (total === null || total === undefined) return 'none';
  if (total >= 80) return '';
  return total >= 60 ? 'mid' : 'low';
}

/** A score or percent as computed (already rounded half up): 99.9 stays 99.9, never "100". */
export function scoreText(value) {
  return value === null || value === undefined ? '–' : String(value);
}

export function scoreChip(total, redLine = false) {
  const text = scoreText(total);
  return h('span', { class: `score-chip ${redLine ? 'low' : band(total)}` }, text);
}

export function emptyState(iconName, text) {
  return h('div', { class: 'empty' }, icon(iconName), h('p', {}, text));
}

/** A list the network has not brought yet and the device does not hold (data.js fills it in). */
export function unavailable() {
  return h('div', { class: 'card', dataset: { waiting: 'network' } }, emptyState('upload', navigator.onLine
    ? _('Waiting for the network: the list appears as soon as it answers.')
    : _('The list needs a network connection.')));
}

export function statusBadge(status) {
  const labels = {
    draft: [_('Draft'), ''], submitted: [_('Awaiting review'), 'amber'],
    published: [_('Published'), 'green'], rejected: [_('Returned'), 'red'],
  };
  const [label, cls] = labels[status] || [status, ''];
  return h('span', { class: `badge ${cls}` }, label);
}

export function params() {
  return new URLSearchParams(window.location.search);
}

/** An action's status as people say it: a proposal is only to confirm, never agreed. */
export function actionStatus(action) {
  const labels = { proposed: _('To confirm'), agreed: _('Agreed'), reopened: _('Reopened'), done: _('Done'), verified: _('Verified'), dismissed: _('Dismissed') };
  return labels[action.status] || action.status;
}

/** A generated action's title and coaching question in the reader's language (a person's own
 * words, kept in `title`, win once edited). */
export function actionTitle(action) {
  return tr(action.texts && action.texts.title) || action.title;
}

export function actionQuestion(action) {
  return tr(action.texts && action.texts.question) || action.coaching_question;
}
