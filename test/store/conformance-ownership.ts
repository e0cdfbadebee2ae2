// The store conformance suite, fourth part: handing an account to whoever proved its address
// (resetOwnership) removes every way in someone else may have set, in one step, and nothing of anyone else's.
// Called from storeConformance with the store under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store, User } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './conformance.ts';

const ISS = 'https://idp.example.com';

/** A user with a password, two provider links, a provider group, an operator group, sessions, tokens, links. */
async function squatted(store: Store, name: string, now: number): Promise<User> {
  const u = await store.users.create({
    username: name,
    email: `${name}@example.com`,
    emailVerified: false,
    passwordHash: '$argon2id$squatter',
    oidcIdentity: { provider: 'idp', issuer: ISS, subject: `${name}-a`, email: `${name}@example.com` },
  });
  await store.oidcIdentities.link({
    provider: 'idp',
    issuer: ISS,
    subject: `${name}-b`,
    userId: u.id,
    email: null,
  });
  await store.authz.syncMembers(u.id, 'oidc:idp', [`${name}-from-idp`]);
  await store.authz.addMember(`${name}-by-operator`, u.id);
  for (const i of [1, 2])
    await store.sessions.create({
      tokenHash: `${name}-session-${i}`,
      userId: u.id,
      authMethod: 'password',
      idleExpiresAt: now + 60_000,
      absoluteExpiresAt: now + 120_000,
      ip: null,
      userAgent: null,
    });
  await store.apiTokens.create({
    tokenHash: `${name}-token`,
    userId: u.id,
    name: 'ci',
    claims: null,
    expiresAt: null,
  });
  await store.oneTimeTokens.issue(
    {
      tokenHash: `${name}-reset`,
      purpose: 'reset_password',
      userId: u.id,
      email: u.email,
      payload: null,
      expiresAt: now + 60_000,
    },
    null,
  );
  // An authenticator app and recovery codes the squatter enrolled: they must not lock the owner out.
  const app = await store.secondFactors.create(
    { kind: 'totp', userId: u.id, name: 'Squatter phone', sealedSecret: 'v1.squatter' },
    now,
  );
  await store.secondFactors.confirm(app.id, u.id, now);
  await store.secondFactors.replaceRecoveryCodes(u.id, [`${name}-code`], now);
  return u;
}

export function ownershipConformance(current: () => StoreUnderTest): void {
  test('ownership reset: password, provider links and groups, sessions, tokens and links go at once; the address is confirmed', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await squatted(store, 'sqa', now);
    const bystander = await squatted(store, 'sqb', now);
    const version = await store.authz.version();

    const removed = await store.users.resetOwnership(u.id, now + 10);
    assert.deepEqual(removed, {
      password: true,
      identities: 2,
      groups: 1,
      sessions: 2,
      apiTokens: 1,
      secondFactors: 1,
    });
    assert.deepEqual(await store.secondFactors.listForUser(u.id), []);
    assert.equal(await store.secondFactors.recoveryCodesLeft(u.id), 0);
    assert.equal(await store.users.passwordHash(u.id), null);
    assert.deepEqual(await store.oidcIdentities.listForUser(u.id), []);
    assert.equal(
      await store.oidcIdentities.find(ISS, 'sqa-a'),
      null,
      'the identity can no longer sign in here',
    );
    assert.deepEqual(await store.authz.groupsOf(u.id), ['sqa-by-operator'], 'operator memberships stay');
    assert.equal(await store.sessions.findActive('sqa-session-1', now + 10), null);
    assert.equal(await store.sessions.findActive('sqa-session-2', now + 10), null);
    assert.equal(await store.apiTokens.findUsable('sqa-token', now + 10), null);
    assert.equal(await store.oneTimeTokens.peek('sqa-reset', 'reset_password', now + 10), null);
    const after = await store.users.byId(u.id);
    assert.equal(after?.emailVerifiedAt, now + 10);
    assert.equal(
      after?.passwordChangedAt,
      now + 10,
      'device cookies and password proofs from before are void',
    );
    assert.ok((await store.authz.version()) > version, 'caches of sessions and tokens see it at once');

    // Someone else's account is untouched.
    assert.equal(await store.users.passwordHash(bystander.id), '$argon2id$squatter');
    assert.equal((await store.oidcIdentities.listForUser(bystander.id)).length, 2);
    assert.ok(await store.sessions.findActive('sqb-session-1', now + 10));
    assert.ok(await store.apiTokens.findUsable('sqb-token', now + 10));
    assert.equal((await store.secondFactors.listForUser(bystander.id)).length, 1);
    assert.equal(await store.secondFactors.recoveryCodesLeft(bystander.id), 1);

    // Twice is harmless: nothing is left to remove, and the first confirmation time is kept.
    assert.deepEqual(await store.users.resetOwnership(u.id, now + 20), {
      password: false,
      identities: 0,
      groups: 0,
      sessions: 0,
      apiTokens: 0,
      secondFactors: 0,
    });
    assert.equal((await store.users.byId(u.id))?.emailVerifiedAt, now + 10);
  });

  test('ownership reset: the identity proving the address now is kept, every other one goes', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await squatted(store, 'sqc', now);
    const removed = await store.users.resetOwnership(u.id, now, { issuer: ISS, subject: 'sqc-b' });
    assert.equal(removed.identities, 1);
    assert.deepEqual(
      (await store.oidcIdentities.listForUser(u.id)).map((i) => i.subject),
      ['sqc-b'],
    );
    assert.equal((await store.oidcIdentities.find(ISS, 'sqc-b'))?.user.id, u.id);
  });
}
