// Housekeeping never stops the gateway answering: with 500 000 expired sessions in the SQLite store, the purge
// runs in batches with the event loop free between them, so the gateway keeps answering within 100 ms.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { purgeStale } from '../../src/services/housekeeping.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const EXPIRED = 500_000;
const ANSWER_WITHIN_MS = 100;

describe('housekeeping on a large store', () => {
  let up: Upstream;
  let gw: TestGateway;

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(`[[route]]\nname = "open"\nupstream = "${up.url}"\nauth = "none"\n`);
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  test(`a purge of ${EXPIRED} expired sessions: every answer meanwhile within ${ANSWER_WITHIN_MS} ms`, async (t) => {
    const db = new Database(gw.config.store.url.slice('sqlite:'.length));
    const now = Date.now();
    db.prepare(
      `INSERT INTO users (id, username, email, created_at, updated_at) VALUES ('u_old', 'old', 'old@example.com', 0, 0)`,
    ).run();
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO sessions (id, token_hash, user_id, auth_method, created_at, last_seen_at, idle_expires_at,
         absolute_expires_at)
       SELECT 'ses_' || i, 'hash_' || i, 'u_old', 'password', 0, 0, ?, ? FROM n`,
    ).run(EXPIRED, now - 1, now - 1);
    // As sessions that expired over weeks would be: long written back to the database file, not one fresh WAL.
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();

    let purging = true;
    const purge = purgeStale(gw.store, { now: () => Date.now() }).finally(() => {
      purging = false;
    });
    // The longest stretch between two answers: a blocked event loop shows here, wherever it falls.
    let longest = 0;
    let answers = 0;
    let last = performance.now();
    while (purging) {
      const res = await fetch(`${gw.url}/open`);
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      const t = performance.now();
      longest = Math.max(longest, t - last);
      last = t;
      answers++;
    }
    const purged = await purge;
    t.diagnostic(`${answers} answers during the purge, at most ${Math.round(longest)} ms apart`);
    assert.equal(purged.sessions, EXPIRED);
    assert.ok(answers > 10, `only ${answers} answers during the purge`);
    assert.ok(longest < ANSWER_WITHIN_MS, `${Math.round(longest)} ms without an answer during the purge`);
  });
});
