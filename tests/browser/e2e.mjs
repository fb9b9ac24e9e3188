#!/usr/bin/env node
// End-to-end check of the SPA in a real browser (Debian's Chromium driven by playwright-core).
//
// Against a freshly started pgward with no user yet: open /, land on /setup, create the administrator,
// log in if setup did not, open Databases, add a database, test its connection, save it and wait for its
// row; then add a second one and delete it, confirming the dialog; then open Tasks with its module
// unreachable (a message and a reload button), and reload. Prints one JSON line ({"ok":true,"steps":[...]}) and exits 0; on failure prints
// {"ok":false,...}, writes a screenshot and the page's HTML to $E2E_ARTIFACTS, prints the page's console
// errors to stderr and exits 1.
//
// Env:
//   BASE_URL        pgward's origin, e.g. http://127.0.0.1:8080 (required)
//   DB_CONN         connection string of a reachable PostgreSQL database (required)
//   DB_NAME         display name for that database (required)
//   E2E_ARTIFACTS   where failure artefacts go (default /tmp)
//   E2E_TIMEOUT_MS  bound on the whole run (default 60000)
//   PGWARD_CHROMIUM browser binary (default /usr/bin/chromium)
//   PGWARD_CACHE    where scripts/deps.sh installed playwright-core (default ~/.cache/pgward)

import { env, runFlow } from './harness.mjs';

const ADMIN_EMAIL = process.env.ADMIN_EMAIL || 'admin@example.com';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || 'correct horse battery';
const ADMIN_NAME = 'E2E Admin';
const TASKS_MODULE = '**/split_tasks_page.*.wasm';

const baseUrl = env('BASE_URL').replace(/\/+$/, '');
const dbConn = env('DB_CONN');
const dbName = env('DB_NAME');
const totalMs = Number(env('E2E_TIMEOUT_MS', '60000'));



async function run(page, step) {
  const byTestId = (id) => page.getByTestId(id);
  const errorBanner = byTestId('error').first();

  // Waits for `target`, failing at once (with the message shown) if the page shows an error instead.
  async function reach(target, what) {
    await target.or(errorBanner).first().waitFor();
    if (!(await target.first().isVisible())) {
      throw new Error(`${what}: the page shows an error: ${(await errorBanner.innerText()).trim()}`);
    }
  }

  // The Tasks page's module is unreachable from the start (the app fetches the other pages' modules
  // in the background once signed in; this one must fail there and again when Tasks is opened).
  await page.route(TASKS_MODULE, (route) => route.abort());

  await step('open /', async () => {
    await page.goto(`${baseUrl}/`);
    await reach(byTestId('setup-email'), 'expected the setup page');
    if (new URL(page.url()).pathname !== '/setup') throw new Error(`landed on ${page.url()}, not /setup`);
  });

  await step('setup administrator', async () => {
    await byTestId('setup-email').fill(ADMIN_EMAIL);
    await byTestId('setup-name').fill(ADMIN_NAME);
    await byTestId('setup-password').fill(ADMIN_PASSWORD);
    await byTestId('setup-submit').click();
    // Setup logs in by itself; it falls back to /login if that second step fails.
    await page.waitForURL((u) => u.pathname === '/dashboard' || u.pathname === '/login')
      .catch(async (e) => {
        if (await errorBanner.isVisible()) throw new Error(`setup failed: ${await errorBanner.innerText()}`);
        throw e;
      });
    return new URL(page.url()).pathname;
  });

  // Log out and back in through the login page, so the login form itself is exercised.
  if (new URL(page.url()).pathname === '/dashboard') {
    await step('logout', async () => {
      await byTestId('logout').click();
      await page.waitForURL((u) => u.pathname === '/login');
    });
  }

  await step('login', async () => {
    await byTestId('login-email').fill(ADMIN_EMAIL);
    await byTestId('login-password').fill(ADMIN_PASSWORD);
    await byTestId('login-submit').click();
    await page.waitForURL((u) => u.pathname === '/dashboard');
    await reach(byTestId('dashboard-health'), 'loading the dashboard');
  });

  // The access token lives in memory and the refresh token in an HttpOnly cookie: a reload restores
  // the session from the cookie, and no script can find either token.
  await step('reload keeps the session, with no token in reach of scripts', async () => {
    await page.reload();
    await page.waitForURL((u) => u.pathname === '/dashboard');
    await reach(byTestId('dashboard-health'), 'the dashboard after a reload');
    const exposed = await page.evaluate(() => ({
      storage: Object.keys(localStorage).concat(Object.keys(sessionStorage)),
      cookies: document.cookie,
    }));
    if (exposed.storage.length > 0 || exposed.cookies.includes('pgward_refresh')) {
      throw new Error(`tokens within reach of scripts: ${JSON.stringify(exposed)}`);
    }
  });

  await step('open Databases', async () => {
    await byTestId('nav-databases').click();
    await page.waitForURL((u) => u.pathname === '/databases');
    // The list has loaded once it shows either the table or the empty state.
    await byTestId('db-table').or(byTestId('db-empty')).first().waitFor();
    await byTestId('current-user').filter({ hasText: /\S/ }).waitFor();
  });

  await step('test connection', async () => {
    await byTestId('db-add-name').fill(dbName);
    await byTestId('db-add-conn').fill(dbConn);
    await byTestId('db-add-test').click();
    const result = byTestId('db-test-result');
    await result.waitFor();
    const status = await result.getAttribute('data-status');
    const text = (await result.innerText()).trim();
    if (status !== 'ok') throw new Error(`connection test did not succeed (${status}): ${text}`);
    if (!/PostgreSQL \d+/.test(text)) throw new Error(`connection test shows no server version: ${text}`);
    return text;
  });

  await step('save database', async () => {
    await byTestId('db-add-interval').selectOption('3600');
    await byTestId('db-add-submit').click();
    const row = byTestId('db-row').filter({ has: byTestId('db-name').getByText(dbName, { exact: true }) });
    await reach(row, 'saving the database');
    const health = (await row.getByTestId('db-health').innerText()).trim();
    const cells = (await row.locator('td').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
    return { health, row: cells.slice(0, 5) };
  });

  await step('delete a database', async () => {
    const doomed = `${dbName} (to delete)`;
    await byTestId('db-add-name').fill(doomed);
    await byTestId('db-add-conn').fill(dbConn);
    await byTestId('db-add-submit').click();
    const row = byTestId('db-row').filter({ has: byTestId('db-name').getByText(doomed, { exact: true }) });
    await reach(row, 'saving the second database');
    // The page asks before deleting; the operator confirms (the harness accepts every dialog).
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); });
    await row.getByTestId('db-delete').click();
    await row.waitFor({ state: 'detached' });
    if (!asked.includes(doomed)) throw new Error(`no confirmation naming the database: ${asked}`);
    // The first one is still listed.
    await byTestId('db-row').filter({ has: byTestId('db-name').getByText(dbName, { exact: true }) }).waitFor();
    return asked;
  });

  // Each signed-in page is a module of its own, fetched on first visit. When it cannot be (pgward was
  // upgraded while the tab was open and the old build's modules are gone, or the network dropped), the
  // frame says so and offers a reload instead of the whole app stopping.
  await step('a page whose module cannot be fetched offers a reload', async () => {
    await byTestId('nav-tasks').click();
    await reach(byTestId('page-not-loaded'), 'the page whose module is missing');
    await byTestId('nav-profile').waitFor();
    await page.unroute(TASKS_MODULE);
    await byTestId('page-not-loaded').getByRole('button', { name: 'Reload' }).click();
    await reach(byTestId('task-new'), 'the Tasks page after the reload');
    return new URL(page.url()).pathname;
  });
}

process.exit(await runFlow('e2e', run, { totalMs }));
