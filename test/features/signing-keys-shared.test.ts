// Assertion signing keys shared by every instance of a deployment on one PostgreSQL database: instances that
// start together publish one and the same key and verify each other's assertions; `keys rotate` reaches
// running instances without a restart (published first, signing from its instant, the old key kept); an
// instance or a command with another server secret is refused with one line naming the fix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { send } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { TestClock } from '../helpers/gateway.ts';
import { type Instance, startInstance, writeInstanceConfig } from '../helpers/instance.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const SECRET = 'the deployment secret, shared by every instance';

describe('signing keys shared by the instances of a deployment (PostgreSQL)', () => {
  let db: TestDatabase;
  let up: Upstream;
  let dir: string;
  let config: string;
  let clocks: TestClock[];
  let gws: Instance[];
  let token: string;

  before(async () => {
    db = await createTestDatabase();
    up = await startUpstream();
    dir = mkdtempSync(join(tmpdir(), 'hgw-keys-'));
    const toml = `[[route]]\nname = "api"\npath = "/"\nupstream = "${up.url}"\nauth = "bearer"\ncontext = "app"\n`;
    config = writeInstanceConfig(dir, { storeUrl: db.url, secret: SECRET, toml });
    clocks = [new TestClock(Date.now()), new TestClock(Date.now())];
    // Both start at the same moment on the empty database.
    gws = await Promise.all(
      clocks.map((clock) =>
        startInstance({ storeUrl: db.url, secret: SECRET, toml, clock, keyRefreshMs: 50 }),
      ),
    );
    const [a] = gws as [Instance];
    const alice = await createUser(a.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
    });
    ({ token } = await new ApiTokenService(a.store, clocks[0] as TestClock).issue({
      userId: alice.id,
      name: 't',
      claims: null,
      expiresAt: null,
    }));
  });
  after(async () => {
    await Promise.all(gws.map((g) => g.close()));
    await up.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const jwksOf = async (gw: Instance) =>
    JSON.parse((await send(`${gw.url}/auth/.well-known/jwks.json`)).body) as JSONWebKeySet;
  /** The assertion the app receives for a request through `gw`. */
  const assertionVia = async (gw: Instance) => {
    const res = await send(`${gw.url}/x`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return String(up.seen.at(-1)?.headers['x-hero-assertion']);
  };
  const verifyWith = (jwt: string, jwks: JSONWebKeySet, clock: TestClock) =>
    jwtVerify(jwt, createLocalJWKSet(jwks), { audience: 'app', currentDate: new Date(clock.now()) });

  test('instances starting together on an empty database publish one and the same key', async () => {
    const [a, b] = gws as [Instance, Instance];
    const [ja, jb] = [await jwksOf(a), await jwksOf(b)];
    assert.equal(ja.keys.length, 1);
    assert.deepEqual(ja, jb);
    assert.equal((await a.store.signingKeys.list()).length, 1, 'exactly one first key stored');
  });

  test('an assertion signed by one instance verifies against the JWKS of the other', async () => {
    const [a, b] = gws as [Instance, Instance];
    const [ca, cb] = clocks as [TestClock, TestClock];
    const { payload } = await verifyWith(await assertionVia(a), await jwksOf(b), ca);
    assert.equal(payload.username, 'alice');
    await verifyWith(await assertionVia(b), await jwksOf(a), cb);
  });

  test('keys rotate reaches running instances: published at once, signing from its instant, the old key kept', async () => {
    const [a, b] = gws as [Instance, Instance];
    const oldKid = (await jwksOf(a)).keys[0]?.kid;
    const r = await cli(['keys', 'rotate', '-c', config]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    const m =
      /^added signing key (\S+): .* signs from (\S+); (\S+) stays published until you run "hero-gateway keys remove \3"/.exec(
        lines[0] ?? '',
      );
    assert.ok(m, lines[0]);
    const [, newKid, from, kept] = m;
    assert.equal(kept, oldKid);
    assert.ok(Date.parse(from as string) - Date.now() > 30_000, 'signs only after every instance re-read');

    // Both publish it within their refresh interval, without a restart; neither signs with it yet.
    for (const gw of gws)
      await until(async () => (await jwksOf(gw)).keys.length === 2, { what: 'the new key published' });
    assert.deepEqual(await jwksOf(a), await jwksOf(b));
    const before = await assertionVia(a);
    assert.equal(decodeProtectedHeader(before).kid, oldKid);

    // Past its instant (and past the reuse window of assertions issued before), both sign with the new key;
    // the old key is still published, so what it signed still verifies.
    for (const c of clocks) c.advance(Date.parse(from as string) - c.now() + 31_000);
    for (const [i, gw] of gws.entries()) {
      const jwt = await assertionVia(gw);
      assert.equal(decodeProtectedHeader(jwt).kid, newKid);
      await verifyWith(jwt, await jwksOf(gws[1 - i] as Instance), clocks[i] as TestClock);
      assert.deepEqual(
        (await jwksOf(gw)).keys.map((k) => k.kid),
        [oldKid, newKid],
      );
    }
    const issuedAt = new Date(Number(decodeJwt(before).iat) * 1000);
    await jwtVerify(before, createLocalJWKSet(await jwksOf(b)), { audience: 'app', currentDate: issuedAt });

    // The old key signs until the new one's instant (real time for the CLI): removing it now is refused.
    const refused = await cli(['keys', 'remove', oldKid as string, '-c', config]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: \S+ signs assertions now: run hero-gateway keys rotate/);
    const list = await cli(['keys', 'list', '-c', config]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${oldKid}\\s+signing`));
    assert.match(list.stdout, new RegExp(`${newKid}\\s+next`));
  });

  test('another server secret is refused with one line naming the fix, by serve and by keys rotate', async () => {
    const other = mkdtempSync(join(tmpdir(), 'hgw-keys-other-'));
    try {
      const wrong = writeInstanceConfig(other, {
        storeUrl: db.url,
        secret: 'another secret, not the deployment one',
      });
      const kidsBefore = (await gws[0]?.store.signingKeys.list())?.map((k) => k.kid);
      const serve = await cli(['serve', '-c', wrong]);
      assert.equal(serve.code, 2);
      assert.equal(serve.stderr.trim().split('\n').length, 1, serve.stderr);
      assert.match(
        serve.stderr,
        /sealed with another server secret: server\.secret must be the same on every instance/,
      );
      const rotate = await cli(['keys', 'rotate', '-c', wrong]);
      assert.equal(rotate.code, 2);
      assert.match(
        rotate.stderr,
        /^error: signing key \S+ in the store was sealed with another server secret/,
      );
      assert.deepEqual(
        (await gws[0]?.store.signingKeys.list())?.map((k) => k.kid),
        kidsBefore,
        'nothing was added',
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
