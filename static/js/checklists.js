// Checklists on the device: every version a visit may need is kept in IndexedDB by slug and
// version, so a visit started offline (or before an update) keeps the version it started with.
// Each version document carries the server's scoring rules (`scoring`, see score.js); a kept one
// whose rules are not the current ones (`scoring_version` of the list) is fetched again.

import { ApiError, getJson } from './api.js';
import { get, getKv, put, setKv } from './db.js';

const key = (slug, version) => `${slug}@${version}`;

/** Fetch the current checklists when online; keep them. Returns the list (cached when offline). */
export async function refreshChecklists() {
  try {
    const list = await getJson('/api/v1/checklists');
    for (const summary of list.filter((c) => !c.retired)) {
      const kept = await get('checklists', key(summary.slug, summary.version));
      if (!kept || !kept.scoring || kept.scoring.version !== summary.scoring_version) {
        const doc = await getJson(`/api/v1/checklists/${summary.slug}`);
        await put('checklists', { key: key(doc.slug, doc.version), ...doc });
      }
    }
    await setKv('checklists', list);
    return list;
  } catch (error) {
    if (error instanceof ApiError && error.kind !== 'auth') return getKv('checklists', []);
    throw error;
  }
}

/** The current checklist of a kind ('audit' or 'mystery'), or of a slug; null when unknown. */
export async function currentChecklist({ kind, slug } = {}) {
  const list = (await getKv('checklists')) || (await refreshChecklists());
  const summary = (list || []).find((c) => !c.retired && (slug ? c.slug === slug : c.kind === kind));
  if (!summary) return null;
  return definitionFor(summary.slug, summary.version);
}

/** One version of a checklist: from the device, else from the server (and then kept). A kept
 * copy from before versions carried their scoring rules is fetched again when possible. */
export async function definitionFor(slug, version) {
  const found = await get('checklists', key(slug, version));
  if (found && found.scoring) return found;
  try {
    const doc = await getJson(`/api/v1/checklists/${slug}/versions/${version}`);
    await put('checklists', { key: key(slug, version), ...doc });
    return doc;
  } catch (error) {
    if (found) return found;
    throw error;
  }
}

/** The scoring rules for a visit of `checklist` ({slug, version}); null when unknown offline. */
export async function scoringRules(checklist) {
  const doc = await definitionFor(checklist.slug, checklist.version).catch(() => null);
  return (doc && doc.scoring) || null;
}
