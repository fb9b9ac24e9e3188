// Starts the web UI. A file of its own (not an inline script): pgward's Content-Security-Policy allows
// no inline script.
import init from '/spa.js';
await init({ module_or_path: '/spa_bg.wasm' });
