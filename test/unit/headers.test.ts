import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientChain, compileTrustedProxies } from '../../src/core/client-ip.ts';
import {
  cleanResponseHeaders,
  dropSetCookies,
  forwardableHeaders,
  stripClientHeaders,
  stripCookies,
} from '../../src/core/headers.ts';

test('stripClientHeaders removes identity spellings, hop-by-hop, Connection-named, forwarding and URL/method-override headers', () => {
  const h: Record<string, string> = {
    connection: 'close, x-secret',
    'x-secret': '1',
    'x-hero-user': 'm',
    x_hero_user: 'm',
    'x-hero_claims': 'm',
    'x_hero-email': 'm',
    'x-heroic': 'kept',
    'x-forwarded-for': '6.6.6.6',
    forwarded: 'for=6.6.6.6',
    te: 'trailers',
    authorization: 'Bearer x',
    accept: 'text/html',
    'x-original-url': '/admin',
    'x-rewrite-url': '/admin',
    'x-http-method-override': 'DELETE',
    'x-http-method': 'DELETE',
    'x-method-override': 'DELETE',
  };
  stripClientHeaders(h, true);
  assert.deepEqual(Object.keys(h).sort(), ['accept', 'x-heroic']);
});

test('response hop-by-hop headers are dropped and unsendable characters cleaned', () => {
  const h = cleanResponseHeaders({
    connection: 'keep-alive, x-a',
    'keep-alive': 'timeout=5',
    'x-a': '1',
    etag: 'e',
    'x-bad': 'a\u0001b',
    'clear-site-data': '"cookies"',
  });
  assert.deepEqual(h, { etag: 'e', 'x-bad': 'ab' });
});

test('stripCookies removes the gateway’s cookies in every spelling and keeps the app’s', () => {
  assert.equal(stripCookies('a=1; __Host-hero_session=s; b=2'), 'a=1; b=2');
  assert.equal(stripCookies('__Host-hero_session=s'), undefined);
  assert.equal(stripCookies('__Host-hero_oidc_0a1b=x; hero_oidc_=y; c=3'), 'c=3');
  assert.equal(
    stripCookies('__HOST-Hero_Session=x; __secure-HERO_CSRF=y; hero_session; heroic=1'),
    'heroic=1',
  );
  assert.equal(stripCookies(undefined), undefined);
});

test('dropSetCookies: an app cannot set the gateway’s cookies in any case, prefix or nameless form', () => {
  const h: Record<string, string | string[]> = {
    'set-cookie': [
      '__Host-hero_oidc_0123abcd=x; Path=/',
      'app=1; Path=/',
      '__Host-hero_session=y',
      '__HOST-HERO_SESSION=y; Secure; Path=/',
      '__secure-hero_session=y',
      'Hero_Session=y',
      ' hero_csrf =y',
      '=hero_session=attacker; Path=/',
      '=__Host-hero_session=attacker',
      'hero_session',
      '=  hero_device=z',
      'heroic=2',
    ],
  };
  dropSetCookies(h);
  assert.deepEqual(h['set-cookie'], ['app=1; Path=/', 'heroic=2']);
});

test('client IP: untrusted peers cannot claim an origin; trusted chains are walked from the right', () => {
  const none = compileTrustedProxies([]);
  assert.deepEqual(clientChain('203.0.113.9', '1.2.3.4', none), {
    ip: '203.0.113.9',
    forwardedFor: '203.0.113.9',
  });
  const trusted = compileTrustedProxies(['10.0.0.0/8', '::1']);
  assert.deepEqual(clientChain('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.3', trusted), {
    ip: '198.51.100.7',
    forwardedFor: '6.6.6.6, 198.51.100.7, 10.0.0.3, 10.0.0.2',
  });
  assert.equal(clientChain('::ffff:10.1.2.3', '198.51.100.8', trusted).ip, '198.51.100.8');
  assert.equal(clientChain('::1', undefined, trusted).ip, '::1');
});

test('forwardableHeaders: a copy without what stripClientHeaders removes; every Connection line counts', () => {
  const sent = {
    // Node joins repeated headers for most names, but keeps an array where a caller builds one itself.
    connection: ['keep-alive', 'x-a', 'X-B'],
    'x-a': '1',
    'x-b': '2',
    'x-hero-user': 'mallory',
    authorization: 'Bearer x',
    cookie: '__Host-hero_session=s; app=1',
    accept: '*/*',
  };
  const copy = forwardableHeaders(sent, true);
  assert.deepEqual(copy, { cookie: 'app=1', accept: '*/*' });
  assert.equal(sent['x-hero-user'], 'mallory', 'the client’s object is left as it was');
  assert.deepEqual(forwardableHeaders({ connection: 'close', 'x-a': '1' }, false), { 'x-a': '1' });
});
