// A PostgreSQL URL may carry the database password: no command prints it — not in a result line, not in the
// error when the database cannot be reached — and that error names the setting to fix.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, freePort } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const PASSWORD = 'S3cret-in-the-url';

describe('store URLs never print their password', () => {
  let db: TestDatabase;
  let dir: string;
  const config = (url: string) => {
    const file = join(dir, `gw-${Math.random().toString(36).slice(2)}.toml`);
    writeFileSync(
      file,
      `[server]\ndata_dir = "${join(dir, 'data')}"\nsecret = "${'x'.repeat(48)}"\n[admin]\nlisten = ""\n[store]\nurl = "${url}"\n`,
    );
    return file;
  };
  /** The test database's URL with a password added (trust authentication ignores it). */
  const withPassword = (url: string) => {
    const u = new URL(url);
    u.password = PASSWORD;
    return u.toString();
  };

  before(async () => {
    db = await createTestDatabase();
    dir = tempDir();
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('migrate and check show the URL with the password masked', async () => {
    const file = config(withPassword(db.url));
    for (const args of [['migrate'], ['migrate'], ['check']]) {
      const run = await cli([...args, '-c', file]);
      assert.equal(run.code, 0, run.stderr);
      const all = run.stdout + run.stderr;
      assert.ok(!all.includes(PASSWORD), `${args[0]}: ${all}`);
      assert.match(all, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    }
  });

  test('an unreachable database: one line naming store.url, no password (CLI and serve)', async () => {
    const u = new URL(withPassword(db.url));
    u.port = String(await freePort());
    const file = config(u.toString());
    for (const args of [['user', 'list'], ['serve']]) {
      const run = await cli([...args, '-c', file]);
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.ok(!(run.stdout + run.stderr).includes(PASSWORD), run.stderr);
      assert.match(
        run.stderr,
        /cannot open the store \(store\.url = postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+\): .*ECONNREFUSED/,
      );
    }
  });
});
