// The whoami demo app over HTTP: links to the gateway's account page and sign-out, escaping of everything it
// echoes, and colours that follow the browser's scheme with readable contrast.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { contrast } from '../../src/core/colour.ts';
import { createWhoami } from '../../src/whoami.ts';
import { send } from '../helpers/browser-client.ts';
import { colourIn, parseCss, resolver } from '../helpers/css.ts';

describe('whoami demo app', () => {
  const server = createWhoami();
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const html = (path: string, headers: Record<string, string> = {}) =>
    send(`${url}${path}`, { headers: { accept: 'text/html', ...headers } });

  test('signed in through the gateway: who, and links to the account page and to sign out', async () => {
    const res = await html('/', { 'x-hero-user': 'alice', 'x-forwarded-host': 'app.example.com' });
    assert.equal(res.status, 200);
    assert.match(res.body, /Signed in as <strong>alice<\/strong>/);
    assert.match(res.body, /<a href="\/auth\/account">Your account<\/a>/);
    // The gateway's page that asks, with its CSRF-protected form: a link never signs out by itself.
    assert.match(res.body, /<a href="\/auth\/logout">Sign out<\/a>/);
    assert.doesNotMatch(res.body, />Sign in</);
  });

  test('no identity (a public route): a link to sign in as well', async () => {
    const res = await html('/');
    assert.match(res.body, /<a href="\/auth\/login">Sign in<\/a>/);
    assert.match(res.body, /<a href="\/auth\/account">Your account<\/a>/);
    assert.match(res.body, /<a href="\/auth\/logout">Sign out<\/a>/);
  });

  test('everything it echoes is escaped', async () => {
    const res = await html('/x?<script>alert(1)</script>', {
      'x-hero-user': '<img src=x onerror=alert(1)>',
      'x-evil': '"><script>alert(2)</script>',
    });
    assert.doesNotMatch(res.body, /<script>|<img src=x/);
    assert.match(res.body, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(res.body, /&quot;&gt;&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
  });

  test('follows the colour scheme, every text ≥ 4.5:1 and the focus ring ≥ 3:1 in light and dark', async () => {
    const res = await html('/', { 'x-hero-user': 'alice' });
    const css = /<style>([\s\S]*?)<\/style>/.exec(res.body)?.[1] ?? '';
    assert.match(css, /@media \(prefers-color-scheme:dark\)/);
    assert.match(res.body, /<meta name="color-scheme" content="light dark">/);
    const rules = parseCss(css);
    for (const scheme of ['light', 'dark'] as const) {
      const get = resolver(rules, scheme);
      const bg = colourIn(get('html', 'background'));
      const fg = colourIn(get('html', 'color'));
      const surfaces = [bg, colourIn(get('tr.hero', 'background')), colourIn(get('code', 'background'))];
      for (const [name, colour] of [
        ['text', fg],
        ['link', colourIn(get('a', 'color'))],
        ['muted', colourIn(get('.who', 'color'))],
      ] as const)
        for (const surface of surfaces)
          assert.ok(contrast(colour, surface) >= 4.5, `${scheme} ${name} ${colour} on ${surface}`);
      assert.ok(contrast(colourIn(get('a:focus-visible', 'outline')), bg) >= 3, `${scheme} focus ring`);
    }
  });

  test('scripts still get JSON', async () => {
    const res = await send(`${url}/api`, { headers: { accept: 'application/json' } });
    assert.equal(JSON.parse(res.body).url, '/api');
  });
});
