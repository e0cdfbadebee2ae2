import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientChain, compileTrustedProxies } from '../../src/core/client-ip.ts';
import {
  cleanResponseHeaders,
  dropSetCookies,
  stripClientHeaders,
  stripCookies,
} from '../../src/core/headers.ts';

test('stripClientHeaders removes identity spellings, hop-by-hop, Connection-named and forwarding headers', () => {
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
  });
  assert.deepEqual(h, { etag: 'e', 'x-bad': 'ab' });
});

test('stripCookies removes only the gateway’s cookies, by name and by family prefix', () => {
  const ours = { names: new Set(['__Host-hero_session']), prefixes: ['__Host-hero_oidc_'] };
  assert.equal(stripCookies('a=1; __Host-hero_session=s; b=2', ours), 'a=1; b=2');
  assert.equal(stripCookies('__Host-hero_session=s', ours), undefined);
  assert.equal(stripCookies('__Host-hero_oidc_0a1b=x; hero_oidc_=y; c=3', ours), 'hero_oidc_=y; c=3');
  assert.equal(stripCookies(undefined, ours), undefined);
});

test('dropSetCookies: an app cannot set the gateway’s cookies, a sign-in attempt’s among them', () => {
  const ours = { names: new Set(['__Host-hero_session']), prefixes: ['__Host-hero_oidc_'] };
  const h: Record<string, string | string[]> = {
    'set-cookie': ['__Host-hero_oidc_0123abcd=x; Path=/', 'app=1; Path=/', '__Host-hero_session=y'],
  };
  dropSetCookies(h, ours);
  assert.deepEqual(h['set-cookie'], ['app=1; Path=/']);
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
