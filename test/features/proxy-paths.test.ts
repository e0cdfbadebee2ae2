// Hostile paths and hosts: the upstream must never receive a request that was not matched exactly as sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawGet, rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

describe('hostile paths and hosts', () => {
  let up: Upstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream();
    gw = await startGateway(`
[[route]]
name = "admin"
path = "/admin"
upstream = "${up.url}"
auth = "bearer"
require_claims = ["gateway.admin"]

[[route]]
name = "public"
path = "/public"
upstream = "${up.url}"
auth = "none"

[[route]]
name = "pub-host"
host = "pub.test"
upstream = "${up.url}"
auth = "none"
`);
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  // [raw request target, expected status, what the upstream should have received (null: nothing)]
  const table: [string, number, string | null][] = [
    ['/public/../admin', 400, null],
    ['/public/./admin', 400, null],
    ['/public/%2e%2e/admin', 400, null],
    ['/public/%2E%2e/admin', 400, null],
    ['/public/.%2E/admin', 400, null],
    ['/public/%2e/admin', 400, null],
    ['/public/..;/admin', 400, null],
    ['/public/%2e%2e;jsessionid=x/admin', 400, null],
    ['/public/.;/admin', 400, null],
    ['/public%2f..%2fadmin', 400, null],
    ['/public/..%2fadmin', 400, null],
    ['/public/%5c..%5cadmin', 400, null],
    ['/public\\..\\admin', 400, null],
    ['/admin\\x', 400, null],
    ['/admin%2fx', 400, null],
    ['/admin%2Fx', 400, null],
    ['//admin', 400, null],
    ['/public//x', 400, null],
    ['/public/%00', 400, null],
    ['/public/a%0d%0aX-Injected:%201', 400, null],
    ['/public/%', 400, null],
    ['/public/%c3%28', 400, null],
    ['/%61dmin', 401, null], // decoded once to /admin: the admin route's auth applies
    ['/%2561dmin', 400, null], // an app decoding twice would read /admin: refused
    ['/ADMIN', 401, null], // every case variant of a protected prefix is protected
    ['/Admin;x/y', 401, null], // and a ; parameter does not hide the segment
    ['/PUBLIC/x', 200, '/PUBLIC/x'], // matched in any case, forwarded as sent
    ['/publicity', 404, null],
    ['/auth/../public', 400, null],
    ['/public/%61', 200, '/public/a'],
    ['/public/a%20b', 200, '/public/a%20b'],
    ['/public/x?y=%2e%2e/..', 200, '/public/x?y=%2e%2e/..'],
    ['/public/a;b=c', 200, '/public/a;b=c'],
    ['/public', 200, '/public'],
  ];

  for (const [target, status, forwarded] of table) {
    test(`${target} → ${status}`, async () => {
      const before = up.seen.length;
      const res = await rawGet(gw.port, target);
      assert.equal(res.status, status, res.raw.slice(0, 300));
      const got = up.seen.slice(before).map((s) => s.url);
      assert.deepEqual(got, forwarded === null ? [] : [forwarded]);
      if (status >= 400) {
        assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
        assert.doesNotMatch(res.body, /at .*\.ts:\d+|Error:/, 'no stack traces in error bodies');
      }
    });
  }

  test('a raw "#" in the target is refused', async () => {
    const before = up.seen.length;
    const res = await rawGet(gw.port, '/public#/../admin');
    assert.equal(res.status, 400);
    assert.equal(up.seen.length, before);
  });

  test('absolute-form targets are refused', async () => {
    const before = up.seen.length;
    const res = await rawGet(gw.port, 'http://pub.test/admin');
    assert.equal(res.status, 400);
    assert.equal(up.seen.length, before);
  });

  const hosts: [string, number, string | null][] = [
    ['PUB.TEST.', 200, 'pub.test'],
    ['pub.test:80', 200, 'pub.test'],
    ['Pub.Test:8080', 200, 'pub.test:8080'],
    ['pub.test..', 400, null],
    ['evil.test', 404, null],
    ['pub.test@evil.test', 400, null],
    ['pub.test/x', 400, null],
  ];
  for (const [host, status, forwardedHost] of hosts) {
    test(`Host: ${host} → ${status}`, async () => {
      const before = up.seen.length;
      const res = await rawGet(gw.port, '/x', [], host);
      assert.equal(res.status, status);
      const seen = up.seen.slice(before);
      assert.deepEqual(
        seen.map((s) => s.headers['x-forwarded-host']),
        forwardedHost === null ? [] : [forwardedHost],
      );
    });
  }

  test('two Host headers are refused', async () => {
    const before = up.seen.length;
    const res = await rawRequest(
      gw.port,
      'GET /x HTTP/1.1\r\nHost: pub.test\r\nHost: evil.test\r\nConnection: close\r\n\r\n',
    );
    assert.equal(res.status, 400);
    assert.equal(up.seen.length, before);
  });

  test('the gateway prefix is never proxied, even on a host whose route covers "/"', async () => {
    const before = up.seen.length;
    for (const target of ['/auth', '/auth/anything', '/%61uth/x']) {
      const res = await rawGet(gw.port, target, [], 'pub.test');
      assert.equal(res.status, 404, target);
    }
    assert.equal(up.seen.length, before);
  });
});
