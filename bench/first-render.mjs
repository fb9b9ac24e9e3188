#!/usr/bin/env node
// Time from navigation to pgward's login form being visible, in a fresh headless Chromium profile each run
// (nothing cached). Usage: first-render.mjs <base-url> <runs>. Prints runs_ms=a,b,c and median_ms=m.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

const [base, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || '5');
const cache = process.env.PGWARD_CACHE || path.join(homedir(), '.cache', 'pgward');
const { chromium } = createRequire(path.join(cache, 'node', 'package.json'))('playwright-core');

const times = [];
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
  await context.close();
  rmSync(dir, { recursive: true, force: true });
}
const sorted = [...times].sort((a, b) => a - b);
console.log(`runs_ms=${times.join(',')}`);
console.log(`median_ms=${sorted[Math.floor(sorted.length / 2)]}`);
