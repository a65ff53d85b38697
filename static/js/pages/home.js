// The start page: what the signed-in person does next, by role — drawn at once from the device,
// again when the network answers (data.js).

import { boot, user } from '../app.js';
import { deviceFirst } from '../data.js';

await boot();
const root = document.getElementById('view');
let draw;
if (user.role === 'manager' || user.role === 'admin') {
  draw = (await import('./home-manager.js')).managerHome;
} else if (user.role === 'store_manager') {
  draw = (await import('./home-store.js')).storeHome;
} else {
  const { captureHome, keepChecklists } = await import('./home-capture.js');
  keepChecklists();
  draw = captureHome;
}
await deviceFirst(() => draw(root));
root.removeAttribute('aria-busy');
