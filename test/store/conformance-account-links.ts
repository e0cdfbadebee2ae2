// The store conformance suite, fifth part: the rules that cross tables when an account changes. The links
// that act on an account (reset, invite, sign-in) die with the credential, address or access they were issued
// against, and a disabled account keeps no session. Called from storeConformance with the store under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store, User } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './conformance.ts';

// A sign-in held for its second factor proved the credential too: it goes with the links.
const LINKS = ['reset_password', 'invite', 'magic_login', 'mfa_pending'] as const;

/** A user with two sessions and one unused link of each account-acting purpose. */
async function withLinksAndSessions(store: Store, name: string, now: number): Promise<User> {
  const u = await store.users.create({
    username: name,
    email: `${name}@example.com`,
    emailVerified: true,
    passwordHash: '$argon2id$first',
  });
  for (const purpose of LINKS)
    await store.oneTimeTokens.create({
      tokenHash: `${name}-${purpose}`,
      purpose,
      userId: u.id,
      email: u.email,
      payload: null,
      expiresAt: now + 60_000,
    });
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
  return u;
}

async function liveLinks(store: Store, name: string, now: number): Promise<string[]> {
  const live: string[] = [];
  for (const purpose of LINKS)
    if (await store.oneTimeTokens.peek(`${name}-${purpose}`, purpose, now)) live.push(purpose);
  return live;
}

export function accountLinksConformance(current: () => StoreUnderTest): void {
  test('disabling ends every session and voids the links; enabling revives neither; others untouched', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await withLinksAndSessions(store, 'dis', now);
    await withLinksAndSessions(store, 'bystander', now);
    assert.equal(await store.users.setDisabled(u.id, now), true);
    assert.deepEqual(await store.sessions.listActive(u.id, now), []);
    assert.deepEqual(await liveLinks(store, 'dis', now), []);
    await store.users.setDisabled(u.id, null);
    assert.equal(await store.sessions.findActive('dis-session-1', now), null, 'a stolen cookie stays dead');
    assert.deepEqual(await liveLinks(store, 'dis', now), []);
    assert.equal(
      (await store.sessions.listActive((await store.users.byUsername('bystander'))!.id, now)).length,
      2,
    );
    assert.deepEqual(await liveLinks(store, 'bystander', now), [...LINKS]);
  });

  test('a password change voids the links and is recorded; sessions end only when asked, but the one kept', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await withLinksAndSessions(store, 'pwc', now);
    clock.advance(1000);
    await store.users.setPasswordHash(u.id, '$argon2id$second');
    assert.deepEqual(await liveLinks(store, 'pwc', now), []);
    assert.equal((await store.users.byId(u.id))?.passwordChangedAt, now + 1000);
    assert.equal((await store.sessions.listActive(u.id, now)).length, 2, 'no endSessions: sessions stay');
    const keep = (await store.sessions.findActive('pwc-session-1', now))!.session.id;
    const ended = await store.users.setPasswordHash(u.id, '$argon2id$third', {
      endSessions: { now, except: keep },
    });
    assert.equal(ended, 1, 'the count is of the sessions that ended');
    assert.equal(
      await store.users.setPasswordHash(u.id, '$argon2id$fourth', { endSessions: { now, except: keep } }),
      0,
      'nothing left to end',
    );
    assert.deepEqual(
      (await store.sessions.listActive(u.id, now)).map((s) => s.id),
      [keep],
    );
  });

  test('ending all sessions counts only the ones still usable; expired ones are not "ended"', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await withLinksAndSessions(store, 'cnt', now);
    await store.sessions.create({
      tokenHash: 'cnt-session-old',
      userId: u.id,
      authMethod: 'password',
      idleExpiresAt: now - 1,
      absoluteExpiresAt: now + 120_000,
      ip: null,
      userAgent: null,
    });
    assert.equal(await store.sessions.revokeAllForUser(u.id, now), 2);
    assert.equal(await store.sessions.revokeAllForUser(u.id, now), 0, 'a second call ends nothing');
  });

  test('a rehash is not a change: links, sessions and the change time stay', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await withLinksAndSessions(store, 'reh', now);
    const changedAt = (await store.users.byId(u.id))?.passwordChangedAt;
    clock.advance(1000);
    await store.users.setPasswordHash(u.id, '$argon2id$stronger', { rehash: true });
    assert.equal(await store.users.passwordHash(u.id), '$argon2id$stronger');
    assert.deepEqual(await liveLinks(store, 'reh', now), [...LINKS]);
    assert.equal((await store.users.byId(u.id))?.passwordChangedAt, changedAt);
    assert.equal((await store.sessions.listActive(u.id, now)).length, 2);
  });

  test('an email change voids the links mailed to the old address and counts the new one as confirmed', async () => {
    const { store, clock } = current();
    const now = clock.now();
    const u = await withLinksAndSessions(store, 'eml', now);
    clock.advance(1000);
    await store.users.setEmail(u.id, 'eml-new@example.com');
    assert.deepEqual(await liveLinks(store, 'eml', now), []);
    const after = await store.users.byId(u.id);
    assert.equal(after?.email, 'eml-new@example.com');
    assert.equal(after?.emailVerifiedAt, now + 1000);
  });
}
