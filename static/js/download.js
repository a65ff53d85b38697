// PDF downloads: a report may be rendered in the background (202 + Retry-After) before it exists.

import { jsonOf, retryAfterSeconds, send } from './api.js';
import { _ } from './i18n.js';
import { h, toast } from './ui.js';

const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));

function fileName(response, fallback) {
  const header = response.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

/** Fetch the PDF at `url` (waiting while it is rendered) and save it. */
export async function downloadPdf(url, button, fallbackName = 'report.pdf') {
  const label = button ? button.innerHTML : '';
  if (button) { button.disabled = true; button.textContent = _('Preparing the report…'); }
  try {
    for (let attempt = 0; attempt < 120; attempt += 1) {
      const response = await send('GET', url, { headers: { Accept: 'application/pdf, application/json' }, timeout: 120000 });
      if (response.status === 202) { await sleep(retryAfterSeconds(response) || 2); continue; }
      if (response.ok && (response.headers.get('Content-Type') || '').includes('application/pdf')) {
        const blob = await response.blob();
        const link = h('a', { href: URL.createObjectURL(blob), download: fileName(response, fallbackName) });
        document.body.append(link);
        link.click();
        link.remove();
        return true;
      }
      const body = await jsonOf(response);
      toast((body && body.message) || _('The report could not be made.'));
      return false;
    }
    toast(_('The report is taking too long; try again later.'));
    return false;
  } catch {
    toast(_('Reports need a network connection.'));
    return false;
  } finally {
    if (button) { button.disabled = false; button.innerHTML = label; }
  }
}

export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function lastDays(days) {
  const to = new Date();
  const from = new Date(Date.now() - (days - 1) * 86400000);
  return { from: isoDay(from), to: isoDay(to) };
}
