// The questionnaire of a visit, section by section, with the running score and a summary step.
// Used by the supervisor's audit and by the shopper after leaving the store.

import { saveFailed } from './app.js';
import { scoringRules } from './checklists.js';
import { _, storeName, tr } from './i18n.js';
import { estimate, indexOf, isAnswered, items, missingRequired, applies } from './score.js';
import { itemCard, needsNote } from './form.js';
import { h, icon, mount, band, scoreText } from './ui.js';
import { addPhoto, photosOf, removePhoto, saveVisit, submitVisit } from './visits.js';

/**
 * options: {visit, root, summaryExtras(visit, rerender) → nodes, topExtras(visit) → nodes,
 *           submitLabel, afterSubmit(visit) → the page to open once submitted (else the outbox)}
 */
export async function questionnaire(options) {
  const { visit, root } = options;
  const definition = visit.definition;
  const sections = definition.sections;
  // A visit kept from before versions carried their scoring rules gets them now (when online).
  visit.scoring ||= await scoringRules(visit.checklist);
  const rules = visit.scoring;
  const state = { photos: await photosOf(visit.id), missing: new Set(), saveTimer: null, query: '' };

  const sectionIndex = () => {
    const n = Number(new URLSearchParams(window.location.hash.slice(1)).get('s'));
    return Number.isInteger(n) && n >= 0 && n <= sections.length ? n : 0;
  };
  const go = (n) => {
    state.query = '';
    const url = new URL(window.location.href);
    url.hash = `s=${n}`;
    window.history.replaceState(null, '', url);
    render();
    window.scrollTo({ top: 0 });
  };

  async function persist(quiet) {
    clearTimeout(state.saveTimer);
    const write = () => { state.saveTimer = null; return saveVisit(visit).catch(saveFailed); };
    if (quiet) state.saveTimer = setTimeout(write, 300);
    else await write();
  }

  const ctx = {
    answers: visit.answers,
    get photos() { return state.photos; },
    statuses: {},
    missing: state.missing,
    allowAnyPhoto: true,
    async onAnswer(item, patch, { quiet = false } = {}) {
      const before = visit.answers[item.id] || {};
      const next = { ...before, ...patch };
      // When the answer was given or changed (a note or a staff name is no new answer).
      if (next.value !== before.value || Boolean(next.na) !== Boolean(before.na)) next.at = new Date().toISOString();
      if (!next.na && (next.value === undefined || next.value === '') && !next.note && !next.flagged) {
        delete visit.answers[item.id];
      } else visit.answers[item.id] = next;
      state.missing.delete(item.id);
      await persist(quiet);
      if (quiet) updateHead(); else render();
    },
    /** "Needs attention": the report lists the item first, whatever its answer. */
    onFlag(item) {
      return ctx.onAnswer(item, { flagged: !visit.answers[item.id]?.flagged });
    },
    async onPhoto(item, file) {
      try {
        const photo = await addPhoto(visit, item.id, file);
        state.photos.push(photo);
      } catch (error) {
        saveFailed(error);
      }
      render();
    },
    async onRemovePhoto(id) {
      if (!window.confirm(_('Remove this photo?'))) return;
      await removePhoto(visit, id);
      state.photos = state.photos.filter((p) => p.id !== id);
      render();
    },
  };

  function head(score) {
    const title = tr(definition.title);
    // Nothing answered yet: no score to show (100 would contradict the summary's 0).
    const total = score.answered ? score.total : null;
    const low = score.red_lines.length ? 'low' : band(total);
    return h('div', { class: 'capture-head' },
      h('div', { class: 'row' },
        h('div', { class: 'store' },
          h('h1', {}, storeName(visit.store)),
          h('p', { class: 'muted small', style: 'margin:0' }, `${title} · v${visit.checklist.version}`)),
        h('div', { class: 'live-score', id: 'live-score', role: 'status', 'aria-live': 'polite' },
          h('div', { class: 'lbl' }, _('Score so far'), h('br'), _('estimate')),
          h('span', { class: `score-chip ${low}` }, h('span', { class: 'num' }, scoreText(total))))),
      score.red_lines.length ? redLines(score) : null,
      chips(score),
      searchBox());
  }

  function redLines(score) {
    return h('div', { class: 'redline-alert', role: 'alert' }, icon('alert'),
      h('div', {}, _('Red line failed: the visit scores 0.'),
        h('ul', { style: 'margin:4px 0 0;padding-left:18px;font-weight:500' },
          score.red_lines.map((item) => h('li', {}, tr(item.text))))));
  }

  function chips(score) {
    const current = sectionIndex();
    const index = indexOf(definition);
    const nodes = sections.map((section, n) => {
      const list = section.items.filter((item) => applies(definition, item, visit.answers, index));
      const done = list.filter((item) => isAnswered(visit.answers[item.id])).length;
      const alert = section.items.some((item) => score.statuses[item.id] === 'red_line');
      return h('button', { type: 'button', class: `chip ${done === list.length ? 'done' : ''} ${alert ? 'alert' : ''}`,
        'aria-current': n === current ? 'step' : false, onclick: () => go(n) },
      tr(section.title), h('span', { class: 'prog' }, `${done}/${list.length}`));
    });
    nodes.push(h('button', { type: 'button', class: 'chip', 'aria-current': current === sections.length ? 'step' : false,
      onclick: () => go(sections.length) }, icon('check'), _('Summary')));
    return h('nav', { class: 'chips', 'aria-label': _('Sections') }, nodes);
  }

  function sectionView(section) {
    const index = indexOf(definition);
    const visible = section.items.filter((item) => applies(definition, item, visit.answers, index));
    return h('section', { 'aria-label': tr(section.title) },
      h('h2', { class: 'section-title' }, tr(section.title)),
      visible.length ? visible.map((item) => itemCard(item, ctx))
        : h('p', { class: 'empty' }, _('Nothing to check here for this visit.')));
  }

  function searchBox() {
    const input = h('input', { type: 'search', id: 'item-search', value: state.query, autocomplete: 'off',
      enterkeyhint: 'search', placeholder: _('Find an item, in Chinese or English'), 'aria-label': _('Find an item'),
      'aria-controls': 'capture-body', dataset: { key: 'item-search' },
      oninput: (e) => { state.query = e.target.value; showBody(); } });
    return h('div', { class: 'item-search', role: 'search' }, input,
      state.query ? h('button', { type: 'button', class: 'btn ghost', id: 'clear-search', 'aria-label': _('Clear the search'),
        onclick: () => { state.query = ''; render(); document.getElementById('item-search')?.focus(); } }, icon('x')) : null);
  }

  /** Every word typed is found in the item's text, in Chinese or in English (any UI language). */
  function matches(item, words) {
    const text = [item.text, item.report_text, item.standard].filter(Boolean)
      .flatMap((t) => (typeof t === 'string' ? [t] : [t.zh, t.en])).join(' ').toLowerCase();
    return words.every((word) => text.includes(word));
  }

  function searchView() {
    const words = state.query.toLowerCase().split(/\s+/).filter(Boolean);
    const index = indexOf(definition);
    const groups = sections.map((section) => ({ section,
      found: section.items.filter((item) => applies(definition, item, visit.answers, index) && matches(item, words)) }))
      .filter((group) => group.found.length);
    const count = groups.reduce((n, group) => n + group.found.length, 0);
    return h('section', { id: 'search-results', 'aria-label': _('Search results') },
      h('p', { class: 'hint', role: 'status' }, count ? _('{n} items found', { n: count })
        : _('No item matches “{query}”.', { query: state.query.trim() })),
      groups.map(({ section, found }) => [h('h2', { class: 'section-title' }, tr(section.title)),
        found.map((item) => itemCard(item, ctx))]));
  }

  function body() {
    const n = sectionIndex();
    const view = state.query.trim() ? searchView() : n < sections.length ? sectionView(sections[n]) : summaryView();
    return h('div', { id: 'capture-body' }, view);
  }

  /** Typing in the search box redraws the items only: the box keeps its focus and caret. */
  function showBody() {
    root.querySelector('#capture-body')?.replaceWith(body());
    const clear = root.querySelector('#clear-search');
    if (Boolean(clear) !== Boolean(state.query)) {
      const input = root.querySelector('#item-search');
      root.querySelector('.item-search').replaceWith(searchBox());
      const fresh = root.querySelector('#item-search');
      fresh.focus();
      fresh.setSelectionRange(input.selectionStart, input.selectionEnd);
    }
  }

  function photoGaps() {
    const index = indexOf(definition);
    return [...items(definition)].map(([, item]) => item).filter((item) => {
      const rule = item.photo || {};
      const answer = visit.answers[item.id];
      if (rule.rule !== 'required' || (answer && answer.na) || !applies(definition, item, visit.answers, index)) return false;
      return state.photos.filter((p) => p.item === item.id).length < (rule.min || 1);
    });
  }

  function jumpTo(item) {
    const n = sections.findIndex((s) => s.items.some((i) => i.id === item.id));
    state.missing.add(item.id);
    go(n);
    requestAnimationFrame(() => document.getElementById(`item-${item.id}`)?.scrollIntoView({ block: 'center' }));
  }

  function unexplained(score) {
    return [...items(definition)].map(([, item]) => item)
      .filter((item) => needsNote(visit.answers[item.id], score.statuses[item.id]));
  }

  /** What still holds the submission back. */
  function gapsOf(final) {
    const missing = missingRequired(definition, visit.answers);
    const gaps = photoGaps();
    const notes = unexplained(final);
    return { missing, gaps, notes, blocked: missing.length > 0 || gaps.length > 0 || notes.length > 0 };
  }

  function summaryView() {
    const final = estimate(definition, visit.answers, { sofar: false, rules });
    const { missing, gaps, notes } = gapsOf(final);
    return h('section', { class: 'stack', 'aria-label': _('Summary') },
      h('div', { class: 'card' },
        h('div', { class: 'score-hero' },
          h('div', { class: `ring ${final.red_lines.length ? 'low' : band(final.total)}`, style: `--p:${final.total ?? 0}` },
            h('div', {}, h('div', {}, h('div', { class: 'num' }, scoreText(final.total)),
              h('div', { class: 'lbl' }, final.grade ? tr(final.grade.label) : '')))),
          h('div', {},
            h('h2', {}, _('Score estimate')),
            h('p', { class: 'muted' }, _('Calculated on this device. The score the server gives on submission is final.')),
            h('p', {}, _('{answered} of {applicable} items answered', { answered: final.answered, applicable: final.applicable })))),
        sectionBars(final)),
      missing.length ? gapCard(_('Still to answer'), missing) : null,
      gaps.length ? gapCard(_('Photos still needed'), gaps) : null,
      notes.length ? gapCard(_('Red-line findings without a note'), notes, 'red-line-notes') : null,
      options.summaryExtras ? options.summaryExtras(visit, { render, persist, score: final }) : null,
      h('div', { class: 'card' },
        h('label', { for: 'visit-notes' }, _('Overall notes')),
        h('textarea', { id: 'visit-notes', rows: 4, placeholder: _('Overall impression, strengths, main problems'),
          oninput: (e) => { visit.notes = e.target.value; persist(true); } }, visit.notes || '')),
      missing.length || gaps.length ? h('p', { class: 'hint center' }, _('Answer every required item and take the required photos to submit.')) : null,
      notes.length ? h('p', { class: 'hint center' }, _('Write what happened for each red-line finding to submit.')) : null);
  }

  function sectionBars(score) {
    return h('div', { class: 'section-bars', style: 'margin-top:16px' }, sections.map((section) => {
      const pct = score.sections[section.id];
      return h('div', { class: 'row' },
        h('span', { class: 'name' }, tr(section.title)),
        h('div', { class: `bar ${band(pct)}` }, h('span', { style: `width:${pct ?? 0}%` })),
        h('span', { class: 'pct' }, scoreText(pct)));
    }));
  }

  function gapCard(title, list, id = null) {
    // Grouped by section: a long list of single questions helps nobody at the end of a visit.
    const groups = sections.map((section) => ({ section, items: list.filter((item) => section.items.includes(item)) }))
      .filter((group) => group.items.length);
    return h('div', { class: 'card', id }, h('h2', {}, title),
      h('ul', { class: 'list' }, groups.map(({ section, items: gaps }) => h('li', {},
        h('button', { type: 'button', class: 'list-item btn ghost block', style: 'justify-content:flex-start;text-align:left',
          onclick: () => jumpTo(gaps[0]) },
        h('span', { class: 'main' }, h('span', { class: 'title', style: 'display:block;color:var(--text)' }, tr(section.title)),
          h('span', { class: 'meta', style: 'display:block;font-weight:400' },
            gaps.slice(0, 2).map((item) => tr(item.text)).join(' · ') + (gaps.length > 2 ? ' …' : ''))),
        h('span', { class: 'badge amber' }, gaps.length), icon('next'))))));
  }

  async function submit() {
    const button = document.getElementById('submit-visit');
    button.disabled = true;
    try {
      await submitVisit(visit);
    } catch (error) {
      button.disabled = false;
      saveFailed(error);
      return;
    }
    // The next page (the outbox or the sign-off) starts the sync as it opens: a request begun
    // here would be aborted by the navigation, and the outbox would wait to retry it.
    window.location.href = options.afterSubmit ? options.afterSubmit(visit) : `/outbox?queued=${visit.id}`;
  }

  function actionbar() {
    const n = sectionIndex();
    // On the summary the big primary button submits; going back is the secondary one.
    const primary = n < sections.length
      ? h('button', { type: 'button', class: 'btn primary big', id: 'next-section', onclick: () => go(n + 1) },
        n === sections.length - 1 ? _('Summary') : _('Next'), icon('next'))
      : h('button', { type: 'button', class: 'btn primary big', id: 'submit-visit', onclick: submit,
        disabled: gapsOf(estimate(definition, visit.answers, { sofar: false, rules })).blocked },
      icon('upload'), options.submitLabel || _('Submit visit'));
    return h('div', { class: 'actionbar' }, h('div', { class: 'actionbar-inner' },
      h('button', { type: 'button', class: `btn big ${n < sections.length ? '' : 'secondary'}`, id: 'prev-section',
        disabled: n === 0, onclick: () => go(n - 1) }, icon('prev'), _('Back')),
      primary));
  }

  function updateHead() {
    const score = estimate(definition, visit.answers, { rules });
    ctx.statuses = score.statuses;
    const old = root.querySelector('.capture-head');
    if (old) old.replaceWith(head(score));
  }

  /** A visit the reviewer returned, reopened to be fixed: what the reviewer asks, on top. */
  function returnedNote() {
    return h('div', { class: 'card returned', id: 'returned-note' },
      h('h2', {}, icon('alert'), ' ', _('Returned by the reviewer')),
      h('p', { class: 'quote' }, visit.returned.comment));
  }

  function render() {
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.key : null;
    const score = estimate(definition, visit.answers, { rules });
    ctx.statuses = score.statuses;
    mount(root,
      options.topExtras ? options.topExtras(visit) : null,
      visit.returned ? returnedNote() : null,
      head(score),
      body(),
      actionbar());
    root.removeAttribute('aria-busy');
    if (focused) root.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  window.addEventListener('hashchange', render);
  // A note typed a moment ago is written before the page can be closed or frozen.
  const flushNow = () => { if (state.saveTimer) persist(false); };
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flushNow(); });
  window.addEventListener('pagehide', flushNow);
  render();
  return { render };
}
