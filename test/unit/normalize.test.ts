import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalizeHost, normalizeTarget } from '../../src/core/normalize.ts';

describe('normalizeTarget', () => {
  const accepted: [string, string, string][] = [
    // raw target, decoded path (matched), forwarded path
    ['/', '/', '/'],
    ['/public/page', '/public/page', '/public/page'],
    ['/public/', '/public/', '/public/'],
    ['/%61dmin', '/admin', '/admin'],
    ['/a%20b', '/a b', '/a%20b'],
    ['/caf%C3%A9', '/café', '/caf%C3%A9'],
    ['/x/...', '/x/...', '/x/...'],
    ['/x/.well-known', '/x/.well-known', '/x/.well-known'],
    ['/a:b@c', '/a:b@c', '/a:b@c'],
    ['/a%3Ab', '/a:b', '/a:b'],
    ['/q?x=1&y=%2F', '/q', '/q'],
    ['/admin;x/secret', '/admin;x/secret', '/admin;x/secret'], // matching ignores the parameter; sent as is
    ['/ADMIN/Secret', '/ADMIN/Secret', '/ADMIN/Secret'], // matching ignores case; sent as is
    ['/x/;v=1', '/x/;v=1', '/x/;v=1'], // a trailing parameter-only segment is "/x/" to a servlet container
    ['/100%25', '/100%', '/100%25'],
    ['/a%25zz', '/a%zz', '/a%25zz'],
  ];
  for (const [raw, path, forward] of accepted) {
    test(`accepts ${JSON.stringify(raw)}`, () => {
      const r = normalizeTarget(raw);
      assert.ok(r.ok, `expected ${raw} to be accepted`);
      assert.equal(r.path, path);
      assert.equal(r.forward, forward);
    });
  }

  const rejected = [
    '/public/../admin',
    '/public/./admin',
    '/..',
    '/public/..',
    '/public/%2e%2e/admin',
    '/public/%2E%2E/admin',
    '/public/.%2e/admin',
    '/public/%2e/admin',
    '/public/..;/admin',
    '/public/..;jsessionid=1/admin',
    '/public/%2e%2e%3b/admin',
    '/admin%2fx',
    '/admin%2Fx',
    '/admin%5cx',
    '/admin\\x',
    '//admin',
    '/a//b',
    '/a%00b',
    '/a\u0000b',
    '/a%0d%0aSet-Cookie:x',
    '/a%09b',
    '/a%7f',
    '/a#frag',
    '/q?a=1#frag',
    '/%',
    '/%zz',
    '/%c3',
    'admin',
    'http://evil.example/admin',
    '*',
    // Encoded twice or more: an app that decodes again would see a separator or a dot segment.
    '/open/%252e%252e/admin',
    '/open/%252E%252E/admin',
    '/open/.%252e/admin',
    '/open/%25252e%25252e/admin',
    '/open%252fadmin',
    '/open%252Fadmin',
    '/open%255cadmin',
    '/open%25%32%66admin',
    '/open/%252e%252e%253b/admin',
    '/a%2500b',
    '/a%25250a',
    // A segment that is only parameters is empty once a servlet container drops them.
    '/;x/admin',
    '/;/admin',
    '/open/%3Bx/admin',
    // Double-encoded anything: an app that decodes twice reads "/admin" where we matched "/%61dmin".
    '/%2561dmin',
    '/adm%2569n/x',
    '/admin%253Bx/y',
    // Raw non-ASCII: a proxy passes the bytes on, Node reads them as Latin-1, the app as UTF-8.
    '/café'.normalize(),
    '/adm\u00c4\u00b1n',
    '/q?x=\u00e9',
    // Characters whose simple case mapping is ASCII (ı → I, ſ → S, K → k, İ → i).
    '/adm%C4%B1n',
    '/%C5%BFecret',
    '/%E2%84%AAey',
    '/%C4%B0ndex',
  ];
  for (const raw of rejected) {
    test(`rejects ${JSON.stringify(raw)}`, () => {
      assert.equal(normalizeTarget(raw).ok, false);
    });
  }
});

describe('canonicalizeHost', () => {
  const cases: [string | undefined, number, string | null, string | null][] = [
    ['PUB.TEST.', 80, 'pub.test', 'pub.test'],
    ['pub.test:80', 80, 'pub.test', 'pub.test'],
    ['pub.test:443', 443, 'pub.test', 'pub.test'],
    ['pub.test:8080', 80, 'pub.test', 'pub.test:8080'],
    ['Pub.Test:08080', 80, 'pub.test', 'pub.test:8080'],
    ['127.0.0.1:3000', 80, '127.0.0.1', '127.0.0.1:3000'],
    ['[::1]:8080', 80, '[::1]', '[::1]:8080'],
    ['[::1]', 80, '[::1]', '[::1]'],
    ['pub.test..', 80, null, null],
    ['pub..test', 80, null, null],
    ['', 80, null, null],
    [undefined, 80, null, null],
    ['evil.test/x', 80, null, null],
    ['user@pub.test', 80, null, null],
    ['pub.test:0', 80, null, null],
    ['pub.test:99999', 80, null, null],
    ['pub test', 80, null, null],
    ['-pub.test', 80, null, null],
  ];
  for (const [raw, port, hostname, authority] of cases) {
    test(`${JSON.stringify(raw)} → ${hostname}`, () => {
      const h = canonicalizeHost(raw, port);
      assert.equal(h?.hostname ?? null, hostname);
      assert.equal(h?.authority ?? null, authority);
    });
  }
});
