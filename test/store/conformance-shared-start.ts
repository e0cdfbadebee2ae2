// The store conformance suite, fifth part: what instances starting on one store must agree on — the assertion
// signing keys (exactly one first set, however many add it at once) and the single live first-run setup link.
// Called from storeConformance with the store under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type NewOneTimeToken, StoreConflictError, type StoredSigningKey } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './conformance.ts';

/** A key row: the store keeps what it is given and never looks inside the sealed half. */
const key = (kid: string, activeFrom: number, createdAt = activeFrom): StoredSigningKey => ({
  kid,
  createdAt,
  activeFrom,
  publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}` },
  sealedPrivateJwk: `v1.sealed-${kid}`,
});

const setupLink = (hash: string, expiresAt: number, nonce = hash): NewOneTimeToken => ({
  tokenHash: hash,
  purpose: 'setup',
  userId: null,
  email: null,
  payload: { nonce },
  expiresAt,
});

export function sharedStartConformance(current: () => StoreUnderTest): void {
  test('signing keys: the first set is stored only into an empty store; rows come back as stored', async () => {
    const { store, clock } = current();
    const now = clock.now();
    assert.deepEqual(await store.signingKeys.list(), []);
    assert.equal(await store.signingKeys.addIfEmpty([key('k-old', now - 1), key('k-new', now)]), true);
    assert.equal(await store.signingKeys.addIfEmpty([key('k-other', now)]), false, 'not empty any more');
    assert.deepEqual(await store.signingKeys.list(), [key('k-old', now - 1), key('k-new', now)]);
  });

  test('signing keys: concurrent first adds store exactly one set', async () => {
    const { store, clock } = current();
    const won = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.signingKeys.addIfEmpty([key(`k-${i}`, clock.now())])),
    );
    assert.equal(won.filter(Boolean).length, 1);
    const stored = await store.signingKeys.list();
    assert.deepEqual(
      stored.map((k) => k.kid),
      [`k-${won.indexOf(true)}`],
    );
  });

  test('signing keys: add lists by activation, refuses a taken kid; remove says whether it removed', async () => {
    const { store, clock } = current();
    const now = clock.now();
    await store.signingKeys.addIfEmpty([key('k-1', now)]);
    await store.signingKeys.add(key('k-3', now + 60_000, now));
    await store.signingKeys.add(key('k-2', now + 30_000, now));
    await assert.rejects(
      store.signingKeys.add(key('k-2', now + 90_000)),
      (e: unknown) => e instanceof StoreConflictError && e.field === 'kid',
    );
    assert.deepEqual(
      (await store.signingKeys.list()).map((k) => [k.kid, k.activeFrom]),
      [
        ['k-1', now],
        ['k-2', now + 30_000],
        ['k-3', now + 60_000],
      ],
    );
    assert.equal(await store.signingKeys.remove('k-2'), true);
    assert.equal(await store.signingKeys.remove('k-2'), false);
    assert.equal(await store.signingKeys.remove('nope'), false);
    assert.deepEqual(
      (await store.signingKeys.list()).map((k) => k.kid),
      ['k-1', 'k-3'],
    );
  });

  test('single link: issued when none is live, else the live one comes back and nothing is stored', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const first = await store.oneTimeTokens.issueIfNone(setupLink('s-1', now + 1000, 'n-1'), now);
    assert.equal(first.issued, true);
    assert.equal(first.tokenHash, 's-1');
    assert.deepEqual(first.token.payload, { nonce: 'n-1' });
    assert.equal(first.token.expiresAt, now + 1000);
    assert.equal(first.token.createdAt, now);

    const again = await store.oneTimeTokens.issueIfNone(setupLink('s-2', now + 5000, 'n-2'), now);
    assert.deepEqual(again, { ...first, issued: false }, 'the live one, not the candidate');
    assert.equal(await store.oneTimeTokens.peek('s-2', 'setup', now), null, 'the candidate was not stored');
    const concurrent = await Promise.all(
      ['a', 'b', 'c'].map((h) => store.oneTimeTokens.issueIfNone(setupLink(h, now + 5000), now)),
    );
    assert.ok(concurrent.every((c) => c.tokenHash === 's-1' && !c.issued));
  });

  test('single link: a used or expired link is replaced, and only links of that purpose are touched', async () => {
    const { store, clock } = current();
    const now = clock.now();
    await store.oneTimeTokens.create({
      tokenHash: 'invite-1',
      purpose: 'invite',
      userId: null,
      email: 'i@example.com',
      payload: null,
      expiresAt: now + 100_000,
    });
    await store.oneTimeTokens.issueIfNone(setupLink('s-1', now + 1000), now);
    assert.ok(await store.oneTimeTokens.consume('s-1', 'setup', now));
    const afterUse = await store.oneTimeTokens.issueIfNone(setupLink('s-2', now + 1000), now);
    assert.equal(afterUse.issued, true);
    assert.equal(afterUse.tokenHash, 's-2');

    clock.advance(1000); // s-2 expires now
    const afterExpiry = await store.oneTimeTokens.issueIfNone(
      setupLink('s-3', clock.now() + 1000),
      clock.now(),
    );
    assert.equal(afterExpiry.tokenHash, 's-3');
    // The dead ones are gone: exactly one setup row is left, and the invite is untouched.
    assert.equal(await store.oneTimeTokens.deletePurpose('setup'), 1);
    assert.ok(await store.oneTimeTokens.peek('invite-1', 'invite', clock.now()));
  });
}
