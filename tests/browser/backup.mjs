#!/usr/bin/env node
// Browser check of the backup workflow: destinations, tasks and executions.
//
// Against a pgward that already has an administrator and a registered database: log in, add a local
// destination (test it, save it, see it listed), create a task for the database writing there on
// "30 2 * * *" in Europe/Berlin, check the ten-entry next-runs preview (all at 02:30), run it now, and wait
// on the Executions page (which refreshes itself) until the run shows "success"; then download the
// backup. Prints one JSON line ({"ok":true,"steps":[...]}) and exits 0; on failure prints
// {"ok":false,...}, writes a screenshot and the page's HTML to $E2E_ARTIFACTS, prints the page's console
// errors to stderr and exits 1.
//
// Env:
//   BASE_URL            pgward's origin, e.g. http://127.0.0.1:8080 (required)
//   ADMIN_EMAIL         the administrator's email (required)
//   ADMIN_PASSWORD      their password (required)
//   DB_NAME             display name of a database registered in pgward (required)
//   DEST_DIR            absolute directory below one of pgward's storage.local_roots (required)
//   DEST_NAME           name for the new destination (default e2e-local-<time>)
//   TASK_NAME           name for the new task (default e2e-nightly-<time>)
//   RESTORE_NAME        the new database the backup is restored into (default e2e_restored_<time>)
//   E2E_ARTIFACTS       where failure artefacts go (default /tmp)
//   E2E_TIMEOUT_MS      bound on the whole run (default 120000)
//   E2E_RUN_TIMEOUT_MS  bound on the backup reaching a final status (default 90000)
//   E2E_SCREENSHOT      write a full-page screenshot of the end state there
//   E2E_SCREENSHOT_DIR  write destinations.png, tasks.png and executions.png there
//   PGWARD_CHROMIUM     browser binary (default /usr/bin/chromium)
//   PGWARD_CACHE        where scripts/deps.sh installed playwright-core (default ~/.cache/pgward)

import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { env, runFlow } from './harness.mjs';

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
const baseUrl = env('BASE_URL').replace(/\/+$/, '');
const adminEmail = env('ADMIN_EMAIL');
const adminPassword = env('ADMIN_PASSWORD');
const dbName = env('DB_NAME');
const destDir = env('DEST_DIR');
const webhookUrl = env('WEBHOOK_URL');
const webhookName = 'browser ping';
const destName = env('DEST_NAME', `e2e-local-${stamp}`);
const taskName = env('TASK_NAME', `e2e-nightly-${stamp}`);
const restoreName = env('RESTORE_NAME', `e2e_restored_${stamp}`);
const totalMs = Number(env('E2E_TIMEOUT_MS', '120000'));
const runMs = Number(env('E2E_RUN_TIMEOUT_MS', '90000'));
const shotDir = process.env.E2E_SCREENSHOT_DIR || '';

if (!path.isAbsolute(destDir)) {
  console.log(JSON.stringify({ ok: false, error: `DEST_DIR must be an absolute path, got ${destDir}` }));
  process.exit(2);
}



async function run(page, step) {
  const byTestId = (id) => page.getByTestId(id);
  const errorBanner = byTestId('error').first();

  // Waits for `target`, failing at once (with the message shown) if the page shows an error instead.
  async function reach(target, what, options = {}) {
    await target.or(errorBanner).first().waitFor(options);
    if (!(await target.first().isVisible())) {
      throw new Error(`${what}: the page shows an error: ${(await errorBanner.innerText()).trim()}`);
    }
  }

  async function shot(name) {
    if (!shotDir) return;
    mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: path.join(shotDir, name), fullPage: true });
  }

  await step('login', async () => {
    await page.goto(`${baseUrl}/login`);
    await byTestId('login-email').fill(adminEmail);
    await byTestId('login-password').fill(adminPassword);
    await byTestId('login-submit').click();
    await page.waitForURL((u) => u.pathname === '/dashboard').catch(async (e) => {
      if (await errorBanner.isVisible()) throw new Error(`login failed: ${await errorBanner.innerText()}`);
      throw e;
    });
  });

  await step('open Destinations', async () => {
    await byTestId('nav-destinations').click();
    await page.waitForURL((u) => u.pathname === '/destinations');
    await reach(byTestId('dest-table').or(byTestId('dest-empty')), 'loading destinations');
  });

  await step('test local destination', async () => {
    await byTestId('dest-add-name').fill(destName);
    await byTestId('dest-add-kind').selectOption('local');
    await byTestId('dest-add-path').fill(destDir);
    await byTestId('dest-add-test').click();
    const result = byTestId('dest-test-result');
    await reach(result, 'testing the destination');
    const status = await result.getAttribute('data-status');
    const text = (await result.innerText()).trim();
    if (status !== 'ok') throw new Error(`destination test did not succeed (${status}): ${text}`);
    return text;
  });

  await step('save destination', async () => {
    await byTestId('dest-add-submit').click();
    const row = byTestId('dest-row').filter({ has: byTestId('dest-name').getByText(destName, { exact: true }) });
    await reach(row, 'saving the destination');
    const location = (await row.getByTestId('dest-location').innerText()).trim();
    if (location !== destDir) throw new Error(`destination row shows ${location}, not ${destDir}`);
    const kind = await row.getByTestId('dest-kind').getAttribute('data-kind');
    if (kind !== 'local') throw new Error(`destination row has kind ${kind}`);
    const health = (await row.getByTestId('dest-health').innerText()).trim();
    await shot('destinations.png');
    return { location, kind, health };
  });

  await step('open Tasks', async () => {
    await byTestId('nav-tasks').click();
    await page.waitForURL((u) => u.pathname === '/tasks');
    await reach(byTestId('task-table').or(byTestId('task-empty')), 'loading tasks');
  });

  await step('create task', async () => {
    await byTestId('task-form-name').fill(taskName);
    // selectOption waits for the option, so the database list may still be loading.
    await byTestId('task-form-database').selectOption({ label: dbName });
    const dest = page.locator(`[data-testid="task-dest-option"][data-name=${JSON.stringify(destName)}]`);
    await dest.check();
    await byTestId('task-form-schedule').fill('30 2 * * *');
    await byTestId('task-form-timezone').fill('Europe/Berlin');
    // Prove every backup: test-restore it on the same server right after it is taken.
    await byTestId('task-form-test-restore').check();
    await byTestId('task-form-test-restore-db').selectOption({ label: dbName });
    await byTestId('task-form-test-restore-after').check();
    await byTestId('task-form-submit').click();
    await reach(byTestId('task-saved'), 'saving the task');
  });

  await step('next-runs preview', async () => {
    const runs = byTestId('next-runs').getByTestId('next-run');
    await reach(runs.nth(9), 'loading the next runs');
    const texts = (await runs.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    if (texts.length !== 10) throw new Error(`expected 10 next runs, got ${texts.length}: ${texts.join(' | ')}`);
    const off = texts.filter((t) => !t.includes('02:30'));
    if (off.length) throw new Error(`next runs not at 02:30: ${off.join(' | ')}`);
    // Europe/Berlin is +01:00 or +02:00 (daylight saving).
    const wrongZone = texts.filter((t) => !/\+0[12]:00$/.test(t));
    if (wrongZone.length) throw new Error(`next runs without a Berlin offset: ${wrongZone.join(' | ')}`);
    return [texts[0], texts[9]];
  });

  const taskRow = byTestId('task-row').filter({ has: byTestId('task-name').getByText(taskName, { exact: true }) });

  await step('task listed', async () => {
    await reach(taskRow, 'listing the task');
    const schedule = (await taskRow.getByTestId('task-schedule').innerText()).trim();
    const timezone = (await taskRow.getByTestId('task-timezone').innerText()).trim();
    const database = (await taskRow.getByTestId('task-database').innerText()).trim();
    const next = (await taskRow.getByTestId('task-next-run').innerText()).trim();
    if (schedule !== '30 2 * * *' || timezone !== 'Europe/Berlin') {
      throw new Error(`task row shows schedule ${schedule} in ${timezone}`);
    }
    if (!next.includes('02:30')) throw new Error(`task row's next run is ${next}`);
    await shot('tasks.png');
    return { database, schedule, timezone, next };
  });

  await step('run now', async () => {
    await taskRow.getByTestId('task-run').click();
    await reach(byTestId('task-note'), 'queueing the run');
    return (await byTestId('task-note').innerText()).trim();
  });

  await step('open Executions', async () => {
    await byTestId('nav-executions').click();
    await page.waitForURL((u) => u.pathname === '/executions');
    await reach(byTestId('exec-table').or(byTestId('exec-empty')), 'loading executions');
  });

  const execRow = byTestId('exec-row')
    .filter({ has: byTestId('exec-task').getByText(taskName, { exact: true }) })
    .first();

  await step('backup succeeds', async () => {
    // The page polls by itself while the run is queued or running: wait for a final status.
    const final = page.locator(
      ['success', 'failed', 'cancelled', 'deleted']
        .map((s) => `[data-testid="exec-row"][data-status="${s}"]`)
        .join(', '),
    ).filter({ has: byTestId('exec-task').getByText(taskName, { exact: true }) }).first();
    await reach(final, 'waiting for the backup', { timeout: runMs });
    const status = await final.getAttribute('data-status');
    if (status !== 'success') {
      const message = await final.getByTestId('exec-message').innerText().catch(() => '');
      throw new Error(`the backup ended ${status}: ${message.trim()}`);
    }
    const cells = (await execRow.locator('td').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    const size = (await execRow.getByTestId('exec-size').innerText()).trim();
    if (!/\d/.test(size)) throw new Error(`successful backup shows no size: ${size}`);
    await shot('executions.png');
    return { status, row: cells.slice(0, 7) };
  });

  await step('download backup', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      execRow.getByTestId('exec-download').click(),
    ]);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pgward-e2e-download-')), 'backup');
    await download.saveAs(file);
    const bytes = statSync(file).size;
    rmSync(path.dirname(file), { recursive: true, force: true });
    if (bytes === 0) throw new Error('the downloaded backup is empty');
    return { filename: download.suggestedFilename(), bytes };
  });

  await step('test-restore after the backup', async () => {
    const badge = execRow.locator('[data-testid="exec-test-restore-status"][data-status="ok"], [data-testid="exec-test-restore-status"][data-status="failed"]');
    await reach(badge, 'waiting for the test-restore', { timeout: runMs });
    const status = await badge.first().getAttribute('data-status');
    if (status !== 'ok') throw new Error(`test-restore ended ${status}: ${await badge.first().getAttribute('title')}`);
    return { status, message: await badge.first().getAttribute('title') };
  });

  await step('verify backup', async () => {
    await execRow.getByTestId('exec-verify').click();
    const badge = execRow.locator('[data-testid="exec-verify-status"][data-status="ok"], [data-testid="exec-verify-status"][data-status="failed"]');
    await reach(badge, 'waiting for the verification', { timeout: runMs });
    const status = await badge.first().getAttribute('data-status');
    if (status !== 'ok') throw new Error(`verification ended ${status}: ${await badge.first().getAttribute('title')}`);
    return { status };
  });

  await step('restore into a new database', async () => {
    await execRow.getByTestId('exec-restore').click();
    await page.waitForURL((u) => u.pathname === '/restorations/new');
    await reach(byTestId('restore-form'), 'opening the restore form');
    await byTestId('restore-kind').selectOption('new_database');
    await byTestId('restore-database').selectOption({ label: dbName });
    await byTestId('restore-name').fill(restoreName);
    await byTestId('restore-submit').click();
    // The form opens the new restoration's page, which follows it until it ends.
    await page.waitForURL((u) => /^\/restorations\/[0-9a-f-]{36}$/.test(u.pathname), { timeout: runMs });
    const done = page.locator('[data-testid="restoration"][data-status="success"], [data-testid="restoration"][data-status="failed"]');
    await reach(done, 'waiting for the restore', { timeout: runMs });
    const status = await done.getAttribute('data-status');
    if (status !== 'success') {
      const message = await byTestId('restoration-error').innerText().catch(() => '');
      throw new Error(`the restore ended ${status}: ${message.trim()}`);
    }
    // And the list shows it (the test-restore after the backup is listed too).
    await byTestId('nav-restorations').click();
    await page.waitForURL((u) => u.pathname === '/restorations');
    await reach(page.locator('[data-testid="restore-row"][data-status="success"]').filter({ hasText: restoreName }).first(), 'listing the restore');
    await shot('restorations.png');
    return { status, database: restoreName };
  });

  await step('events show what happened', async () => {
    await byTestId('nav-events').click();
    await page.waitForURL((u) => u.pathname === '/events');
    await reach(byTestId('health-summary'), 'loading the health summary');
    for (const kind of ['execution_success', 'restoration_success']) {
      await reach(page.locator(`[data-testid="event-row"][data-kind="${kind}"]`).first(), `waiting for ${kind}`);
    }
    return { rows: await byTestId('event-row').count() };
  });

  await step('webhook: preview, add, send test now, history', async () => {
    await byTestId('nav-webhooks').click();
    await page.waitForURL((u) => u.pathname === '/webhooks');
    await reach(byTestId('webhook-form'), 'opening the webhooks page');
    await byTestId('webhook-name').fill(webhookName);
    await byTestId('webhook-url').fill(webhookUrl);
    await byTestId('webhook-method').selectOption('GET');
    await byTestId('webhook-preview').click();
    const preview = byTestId('webhook-preview-request');
    await reach(preview, 'rendering the preview');
    const previewText = await preview.innerText();
    if (!previewText.startsWith('GET ')) throw new Error(`unexpected preview: ${previewText}`);
    await byTestId('webhook-save').click();
    const row = byTestId('webhook-row').filter({ hasText: webhookName }).first();
    await reach(row, 'waiting for the new webhook');
    await row.getByTestId('webhook-test').click();
    const note = byTestId('webhook-note');
    await reach(note, 'sending the test');
    const noteText = (await note.innerText()).trim();
    if (!noteText.includes('delivered (HTTP 200)')) throw new Error(`test not delivered: ${noteText}`);
    await reach(byTestId('delivery-attempt').first(), 'showing the delivery history');
    await shot('webhooks.png');
    return { note: noteText };
  });

  await step('dashboard shows health, the task and the latest events', async () => {
    await byTestId('nav-dashboard').click();
    await page.waitForURL((u) => u.pathname === '/dashboard');
    const databases = byTestId('dashboard-databases').getByTestId('healthy-count');
    await reach(databases.filter({ hasText: /^[1-9]\d* healthy$/ }), 'waiting for the health counts');
    const task = byTestId('dashboard-task').filter({ hasText: taskName }).first();
    await reach(task.locator('[data-testid="dashboard-task-status"][data-status="success"]'), 'waiting for the task status');
    await reach(byTestId('dashboard-event').first(), 'waiting for the latest events');
    await shot('dashboard.png');
    return { databases: (await databases.innerText()).trim() };
  });
}

process.exit(await runFlow('backup', run, { totalMs, acceptDownloads: true, summary: () => ({ destination: destName, task: taskName }) }));
