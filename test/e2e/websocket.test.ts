// WebSockets in a real Chromium: an app on an open route cannot use its 101 answer to swap the session of a
// signed-in user (browsers store the cookies of a 101 like those of any answer).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startWsUpstream, type WsUpstream } from '../helpers/ws-upstream.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';

const SESSION = '__Host-hero_session';
const PASSWORD = 'correct horse battery staple';
const missing = chromiumMissing();
// Skipped on a machine without Chromium; in CI a missing browser must fail, not pass quietly.
const skip = missing !== null && !process.env.CI ? missing : false;

// The app's page on the open route: opens a WebSocket to its own path and says so in the title.
const PAGE = `<!doctype html><title>connecting</title><script>
const ws = new WebSocket('ws://' + location.host + '/open/socket');
ws.onopen = () => { document.title = 'open'; };
ws.onerror = () => { document.title = 'failed'; };
</script>`;

describe('WebSockets in Chromium', { skip }, () => {
  let app: WsUpstream;
  let gw: TestGateway;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const sessionCookie = async () => (await context.cookies(base)).find((c) => c.name === SESSION)?.value;
  const whoAmI = async () => {
    const res = await page.goto(`${base}/me`);
    assert.ok(res, 'an answer');
    return ((await res.json()) as { user: string | null }).user;
  };

  before(async () => {
    if (missing) throw new Error(missing);
    app = await startWsUpstream();
    app.pages.set('/open/page', PAGE);
    // public_url keeps its default host, localhost: that is what makes the session cookie `__Host-`.
    gw = await startGateway(
      `[[route]]\nname = "open"\npath = "/open"\nupstream = "${app.url}"\nauth = "none"\n` +
        `[[route]]\nname = "app"\npath = "/"\nupstream = "${app.url}"\nauth = "local"\n`,
    );
    base = `http://localhost:${gw.port}`;
    for (const username of ['alice', 'mallory'])
      await createUser(gw.store, {
        username,
        email: `${username}@example.com`,
        emailVerified: true,
        passwordHash: await hashPassword(PASSWORD),
      });
    browser = await launchChromium();
    context = await browser.newContext();
    context.setDefaultTimeout(5000);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    await app?.close();
  });

  test("a 101 from an open route's app cannot swap the signed-in user's session", async () => {
    await page.goto(`${base}/me`);
    await page.getByLabel('Username or email').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/me`);
    const original = await sessionCookie();
    assert.ok(original, `alice is signed in: ${JSON.stringify(await context.cookies(base))}`);
    assert.equal(await whoAmI(), 'alice');

    // Another account's live session, which the app got hold of (its own user's, say).
    const mallory = new BrowserClient(base);
    await mallory.signIn('mallory', PASSWORD, '/');
    const planted = mallory.jar.get(SESSION);
    assert.ok(planted, 'mallory has a session');
    app.handshake.splice(
      0,
      Infinity,
      `Set-Cookie: ${SESSION}=${planted}; Path=/; Secure; HttpOnly; SameSite=Lax`,
      `Set-Cookie: =${SESSION}=${planted}; Path=/; Secure`,
      'Set-Cookie: app_seen=1; Path=/open',
    );

    await page.goto(`${base}/open/page`);
    await page.waitForFunction("document.title !== 'connecting'");
    assert.equal(await page.title(), 'open', 'the WebSocket opened through the gateway');
    assert.equal(app.seen.length, 1);
    // The app's own cookie arrived, so the browser did read the 101's Set-Cookie lines.
    assert.ok(
      (await context.cookies()).some((c) => c.name === 'app_seen'),
      'the app cookie was stored',
    );

    assert.equal(await sessionCookie(), original, 'the session cookie is unchanged');
    assert.equal(await whoAmI(), 'alice', 'a protected route still sees alice');
  });
});
