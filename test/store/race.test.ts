// The concurrency promises of the store port, with real parallelism: worker threads, each with its own
// connection to one SQLite file or one PostgreSQL database. The adapters must never break them; the
// deliberately broken variants (mutants.ts) must be caught, or these races prove nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RacePool } from './race-pool.ts';
import { chargeRace, consumeRace, firstKeyRace, setupLinkRace, updateRace, usernameRace } from './races.ts';

const CONTENDERS = 4;

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`store races (${backend}, worker threads with their own connections)`, () => {
    let pool: RacePool;
    before(() => {
      pool = RacePool.start(CONTENDERS, backend);
    });
    after(async () => {
      await pool.close();
    });

    test('a one-time token is consumed by exactly one of many concurrent callers', async () => {
      assert.deepEqual(await consumeRace(pool, 'real', 10, 30), []);
    });
    test('a throttle admits exactly its limit of a concurrent burst, and counts each', async () => {
      assert.deepEqual(await chargeRace(pool, 'real', 20), []);
    });
    test('concurrent counter updates are never lost', async () => {
      assert.deepEqual(await updateRace(pool, 'real', 10), []);
    });
    test('of many concurrent sign-ups with one username, one is created and the rest conflict', async () => {
      assert.deepEqual(await usernameRace(pool, 'real', 5), []);
    });

    test('of instances starting together on an empty store, exactly one stores the first signing key', async () => {
      assert.deepEqual(await firstKeyRace(pool, 'real', 10), []);
    });
    test('instances starting together without users print one and the same setup link', async () => {
      assert.deepEqual(await setupLinkRace(pool, 'real', 10), []);
    });

    // The proof that the races above can fail: the same races against a store broken on purpose.
    test('caught: a select-then-update consume lets a token be used twice', async () => {
      assert.ok((await consumeRace(pool, 'naive-consume', 2)).length > 0, 'the naive consume went unnoticed');
    });
    test('caught: a read-then-write throttle admits more than its limit and loses counts', async () => {
      assert.ok((await chargeRace(pool, 'racy-throttle', 2)).length > 0, 'the racy charge went unnoticed');
      assert.ok((await updateRace(pool, 'racy-throttle', 2)).length > 0, 'the racy update went unnoticed');
    });
    test('caught: look-then-add stores more than one first signing key', async () => {
      assert.ok(
        (await firstKeyRace(pool, 'racy-first-key', 3)).length > 0,
        'the racy first key went unnoticed',
      );
    });
    test('caught: each start replacing the setup link prints different links', async () => {
      assert.ok(
        (await setupLinkRace(pool, 'racy-single-link', 3)).length > 0,
        'the racy link went unnoticed',
      );
    });
  });
}
