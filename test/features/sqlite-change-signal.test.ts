// The SQLite store reads its authz version only when something may have changed: no read per request while
// nothing does; at once after its own writes; and, through a watch on the file, soon after another process's
// write (well before the one-second backstop), so a revocation from the CLI still reaches a running server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../src/adapters/open-store.ts';
import { MAX_AGE_MS, SETTLE_MS } from '../../src/adapters/sqlite/change-signal.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Store } from '../../src/ports/store.ts';
import { tempDir } from '../helpers/gateway.ts';
import { until } from '../helpers/until.ts';

// Counts the reads of the version row: the statement is wrapped where the adapter prepares it.
let versionReads = 0;
const prepare = Database.prototype.prepare;

describe('SQLite authz version: read on change, not per request', () => {
  let store: Store;
  let file: string;

  before(async () => {
    Database.prototype.prepare = function (this: Database.Database, source: string) {
      const statement = prepare.call(this, source);
      if (!source.includes("key = 'authz_version'")) return statement;
      const get = statement.get.bind(statement) as (...args: unknown[]) => unknown;
      statement.get = ((...args: unknown[]) => {
        versionReads++;
        return get(...args);
      }) as typeof statement.get;
      return statement;
    } as typeof prepare;
    file = join(tempDir(), 'gateway.db');
    store = await openStore(`sqlite:${file}`, systemClock);
  });
  after(async () => {
    Database.prototype.prepare = prepare;
    await store.close();
  });

  const settled = () => new Promise((r) => setTimeout(r, SETTLE_MS + 50));

  test('nothing changed: a thousand asks, at most one read', async () => {
    store.authz.versionNow?.();
    await settled(); // the migrations' own writes are reported by the watch too
    store.authz.versionNow?.();
    const before = versionReads;
    for (let i = 0; i < 1000; i++) store.authz.versionNow?.();
    assert.ok(versionReads - before <= 1, `${versionReads - before} reads`);
  });

  test('a write through this process is seen by the very next ask', async () => {
    await settled();
    const v0 = store.authz.versionNow?.();
    await store.authz.setRole('viewer', ['wiki.read']);
    assert.notEqual(store.authz.versionNow?.(), v0);
  });

  test('a write by another process is seen soon, through the watch, not the one-second backstop', async () => {
    await settled();
    const v0 = store.authz.versionNow?.();
    const started = Date.now();
    const child = spawnSync(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
         db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'authz_version'").run(); db.close();`,
        file,
      ],
      { cwd: process.cwd(), encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    await until(() => store.authz.versionNow?.() !== v0, {
      what: 'the other process’s change',
      timeoutMs: MAX_AGE_MS / 2,
      intervalMs: 5,
    });
    assert.ok(Date.now() - started < MAX_AGE_MS, 'seen through the watch');
  });
});
