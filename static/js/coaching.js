// What the store manager reads at the sign-off, computed on the device as the server computes it
// for the report: the strengths (reports/context.py `_strengths`), the coached gaps with their
// questions (followup/coaching.py) and the actions proposed for them (followup/proposals.py,
// due dates of followup/duedates.py). The server's proposals, made at submission, are the ones
// agreed afterwards; these are what the two people talk through before signing.

import { lang, tr } from './i18n.js';
import { indexOf } from './score.js';

const COACHED = 3; // coaching.COACHED: red lines, then three points at most
const STRENGTHS = 3; // reports.context.TOP
const KANO_RANK = { delighter: 0, performance: 1, must_be: 2 };
const GAP_STATUSES = ['red_line', 'failed', 'partial', 'unanswered'];
const ACTION_DAYS = { red_line: 1, must_be: 2, other: 7 }; // duedates.ACTION_DAYS
const UNFINISHED = ['proposed', 'agreed', 'reopened'];

// The server keeps points to three decimals: compare the same figures.
const lost = (row) => Math.round((row.possible - row.earned) * 1000) / 1000;
const byFlag = (a, b) => Number(a) - Number(b);

/** The score rows to coach, in order: every red line, then the largest losses (peak and end first
 * on a tie), COACHED in all unless more red lines failed. `rows`: score items (server or device). */
export function coachedGaps(rows, peakEnd = []) {
  const list = (rows || []).map((row, order) => ({ row, order }))
    .filter(({ row }) => row.status === 'red_line' || (GAP_STATUSES.includes(row.status) && lost(row) > 0));
  list.sort((a, b) => byFlag(a.row.status !== 'red_line', b.row.status !== 'red_line')
    || lost(b.row) - lost(a.row)
    || byFlag(!peakEnd.includes(a.row.moment), !peakEnd.includes(b.row.moment))
    || a.order - b.order);
  const redLines = list.filter(({ row }) => row.status === 'red_line').length;
  return list.slice(0, Math.max(COACHED, redLines)).map(({ row }) => row);
}

/** What a person did well: met items (never a red line, an inverse item or free text), those
 * with a note, a staff name or a photo first, then delighters, peak and end, the larger stake. */
export function strengths(definition, score, answers, photos = [], peakEnd = []) {
  const index = indexOf(definition);
  const order = Object.fromEntries(Object.keys(index).map((id, n) => [id, n]));
  const evidence = (id) => Boolean(photos.some((p) => p.item === id) || answers[id]?.note || answers[id]?.staff);
  const met = (score.items || []).filter((row) => {
    const item = index[row.item]?.item;
    return item && row.status === 'met' && !item.red_line && !item.inverse && item.type !== 'text'
      && row.possible + row.bonus > 0;
  });
  met.sort((a, b) => byFlag(!evidence(a.item), !evidence(b.item))
    || (KANO_RANK[a.kano] ?? 3) - (KANO_RANK[b.kano] ?? 3)
    || byFlag(!peakEnd.includes(a.moment), !peakEnd.includes(b.moment))
    || (b.possible + b.bonus) - (a.possible + a.bonus)
    || order[a.item] - order[b.item]);
  return met.slice(0, STRENGTHS).map((row) => index[row.item].item);
}

/** The item as the store reads it, turned into what to do (proposals.action_title). */
export function actionTitle(item) {
  const text = item.report_text || item.text;
  const zh = lang === 'zh';
  if (item.inverse) return zh ? `杜绝${text.zh}` : `Stop: ${lowerFirst(text.en)}`;
  if (item.type === 'number' && item.thresholds) {
    const lower = item.thresholds.better === 'lower' || item.thresholds.good < item.thresholds.fail;
    if (zh) return `${lower ? '减少' : '提高'}${text.zh}`;
    return `${lower ? 'Reduce' : 'Raise'} ${lowerFirst(text.en)}`;
  }
  return zh ? `确保${text.zh}` : `Make sure ${lowerFirst(text.en)}`;
}

function lowerFirst(text) {
  const first = text.split(' ', 1)[0];
  return first.length > 1 && first === first.toUpperCase() ? text : text.slice(0, 1).toLowerCase() + text.slice(1);
}

/** A day `days` after the calendar day of `moment` in the time zone `tz` (the store's; the
 * device's when unknown), as YYYY-MM-DD — as duedates.action_due counts. */
export function dayAfter(moment, days, tz = undefined) {
  let day;
  try {
    day = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
      .format(new Date(moment));
  } catch {
    day = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(moment));
  }
  const [year, month, date] = day.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, date + days)).toISOString().slice(0, 10);
}

/** The actions proposed for a visit's coached gaps: [{item, kind, title, question, due_date}].
 * Items the store already has an unfinished action for get none (`open`: its actions); due
 * dates count days in the store's time zone `tz`. */
export function proposals(definition, score, startedAt, peakEnd = [], open = [], tz = undefined) {
  const index = indexOf(definition);
  const taken = new Set(open.filter((a) => UNFINISHED.includes(a.status)).map((a) => a.item_id));
  return coachedGaps(score.items, peakEnd).filter((row) => index[row.item] && !taken.has(row.item))
    .map((row) => {
      const item = index[row.item].item;
      const kind = row.status === 'red_line' ? 'red_line' : item.kano === 'must_be' ? 'must_be' : 'other';
      return { item: item.id, kind, title: actionTitle(item), question: tr(item.coaching_question),
        due_date: dayAfter(startedAt, ACTION_DAYS[kind], tz) };
    });
}

/** The coaching questions of a scored visit (server rows), in the reader's language. */
export function coachingQuestions(definition, score, peakEnd = []) {
  const index = indexOf(definition);
  return coachedGaps(score && score.items, peakEnd).map((row) => index[row.item]?.item)
    .filter((item) => item && item.coaching_question)
    .map((item) => ({ item: item.id, text: tr(item.report_text || item.text), question: tr(item.coaching_question) }));
}
