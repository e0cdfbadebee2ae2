// X-Hero-Assertion end to end: an app verifies the gateway's signed identity with jose against the JWKS.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose';
import { ensureSecret } from '../../src/config/secret.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { SigningKeyRing } from '../../src/services/signing-keys.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, send } from '../helpers/browser-client.ts';
import { startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';

describe('X-Hero-Assertion', () => {
  let up: Upstream;
  let gw: TestGateway;
  let clock: TestClock;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  before(async () => {
    up = await startUpstream();
    clock = new TestClock(Date.now());
    gw = await startGateway(
      `[[route]]\nname = "wiki"\npath = "/wiki"\nupstream = "${up.url}"\nauth = ["local", "bearer"]\ncontext = "wiki-ctx"\n` +
        `[[route]]\nname = "open"\npath = "/open"\nupstream = "${up.url}"\nauth = "none"\n`,
      { clock, server: 'public_url = "https://gw.example.com"' },
    );
    const alice = await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    await gw.store.authz.setRole('editor', ['wiki.write']);
    await gw.store.authz.grant('editor', { userId: alice.id }, 'wiki-ctx');
    const res = await send(`${gw.url}/auth/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    jwks = createLocalJWKSet(JSON.parse(res.body) as JSONWebKeySet);
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const verify = (jwt: string, at = new Date(clock.now())) =>
    jwtVerify(jwt, jwks, {
      issuer: 'https://gw.example.com',
      audience: 'wiki-ctx',
      algorithms: ['ES256'],
      currentDate: at,
    });

  test('a signed-in request carries an assertion the app can verify, stating the same facts as the headers', async () => {
    const b = new BrowserClient(gw.url);
    assert.equal((await b.signIn('alice', PASSWORD, '/')).status, 303);
    assert.equal((await b.get('/wiki/page')).status, 200);
    const seen = up.seen.at(-1);
    const jwt = String(seen?.headers['x-hero-assertion']);
    const { payload, protectedHeader } = await verify(jwt);
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.username, seen?.headers['x-hero-user']);
    assert.equal(payload.email, 'alice@example.com');
    assert.deepEqual(payload.claims, ['wiki.write']);
    assert.equal(payload.auth_method, 'password');
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 60);
  });

  test('tampered, expired or foreign-audience assertions fail verification', async () => {
    const { token } = await new ApiTokenService(gw.store, clock).issue({
      userId: (await gw.store.users.byUsername('alice'))!.id,
      name: 't',
      claims: null,
      expiresAt: null,
    });
    await send(`${gw.url}/wiki/x`, { headers: { authorization: `Bearer ${token}` } });
    const jwt = String(up.seen.at(-1)?.headers['x-hero-assertion']);
    assert.equal(decodeJwt(jwt).auth_method, 'bearer');
    const [h, p, sig] = jwt.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(jwt), username: 'root' })).toString('base64url');
    await assert.rejects(verify(`${h}.${forged}.${sig}`), /signature/);
    await assert.rejects(verify(jwt, new Date(clock.now() + 61_000)), /exp/);
    await assert.rejects(
      jwtVerify(jwt, jwks, {
        issuer: 'https://gw.example.com',
        audience: 'other-app',
        currentDate: new Date(clock.now()),
      }),
      /aud/,
    );
    assert.ok(p.length > 0);
  });

  test('reused while more than half its life is left, then reissued; a client’s own copy never passes', async () => {
    const b = new BrowserClient(gw.url);
    await b.signIn('alice', PASSWORD, '/');
    await b.get('/wiki/1');
    const first = up.seen.at(-1)?.headers['x-hero-assertion'];
    clock.advance(20_000);
    await b.get('/wiki/2');
    assert.equal(up.seen.at(-1)?.headers['x-hero-assertion'], first);
    clock.advance(15_000);
    await b.get('/wiki/3');
    const third = String(up.seen.at(-1)?.headers['x-hero-assertion']);
    assert.notEqual(third, first);
    await verify(third);
    await send(`${gw.url}/open/x`, { headers: { 'x-hero-assertion': String(first) } });
    assert.equal(up.seen.at(-1)?.headers['x-hero-assertion'], undefined, 'stripped on an open route');
  });

  test('the signing key is made once into the store, its private half sealed, and kept across restarts', async () => {
    assert.equal(existsSync(join(gw.dir, 'signing-keys.json')), false, 'nothing on this instance’s disk');
    const stored = await gw.store.signingKeys.list();
    assert.equal(stored.length, 1);
    const [key] = stored;
    const served = JSON.parse((await send(`${gw.url}/auth/.well-known/jwks.json`)).body);
    assert.equal(served.keys.length, 1);
    assert.equal(served.keys[0].kid, key?.kid);
    assert.equal(served.keys[0].d, undefined, 'never the private part');
    assert.equal(key?.publicJwk.d, undefined);
    assert.match(key?.sealedPrivateJwk ?? '', /^v1\./, 'sealed, not in clear');
    // What a restart (or another instance with the same secret) publishes and signs with: the same key.
    const { ring, outcome } = await SigningKeyRing.open({
      store: gw.store,
      clock,
      secret: ensureSecret(gw.config).secret,
      legacyKeys: () => null,
    });
    assert.equal(outcome, 'present');
    assert.deepEqual(ring.keys.jwks, served);
  });
});
