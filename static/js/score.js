// A client-side estimate of the visit's score: a port of supervision/scoring/engine.py.
// The server's answer to the submission is the truth; the UI labels this as an estimate.

const MUST_BE_FACTOR = 1.5;
const PEAK_END_FACTOR = 1.5;
const PEAK_END_MOMENTS = ['dispute', 'departure'];

export function* items(definition) {
  for (const section of definition.sections) {
    for (const item of section.items) yield [section, item];
  }
}

export function indexOf(definition) {
  const index = {};
  for (const [section, item] of items(definition)) index[item.id] = { section, item };
  return index;
}

/** Whether a section or item is in play given the answers so far (see definition.applies). */
export function applies(definition, target, answers, index = indexOf(definition), isItem = true) {
  if (isItem && !applies(definition, index[target.id].section, answers, index, false)) return false;
  const condition = target.condition;
  if (!condition) return true;
  const raw = answers[condition.item];
  if (!raw || !index[condition.item]) return false;
  if (!applies(definition, index[condition.item].item, answers, index, true)) return false;
  return !raw.na && raw.value === condition.equals;
}

export function isAnswered(answer) {
  return Boolean(answer) && (answer.na || (answer.value !== undefined && answer.value !== null
    && answer.value !== ''));
}

export function fraction(item, value) {
  if (item.type === 'yes_no') return Number(value !== item.inverse);
  if (item.type === 'scale') return (value - 1) / 4;
  if (item.type === 'number') {
    const { good, fail } = item.thresholds;
    return Math.min(1, Math.max(0, (value - fail) / (good - fail)));
  }
  const option = (item.options || []).find((o) => o.id === value);
  return option ? option.score : 0;
}

/** Required items that apply and have no answer yet. */
export function missingRequired(definition, answers) {
  const index = indexOf(definition);
  return [...items(definition)]
    .filter(([, item]) => item.required && !isAnswered(answers[item.id])
      && applies(definition, item, answers, index))
    .map(([, item]) => item);
}

function scoreItem(definition, item, answers, index, sofar) {
  const factor = PEAK_END_MOMENTS.includes(item.moment) ? PEAK_END_FACTOR : 1;
  const out = { earned: 0, possible: 0, bonus: 0, status: 'not_applicable' };
  if (!applies(definition, item, answers, index) || !item.scored) return out;
  const stake = item.weight * factor * (item.kano === 'must_be' ? MUST_BE_FACTOR : 1);
  const answer = answers[item.id];
  if (!isAnswered(answer)) {
    out.status = 'unanswered';
    // The server counts a required unanswered item as 0; "so far" leaves it out while capturing.
    out.possible = !sofar && item.required && item.kano !== 'delighter' ? stake : 0;
    return out;
  }
  if (answer.na) return { ...out, status: 'na' };
  const f = fraction(item, answer.value);
  if (item.kano === 'delighter') out.bonus = stake * f;
  else if (item.kano === 'must_be') { out.earned = f === 1 ? stake : 0; out.possible = stake; }
  else { out.earned = stake * f; out.possible = stake; }
  out.status = f === 1 ? 'met' : item.red_line ? 'red_line' : (item.kano === 'must_be' || f === 0) ? 'failed' : 'partial';
  return out;
}

function percent(group) {
  if (group.red_line) return 0;
  if (group.possible === 0) return null;
  return Math.round(Math.min(100, (100 * (group.earned + group.bonus)) / group.possible) * 10) / 10;
}

/** {total, grade, red_lines: [item], sections: {id: percent}, answered, applicable, statuses}. */
export function estimate(definition, answers, { sofar = true } = {}) {
  const index = indexOf(definition);
  const overall = { earned: 0, possible: 0, bonus: 0, red_line: false };
  const sections = {};
  const statuses = {};
  const redLines = [];
  let answered = 0;
  let applicable = 0;
  for (const [section, item] of items(definition)) {
    const s = scoreItem(definition, item, answers, index, sofar);
    statuses[item.id] = s.status;
    if (s.status !== 'not_applicable') applicable += 1;
    if (isAnswered(answers[item.id]) && s.status !== 'not_applicable') answered += 1;
    const group = (sections[section.id] ??= { earned: 0, possible: 0, bonus: 0, red_line: false });
    for (const g of [overall, group]) {
      g.earned += s.earned; g.possible += s.possible; g.bonus += s.bonus;
      if (s.status === 'red_line') g.red_line = true;
    }
    if (s.status === 'red_line') redLines.push(item);
  }
  const total = percent(overall) ?? 100;
  const grades = definition.grades || [];
  const grade = grades.find((g) => total >= g.min) || grades[grades.length - 1] || null;
  const bySection = Object.fromEntries(Object.entries(sections).map(([id, g]) => [id, percent(g)]));
  return { total, grade, red_lines: redLines, sections: bySection, answered, applicable, statuses };
}
