// The store conformance suite, third part: identity-provider links, sessions started through a provider,
// group memberships synced from a provider, and the single-use values of a sign-in in progress.
// Called from storeConformance with the store under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreConflictError } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './conformance.ts';

const ISS = 'https://idp.example.com';

export function oidcConformance(current: () => StoreUnderTest): void {
  test('identities: a user created with a link is found by (issuer, subject); a second link of it is refused', async () => {
    const { store, clock } = current();
    const u = await store.users.create({
      username: 'olga',
      email: 'olga@example.com',
      emailVerified: true,
      oidcIdentity: { provider: 'idp', issuer: ISS, subject: 'sub-olga', email: 'olga@example.com' },
    });
    const found = await store.oidcIdentities.find(ISS, 'sub-olga');
    assert.equal(found?.user.id, u.id);
    assert.equal(found?.identity.provider, 'idp');
    assert.equal(found?.identity.createdAt, clock.now());
    assert.equal(found?.identity.lastLoginAt, null);
    assert.equal(await store.oidcIdentities.find(ISS, 'sub-other'), null);
    assert.equal(await store.oidcIdentities.find('https://other.example.com', 'sub-olga'), null);

    // The same identity for another account: no account is left behind without its link.
    await assert.rejects(
      store.users.create({
        username: 'olga2',
        email: 'olga2@example.com',
        emailVerified: true,
        oidcIdentity: { provider: 'idp', issuer: ISS, subject: 'sub-olga', email: null },
      }),
      StoreConflictError,
    );
    assert.equal(await store.users.byUsername('olga2'), null);

    const v = await store.users.create({ username: 'vic', email: 'vic@example.com', emailVerified: true });
    assert.equal(
      await store.oidcIdentities.link({
        provider: 'idp',
        issuer: ISS,
        subject: 'sub-olga',
        userId: v.id,
        email: null,
      }),
      false,
      'already linked to olga',
    );
    assert.equal(
      await store.oidcIdentities.link({
        provider: 'idp',
        issuer: ISS,
        subject: 'sub-vic',
        userId: v.id,
        email: null,
      }),
      true,
    );
    await store.oidcIdentities.recordLogin(ISS, 'sub-vic', 'vic@idp.example.com', clock.now() + 5);
    const vic = await store.oidcIdentities.find(ISS, 'sub-vic');
    assert.equal(vic?.identity.lastLoginAt, clock.now() + 5);
    assert.equal(vic?.identity.email, 'vic@idp.example.com');
    assert.deepEqual(
      (await store.oidcIdentities.listForUser(v.id)).map((i) => i.subject),
      ['sub-vic'],
    );
    // Deleting the user removes the link: the identity can sign up afresh.
    await store.users.delete(v.id);
    assert.equal(await store.oidcIdentities.find(ISS, 'sub-vic'), null);
  });

  test('sessions: provider facts are kept; back-channel logout ends the sessions it names, started before it', async () => {
    const { store, clock } = current();
    const u = await store.users.create({ username: 'pia', email: 'pia@example.com', emailVerified: true });
    const now = clock.now();
    const make = (hash: string, oidc?: { provider: string; subject: string; sid: string | null }) =>
      store.sessions.create({
        tokenHash: hash,
        userId: u.id,
        authMethod: oidc ? `oidc:${oidc.provider}` : 'password',
        idleExpiresAt: now + 60_000,
        absoluteExpiresAt: now + 120_000,
        ip: null,
        userAgent: null,
        ...(oidc ? { oidc: { ...oidc, sealedTokens: `sealed-${hash}` } } : {}),
      });
    const a = await make('o-a', { provider: 'idp', subject: 'sub-pia', sid: 'sid-1' });
    const b = await make('o-b', { provider: 'idp', subject: 'sub-pia', sid: 'sid-2' });
    const c = await make('o-c', { provider: 'other', subject: 'sub-pia', sid: 'sid-1' });
    const p = await make('o-p');
    assert.deepEqual(await store.sessions.oidcOf(a.id), {
      provider: 'idp',
      subject: 'sub-pia',
      sid: 'sid-1',
      sealedTokens: 'sealed-o-a',
    });
    assert.equal(await store.sessions.oidcOf(p.id), null);

    const sel = { provider: 'idp', subject: null, sid: null, startedBefore: now };
    assert.equal(await store.sessions.revokeOidc(sel, now), 0, 'naming nothing ends nothing');
    assert.equal(await store.sessions.revokeOidc({ ...sel, sid: 'sid-1', startedBefore: now - 1 }, now), 0);
    assert.equal(await store.sessions.revokeOidc({ ...sel, sid: 'sid-1', subject: 'sub-x' }, now), 0);
    assert.equal(await store.sessions.revokeOidc({ ...sel, sid: 'sid-1' }, now), 1);
    assert.equal(await store.sessions.findActive('o-a', now), null);
    assert.ok(await store.sessions.findActive('o-b', now));
    assert.ok(await store.sessions.findActive('o-c', now), 'another provider’s session with the same sid');
    assert.equal(await store.sessions.revokeOidc({ ...sel, subject: 'sub-pia' }, now), 1);
    assert.equal(await store.sessions.findActive('o-b', now), null);
    assert.ok(await store.sessions.findActive('o-p', now), 'the password session stays');
    assert.equal(b.authMethod, 'oidc:idp');
    assert.ok(c);
  });

  test('groups from a provider: synced exactly, without touching memberships from other sources', async () => {
    const { store } = current();
    const u = await store.users.create({
      username: 'quinn',
      email: 'quinn@example.com',
      emailVerified: true,
    });
    await store.authz.addMember('ops', u.id); // an operator's membership
    const v0 = await store.authz.version();
    await store.authz.syncMembers(u.id, 'oidc:idp', ['Engineering', 'ops']);
    assert.deepEqual(await store.authz.groupsOf(u.id), ['Engineering', 'ops']);
    assert.ok((await store.authz.version()) > v0, 'claims caches must notice');
    const v1 = await store.authz.version();
    await store.authz.syncMembers(u.id, 'oidc:idp', ['Engineering', 'ops']);
    assert.equal(await store.authz.version(), v1, 'no change, no new version');
    await store.authz.syncMembers(u.id, 'oidc:idp', ['design']);
    assert.deepEqual(await store.authz.groupsOf(u.id), ['design', 'ops'], 'ops stays: the operator added it');
    await store.authz.syncMembers(u.id, 'oidc:other', []);
    await store.authz.syncMembers(u.id, 'oidc:idp', []);
    assert.deepEqual(await store.authz.groupsOf(u.id), ['ops']);
  });

  test('single-use values: creating a hash seen before is a conflict; oidc_state consumes once', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const t = {
      tokenHash: 'jti-hash',
      purpose: 'oidc_logout' as const,
      userId: null,
      email: null,
      payload: null,
      expiresAt: now + 60_000,
    };
    await store.oneTimeTokens.create(t);
    await assert.rejects(store.oneTimeTokens.create(t), StoreConflictError);
    await store.oneTimeTokens.create({
      ...t,
      tokenHash: 'state-hash',
      purpose: 'oidc_state',
      payload: { p: 1 },
    });
    assert.equal(await store.oneTimeTokens.consume('state-hash', 'magic_login', now), null, 'purpose-bound');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.oneTimeTokens.consume('state-hash', 'oidc_state', now)),
    );
    assert.equal(results.filter((r) => r !== null).length, 1);
    assert.deepEqual(results.find((r) => r !== null)?.payload, { p: 1 });
  });
}
