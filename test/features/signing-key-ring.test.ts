// The keys one instance holds, over a real store: a rotation or a removal made elsewhere is picked up by the
// timer without a restart; a key this instance cannot open, or a store that does not answer, leaves the keys it
// holds in use instead of publishing something it cannot sign with (or nothing at all).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createSqliteStore } from '../../src/adapters/sqlite/index.ts';
import { generateSigningKey } from '../../src/crypto/signing-keys.ts';
import type { Store } from '../../src/ports/store.ts';
import { KEY_ACTIVATION_DELAY_MS, SigningKeyAdmin } from '../../src/services/signing-key-admin.ts';
import { SigningKeySealer, SigningKeySecretError } from '../../src/services/signing-key-seal.ts';
import { type SigningKeyDeps, SigningKeyRing } from '../../src/services/signing-keys.ts';
import { TestClock, tempDir } from '../helpers/gateway.ts';
import { until } from '../helpers/until.ts';

const SECRET = 'a server secret of at least thirty-two bytes';

describe('the key ring of one instance', () => {
  let dir: string;
  let store: Store;
  let clock: TestClock;
  let deps: SigningKeyDeps;

  beforeEach(() => {
    dir = tempDir('hgw-ring-');
    clock = new TestClock();
    store = createSqliteStore({ path: join(dir, 'gw.db'), clock });
    deps = { store, clock, secret: SECRET, legacyKeys: () => null };
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const kids = (ring: SigningKeyRing) => ring.keys.jwks.keys.map((k) => k.kid);

  test('a first start makes one key, a second finds it; neither signs with a key before its instant', async () => {
    const first = await SigningKeyRing.open(deps);
    assert.equal(first.outcome, 'created');
    const second = await SigningKeyRing.open(deps);
    assert.equal(second.outcome, 'present');
    assert.deepEqual(second.ring.keys.jwks, first.ring.keys.jwks);

    const changed: string[][] = [];
    const { ring } = await SigningKeyRing.open(deps, { changed: (k) => changed.push(k) });
    ring.start(20);
    try {
      const admin = new SigningKeyAdmin({ ...deps, secret: () => SECRET });
      const { added, current } = await admin.rotate();
      assert.equal(added.activeFrom, clock.now() + KEY_ACTIVATION_DELAY_MS);
      await until(() => kids(ring).length === 2, { what: 'the rotated key published' });
      assert.deepEqual(changed, [[current.kid, added.kid]]);
      assert.equal(ring.keys.signingKid(clock.now()), current.kid, 'published first, not signing yet');
      assert.equal(ring.keys.signingKid(added.activeFrom), added.kid);

      clock.advance(KEY_ACTIVATION_DELAY_MS + 200_000);
      await admin.remove(current.kid);
      await until(() => kids(ring).length === 1, { what: 'the removed key gone' });
      assert.deepEqual(kids(ring), [added.kid]);
    } finally {
      await ring.stop();
    }
  });

  test('a key sealed under another secret, or an unreadable store, leaves the held keys in use', async () => {
    const failures: unknown[] = [];
    const { ring } = await SigningKeyRing.open(deps, { refreshFailed: (err) => failures.push(err) });
    const held = ring.keys;
    const foreign = new SigningKeySealer(`${SECRET} of another deployment`).seal({
      kid: 'key_foreign',
      createdAt: clock.now(),
      activeFrom: clock.now() + KEY_ACTIVATION_DELAY_MS,
      privateJwk: generateSigningKey().privateJwk,
    });
    await store.signingKeys.add(foreign);
    await assert.rejects(ring.refresh(), SigningKeySecretError);
    assert.equal(ring.keys, held, 'neither published nor signed with');
    // Starting is refused outright: this instance would publish and sign with other keys than the rest.
    await assert.rejects(
      SigningKeyRing.open(deps),
      /key_foreign in the store was sealed with another server secret/,
    );

    ring.start(20);
    await store.close();
    await until(() => failures.length > 0, { what: 'a failed re-read reported' });
    await ring.stop();
    assert.equal(ring.keys, held);
    store = createSqliteStore({ path: join(dir, 'gw.db'), clock }); // for afterEach
  });
});
