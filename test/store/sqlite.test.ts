import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/adapters/sqlite/index.ts';
import { TestClock, tempDir } from '../helpers/gateway.ts';
import { storeConformance } from './conformance.ts';

storeConformance('sqlite (temp file)', async () => {
  const dir = tempDir();
  const clock = new TestClock();
  const store = createSqliteStore({ path: join(dir, 'gw.db'), clock });
  return {
    store,
    clock,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test('migrations apply once and are idempotent across restarts; data survives', async () => {
  const dir = tempDir();
  const path = join(dir, 'gw.db');
  const clock = new TestClock();
  const first = createSqliteStore({ path, clock });
  const applied = (await first.migrationState()).applied;
  assert.ok(applied.includes('0001_init.sql'));
  await first.users.create({ username: 'keep', email: 'keep@example.com', emailVerified: true });
  await first.close();

  for (let i = 0; i < 3; i++) {
    const again = createSqliteStore({ path, clock });
    assert.deepEqual(await again.migrate(), [], 'nothing left to apply');
    assert.deepEqual((await again.migrationState()).applied, applied);
    assert.equal((await again.users.byUsername('keep'))?.email, 'keep@example.com');
    await again.close();
  }
  const db = new Database(path);
  const rows = db.prepare('SELECT version FROM schema_migrations').all();
  assert.equal(rows.length, applied.length, 'each migration recorded exactly once');
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an unmigrated store reports pending migrations and is not ready until migrated', async () => {
  const dir = tempDir();
  const path = join(dir, 'gw.db');
  const store = createSqliteStore({ path, clock: new TestClock(), migrate: false });
  assert.ok((await store.migrationState()).pending.includes('0001_init.sql'));
  await assert.rejects(store.ready(), /pending migration/);
  assert.deepEqual(await store.migrate(), [
    '0001_init.sql',
    '0002_sessions_revocation.sql',
    '0003_oidc_sessions.sql',
    '0004_drop_audit_events.sql',
    '0005_signing_keys.sql',
    '0006_expiry_indexes.sql',
    '0007_second_factors.sql',
    '0008_session_second_factor.sql',
  ]);
  await store.close();
  const reopened = createSqliteStore({ path, clock: new TestClock(), migrate: false });
  await reopened.ready();
  await reopened.close();
  assert.ok(statSync(path).size > 0);
  rmSync(dir, { recursive: true, force: true });
});
