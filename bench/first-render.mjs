#!/usr/bin/env node
// Time from navigation to pgward's login form being visible, in a fresh headless Chromium profile each run
// (nothing cached). Usage: first-render.mjs <base-url> <runs> [<email> <password>]. Prints runs_ms=a,b,c
// and median_ms=m. With an account, each run then signs in and times the first visit of two pages, each a
// module of its own fetched on that visit (the dashboard after the sign-in click, then Tasks from the
// navigation): dashboard_ms=… and tasks_ms=… with their medians.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

const [base, runsArg, email, password] = process.argv.slice(2);
const runs = Number(runsArg || '5');
const cache = process.env.PGWARD_CACHE || path.join(homedir(), '.cache', 'pgward');
const { chromium } = createRequire(path.join(cache, 'node', 'package.json'))('playwright-core');

const times = [];
const dashboard = [];
const tasks = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgward-first-render-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.PGWARD_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const t0 = performance.now();
  await page.goto(`${base}/login`, { waitUntil: 'commit' });
  await page.getByTestId('login-email').or(page.getByTestId('setup-email')).first().waitFor({ timeout: 30000 });
  times.push(Math.round(performance.now() - t0));
  if (email) {
    await page.getByTestId('login-email').fill(email);
    await page.getByTestId('login-password').fill(password);
    const t1 = performance.now();
    await page.getByTestId('login-submit').click();
    await page.getByTestId('dashboard-health').waitFor({ timeout: 30000 });
    dashboard.push(Math.round(performance.now() - t1));
    const t2 = performance.now();
    await page.getByTestId('nav-tasks').click();
    await page.getByTestId('task-new').waitFor({ timeout: 30000 });
    tasks.push(Math.round(performance.now() - t2));
  }
  await context.close();
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`runs_ms=${times.join(',')}`);
console.log(`median_ms=${median(times)}`);
if (email) {
  console.log(`dashboard_ms=${dashboard.join(',')}`);
  console.log(`dashboard_median_ms=${median(dashboard)}`);
  console.log(`tasks_ms=${tasks.join(',')}`);
  console.log(`tasks_median_ms=${median(tasks)}`);
}
