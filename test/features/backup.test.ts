// `hero-gateway backup FILE` copies a store in use, consistently and privately; the store itself is private.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../src/adapters/open-store.ts';
import type { Store } from '../../src/ports/store.ts';
import { createUser } from '../../src/services/users.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';

const clock = { now: () => Date.now() };
const mode = (path: string) => statSync(path).mode & 0o777;

async function addUsers(store: Store, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await createUser(store, {
      username: `${prefix}${i}`,
      email: `${prefix}${i}@example.com`,
      emailVerified: true,
    });
}

describe('backup and store file modes', () => {
  let dir: string;
  before(() => {
    dir = tempDir('hgw-backup-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a fresh store, its -wal and -shm files are 0600 and its new directory 0700', async () => {
    const data = join(dir, 'fresh', 'data');
    const db = join(data, 'gateway.db');
    const store = await openStore(`sqlite:${db}`, clock);
    try {
      await addUsers(store, 'm', 1);
      assert.ok(existsSync(`${db}-wal`) && existsSync(`${db}-shm`), 'the store runs in WAL mode');
      assert.equal(mode(data), 0o700);
      for (const file of [db, `${db}-wal`, `${db}-shm`]) assert.equal(mode(file), 0o600, file);
    } finally {
      await store.close();
    }
  });

  test('backup while another process writes and holds a read transaction: every committed row, 0600', async () => {
    const data = join(dir, 'live');
    const config = join(dir, 'live.toml');
    writeFileSync(config, `[server]\ndata_dir = "${data}"\n`);
    const store = await openStore(`sqlite:${join(data, 'gateway.db')}`, clock);
    const reader = new Database(join(data, 'gateway.db'));
    try {
      await addUsers(store, 'a', 20);
      // A reader in the middle of a transaction keeps the WAL from being checkpointed: the rows written after
      // it began live only in the -wal file, and the copy must still hold them.
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM users').get();
      await addUsers(store, 'b', 20);
      writeFileSync(join(data, 'secret'), `${'s'.repeat(48)}\n`, { mode: 0o600 });
      // A key file from before the store held the keys is not needed beside a copy: the keys are in it.
      writeFileSync(join(data, 'signing-keys.json'), '{"keys":[]}', { mode: 0o600 });

      const target = join(dir, 'copy.db');
      const [r] = await Promise.all([cli(['backup', target, '-c', config]), addUsers(store, 'c', 20)]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stdout);
      assert.match(
        lines[0] ?? '',
        new RegExp(`^backed up the store to ${target} \\(\\d+\\.\\d KB, mode 0600\\)`),
      );
      assert.match(lines[0] ?? '', /secret \(server secret\)/);
      assert.doesNotMatch(lines[0] ?? '', /signing-keys/);
      assert.equal(mode(target), 0o600);

      const copy = new Database(target, { readonly: true });
      try {
        assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
        const names = (copy.prepare('SELECT username FROM users').all() as { username: string }[]).map(
          (u) => u.username,
        );
        for (const name of ['a0', 'a19', 'b0', 'b19'])
          assert.ok(names.includes(name), `${name} is in the copy`);
      } finally {
        copy.close();
      }

      const before = readFileSync(target);
      const again = await cli(['backup', target, '-c', config]);
      assert.equal(again.code, 1);
      assert.equal(again.stderr, `error: ${target} already exists; pass --force to replace it\n`);
      assert.deepEqual(readFileSync(target), before, 'the existing file is untouched');
      const forced = await cli(['backup', target, '--force', '-c', config]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(mode(target), 0o600);
    } finally {
      reader.exec('ROLLBACK');
      reader.close();
      await store.close();
    }
  });

  test('a store that is not SQLite, or in memory, is one line saying what to use instead', async () => {
    const pg = join(dir, 'pg.toml');
    writeFileSync(
      pg,
      `[server]\ndata_dir = "${dir}"\nsecret = "${'s'.repeat(40)}"\n[store]\nurl = "postgres://gw@db.internal/gateway"\n`,
    );
    const mem = join(dir, 'mem.toml');
    writeFileSync(mem, `[server]\ndata_dir = "${dir}"\n[store]\nurl = "sqlite::memory:"\n`);
    const [a, b] = await Promise.all([
      cli(['backup', join(dir, 'pg.db'), '-c', pg]),
      cli(['backup', join(dir, 'mem.db'), '-c', mem]),
    ]);
    assert.equal(a.code, 1);
    assert.equal(
      a.stderr,
      "error: backup copies SQLite stores; for a postgres store use that database's own tools (for example pg_dump)\n",
    );
    assert.equal(b.code, 1);
    assert.equal(b.stderr, 'error: the store is in memory: there is nothing to back up\n');
    assert.ok(!existsSync(join(dir, 'pg.db')) && !existsSync(join(dir, 'mem.db')));
  });
});
