// The store conformance suite: every backend must pass it unchanged. Run it from a backend's test file with a
// factory that opens a fresh, migrated store on a controllable clock (called once per test).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type Store, StoreConflictError } from '../../src/ports/store.ts';
import type { TestClock } from '../helpers/gateway.ts';
import { accountLinksConformance } from './conformance-account-links.ts';
import { oidcConformance } from './conformance-oidc.ts';
import { ownershipConformance } from './conformance-ownership.ts';
import { secondFactorConformance } from './conformance-second-factors.ts';
import { sharedStartConformance } from './conformance-shared-start.ts';
import { signInConformance } from './conformance-sign-in.ts';

export interface StoreUnderTest {
  store: Store;
  clock: TestClock;
  cleanup(): Promise<void>;
}

export function storeConformance(backend: string, open: () => Promise<StoreUnderTest>): void {
  describe(`store conformance: ${backend}`, () => {
    let s: StoreUnderTest;
    let store: Store;
    // A fresh store for every test: no test sees another's rows, so each states everything it relies on.
    beforeEach(async () => {
      s = await open();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    test('is ready, with no pending migrations', async () => {
      await store.ready();
      assert.deepEqual((await store.migrationState()).pending, []);
    });

    test('users: create, look up by id, username and email; timestamps from the clock', async () => {
      const u = await store.users.create({ username: 'ann', email: 'ann@example.com', emailVerified: true });
      assert.match(u.id, /^usr_/);
      assert.equal(u.createdAt, s.clock.now());
      assert.equal(u.emailVerifiedAt, s.clock.now());
      assert.equal(u.disabledAt, null);
      assert.deepEqual(await store.users.byId(u.id), u);
      assert.deepEqual(await store.users.byUsername('ann'), u);
      assert.deepEqual(await store.users.byEmail('ann@example.com'), u);
      assert.equal(await store.users.byUsername('nobody'), null);
      const unverified = await store.users.create({
        username: 'ben',
        email: 'ben@example.com',
        emailVerified: false,
      });
      assert.equal(unverified.emailVerifiedAt, null);
      assert.equal(await store.users.count(), 2);
      assert.deepEqual(
        (await store.users.list()).map((x) => x.username),
        ['ann', 'ben'],
      );
    });

    test('users: username and email are unique, and a conflict writes nothing', async () => {
      await store.users.create({ username: 'ann', email: 'ann@example.com', emailVerified: true });
      const before = await store.users.count();
      await assert.rejects(
        store.users.create({ username: 'ann', email: 'other@example.com', emailVerified: false }),
        (e: unknown) => e instanceof StoreConflictError && e.field === 'username',
      );
      await assert.rejects(
        store.users.create({ username: 'ann2', email: 'ann@example.com', emailVerified: false }),
        (e: unknown) => e instanceof StoreConflictError && e.field === 'email',
      );
      await assert.rejects(
        store.users.create({
          username: 'cat',
          email: 'cat@example.com',
          emailVerified: false,
          roles: ['no-such-role'],
        }),
      );
      assert.equal(await store.users.count(), before);
      assert.equal(await store.users.byUsername('cat'), null);
    });

    test('users: password hash stored with the user, replaced later', async () => {
      const u = await store.users.create({
        username: 'dora',
        email: 'dora@example.com',
        emailVerified: true,
        passwordHash: '$argon2id$first',
        roles: ['admin'],
      });
      assert.equal(await store.users.passwordHash(u.id), '$argon2id$first');
      await store.users.setPasswordHash(u.id, '$argon2id$second');
      assert.equal(await store.users.passwordHash(u.id), '$argon2id$second');
      assert.deepEqual(await store.authz.claimGrants(u.id), [{ context: '', claim: 'gateway.admin' }]);
    });

    test('users: disable, enable, delete', async () => {
      const u = await store.users.create({ username: 'eve', email: 'eve@example.com', emailVerified: true });
      assert.equal(await store.users.setDisabled(u.id, 123), true);
      assert.equal((await store.users.byId(u.id))?.disabledAt, 123);
      await store.users.setDisabled(u.id, null);
      assert.equal((await store.users.byId(u.id))?.disabledAt, null);
      assert.equal(await store.users.delete(u.id), true);
      assert.equal(await store.users.byId(u.id), null);
      assert.equal(await store.users.delete(u.id), false);
      assert.equal(await store.users.setDisabled('usr_missing', 1), false);
    });

    test('api tokens: usable until revoked or expired; owner comes along', async () => {
      const u = await store.users.create({ username: 'fay', email: 'fay@example.com', emailVerified: true });
      const now = s.clock.now();
      const t = await store.apiTokens.create({
        tokenHash: 'h-fay-1',
        userId: u.id,
        name: 'ci',
        claims: ['a', 'b'],
        expiresAt: now + 1000,
      });
      assert.match(t.id, /^tok_/);
      assert.deepEqual(t.claims, ['a', 'b']);
      const found = await store.apiTokens.findUsable('h-fay-1', now);
      assert.equal(found?.token.id, t.id);
      assert.equal(found?.user.username, 'fay');
      assert.equal(await store.apiTokens.findUsable('h-fay-1', now + 1000), null, 'expired at expires_at');
      assert.equal(await store.apiTokens.findUsable('h-unknown', now), null);
      assert.equal(await store.apiTokens.revoke(t.id, now), true);
      assert.equal(await store.apiTokens.revoke(t.id, now), false, 'second revoke changes nothing');
      assert.equal(await store.apiTokens.findUsable('h-fay-1', now), null);
      assert.equal((await store.apiTokens.byId(t.id))?.revokedAt, now);
    });

    test('api tokens: duplicate hash is a conflict; list per user; deleted with the user', async () => {
      const u = await store.users.create({ username: 'gus', email: 'gus@example.com', emailVerified: true });
      const t = await store.apiTokens.create({
        tokenHash: 'h-gus',
        userId: u.id,
        name: 'x',
        claims: null,
        expiresAt: null,
      });
      assert.equal(t.claims, null);
      await assert.rejects(
        store.apiTokens.create({
          tokenHash: 'h-gus',
          userId: u.id,
          name: 'y',
          claims: null,
          expiresAt: null,
        }),
        StoreConflictError,
      );
      assert.deepEqual(
        (await store.apiTokens.list(u.id)).map((x) => x.id),
        [t.id],
      );
      assert.ok((await store.apiTokens.list()).length >= 1);
      await store.users.delete(u.id);
      assert.equal(await store.apiTokens.byId(t.id), null);
    });

    test('api tokens: last use is written at most once per interval', async () => {
      const u = await store.users.create({ username: 'hal', email: 'hal@example.com', emailVerified: true });
      const t = await store.apiTokens.create({
        tokenHash: 'h-hal',
        userId: u.id,
        name: 'x',
        claims: null,
        expiresAt: null,
      });
      await store.apiTokens.touch(t.id, 1_000_000, 60_000);
      await store.apiTokens.touch(t.id, 1_030_000, 60_000);
      assert.equal((await store.apiTokens.byId(t.id))?.lastUsedAt, 1_000_000);
      await store.apiTokens.touch(t.id, 1_060_000, 60_000);
      assert.equal((await store.apiTokens.byId(t.id))?.lastUsedAt, 1_060_000);
    });

    test('authz: roles, groups, grants global and per context', async () => {
      const u = await store.users.create({ username: 'ivy', email: 'ivy@example.com', emailVerified: true });
      await store.authz.setRole('reader', ['wiki.read']);
      await store.authz.setRole('editor', ['wiki.read', 'wiki.write']);
      assert.equal(await store.authz.roleExists('reader'), true);
      assert.equal(await store.authz.roleExists('nope'), false);
      assert.equal(await store.authz.grant('reader', { userId: u.id }, ''), true);
      assert.equal(await store.authz.grant('reader', { userId: u.id }, ''), false, 'idempotent');
      assert.equal(await store.authz.addMember('staff', u.id), true);
      assert.equal(await store.authz.addMember('staff', u.id), false);
      assert.deepEqual(await store.authz.groupsOf(u.id), ['staff']);
      assert.equal(await store.authz.grant('editor', { group: 'staff' }, 'wiki'), true);
      const grants = (await store.authz.claimGrants(u.id)).map((g) => `${g.context}:${g.claim}`).sort();
      assert.deepEqual(grants, [':wiki.read', 'wiki:wiki.read', 'wiki:wiki.write']);
      const listed = await store.authz.listGrants();
      assert.ok(listed.some((g) => g.role === 'editor' && g.group === 'staff' && g.context === 'wiki'));
      assert.ok(listed.some((g) => g.role === 'reader' && g.username === 'ivy' && g.context === ''));
      const roles = await store.authz.listRoles();
      assert.deepEqual(
        roles.find((r) => r.name === 'editor'),
        { name: 'editor', builtin: false, claims: ['wiki.read', 'wiki.write'] },
      );
      assert.deepEqual(
        roles.find((r) => r.name === 'admin'),
        { name: 'admin', builtin: true, claims: ['gateway.admin'] },
      );
      await assert.rejects(store.authz.grant('nope', { userId: u.id }, ''));
    });

    test('authz: revoking and leaving groups removes claims; setRole replaces claims', async () => {
      const u = await store.users.create({ username: 'jo', email: 'jo@example.com', emailVerified: true });
      await store.authz.setRole('viewer', ['a.read']);
      await store.authz.grant('viewer', { userId: u.id }, 'ctx');
      await store.authz.addMember('team', u.id);
      await store.authz.grant('viewer', { group: 'team' }, '');
      assert.equal((await store.authz.claimGrants(u.id)).length, 2);
      assert.equal(await store.authz.revoke('viewer', { userId: u.id }, 'ctx'), true);
      assert.equal(await store.authz.revoke('viewer', { userId: u.id }, 'ctx'), false);
      assert.equal(await store.authz.removeMember('team', u.id), true);
      assert.deepEqual(await store.authz.claimGrants(u.id), []);
      await store.authz.addMember('team', u.id);
      await store.authz.setRole('viewer', ['b.read']);
      assert.deepEqual(await store.authz.claimGrants(u.id), [{ context: '', claim: 'b.read' }]);
      assert.equal(await store.authz.revoke('viewer', { group: 'no-such-group' }, ''), false);
    });

    test('authz version moves on every change that can alter claims or identity', async () => {
      const u = await store.users.create({ username: 'kim', email: 'kim@example.com', emailVerified: true });
      const steps: [string, () => Promise<unknown>][] = [
        ['setRole', () => store.authz.setRole('k-role', ['k.claim'])],
        ['grant', () => store.authz.grant('k-role', { userId: u.id }, '')],
        ['addMember', () => store.authz.addMember('k-group', u.id)],
        ['removeMember', () => store.authz.removeMember('k-group', u.id)],
        ['revoke', () => store.authz.revoke('k-role', { userId: u.id }, '')],
        ['disable', () => store.users.setDisabled(u.id, 1)],
        ['delete', () => store.users.delete(u.id)],
      ];
      for (const [name, step] of steps) {
        const before = await store.authz.version();
        await step();
        assert.notEqual(await store.authz.version(), before, `${name} must move the version`);
      }
    });
    signInConformance(() => s);
    oidcConformance(() => s);
    ownershipConformance(() => s);
    accountLinksConformance(() => s);
    sharedStartConformance(() => s);
    secondFactorConformance(() => s);
  });
}
