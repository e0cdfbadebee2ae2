// Every table the migrations leave behind is one the adapter reads or writes: schema nobody uses misleads the
// next reader (an empty audit table beside the real audit log) and is carried into every new store.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/adapters/sqlite/index.ts';
import { TestClock, tempDir } from '../helpers/gateway.ts';

const ADAPTER = fileURLToPath(new URL('../../src/adapters/sqlite/', import.meta.url));

test('every table in the migrated schema is used by the SQLite adapter', async () => {
  const dir = tempDir();
  const path = join(dir, 'gw.db');
  const store = createSqliteStore({ path, clock: new TestClock() });
  await store.migrate();
  await store.close();
  const db = new Database(path, { readonly: true });
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  const code = readdirSync(ADAPTER)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(ADAPTER, f), 'utf8'))
    .join('\n');
  const unused = tables.filter((t) => !new RegExp(`\\b${t}\\b`).test(code));
  assert.deepEqual(unused, []);
});
