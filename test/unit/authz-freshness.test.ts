// The freshness protocol on its own: a pushed version, "unknown" failing closed, and asynchronous version
// answers that arrive out of order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AuthzVersion, UNKNOWN_VERSION } from '../../src/ports/authz-versions.ts';
import { AuthzCache, AuthzFreshness } from '../../src/services/authz-freshness.ts';

/** A backend that pushes its version: `current()` answers from memory. */
const pushed = (start: AuthzVersion) => {
  const box = { version: start };
  return { box, versions: { current: () => box.version } };
};

/** A promise the test resolves by hand. */
const deferred = <T>() => {
  let resolve = (_: T) => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('AuthzFreshness', () => {
  test('a pushed version answers synchronously, and a move drops the caches', async () => {
    const { box, versions } = pushed(1);
    const freshness = new AuthzFreshness(versions);
    const cache = new AuthzCache<string, string>(freshness, 10);
    assert.equal(freshness.refresh(), undefined);
    await cache.read('k', async () => 'v');
    assert.equal(cache.get('k'), 'v');
    assert.equal(freshness.refresh(), undefined);
    assert.equal(cache.get('k'), 'v', 'same version: kept');
    box.version = 2;
    freshness.refresh();
    assert.equal(cache.get('k'), undefined);
  });

  test('"unknown" fails closed: caches dropped, nothing read while it lasts is kept', async () => {
    const { box, versions } = pushed(1);
    const freshness = new AuthzFreshness(versions);
    const cache = new AuthzCache<string, string>(freshness, 10);
    freshness.refresh();
    await cache.read('k', async () => 'v');
    box.version = UNKNOWN_VERSION;
    freshness.refresh();
    assert.equal(cache.get('k'), undefined);
    assert.equal(await cache.read('k', async () => 'v'), 'v', 'the read itself still answers');
    assert.equal(cache.get('k'), undefined, 'but is not kept while the version is unknown');
    box.version = 1; // back to the version seen before: still a move, the unknown spell may have hidden changes
    freshness.refresh();
    await cache.read('k', async () => 'v');
    assert.equal(cache.get('k'), 'v');
  });

  test('a read the version overtook answers its request but is not cached', async () => {
    const { box, versions } = pushed(1);
    const freshness = new AuthzFreshness(versions);
    const cache = new AuthzCache<string, string>(freshness, 10);
    freshness.refresh();
    const row = deferred<string | null>();
    const reading = cache.read('k', () => row.promise);
    box.version = 2;
    freshness.refresh();
    row.resolve('before the change');
    assert.equal(await reading, 'before the change');
    assert.equal(cache.get('k'), undefined);
  });

  test('an older asynchronous version answer landing after a newer one is ignored', async () => {
    const answers: ReturnType<typeof deferred<AuthzVersion>>[] = [];
    const freshness = new AuthzFreshness({
      current: () => {
        const d = deferred<AuthzVersion>();
        answers.push(d);
        return d.promise;
      },
    });
    const cache = new AuthzCache<string, string>(freshness, 10);
    const first = freshness.refresh();
    (answers[0] as (typeof answers)[0]).resolve(1);
    await first;
    const older = freshness.refresh();
    const newer = freshness.refresh();
    (answers[2] as (typeof answers)[0]).resolve(2);
    await newer;
    await cache.read('k', async () => 'after the change');
    (answers[1] as (typeof answers)[0]).resolve(1); // asked before the change, answered after it
    await older;
    assert.equal(cache.get('k'), 'after the change', 'the stale answer neither dropped nor rolled back');
    const again = freshness.refresh();
    (answers[3] as (typeof answers)[0]).resolve(2);
    await again;
    assert.equal(cache.get('k'), 'after the change');
  });
});
