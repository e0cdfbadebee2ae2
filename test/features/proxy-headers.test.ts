// What the upstream receives: client copies of identity headers stripped, hop-by-hop removed, ours set;
// paths, queries and bodies forwarded as matched; upstream failures mapped to 502/504.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { User } from '../../src/ports/store.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawGet, rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const SPOOFS = [
  'X-Hero-User: mallory',
  'x-hero-user: mallory2',
  'X_Hero_User: mallory3',
  'X-HERO_USER: mallory4',
  'x_hero-claims: gateway.admin',
  'X-Hero-Claims: gateway.admin',
  'X-Hero-Email: mallory@evil.test',
  'X-Hero-Context: admin',
  'X-Hero-Auth-Method: password',
  'X-Hero-Assertion: forged',
  'x-hero-anything-new: 1',
];

const heroNames = (raw: string[]) =>
  raw.filter((_, i) => i % 2 === 0).filter((n) => /^x[-_]hero[-_]/i.test(n));

describe('headers the upstream receives', () => {
  let up: Upstream;
  let gw: TestGateway;
  let alice: User;
  let token: string;
  before(async () => {
    up = await startUpstream();
    gw = await startGateway(`
[[route]]
name = "open"
path = "/open"
upstream = "${up.url}"
auth = "none"

[[route]]
name = "api"
path = "/api"
upstream = "${up.url}/base"
auth = "bearer"
strip_prefix = true
`);
    alice = await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
    });
    token = (
      await new ApiTokenService(gw.store, gw.clock).issue({
        userId: alice.id,
        name: 't',
        claims: null,
        expiresAt: null,
      })
    ).token;
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('no client-sent X-Hero-* header survives on an open route, in any spelling', async () => {
    const before = up.seen.length;
    const res = await rawGet(gw.port, '/open', SPOOFS);
    assert.equal(res.status, 200);
    // The upstream's own `connection: keep-alive` must not override the client's `Connection: close`.
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.headers['keep-alive'], undefined);
    const seen = up.seen[before]!;
    assert.deepEqual(heroNames(seen.rawHeaders), []);
  });

  test('on an authenticated route only the gateway values arrive, once each', async () => {
    const before = up.seen.length;
    const res = await rawGet(gw.port, '/api/x', [...SPOOFS, `Authorization: Bearer ${token}`]);
    assert.equal(res.status, 200);
    const seen = up.seen[before]!;
    assert.deepEqual(heroNames(seen.rawHeaders).sort(), [
      'x-hero-assertion',
      'x-hero-auth-method',
      'x-hero-claims',
      'x-hero-context',
      'x-hero-email',
      'x-hero-user',
    ]);
    assert.equal(seen.headers['x-hero-user'], 'alice');
    assert.equal(seen.headers['x-hero-claims'], '');
    assert.equal(seen.headers['x-hero-context'], 'api');
  });

  test('Connection: close, X-Hero-User cannot strip or smuggle the identity header', async () => {
    const before = up.seen.length;
    const res = await rawRequest(
      gw.port,
      [
        'GET /api/x HTTP/1.1',
        'Host: localhost',
        'Connection: close, X-Hero-User',
        'X-Hero-User: mallory',
        `Authorization: Bearer ${token}`,
        '',
        '',
      ].join('\r\n'),
    );
    assert.equal(res.status, 200);
    const seen = up.seen[before]!;
    assert.deepEqual(
      heroNames(seen.rawHeaders).filter((n) => n.toLowerCase() === 'x-hero-user'),
      ['x-hero-user'],
    );
    assert.equal(seen.headers['x-hero-user'], 'alice');
  });

  test('the same on an open route: the named header is gone and nothing is added', async () => {
    const before = up.seen.length;
    await rawRequest(
      gw.port,
      'GET /open HTTP/1.1\r\nHost: localhost\r\nConnection: close, X-Hero-User\r\nX-Hero-User: mallory\r\n\r\n',
    );
    assert.deepEqual(heroNames(up.seen[before]!.rawHeaders), []);
  });

  test('a gateway token on an open route never reaches the app; the app’s own Authorization does', async () => {
    const n = up.seen.length;
    await rawGet(gw.port, '/open/t', [`Authorization: Bearer ${token}`]);
    await rawGet(gw.port, '/open/t', ['Authorization: bearer   hgw_not-even-valid']);
    await rawGet(gw.port, '/open/t', ['Authorization: Basic YXBwOnNlY3JldA==']);
    assert.equal(up.seen[n]?.headers.authorization, undefined);
    assert.equal(up.seen[n + 1]?.headers.authorization, undefined);
    assert.equal(up.seen[n + 2]?.headers.authorization, 'Basic YXBwOnNlY3JldA==');
  });

  test('URL and method overrides never reach the app, so it acts on the request the gateway decided about', async () => {
    const n = up.seen.length;
    await rawGet(gw.port, '/open/o', [
      'X-Original-URL: /admin/delete',
      'X-Rewrite-URL: /admin/delete',
      'X-HTTP-Method-Override: DELETE',
      'X-HTTP-Method: DELETE',
      'X-Method-Override: DELETE',
    ]);
    const names = (up.seen[n]?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
    for (const h of [
      'x-original-url',
      'x-rewrite-url',
      'x-http-method-override',
      'x-http-method',
      'x-method-override',
    ])
      assert.ok(!names.includes(h), h);
  });

  test('hop-by-hop headers and headers named in Connection are removed', async () => {
    const before = up.seen.length;
    await rawGet(gw.port, '/open', [
      'Connection: X-Internal-Secret',
      'X-Internal-Secret: s3cret',
      'Keep-Alive: timeout=999',
      'TE: trailers',
      'Trailer: X-Checksum',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'Proxy-Connection: keep-alive',
      'Upgrade: h2c',
      'X-Kept: yes',
    ]);
    const h = up.seen[before]!.headers;
    for (const name of [
      'x-internal-secret',
      'te',
      'trailer',
      'proxy-authorization',
      'proxy-connection',
      'upgrade',
    ])
      assert.equal(h[name], undefined, name);
    assert.notEqual(h['keep-alive'], 'timeout=999');
    assert.equal(h['x-kept'], 'yes');
  });

  test("X-Forwarded-* and X-Request-Id are the gateway's own; a client cannot forge them", async () => {
    const before = up.seen.length;
    await rawGet(
      gw.port,
      '/open',
      [
        'X-Forwarded-For: 6.6.6.6',
        'X-Forwarded-Proto: https',
        'X-Forwarded-Host: admin.evil',
        'X-Request-Id: forged',
        'Forwarded: for=6.6.6.6',
      ],
      'App.Example:8080',
    );
    const h = up.seen[before]!.headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'app.example:8080');
    assert.equal(h.forwarded, undefined);
    assert.match(String(h['x-request-id']), /^[0-9a-f-]{36}$/);
    await rawGet(gw.port, '/open');
    assert.notEqual(up.seen[before + 1]!.headers['x-request-id'], h['x-request-id']);
  });

  test('strip_prefix and the upstream base path; the query passes through as sent', async () => {
    const before = up.seen.length;
    await rawGet(gw.port, '/api/v1/items?q=a%20b&x=%2F', [`Authorization: Bearer ${token}`]);
    await rawGet(gw.port, '/api', [`Authorization: Bearer ${token}`]);
    assert.deepEqual(
      up.seen.slice(before).map((s) => s.url),
      ['/base/v1/items?q=a%20b&x=%2F', '/base/'],
    );
  });

  test('request bodies are streamed through unchanged (fixed length and chunked)', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const digest = createHash('sha256').update(body).digest('hex');
    const before = up.seen.length;
    const res = await fetch(`${gw.url}/open/upload`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 200);
    const chunked = new ReadableStream({
      start(c) {
        c.enqueue(body.subarray(0, 1000));
        c.enqueue(body.subarray(1000));
        c.close();
      },
    });
    const res2 = await fetch(`${gw.url}/open/upload`, {
      method: 'PUT',
      body: chunked,
      duplex: 'half',
      headers: { 'content-type': 'application/json' },
    } as RequestInit);
    assert.equal(res2.status, 200);
    for (const s of up.seen.slice(before))
      assert.equal(createHash('sha256').update(s.body).digest('hex'), digest);
  });
});

describe('upstream failures', () => {
  test('a refused connection is 502, a slow upstream is 504, both problem+json', async () => {
    const up = await startUpstream();
    const dead = await startUpstream();
    const deadUrl = dead.url;
    await dead.close();
    const gw = await startGateway(`
[[route]]
name = "dead"
path = "/dead"
upstream = "${deadUrl}"
auth = "none"

[[route]]
name = "slow"
path = "/slow"
upstream = "${up.url}"
auth = "none"
timeout = "200ms"
`);
    try {
      const refused = await fetch(`${gw.url}/dead`);
      assert.equal(refused.status, 502);
      assert.equal(((await refused.json()) as { code: string }).code, 'upstream_unavailable');
      up.delayMs = 1500;
      const slow = await fetch(`${gw.url}/slow`);
      assert.equal(slow.status, 504);
      const body = (await slow.json()) as { code: string };
      assert.equal(body.code, 'upstream_timeout');
      assert.doesNotMatch(JSON.stringify(body), /ECONN|undici|Timeout Error/);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
