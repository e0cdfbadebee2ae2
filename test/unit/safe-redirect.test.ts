import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfigText } from '../../src/config/load.ts';
import { compileRoutes } from '../../src/core/routes.ts';
import { compileServedOrigins, safeReturnTo } from '../../src/core/safe-redirect.ts';

const PUBLIC = 'https://gw.example.com';
const loaded = loadConfigText(
  `[server]\npublic_url = "${PUBLIC}"\n` +
    '[[route]]\nname = "wiki"\nhost = "wiki.example.com"\nupstream = "http://127.0.0.1:1"\nauth = "none"\n' +
    '[[route]]\nname = "apps"\nhost = "*.apps.example.com"\nupstream = "http://127.0.0.1:1"\nauth = "none"\n' +
    '[[route]]\nname = "any"\nhost = "*"\npath = "/any"\nupstream = "http://127.0.0.1:1"\nauth = "none"\n',
  { env: {} },
);
if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
const served = compileServedOrigins(PUBLIC, compileRoutes(loaded.config.route).routes);
const check = (t: unknown) => safeReturnTo(t, PUBLIC, served);

describe('return_to validation', () => {
  const allowed: [string, string][] = [
    ['/', '/'],
    ['/wiki/page?x=1#top', '/wiki/page?x=1#top'],
    ['/a/../b', '/b'],
    ['https://gw.example.com/x', 'https://gw.example.com/x'],
    ['https://wiki.example.com/page', 'https://wiki.example.com/page'],
    ['https://team.apps.example.com/', 'https://team.apps.example.com/'],
    ['https://a.b.apps.example.com/z', 'https://a.b.apps.example.com/z'],
  ];
  for (const [target, want] of allowed) test(`allows ${target}`, () => assert.equal(check(target), want));

  const hostile: unknown[] = [
    '//evil.example',
    '///evil.example',
    '////evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '\\/evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    ' //evil.example',
    '\t//evil.example',
    '//evil.example/%2F..',
    '/%2F/evil.example',
    '/%2f%2fevil.example',
    '%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%5cevil.example',
    '/%09/evil.example',
    '/%0a/evil.example',
    '/%00',
    '/%',
    'https://evil.example',
    'https://evil.example/https://gw.example.com',
    'http://gw.example.com/x',
    'https://gw.example.com.evil.example/',
    'https://gw.example.com@evil.example/',
    'https://user:pass@gw.example.com/',
    'https://user@wiki.example.com/',
    'https://evil.example#@gw.example.com',
    'https://evil.example?@gw.example.com',
    'https://apps.example.com/',
    'https://xapps.example.com/',
    'https://team.apps.example.com:8443/',
    'https://wiki.example.com.evil.example/',
    'https://anything.example/any',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'java\tscript:alert(1)',
    'javascript://gw.example.com/%0aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'ftp://gw.example.com/',
    'gw.example.com/x',
    'evil.example',
    'https:evil.example',
    'https:/evil.example',
    '',
    `/${'a'.repeat(3000)}`,
    null,
    undefined,
    ['/'],
    42,
  ];
  test(`the table holds at least 40 hostile targets (${hostile.length})`, () =>
    assert.ok(hostile.length >= 40));
  for (const target of hostile)
    test(`refuses ${JSON.stringify(target)?.slice(0, 60)}`, () => assert.equal(check(target), '/'));
});
