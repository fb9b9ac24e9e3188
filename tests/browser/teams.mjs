#!/usr/bin/env node
// Browser check of teams: roles decide what the SPA offers.
//
// Against a pgward whose first administrator exists and which has a task an operator can run: log in as
// the administrator, open Users, create an operator, log out; log in as the operator, see no Users or
// Audit link and the "you need the admin role" message on /users; open Tasks, run the task TASK_NAME and
// wait on the Executions page (which refreshes itself) until that run shows "success". Prints one JSON
// line ({"ok":true,"steps":[...]}) and then "teams flow ok", and exits 0; on failure prints
// {"ok":false,...}, writes a screenshot and the page's HTML to $E2E_ARTIFACTS, prints the page's console
// errors to stderr and exits 1.
//
// Env:
//   BASE_URL            pgward's origin, e.g. http://127.0.0.1:8080 (required)
//   ADMIN_EMAIL         the administrator's email (required)
//   ADMIN_PASSWORD      their password (required)
//   OPERATOR_EMAIL      email of the operator the flow creates (required)
//   OPERATOR_PASSWORD   their password, at least 12 characters (required)
//   TASK_NAME           name of an existing task the operator runs (required)
//   OPERATOR_NAME       display name of the operator (default "Teams Operator")
//   E2E_ARTIFACTS       where failure artefacts go (default /tmp)
//   E2E_TIMEOUT_MS      bound on the whole run (default 120000)
//   E2E_RUN_TIMEOUT_MS  bound on the backup reaching a final status (default 90000)
//   E2E_SCREENSHOT      write a full-page screenshot of the end state there
//   PGWARD_CHROMIUM     browser binary (default /usr/bin/chromium)
//   PGWARD_CACHE        where scripts/deps.sh installed playwright-core (default ~/.cache/pgward)

import { env, runFlow } from './harness.mjs';

const baseUrl = env('BASE_URL').replace(/\/+$/, '');
const adminEmail = env('ADMIN_EMAIL');
const adminPassword = env('ADMIN_PASSWORD');
const operatorEmail = env('OPERATOR_EMAIL');
const operatorPassword = env('OPERATOR_PASSWORD');
const operatorName = env('OPERATOR_NAME', 'Teams Operator');
const taskName = env('TASK_NAME');
const totalMs = Number(env('E2E_TIMEOUT_MS', '120000'));
const runMs = Number(env('E2E_RUN_TIMEOUT_MS', '90000'));

if (operatorPassword.length < 12) {
  console.log(JSON.stringify({ ok: false, error: 'OPERATOR_PASSWORD must have at least 12 characters' }));
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

  // Logs in through the login page and waits until the top bar knows the user's role.
  async function login(email, password, role) {
    await page.goto(`${baseUrl}/login`);
    await byTestId('login-email').fill(email);
    await byTestId('login-password').fill(password);
    await byTestId('login-submit').click();
    await page.waitForURL((u) => u.pathname === '/dashboard').catch(async (e) => {
      if (await errorBanner.isVisible()) throw new Error(`login of ${email} failed: ${await errorBanner.innerText()}`);
      throw e;
    });
    // Links and buttons follow the role, known once `me` answered: wait for it before judging them.
    await byTestId('current-role').filter({ hasText: role }).waitFor();
    return (await byTestId('current-user').innerText()).trim();
  }

  await step('login as the administrator', async () => login(adminEmail, adminPassword, 'admin'));

  await step('open Users', async () => {
    await byTestId('nav-users').click();
    await page.waitForURL((u) => u.pathname === '/users');
    await reach(byTestId('users-page'), 'opening the users page');
    // The list has loaded once the administrator's own row is there.
    await reach(byTestId(`user-row-${adminEmail}`), 'listing the users');
  });

  await step('create an operator', async () => {
    await byTestId('user-create-email').fill(operatorEmail);
    await byTestId('user-create-name').fill(operatorName);
    await byTestId('user-create-role').selectOption('operator');
    await byTestId('user-create-password').fill(operatorPassword);
    await byTestId('user-create-submit').click();
    const row = byTestId(`user-row-${operatorEmail}`);
    await reach(row, 'creating the operator');
    const role = await byTestId(`user-role-${operatorEmail}`).inputValue();
    if (role !== 'operator') throw new Error(`the new user's row shows role ${role}`);
    const dataRole = await row.getAttribute('data-role');
    if (dataRole !== 'operator') throw new Error(`the new user was created as ${dataRole}`);
    return { email: operatorEmail, role };
  });

  await step('logout', async () => {
    await byTestId('logout').click();
    await page.waitForURL((u) => u.pathname === '/login');
  });

  await step('login as the operator', async () => {
    const shown = await login(operatorEmail, operatorPassword, 'operator');
    if (shown !== operatorName) throw new Error(`the top bar shows ${shown}, not ${operatorName}`);
    return shown;
  });

  await step('no admin links for an operator', async () => {
    await byTestId('nav-tasks').waitFor();
    for (const id of ['nav-users', 'nav-audit']) {
      const n = await byTestId(id).count();
      if (n !== 0) throw new Error(`an operator sees the ${id} link`);
    }
  });

  await step('/users tells an operator it needs the admin role', async () => {
    await page.goto(`${baseUrl}/users`);
    const forbidden = byTestId('forbidden');
    await reach(forbidden, 'opening /users as an operator');
    const text = (await forbidden.innerText()).trim();
    if (!/admin role/i.test(text)) throw new Error(`the forbidden message does not name the admin role: ${text}`);
    if ((await byTestId('users-page').count()) !== 0) throw new Error('an operator sees the users page');
    if ((await byTestId('user-create-submit').count()) !== 0) throw new Error('an operator sees the user form');
    return text.replace(/\s+/g, ' ');
  });

  const execRowsOfTask = () => byTestId('exec-row').filter({ has: byTestId('exec-task').getByText(taskName, { exact: true }) });

  // The task may have run before: its runs listed now are not the one this flow starts.
  let earlier = [];
  await step('earlier runs of the task', async () => {
    await byTestId('nav-executions').click();
    await page.waitForURL((u) => u.pathname === '/executions');
    await reach(byTestId('exec-table').or(byTestId('exec-empty')), 'loading executions');
    const rows = execRowsOfTask();
    earlier = (await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-id')))).filter(Boolean);
    return { earlier: earlier.length };
  });

  await step('open Tasks', async () => {
    await byTestId('nav-tasks').click();
    await page.waitForURL((u) => u.pathname === '/tasks');
    await reach(byTestId('task-table').or(byTestId('task-empty')), 'loading tasks');
  });

  const taskRow = byTestId('task-row').filter({ has: byTestId('task-name').getByText(taskName, { exact: true }) });

  await step('run the task', async () => {
    await reach(taskRow, `listing the task ${taskName}`);
    const run = taskRow.getByTestId('task-run');
    await run.waitFor();
    await run.click();
    await reach(byTestId('task-note'), 'queueing the run');
    return (await byTestId('task-note').innerText()).trim();
  });

  await step('open Executions', async () => {
    await byTestId('nav-executions').click();
    await page.waitForURL((u) => u.pathname === '/executions');
    await reach(byTestId('exec-table').or(byTestId('exec-empty')), 'loading executions');
  });

  await step('the run succeeds', async () => {
    // The page polls by itself while the run is queued or running: wait for a final status.
    const notEarlier = earlier.map((id) => `:not([data-id="${id}"])`).join('');
    const final = page.locator(
      ['success', 'failed', 'cancelled', 'deleted']
        .map((s) => `[data-testid="exec-row"][data-status="${s}"]${notEarlier}`)
        .join(', '),
    ).filter({ has: byTestId('exec-task').getByText(taskName, { exact: true }) }).first();
    await reach(final, 'waiting for the run', { timeout: runMs });
    const status = await final.getAttribute('data-status');
    if (status !== 'success') {
      const message = await final.getByTestId('exec-message').innerText().catch(() => '');
      throw new Error(`the run ended ${status}: ${message.trim()}`);
    }
    // An operator is offered what a viewer is not.
    if ((await final.getByTestId('exec-download').count()) === 0) {
      throw new Error('an operator is not offered the download of a successful backup');
    }
    const cells = (await final.locator('td').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    return { status, id: await final.getAttribute('data-id'), row: cells.slice(0, 7) };
  });

  await step("the dashboard's chart counts the run", async () => {
    await page.goto(`${baseUrl}/dashboard`);
    const chart = byTestId('chart-outcomes');
    // Today's bar (the last) holds at least this run; the chart reloads with the dashboard.
    const counted = chart.locator('.bar[data-total]:not([data-total="0"])').last();
    await reach(counted, 'waiting for a counted day', { timeout: 30000 });
    return { day: await counted.getAttribute('data-day'), total: await counted.getAttribute('data-total') };
  });

  await step("the task's charts show the run's size and duration", async () => {
    await page.goto(`${baseUrl}/tasks`);
    const row = byTestId('task-row').filter({ hasText: taskName }).first();
    await reach(row, 'the task row');
    await row.getByTestId('task-charts').click();
    const size = byTestId('chart-sizes').locator('.bar').first();
    await reach(size, 'a size bar');
    const point = byTestId('chart-durations').locator('.point').first();
    await reach(point, 'a duration point');
    return { sizes: await byTestId('chart-sizes').locator('.bar').count() };
  });
}

const code = await runFlow('teams', run, {
  totalMs,
  summary: () => ({ operator: operatorEmail, task: taskName }),
});
if (code === 0) console.log('teams flow ok');
process.exit(code);
