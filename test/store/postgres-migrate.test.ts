// PostgreSQL migrations: several instances starting at the same moment on an empty database apply each
// migration exactly once (the advisory lock), the state reads right before and after, and a unique violation
// names its column.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type pg from 'pg';
import { createPool, migrate, migrationState, uniqueViolation } from '../../src/adapters/postgres/db.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./pg-migrate-child.ts', import.meta.url));
const FILES = readdirSync(fileURLToPath(new URL('../../migrations/postgres/', import.meta.url)))
  .filter((f) => f.endsWith('.sql'))
  .sort();

describe('postgres migrations', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  test('three instances starting at once on an empty database apply each migration once', async () => {
    assert.deepEqual(await migrationState(pool), { applied: [], pending: FILES });
    const at = String(Date.now() + 1500);
    const outs = await Promise.all(
      [0, 1, 2].map(() => run(process.execPath, ['--import', 'tsx', CHILD, db.url, at])),
    );
    const applied = outs.map((o) => JSON.parse(o.stdout) as string[]);
    // One of them applied everything, the others found nothing left.
    assert.deepEqual(applied.flat().sort(), FILES, JSON.stringify(applied));
    const { rows } = await pool.query('SELECT name FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      rows.map((r) => r.name),
      FILES,
    );
    assert.deepEqual(await migrationState(pool), { applied: FILES, pending: [] });
    assert.deepEqual(await migrate(pool, Date.now()), [], 'nothing left to apply');
  });

  test('instants come back as numbers, and a unique violation names its column', async () => {
    const now = 1_780_000_000_123;
    const insert = (id: string, username: string, email: string) =>
      pool.query(
        `INSERT INTO users (id, username, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
        [id, username, email, now],
      );
    await insert('usr_a', 'ann', 'ann@example.com');
    const { rows } = await pool.query('SELECT created_at FROM users WHERE id = $1', ['usr_a']);
    assert.equal(rows[0].created_at, now);
    const conflict = (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('expected a unique violation'),
        (err: unknown) => uniqueViolation(err),
      );
    assert.equal(await conflict(insert('usr_b', 'ann', 'other@example.com')), 'username');
    assert.equal(await conflict(insert('usr_c', 'cat', 'ann@example.com')), 'email');
    assert.equal(uniqueViolation(new Error('not a database error')), null);
  });

  test('a change that alters who someone is bumps the version and notifies every listener', async () => {
    const listener = await pool.connect();
    try {
      const heard = new Promise<string | undefined>((resolve) =>
        listener.once('notification', (n) => resolve(n.payload)),
      );
      await listener.query('LISTEN hero_authz');
      const before = (await pool.query(`SELECT value FROM meta WHERE key = 'authz_version'`)).rows[0].value;
      await pool.query('UPDATE users SET disabled_at = $1 WHERE id = $2', [Date.now(), 'usr_a']);
      assert.equal(await heard, String(before + 1));
    } finally {
      await listener.query('UNLISTEN *');
      listener.release();
    }
  });
});
