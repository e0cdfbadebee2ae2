import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfigText, SHARED_SECRET_NEEDED } from '../../src/config/load.ts';

const ROUTE = '[[route]]\nname = "wiki"\nupstream = "http://127.0.0.1:3000"\nauth = "bearer"\n';

function problems(text: string, env: Record<string, string> = {}): string[] {
  const r = loadConfigText(text, { env });
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : r.problems;
}

describe('config loading', () => {
  test('an empty file is valid and every default comes from the schema', () => {
    const r = loadConfigText('', { env: {}, file: '/etc/hg/gw.toml' });
    assert.ok(r.ok);
    assert.equal(r.config.server.listen, '127.0.0.1:8080');
    assert.equal(r.config.server.auth_prefix, '/auth');
    assert.equal(r.config.server.data_dir, '/etc/hg/data');
    assert.equal(r.config.store.url, 'sqlite:/etc/hg/data/gateway.db');
    assert.equal(r.config.session.idle_timeout, 12 * 3600_000);
    assert.equal(r.config.accounts.registration, 'closed');
    assert.deepEqual(r.config.route, []);
    assert.ok(Object.isFrozen(r.config.server));
  });

  test('route defaults: host *, path /, context = name, timeout 30s, auth as a list', () => {
    const r = loadConfigText(ROUTE, { env: {} });
    assert.ok(r.ok);
    const route = r.config.route[0]!;
    assert.equal(route.host, '*');
    assert.equal(route.path, '/');
    assert.equal(route.context, 'wiki');
    assert.equal(route.timeout, 30_000);
    assert.deepEqual(route.auth, ['bearer']);
    assert.equal(route.pass_authorization, false);
  });

  test('the issue example: a path without a leading slash', () => {
    const p = problems(
      `${ROUTE}[[route]]\nname = "a"\npath = "/a"\nupstream = "http://x"\nauth = "none"\n[[route]]\nname = "b"\npath = "api"\nupstream = "http://x"\nauth = "none"\n`,
    );
    assert.deepEqual(p, ['route[2].path: must start with "/" but is "api"']);
  });

  test('every problem is reported at once, each with its path', () => {
    const p = problems(`
[server]
listen = "nowhere"
colour = "blue"
[[route]]
name = "a"
path = "api"
upstream = "ftp://x"
auth = "ldap"
[[route]]
name = "a"
upstream = "http://x"
auth = ["none", "bearer"]
timeout = "3 days"
`);
    assert.deepEqual(p.sort(), [
      'route[0].auth: must be one of "none", "bearer", "local", "oauth" but is "ldap"',
      'route[0].path: must start with "/" but is "api"',
      'route[0].upstream: must use http or https but is "ftp://x"',
      'route[1].auth: "none" cannot be combined with other modes',
      'route[1].name: "a" is already used by route[0]',
      'route[1].timeout: must be a duration like "90s", "15m", "12h" or "7d" but is "3 days"',
      'server.colour: unknown key',
      'server.listen: must be "host:port" (for example "127.0.0.1:8080") but is "nowhere"',
    ]);
  });

  test('duplicate host + path is an error, also when spelled differently', () => {
    const p = problems(
      '[[route]]\nname = "a"\nhost = "Wiki.Example.com"\npath = "/api/"\nupstream = "http://x"\nauth = "none"\n' +
        '[[route]]\nname = "b"\nhost = "wiki.example.com"\npath = "/api"\nupstream = "http://x"\nauth = "none"\n',
    );
    assert.ok(
      p.includes('route[1]: host "wiki.example.com" and path "/api" are already used by route[0]'),
      p.join('\n'),
    );
  });

  test('unknown keys are rejected at every level', () => {
    const p = problems(`bogus = 1\n[session]\nidle = "1h"\n${ROUTE}colour = "red"\n`);
    assert.deepEqual(p.sort(), [
      'bogus: unknown key',
      'route[0].colour: unknown key',
      'session.idle: unknown key',
    ]);
  });

  test('a route must name its auth mode: there is no implicit default', () => {
    const p = problems('[[route]]\nname = "x"\nupstream = "http://x"\n');
    assert.deepEqual(p, ['route[0].auth: is required (there is no default auth mode)']);
  });

  test('oauth routes need providers and may only name known ones', () => {
    const p = problems('[[route]]\nname = "x"\nupstream = "http://x"\nauth = "oauth"\noidc = ["google"]\n');
    assert.deepEqual(p.sort(), [
      'route[0].auth: "oauth" needs at least one [[oidc]] provider',
      'route[0].oidc[0]: no [[oidc]] provider has id "google"',
    ]);
  });

  test('identity providers: https issuers (http for localhost only), "openid" in scopes, oidc lists only with oauth', () => {
    const idp = (id: string, issuer: string, extra = '') =>
      `[[oidc]]\nid = "${id}"\nname = "N"\nissuer = "${issuer}"\nclient_id = "c"\n${extra}\n`;
    const p = problems(
      idp('a', 'http://idp.example.com') +
        idp('b', 'https://idp.example.com', 'scopes = ["email", "bad scope"]') +
        idp('c', 'http://localhost:9000') +
        idp('d', 'http://127.0.0.1:9000/realms/x') +
        '[[route]]\nname = "x"\nupstream = "http://x"\nauth = "local"\noidc = ["c"]\n' +
        '[[route]]\nname = "y"\nupstream = "http://x"\npath = "/y"\nauth = "oauth"\noidc = []\n',
    );
    assert.deepEqual(p.sort(), [
      'oidc[0].issuer: must use https (plain http only for localhost) but is "http://idp.example.com"',
      'oidc[1].scopes: must include "openid"',
      'oidc[1].scopes[1]: must be a scope token but is "bad scope"',
      'route[0].oidc: applies only when auth includes "oauth"',
      'route[1].oidc: must name at least one provider',
    ]);
    const ok = loadConfigText(
      idp('a', 'https://a.example.com') +
        idp('b', 'https://b.example.com') +
        '[[route]]\nname = "all"\nupstream = "http://x"\nauth = ["local", "oauth"]\n' +
        '[[route]]\nname = "one"\npath = "/one"\nupstream = "http://x"\nauth = "oauth"\noidc = ["b"]\n' +
        '[[route]]\nname = "none"\npath = "/none"\nupstream = "http://x"\nauth = "local"\n',
      { env: {} },
    );
    assert.ok(ok.ok);
    assert.deepEqual(
      ok.config.route.map((r) => [r.name, r.providers]),
      [
        ['all', ['a', 'b']],
        ['one', ['b']],
        ['none', []],
      ],
    );
    assert.deepEqual(ok.config.oidc[0]?.scopes, ['openid', 'email', 'profile']);
  });

  test('${ENV} interpolation, literal $${, and unset variables as problems', () => {
    const ok = loadConfigText(
      '[mail]\nsmtp_url = "smtp://u:${PW}@mail.test:587"\nfrom = "A $${B} <a@b.c>"\n',
      {
        env: { PW: 'p"w' },
      },
    );
    assert.ok(ok.ok);
    assert.equal(ok.config.mail.smtp_url, 'smtp://u:p"w@mail.test:587');
    assert.equal(ok.config.mail.from, 'A ${B} <a@b.c>');
    assert.deepEqual(problems('[server]\nsecret = "${NOPE}"\n'), [
      'server.secret: environment variable NOPE is not set',
    ]);
  });

  test('TOML syntax errors name the line and column', () => {
    const r = loadConfigText('[server]\nlisten = \n', { env: {}, file: 'gw.toml' });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.problems[0]!, /^gw\.toml:2:\d+: /);
  });

  test('a short secret, bad trusted proxy and bad public_url are rejected', () => {
    const p = problems(
      '[server]\nsecret = "short"\ntrusted_proxies = ["10.0.0.0/33", "nope"]\npublic_url = "https://gw.test/path"\n',
    );
    assert.deepEqual(p.sort(), [
      'server.public_url: must be an origin without a path but is "https://gw.test/path"',
      'server.secret: must be at least 32 bytes long',
      'server.trusted_proxies[0]: must have a prefix length from 0 to 32 but is "10.0.0.0/33"',
      'server.trusted_proxies[1]: must be an IP address or CIDR range but is "nope"',
    ]);
  });

  test('a PostgreSQL store needs server.secret (instances share it); SQLite generates its own', () => {
    const pg = '[store]\nurl = "postgres://gw@db.internal:5432/gateway?sslmode=require"\n';
    assert.deepEqual(problems(pg), [SHARED_SECRET_NEEDED]);
    assert.match(SHARED_SECRET_NEEDED, /secret = "\$\{HERO_GATEWAY_SECRET\}"/);
    const secret = 'x'.repeat(40);
    const withSecret = loadConfigText(`[server]\nsecret = "\${S}"\n${pg}`, { env: { S: secret } });
    assert.ok(withSecret.ok && withSecret.config.server.secret === secret);
    assert.ok(loadConfigText('[store]\nurl = "sqlite:/tmp/x.db"\n', { env: {} }).ok);
  });

  test('cookie_domain must be a domain that covers public_url', () => {
    for (const domain of ['example.com', '.example.com', 'gw.example.com']) {
      const ok = loadConfigText(
        `[server]\npublic_url = "https://gw.example.com"\n[session]\ncookie_domain = "${domain}"\n`,
        { env: {} },
      );
      assert.ok(ok.ok && ok.config.session.cookie_domain === domain.replace(/^\./, ''), domain);
    }
    assert.deepEqual(
      problems('[server]\npublic_url = "https://gw.example.com"\n[session]\ncookie_domain = "other.org"\n'),
      [
        'session.cookie_domain: "other.org" must be public_url\'s host "gw.example.com" or a parent domain of it',
      ],
    );
    assert.deepEqual(problems('[session]\ncookie_domain = "Example.COM"\n'), [
      'session.cookie_domain: must be a lower-case domain with at least two labels, like "example.com" but is "Example.COM"',
    ]);
  });
});
