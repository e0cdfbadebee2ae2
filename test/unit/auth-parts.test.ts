import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfigText } from '../../src/config/load.ts';
import { prefersHtml } from '../../src/core/accept.ts';
import { readCookie } from '../../src/core/cookies.ts';
import { html } from '../../src/core/html.ts';
import { nextThrottleState, waitFor } from '../../src/core/throttle.ts';
import { SigningKey } from '../../src/crypto/keys.ts';
import { needsRehash } from '../../src/crypto/password.ts';
import { compileSnapshot } from '../../src/http/snapshot.ts';
import { browserName } from '../../src/http/views/pages.ts';
import { passwordProblem } from '../../src/services/password-policy.ts';
import { throttleNetwork } from '../../src/services/throttle.ts';

describe('readCookie', () => {
  const cases: [string | undefined, string | null][] = [
    [undefined, null],
    ['', null],
    ['s=abc', 'abc'],
    ['a=1; s=abc; b=2', 'abc'],
    ['a=1;s=abc', 'abc'],
    ['xs=abc', null],
    ['s=', null],
    ['s', null],
    ['s=abc; s=def', null], // two writers: trust neither
    ['s=abc; a=1; s=abc', null],
    ['a=s=1', null],
  ];
  for (const [header, want] of cases)
    test(`${JSON.stringify(header)} → ${JSON.stringify(want)}`, () =>
      assert.equal(readCookie(header, 's'), want));
});

describe('prefersHtml', () => {
  const cases: [string | undefined, boolean][] = [
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['text/html', true],
    [undefined, false],
    ['*/*', false],
    ['application/json', false],
    ['application/json, text/html;q=0.5', false],
    ['text/html;q=0', false],
    ['text/html, application/json', true],
  ];
  for (const [accept, want] of cases)
    test(`${JSON.stringify(accept)} → ${want}`, () => assert.equal(prefersHtml(accept), want));
});

describe('throttle back-off', () => {
  const policy = { free: 3, baseMs: 1000, maxMs: 8000, forgetAfterMs: 60_000 };
  test('free failures cost nothing, then each doubles the wait up to the cap', () => {
    let state = null;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      state = nextThrottleState(state, 0, policy);
      waits.push(waitFor(state, 0));
    }
    assert.deepEqual(waits, [0, 0, 1000, 2000, 4000, 8000, 8000, 8000]);
  });
  test('a quiet period forgets the failures: nobody is locked out for good', () => {
    let state = null;
    for (let i = 0; i < 10; i++) state = nextThrottleState(state, 0, policy);
    const later = nextThrottleState(state, 60_000, policy);
    assert.equal(later.failures, 1);
    assert.equal(waitFor(later, 60_000), 0);
  });
});

test('signing keys are bound to their purpose and verify in constant time', () => {
  const csrf = new SigningKey('s'.repeat(32), 'csrf');
  const device = new SigningKey('s'.repeat(32), 'device');
  const sig = csrf.sign('value');
  assert.ok(csrf.verify('value', sig));
  assert.equal(csrf.verify('other', sig), false);
  assert.equal(device.verify('value', sig), false);
  assert.equal(new SigningKey('t'.repeat(32), 'csrf').verify('value', sig), false);
});

test('needsRehash: weaker or foreign hashes are upgraded at the next sign-in', () => {
  assert.equal(needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA'), false);
  assert.equal(needsRehash('$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHQ$aGFzaA'), true);
  assert.equal(needsRehash('$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHQ$aGFzaA'), true);
  assert.equal(needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA'), true);
  assert.equal(needsRehash('$2b$10$abcdefghijklmnopqrstuv'), true);
});

test('html escapes every interpolated value unless it is markup already', () => {
  const evil = `"><script>alert('x')</script>&`;
  assert.equal(
    html`<input value="${evil}">`.value,
    '<input value="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">',
  );
  assert.equal(html`<p>${html`<b>${'<i>'}</b>`}</p>`.value, '<p><b>&lt;i&gt;</b></p>');
  assert.equal(html`${['<a>', html`<b>`]}${null}${undefined}${false}`.value, '&lt;a&gt;<b>');
});

describe('cookie names and attributes follow public_url and cookie_domain', () => {
  const settingsFor = (server: string, session = '') => {
    const loaded = loadConfigText(`[server]\n${server}\n[session]\n${session}\n`, { env: {} });
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    return compileSnapshot(loaded.config).auth;
  };
  test('https: __Host- (Secure, no Domain)', () => {
    const a = settingsFor('public_url = "https://gw.example.com"');
    assert.deepEqual(a.session, { name: '__Host-hero_session', secure: true });
    assert.deepEqual(a.csrf, { name: '__Host-hero_csrf', secure: true });
  });
  test('http://localhost counts as secure (browsers accept Secure cookies there)', () => {
    assert.deepEqual(settingsFor('public_url = "http://localhost:8080"').session, {
      name: '__Host-hero_session',
      secure: true,
    });
  });
  test('cookie_domain shares the session: __Secure- with Domain; CSRF stays host-only', () => {
    const a = settingsFor('public_url = "https://gw.example.com"', 'cookie_domain = "example.com"');
    assert.deepEqual(a.session, { name: '__Secure-hero_session', secure: true, domain: 'example.com' });
    assert.deepEqual(a.csrf, { name: '__Host-hero_csrf', secure: true });
  });
  test('plain http elsewhere: no prefix is possible, and no Secure flag', () => {
    assert.deepEqual(settingsFor('public_url = "http://gw.internal"').session, {
      name: 'hero_session',
      secure: false,
    });
  });
});

test('sessions are listed by browser and system, not by raw User-Agent', () => {
  const cases: [string | null, string][] = [
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0',
      'Edge on Windows',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    ['curl/8.5.0', 'curl'],
    [null, 'Unknown browser'],
    ['x'.repeat(100), `${'x'.repeat(40)}…`],
  ];
  for (const [ua, want] of cases) assert.equal(browserName(ua), want);
});

test('throttle networks: IPv4 as is (also mapped), IPv6 by /64', () => {
  const cases: [string, string][] = [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ];
  for (const [ip, want] of cases) assert.equal(throttleNetwork(ip), want, ip);
});

test('passwords made of lone surrogates are refused (they would match any other such string)', () => {
  assert.match(passwordProblem('\ud800'.repeat(20), { minLength: 12 }) ?? '', /not text/);
  assert.equal(passwordProblem('emoji 🦊 passphrase ok', { minLength: 12 }), null);
});
