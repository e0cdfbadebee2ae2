// The store conformance suite: second factors and recovery codes. Each one-time check (a TOTP step, a WebAuthn
// counter, a recovery code) passes once, and every row belongs to exactly one user.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreConflictError } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './conformance.ts';

export function secondFactorConformance(current: () => StoreUnderTest): void {
  const credential = (id: string) => ({
    credentialId: id,
    publicKey: 'pQECAyYgASFYIA',
    signCount: 5,
    transports: ['usb', 'internal'],
    discoverable: true,
  });

  test('second factors: TOTP enrolment counts only once confirmed; each step is accepted once, never an older one', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await store.users.create({ username: 'tia', email: 'tia@example.com', emailVerified: true });
    const other = await store.users.create({
      username: 'ugo',
      email: 'ugo@example.com',
      emailVerified: true,
    });
    const f = await store.secondFactors.create(
      { kind: 'totp', userId: u.id, name: 'Phone', sealedSecret: 'v1.x' },
      now,
    );
    assert.match(f.id, /^mfa_/);
    assert.deepEqual(
      { kind: f.kind, name: f.name, confirmedAt: f.confirmedAt, totp: f.totp, webauthn: f.webauthn },
      {
        kind: 'totp',
        name: 'Phone',
        confirmedAt: null,
        totp: { sealedSecret: 'v1.x', lastStep: null },
        webauthn: null,
      },
    );
    assert.equal(await store.secondFactors.useTotpStep(f.id, 100, now), false, 'not confirmed yet');
    assert.equal(await store.secondFactors.confirm(f.id, other.id, now), false, "another user's");
    assert.equal(await store.secondFactors.confirm(f.id, u.id, now), true);
    assert.equal(await store.secondFactors.confirm(f.id, u.id, now), false, 'once');
    assert.equal(await store.secondFactors.useTotpStep(f.id, 100, now + 1), true);
    assert.equal(await store.secondFactors.useTotpStep(f.id, 100, now + 2), false, 'the same step again');
    assert.equal(await store.secondFactors.useTotpStep(f.id, 99, now + 3), false, 'an older step');
    assert.equal(await store.secondFactors.useTotpStep(f.id, 101, now + 4), true);
    const after = await store.secondFactors.byId(f.id);
    assert.equal(after?.totp?.lastStep, 101);
    assert.equal(after?.lastUsedAt, now + 4);
    // Two requests with the same code at once: exactly one passes.
    const both = await Promise.all([
      store.secondFactors.useTotpStep(f.id, 102, now + 5),
      store.secondFactors.useTotpStep(f.id, 102, now + 5),
    ]);
    assert.deepEqual(both.sort(), [false, true]);
  });

  test('second factors: passkeys are unique, their counter only moves forward; rename and remove are per user', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await store.users.create({ username: 'val', email: 'val@example.com', emailVerified: true });
    const other = await store.users.create({
      username: 'wes',
      email: 'wes@example.com',
      emailVerified: true,
    });
    const key = await store.secondFactors.create(
      { kind: 'webauthn', userId: u.id, name: 'YubiKey', credential: credential('cred-1'), confirmedAt: now },
      now,
    );
    assert.deepEqual(key.webauthn, credential('cred-1'));
    assert.equal(key.confirmedAt, now);
    await assert.rejects(
      store.secondFactors.create(
        {
          kind: 'webauthn',
          userId: other.id,
          name: 'Copy',
          credential: credential('cred-1'),
          confirmedAt: now,
        },
        now,
      ),
      StoreConflictError,
    );
    assert.equal((await store.secondFactors.byCredentialId('cred-1'))?.userId, u.id);
    assert.equal(await store.secondFactors.byCredentialId('cred-none'), null);
    assert.equal(
      await store.secondFactors.useCredential(key.id, 5, now),
      false,
      'a counter that did not move',
    );
    assert.equal(await store.secondFactors.useCredential(key.id, 6, now + 1), true);
    assert.equal(
      await store.secondFactors.useCredential(key.id, 4, now + 2),
      false,
      'a cloned authenticator',
    );
    assert.equal((await store.secondFactors.byId(key.id))?.webauthn?.signCount, 6);
    const counterless = await store.secondFactors.create(
      {
        kind: 'webauthn',
        userId: u.id,
        name: 'Phone',
        credential: { ...credential('cred-2'), signCount: 0, discoverable: false },
        confirmedAt: now,
      },
      now + 1,
    );
    assert.equal(
      await store.secondFactors.useCredential(counterless.id, 0, now + 2),
      true,
      'keeps no counter',
    );
    assert.equal(counterless.webauthn?.discoverable, false);

    assert.equal(await store.secondFactors.rename(key.id, other.id, 'Mine'), false);
    assert.equal(await store.secondFactors.rename(key.id, u.id, 'Blue key'), true);
    assert.deepEqual(
      (await store.secondFactors.listForUser(u.id)).map((f) => f.name),
      ['Blue key', 'Phone'],
    );
    assert.equal(await store.secondFactors.remove(key.id, other.id), false);
    assert.equal(await store.secondFactors.remove(key.id, u.id), true);
    assert.deepEqual(
      (await store.secondFactors.listForUser(u.id)).map((f) => f.id),
      [counterless.id],
    );
    assert.deepEqual(await store.secondFactors.listForUser(other.id), []);
  });

  test('recovery codes: each works once; regenerating replaces them all; a reset or deleting the user removes everything', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await store.users.create({ username: 'xia', email: 'xia@example.com', emailVerified: true });
    const other = await store.users.create({
      username: 'yan',
      email: 'yan@example.com',
      emailVerified: true,
    });
    await store.secondFactors.replaceRecoveryCodes(u.id, ['h1', 'h2', 'h3'], now);
    await store.secondFactors.replaceRecoveryCodes(other.id, ['h9'], now);
    assert.equal(await store.secondFactors.recoveryCodesLeft(u.id), 3);
    assert.equal(
      await store.secondFactors.useRecoveryCode(other.id, 'h1', now),
      false,
      "another user's code",
    );
    assert.equal(await store.secondFactors.useRecoveryCode(u.id, 'h1', now), true);
    assert.equal(await store.secondFactors.useRecoveryCode(u.id, 'h1', now), false, 'never twice');
    assert.equal(await store.secondFactors.recoveryCodesLeft(u.id), 2);
    await store.secondFactors.replaceRecoveryCodes(u.id, ['n1', 'n2'], now + 1);
    assert.equal(await store.secondFactors.useRecoveryCode(u.id, 'h2', now), false, 'replaced');
    assert.equal(await store.secondFactors.recoveryCodesLeft(u.id), 2);

    await store.secondFactors.create({ kind: 'totp', userId: u.id, name: 'App', sealedSecret: 'v1.y' }, now);
    await store.secondFactors.create(
      { kind: 'totp', userId: other.id, name: 'App', sealedSecret: 'v1.z' },
      now,
    );
    assert.equal(await store.secondFactors.removeAllForUser(u.id), 1);
    assert.deepEqual(await store.secondFactors.listForUser(u.id), []);
    assert.equal(await store.secondFactors.recoveryCodesLeft(u.id), 0);
    assert.equal((await store.secondFactors.listForUser(other.id)).length, 1, 'others keep theirs');
    assert.equal(await store.users.delete(other.id), true);
    assert.deepEqual(await store.secondFactors.listForUser(other.id), []);
    assert.equal(await store.secondFactors.recoveryCodesLeft(other.id), 0);
  });
}
