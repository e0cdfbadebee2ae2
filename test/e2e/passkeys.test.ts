// Passkeys in a real Chromium with a virtual authenticator (DevTools protocol, WebAuthn domain): add one as the
// second factor on the account's sign-in security page, sign in with password + passkey, sign in with the
// passkey alone, remove it. The pages' script runs under their CSP; any violation fails the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { compileSnapshot } from '../../src/http/snapshot.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';
import { watchProblems } from './page-problems.ts';
import { ALICE, type Stack, startStack } from './stack.ts';

const missing = chromiumMissing();
const skip = missing !== null && !process.env.CI ? missing : false;

describe('passkeys in Chromium', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

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

  const heading = (p: Page) => p.getByRole('heading', { level: 1 }).textContent();
  const lastSeen = () => stack.up.seen.at(-1)?.headers ?? {};
  const aliceFactors = async () => {
    const alice = await stack.gw.store.users.byUsername(ALICE.username);
    return stack.gw.store.secondFactors.listForUser(alice?.id ?? '');
  };

  async function signOut() {
    await page.goto(`${stack.base}/auth/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
  }

  async function password(returnTo = '/app/') {
    await page.goto(`${stack.base}/auth/login?return_to=${encodeURIComponent(returnTo)}`);
    await page.getByLabel('Username or email').fill(ALICE.username);
    await page.getByLabel('Password', { exact: true }).fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  before(async () => {
    if (missing) throw new Error(missing);
    [stack, browser] = await Promise.all([startStack(), launchChromium()]);
    // The relying party is public_url's host and origin: the browser's, once the port is known.
    const { config } = stack.gw.gateway.snapshots.current;
    stack.gw.gateway.snapshots.current = compileSnapshot({
      ...config,
      server: { ...config.server, public_url: stack.base },
    });
    context = await browser.newContext();
    context.setDefaultTimeout(5000);
    watchProblems(context, problems);
    page = await context.newPage();
    // A platform authenticator that keeps passkeys and verifies its user (a fingerprint, say), answering at once.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  step('add a passkey as the second factor on the sign-in security page', async () => {
    await password();
    await page.waitForURL(`${stack.base}/app/`);
    await page.goto(`${stack.base}/auth/account/security`);
    assert.equal(await heading(page), 'Sign-in security');
    await page.getByLabel('Name of the passkey or key').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey or security key' }).click();
    await page.waitForURL(/\/auth\/account\/security\/passkey$/);
    assert.equal(await heading(page), 'Your recovery codes', 'the first factor comes with recovery codes');
    await page.getByRole('link', { name: 'I saved them, continue' }).click();
    assert.match((await page.locator('main').textContent()) ?? '', /Laptop/);
    const factors = await aliceFactors();
    assert.equal(factors.length, 1);
    assert.equal(factors[0]?.kind, 'webauthn');
    assert.equal(factors[0]?.webauthn?.discoverable, true);
  });

  step('sign in with password and passkey', async () => {
    await signOut();
    await password('/app/two');
    await page.waitForURL(/\/auth\/mfa$/);
    assert.equal(await heading(page), 'Confirm it is you');
    await page.getByRole('button', { name: 'Use a passkey or security key' }).click();
    await page.waitForURL(`${stack.base}/app/two`);
    assert.equal(lastSeen()['x-hero-auth-method'], 'password+passkey');
    assert.deepEqual(decodeJwt(String(lastSeen()['x-hero-assertion'])).amr, ['pwd', 'hwk', 'mfa']);
  });

  step('sign in with the passkey alone: no username, no password', async () => {
    await signOut();
    await page.goto(`${stack.base}/auth/login?return_to=%2Fapp%2Fthree`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${stack.base}/app/three`);
    assert.equal(lastSeen()['x-hero-user'], ALICE.username);
    assert.equal(lastSeen()['x-hero-auth-method'], 'passkey');
    assert.deepEqual(decodeJwt(String(lastSeen()['x-hero-assertion'])).amr, ['hwk', 'user', 'mfa']);
  });

  step('remove it', async () => {
    await page.goto(`${stack.base}/auth/account/security`);
    await page.getByRole('button', { name: 'Remove Laptop' }).click();
    await page.waitForURL(/done=removed/);
    assert.equal((await aliceFactors()).length, 0);
    await signOut();
    await password('/app/four');
    await page.waitForURL(`${stack.base}/app/four`);
    assert.equal(lastSeen()['x-hero-auth-method'], 'password', 'no factor left: the password alone again');
  });

  step('no page broke: no CSP violation, no script error', async () => {
    assert.deepEqual(problems, []);
  });
});
