// Shared by the browser flows (e2e.mjs, backup.mjs): environment, playwright-core from the cache scripts/deps.sh
// fills, Debian's Chromium with the flags this closed network needs, a step log, a bound on the whole run,
// and failure artefacts (screenshot, HTML, console errors).

import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

/// An environment variable, or `fallback`; without a fallback a missing variable ends the run (exit 2).
export function env(name, fallback) {
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback === undefined) {
    console.log(JSON.stringify({ ok: false, error: `environment variable ${name} is required` }));
    process.exit(2);
  }
  return fallback;
}

function loadPlaywright(cache) {
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

/// Runs `flow(page, step)` in a fresh headless Chromium and returns the process exit code. `step(name, fn)`
/// times and logs one step. Prints one JSON line: `{"ok":true,...summary,"steps":[...]}` or the failure.
export async function runFlow(name, flow, { totalMs, acceptDownloads = false, summary = () => ({}) }) {
  const artifacts = env('E2E_ARTIFACTS', '/tmp');
  const chromiumPath = env('PGWARD_CHROMIUM', '/usr/bin/chromium');
  const cache = env('PGWARD_CACHE', path.join(homedir(), '.cache', 'pgward'));
  const { chromium } = loadPlaywright(cache);
  const steps = [];
  const consoleErrors = [];
  const pageErrors = [];
  const started = Date.now();
  const step = async (stepName, fn) => {
    const t0 = Date.now();
    const detail = await fn();
    steps.push({ step: stepName, ms: Date.now() - t0, ...(detail ? { detail } : {}) });
  };
  const userDataDir = mkdtempSync(path.join(tmpdir(), `pgward-${name}-chromium-`));
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
      acceptDownloads,
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
      timer = setTimeout(() => reject(new Error(`${name} run exceeded ${totalMs} ms`)), totalMs);
    });
    await Promise.race([flow(page, step), overall]);
    if (pageErrors.length) throw new Error(`uncaught error in the page: ${pageErrors[0]}`);
    // For a person to look at: what the operator saw at the end.
    if (process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });

    console.log(JSON.stringify({ ok: true, ms: Date.now() - started, ...summary(), steps }));
    return 0;
  } catch (err) {
    const failure = { ok: false, error: String(err?.message || err), ms: Date.now() - started, steps };
    try {
      mkdirSync(artifacts, { recursive: true });
      if (page) {
        failure.url = page.url();
        const shot = path.join(artifacts, `pgward-${name}-failure.png`);
        await page.screenshot({ path: shot, fullPage: true, timeout: 5000 });
        failure.screenshot = shot;
        const html = path.join(artifacts, `pgward-${name}-failure.html`);
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
