// The forward-auth bypasses found by adversarial testing, replayed black-box through a REAL nginx and a REAL
// Caddy: the README's snippets, and the older or barer configs operators may still run. The recording
// upstream must receive nothing the gateway did not admit.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, send } from '../helpers/browser-client.ts';
import { type FrontProxies, skipWithoutProxies, startFrontProxies } from '../helpers/front-proxies.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawGet } from '../helpers/raw-http.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const ROUTES = (up: string) => `
[[route]]
name = "app"
upstream = "${up}"
auth = "local"

[[route]]
name = "open"
path = "/open"
upstream = "${up}"
auth = "none"

[[route]]
name = "admin"
path = "/admin"
upstream = "${up}"
auth = "local"
require_claims = ["admin.panel"]

[[route]]
name = "vault"
path = "/open/vault"
upstream = "${up}"
auth = "local"
`;

const portOf = (base: string) => Number(new URL(base).port);

describe('forward-auth attacks behind real nginx and Caddy', { skip: skipWithoutProxies }, () => {
  let up: Upstream;
  const gws: Record<string, TestGateway> = {};
  let px: FrontProxies;

  before(async () => {
    up = await startUpstream();
    for (const kind of ['nginx', 'caddy']) {
      const gw = await startGateway(`[forward_auth]\nheaders = "${kind}"\n${ROUTES(up.url)}`, {
        server: 'trusted_proxies = ["127.0.0.1"]',
      });
      await createUser(gw.store, {
        username: 'low',
        email: 'low@example.com',
        emailVerified: true,
        passwordHash: await hashPassword(PASSWORD),
      });
      gws[kind] = gw;
    }
    px = await startFrontProxies(
      { nginx: (gws.nginx as TestGateway).port, caddy: (gws.caddy as TestGateway).port },
      up.port,
    );
  });
  after(async () => {
    px.close();
    for (const gw of Object.values(gws)) await gw.close();
    await up.close();
  });

  /** Runs `attempt` and returns what the upstream received meanwhile. */
  async function reached(attempt: () => Promise<unknown>) {
    const before = up.seen.length;
    await attempt();
    return up.seen.slice(before).map((s) => `${s.url} user=${s.headers['x-hero-user'] ?? ''}`);
  }

  test('1: a client-chosen X-Original-URL never authorizes the request Caddy serves (README and bare Caddy)', async () => {
    for (const base of [px.caddy, px.caddyBare]) {
      const spoof = { 'x-original-url': 'http://x/open/', accept: 'application/json' };
      let status = 0;
      assert.deepEqual(
        await reached(async () => {
          status = (await send(`${base}/app/secret`, { headers: spoof })).status;
        }),
        [],
        base,
      );
      assert.notEqual(status, 200);
      // A signed-in user without the claim does not skip require_claims either.
      const low = new BrowserClient(base);
      assert.equal((await low.signIn('low', PASSWORD, '/app/x')).status, 303);
      assert.deepEqual(
        await reached(async () => {
          status = (await low.get('/admin/panel', spoof)).status;
        }),
        [],
      );
      assert.ok([400, 403].includes(status), `${base}: ${status}`);
    }
  });

  test('1: the gateway refuses the other proxies’ headers by itself', async () => {
    const gw = gws.caddy as TestGateway;
    const res = await send(`${gw.url}/auth/forward`, {
      headers: {
        'x-forwarded-method': 'GET',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'apps.example.com',
        'x-forwarded-uri': '/app/secret',
        'x-original-url': 'http://apps.example.com/open/',
      },
    });
    assert.equal(res.status, 400);
    const twice = await rawGet(gw.port, '/auth/forward', [
      'X-Forwarded-Method: GET',
      'X-Forwarded-Proto: http',
      'X-Forwarded-Host: apps.example.com',
      'X-Forwarded-Uri: /open/x',
      'X-Forwarded-Uri: /app/secret',
    ]);
    assert.equal(twice.status, 400, 'two copies are two readings');
  });

  test('2: a Host nginx reads one way is never read another way (README and $http_host configs)', async () => {
    for (const base of [px.nginx, px.nginxLegacy]) {
      for (const host of [
        'apps.example.com:80\\open#',
        'apps.example.com:80\\open?',
        'x@apps.example.com:80\\open#',
      ]) {
        let status = 0;
        assert.deepEqual(
          await reached(async () => {
            status = (await rawGet(portOf(base), '/admin/secret', ['Accept: application/json'], host)).status;
          }),
          [],
          `${base} ${host}`,
        );
        assert.notEqual(status, 200);
      }
    }
    // The gateway alone, asked with the URL the $http_host config builds.
    const direct = await send(`${(gws.nginx as TestGateway).url}/auth/forward`, {
      headers: {
        'x-original-url': 'http://apps.example.com:80\\open#/admin/secret',
        'x-original-method': 'GET',
      },
    });
    assert.equal(direct.status, 400);
  });

  test('2: dot segments in the original request are refused, never resolved to another route', async () => {
    for (const base of [px.nginx, px.nginxLegacy, px.caddy, px.caddyBare]) {
      for (const target of [
        '/app/../open/x',
        '/admin/%2e%2e/open/x',
        '/admin/%252e%252e/open/x',
        '/app/.%2e/open/x',
      ]) {
        assert.deepEqual(
          await reached(() => rawGet(portOf(base), target, ['Accept: application/json'], '127.0.0.1')),
          [],
          `${base}${target}`,
        );
      }
    }
  });

  test('3: case variants and ; parameters of a protected prefix stay protected behind both proxies', async () => {
    for (const base of [px.nginx, px.caddy]) {
      // Under the open "/open", the protected "/open/vault": a case variant or a parameter must not reach "/open".
      for (const target of [
        '/open/VAULT/x',
        '/open/Vault/X',
        '/open/vault;x/y',
        '/open/vault;jsessionid=1/y',
      ]) {
        let status = 0;
        assert.deepEqual(
          await reached(async () => {
            status = (await rawGet(portOf(base), target, ['Accept: application/json'], '127.0.0.1')).status;
          }),
          [],
          `${base}${target}`,
        );
        assert.notEqual(status, 200);
      }
    }
  });

  test('7: behind nginx, rotating X-Forwarded-For does not dodge the per-network sign-in limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++)
      statuses.push(await signInFrom('127.0.0.2', px.nginx, `nobody${i}`, `1.2.3.${i}`));
    assert.ok(statuses.includes(429), `never throttled: ${statuses.join(' ')}`);
    assert.ok(statuses.indexOf(429) <= 21, `throttled late: ${statuses.join(' ')}`);
  });
});

/** One password sign-in from a given local address (not a trusted proxy), through the proxy at `base`. */
async function signInFrom(
  localAddress: string,
  base: string,
  username: string,
  xff: string,
): Promise<number> {
  const page = await fromAddress(localAddress, `${base}/auth/login`, { 'x-forwarded-for': xff });
  const cookie = page.cookies.join('; ');
  const body = new URLSearchParams({ csrf: csrfIn(page.body), username, password: 'wrong password here' });
  const res = await fromAddress(
    localAddress,
    `${base}/auth/login`,
    {
      'x-forwarded-for': xff,
      cookie,
      origin: base,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body.toString(),
  );
  return res.status;
}

function fromAddress(
  localAddress: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        localAddress,
        headers: { accept: 'text/html', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] as string),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
