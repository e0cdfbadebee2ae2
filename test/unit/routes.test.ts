import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfigText } from '../../src/config/load.ts';
import {
  acceptsSession,
  candidateRoutes,
  compileRoutes,
  matchRoute,
  pathMatches,
  upstreamPath,
} from '../../src/core/routes.ts';

function table(routes: string) {
  const r = loadConfigText(routes, { env: {} });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return compileRoutes(r.config.route);
}

const route = (name: string, host: string, path: string, extra = '') =>
  `[[route]]\nname = "${name}"\nhost = "${host}"\npath = "${path}"\nupstream = "http://127.0.0.1:1/base"\nauth = "none"\n${extra}\n`;

describe('route matching', () => {
  const t = table(
    route('any-root', '*', '/') +
      route('any-public', '*', '/public') +
      route('wild', '*.example.com', '/') +
      route('wild-deep', '*.deep.example.com', '/') +
      route('exact', 'wiki.example.com', '/') +
      route('exact-api', 'wiki.example.com', '/api', 'strip_prefix = true'),
  );
  const cases: [string, string, string | null][] = [
    ['wiki.example.com', '/', 'exact'],
    ['wiki.example.com', '/api', 'exact-api'],
    ['wiki.example.com', '/api/', 'exact-api'],
    ['wiki.example.com', '/api/v1/x', 'exact-api'],
    ['wiki.example.com', '/apis', 'exact'],
    ['other.example.com', '/api', 'wild'],
    ['a.b.example.com', '/', 'wild'],
    ['x.deep.example.com', '/', 'wild-deep'],
    ['example.com', '/', 'any-root'],
    ['elsewhere.test', '/public', 'any-public'],
    ['elsewhere.test', '/public/x', 'any-public'],
    ['elsewhere.test', '/publicity', 'any-root'],
    ['notexample.com', '/', 'any-root'],
  ];
  for (const [host, path, want] of cases) {
    test(`${host}${path} → ${want}`, () => {
      assert.equal(matchRoute(t, host, path)?.name ?? null, want);
    });
  }

  test('no match is null, never an implicit open route', () => {
    const only = table(route('wiki', 'wiki.example.com', '/wiki'));
    assert.equal(matchRoute(only, 'wiki.example.com', '/'), null);
    assert.equal(matchRoute(only, 'wiki.example.com', '/wikipedia'), null);
    assert.equal(matchRoute(only, 'other.example.com', '/wiki'), null);
  });

  test('an exact host falls through to a wildcard when none of its paths match', () => {
    const t2 = table(route('exact-api', 'wiki.example.com', '/api') + route('wild', '*.example.com', '/'));
    assert.equal(matchRoute(t2, 'wiki.example.com', '/')?.name, 'wild');
  });

  test('candidates are listed most specific first', () => {
    assert.deepEqual(
      candidateRoutes(t, 'wiki.example.com', '/api/x').map((r) => r.name),
      ['exact-api', 'exact', 'wild', 'any-root'],
    );
  });

  test('segment-boundary prefixes', () => {
    assert.equal(pathMatches('/public', '/public'), true);
    assert.equal(pathMatches('/public', '/public/'), true);
    assert.equal(pathMatches('/public', '/publicity'), false);
    assert.equal(pathMatches('/', '/anything'), true);
  });

  test('prefixes protect every case variant and are not hidden by ; parameters', () => {
    const t3 = table(
      route('open', 'apps.example.com', '/') +
        route('admin', 'apps.example.com', '/admin', 'strip_prefix = true') +
        route('mixed', 'apps.example.com', '/Docs/API'),
    );
    const cases: [string, string][] = [
      ['/ADMIN/secret', 'admin'],
      ['/Admin/Secret', 'admin'],
      ['/aDmIn', 'admin'],
      ['/admin;x/secret', 'admin'],
      ['/admin;jsessionid=1/secret', 'admin'],
      ['/ADMIN;a=b;c/secret', 'admin'],
      ['/admin;/x', 'admin'],
      ['/adminx;/x', 'open'],
      ['/docs/api/x', 'mixed'],
      ['/DOCS/Api', 'mixed'],
      ['/docs;v=1/api;v=2/x', 'mixed'],
      ['/docs/apix', 'open'],
    ];
    for (const [path, want] of cases)
      assert.equal(matchRoute(t3, 'apps.example.com', path)?.name, want, path);
    assert.equal(pathMatches('/auth', '/AUTH/login'), true);
    assert.equal(pathMatches('/auth', '/auth;x/login'), true);
    const admin = matchRoute(t3, 'apps.example.com', '/admin')!;
    // strip_prefix removes the prefix's segments however they were spelled; the rest is forwarded as sent.
    assert.equal(upstreamPath(admin, '/ADMIN/Secret'), '/base/Secret');
    assert.equal(upstreamPath(admin, '/admin;jsessionid=1/x;y'), '/base/x;y');
    assert.equal(upstreamPath(admin, '/Admin;x'), '/base/');
  });

  test('two routes whose paths differ only in case are one place: a config error', () => {
    const r = loadConfigText(route('a', '*', '/Admin') + route('b', '*', '/admin'), { env: {} });
    assert.equal(r.ok, false);
    const semi = loadConfigText(route('c', '*', '/admin;x'), { env: {} });
    assert.equal(semi.ok, false);
  });

  test('upstream path: base path kept, prefix stripped only when asked', () => {
    const api = matchRoute(t, 'wiki.example.com', '/api/x')!;
    assert.equal(upstreamPath(api, '/api/x'), '/base/x');
    assert.equal(upstreamPath(api, '/api'), '/base/');
    const root = matchRoute(t, 'wiki.example.com', '/y')!;
    assert.equal(upstreamPath(root, '/y'), '/base/y');
  });
});

describe('which routes a provider session opens, and where browsers sign in', () => {
  const idp = (id: string) =>
    `[[oidc]]\nid = "${id}"\nname = "${id}"\nissuer = "https://${id}.example.com"\nclient_id = "c"\n`;
  const t = table(
    idp('corp') +
      idp('gitlab') +
      route('only-corp', '*', '/a', 'auth = "oauth"\noidc = ["corp"]').replace('auth = "none"\n', '') +
      route('any-idp', '*', '/b', 'auth = "oauth"').replace('auth = "none"\n', '') +
      route('mixed', '*', '/c', 'auth = ["local", "oauth"]\noidc = ["corp"]').replace('auth = "none"\n', '') +
      route('tokens', '*', '/d', 'auth = ["bearer", "oauth"]\noidc = ["corp"]').replace(
        'auth = "none"\n',
        '',
      ) +
      route('local', '*', '/e', 'auth = "local"').replace('auth = "none"\n', ''),
  );
  const byName = (n: string) => t.routes.find((r) => r.name === n) as (typeof t.routes)[number];

  test('straight to a provider only when it is the one way in', () => {
    assert.deepEqual(
      t.routes.map((r) => [r.name, r.directProvider]),
      [
        ['only-corp', 'corp'],
        ['any-idp', null],
        ['mixed', null],
        ['tokens', null],
        ['local', null],
      ],
    );
  });

  const cases: [string, string, boolean][] = [
    ['only-corp', 'oidc:corp', true],
    ['only-corp', 'oidc:gitlab', false],
    ['only-corp', 'password', false],
    ['only-corp', 'magic_link', false],
    ['any-idp', 'oidc:gitlab', true],
    ['any-idp', 'oidc:', false],
    ['mixed', 'password', true],
    ['mixed', 'oidc:gitlab', true],
    ['tokens', 'password', false],
    ['local', 'oidc:corp', true],
  ];
  for (const [name, method, accepted] of cases)
    test(`${name} ${accepted ? 'accepts' : 'refuses'} a ${method} session`, () => {
      assert.equal(acceptsSession(byName(name), method), accepted);
    });
});
