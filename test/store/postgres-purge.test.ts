// Housekeeping on a large PostgreSQL store: the purge deletes in batches, so it finishes under a statement timeout
// that one statement over every expired row would run into (and roll back, every hour, while the table grows).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createPostgresStore } from '../../src/adapters/postgres/index.ts';
import { PURGE_BATCH } from '../../src/adapters/postgres/purge.ts';
import type { Store } from '../../src/ports/store.ts';
import { TestClock } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const EXPIRED = 60_000;
let db: TestDatabase;
let store: Store;
const clock = new TestClock();

before(async () => {
  db = await createTestDatabase();
  // Enough for one statement over every row to take several times longer than a batch.
  store = await createPostgresStore({ url: db.url, clock, statementTimeoutMs: 250 });
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const now = clock.now();
  await c.query(
    `INSERT INTO users (id, username, email, created_at, updated_at) VALUES ('u1', 'u1', 'u1@example.com', 0, 0)`,
  );
  await c.query(
    `INSERT INTO sessions (id, token_hash, user_id, auth_method, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
     SELECT 's' || i, 'h' || i, 'u1', 'password', 0, 0, $1, $1 FROM generate_series(1, $2) AS i`,
    [now - 1, EXPIRED],
  );
  await c.query(
    `INSERT INTO sessions (id, token_hash, user_id, auth_method, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
     VALUES ('live', 'hlive', 'u1', 'password', 0, 0, $1, $1)`,
    [now + 3_600_000],
  );
  await c.end();
});
after(async () => {
  await store.close();
  await db.drop();
});

test(`a purge of ${EXPIRED} expired sessions, in batches of ${PURGE_BATCH}, under a 250 ms statement timeout`, async () => {
  assert.ok(EXPIRED > 10 * PURGE_BATCH);
  const v0 = await store.authz.version();
  assert.equal(await store.sessions.deleteExpired(clock.now(), clock.now()), EXPIRED);
  // Each batch commits on its own (and tells the instances once): the version moved once per batch.
  assert.equal((await store.authz.version()) - v0, Math.ceil(EXPIRED / PURGE_BATCH));
  assert.ok(await store.sessions.findActive('hlive', clock.now()), 'the live session stays');
  assert.equal(await store.sessions.deleteExpired(clock.now(), clock.now()), 0);
});
