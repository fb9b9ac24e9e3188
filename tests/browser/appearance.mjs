#!/usr/bin/env node
// Browser check of the SPA's appearance: the colour theme and the phone layout.
//
// Against a pgward whose first administrator exists. On a phone (390×844) whose system prefers dark: log in;
// the dashboard is dark without any choice made; the page never scrolls sideways; the links are folded
// behind the menu button, which opens them and closes again once Databases is chosen; no page among
// /databases, /tasks, /executions, /webhooks and /profile scrolls sideways; choosing light in the top
// bar's theme control turns the page light and a reload keeps it light. Then, with the browser's state
// cleared, on a desktop (1280×800) whose system prefers light: log in; the links stand in the bar, there
// is no menu button, and the page is light. Prints one JSON line ({"ok":true,"steps":[...]}) and then
// "appearance flow ok", and exits 0; on failure prints {"ok":false,...}, writes a screenshot and the
// page's HTML to $E2E_ARTIFACTS, prints the page's console errors to stderr and exits 1.
//
// The harness drives one persistent browser profile: the phone and the desktop are the same page with
// its viewport and emulated colour scheme switched, cookies and storage cleared in between.
//
// Env:
//   BASE_URL         pgward's origin, e.g. http://127.0.0.1:8080 (required)
//   ADMIN_EMAIL      the administrator's email (required)
//   ADMIN_PASSWORD   their password (required)
//   E2E_ARTIFACTS    where failure artefacts and the screenshots appearance-phone-dark.png and
//                    appearance-desktop-light.png go (default /tmp)
//   E2E_TIMEOUT_MS   bound on the whole run (default 90000)
//   PGWARD_CHROMIUM  browser binary (default /usr/bin/chromium)
//   PGWARD_CACHE     where scripts/deps.sh installed playwright-core (default ~/.cache/pgward)

import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { env, runFlow } from './harness.mjs';

const baseUrl = env('BASE_URL').replace(/\/+$/, '');
const adminEmail = env('ADMIN_EMAIL');
const adminPassword = env('ADMIN_PASSWORD');
const artifacts = env('E2E_ARTIFACTS', '/tmp');
const totalMs = Number(env('E2E_TIMEOUT_MS', '90000'));

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const THEME_KEY = 'pgward.theme';

const screenshots = [];
const seen = {};

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
    mkdirSync(artifacts, { recursive: true });
    const file = path.join(artifacts, name);
    await page.screenshot({ path: file, fullPage: true });
    screenshots.push(file);
  }

  // The body's background as the browser paints it, its relative luminance (WCAG), the theme attribute
  // on <html> and what is stored.
  async function appearance() {
    const got = await page.evaluate((key) => ({
      background: getComputedStyle(document.body).backgroundColor,
      dataTheme: document.documentElement.getAttribute('data-theme'),
      stored: localStorage.getItem(key),
    }), THEME_KEY);
    const rgb = got.background.match(/[\d.]+/g)?.slice(0, 3).map(Number);
    if (!rgb || rgb.length < 3) throw new Error(`unreadable body background: ${got.background}`);
    const [r, g, b] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return { ...got, luminance: Number((0.2126 * r + 0.7152 * g + 0.0722 * b).toFixed(3)) };
  }

  async function expectDark(what) {
    const a = await appearance();
    if (!(a.luminance < 0.2)) throw new Error(`${what}: the page is not dark: ${JSON.stringify(a)}`);
    return a;
  }

  async function expectLight(what) {
    const a = await appearance();
    if (!(a.luminance > 0.8)) throw new Error(`${what}: the page is not light: ${JSON.stringify(a)}`);
    return a;
  }

  // The document is no wider than the window: nothing makes the page scroll sideways.
  async function expectNoSidewaysScroll(what) {
    const m = await page.evaluate(() => {
      const innerWidth = window.innerWidth;
      const scrollWidth = document.documentElement.scrollWidth;
      // For the message: the elements reaching past the right edge, outside boxes that scroll themselves.
      const culprits = [];
      if (scrollWidth > innerWidth) {
        for (const el of document.body.querySelectorAll('*')) {
          if (el.getBoundingClientRect().right <= innerWidth + 0.5) continue;
          let inScroller = false;
          for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            if (/(auto|scroll|hidden)/.test(getComputedStyle(p).overflowX)) {
              inScroller = true;
              break;
            }
          }
          if (!inScroller) {
            const id = el.getAttribute('data-testid');
            culprits.push(`${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ''}${id ? `[${id}]` : ''}`);
          }
          if (culprits.length >= 5) break;
        }
      }
      return { innerWidth, scrollWidth, culprits };
    });
    if (m.scrollWidth > m.innerWidth) {
      throw new Error(`${what}: the page scrolls sideways (${m.scrollWidth} > ${m.innerWidth}): ${m.culprits.join(', ')}`);
    }
    return m.scrollWidth;
  }

  // Waits until the main column shows no "Loading…" line any more.
  async function settled() {
    await page.waitForFunction(() => {
      const main = document.querySelector('main');
      return main && !main.innerText.includes('Loading…');
    });
  }

  // Logs in through the login page and waits for the dashboard and the user's role.
  async function login() {
    await page.goto(`${baseUrl}/login`);
    await byTestId('login-email').fill(adminEmail);
    await byTestId('login-password').fill(adminPassword);
    await byTestId('login-submit').click();
    await page.waitForURL((u) => u.pathname === '/dashboard').catch(async (e) => {
      if (await errorBanner.isVisible()) throw new Error(`login failed: ${await errorBanner.innerText()}`);
      throw e;
    });
    await reach(byTestId('dashboard-health'), 'loading the dashboard');
    // The role is known once `me` answered (on a phone the badge sits in the folded menu: attached only).
    await byTestId('current-role').waitFor({ state: 'attached' });
    await settled();
  }

  const toggle = byTestId('nav-toggle');
  const themeToggle = byTestId('theme-toggle');

  async function menuExpanded() {
    return (await toggle.getAttribute('aria-expanded')) === 'true';
  }

  // Opens the folded menu and chooses the link `testid`, which must land on `pathname` and close it.
  async function viaMenu(testid, pathname) {
    if (await byTestId(testid).isVisible()) throw new Error(`${testid} shows while the menu is closed`);
    await toggle.click();
    if (!(await menuExpanded())) throw new Error('the menu button does not say the menu is open');
    await byTestId(testid).click();
    await page.waitForURL((u) => u.pathname === pathname);
    await byTestId(testid).waitFor({ state: 'hidden' });
    if (await menuExpanded()) throw new Error(`the menu stayed open after choosing ${testid}`);
  }

  // ---- a phone whose system prefers dark ------------------------------------------------------------
  await page.setViewportSize(PHONE);
  await page.emulateMedia({ colorScheme: 'dark' });

  await step('phone, dark system: login', login);

  await step('the dashboard follows the system: dark', async () => {
    const a = await expectDark('the dashboard on a dark system');
    if (a.dataTheme !== null || a.stored !== null) {
      throw new Error(`a theme is set without a choice: ${JSON.stringify(a)}`);
    }
    const choice = await themeToggle.inputValue();
    if (choice !== 'system') throw new Error(`the theme control shows ${choice}, not system`);
    if (!(await themeToggle.isVisible())) throw new Error('the theme control is not in the top bar on a phone');
    seen.phoneDark = a;
    await shot('appearance-phone-dark.png');
    return a;
  });

  await step('the phone dashboard does not scroll sideways', () => expectNoSidewaysScroll('/dashboard'));

  await step('the links are folded behind the menu button', async () => {
    for (const id of ['nav-dashboard', 'nav-databases', 'logout']) {
      if (await byTestId(id).isVisible()) throw new Error(`${id} shows in the phone's top bar`);
    }
    if (!(await toggle.isVisible())) throw new Error('no menu button on a phone');
    if (await menuExpanded()) throw new Error('the menu starts open');
    const controls = await toggle.getAttribute('aria-controls');
    if (!controls || (await page.locator(`[id="${controls}"]`).count()) !== 1) {
      throw new Error(`the menu button controls no element (aria-controls=${controls})`);
    }
    const label = (await toggle.getAttribute('aria-label')) || (await toggle.innerText()).trim();
    if (!label) throw new Error('the menu button has no accessible name');
    return { controls, label };
  });

  await step('the menu opens and closes on choosing Databases', async () => {
    await viaMenu('nav-databases', '/databases');
    await reach(byTestId('db-table').or(byTestId('db-empty')), 'listing the databases');
    await settled();
    return expectNoSidewaysScroll('/databases');
  });

  const pages = [
    ['nav-tasks', '/tasks', byTestId('task-table').or(byTestId('task-empty'))],
    ['nav-executions', '/executions', byTestId('exec-table').or(byTestId('exec-empty'))],
    ['nav-webhooks', '/webhooks', page.locator('main .card').first()],
    ['nav-profile', '/profile', byTestId('session-row').first()],
  ];
  for (const [testid, pathname, ready] of pages) {
    await step(`${pathname} does not scroll sideways`, async () => {
      await viaMenu(testid, pathname);
      await reach(ready, `loading ${pathname}`);
      await settled();
      return expectNoSidewaysScroll(pathname);
    });
  }

  await step('choosing light turns the page light', async () => {
    await themeToggle.selectOption('light');
    await page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'light');
    const a = await expectLight('after choosing light');
    if (a.stored !== 'light') throw new Error(`the choice is not remembered: ${JSON.stringify(a)}`);
    return a;
  });

  await step('a reload keeps it light', async () => {
    await page.reload();
    await themeToggle.waitFor();
    const a = await expectLight('after a reload');
    if (a.dataTheme !== 'light') throw new Error(`data-theme is ${a.dataTheme} after a reload`);
    const choice = await themeToggle.inputValue();
    if (choice !== 'light') throw new Error(`the theme control shows ${choice} after a reload, not light`);
    seen.phoneLightAfterReload = a;
    return a;
  });

  // ---- a desktop whose system prefers light, with the browser's state cleared ------------------------
  await step('desktop, light system: login with a fresh browser state', async () => {
    await page.evaluate(() => {
      localStorage.clear();
      sessionStorage.clear();
    });
    await page.context().clearCookies();
    await page.setViewportSize(DESKTOP);
    await page.emulateMedia({ colorScheme: 'light' });
    await login();
  });

  await step('the links stand in the bar, with no menu button', async () => {
    for (const id of ['nav-dashboard', 'nav-databases', 'nav-executions', 'current-user', 'current-role', 'logout', 'theme-toggle']) {
      if (!(await byTestId(id).isVisible())) throw new Error(`${id} is not visible on a desktop`);
    }
    if (await toggle.isVisible()) throw new Error('the menu button shows on a desktop');
    return expectNoSidewaysScroll('/dashboard on a desktop');
  });

  await step('the desktop follows the system: light', async () => {
    const a = await expectLight('the dashboard on a light system');
    if (a.dataTheme !== null || a.stored !== null) {
      throw new Error(`a theme is set without a choice: ${JSON.stringify(a)}`);
    }
    seen.desktopLight = a;
    await shot('appearance-desktop-light.png');
    return a;
  });
}

const code = await runFlow('appearance', run, {
  totalMs,
  summary: () => ({ appearance: seen, screenshots }),
});
if (code === 0) console.log('appearance flow ok');
process.exit(code);
