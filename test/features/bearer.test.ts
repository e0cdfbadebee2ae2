// The bearer mode end to end: real gateway, real SQLite file, real upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/adapters/open-store.ts';
import { hashToken, randomSecret } from '../../src/crypto/tokens.ts';
import type { Store, User } from '../../src/ports/store.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { seesOtherInstance, startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { rawGet } from '../helpers/raw-http.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

/** Kept on purpose: a short wait for a write that must NOT happen (there is no condition to await). */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('bearer mode', () => {
  let up: Upstream;
  let gw: TestGateway;
  let clock: TestClock;
  let other: Store; // a second connection, as the CLI or another worker would have
  let alice: User;
  let bob: User;
  let aliceToken: string;
  let bobToken: string;
  const issue = (user: User, extra: { claims?: string[]; expiresAt?: number } = {}) =>
    new ApiTokenService(gw.store, clock).issue({
      userId: user.id,
      name: 'test',
      claims: extra.claims ?? null,
      expiresAt: extra.expiresAt ?? null,
    });
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}`, ...headers } : headers,
    });

  before(async () => {
    up = await startUpstream();
    clock = new TestClock(Date.now());
    gw = await startGateway(
      `
[[route]]
name = "api"
path = "/api"
upstream = "${up.url}"
auth = "bearer"

[[route]]
name = "admin"
path = "/admin"
upstream = "${up.url}"
auth = "bearer"
require_claims = ["gateway.admin"]

[[route]]
name = "multi"
path = "/multi"
upstream = "${up.url}"
auth = ["local", "bearer"]

[[route]]
name = "pass"
path = "/pass"
upstream = "${up.url}"
auth = "bearer"
pass_authorization = true
`,
      { clock },
    );
    other = await openStore(gw.config.store.url, clock);
    alice = await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      admin: true,
    });
    bob = await createUser(gw.store, { username: 'bob', email: 'bob@example.com', emailVerified: true });
    aliceToken = (await issue(alice)).token;
    bobToken = (await issue(bob)).token;
  });
  after(async () => {
    await other.close();
    await gw.close();
    await up.close();
  });

  test('a valid token reaches the upstream with the identity headers, and Authorization is consumed', async () => {
    const before = up.seen.length;
    const res = await get('/api/things?x=1', aliceToken);
    assert.equal(res.status, 200);
    const [seen] = up.seen.slice(before);
    assert.equal(seen?.url, '/api/things?x=1');
    assert.equal(seen?.headers['x-hero-user'], 'alice');
    assert.equal(seen?.headers['x-hero-email'], 'alice@example.com');
    assert.equal(seen?.headers['x-hero-context'], 'api');
    assert.equal(seen?.headers['x-hero-claims'], 'gateway.admin');
    assert.equal(seen?.headers['x-hero-auth-method'], 'bearer');
    assert.equal(seen?.headers.authorization, undefined);
  });

  test('a token beside the session that admitted the request is not forwarded (it admitted nothing)', async () => {
    const session = randomSecret(32);
    await gw.store.sessions.create({
      tokenHash: hashToken(session),
      userId: bob.id,
      authMethod: 'password',
      idleExpiresAt: clock.now() + 3600_000,
      absoluteExpiresAt: clock.now() + 3600_000,
      ip: null,
      userAgent: null,
    });
    const before = up.seen.length;
    const res = await get('/multi/x', aliceToken, { cookie: `__Host-hero_session=${session}` });
    assert.equal(res.status, 200);
    const seen = up.seen[before];
    assert.equal(seen?.headers['x-hero-user'], 'bob', 'the session came first');
    assert.equal(seen?.headers.authorization, undefined, 'alice’s token must not reach the app');
  });

  test('X-Hero-Claims is always sent, empty when the user holds no claims', async () => {
    const before = up.seen.length;
    assert.equal((await get('/api', bobToken)).status, 200);
    const seen = up.seen[before];
    assert.equal(seen?.headers['x-hero-claims'], '');
    assert.ok(seen?.rawHeaders.some((h) => h.toLowerCase() === 'x-hero-claims'));
  });

  test('claims come from groups and roles, globally or per context, sorted', async () => {
    await gw.store.authz.setRole('reader', ['wiki.read']);
    await gw.store.authz.setRole('ops', ['ops.deploy', 'api.write']);
    await gw.store.authz.grant('reader', { userId: bob.id }, 'api');
    await gw.store.authz.addMember('operators', bob.id);
    await gw.store.authz.grant('ops', { group: 'operators' }, '');
    await gw.store.authz.grant('reader', { userId: bob.id }, 'elsewhere');
    const before = up.seen.length;
    await get('/api', bobToken);
    await get('/multi', bobToken);
    assert.equal(up.seen[before]?.headers['x-hero-claims'], 'api.write,ops.deploy,wiki.read');
    assert.equal(
      up.seen[before + 1]?.headers['x-hero-claims'],
      'api.write,ops.deploy',
      'wiki.read only in context api',
    );
  });

  test('require_claims: 403 problem+json without the claim, 200 with it', async () => {
    const before = up.seen.length;
    const denied = await get('/admin', bobToken);
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as { code: string }).code, 'forbidden');
    assert.equal(up.seen.length, before);
    assert.equal((await get('/admin', aliceToken)).status, 200);
  });

  test('a narrowed token only carries the claims it names that the owner holds', async () => {
    const narrow = (await issue(alice, { claims: ['api.read'] })).token;
    const before = up.seen.length;
    assert.equal((await get('/api', narrow)).status, 200);
    assert.equal(up.seen[before]?.headers['x-hero-claims'], '');
    assert.equal((await get('/admin', narrow)).status, 403);
    const adminOnly = (await issue(alice, { claims: ['gateway.admin'] })).token;
    assert.equal((await get('/admin', adminOnly)).status, 200);
  });

  test('every kind of failure gets the byte-identical 401', async () => {
    const revoked = await issue(bob);
    await gw.store.apiTokens.revoke(revoked.record.id, clock.now());
    const expired = await issue(bob, { expiresAt: clock.now() + 1000 });
    const carl = await createUser(gw.store, {
      username: 'carl',
      email: 'carl@example.com',
      emailVerified: true,
    });
    const disabled = await issue(carl);
    await gw.store.users.setDisabled(carl.id, clock.now());
    const dora = await createUser(gw.store, {
      username: 'dora',
      email: 'dora@example.com',
      emailVerified: true,
    });
    const deleted = await issue(dora);
    await gw.store.users.delete(dora.id);
    clock.advance(1000);

    const unknown = `hgw_${'A'.repeat(43)}`;
    // Every attempt also carries a valid token in the query string, which must never count.
    const url = `/api/x?access_token=${aliceToken}`;
    const attempts: [string, () => Promise<Response>][] = [
      ['no header', () => get(url)],
      ['malformed token', () => get(url, 'not-a-token')],
      ['unknown token', () => get(url, unknown)],
      ['revoked token', () => get(url, revoked.token)],
      ['expired token', () => get(url, expired.token)],
      ['disabled owner', () => get(url, disabled.token)],
      ['deleted owner', () => get(url, deleted.token)],
      ['Basic scheme', () => get(url, undefined, { authorization: `Basic ${btoa(`alice:${aliceToken}`)}` })],
      ['token in a cookie', () => get(url, undefined, { cookie: `token=${aliceToken}` })],
      ['token without scheme', () => get(url, undefined, { authorization: aliceToken })],
    ];
    const before = up.seen.length;
    const answers = [];
    for (const [kind, attempt] of attempts) {
      const res = await attempt();
      answers.push({
        kind,
        status: res.status,
        type: res.headers.get('content-type'),
        auth: res.headers.get('www-authenticate'),
        cookie: res.headers.get('set-cookie'),
        body: await res.text(),
      });
    }
    assert.equal(up.seen.length, before, 'the upstream saw none of them');
    const [first] = answers;
    assert.equal(first?.status, 401);
    assert.equal(first?.type, 'application/problem+json; charset=utf-8');
    assert.equal(first?.auth, 'Bearer realm="hero-gateway"');
    assert.equal(first?.cookie, null);
    const body = JSON.parse(first?.body ?? '{}');
    assert.equal(body.code, 'auth_required');
    assert.match(body.login_url, /\/auth\/login\?return_to=/);
    for (const a of answers) {
      assert.deepEqual(
        { ...a, kind: '' },
        { ...first, kind: '' },
        `${a.kind} must answer exactly like ${first?.kind}`,
      );
    }
  });

  test('two Authorization headers are refused before any lookup', async () => {
    const before = up.seen.length;
    const res = await rawGet(gw.port, '/api', [
      `Authorization: Bearer ${aliceToken}`,
      'Authorization: Bearer x',
    ]);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 'duplicate_authorization');
    assert.equal(up.seen.length, before);
  });

  test('revocation by another process applies to the very next request', async () => {
    const t = await issue(bob);
    assert.equal((await get('/api', t.token)).status, 200);
    assert.equal((await get('/api', t.token)).status, 200); // now cached
    await other.apiTokens.revoke(t.record.id, clock.now());
    await seesOtherInstance('the token revoked', async () => (await get('/api', t.token)).status === 401);
  });

  test('grant changes and disabling by another process apply to the very next request', async () => {
    const erin = await createUser(gw.store, {
      username: 'erin',
      email: 'erin@example.com',
      emailVerified: true,
    });
    const t = (await issue(erin)).token;
    await other.authz.setRole('temp', ['temp.claim']);
    await other.authz.grant('temp', { userId: erin.id }, '');
    let before = up.seen.length;
    await get('/api', t);
    assert.equal(up.seen[before]?.headers['x-hero-claims'], 'temp.claim');
    await other.authz.revoke('temp', { userId: erin.id }, '');
    await seesOtherInstance('the grant revoked', async () => {
      before = up.seen.length;
      await get('/api', t);
      return up.seen[before]?.headers['x-hero-claims'] === '';
    });
    await other.users.setDisabled(erin.id, clock.now());
    await seesOtherInstance('the user disabled', async () => (await get('/api', t)).status === 401);
    await other.users.setDisabled(erin.id, null);
    await seesOtherInstance('the user enabled', async () => (await get('/api', t)).status === 200);
  });

  test('a list of modes admits the request if any mode does', async () => {
    assert.equal((await get('/multi/x', aliceToken)).status, 200);
    assert.equal((await get('/multi/x')).status, 401);
  });

  test('pass_authorization forwards the consumed header', async () => {
    const before = up.seen.length;
    await get('/pass', aliceToken);
    assert.equal(up.seen[before]?.headers.authorization, `Bearer ${aliceToken}`);
  });

  test('last use is recorded at most once a minute', async () => {
    const t = await issue(bob);
    await get('/api', t.token);
    // Last use is written after the answer: await it.
    const usedAt = async () => (await gw.store.apiTokens.byId(t.record.id))?.lastUsedAt;
    await until(async () => (await usedAt()) === clock.now(), { what: 'the first use recorded' });
    const first = await usedAt();
    assert.equal(first, clock.now());
    clock.advance(30_000);
    await get('/api', t.token);
    await settle();
    assert.equal((await gw.store.apiTokens.byId(t.record.id))?.lastUsedAt, first);
    clock.advance(31_000);
    await get('/api', t.token);
    await until(async () => (await usedAt()) === clock.now(), { what: 'the later use recorded' });
  });
});

describe('store unavailable', () => {
  test('fails closed with 503 and forwards nothing', async () => {
    const up = await startUpstream();
    const gw = await startGateway(
      `[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n` +
        `[[route]]\nname = "open"\npath = "/open"\nupstream = "${up.url}"\nauth = "none"\n`,
    );
    const user = await createUser(gw.store, {
      username: 'zed',
      email: 'zed@example.com',
      emailVerified: true,
    });
    const { token } = await new ApiTokenService(gw.store, { now: () => Date.now() }).issue({
      userId: user.id,
      name: 't',
      claims: null,
      expiresAt: null,
    });
    assert.equal(
      (await fetch(`${gw.url}/api`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
    await gw.store.close();
    const before = up.seen.length;
    const res = await fetch(`${gw.url}/api`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { code: string };
    assert.equal(body.code, 'store_unavailable');
    assert.doesNotMatch(JSON.stringify(body), /database|sqlite|connection/i, 'no internal message leaks');
    assert.equal(up.seen.length, before);
    assert.equal((await fetch(`${gw.url}/open`)).status, 200, 'routes without auth keep working');
    await gw.gateway.close();
    await up.close();
  });
});
