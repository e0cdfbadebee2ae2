// First-run setup with several instances on one PostgreSQL database: instances that start together, and one
// started later while the link is live, print one and the same link; it works on every instance, once. The
// token is recomputed from the stored row only with the same server secret.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSqliteStore } from '../../src/adapters/sqlite/index.ts';
import { hashToken } from '../../src/crypto/tokens.ts';
import { FirstRunSetup } from '../../src/services/setup.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { TestClock } from '../helpers/gateway.ts';
import { writeInstanceConfig } from '../helpers/instance.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { type Served, startServe } from '../helpers/serve.ts';

const SECRET = 'the deployment secret, shared by every instance';
const PASSWORD = 'the first admin passphrase';
const LINK =
  /First-run setup \(valid until (\S+), once\):\n\s+http:\/\/localhost:8080\/auth\/setup\?token=([A-Za-z0-9_-]{43})\n/;

describe('one first-run setup link per deployment (PostgreSQL)', () => {
  let db: TestDatabase;
  let dir: string;
  const served: Served[] = [];

  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'hgw-setup-shared-'));
  });
  after(async () => {
    await Promise.all(served.map((s) => s.stop()));
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const serveInstance = async (name: string) => {
    const file = writeInstanceConfig(join(dir, name), { storeUrl: db.url, secret: SECRET });
    const s = await startServe(file);
    served.push(s);
    const m = LINK.exec(s.stderr());
    assert.ok(m, `${name} printed a setup link:\n${s.stderr()}`);
    return { url: s.url, until: m[1] as string, token: m[2] as string };
  };

  test('instances starting together print the same link; a later one too; it creates one admin, once', async () => {
    const [a, b] = await Promise.all([serveInstance('a'), serveInstance('b')]);
    assert.equal(a.token, b.token, 'one link for the deployment');
    assert.equal(a.until, b.until);
    assert.ok(Date.parse(a.until) - Date.now() > 23 * 3600_000, 'valid for a day');
    const c = await serveInstance('c');
    assert.equal(c.token, a.token, 'an instance started while the link is live prints it again');

    const link = `/auth/setup?token=${a.token}`;
    for (const i of [a, b, c]) assert.equal((await new BrowserClient(i.url).get(link)).status, 200, i.url);
    const browser = new BrowserClient(b.url);
    const done = await browser.submit(link, '/auth/setup', {
      token: b.token,
      username: 'root',
      email: 'root@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    assert.equal(done.status, 303);
    for (const i of [a, b, c]) assert.equal((await new BrowserClient(i.url).get(link)).status, 404, i.url);
  });
});

describe('the setup link token', () => {
  test('only its hash and a nonce are stored; another secret is refused rather than printing a dead link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hgw-setup-token-'));
    const clock = new TestClock();
    const store = createSqliteStore({ path: join(dir, 'gw.db'), clock });
    try {
      const setup = new FirstRunSetup(store, clock, SECRET);
      const issued = await setup.issueIfNeeded();
      assert.ok(issued);
      assert.match(issued.token, /^[A-Za-z0-9_-]{43}$/);
      const row = await store.oneTimeTokens.peek(hashToken(issued.token), 'setup', clock.now());
      assert.ok(row, 'stored by its hash');
      assert.ok(!JSON.stringify(row).includes(issued.token), 'never the token itself');
      assert.deepEqual(
        await new FirstRunSetup(store, clock, SECRET).issueIfNeeded(),
        issued,
        'a restart: the same',
      );
      await assert.rejects(
        new FirstRunSetup(store, clock, `${SECRET}, but another`).issueIfNeeded(),
        /server\.secret must be the same on every instance/,
      );

      // Expired: the next start makes a new link, and the old one is gone for good.
      clock.advance(24 * 3600_000);
      const next = await setup.issueIfNeeded();
      assert.notEqual(next?.token, issued.token);
      assert.equal(await setup.usable(issued.token), false);
      assert.equal(await setup.usable(next?.token ?? ''), true);

      // A live link of an earlier version (no nonce) cannot be printed again: it is replaced.
      await store.oneTimeTokens.deletePurpose('setup');
      await store.oneTimeTokens.create({
        tokenHash: hashToken('an old random token'),
        purpose: 'setup',
        userId: null,
        email: null,
        payload: null,
        expiresAt: clock.now() + 1000,
      });
      const replaced = await setup.issueIfNeeded();
      assert.ok(replaced && (await setup.usable(replaced.token)));
      assert.equal(await setup.usable('an old random token'), false);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
