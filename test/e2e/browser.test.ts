// The sign-in journey in a real Chromium: redirects, forms, cookies, and what the app behind the gateway sees.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { watchProblems } from './page-problems.ts';
import { ALICE, type Stack, startStack } from './stack.ts';

const SESSION = '__Host-hero_session';
const missing = chromiumMissing();
// Skipped on a machine without Chromium; in CI a missing browser must fail, not pass quietly.
const skip = missing !== null && !process.env.CI ? missing : false;

describe('sign-in journey in Chromium', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  // The journey's steps build on each other: after one fails, the rest say so instead of timing out one by one.
  let broken: string | null = null;
  function step(name: string, fn: () => Promise<void>): void {
    test(name, async (t) => {
      if (broken !== null) return t.skip(`needs the failed step "${broken}"`);
      try {
        await fn();
      } catch (err) {
        broken = name;
        throw err;
      }
    });
  }

  async function newContext(options: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
    const c = await browser.newContext(options);
    // Fail within seconds, well inside the test runner's own limits, when something never appears.
    c.setDefaultTimeout(5000);
    watchProblems(c, problems);
    return c;
  }

  const heading = (p: Page) => p.getByRole('heading', { level: 1 }).textContent();
  const text = async (p: Page) => (await p.locator('main').textContent()) ?? '';
  const sessionCookie = async (c: BrowserContext) =>
    (await c.cookies(stack.base)).find((k) => k.name === SESSION);
  const seenAt = (path: string) => stack.up.seen.filter((s) => s.url === path);
  const passwordField = (p: Page) => p.getByLabel('Password', { exact: true });

  async function signIn(p: Page, password: string, submit: 'click' | 'enter' = 'click') {
    await p.getByLabel('Username or email').fill(ALICE.username);
    await passwordField(p).fill(password);
    if (submit === 'enter') await passwordField(p).press('Enter');
    else await p.getByRole('button', { name: 'Sign in' }).click();
  }

  before(async () => {
    if (missing) throw new Error(missing);
    [stack, browser] = await Promise.all([startStack(), launchChromium()]);
    context = await newContext();
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  step('an app page sends a signed-out browser to the sign-in page', async () => {
    const res = await page.goto(`${stack.base}/some/page?x=1`);
    assert.equal(res?.status(), 200);
    const url = new URL(page.url());
    assert.equal(url.origin, stack.base);
    assert.equal(url.pathname, '/auth/login');
    assert.equal(url.searchParams.get('return_to'), '/some/page?x=1');
    assert.equal(await heading(page), 'Sign in');
    assert.equal(await page.title(), 'Sign in · Hero Gateway');
    // The stylesheet got past the page's CSP and applies (main is 26rem wide at most).
    // (A string: the type-check runs without the DOM library.)
    const maxWidth = await page.evaluate<string>("getComputedStyle(document.querySelector('main')).maxWidth");
    assert.equal(maxWidth, '416px');
    assert.equal(stack.up.seen.length, 0);
  });

  step('a wrong password shows the error and stays on the page, without a session', async () => {
    const posted = page.waitForRequest((r) => r.method() === 'POST');
    await signIn(page, 'wrong horse battery staple');
    // Under the pages' `Referrer-Policy: no-referrer` a real browser posts our own form with `Origin: null`;
    // the CSRF check then relies on Fetch Metadata, which the browser sets and no page can forge.
    const request = await posted;
    assert.ok(['null', stack.base].includes(String(await request.headerValue('origin'))));
    assert.equal(await request.headerValue('sec-fetch-site'), 'same-origin');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.textContent())?.trim(), 'The username or password is wrong.');
    assert.equal(new URL(page.url()).pathname, '/auth/login');
    assert.equal(await heading(page), 'Sign in');
    assert.equal(await passwordField(page).getAttribute('aria-invalid'), 'true');
    assert.match((await passwordField(page).getAttribute('aria-describedby')) ?? '', /\bpage-alert\b/);
    // Where to go after signing in survives the failed attempt.
    assert.equal(await page.locator('input[name=return_to]').inputValue(), '/some/page?x=1');
    assert.equal(await sessionCookie(context), undefined);
    assert.equal(stack.up.seen.length, 0);
  });

  step('the right password lands on the page first asked for, as alice, with no gateway cookie', async () => {
    const target = `${stack.base}/some/page?x=1`;
    const landed = page.waitForResponse(target);
    await signIn(page, ALICE.password);
    await page.waitForURL(target);
    // What the browser shows is the upstream's echo of the request it got.
    assert.deepEqual(await (await landed).json(), { url: '/some/page?x=1', bytes: 0 });
    const [seen] = seenAt('/some/page?x=1');
    assert.ok(seen, 'the upstream got the request');
    assert.equal(seen.headers['x-hero-user'], ALICE.username);
    assert.equal(seen.headers['x-hero-email'], ALICE.email);
    assert.doesNotMatch(seen.headers.cookie ?? '', /hero_session/);
    // The CSRF and device cookies are the gateway's too; an app must never see any of them.
    assert.doesNotMatch(seen.headers.cookie ?? '', /hero_/);
  });

  step('the session cookie is host-only, HttpOnly, Secure and SameSite=Lax', async () => {
    const cookie = await sessionCookie(context);
    assert.ok(cookie, 'a session cookie is set');
    assert.equal(cookie.name, SESSION);
    assert.equal(cookie.domain, 'localhost');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.ok(cookie.expires > Date.now() / 1000, 'a persistent cookie that has not expired');
  });

  step('the account page shows the user and this session', async () => {
    await page.goto(`${stack.base}/auth/account`);
    assert.equal(await heading(page), 'Your account');
    assert.match(await text(page), /Signed in as alice \(alice@example\.com\)/);
    const rows = page.getByRole('table', { name: 'Sessions' }).locator('tbody tr');
    assert.equal(await rows.count(), 1);
    const row = (await rows.first().textContent()) ?? '';
    assert.match(row, /\(this one\)/);
    assert.match(row, /127\.0\.0\.1/);
    assert.match(row, /by password/);
  });

  step('signing out ends the session, and the app asks for a sign-in again', async () => {
    const held = await sessionCookie(context);
    assert.ok(held);
    await page.goto(`${stack.base}/auth/logout`);
    assert.equal(await heading(page), 'Sign out');
    assert.match(await text(page), /You are signed in as alice\./);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Signed out' }).waitFor();
    assert.equal((await page.getByRole('status').textContent())?.trim(), 'You are signed out.');
    assert.equal(await sessionCookie(context), undefined);

    const asked = stack.up.seen.length;
    await page.goto(`${stack.base}/some/page`);
    assert.equal(new URL(page.url()).pathname, '/auth/login');
    assert.equal(new URL(page.url()).searchParams.get('return_to'), '/some/page');
    // The old token is dead on the server too, not merely forgotten by this browser.
    await context.addCookies([held]);
    await page.goto(`${stack.base}/some/page`);
    assert.equal(new URL(page.url()).pathname, '/auth/login');
    assert.equal(stack.up.seen.length, asked);
  });

  test('with JavaScript off the same forms sign in and out (plain HTML, Enter submits)', async () => {
    const noJs = await newContext({ javaScriptEnabled: false });
    try {
      const p = await noJs.newPage();
      await p.goto(`${stack.base}/other?y=2`);
      assert.equal(new URL(p.url()).pathname, '/auth/login');
      await signIn(p, 'not the password either', 'enter');
      await p.getByRole('alert').waitFor();
      assert.equal((await p.getByRole('alert').textContent())?.trim(), 'The username or password is wrong.');
      await signIn(p, ALICE.password, 'enter');
      await p.waitForURL(`${stack.base}/other?y=2`);
      assert.equal(seenAt('/other?y=2')[0]?.headers['x-hero-user'], ALICE.username);
      await p.goto(`${stack.base}/auth/logout`);
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.getByRole('heading', { level: 1, name: 'Signed out' }).waitFor();
      assert.equal(await sessionCookie(noJs), undefined);
    } finally {
      await noJs.close();
    }
  });

  test('no console errors, CSP violations or failed loads on any page', () => {
    assert.deepEqual(problems, []);
  });
});
