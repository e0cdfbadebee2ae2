// What a person sees in Chromium when the gateway refuses: a route their account may not open, and an app that
// is down. Branded pages that say what happened, who is signed in and what to do, with the page basics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { watchProblems } from './page-problems.ts';

const BOB = { username: 'bob', password: 'correct horse battery staple' };
const missing = chromiumMissing();
// Skipped on a machine without Chromium; in CI a missing browser must fail, not pass quietly.
const skip = missing !== null && !process.env.CI ? missing : false;

describe('failure pages in Chromium', { skip }, () => {
  let up: Upstream;
  let gw: TestGateway;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const main = async () => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ');

  /** The basics every gateway page keeps: language, title, one heading, a main landmark, an announced alert. */
  async function assertPageBasics(heading: string): Promise<void> {
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await page.title(), `${heading} · Hero Gateway`);
    const h1 = page.getByRole('heading', { level: 1 });
    assert.equal(await h1.count(), 1);
    assert.equal(await h1.textContent(), heading);
    assert.equal(await page.getByRole('main', { name: heading }).count(), 1);
    assert.equal(await page.getByRole('alert').count(), 1);
    // Every link says where it goes.
    for (const name of await page.getByRole('link').allTextContents()) assert.ok(name.trim(), 'a named link');
    // The stylesheet got past the CSP and applies (main is 26rem wide at most).
    const maxWidth = await page.evaluate<string>("getComputedStyle(document.querySelector('main')).maxWidth");
    assert.equal(maxWidth, '416px');
  }

  before(async () => {
    if (missing) throw new Error(missing);
    up = await startUpstream();
    const dead = await startUpstream();
    const deadUrl = dead.url;
    await dead.close();
    [gw, browser] = await Promise.all([
      startGateway(`
[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = "local"

[[route]]
name = "payroll"
path = "/payroll"
upstream = "${up.url}"
auth = "local"
require_claims = ["payroll.read"]

[[route]]
name = "reports"
path = "/reports"
upstream = "${deadUrl}"
auth = "local"
`),
      launchChromium(),
    ]);
    // localhost, not 127.0.0.1: the Secure session cookie is kept over plain http only there.
    base = `http://localhost:${gw.port}`;
    await createUser(gw.store, {
      username: BOB.username,
      email: 'bob@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(BOB.password),
    });
    context = await browser.newContext();
    context.setDefaultTimeout(5000);
    watchProblems(context, problems);
    page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('Username or email').fill(BOB.username);
    await page.getByLabel('Password', { exact: true }).fill(BOB.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await up?.close();
  });

  test('a route the account may not open: who is signed in, and how to switch', async () => {
    const res = await page.goto(`${base}/payroll/2026`);
    assert.equal(res?.status(), 403);
    await assertPageBasics('No access');
    assert.equal(
      (await page.getByRole('alert').textContent())?.trim(),
      'Your account does not have the permission this page requires.',
    );
    const text = await main();
    assert.match(text, /You are signed in as bob\./);
    assert.match(text, /Ask an administrator for access/);
    assert.match(text, /Code: forbidden/);
    // Switching accounts goes through the sign-out page, which then offers to sign in again.
    await page.getByRole('link', { name: 'Sign in as someone else' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign out' }).waitFor();
    assert.match(await main(), /You are signed in as bob\./);
    assert.equal(up.seen.filter((s) => s.url.startsWith('/payroll')).length, 0, 'nothing forwarded');
  });

  test('an app that is down: try again links to the same address', async () => {
    const res = await page.goto(`${base}/reports/q1?year=2026`);
    assert.equal(res?.status(), 502);
    await assertPageBasics('App not reachable');
    assert.match(await main(), /The app behind this address cannot be reached right now\./);
    assert.match(await main(), /Code: upstream_unavailable/);
    const again = page.getByRole('link', { name: 'Try again' });
    assert.equal(await again.getAttribute('href'), '/reports/q1?year=2026');
    const retried = page.waitForResponse((r) => r.url() === `${base}/reports/q1?year=2026`);
    await again.click();
    assert.equal((await retried).status(), 502);
    await page.getByRole('link', { name: 'Go to the start page' }).click();
    await page.waitForURL(`${base}/`);
  });

  test('no console errors, CSP violations or failed loads on these pages', () => {
    assert.deepEqual(problems, []);
  });
});
