// The store port's table transfer (`store copy`) on both backends: SQLite → PostgreSQL → SQLite gives back the
// very rows it started from, reads stream a batch at a time in key order, a fill is one transaction on either
// backend, and the copy refuses a non-empty target and a source of another schema version.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../src/adapters/open-store.ts';
import type { Store } from '../../src/ports/store.ts';
import type { StoreTransfer, TransferRow, TransferRows } from '../../src/ports/store-transfer.ts';
import { COPIED_TABLES, copyStore, StoreCopyRefused } from '../../src/services/store-copy.ts';
import { TestClock, tempDir } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const clock = new TestClock(Date.UTC(2026, 0, 1));
const HOUR = 3_600_000;
const SESSIONS = 2_345;
const ORDER = COPIED_TABLES.map((t) => t.table);

/** An installation with a row of every kind, NULLs and flags included, and more sessions than one batch. */
async function populate(store: Store): Promise<void> {
  const now = clock.now();
  const alice = await store.users.create({
    username: 'alice',
    email: 'alice@example.com',
    emailVerified: true,
    roles: ['admin'],
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
  });
  const bob = await store.users.create({ username: 'bob', email: 'bob@example.com', emailVerified: false });
  await store.users.setDisabled(bob.id, now);
  const dora = await store.users.create({
    username: 'dora',
    email: 'dora@example.com',
    emailVerified: true,
    oidcIdentity: { provider: 'corp', issuer: 'https://idp.example', subject: 'sub-1', email: null },
  });
  await store.authz.setRole('editor', ['wiki.read', 'wiki.write']);
  await store.authz.addMember('sre', alice.id);
  await store.authz.addMember('idp-staff', dora.id, 'oidc:corp');
  await store.authz.grant('editor', { group: 'sre' }, '');
  await store.authz.grant('editor', { userId: dora.id }, 'wiki');
  await store.apiTokens.create({
    tokenHash: 'tok-hash-1',
    userId: alice.id,
    name: 'ci',
    claims: ['wiki.read'],
    expiresAt: now + 90 * 24 * HOUR,
  });
  const old = await store.apiTokens.create({
    tokenHash: 'tok-hash-2',
    userId: alice.id,
    name: 'old',
    claims: null,
    expiresAt: null,
  });
  await store.apiTokens.revoke(old.id, now);
  for (let i = 0; i < SESSIONS; i++)
    await store.sessions.create({
      tokenHash: `session-hash-${i}`,
      userId: i % 3 === 0 ? dora.id : alice.id,
      authMethod: i % 3 === 0 ? 'oidc:corp' : 'password',
      idleExpiresAt: now + 12 * HOUR,
      absoluteExpiresAt: now + 7 * 24 * HOUR,
      ip: i % 2 === 0 ? '203.0.113.9' : null,
      userAgent: i % 5 === 0 ? null : 'Browser/1.0',
      ...(i % 3 === 0
        ? { oidc: { provider: 'corp', subject: 'sub-1', sid: null, sealedTokens: 'v1.sealed' } }
        : {}),
    });
  await store.oneTimeTokens.issue(
    {
      tokenHash: 'link-hash-1',
      purpose: 'reset_password',
      userId: alice.id,
      email: null,
      payload: { return_to: '/wiki' },
      expiresAt: now + HOUR,
    },
    { recipient: 'alice@example.com', template: 'reset_password', payload: 'v1.sealed-mail' },
  );
  await store.throttles.update('ip:203.0.113.7', () => ({
    failures: 3,
    lastFailureAt: now,
    blockedUntil: now + 60_000,
  }));
  await store.signingKeys.add({
    kid: 'key_1',
    createdAt: now,
    activeFrom: now,
    publicJwk: { kty: 'EC', crv: 'P-256', x: 'xx', y: 'yy' },
    sealedPrivateJwk: 'v1.sealed-key',
  });
  // Second factors: a confirmed app with a used step, a passkey (a flag), an unconfirmed app (NULLs).
  const app = await store.secondFactors.create(
    { kind: 'totp', userId: alice.id, name: 'Phone', sealedSecret: 'v1.sealed-totp' },
    now,
  );
  await store.secondFactors.confirm(app.id, alice.id, now);
  await store.secondFactors.useTotpStep(app.id, 12345, now);
  await store.secondFactors.create(
    {
      kind: 'webauthn',
      userId: alice.id,
      name: 'Key',
      credential: {
        credentialId: 'cred',
        publicKey: 'pk',
        signCount: 3,
        transports: ['usb'],
        discoverable: true,
      },
      confirmedAt: now,
    },
    now,
  );
  await store.secondFactors.create(
    { kind: 'totp', userId: alice.id, name: 'Half', sealedSecret: 'v1.s' },
    now,
  );
  await store.secondFactors.replaceRecoveryCodes(alice.id, ['code-hash-1', 'code-hash-2'], now);
  await store.secondFactors.useRecoveryCode(alice.id, 'code-hash-1', now);
}

/** Every copied table of a SQLite file, rows sorted, exactly as stored. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(
      ORDER.map((t) => [
        t,
        (db.prepare(`SELECT * FROM ${t}`).all() as object[]).map((r) => JSON.stringify(r)).sort(),
      ]),
    );
  } finally {
    db.close();
  }
}

const sqliteUrl = (dir: string, name: string) => `sqlite:${join(dir, name)}`;
const transferOf = (store: Store): StoreTransfer => store.transfer as StoreTransfer;

describe('store transfer', () => {
  let dir: string;
  const databases: TestDatabase[] = [];
  const freshPg = async () => {
    const db = await createTestDatabase();
    databases.push(db);
    return db.url;
  };
  before(() => {
    dir = tempDir('hgw-transfer-');
  });
  after(async () => {
    for (const db of databases) await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SQLite → PostgreSQL → SQLite gives back every row and value, flags and NULLs included', async () => {
    const origin = sqliteUrl(dir, 'origin.db');
    const store = await openStore(origin, clock);
    await populate(store);
    await store.close();
    const pgUrl = await freshPg();
    const open = (url: string) => () => openStore(url, clock, { migrate: false });
    // Small batches: the sessions take many reads and many multi-row INSERTs.
    const there = await copyStore({
      openSource: open(origin),
      openTarget: () => openStore(pgUrl, clock),
      batchSize: 100,
    });
    const count = (counts: typeof there, table: string) => counts.find((c) => c.table === table)?.rows;
    assert.deepEqual(
      there.map((c) => c.table),
      ORDER,
    );
    assert.equal(count(there, 'users'), 3);
    assert.equal(count(there, 'sessions'), SESSIONS);
    assert.equal(count(there, 'roles'), 2, 'the built-in admin role and editor');
    assert.equal(count(there, 'signing_keys'), 1);

    const pg = await openStore(pgUrl, clock);
    try {
      // The flag is a boolean and the times are numbers in PostgreSQL, as its own adapter reads them.
      const roles = await pg.authz.listRoles();
      assert.deepEqual(roles.map((r) => [r.name, r.builtin]).sort(), [
        ['admin', true],
        ['editor', false],
      ]);
      const alice = await pg.users.byUsername('alice');
      assert.equal(alice?.createdAt, clock.now());
      assert.equal(await pg.sessions.countActive(clock.now()), SESSIONS);
    } finally {
      await pg.close();
    }

    const back = sqliteUrl(dir, 'back.db');
    const home = await copyStore({
      openSource: open(pgUrl),
      openTarget: () => openStore(back, clock),
      batchSize: 77,
    });
    assert.deepEqual(home, there);
    assert.deepEqual(dump(join(dir, 'back.db')), dump(join(dir, 'origin.db')));
  });

  for (const backend of ['sqlite', 'postgres'] as const) {
    const open = async (name: string) =>
      openStore(backend === 'sqlite' ? sqliteUrl(dir, name) : await freshPg(), clock);

    test(`${backend}: reads come a batch at a time, in primary-key order`, async () => {
      const store = await open(`batches-${backend}.db`);
      try {
        const keys = Array.from({ length: 25 }, (_, i) => `key:${String((i * 7) % 25).padStart(2, '0')}`);
        for (const key of keys)
          await store.throttles.update(key, () => ({ failures: 1, lastFailureAt: 1, blockedUntil: 0 }));
        const batches = await transferOf(store).snapshot(10, async (rows) => {
          const seen: TransferRow[][] = [];
          for await (const batch of rows('throttles')) seen.push(batch);
          return seen;
        });
        assert.deepEqual(
          batches.map((b) => b.length),
          [10, 10, 5],
        );
        assert.deepEqual(
          batches.flat().map((r) => r.key),
          [...keys].sort(),
        );
        assert.deepEqual(batches[0]?.[0], {
          key: 'key:00',
          failures: 1,
          last_failure_at: 1,
          blocked_until: 0,
        });
      } finally {
        await store.close();
      }
    });

    test(`${backend}: a fill that fails halfway writes nothing; the store then takes a whole copy`, async () => {
      const source = await openStore(sqliteUrl(dir, `source-${backend}.db`), clock);
      await populate(source);
      const target = await open(`halfway-${backend}.db`);
      try {
        const from = transferOf(source);
        const to = transferOf(target);
        // Every table is written until the sessions, whose rows stop coming with an error after one batch.
        const failing = from.snapshot(50, (rows) => {
          const broken: TransferRows = (table) =>
            table !== 'sessions'
              ? rows(table)
              : (async function* () {
                  for await (const batch of rows(table)) {
                    yield batch;
                    throw new Error('the source went away');
                  }
                })();
          return to.fill(ORDER, broken);
        });
        await assert.rejects(failing, /the source went away/);
        assert.equal(await target.users.count(), 0, 'the users written before the failure are gone');
        assert.deepEqual(await target.authz.listGrants(), []);
        assert.deepEqual(
          (await target.authz.listRoles()).map((r) => r.name),
          ['admin'],
          'the built-in role is there as the migrations left it',
        );
        const counts = await from.snapshot(50, (rows) => to.fill(ORDER, rows));
        assert.equal(counts.get('sessions'), SESSIONS);
        assert.equal(await target.users.count(), 3);
      } finally {
        await source.close();
        await target.close();
      }
    });
  }

  test('a target with rows is refused, naming the tables; the built-in role alone does not count', async () => {
    const origin = sqliteUrl(dir, 'refuse-origin.db');
    const store = await openStore(origin, clock);
    await store.users.create({ username: 'erin', email: 'erin@example.com', emailVerified: true });
    await store.close();
    const target = sqliteUrl(dir, 'refuse-target.db');
    // A freshly migrated store holds the built-in role admin and its claim: still empty for a copy.
    const fresh = await openStore(target, clock);
    await fresh.close();
    const deps = {
      openSource: () => openStore(origin, clock, { migrate: false }),
      openTarget: () => openStore(target, clock),
    };
    await copyStore(deps);
    await assert.rejects(copyStore(deps), (err: Error) => {
      assert.ok(err instanceof StoreCopyRefused);
      assert.match(
        err.message,
        /^the target store is not empty \(users hold rows\); store copy only fills a new store/,
      );
      return true;
    });
    const again = await openStore(target, clock);
    assert.equal(await again.users.count(), 1, 'nothing was added');
    await again.close();
  });

  test('a table the copy does not list stops it before anything is written, instead of being left behind', async () => {
    const path = join(dir, 'new-table.db');
    const store = await openStore(`sqlite:${path}`, clock);
    await store.users.create({ username: 'gus', email: 'gus@example.com', emailVerified: true });
    await store.close();
    const db = new Database(path);
    db.exec('CREATE TABLE passkeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL)');
    db.close();
    const target = sqliteUrl(dir, 'new-table-target.db');
    await assert.rejects(
      copyStore({
        openSource: () => openStore(`sqlite:${path}`, clock, { migrate: false }),
        openTarget: () => openStore(target, clock),
      }),
      /^Error: store copy does not know the source table\(s\) passkeys$/,
    );
    const after = await openStore(target, clock);
    assert.equal(await after.users.count(), 0);
    await after.close();
  });

  test('a source behind or ahead of this version is refused before the target is opened', async () => {
    const setUp = async (name: string, change: string) => {
      const store = await openStore(sqliteUrl(dir, name), clock);
      await store.close();
      const db = new Database(join(dir, name));
      db.exec(change);
      db.close();
      return sqliteUrl(dir, name);
    };
    const behind = await setUp(
      'behind.db',
      'DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)',
    );
    const ahead = await setUp(
      'ahead.db',
      "INSERT INTO schema_migrations VALUES (9999, '9999_from_the_future.sql', 0)",
    );
    let targetOpened = false;
    const openTarget = async () => {
      targetOpened = true;
      return openStore(sqliteUrl(dir, 'never.db'), clock);
    };
    await assert.rejects(
      copyStore({ openSource: () => openStore(behind, clock, { migrate: false }), openTarget }),
      /^StoreCopyRefused: the source store is behind this version \(1 migration\(s\) not applied: \d{4}_\w+\.sql\); run hero-gateway migrate with its config first$/,
    );
    await assert.rejects(
      copyStore({ openSource: () => openStore(ahead, clock, { migrate: false }), openTarget }),
      /^StoreCopyRefused: the source store is ahead of this version \(migration\(s\) 9999_from_the_future\.sql unknown here\)/,
    );
    assert.equal(targetOpened, false);
  });
});
