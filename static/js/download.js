// PDF downloads. A report may be rendered in the background first: its URL then answers 202 with
// the job, whose Location is followed until the job is done (the same URL then gives the PDF) or
// failed (its error is shown). No time limit while the server says the job is alive: the server
// itself runs again, then fails, a job whose worker died (within a minute).

import { jsonOf, retryAfterSeconds, send } from './api.js';
import { _ } from './i18n.js';
import { h, toast } from './ui.js';

const POLL_SECONDS = 2;
const FLAKY_POLLS = 5; // in a row, before the network is blamed
const ROUNDS = 3; // jobs followed for one download (the data may change while one runs)

const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));

function fileName(response, fallback) {
  const header = response.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

function showProgress(button, job) {
  if (button) button.textContent = _('Preparing the report…') + ` ${job.progress || 0}%`;
}

/** The job's document once it is done or failed; network hiccups and 5xx are retried. */
async function followJob(location, job, wait, button) {
  let flaky = 0;
  while (job.status === 'queued' || job.status === 'running') {
    showProgress(button, job);
    await sleep(wait);
    wait = POLL_SECONDS;
    let response = null;
    try { response = await send('GET', location); } catch (error) { if (++flaky >= FLAKY_POLLS) throw error; continue; }
    const body = await jsonOf(response);
    if (response.ok && body) { job = body; flaky = 0; continue; }
    if (response.status >= 500 && ++flaky < FLAKY_POLLS) continue;
    return { status: 'failed', error: body && body.message };
  }
  return job;
}

function save(blob, name) {
  const link = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

/** Fetch the PDF at `url` (following its job while it is rendered) and save it. */
export async function downloadPdf(url, button, fallbackName = 'report.pdf') {
  const label = button ? button.innerHTML : '';
  if (button) { button.disabled = true; button.textContent = _('Preparing the report…'); }
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const response = await send('GET', url, { headers: { Accept: 'application/pdf, application/json' }, timeout: 120000 });
      const body = response.ok ? null : await jsonOf(response);
      if (response.status === 202) {
        const location = response.headers.get('Location');
        const queued = (await jsonOf(response)) || { status: 'failed' };
        const job = await followJob(location, queued, retryAfterSeconds(response) || POLL_SECONDS, button);
        if (job.status === 'done') continue; // the same URL now gives the PDF
        toast([_('The report could not be made.'), job.error].filter(Boolean).join(' '), 10000);
        return false;
      }
      if (response.ok && (response.headers.get('Content-Type') || '').includes('application/pdf')) {
        save(await response.blob(), fileName(response, fallbackName));
        return true;
      }
      toast((body && body.message) || _('The report could not be made.'));
      return false;
    }
    toast(_('The report could not be made.'));
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
