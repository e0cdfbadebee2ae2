// Forward-auth behind a REAL nginx (auth_request) and a REAL Caddy (forward_auth), with the README's snippets:
// the proxy asks /auth/forward about each request and passes the identity headers on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, send } from '../helpers/browser-client.ts';
import { type FrontProxies, skipWithoutProxies, startFrontProxies } from '../helpers/front-proxies.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawGet } from '../helpers/raw-http.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const ROUTES = (up: string) =>
  `[[route]]\nname = "app"\nupstream = "${up}"\nauth = "local"\n[[route]]\nname = "open"\npath = "/open"\nupstream = "${up}"\nauth = "none"\n[[route]]\nname = "nows"\npath = "/nows"\nupstream = "${up}"\nauth = "local"\nwebsocket = false\n`;

describe('forward-auth behind nginx and Caddy', { skip: skipWithoutProxies }, () => {
  let up: Upstream;
  const gws: Record<string, TestGateway> = {};
  let proxies: FrontProxies;

  before(async () => {
    up = await startUpstream();
    for (const kind of ['nginx', 'caddy', 'traefik']) {
      gws[kind] = await startGateway(`[forward_auth]\nheaders = "${kind}"\n${ROUTES(up.url)}`, {
        server: 'trusted_proxies = ["127.0.0.1"]',
      });
      await createUser((gws[kind] as TestGateway).store, {
        username: 'fay',
        email: 'fay@example.com',
        emailVerified: true,
        passwordHash: await hashPassword(PASSWORD),
      });
    }
    proxies = await startFrontProxies(
      { nginx: (gws.nginx as TestGateway).port, caddy: (gws.caddy as TestGateway).port },
      up.port,
    );
  });
  after(async () => {
    proxies.close();
    for (const gw of Object.values(gws)) await gw.close();
    await up.close();
  });

  for (const proxy of ['nginx', 'caddy']) {
    test(`${proxy}: signed out → sign-in; signed in → the app gets the identity; spoofed headers never pass`, async () => {
      const base = proxies[proxy as 'nginx' | 'caddy'];
      const anon = await send(`${base}/docs?x=1`, {
        headers: { accept: 'text/html', 'x-hero-user': 'root' },
      });
      assert.ok([302, 303].includes(anon.status), `${proxy}: ${anon.status}`);
      assert.match(
        anon.location ?? '',
        /\/auth\/login\?return_to=%2Fdocs%3Fx%3D1|\/auth\/login\?return_to=\/docs\?x=1/,
      );
      const script = await send(`${base}/docs`, { headers: { accept: 'application/json' } });
      assert.ok([302, 401].includes(script.status), `${proxy} script: ${script.status}`);
      const b = new BrowserClient(base);
      const signed = await b.signIn('fay', PASSWORD, '/docs');
      assert.equal(signed.status, 303, signed.body.slice(0, 200));
      const before = up.seen.length;
      const page = await b.get('/docs', { 'x-hero-user': 'root', 'x-hero-claims': 'gateway.admin' });
      assert.equal(page.status, 200);
      const seen = up.seen[before];
      assert.equal(seen?.headers['x-hero-user'], 'fay');
      assert.equal(seen?.headers['x-hero-email'], 'fay@example.com');
      assert.equal(seen?.headers['x-hero-claims'] ?? '', '');
      assert.equal(seen?.headers['x-hero-auth-method'], 'password');
      // An open route gets no identity, and a client's copy of the headers does not pass either.
      const n = up.seen.length;
      assert.equal(
        (
          await send(`${base}/open/x`, {
            headers: { 'x-hero-user': 'root', 'X-Hero-Claims': 'gateway.admin' },
          })
        ).status,
        200,
      );
      assert.equal(up.seen[n]?.headers['x-hero-user'] ?? '', '', 'no identity (Caddy passes it empty)');
      assert.equal(up.seen[n]?.headers['x-hero-claims'] ?? '', '');
      // Every spelling, signed in, on a protected route: only the gateway's values arrive (nginx drops
      // underscore names by default; the Caddy snippet strips each spelling Go leaves after canonicalizing).
      const m = up.seen.length;
      const spoof = await rawGet(
        Number(new URL(base).port),
        '/docs',
        [
          `Cookie: ${b.cookieHeader()}`,
          'X_Hero_User: root',
          'X-HERO_USER: root',
          'x_hero-claims: gateway.admin',
          'X-Hero-Assertion: forged',
          'X-Hero-Admin: yes',
          'X-Original-URL: /admin',
        ],
        '127.0.0.1',
      );
      assert.equal(spoof.status, 200);
      const raw = up.seen[m]?.rawHeaders ?? [];
      const got = raw.flatMap((h, i) =>
        i % 2 === 0 && /^x[-_]hero[-_]|^x-original-url$/i.test(h) ? [`${h}: ${raw[i + 1]}`] : [],
      );
      const unexpected = got.filter((l) => /root|gateway\.admin|forged|\/admin/.test(l));
      assert.deepEqual(unexpected, [], `${proxy}: ${got.join(' | ')}`);
      assert.equal(up.seen[m]?.headers['x-hero-user'], 'fay');
    });
  }

  test('an upgrade asked about gets the WebSocket rules: the route must allow it, the Origin must be this host', async () => {
    const gw = gws.traefik as TestGateway;
    const b = new BrowserClient(gw.url);
    assert.equal((await b.signIn('fay', PASSWORD, '/x')).status, 303);
    const ask = (uri: string, origin: string, upgrade = true) =>
      b.get('/auth/forward', {
        accept: 'application/json',
        'x-forwarded-method': 'GET',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'app.example.com',
        'x-forwarded-uri': uri,
        origin,
        ...(upgrade
          ? { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' }
          : {}),
      });
    assert.equal((await ask('/live', 'https://app.example.com')).status, 200);
    assert.equal((await ask('/live', 'https://evil.example.com')).status, 403, 'a sibling page');
    assert.equal((await ask('/live', 'http://app.example.com')).status, 403, 'another scheme');
    assert.equal((await ask('/live', 'https://evil.example.com', false)).status, 200, 'not an upgrade');
    assert.equal((await ask('/nows/x', 'https://app.example.com')).status, 404, 'websocket = false');
    assert.equal((await ask('/nows/x', 'https://app.example.com', false)).status, 200);
  });

  test('on an open route every identity header comes back empty, the assertion included', async () => {
    const res = await send(`${(gws.traefik as TestGateway).url}/auth/forward`, {
      headers: {
        'x-forwarded-method': 'GET',
        'x-forwarded-proto': 'https',
        'x-forwarded-uri': '/open/x',
        'x-forwarded-host': 'app.example',
      },
    });
    assert.equal(res.status, 200);
    for (const h of ['x-hero-user', 'x-hero-claims', 'x-hero-assertion']) assert.equal(res.headers[h], '', h);
  });

  test('the answer is believed only from a trusted proxy: spoofed forwarding headers from anyone else are ignored', async () => {
    const direct = await startGateway(
      `[forward_auth]\nheaders = "traefik"\n[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "none"\n`,
    );
    try {
      const res = await send(`${direct.url}/auth/forward`, {
        headers: {
          'x-forwarded-method': 'GET',
          'x-forwarded-proto': 'http',
          'x-forwarded-uri': '/x',
          'x-forwarded-host': 'app.example',
        },
      });
      assert.equal(res.status, 400);
    } finally {
      await direct.close();
    }
  });

  test('without [forward_auth] headers the endpoint is off: 404, whatever is sent', async () => {
    const off = await startGateway(ROUTES(up.url), { server: 'trusted_proxies = ["127.0.0.1"]' });
    try {
      const res = await send(`${off.url}/auth/forward`, {
        headers: { 'x-original-url': 'http://app.example/open/x', 'x-original-method': 'GET' },
      });
      assert.equal(res.status, 404);
      assert.match(res.body, /forward_auth/);
    } finally {
      await off.close();
    }
  });
});
