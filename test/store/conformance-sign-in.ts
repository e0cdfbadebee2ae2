// The store conformance suite, second part: sessions, throttles, one-time tokens and the mail outbox.
// Called from storeConformance with the store under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoreUnderTest } from './conformance.ts';

export function signInConformance(current: () => StoreUnderTest): void {
  test('sessions: found only while usable; touch renews without passing the cap; revocation moves the version', async () => {
    // The suite opens a fresh store before each test: look it up when the test runs.
    const s = current();
    const { store } = s;
    const u = await store.users.create({ username: 'sam', email: 'sam@example.com', emailVerified: true });
    const now = s.clock.now();
    const base = { userId: u.id, authMethod: 'password', ip: '192.0.2.1', userAgent: 'UA' };
    const a = await store.sessions.create({
      ...base,
      tokenHash: 'h-a',
      idleExpiresAt: now + 1000,
      absoluteExpiresAt: now + 5000,
    });
    assert.match(a.id, /^ses_/);
    assert.equal(a.createdAt, now);
    assert.equal(a.lastSeenAt, now);
    assert.deepEqual((await store.sessions.findActive('h-a', now))?.user.username, 'sam');
    assert.equal(await store.sessions.findActive('h-a', now + 1000), null, 'idle expiry');
    assert.equal(await store.sessions.findActive('nope', now), null);
    // A renewal older than the interval is written; a newer one is skipped.
    await store.sessions.touch(a.id, now + 900, now + 1900, 60_000);
    assert.equal((await store.sessions.findActive('h-a', now + 950))?.session.idleExpiresAt, now + 1000);
    await store.sessions.touch(a.id, now + 950, now + 1950, 0);
    const touched = (await store.sessions.listActive(u.id, now))[0];
    assert.equal(touched?.lastSeenAt, now + 950);
    assert.equal(touched?.idleExpiresAt, now + 1950);
    // Once expired, a session stays expired: a late renewal (a request that began before) revives nothing.
    await store.sessions.touch(a.id, now + 2000, now + 3000, 0);
    assert.equal((await store.sessions.listActive(u.id, now))[0]?.idleExpiresAt, now + 1950);
    const b = await store.sessions.create({
      ...base,
      tokenHash: 'h-b',
      idleExpiresAt: now + 1000,
      absoluteExpiresAt: now + 5000,
    });
    const c = await store.sessions.create({
      ...base,
      tokenHash: 'h-c',
      idleExpiresAt: now + 1000,
      absoluteExpiresAt: now + 5000,
    });
    assert.equal((await store.sessions.listActive(u.id, now)).length, 3);
    const v0 = await store.authz.version();
    assert.equal(await store.sessions.revoke(a.id, now), true);
    assert.notEqual(await store.authz.version(), v0, 'revocation must move the version');
    assert.equal(await store.sessions.revoke(a.id, now), false);
    assert.equal(await store.sessions.findActive('h-a', now), null);
    const other = await store.users.create({
      username: 'sue',
      email: 'sue@example.com',
      emailVerified: true,
    });
    assert.equal(await store.sessions.revoke(b.id, now, other.id), false, 'only the owner may end it');
    assert.equal(await store.sessions.revokeAllForUser(u.id, now, c.id), 1);
    assert.deepEqual(
      (await store.sessions.listActive(u.id, now)).map((x) => x.id),
      [c.id],
    );
    assert.ok((await store.sessions.deleteExpired(now + 10_000, now + 1)) >= 3);
    await store.users.delete(u.id);
    assert.equal(await store.sessions.findActive('h-c', now), null);
  });

  test('throttles: failures are counted atomically, survive reads, and clear', async () => {
    // The suite opens a fresh store before each test: look it up when the test runs.
    const s = current();
    const { store } = s;
    const next = (prev: { failures: number } | null) => ({
      failures: (prev?.failures ?? 0) + 1,
      lastFailureAt: s.clock.now(),
      blockedUntil: s.clock.now() + 1000,
    });
    await Promise.all(Array.from({ length: 10 }, () => store.throttles.update('ip:x', next)));
    const got = await store.throttles.get(['ip:x', 'ip:none']);
    assert.equal(got.get('ip:x')?.failures, 10);
    assert.equal(got.has('ip:none'), false);
    // charge: all or nothing — a blocked key stops the attempt and nothing is counted.
    const now = s.clock.now();
    const once = (prev: { failures: number } | null) => ({
      failures: (prev?.failures ?? 0) + 1,
      lastFailureAt: now,
      blockedUntil: 0,
    });
    assert.equal(
      await store.throttles.charge(
        [
          { key: 'ip:y', next: once },
          { key: 'ip:x', next: once },
        ],
        now,
      ),
      1000,
    );
    assert.equal((await store.throttles.get(['ip:y'])).size, 0);
    assert.equal(await store.throttles.charge([{ key: 'ip:y', next: once }], now), 0);
    assert.equal((await store.throttles.get(['ip:y'])).get('ip:y')?.failures, 1);
    assert.equal(await store.throttles.purge(now, now + 1), 1, 'only the counter that blocks nothing goes');
    await store.throttles.clear(['ip:x']);
    assert.equal((await store.throttles.get(['ip:x'])).size, 0);
  });

  test('one-time tokens: peek does not use up; consume succeeds exactly once, never after expiry', async () => {
    // The suite opens a fresh store before each test: look it up when the test runs.
    const s = current();
    const { store } = s;
    const now = s.clock.now();
    const t = { purpose: 'setup' as const, userId: null, email: null, payload: { a: 1 } };
    await store.oneTimeTokens.create({ ...t, tokenHash: 'ot-1', expiresAt: now + 1000 });
    await store.oneTimeTokens.create({ ...t, tokenHash: 'ot-2', expiresAt: now + 1000 });
    assert.deepEqual((await store.oneTimeTokens.peek('ot-1', 'setup', now))?.payload, { a: 1 });
    assert.equal(await store.oneTimeTokens.peek('ot-1', 'invite', now), null, 'purpose must match');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => store.oneTimeTokens.consume('ot-1', 'setup', now)),
    );
    assert.equal(results.filter((r) => r !== null).length, 1);
    assert.equal(await store.oneTimeTokens.peek('ot-1', 'setup', now), null);
    assert.equal(await store.oneTimeTokens.consume('ot-2', 'setup', now + 1000), null, 'expired');
    assert.equal(await store.oneTimeTokens.deletePurpose('setup'), 2);
  });
  test('one-time tokens: issue replaces earlier unconsumed tokens of the purpose and queues the mail atomically', async () => {
    // The suite opens a fresh store before each test: look it up when the test runs.
    const s = current();
    const { store } = s;
    const u = await store.users.create({
      username: 'otto',
      email: 'otto@example.com',
      emailVerified: false,
    });
    const now = s.clock.now();
    const base = {
      purpose: 'reset_password' as const,
      userId: u.id,
      email: u.email,
      payload: null,
      expiresAt: now + 1000,
    };
    const mail = { recipient: u.email, template: 'reset', payload: 'sealed' };
    const depth0 = await store.outbox.depth();
    await store.oneTimeTokens.issue({ ...base, tokenHash: 'r-1' }, mail);
    await store.oneTimeTokens.issue({ ...base, tokenHash: 'r-2' }, mail);
    assert.equal(
      await store.oneTimeTokens.peek('r-1', 'reset_password', now),
      null,
      'the earlier link is void',
    );
    assert.ok(await store.oneTimeTokens.peek('r-2', 'reset_password', now));
    assert.equal(await store.outbox.depth(), depth0 + 2);
    // Without a user, the email scopes the replacement.
    const anon = {
      purpose: 'magic_login' as const,
      userId: null,
      email: 'new@example.com',
      payload: { r: '/' },
      expiresAt: now + 1000,
    };
    await store.oneTimeTokens.issue({ ...anon, tokenHash: 'm-1' }, null);
    await store.oneTimeTokens.issue({ ...anon, tokenHash: 'm-2' }, null);
    assert.equal(await store.oneTimeTokens.peek('m-1', 'magic_login', now), null);
    assert.deepEqual((await store.oneTimeTokens.peek('m-2', 'magic_login', now))?.payload, { r: '/' });
    // A token that collides is refused, and its mail is not queued either.
    await assert.rejects(
      store.oneTimeTokens.issue({ ...base, userId: null, email: 'x@example.com', tokenHash: 'r-2' }, mail),
    );
    assert.equal(await store.outbox.depth(), depth0 + 2);
    await store.users.markEmailVerified(u.id, now + 5);
    await store.users.markEmailVerified(u.id, now + 9);
    assert.equal((await store.users.byId(u.id))?.emailVerifiedAt, now + 5);
  });

  test('outbox: due mails are leased to one sender, retried when failed, sent once', async () => {
    // The suite opens a fresh store before each test: look it up when the test runs.
    const s = current();
    const { store } = s;
    const now = s.clock.now() + 10_000_000;
    for (const m of await store.outbox.claimDue(now, 100, 1)) await store.outbox.markSent(m.id, now);
    await store.outbox.enqueue({ recipient: 'a@example.com', template: 't', payload: 'p1' });
    await store.outbox.enqueue({ recipient: 'b@example.com', template: 't', payload: 'p2' });
    const first = await store.outbox.claimDue(now, 10, 60_000);
    assert.deepEqual(first.map((m) => m.recipient).sort(), ['a@example.com', 'b@example.com']);
    assert.deepEqual(
      await store.outbox.claimDue(now, 10, 60_000),
      [],
      'leased mails are not handed out twice',
    );
    const [a, b] = first.sort((x, y) => x.recipient.localeCompare(y.recipient));
    await store.outbox.markSent(a!.id, now);
    await store.outbox.markFailed(b!.id, now + 5000, 'connection refused');
    assert.equal(await store.outbox.depth(), 1);
    assert.deepEqual(await store.outbox.claimDue(now + 4999, 10, 60_000), [], 'not before its next attempt');
    const retry = await store.outbox.claimDue(now + 5000, 10, 60_000);
    assert.equal(retry.length, 1);
    assert.equal(retry[0]?.attempts, 1);
    assert.equal(retry[0]?.payload, 'p2');
    await store.outbox.markSent(retry[0]!.id, now + 5000);
    assert.equal(await store.outbox.depth(), 0);
    assert.deepEqual(
      await store.outbox.claimDue(now + 10_000_000, 10, 60_000),
      [],
      'sent mails never come back',
    );
  });

  test('outbox: a lease is renewed only by its holder, and only while the mail is unsent', async () => {
    const s = current();
    const { store } = s;
    const now = s.clock.now() + 10_000_000;
    for (const m of await store.outbox.claimDue(now, 100, 1)) await store.outbox.markSent(m.id, now);
    await store.outbox.enqueue({ recipient: 'a@example.com', template: 't', payload: 'p1' });
    const [a] = await store.outbox.claimDue(now, 10, 30_000);
    assert.ok(a);
    assert.equal(await store.outbox.renewLease(a.id, now + 30_000, now + 50_000), true);
    assert.deepEqual(await store.outbox.claimDue(now + 40_000, 10, 30_000), [], 'held past the first lease');
    assert.equal(
      await store.outbox.renewLease(a.id, now + 30_000, now + 60_000),
      false,
      'the lease it held before is no longer the one it holds',
    );
    // Its holder died: the lease lapses, another sender claims the mail, and the dead one's renewal is refused.
    const [again] = await store.outbox.claimDue(now + 50_000, 10, 30_000);
    assert.equal(again?.id, a.id);
    assert.equal(await store.outbox.renewLease(a.id, now + 50_000, now + 70_000), false, "another's lease");
    assert.equal(await store.outbox.renewLease(a.id, now + 80_000, now + 100_000), true, 'its new holder');
    // The dead one's failure, marked under its old lease, changes nothing: the new holder keeps its lease.
    await store.outbox.markFailed(a.id, now + 60_000, 'late failure', now + 30_000);
    assert.equal(await store.outbox.renewLease(a.id, now + 100_000, now + 110_000), true, 'still held');
    await store.outbox.markFailed(a.id, now + 90_000, 'timed out', now + 110_000);
    assert.equal(await store.outbox.renewLease(a.id, now + 100_000, now + 120_000), false, 'released');
    const [retry] = await store.outbox.claimDue(now + 90_000, 10, 30_000);
    assert.equal(retry?.id, a.id, 'a failed mail is claimable at its next attempt');
    await store.outbox.markSent(a.id, now + 90_000);
    assert.equal(await store.outbox.renewLease(a.id, now + 120_000, now + 150_000), false, 'sent');
    assert.equal(await store.outbox.renewLease('mail_none', now + 120_000, now + 150_000), false);
  });
}
