// How PostgreSQL moves the authz version: once per committing transaction, at its commit (so authz writes never
// queue behind each other's version bump, and cannot deadlock over it), and heard by the instance that made the
// change before the change returns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createPostgresStore } from '../../src/adapters/postgres/index.ts';
import { type AuthzVersions, UNKNOWN_VERSION } from '../../src/ports/authz-versions.ts';
import type { Store } from '../../src/ports/store.ts';
import { TestClock } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { until } from '../helpers/until.ts';

describe('postgres: the authz version moves at commit', () => {
  let db: TestDatabase;
  let store: Store;
  let versions: AuthzVersions;
  const clock = new TestClock();
  let n = 0;
  before(async () => {
    db = await createTestDatabase();
    store = await createPostgresStore({ url: db.url, clock });
    versions = store.authzVersions!();
    await until(() => versions.current() !== UNKNOWN_VERSION, { what: 'the listener caught up' });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  const userWithSessions = async (count: number, expiresAt = clock.now() + 3_600_000) => {
    n++;
    const user = await store.users.create({
      username: `u${n}`,
      email: `u${n}@example.com`,
      emailVerified: true,
    });
    const sessions = [];
    for (let i = 0; i < count; i++)
      sessions.push(
        await store.sessions.create({
          tokenHash: `hash-${n}-${i}`,
          userId: user.id,
          authMethod: 'password',
          idleExpiresAt: expiresAt,
          absoluteExpiresAt: expiresAt,
          ip: null,
          userAgent: null,
        }),
      );
    return { user, sessions };
  };

  const client = async () => {
    const c = new pg.Client({ connectionString: db.url, statement_timeout: 3000 });
    await c.connect();
    return c;
  };
  const stored = async (c: pg.Client) =>
    Number((await c.query(`SELECT value FROM meta WHERE key = 'authz_version'`)).rows[0].value);

  test('a sign-out is not held up by a disable in progress, and the two cannot deadlock', async () => {
    const { user, sessions } = await userWithSessions(2);
    const disabling = await client();
    const signingOut = await client();
    try {
      const v0 = await stored(signingOut);
      // The disable has changed the user and not yet reached its sessions (where SessionStore would go next).
      await disabling.query('BEGIN');
      await disabling.query('UPDATE users SET disabled_at = $1 WHERE id = $2', [clock.now(), user.id]);
      // A bump in the middle of the transaction would hold the version row until the disable ends: this sign-out
      // would wait for it (the statement timeout fails it), and the disable's next statement would close the cycle.
      await signingOut.query('UPDATE sessions SET revoked_at = $1 WHERE id = $2', [
        clock.now(),
        sessions[0]!.id,
      ]);
      assert.equal(await stored(signingOut), v0 + 1, 'the sign-out committed and moved the version');
      await disabling.query('UPDATE sessions SET revoked_at = $1 WHERE user_id = $2', [clock.now(), user.id]);
      await disabling.query('COMMIT');
      assert.equal(await stored(signingOut), v0 + 2, 'one bump per committed transaction');
    } finally {
      await disabling.end();
      await signingOut.end();
    }
  });

  test('a transaction that rolls back moves nothing; one that changes many rows moves the version once', async () => {
    const { sessions } = await userWithSessions(3);
    const c = await client();
    try {
      const v0 = await stored(c);
      await c.query('BEGIN');
      await c.query('UPDATE sessions SET revoked_at = $1 WHERE id = $2', [clock.now(), sessions[0]!.id]);
      await c.query('ROLLBACK');
      assert.equal(await stored(c), v0);
      // Savepoint rolled back, then a real change in the same transaction: still exactly one bump.
      await c.query('BEGIN');
      await c.query('SAVEPOINT s');
      await c.query('UPDATE sessions SET revoked_at = $1 WHERE id = $2', [clock.now(), sessions[0]!.id]);
      await c.query('ROLLBACK TO SAVEPOINT s');
      await c.query(
        'UPDATE sessions SET revoked_at = $1 WHERE id <> $2 AND user_id = (SELECT user_id FROM sessions WHERE id = $2)',
        [clock.now(), sessions[0]!.id],
      );
      await c.query('COMMIT');
      assert.equal(await stored(c), v0 + 1);
      assert.equal(
        Number((await c.query('SELECT count(*) AS n FROM authz_pending')).rows[0].n),
        0,
        'nothing left pending',
      );
    } finally {
      await c.end();
    }
  });

  test('housekeeping: a purge of 500 live-but-expired sessions moves the version once; of ended ones, not at all', async () => {
    await userWithSessions(500, clock.now() - 1);
    const c = await client();
    try {
      const v0 = await stored(c);
      const purged = await store.sessions.deleteExpired(clock.now(), clock.now());
      assert.ok(purged >= 500, `purged ${purged}`);
      assert.equal(await stored(c), v0 + 1);
      const { sessions } = await userWithSessions(2);
      await store.sessions.revokeAllForUser(sessions[0]!.userId, clock.now());
      const v1 = await stored(c);
      assert.ok((await store.sessions.deleteExpired(clock.now() + 1, clock.now() + 1)) >= 2);
      assert.equal(await stored(c), v1, 'deleting sessions that had already ended changes nothing cached');
    } finally {
      await c.end();
    }
  });

  test("an instance's own revocation counts before the call returns (no wait for the listener)", async () => {
    for (let i = 0; i < 20; i++) {
      const { sessions } = await userWithSessions(1);
      const before = versions.current();
      assert.equal(await store.sessions.revoke(sessions[0]!.id, clock.now()), true);
      assert.notEqual(versions.current(), before, `round ${i}: the revoking instance already knows`);
    }
  });

  test('a forged notification (any role may NOTIFY) neither freezes the version nor drops the listener', async () => {
    const c = await client();
    try {
      for (const payload of ['9007199254740991', 'not a number', '-1']) {
        const before = versions.current();
        await c.query(`SELECT pg_notify('hero_authz', $1)`, [payload]);
        await until(() => versions.current() !== before, { what: `the forged ${payload} heard` });
        assert.equal(typeof versions.current(), 'number', 'still listening');
        const { sessions } = await userWithSessions(1);
        const heard = versions.current();
        // Revoked through another connection (another instance): the listener must still move on it.
        await c.query('UPDATE sessions SET revoked_at = $1 WHERE id = $2', [clock.now(), sessions[0]!.id]);
        await until(() => versions.current() !== heard, {
          what: `a real revocation after ${payload}`,
          timeoutMs: 1000,
        });
      }
    } finally {
      await c.end();
    }
  });
});
