// A newcomer's first hour on the gateway's own pages: the sign-in form keeps what was typed as the username,
// a new API token survives a reload without a second one being made, and sessions name their identity provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { hashToken, randomSecret } from '../../src/crypto/tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, type Response } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { providerToml } from '../helpers/idp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const NEW_TOKEN = /id="new-token" type="text" readonly value="(hgw_[A-Za-z0-9_-]+)"/;
const usernameValue = (r: Response) =>
  /id="f-username" name="username"[^>]*?value="([^"]*)"/.exec(r.body)?.[1];

describe('account and sign-in pages', () => {
  let up: Upstream;
  let gw: TestGateway;
  let kimId = '';
  let ip = 10;
  // A fresh client address per browser, so the sign-in throttle of one test never meets another.
  const browser = () => new BrowserClient(gw.url, { 'x-forwarded-for': `203.0.113.${ip++}` });

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(
      `${providerToml('demo', 'Demo SSO', 'http://127.0.0.1:9')}[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
      { server: 'trusted_proxies = ["127.0.0.1/32"]' },
    );
    const passwordHash = await hashPassword(PASSWORD);
    kimId = (
      await createUser(gw.store, {
        username: 'kim',
        email: 'kim@example.com',
        emailVerified: true,
        passwordHash,
      })
    ).id;
    await createUser(gw.store, {
      username: 'uma',
      email: 'uma@example.com',
      emailVerified: false,
      passwordHash,
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('a wrong password keeps the username in the form (escaped), never the password', async () => {
    const b = browser();
    const typed = 'kim"><script>x</script>';
    const wrong = await b.signIn(typed, 'wrong password entirely');
    assert.equal(wrong.status, 401);
    assert.equal(usernameValue(wrong), 'kim&quot;&gt;&lt;script&gt;x&lt;/script&gt;');
    assert.doesNotMatch(wrong.body, /<script>/);
    assert.doesNotMatch(wrong.body, /wrong password entirely/);
    // The cursor goes where the next keystroke belongs: the password.
    assert.match(wrong.body, /id="f-password"[^>]*autofocus/);
    const plain = await b.signIn('kim', 'wrong password entirely');
    assert.equal(usernameValue(plain), 'kim');
  });

  test('the "confirm your email" notice keeps the username too', async () => {
    const b = browser();
    const res = await b.signIn('uma@example.com', PASSWORD);
    assert.equal(res.status, 403);
    assert.match(res.body, /Confirm your email address/);
    assert.equal(usernameValue(res), 'uma@example.com');
    assert.ok(!res.body.includes(PASSWORD));
  });

  test('a first visit has an empty username field that has the focus', async () => {
    const res = await browser().get('/auth/login');
    assert.equal(usernameValue(res), undefined);
    assert.match(res.body, /id="f-username"[^>]*autofocus/);
  });

  test('creating a token answers 303; the next page shows it once; a reload neither shows nor makes another', async () => {
    const b = browser();
    assert.equal((await b.signIn('kim', PASSWORD, '/')).status, 303);
    const page = await b.get('/auth/account');
    const made = await b.post('/auth/account/tokens', {
      csrf: csrfIn(page.body),
      name: 'deploy',
      expires: '30d',
    });
    assert.equal(made.status, 303);
    assert.equal(made.body, '');
    assert.match(made.location ?? '', /^\/auth\/account(#[a-z-]+)?$/);
    assert.doesNotMatch(made.location ?? '', /hgw_/);
    // The cookie that carries it to the next page is sealed: the token is not readable in it.
    const flash = made.setCookies.find((c) => /hero_token_flash=/.test(c)) ?? '';
    assert.match(flash, /HttpOnly/i);
    assert.match(flash, /SameSite=Strict/i);
    assert.match(flash, /Max-Age=\d{2,3}\b/);
    assert.doesNotMatch(flash, /hgw_/);

    const shown = await b.get('/auth/account');
    assert.equal(shown.status, 200);
    assert.equal(shown.headers['cache-control'], 'no-store');
    const token = NEW_TOKEN.exec(shown.body)?.[1];
    assert.ok(token, 'the new token is on the page');
    assert.equal((await gw.store.apiTokens.list(kimId)).length, 1);
    assert.ok(
      shown.setCookies.some((c) => /hero_token_flash=;/.test(c) && /Max-Age=0/i.test(c)),
      'the page clears the cookie',
    );

    const reloaded = await b.get('/auth/account');
    assert.ok(!reloaded.body.includes(token), 'shown once');
    assert.doesNotMatch(reloaded.body, /id="new-token"/);
    assert.equal((await gw.store.apiTokens.list(kimId)).length, 1, 'a reload made no second token');
    assert.match(reloaded.body, /deploy/);
  });

  test('a copied flash cookie shows the token once: the server remembers it was shown', async () => {
    const b = browser();
    await b.signIn('kim', PASSWORD, '/');
    const page = await b.get('/auth/account');
    await b.post('/auth/account/tokens', { csrf: csrfIn(page.body), name: 'copied' });
    const copied = [...b.jar].find(([k]) => k.includes('hero_token_flash'));
    assert.ok(copied, 'the flash cookie was set');
    const first = await b.get('/auth/account');
    assert.ok(NEW_TOKEN.exec(first.body)?.[1], 'shown the first time');
    // Someone who kept the cookie's value (a copied cookie jar) sends it again, with the same session.
    b.jar.set(copied[0], copied[1]);
    const again = await b.get('/auth/account');
    assert.doesNotMatch(again.body, /id="new-token"/);
  });

  test('a token flash from another session is never shown, even in the same browser', async () => {
    const first = browser();
    await first.signIn('kim', PASSWORD, '/');
    const page = await first.get('/auth/account');
    const made = await first.post('/auth/account/tokens', { csrf: csrfIn(page.body), name: 'left behind' });
    assert.equal(made.status, 303);
    // Someone else signs in on this browser before the page was loaded.
    const second = browser();
    for (const [k, v] of first.jar) if (!k.includes('session')) second.jar.set(k, v);
    await second.signIn('kim', PASSWORD, '/');
    const other = await second.get('/auth/account');
    assert.doesNotMatch(other.body, /id="new-token"/);
  });

  test('a session from an identity provider names it by its display name', async () => {
    const b = browser();
    await b.signIn('kim', PASSWORD, '/');
    const now = Date.now();
    await gw.store.sessions.create({
      tokenHash: hashToken(randomSecret(32)),
      userId: kimId,
      authMethod: 'oidc:demo',
      idleExpiresAt: now + 3_600_000,
      absoluteExpiresAt: now + 3_600_000,
      ip: '198.51.100.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    });
    const page = await b.get('/auth/account');
    assert.match(page.body, /by Demo SSO/);
    assert.doesNotMatch(page.body, /by demo\b/);
  });
});
