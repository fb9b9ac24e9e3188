#!/usr/bin/env node
// The seed tutorial in the browser, as a new operator walks it: first-user setup, a database (tested), an
// S3 destination (tested), a task (cron, time zone, retention, the S3 destination), "run now" with the
// progress bar seen while the backup runs, a Healthchecks webhook to a local receiver (tested), a restore
// into a new database, and a restore into the source with "replace" (the name typed to confirm). Every
// page it visits is checked with axe-core (no serious or critical violation), and a screenshot of each
// step is written to $SHOT_DIR. Runs at the viewport and colour scheme asked for, under any base path
// (BASE_URL may end with one, e.g. http://127.0.0.1:8081/pgward).
//
// While the backup runs, something outside holds a lock on one of its tables, so the run is seen
// running; the flow writes $RELEASE_FILE once it saw the progress bar, and the lock is let go.
//
// Prints one JSON line ({"ok":true,...}) and exits 0; on failure prints {"ok":false,...}, writes a
// screenshot and the page's HTML to $E2E_ARTIFACTS and exits 1.
//
// Env:
//   BASE_URL        where pgward is reached, with its base path (required)
//   VIEWPORT        desktop (1280×900) or phone (390×844) (default desktop)
//   COLOR_SCHEME    light or dark (default light)
//   ADMIN_EMAIL, ADMIN_PASSWORD   the first administrator to set up (required)
//   DB_CONN         connection string of the database to back up (required)
//   DB_NAME         the name it is registered under (required)
//   DB_DATABASE     its PostgreSQL name, typed to confirm the replace (required)
//   S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_KEY, S3_SECRET   the S3 destination (required)
//   HC_URL          the Healthchecks check URL (a local receiver) (required)
//   RESTORE_NAME    the new database the backup is restored into (required)
//   RELEASE_FILE    written once the running backup's progress bar was seen (required)
//   SHOT_DIR        where the step screenshots go (required)
//   AXE_JS          axe-core's axe.min.js (default under $PGWARD_CACHE/node)
//   E2E_TIMEOUT_MS  bound on the whole run (default 300000)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

import { env, runFlow } from './harness.mjs';

const baseUrl = env('BASE_URL').replace(/\/+$/, '');
const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
const viewport = env('VIEWPORT', 'desktop');
const colorScheme = env('COLOR_SCHEME', 'light');
const adminEmail = env('ADMIN_EMAIL');
const adminPassword = env('ADMIN_PASSWORD');
const dbConn = env('DB_CONN');
const dbName = env('DB_NAME');
const dbDatabase = env('DB_DATABASE');
const s3 = {
  endpoint: env('S3_ENDPOINT'),
  bucket: env('S3_BUCKET'),
  region: env('S3_REGION'),
  key: env('S3_KEY'),
  secret: env('S3_SECRET'),
};
const hcUrl = env('HC_URL');
const restoreName = env('RESTORE_NAME');
const releaseFile = env('RELEASE_FILE');
const shotDir = env('SHOT_DIR');
const cache = env('PGWARD_CACHE', path.join(homedir(), '.cache', 'pgward'));
const axeJs = env('AXE_JS', path.join(cache, 'node', 'node_modules', 'axe-core', 'axe.min.js'));
const totalMs = Number(env('E2E_TIMEOUT_MS', '300000'));
const runMs = 120000;

const SIZES = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
const destName = 'tutorial s3';
const taskName = 'tutorial nightly';
const webhookName = 'tutorial healthchecks';

const axeSource = readFileSync(axeJs, 'utf8');
const audited = [];
const violations = [];
const shots = [];

async function run(page, step) {
  const byTestId = (id) => page.getByTestId(id);
  const errorBanner = byTestId('error').first();
  const at = (p) => (u) => u.pathname === `${basePath}${p}`;

  async function reach(target, what, options = {}) {
    await target.or(errorBanner).first().waitFor(options);
    if (!(await target.first().isVisible())) {
      throw new Error(`${what}: the page shows an error: ${(await errorBanner.innerText()).trim()}`);
    }
  }

  async function shot(name) {
    mkdirSync(shotDir, { recursive: true });
    const file = path.join(shotDir, `${String(shots.length + 1).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
  }

  // axe-core on the page as it is now: serious and critical violations fail the flow.
  async function audit(what) {
    await page.evaluate(axeSource);
    const found = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    audited.push(what);
    // Collected, so one run lists every page's violations; the last step fails on any.
    if (found.length) violations.push({ page: what, found });
  }

  // The links of the top bar; on a phone they are folded behind the menu button.
  async function nav(name, pathname) {
    const toggle = byTestId('nav-toggle');
    if (await toggle.isVisible()) await toggle.click();
    await byTestId(`nav-${name}`).click();
    await page.waitForURL(at(pathname));
  }

  await step('viewport and colour scheme', async () => {
    await page.setViewportSize(SIZES[viewport]);
    await page.emulateMedia({ colorScheme });
    return { viewport, colorScheme, basePath };
  });

  await step('setup', async () => {
    await page.goto(`${baseUrl}/`);
    await reach(byTestId('setup-email'), 'expected the setup page');
    await audit('setup');
    await byTestId('setup-email').fill(adminEmail);
    await byTestId('setup-name').fill('Tutorial Admin');
    await byTestId('setup-password').fill(adminPassword);
    await shot('setup');
    await byTestId('setup-submit').click();
    await page.waitForURL(at('/dashboard'));
    await reach(byTestId('dashboard-health'), 'loading the dashboard');
    const scheme = await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme);
    await audit('dashboard');
    await shot('dashboard-empty');
    return { scheme };
  });

  await step('database (test, save)', async () => {
    await nav('databases', '/databases');
    await reach(byTestId('db-table').or(byTestId('db-empty')), 'loading databases');
    await byTestId('db-add-name').fill(dbName);
    await byTestId('db-add-conn').fill(dbConn);
    await byTestId('db-add-test').click();
    const result = byTestId('db-test-result');
    await reach(result, 'testing the connection');
    const tested = (await result.innerText()).trim();
    if ((await result.getAttribute('data-status')) !== 'ok') throw new Error(`database test: ${tested}`);
    await audit('databases');
    await byTestId('db-add-submit').click();
    await reach(byTestId('db-row').filter({ hasText: dbName }), 'saving the database');
    await shot('database');
    return tested;
  });

  await step('S3 destination (test, save)', async () => {
    await nav('destinations', '/destinations');
    await reach(byTestId('dest-table').or(byTestId('dest-empty')), 'loading destinations');
    await byTestId('dest-add-name').fill(destName);
    await byTestId('dest-add-kind').selectOption('s3');
    await byTestId('dest-add-endpoint').fill(s3.endpoint);
    await byTestId('dest-add-bucket').fill(s3.bucket);
    await byTestId('dest-add-region').fill(s3.region);
    await byTestId('dest-add-access-key-id').fill(s3.key);
    await byTestId('dest-add-secret-access-key').fill(s3.secret);
    await byTestId('dest-add-allow-http').check();
    await byTestId('dest-add-path-style').check();
    await byTestId('dest-add-test').click();
    const result = byTestId('dest-test-result');
    await reach(result, 'testing the destination');
    const tested = (await result.innerText()).trim();
    if ((await result.getAttribute('data-status')) !== 'ok') throw new Error(`destination test: ${tested}`);
    await audit('destinations');
    await byTestId('dest-add-submit').click();
    await reach(byTestId('dest-row').filter({ hasText: destName }), 'saving the destination');
    await shot('destination');
    return tested;
  });

  await step('task (cron, zone, retention, destination)', async () => {
    await nav('tasks', '/tasks');
    await reach(byTestId('task-table').or(byTestId('task-empty')), 'loading tasks');
    await byTestId('task-form-name').fill(taskName);
    await byTestId('task-form-database').selectOption({ label: dbName });
    await page.locator(`[data-testid="task-dest-option"][data-name=${JSON.stringify(destName)}]`).check();
    await byTestId('task-form-schedule').fill('30 2 * * *');
    await byTestId('task-form-timezone').fill('Europe/Berlin');
    await byTestId('task-form-keep-last').fill('5');
    await byTestId('task-form-keep-days').fill('14');
    await audit('task form');
    await byTestId('task-form-submit').click();
    await reach(byTestId('task-saved'), 'saving the task');
    await shot('task');
  });

  const taskRow = byTestId('task-row').filter({ has: byTestId('task-name').getByText(taskName, { exact: true }) });

  await step('run now: the progress bar while it runs', async () => {
    await reach(taskRow, 'listing the task');
    await taskRow.getByTestId('task-run').click();
    await reach(byTestId('task-note'), 'queueing the run');
    await nav('executions', '/executions');
    const row = byTestId('exec-row').filter({ has: byTestId('exec-task').getByText(taskName, { exact: true }) }).first();
    const bar = row.getByTestId('exec-progress-bar');
    await reach(bar, 'waiting for the running backup', { timeout: runMs });
    await audit('executions (running)');
    await shot('running');
    writeFileSync(releaseFile, 'seen');
    const final = page.locator(
      ['success', 'failed', 'cancelled']
        .map((s) => `[data-testid="exec-row"][data-status="${s}"]`)
        .join(', '),
    ).filter({ has: byTestId('exec-task').getByText(taskName, { exact: true }) }).first();
    await reach(final, 'waiting for the backup', { timeout: runMs });
    const status = await final.getAttribute('data-status');
    if (status !== 'success') throw new Error(`the backup ended ${status}`);
    await shot('backup-done');
    return { status };
  });

  await step('execution details', async () => {
    const row = byTestId('exec-row').filter({ has: byTestId('exec-task').getByText(taskName, { exact: true }) }).first();
    await row.getByTestId('exec-link').click();
    await reach(byTestId('exec-detail'), 'opening the execution');
    await reach(byTestId('exec-copy'), 'listing the copies');
    await byTestId('exec-manifest-show').click();
    await reach(byTestId('exec-manifest-summary'), 'loading the manifest');
    await audit('execution details');
    await shot('execution');
    return { url: new URL(page.url()).pathname };
  });
  const executionPath = new URL(page.url()).pathname;

  await step('Healthchecks webhook (test)', async () => {
    await nav('webhooks', '/webhooks');
    await reach(byTestId('webhook-form'), 'opening the webhooks page');
    await byTestId('webhook-name').fill(webhookName);
    await byTestId('webhook-kind').selectOption('healthchecks');
    await byTestId('webhook-url').fill(hcUrl);
    await audit('webhooks');
    await byTestId('webhook-save').click();
    const row = byTestId('webhook-row').filter({ hasText: webhookName }).first();
    await reach(row, 'saving the webhook');
    await row.getByTestId('webhook-test').click();
    const note = byTestId('webhook-note');
    await reach(note, 'sending the test');
    const text = (await note.innerText()).trim();
    if (!text.includes('delivered')) throw new Error(`test not delivered: ${text}`);
    await shot('webhook');
    return text;
  });

  async function openRestoreForm() {
    await page.goto(`${new URL(baseUrl).origin}${executionPath}`);
    await reach(byTestId('exec-detail-restore'), 'opening the execution');
    await byTestId('exec-detail-restore').click();
    await page.waitForURL(at('/restorations/new'));
    await reach(byTestId('restore-form'), 'opening the restore form');
  }

  async function restored(what) {
    await page.waitForURL((u) => u.pathname.startsWith(`${basePath}/restorations/`) && !u.pathname.endsWith('/new'), { timeout: runMs });
    const done = page.locator('[data-testid="restoration"][data-status="success"], [data-testid="restoration"][data-status="failed"], [data-testid="restoration"][data-status="cancelled"]');
    await reach(done, `waiting for ${what}`, { timeout: runMs });
    const status = await done.getAttribute('data-status');
    if (status !== 'success') {
      const error = await byTestId('restoration-error').innerText().catch(() => '');
      throw new Error(`${what} ended ${status}: ${error.trim()}`);
    }
    await audit(`restoration (${what})`);
  }

  await step('restore into a new database', async () => {
    await openRestoreForm();
    await byTestId('restore-kind').selectOption('new_database');
    await reach(byTestId('restore-target-help'), 'explaining the target');
    await byTestId('restore-database').selectOption({ label: dbName });
    await byTestId('restore-name').fill(restoreName);
    await audit('restore form');
    await byTestId('restore-submit').click();
    await restored('the restore into a new database');
    await shot('restored-new');
    return { database: restoreName };
  });

  await step('restore into the source with replace', async () => {
    await openRestoreForm();
    await byTestId('restore-kind').selectOption('replace');
    await byTestId('restore-database').selectOption({ label: dbName });
    const help = (await byTestId('restore-target-help').innerText()).trim();
    await byTestId('restore-end-sessions').check();
    // Nothing that overwrites starts before the database's name is typed.
    if (await byTestId('restore-submit').isEnabled()) throw new Error('replace could start without the name typed');
    await byTestId('restore-confirm').fill(dbDatabase);
    await audit('restore form (replace)');
    await shot('replace-form');
    await byTestId('restore-submit').click();
    await restored('the replace');
    const kept = (await byTestId('restoration-previous-name').innerText()).trim();
    await shot('replaced');
    return { help, kept };
  });

  await step('the other pages pass axe-core', async () => {
    for (const [name, pathname] of [
      ['dashboard', '/dashboard'],
      ['restorations', '/restorations'],
      ['events', '/events'],
      ['profile', '/profile'],
      ['system', '/system'],
      ['upload', '/upload'],
      ['users', '/users'],
      ['audit', '/audit'],
    ]) {
      await nav(name, pathname);
      await page.locator('main').first().waitFor();
      await page.waitForLoadState('networkidle');
      await audit(name);
      if (name === 'profile') {
        // Times follow the zone the user picks (the browser's zone data: a half-hour offset, no daylight
        // saving time, a name that is its own canonical name in ICU).
        await byTestId('profile-tz').selectOption('Australia/Darwin');
        await byTestId('profile-tz-submit').click();
        await reach(byTestId('profile-tz-saved'), 'saving the time zone');
        const example = (await byTestId('profile-tz-example').innerText()).trim();
        if (!example.endsWith('+09:30')) throw new Error(`time not shown in Australia/Darwin: ${example}`);
      }
    }
    await shot('dashboard');
  });

  await step('no serious or critical accessibility violation', async () => {
    if (violations.length) throw new Error(`axe-core: ${JSON.stringify(violations)}`);
    return { pages: audited.length };
  });
}

const code = await runFlow(`tutorial-${viewport}-${colorScheme}`, run, {
  totalMs,
  summary: () => ({ viewport, colorScheme, basePath, audited, screenshots: shotDir, shots: shots.length }),
});
process.exit(code);
