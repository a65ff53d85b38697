// The UI language: strings come from the same gettext catalogue as the server's templates.

export const lang = document.body.dataset.lang === 'en' ? 'en' : 'zh';
export const locale = lang === 'zh' ? 'zh-CN' : 'en-GB';

let catalogue = {};
try {
  // The service worker answers from its cache; without it, a weak network must not hold the page.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 6000);
  const response = await fetch(`/i18n/${lang}.json`, { signal: controller.signal });
  clearTimeout(timer);
  if (response.ok) catalogue = await response.json();
} catch {
  // Offline without a cached catalogue: English source strings are still readable.
}

/** Translate `text`; `{name}` placeholders are filled from `params`. */
export function _(text, params) {
  const found = catalogue[text] || text;
  if (!params) return found;
  return found.replace(/\{(\w+)\}/g, (match, key) => (key in params ? String(params[key]) : match));
}

/** Pick the current language from a `{zh, en}` text of the checklist or the API. */
export function tr(text) {
  if (!text) return '';
  if (typeof text === 'string') return text;
  return (lang === 'zh' ? text.zh : text.en) || text.en || text.zh || '';
}

/** A store's display name in the current language. */
export function storeName(store) {
  if (!store) return '';
  return lang === 'en' && store.name_en ? store.name_en : store.name;
}

const formats = {
  date: { year: 'numeric', month: 'short', day: 'numeric' },
  time: { hour: '2-digit', minute: '2-digit' },
  seconds: { hour: '2-digit', minute: '2-digit', second: '2-digit' },
  datetime: { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' },
};

export function fmt(value, kind = 'datetime') {
  if (!value) return '';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, formats[kind]).format(date);
}

export function fmtNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}
