// A client-side estimate of the visit's score: a port of supervision/scoring/engine.py.
// The server's answer to the submission is the truth; the UI labels this as an estimate.
// Every number of the policy (Kano factors and rules, peak–end, red lines, the scale, rounding)
// comes from `rules`: the "scoring" of the checklist version document, made from
// supervision/scoring/rules.py. Grades come from the definition. Nothing is repeated here.

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

export function fraction(item, value, rules) {
  if (item.type === 'yes_no') return Number(value !== item.inverse);
  if (item.type === 'scale') return (value - rules.scale.min) / (rules.scale.max - rules.scale.min);
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

function scoreItem(definition, item, answers, index, sofar, rules) {
  const out = { earned: 0, possible: 0, bonus: 0, status: 'not_applicable' };
  if (!applies(definition, item, answers, index) || !item.scored) return out;
  const factor = rules.peak_end_moments.includes(item.moment) ? rules.peak_end_factor : 1;
  const kano = rules.kano[item.kano];
  const stake = item.weight * factor * kano.factor;
  const answer = answers[item.id];
  if (!isAnswered(answer)) {
    out.status = 'unanswered';
    // The server counts a required unanswered item as 0; "so far" leaves it out while capturing.
    out.possible = !sofar && item.required && kano.points !== 'bonus' ? stake : 0;
    return out;
  }
  if (answer.na) return { ...out, status: 'na' };
  const f = fraction(item, answer.value, rules);
  if (kano.points === 'bonus') out.bonus = stake * f;
  else if (kano.points === 'all_or_nothing') { out.earned = f === 1 ? stake : 0; out.possible = stake; }
  else { out.earned = stake * f; out.possible = stake; }
  out.status = status(item, kano.points, f);
  return out;
}

/** engine._status: a delighter not delivered is no failure, just no bonus (未加分). */
function status(item, points, f) {
  if (f === 1) return 'met';
  if (points === 'bonus') return f === 0 ? 'no_bonus' : 'partial';
  if (item.red_line) return 'red_line';
  return points === 'all_or_nothing' || f === 0 ? 'failed' : 'partial';
}

/** rules.round_half_up in Python: the same float operations, so both give the same digits. */
function roundHalfUp(value, decimals) {
  const scale = 10 ** decimals;
  return Math.floor(value * scale + 0.5) / scale;
}

/**
 * Below full marks once a must-be or performance point was lost: a bonus never hides it. Rules
 * kept with a visit begun before they named `lost_ceiling` cap at full marks, as they did then.
 */
function ceiling(group, rules) {
  return group.lost ? (rules.lost_ceiling ?? rules.full_marks) : rules.full_marks;
}

/** Subtotal.percent: earned of possible, the bonus left out. */
function percent(group, rules) {
  if (group.red_line) return rules.red_line_percent;
  if (group.possible === 0) return null;
  return roundHalfUp(Math.min(ceiling(group, rules), (rules.full_marks * group.earned) / group.possible),
    rules.percent_decimals);
}

/** Subtotal.total: min(ceiling, base + bonus points), rounded half up. */
function total(group, rules) {
  if (group.red_line) return rules.red_line_percent;
  if (group.possible === 0) return rules.empty_total;
  const base = (rules.full_marks * group.earned) / group.possible;
  const bonusPoints = (rules.full_marks * group.bonus) / group.possible;
  return roundHalfUp(Math.min(ceiling(group, rules), base + bonusPoints), rules.percent_decimals);
}

/**
 * {total, grade, red_lines: [item], sections: {id: percent}, answered, applicable, statuses,
 * items: [{item, section, moment, kano, status, earned, possible, bonus}] (the server's rows)}.
 * A section's percent leaves its delighter bonus out; the total adds it, below full marks once a
 * point was lost. Both are already rounded: show them as they are (99.9, never Math.round).
 * Without `rules` (a visit kept from before they were sent) only the counts and statuses are
 * known: total, grade and the section percents are null.
 */
export function estimate(definition, answers, { sofar = true, rules = null } = {}) {
  const index = indexOf(definition);
  const overall = { earned: 0, possible: 0, bonus: 0, red_line: false, lost: false };
  const sections = {};
  const statuses = {};
  const redLines = [];
  const rows = [];
  let answered = 0;
  let applicable = 0;
  for (const [section, item] of items(definition)) {
    const s = rules ? scoreItem(definition, item, answers, index, sofar, rules)
      : { ...counted(definition, item, answers, index), earned: 0, possible: 0, bonus: 0 };
    statuses[item.id] = s.status;
    rows.push({ item: item.id, section: section.id, moment: item.moment || null, kano: item.kano || null,
      status: s.status, earned: s.earned, possible: s.possible, bonus: s.bonus });
    if (s.status !== 'not_applicable') applicable += 1;
    if (isAnswered(answers[item.id]) && s.status !== 'not_applicable') answered += 1;
    const group = (sections[section.id] ??= { earned: 0, possible: 0, bonus: 0, red_line: false, lost: false });
    for (const g of [overall, group]) {
      g.earned += s.earned; g.possible += s.possible; g.bonus += s.bonus;
      if (s.status === 'red_line') g.red_line = true;
      if (s.earned < s.possible) g.lost = true;
    }
    if (s.status === 'red_line') redLines.push(item);
  }
  if (!rules) {
    const none = Object.fromEntries(Object.keys(sections).map((id) => [id, null]));
    return { total: null, grade: null, red_lines: [], sections: none, answered, applicable, statuses, items: rows };
  }
  const score = total(overall, rules);
  const grades = definition.grades || [];
  const grade = grades.find((g) => score >= g.min) || grades[grades.length - 1] || null;
  const bySection = Object.fromEntries(Object.entries(sections).map(([id, g]) => [id, percent(g, rules)]));
  return { total: score, grade, red_lines: redLines, sections: bySection, answered, applicable, statuses, items: rows };
}

/** The status of an item when no rules are known: whether it is in play and answered. */
function counted(definition, item, answers, index) {
  if (!applies(definition, item, answers, index) || !item.scored) return { status: 'not_applicable' };
  const answer = answers[item.id];
  if (!isAnswered(answer)) return { status: 'unanswered' };
  return { status: answer.na ? 'na' : 'answered' };
}
