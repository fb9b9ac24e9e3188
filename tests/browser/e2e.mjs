#!/usr/bin/env node
// End-to-end check of the SPA in a real browser (Debian's Chromium driven by playwright-core).
//
// Against a freshly started pgward with no user yet: open /, land on /setup, create the administrator,
// log in if setup did not, open Databases, add a database, test its connection, save it and wait for its
// row. Prints one JSON line ({"ok":true,"steps":[...]}) and exits 0; on failure prints
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

import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

const ADMIN_EMAIL = process.env.ADMIN_EMAIL || 'admin@example.com';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || 'correct horse battery';
const ADMIN_NAME = 'E2E Admin';

function env(name, fallback) {
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback === undefined) {
    console.log(JSON.stringify({ ok: false, error: `environment variable ${name} is required` }));
    process.exit(2);
  }
  return fallback;
}

const baseUrl = env('BASE_URL').replace(/\/+$/, '');
const dbConn = env('DB_CONN');
const dbName = env('DB_NAME');
const artifacts = env('E2E_ARTIFACTS', '/tmp');
const totalMs = Number(env('E2E_TIMEOUT_MS', '60000'));
const chromiumPath = env('PGWARD_CHROMIUM', '/usr/bin/chromium');
const cache = env('PGWARD_CACHE', path.join(homedir(), '.cache', 'pgward'));

function loadPlaywright() {
  // scripts/deps.sh installs it under $PGWARD_CACHE/node; NODE_PATH works as a fallback.
  const attempts = [
    () => createRequire(path.join(cache, 'node', 'package.json'))('playwright-core'),
    () => createRequire(import.meta.url)('playwright-core'),
  ];
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch {
      // try the next place
    }
  }
  console.log(JSON.stringify({
    ok: false,
    error: `playwright-core not found under ${cache}/node/node_modules or NODE_PATH; run scripts/deps.sh`,
  }));
  process.exit(2);
}

const { chromium } = loadPlaywright();

const steps = [];
const consoleErrors = [];
const pageErrors = [];
const started = Date.now();

async function step(name, fn) {
  const t0 = Date.now();
  const detail = await fn();
  steps.push({ step: name, ms: Date.now() - t0, ...(detail ? { detail } : {}) });
}

async function run(page) {
  const byTestId = (id) => page.getByTestId(id);
  const errorBanner = byTestId('error').first();

  // Waits for `target`, failing at once (with the message shown) if the page shows an error instead.
  async function reach(target, what) {
    await target.or(errorBanner).first().waitFor();
    if (!(await target.first().isVisible())) {
      throw new Error(`${what}: the page shows an error: ${(await errorBanner.innerText()).trim()}`);
    }
  }

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
    await page.waitForURL((u) => u.pathname === '/databases' || u.pathname === '/login')
      .catch(async (e) => {
        if (await errorBanner.isVisible()) throw new Error(`setup failed: ${await errorBanner.innerText()}`);
        throw e;
      });
    return new URL(page.url()).pathname;
  });

  // Log out and back in through the login page, so the login form itself is exercised.
  if (new URL(page.url()).pathname === '/databases') {
    await step('logout', async () => {
      await byTestId('logout').click();
      await page.waitForURL((u) => u.pathname === '/login');
    });
  }

  await step('login', async () => {
    await byTestId('login-email').fill(ADMIN_EMAIL);
    await byTestId('login-password').fill(ADMIN_PASSWORD);
    await byTestId('login-submit').click();
    await page.waitForURL((u) => u.pathname === '/databases');
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
    await byTestId('db-add-submit').click();
    const row = byTestId('db-row').filter({ has: byTestId('db-name').getByText(dbName, { exact: true }) });
    await reach(row, 'saving the database');
    const health = (await row.getByTestId('db-health').innerText()).trim();
    const cells = (await row.locator('td').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
    return { health, row: cells.slice(0, 5) };
  });
}

async function main() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'pgward-e2e-chromium-'));
  let context;
  let page;
  let timer;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
      ],
      viewport: { width: 1280, height: 900 },
      timeout: 20000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20000);
    page.setDefaultNavigationTimeout(20000);
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(String(err?.stack || err)));
    page.on('dialog', (dialog) => dialog.accept());

    const overall = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`e2e run exceeded ${totalMs} ms`)), totalMs);
    });
    await Promise.race([run(page), overall]);
    if (pageErrors.length) throw new Error(`uncaught error in the page: ${pageErrors[0]}`);
    // For a person to look at: what the operator saw at the end.
    if (process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });

    console.log(JSON.stringify({ ok: true, ms: Date.now() - started, steps }));
    return 0;
  } catch (err) {
    const failure = { ok: false, error: String(err?.message || err), ms: Date.now() - started, steps };
    try {
      mkdirSync(artifacts, { recursive: true });
      if (page) {
        failure.url = page.url();
        const shot = path.join(artifacts, 'pgward-e2e-failure.png');
        await page.screenshot({ path: shot, fullPage: true, timeout: 5000 });
        failure.screenshot = shot;
        const html = path.join(artifacts, 'pgward-e2e-failure.html');
        writeFileSync(html, await page.content());
        failure.html = html;
      }
    } catch (artifactErr) {
      failure.artifact_error = String(artifactErr?.message || artifactErr);
    }
    console.log(JSON.stringify(failure));
    for (const e of consoleErrors) console.error(`console error: ${e}`);
    for (const e of pageErrors) console.error(`page error: ${e}`);
    return 1;
  } finally {
    clearTimeout(timer);
    if (context) await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

process.exit(await main());
