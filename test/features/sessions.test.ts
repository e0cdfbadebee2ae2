// Sessions and the `local` mode end to end: real gateway, real SQLite file, real upstream, a cookie-jar client.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, beforeEach, describe, test } from 'node:test';
import { openStore } from '../../src/adapters/open-store.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import { hashToken } from '../../src/crypto/tokens.ts';
import type { Store, User } from '../../src/ports/store.ts';
import { purgeStale } from '../../src/services/housekeeping.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, send } from '../helpers/browser-client.ts';
import { seesOtherInstance, startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('local mode and sessions', () => {
  let up: Upstream;
  let gw: TestGateway;
  let clock: TestClock;
  let other: Store; // a second connection, as the CLI or another worker would have
  let alice: User;
  let n = 0;

  before(async () => {
    up = await startUpstream();
    clock = new TestClock(Date.now());
    gw = await startGateway(
      `
[session]
idle_timeout = "1h"
absolute_timeout = "3h"

[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = "local"

[[route]]
name = "api"
path = "/api"
upstream = "${up.url}"
auth = "local"
api = true
`,
      { clock },
    );
    other = await openStore(gw.config.store.url, clock);
    alice = await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
  });
  after(async () => {
    await other.close();
    await gw.close();
    await up.close();
  });
  beforeEach(() => {
    up.seen.length = 0;
  });

  const signedInBrowser = async () => {
    const b = new BrowserClient(gw.url, { 'user-agent': `Browser ${++n}` });
    const res = await b.signIn('alice', PASSWORD, '/home');
    assert.equal(res.status, 303, res.body);
    return { b, res };
  };
  const sessionCookie = '__Host-hero_session';

  test('sign-in sets exactly the session cookie the contract names, and lands on return_to', async () => {
    const { b, res } = await signedInBrowser();
    assert.equal(res.location, '/home');
    const set = res.setCookies.find((c) => c.startsWith(`${sessionCookie}=`));
    assert.ok(set, res.setCookies.join('\n'));
    const [pair, ...attrs] = set.split('; ');
    assert.match(pair as string, /^__Host-hero_session=[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(attrs.filter((a) => !a.startsWith('Max-Age=')).sort(), [
      'HttpOnly',
      'Path=/',
      'SameSite=Lax',
      'Secure',
    ]);
    assert.ok(!set.includes('Domain'), 'a __Host- cookie never has a Domain');
    const maxAge = Number(/Max-Age=(\d+)/.exec(set)?.[1]);
    assert.ok(maxAge > 3 * 3600 - 5 && maxAge <= 3 * 3600, `Max-Age ${maxAge} follows the absolute timeout`);
    const page = await b.get('/home');
    assert.equal(page.status, 200);
    const seen = up.seen.at(-1);
    assert.equal(seen?.headers['x-hero-user'], 'alice');
    assert.equal(seen?.headers['x-hero-auth-method'], 'password');
    assert.equal(seen?.headers['x-hero-context'], 'app');
  });

  test('only the SHA-256 of the session token is stored', async () => {
    const { b } = await signedInBrowser();
    const token = b.jar.get(sessionCookie) as string;
    assert.ok(await gw.store.sessions.findActive(hashToken(token), clock.now()));
    assert.equal(await gw.store.sessions.findActive(token, clock.now()), null);
  });

  test('an app cannot set or clear the gateway’s cookies through its responses', async () => {
    const { b } = await signedInBrowser();
    up.respondWith = {
      'set-cookie': [
        `${sessionCookie}=${'A'.repeat(43)}; Path=/; Secure`,
        '__Host-hero_device=x; Path=/; Secure',
        'app_session=kept; Path=/',
      ],
    };
    try {
      const res = await b.get('/x');
      assert.deepEqual(res.setCookies, ['app_session=kept; Path=/']);
    } finally {
      up.respondWith = {};
    }
  });

  test('the upstream never receives the gateway cookies, but keeps the app’s own', async () => {
    const { b } = await signedInBrowser();
    b.jar.set('app_pref', 'dark');
    await b.get('/x');
    const cookie = String(up.seen.at(-1)?.headers.cookie);
    assert.equal(cookie, 'app_pref=dark');
    b.jar.delete('app_pref');
    await b.get('/y');
    assert.equal(up.seen.at(-1)?.headers.cookie, undefined);
    assert.ok(up.seen.every((s) => !String(s.headers.cookie ?? '').includes('hero_')));
  });

  test('a browser without a session is sent to sign in; scripts and api routes get 401 with login_url', async () => {
    const browser = await send(`${gw.url}/docs/page?q=1`, { headers: { accept: 'text/html' } });
    assert.equal(browser.status, 303);
    const login = new URL(browser.location as string);
    assert.equal(login.pathname, '/auth/login');
    assert.equal(login.origin, gw.url, 'the sign-in page is on the host the request came to');
    assert.equal(login.searchParams.get('return_to'), '/docs/page?q=1');
    const script = await send(`${gw.url}/docs/page`, { headers: { accept: 'application/json' } });
    assert.equal(script.status, 401);
    assert.equal(script.headers['content-type'], 'application/problem+json; charset=utf-8');
    const body = JSON.parse(script.body);
    assert.equal(body.code, 'auth_required');
    assert.equal(body.login_url, `${gw.url}/auth/login?return_to=%2Fdocs%2Fpage`);
    assert.equal(script.headers['www-authenticate'], undefined, 'no bearer challenge on a local-only route');
    const api = await send(`${gw.url}/api/things`, { headers: { accept: 'text/html' } });
    assert.equal(api.status, 401, 'api = true never redirects');
    assert.equal(up.seen.length, 0);
  });

  test('a cookie planted before sign-in never authenticates; sign-in issues a fresh one', async () => {
    const planted = 'A'.repeat(43);
    const b = new BrowserClient(gw.url);
    b.jar.set(sessionCookie, planted);
    assert.equal((await b.get('/x')).status, 303);
    const res = await b.signIn('alice', PASSWORD, '/x');
    assert.equal(res.status, 303);
    assert.notEqual(b.jar.get(sessionCookie), planted);
    const attacker = new BrowserClient(gw.url);
    attacker.jar.set(sessionCookie, planted);
    assert.equal((await attacker.get('/x')).status, 303, 'the planted value is still nobody');
  });

  test('signing in again ends the session the browser held before', async () => {
    const { b } = await signedInBrowser();
    const first = b.jar.get(sessionCookie) as string;
    // A signed-in browser is sent on from the sign-in page, so post the form directly (same CSRF cookie).
    const csrf = csrfIn((await b.get('/auth/logout')).body);
    const again = await b.post('/auth/login', { csrf, username: 'alice', password: PASSWORD });
    assert.equal(again.status, 303);
    assert.notEqual(b.jar.get(sessionCookie), first);
    assert.equal((await b.get('/x')).status, 200);
    const replay = new BrowserClient(gw.url);
    replay.jar.set(sessionCookie, first);
    assert.equal((await replay.get('/x')).status, 303);
  });

  test('logout revokes server-side: replaying the old cookie is not signed in', async () => {
    const { b } = await signedInBrowser();
    const token = b.jar.get(sessionCookie) as string;
    const confirm = await b.get('/auth/logout');
    assert.equal(confirm.status, 200);
    assert.match(confirm.body, /signed in as <strong>alice<\/strong>/);
    assert.equal((await b.get('/x')).status, 200, 'GET /auth/logout alone signs nobody out');
    const out = await b.submit('/auth/logout', '/auth/logout', {});
    assert.equal(out.status, 200);
    const cleared = out.setCookies.find((c) => c.startsWith(`${sessionCookie}=;`));
    assert.ok(cleared?.includes('Max-Age=0'), out.setCookies.join('\n'));
    const replay = new BrowserClient(gw.url);
    replay.jar.set(sessionCookie, token);
    assert.equal((await replay.get('/x')).status, 303);
    assert.equal((await replay.get('/auth/status')).body, '{"authenticated":false}');
  });

  test('idle timeout: activity renews (written at most once a minute), silence ends the session', async () => {
    const { b } = await signedInBrowser();
    const hash = hashToken(b.jar.get(sessionCookie) as string);
    const row = async () => (await other.sessions.findActive(hash, clock.now()))?.session;
    const seen0 = (await row())?.lastSeenAt;
    clock.advance(30_000);
    assert.equal((await b.get('/x')).status, 200);
    assert.equal((await row())?.lastSeenAt, seen0, 'no write within a minute');
    clock.advance(40 * MINUTE);
    assert.equal((await b.get('/x')).status, 200);
    // Activity is written after the answer: await it.
    await until(async () => (await row())?.lastSeenAt === clock.now(), { what: 'activity recorded' });
    clock.advance(50 * MINUTE); // 90 min after sign-in, 50 after the last activity: still inside the hour
    assert.equal((await b.get('/x')).status, 200);
    clock.advance(HOUR + 1);
    assert.equal((await b.get('/x')).status, 303, 'an hour of silence ends it');
  });

  test('absolute timeout: constant activity never extends a session past the cap', async () => {
    const { b } = await signedInBrowser();
    for (let t = 0; t < 3 * HOUR - 20 * MINUTE; t += 20 * MINUTE) {
      clock.advance(20 * MINUTE);
      assert.equal((await b.get('/x')).status, 200, `alive at +${t / MINUTE + 20} min`);
    }
    clock.advance(20 * MINUTE);
    assert.equal((await b.get('/x')).status, 303, 'three hours after sign-in it is over');
  });

  test('disabling or deleting the user ends their sessions on the next request, also from another process', async () => {
    const bob = await createUser(gw.store, {
      username: 'bob',
      email: 'bob@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    const b = new BrowserClient(gw.url);
    assert.equal((await b.signIn('bob', PASSWORD, '/')).status, 303);
    assert.equal((await b.get('/x')).status, 200);
    await other.users.setDisabled(bob.id, clock.now());
    await seesOtherInstance('bob disabled', async () => (await b.get('/x')).status === 303);
    await other.users.setDisabled(bob.id, null);
    assert.equal((await b.get('/x')).status, 303, 're-enabling does not revive a session (it may be stolen)');
    assert.equal((await b.signIn('bob', PASSWORD, '/')).status, 303);
    assert.equal((await b.get('/x')).status, 200);
    await other.users.delete(bob.id);
    await seesOtherInstance('bob deleted', async () => (await b.get('/x')).status === 303);
  });

  test('a session ended from another process is refused on the next request', async () => {
    const { b } = await signedInBrowser();
    assert.equal((await b.get('/x')).status, 200);
    const token = b.jar.get(sessionCookie) as string;
    const found = await other.sessions.findActive(hashToken(token), clock.now());
    await other.sessions.revoke(found?.session.id as string, clock.now());
    await seesOtherInstance('the session ended', async () => (await b.get('/x')).status === 303);
  });

  test('malformed, oversized and duplicate cookies are simply not signed in', async () => {
    const { b } = await signedInBrowser();
    const good = b.jar.get(sessionCookie) as string;
    const headers = [
      `${sessionCookie}=`,
      `${sessionCookie}=${'x'.repeat(5000)}`,
      `${sessionCookie}=%00%ff`,
      `${sessionCookie}="${good}"`,
      `${sessionCookie}=${good}; ${sessionCookie}=${good}`,
      `${sessionCookie}=${good}; ${sessionCookie}=${'B'.repeat(43)}`,
      `;;;=; ${sessionCookie}`,
      `hero_session=${good}`,
    ];
    for (const cookie of headers) {
      const res = await send(`${gw.url}/x`, { headers: { cookie, accept: 'application/json' } });
      assert.equal(res.status, 401, cookie.slice(0, 80));
      const status = await send(`${gw.url}/auth/status`, { headers: { cookie } });
      assert.equal(status.status, 200);
      assert.equal(status.body, '{"authenticated":false}');
    }
  });

  test('housekeeping deletes sessions that can never be used again, and only those', async () => {
    const { b } = await signedInBrowser();
    clock.advance(2 * HOUR); // past the idle timeout of every earlier session, and of this one
    const live = await signedInBrowser();
    const purged = await purgeStale(gw.store, clock);
    assert.ok((purged.sessions ?? 0) > 0, JSON.stringify(purged));
    assert.equal((await live.b.get('/x')).status, 200);
    assert.equal((await b.get('/x')).status, 303);
  });

  test('/auth/status tells UIs who is signed in, and nothing when nobody is', async () => {
    const anon = await send(`${gw.url}/auth/status`);
    assert.equal(anon.status, 200);
    assert.deepEqual(JSON.parse(anon.body), { authenticated: false });
    assert.equal(anon.headers['cache-control'], 'no-store');
    await other.authz.setRole('editor', ['wiki.write']);
    await other.authz.grant('editor', { userId: alice.id }, 'wiki');
    const { b } = await signedInBrowser();
    const global = JSON.parse((await b.get('/auth/status')).body);
    assert.equal(global.authenticated, true);
    assert.deepEqual(global.user, {
      id: alice.id,
      username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
    });
    assert.deepEqual(global.claims, []);
    assert.equal(global.auth_method, 'password');
    assert.equal(Date.parse(global.expires_at), clock.now() + HOUR);
    const wiki = JSON.parse((await b.get('/auth/status?context=wiki')).body);
    assert.deepEqual(wiki.claims, ['wiki.write']);
  });
});

describe('when the store fails', () => {
  test('signed-in requests get 503 and reach nothing; sign-in and pages answer 503 without a cookie', async () => {
    const up = await startUpstream();
    const gw = await startGateway(`[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`);
    try {
      await createUser(gw.store, {
        username: 'olga',
        email: 'olga@example.com',
        emailVerified: true,
        passwordHash: await hashPassword(PASSWORD),
      });
      const b = new BrowserClient(gw.url);
      assert.equal((await b.signIn('olga', PASSWORD, '/')).status, 303);
      assert.equal((await b.get('/x')).status, 200);
      const csrf = csrfIn((await b.get('/auth/logout')).body);
      const seen = up.seen.length;
      await gw.store.close();
      const proxied = await b.get('/x', { accept: 'application/json' });
      assert.equal(proxied.status, 503);
      assert.equal(JSON.parse(proxied.body).code, 'store_unavailable');
      assert.equal(up.seen.length, seen, 'nothing was forwarded');
      const login = await b.post('/auth/login', { csrf, username: 'olga', password: PASSWORD });
      assert.equal(login.status, 503);
      assert.deepEqual(login.setCookies, []);
      assert.doesNotMatch(login.body, /Sqlite|database|\.ts:\d+/, 'no internals in the page');
      assert.equal((await b.get('/auth/status')).status, 503);
    } finally {
      await gw.gateway.close();
      rmSync(gw.dir, { recursive: true, force: true });
      await up.close();
    }
  });
});
