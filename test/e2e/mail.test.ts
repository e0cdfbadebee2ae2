// The journeys through the inbox in a real Chromium: register and confirm by mail, then sign in by a mailed
// link and land on the app page first asked for, against a real gateway, upstream and SMTP server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { linkIn, type Mail, type Smtp, startSmtp } from '../helpers/smtp.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { watchProblems } from './page-problems.ts';
import { type Stack, startStack } from './stack.ts';

const NINA = { username: 'nina', email: 'nina@example.com', password: 'a long enough passphrase' };
const APP_PAGE = '/app/page?x=1';

const missing = chromiumMissing();
// Skipped on a machine without Chromium; in CI a missing browser must fail, not pass quietly.
const skip = missing !== null && !process.env.CI ? missing : false;

describe('mail journeys in Chromium', { skip }, () => {
  let smtp: Smtp;
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  // The steps build on each other: after one fails, the rest say so instead of timing out one by one.
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

  const heading = (name: string) => page.getByRole('heading', { level: 1, name, exact: true });
  const text = async () => (await page.locator('main').textContent()) ?? '';
  const status = async () => (await context.request.get(`${stack.base}/auth/status`)).json();
  const toNina = (subject: RegExp) => (m: Mail) => m.to.includes(NINA.email) && subject.test(m.subject);
  const seenAt = (path: string) => stack.up.seen.filter((s) => s.url === path);

  before(async () => {
    if (missing) throw new Error(missing);
    smtp = await startSmtp();
    [stack, browser] = await Promise.all([startStack({ smtpUrl: smtp.url }), launchChromium()]);
    context = await browser.newContext();
    // Fail within seconds, well inside the test runner's own limits, when something never appears.
    context.setDefaultTimeout(5000);
    watchProblems(context, problems);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
    await smtp?.close();
  });

  step('"Create an account" on the sign-in page registers, and the page says to check the mail', async () => {
    await page.goto(`${stack.base}/auth/login`);
    await heading('Sign in').waitFor();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(`${stack.base}/auth/register`);
    await heading('Create an account').waitFor();
    assert.equal(await page.title(), 'Create an account · Hero Gateway');

    await page.getByLabel('Username', { exact: true }).fill(NINA.username);
    await page.getByLabel('Email', { exact: true }).fill(NINA.email);
    await page.getByLabel('Password', { exact: true }).fill(NINA.password);
    await page.getByLabel('Repeat the password').fill(NINA.password);
    await page.getByRole('button', { name: 'Create account' }).click();

    await heading('Check your email').waitFor();
    assert.equal(new URL(page.url()).pathname, '/auth/register');
    assert.match(
      (await page.getByRole('status').textContent()) ?? '',
      /we mailed you a link to confirm your address/,
    );
    assert.deepEqual(await status(), { authenticated: false }, 'not signed in before confirming');
  });

  step('the mailed link confirms the address and signs in', async () => {
    const mail = await smtp.waitForMail(toNina(/^Confirm your email address/));
    const link = linkIn(mail, '/auth/verify');
    // No rewriting: startStack sets public_url to this gateway's origin once its port is known.
    assert.equal(link.origin, stack.base, 'the link is built from public_url, which is this gateway');

    await page.goto(link.href);
    await heading('Confirm your email address').waitFor();
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await page.waitForURL(`${stack.base}/auth/account`);
    await heading('Your account').waitFor();
    assert.match(await text(), /Signed in as nina \(nina@example\.com\)/);

    const me = await status();
    assert.equal(me.authenticated, true);
    assert.equal(me.user.username, NINA.username);
    assert.equal(me.user.email_verified, true);
    assert.equal(me.auth_method, 'magic_link');

    // The link worked once.
    await page.goto(link.href);
    await heading('Link not valid').waitFor();
  });

  step('signed out, a mailed sign-in link signs in and returns to the app page first asked for', async () => {
    await page.goto(`${stack.base}/auth/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Signed out').waitFor();
    assert.deepEqual(await status(), { authenticated: false });

    await page.goto(`${stack.base}${APP_PAGE}`);
    assert.equal(new URL(page.url()).pathname, '/auth/login');
    assert.equal(new URL(page.url()).searchParams.get('return_to'), APP_PAGE);
    await page.getByRole('link', { name: 'Mail me a sign-in link' }).click();
    await heading('Sign in by email').waitFor();
    assert.equal(new URL(page.url()).pathname, '/auth/magic-link');
    assert.equal(new URL(page.url()).searchParams.get('return_to'), APP_PAGE);
    await page.getByLabel('Email', { exact: true }).fill(NINA.email);
    await page.getByRole('button', { name: 'Mail me a sign-in link' }).click();
    await heading('Check your email').waitFor();
    assert.match((await page.getByRole('status').textContent()) ?? '', /a mail with a link is on its way/);

    const link = linkIn(await smtp.waitForMail(toNina(/sign-in link/)), '/auth/magic');
    assert.equal(link.origin, stack.base);
    await page.goto(link.href);
    await heading('Sign in with your email link').waitFor();
    assert.match(await text(), /Sign in as nina@example\.com\?/);
    assert.equal(seenAt(APP_PAGE).length, 0, 'the app was not reached while signed out');

    const target = `${stack.base}${APP_PAGE}`;
    const [landed] = await Promise.all([
      page.waitForResponse(target),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForURL(target);
    // What the browser shows is the upstream's echo of the request it got.
    assert.deepEqual(await landed.json(), { url: APP_PAGE, bytes: 0 });
    const [seen] = seenAt(APP_PAGE);
    assert.ok(seen, 'the upstream got the request');
    assert.equal(seen.headers['x-hero-user'], NINA.username);
    assert.equal(seen.headers['x-hero-email'], NINA.email);
    assert.equal(seen.headers['x-hero-auth-method'], 'magic_link');
    assert.doesNotMatch(seen.headers.cookie ?? '', /hero_/);
  });

  test('no console errors, CSP violations or failed loads on any page', () => {
    assert.deepEqual(problems, []);
  });
});
