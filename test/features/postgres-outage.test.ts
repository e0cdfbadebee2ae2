// A gateway on a PostgreSQL server that really goes away: stopped (fast shutdown), started again, and its
// connections terminated by an operator. While the database is gone nothing is forwarded, /readyz says why,
// sign-in says the service is unavailable (never "wrong password"), no request waits past its timeout; when the
// database is back everything works again without restarting the gateway.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { LISTENER_NAME } from '../../src/adapters/postgres/authz-listener.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type PgCluster, postgresBinaries, startPgCluster } from '../helpers/pg-cluster.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
/** The longest any request may take while the database is gone: well under the store's 5 s timeouts. */
const ANSWER_WITHIN_MS = 3000;
const skip = postgresBinaries() === null && !process.env.CI ? 'no PostgreSQL server binaries here' : false;

describe('postgres outage: fail closed, recover without a restart', { skip }, () => {
  let cluster: PgCluster;
  let up: Upstream;
  let gw: TestGateway;
  let browser: BrowserClient;
  let token: string;
  let adminToken: string;

  before(async () => {
    cluster = await startPgCluster();
    up = await startUpstream();
    gw = await startGateway(
      `[store]\nurl = "${cluster.url}"\n\n[[route]]\nname = "app"\npath = "/"\nupstream = "${up.url}"\nauth = "local"\n\n[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n`,
      { server: `secret = "${'k'.repeat(48)}"\n`, admin: true },
    );
    const alice = await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    token = (
      await new ApiTokenService(gw.store, gw.clock).issue({
        userId: alice.id,
        name: 'outage',
        claims: null,
        expiresAt: null,
      })
    ).token;
    const root = await createUser(gw.store, {
      username: 'root',
      email: 'root@example.com',
      emailVerified: true,
      admin: true,
    });
    adminToken = (
      await new ApiTokenService(gw.store, gw.clock).issue({
        userId: root.id,
        name: 'admin',
        claims: null,
        expiresAt: null,
      })
    ).token;
    browser = new BrowserClient(gw.url);
    const signedIn = await browser.signIn('alice', PASSWORD, '/');
    assert.equal(signedIn.status, 303);
  });
  after(async () => {
    await cluster?.start().catch(() => {});
    await gw?.close();
    await up?.close();
    await cluster?.destroy();
  });

  /** A request, timed: none may wait past ANSWER_WITHIN_MS. */
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const ms = performance.now() - t0;
    assert.ok(ms < ANSWER_WITHIN_MS, `${what} took ${Math.round(ms)} ms`);
    return r;
  };
  const page = () => timed('the app', () => browser.get('/'));
  const api = () =>
    timed('the API', () => fetch(`${gw.url}/api/x`, { headers: { authorization: `Bearer ${token}` } }));
  const readyz = () => timed('/readyz', () => gw.gateway.admin!.inject('/readyz'));
  const adminApi = () =>
    timed('the admin API', () =>
      gw.gateway.admin!.inject({ url: '/api/v1/users', headers: { authorization: `Bearer ${adminToken}` } }),
    );

  test('up: the cookie and the token are admitted', async () => {
    assert.equal((await page()).status, 200);
    assert.equal((await api()).status, 200);
    assert.equal((await readyz()).statusCode, 200);
    assert.equal((await adminApi()).statusCode, 200);
  });

  test('stopped: protected routes 503 and nothing reaches the app; /readyz 503; sign-in says unavailable', async () => {
    await cluster.stop();
    await until(async () => (await page()).status === 503, { what: 'the app refused', timeoutMs: 5000 });
    const seen = up.seen.length;
    for (let i = 0; i < 3; i++) {
      const res = await page();
      assert.equal(res.status, 503);
      assert.match(res.body, /Temporarily unavailable/);
      const bearer = await api();
      assert.equal(bearer.status, 503);
      assert.equal(((await bearer.json()) as { code: string }).code, 'store_unavailable');
    }
    assert.equal(up.seen.length, seen, 'nothing forwarded while identities cannot be verified');

    const api503 = await adminApi();
    assert.equal(api503.statusCode, 503, 'the admin API answers 503 too, never a 500');
    assert.equal(api503.json().code, 'store_unavailable');

    const ready = await readyz();
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json(), { status: 'unavailable', code: 'store_unreachable' });

    // The sign-in page itself says so, rather than offering a form it could only refuse (its answer about the
    // store stands for 2 s, so it may take that long to notice).
    const form = await until(
      async () => {
        const res = await timed('the sign-in page', () => new BrowserClient(gw.url).get('/auth/login'));
        return res.status === 503 && res;
      },
      { what: 'the sign-in page says unavailable', timeoutMs: 5000 },
    );
    assert.match(form.body, /Sign-in is temporarily unavailable/);

    // Right and wrong passwords get the same answer: the service is unavailable, never a verdict on the password.
    for (const password of [PASSWORD, 'not the password']) {
      const someone = new BrowserClient(gw.url);
      const res = await timed('sign-in', () => someone.signIn('alice', password, '/'));
      assert.equal(res.status, 503, `password ${password === PASSWORD ? 'right' : 'wrong'}`);
      assert.match(res.body, /Temporarily unavailable/);
      assert.doesNotMatch(res.body, /wrong|incorrect|invalid/i);
      assert.equal(
        [...someone.jar.keys()].some((k) => k.includes('session')),
        false,
      );
    }
  });

  test('started again: the same cookie and token work, /readyz 200, sign-in works — no restart', async () => {
    await cluster.start();
    await until(async () => (await page()).status === 200, {
      what: 'the app admitted again',
      timeoutMs: 15_000,
    });
    assert.equal((await api()).status, 200);
    assert.equal((await readyz()).statusCode, 200);
    const again = new BrowserClient(gw.url);
    await until(async () => (await again.get('/auth/login')).status === 200, {
      what: 'the sign-in page back',
    });
    assert.equal((await again.signIn('alice', PASSWORD, '/')).status, 303);
    assert.equal((await again.get('/')).status, 200);
  });

  test('every connection terminated (pg_terminate_backend): a moment of 503 at most, never a 500, then served', async () => {
    // The listener is back too (it reconnects with a backoff): both kinds of connection are cut.
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    await until(
      async () =>
        Number(
          (
            await c.query('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [
              LISTENER_NAME,
            ])
          ).rows[0].n,
        ) === 1,
      { what: 'the listener reconnected' },
    );
    await c.end();
    assert.ok((await cluster.terminateConnections()) >= 2, 'the pool and the listener were connected');
    const statuses: number[] = [];
    await until(
      async () => {
        const s = (await page()).status;
        statuses.push(s);
        return s === 200;
      },
      { what: 'served again', timeoutMs: 5000 },
    );
    assert.ok(
      statuses.every((s) => s === 200 || s === 503),
      `statuses: ${statuses}`,
    );
    assert.equal((await api()).status, 200);
  });

  test('behind: a store missing a migration this version needs is not ready, and says which', async () => {
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    try {
      const { rows } = await c.query(
        'DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations) RETURNING name',
      );
      const res = await readyz();
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { status: 'unavailable', code: 'store_behind', pending: [rows[0].name] });
    } finally {
      await c.end();
    }
  });
});
