// Another session holding ACCESS EXCLUSIVE locks on tables every request reads (an operator's migration, a
// VACUUM FULL): the gateway keeps answering what needs no store, a request that needs a locked table answers
// 503 at the statement timeout and forwards nothing, /readyz says so within its deadline, and a client that
// gave up while its request waited is never forwarded once the lock goes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { listenAdmin, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

/** The store's statement timeout is 5 s (adapters/postgres/db.ts); the answer comes just after it. */
const STATEMENT_ANSWER_WITHIN_MS = 7000;
const READY_WITHIN_MS = 2500;

describe('postgres: tables locked by another session', () => {
  let db: TestDatabase;
  let up: Upstream;
  let gw: TestGateway;
  let admin: string;
  let issue: (name: string) => Promise<string>;

  before(async () => {
    db = await createTestDatabase();
    up = await startUpstream();
    gw = await startGateway(
      `[store]\nurl = "${db.url}"\n\n[[route]]\nname = "open"\npath = "/open"\nupstream = "${up.url}"\nauth = "none"\n\n[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n`,
      { admin: true },
    );
    admin = await listenAdmin(gw);
    const alice = await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
    });
    const tokens = new ApiTokenService(gw.store, gw.clock);
    // Each token is presented first while the tables are locked: its lookup must reach the store.
    issue = async (name) =>
      (await tokens.issue({ userId: alice.id, name, claims: null, expiresAt: null })).token;
  });
  after(async () => {
    const t0 = Date.now();
    for (const [n, srv] of [
      ['main', gw.gateway.app.server],
      ['admin', gw.gateway.admin!.server],
    ] as const)
      srv.getConnections((_e, c) => console.log('CONN', n, c));
    await gw?.gateway.close();
    console.log('gateway.close', Date.now() - t0);
    await gw?.close();
    console.log('gw.close', Date.now() - t0);
    await up?.close();
    await db?.drop();
  });

  /** Another session takes the locks and holds them for `ms`; resolves once they are held. */
  async function lockTables(ms: number): Promise<{ released: Promise<void> }> {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('BEGIN');
    await c.query('LOCK TABLE api_tokens, sessions, users IN ACCESS EXCLUSIVE MODE');
    const released = new Promise<void>((resolve) => setTimeout(resolve, ms)).then(async () => {
      await c.query('ROLLBACK');
      await c.end();
    });
    return { released };
  }

  const timed = async (url: string, headers: Record<string, string> = {}) => {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const body = await res.text();
    return { status: res.status, body, ms: performance.now() - t0 };
  };

  test('held 8 s: open route at once, /readyz 503 in time, a lookup 503 at the statement timeout', async (t) => {
    const token = await issue('first-use-under-lock');
    const lock = await lockTables(8000);
    const seenBefore = up.seen.length;

    const open = await timed(`${gw.url}/open/x`);
    assert.equal(open.status, 200);
    assert.ok(open.ms < 500, `the open route took ${Math.round(open.ms)} ms`);

    const [ready, api] = await Promise.all([
      timed(`${admin}/readyz`),
      timed(`${gw.url}/api/locked`, { authorization: `Bearer ${token}` }),
    ]);
    t.diagnostic(`under the lock: /readyz ${ready.status} in ${Math.round(ready.ms)} ms (${ready.body})`);
    t.diagnostic(`under the lock: a first use of a token ${api.status} in ${Math.round(api.ms)} ms`);
    assert.equal(ready.status, 503);
    assert.equal(JSON.parse(ready.body).code, 'store_timeout');
    assert.ok(ready.ms < READY_WITHIN_MS, `/readyz took ${Math.round(ready.ms)} ms`);
    assert.equal(api.status, 503);
    assert.equal(JSON.parse(api.body).code, 'store_unavailable');
    assert.ok(api.ms < STATEMENT_ANSWER_WITHIN_MS, `the lookup took ${Math.round(api.ms)} ms`);
    assert.ok(!up.seen.slice(seenBefore).some((s) => s.url === '/api/locked'), 'nothing was forwarded');

    await lock.released;
    await until(async () => (await timed(`${admin}/readyz`)).status === 200, {
      what: '/readyz 200 after the lock',
      timeoutMs: 3000,
    });
    assert.equal((await timed(`${gw.url}/api/after`, { authorization: `Bearer ${token}` })).status, 200);
  });

  test("another instance's probe stuck mid-transaction does not make this one unready", async () => {
    assert.equal((await timed(`${admin}/readyz`)).status, 200); // the probe row exists
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query("UPDATE meta SET value = value WHERE key = 'ready_probe'");
      const ready = await timed(`${admin}/readyz`);
      assert.equal(ready.status, 200, ready.body);
      assert.ok(ready.ms < 1000, `/readyz took ${Math.round(ready.ms)} ms`);
    } finally {
      await c.query('ROLLBACK');
      await c.end();
    }
  });

  test('a client that gave up while its lookup waited is not forwarded once the lock goes', async () => {
    const gone = await issue('client-gone');
    const kept = await issue('client-kept');
    const lock = await lockTables(1500);
    const controller = new AbortController();
    const abandoned = fetch(`${gw.url}/api/gone`, {
      headers: { authorization: `Bearer ${gone}` },
      signal: controller.signal,
    }).catch(() => null);
    // The same wait, with a client that stays: it is forwarded, so the check above could see one.
    const stayed = timed(`${gw.url}/api/kept`, { authorization: `Bearer ${kept}` });
    setTimeout(() => controller.abort(), 300);
    await abandoned;
    await lock.released;
    assert.equal((await stayed).status, 200);
    await new Promise((r) => setTimeout(r, 500));
    const urls = up.seen.map((s) => s.url);
    assert.ok(urls.includes('/api/kept'), 'the waiting client that stayed was forwarded');
    assert.ok(!urls.includes('/api/gone'), 'the client that left was not forwarded');
  });
});
