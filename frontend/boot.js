// Starts the web UI. A file of its own (not an inline script): pgward's Content-Security-Policy allows
// no inline script.
// Relative to this module, so the app works under any base path (the server names hashed copies).
import init from './spa.js';

// The colour theme chosen in the top bar (src/theme.rs), applied before the app loads so that a page
// load does not flash the other palette. Without a choice the stylesheet follows the system.
try {
  const theme = localStorage.getItem('pgward.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
} catch {
  // No storage (e.g. disabled by the browser): follow the system.
}

await init({ module_or_path: new URL('./spa_bg.wasm', import.meta.url) });
