// "Only this machine", defined once: for the gateway's own connections and for what browsers trust.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost, isSecureContextHost } from '../../src/core/loopback.ts';

const host = (url: string) => new URL(url).hostname;

test('loopback hosts: localhost, 127.0.0.0/8 (in any spelling URL accepts) and [::1]; never a look-alike', () => {
  for (const url of [
    'http://localhost/',
    'http://127.0.0.1/',
    'http://127.1/',
    'http://127.9.8.7/',
    'http://[::1]/',
  ])
    assert.ok(isLoopbackHost(host(url)), url);
  for (const url of [
    'http://app.localhost/',
    'http://localhost.example.com/',
    'http://127.0.0.1.nip.io/',
    'http://128.0.0.1/',
    'http://[::2]/',
    'http://0.0.0.0/',
  ])
    assert.ok(!isLoopbackHost(host(url)), url);
});

test('browsers also trust *.localhost; a server-side fetch does not', () => {
  assert.ok(isSecureContextHost(host('http://app.localhost/')));
  assert.ok(isSecureContextHost(host('http://127.0.0.2/')));
  assert.ok(!isSecureContextHost(host('http://localhost.example.com/')));
  assert.ok(!isSecureContextHost(host('http://10.0.0.1/')));
});
