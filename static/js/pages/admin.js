// Admin pages are server-rendered forms: boot the app chrome and ask before destructive buttons.

import { boot } from '../app.js';

await boot();

document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-confirm]');
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
