import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfigText } from '../../src/config/load.ts';
import { compileRoutes } from '../../src/core/routes.ts';
import { compileServedOrigins, safeReturnTo } from '../../src/core/safe-redirect.ts';
import { HOSTILE_RETURN_TO } from '../helpers/hostile-targets.ts';

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

  test(`the table holds at least 40 hostile targets (${HOSTILE_RETURN_TO.length})`, () =>
    assert.ok(HOSTILE_RETURN_TO.length >= 40));
  test('the result is a fixed point: validating it again changes nothing', () => {
    for (const t of [...HOSTILE_RETURN_TO, '/a/./b/../c?x=1#y', 'https://wiki.example.com/p'])
      assert.equal(check(check(t)), check(t));
  });
  for (const target of HOSTILE_RETURN_TO)
    test(`refuses ${JSON.stringify(target)?.slice(0, 60)}`, () => assert.equal(check(target), '/'));
});
