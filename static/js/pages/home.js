// The start page: what the signed-in person does next, by role.

import { boot, user } from '../app.js';

await boot();
const root = document.getElementById('view');
if (user.role === 'manager' || user.role === 'admin') {
  const { managerHome } = await import('./home-manager.js');
  await managerHome(root);
} else if (user.role === 'store_manager') {
  const { storeHome } = await import('./home-store.js');
  await storeHome(root);
} else {
  const { captureHome } = await import('./home-capture.js');
  await captureHome(root);
}
root.removeAttribute('aria-busy');
