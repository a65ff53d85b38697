// A signature pad: a finger, a pen or a mouse draws on a canvas (pointer events); the result is a
// PNG data URL. The canvas keeps its drawing in device pixels, so it stays sharp on a tablet.

import { _ } from './i18n.js';
import { h, icon } from './ui.js';

const INK = '#10243a';

/** {node, isEmpty(), toDataURL(), clear()}; onchange(empty) after each stroke and on clear. */
export function signaturePad({ id = 'signature', label, onchange = () => {} } = {}) {
  const canvas = h('canvas', { id, class: 'signature-canvas', role: 'img', 'aria-label': label || _('Signature') });
  const hint = h('span', { class: 'signature-hint', 'aria-hidden': 'true' }, _('Sign here'));
  let strokes = 0;
  let last = null;
  let context = null;

  function fit() {
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = canvas.getBoundingClientRect();
    if (!width || !height) return;
    const keep = strokes ? canvas.toDataURL('image/png') : null;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    context = canvas.getContext('2d');
    context.scale(ratio, ratio);
    Object.assign(context, { lineWidth: 2.6, lineCap: 'round', lineJoin: 'round', strokeStyle: INK, fillStyle: INK });
    if (keep) {
      const image = new Image();
      image.onload = () => context.drawImage(image, 0, 0, width, height);
      image.src = keep;
    }
  }

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };

  canvas.addEventListener('pointerdown', (event) => {
    if (!context) fit();
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    context.beginPath();
    context.arc(last.x, last.y, context.lineWidth / 2, 0, Math.PI * 2);
    context.fill();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    context.beginPath();
    context.moveTo(last.x, last.y);
    for (const each of events.length ? events : [event]) {
      last = point(each);
      context.lineTo(last.x, last.y);
    }
    context.stroke();
  });
  const end = () => {
    if (!last) return;
    last = null;
    strokes += 1;
    hint.hidden = true;
    onchange(false);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  function clear() {
    strokes = 0;
    hint.hidden = false;
    if (context) context.clearRect(0, 0, canvas.width, canvas.height);
    onchange(true);
  }

  const node = h('div', { class: 'signature' },
    h('div', { class: 'signature-area' }, canvas, hint),
    h('button', { type: 'button', class: 'btn ghost', id: `${id}-clear`, onclick: clear }, icon('trash'), _('Clear')));
  // Sized once it is on the page, and again when the tablet turns.
  requestAnimationFrame(fit);
  window.addEventListener('resize', fit);
  return { node, clear, isEmpty: () => strokes === 0, toDataURL: () => canvas.toDataURL('image/png') };
}
