// Sign-in through an identity provider in a real Chromium: the provider's button on the sign-in page, the
// provider's own page, back to the app; an app that only a provider opens; sign-out at both ends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, providerToml, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { watchProblems } from './page-problems.ts';

const missing = chromiumMissing();
const skip = missing !== null && !process.env.CI ? missing : false;

describe('identity-provider sign-in in Chromium', { skip }, () => {
  let idp: TestIdp;
  let up: Upstream;
  let gw: TestGateway;
  let base: string;
  let browser: Browser;
  const problems: string[] = [];

  before(async () => {
    if (missing) throw new Error(missing);
    [idp, up, browser] = await Promise.all([startIdp(), startUpstream(), launchChromium()]);
    gw = await startGateway(`
${providerToml('idp', 'Test IdP', idp.issuer)}scopes = ["openid", "email", "profile", "groups"]
groups_claim = "groups"
auto_provision = true

[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = ["local", "oauth"]

[[route]]
name = "idp-only"
path = "/only"
upstream = "${up.url}"
auth = "oauth"
`);
    // localhost, not 127.0.0.1: the gateway's cookies are __Host- and Secure, which browsers accept over
    // plain http only there.
    base = `http://localhost:${gw.port}`;
    await idp.configure([gatewayClient(base, 'idp')]);
    idp.accounts.set('lin-sub', {
      email: 'lin@example.com',
      email_verified: true,
      preferred_username: 'lin',
      groups: ['staff'],
    });
    await gw.store.authz.setRole('staff', ['app.use']);
    await gw.store.authz.grant('staff', { group: 'staff' }, '');
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await Promise.all([up?.close(), idp?.close()]);
  });

  async function newContext(options: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
    const c = await browser.newContext(options);
    c.setDefaultTimeout(5000);
    // The provider's development pages @import a web font; nothing may leave this machine.
    await c.route(/^https?:\/\/(?!localhost[:/]|127\.0\.0\.1[:/])/, (route) => route.abort());
    // Only the gateway's pages are ours to judge; the provider's development pages are not.
    const all: string[] = [];
    watchProblems(c, all);
    c.on('close', () => problems.push(...all.filter((p) => p.includes(base))));
    return c;
  }

  /** The provider's own development sign-in page: any password for a known account. */
  async function signInAtProvider(p: Page): Promise<void> {
    await p.waitForURL((u) => u.origin === idp.issuer, { waitUntil: 'domcontentloaded' });
    await p.locator('input[name=login]').fill('lin-sub');
    await p.locator('input[name=password]').fill('anything');
    await p.getByRole('button', { name: 'Sign-in' }).click();
  }

  const heading = (p: Page) => p.getByRole('heading', { level: 1 }).textContent();

  for (const javaScriptEnabled of [true, false]) {
    test(`click the provider's button, sign in there, land on the app; sign out at both ends (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
      const context = await newContext({ javaScriptEnabled });
      try {
        const page = await context.newPage();
        await page.goto(`${base}/app/page?x=1`);
        assert.equal(new URL(page.url()).pathname, '/auth/login');
        const button = page.getByRole('link', { name: 'Sign in with Test IdP' });
        await button.click();
        await signInAtProvider(page);
        const target = `${base}/app/page?x=1`;
        await page.waitForURL(target);
        assert.deepEqual(JSON.parse((await page.locator('body').textContent()) ?? ''), {
          url: '/app/page?x=1',
          bytes: 0,
        });
        const seen = up.seen.filter((s) => s.url === '/app/page?x=1').at(-1);
        assert.equal(seen?.headers['x-hero-user'], 'lin');
        assert.equal(seen?.headers['x-hero-auth-method'], 'oidc:idp');
        assert.equal(seen?.headers['x-hero-claims'], 'app.use');
        assert.doesNotMatch(seen?.headers.cookie ?? '', /hero_/);
        const cookies = await context.cookies(base);
        assert.ok(
          cookies.some((c) => c.name === '__Host-hero_session' && c.httpOnly && c.sameSite === 'Lax'),
        );
        assert.ok(!cookies.some((c) => c.name.startsWith('__Host-hero_oidc_')), 'the attempt cookie is gone');

        // Signing out here sends the browser to the provider, which ends its session and sends it back.
        await page.goto(`${base}/auth/logout`);
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.waitForURL((u) => u.origin === idp.issuer);
        await page.getByRole('button', { name: /sign me out/i }).click();
        await page.waitForURL(`${base}/auth/login?done=logout`);
        assert.match(
          (await page.getByRole('status').textContent()) ?? '',
          /You are signed out, here and at your identity provider\./,
        );
        // The provider asks again: its session ended too.
        // (Not waiting for "load": the provider's development page asks the internet for fonts.)
        await page.goto(`${base}/only/x`, { waitUntil: 'commit' });
        await signInAtProvider(page);
        await page.waitForURL(`${base}/only/x`);
      } finally {
        await context.close();
      }
    });
  }

  test('an app only the provider opens goes straight there, no sign-in page in between', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      // A refusal is a page a person can read, with a way back.
      await page.goto(`${base}/auth/oauth/idp/callback?state=${'A'.repeat(43)}&code=x`);
      assert.equal(await heading(page), 'Sign-in not completed');
      assert.match((await page.getByRole('alert').textContent()) ?? '', /This sign-in cannot be completed/);
      await page.getByRole('link', { name: 'Back to sign-in' }).click();
      assert.equal(new URL(page.url()).pathname, '/auth/login');

      const visited: string[] = [];
      page.on('framenavigated', (f) => visited.push(new URL(f.url()).pathname));
      await page.goto(`${base}/only/page`, { waitUntil: 'commit' });
      await signInAtProvider(page);
      await page.waitForURL(`${base}/only/page`);
      assert.ok(!visited.includes('/auth/login'), visited.join(' '));
    } finally {
      await context.close();
    }
  });

  test('no console errors, CSP violations or failed loads on the gateway’s pages', () => {
    assert.deepEqual(problems, []);
  });
});
