// The auth pages as forms: CSRF on every post, return_to safety through the real sign-in flow, security
// headers, the account page (password change, ending sessions).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, send } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { HOSTILE_RETURN_TO } from '../helpers/hostile-targets.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase 2026';

describe('auth forms', () => {
  let up: Upstream;
  let gw: TestGateway;

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(
      `
[[route]]
name = "app"
upstream = "${up.url}"
auth = "local"

[[route]]
name = "wiki"
host = "wiki.example.com"
upstream = "${up.url}"
auth = "local"

[[route]]
name = "apps"
host = "*.apps.example.com"
upstream = "${up.url}"
auth = "local"
`,
      { server: 'public_url = "https://gw.example.com"' },
    );
    const passwordHash = await hashPassword(PASSWORD);
    for (const username of ['hana', 'ivan', 'jon'])
      await createUser(gw.store, {
        username,
        email: `${username}@example.com`,
        emailVerified: true,
        passwordHash,
      });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  // The gateway is reached over plain http in tests; its public_url (and so its cookie names) say https.
  const client = () => new BrowserClient(gw.url);
  const SESSION = '__Host-hero_session';

  describe('CSRF: every POST needs our origin and the signed token', () => {
    const posts = [
      '/auth/login',
      '/auth/logout',
      '/auth/account/password',
      '/auth/account/sessions/end',
      '/auth/setup',
    ];
    const crossSite: [string, Record<string, string>][] = [
      ['Origin of another site', { origin: 'https://evil.example' }],
      ['Origin "null"', { origin: 'null' }],
      ['Origin "null" from a cross-site sandboxed frame', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
      ['Origin that only looks like ours', { origin: 'https://gw.example.com.evil.example' }],
      ['no Origin and no Fetch Metadata', { origin: '' }],
      ['no Origin, Sec-Fetch-Site cross-site', { origin: '', 'sec-fetch-site': 'cross-site' }],
      ['no Origin, Sec-Fetch-Site same-site', { origin: '', 'sec-fetch-site': 'same-site' }],
    ];
    for (const [what, headers] of crossSite)
      test(`${what} → 403, no cookie, nothing done`, async () => {
        const b = client();
        const page = await b.get('/auth/login');
        const csrf = csrfIn(page.body);
        const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
        for (const path of posts) {
          const res = await send(`${gw.url}${path}`, {
            method: 'POST',
            headers: {
              ...clean,
              accept: 'text/html',
              'content-type': 'application/x-www-form-urlencoded',
              cookie: b.cookieHeader(),
            },
            body: new URLSearchParams({ csrf, username: 'hana', password: PASSWORD }).toString(),
          });
          assert.equal(res.status, 403, `${path}: ${res.body.slice(0, 200)}`);
          assert.deepEqual(res.setCookies, [], `${path} sets no cookie`);
          assert.match(res.body, /came from another site or has expired/);
        }
      });

    test('a same-origin post without the token, or with a token for another cookie, is refused', async () => {
      const b = client();
      await b.get('/auth/login');
      const missing = await b.post('/auth/login', { username: 'hana', password: PASSWORD });
      assert.equal(missing.status, 403);
      const other = client();
      const otherToken = csrfIn((await other.get('/auth/login')).body);
      const swapped = await b.post('/auth/login', { csrf: otherToken, username: 'hana', password: PASSWORD });
      assert.equal(swapped.status, 403, 'the token is bound to this browser’s cookie');
      const planted = client();
      planted.jar.set('__Host-hero_csrf', 'P'.repeat(43));
      const forged = await planted.post('/auth/login', {
        csrf: 'P'.repeat(43),
        username: 'hana',
        password: PASSWORD,
      });
      assert.equal(
        forged.status,
        403,
        'a planted cookie with itself as token is not enough: the token is signed',
      );
      const json = await b.post('/auth/login', { username: 'hana' }, { accept: 'application/json' });
      assert.equal(JSON.parse(json.body).code, 'csrf_failed');
    });

    test('our own origin passes, as does Fetch Metadata same-origin with Origin absent or "null"', async () => {
      const b = client();
      assert.equal((await b.signIn('hana', PASSWORD, '/')).status, 303);
      const c = client();
      const csrf = csrfIn((await c.get('/auth/login')).body);
      const res = await send(`${gw.url}/auth/login`, {
        method: 'POST',
        headers: {
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/x-www-form-urlencoded',
          cookie: c.cookieHeader(),
        },
        body: new URLSearchParams({ csrf, username: 'hana', password: PASSWORD }).toString(),
      });
      assert.equal(res.status, 303);
      // What browsers really send for our forms: no-referrer pages post with `Origin: null`.
      const d = client();
      const token = csrfIn((await d.get('/auth/login')).body);
      const nullOrigin = await send(`${gw.url}/auth/login`, {
        method: 'POST',
        headers: {
          origin: 'null',
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/x-www-form-urlencoded',
          cookie: d.cookieHeader(),
        },
        body: new URLSearchParams({ csrf: token, username: 'hana', password: PASSWORD }).toString(),
      });
      assert.equal(nullOrigin.status, 303);
    });

    test('public_url’s origin may post; another host the gateway serves may not', async () => {
      assert.equal(
        (await client().signIn('hana', PASSWORD, '/', { origin: 'https://gw.example.com' })).status,
        303,
      );
      const sibling = await client().signIn('hana', PASSWORD, '/', {
        origin: 'https://team.apps.example.com',
      });
      assert.equal(sibling.status, 403, 'a sibling host must not vouch for a post');
    });
  });

  describe('return_to through the real sign-in', () => {
    test(`every hostile target (${HOSTILE_RETURN_TO.length}) ends on "/" of this origin`, async () => {
      const b = client();
      const csrf = csrfIn((await b.get('/auth/login')).body);
      for (const target of HOSTILE_RETURN_TO) {
        // Non-strings cannot arrive in a form; "" means "nothing asked" (the account page).
        if (typeof target !== 'string' || target === '') continue;
        // The GET form re-validates what it puts into the hidden field...
        const page = await new BrowserClient(gw.url).get(
          `/auth/login?return_to=${encodeURIComponent(target)}`,
        );
        if (page.status === 200) {
          const hidden = /name="return_to" value="([^"]*)"/.exec(page.body)?.[1];
          assert.ok(hidden === '/' || hidden === '', `${JSON.stringify(target)} became ${hidden}`);
        }
        // ...and the POST re-validates whatever arrives, at redirect time.
        const res = await b.post('/auth/login', {
          csrf,
          username: 'hana',
          password: PASSWORD,
          return_to: target,
        });
        assert.equal(res.status, 303);
        assert.equal(res.location, '/', `${JSON.stringify(target).slice(0, 60)} → ${res.location}`);
      }
    });

    test('safe targets are kept: paths with queries, and origins the gateway serves', async () => {
      const cases: [string, string][] = [
        ['/wiki/page?x=1&y=2', '/wiki/page?x=1&y=2'],
        ['https://wiki.example.com/page', 'https://wiki.example.com/page'],
        ['https://team.apps.example.com/dash', 'https://team.apps.example.com/dash'],
        ['', '/auth/account'],
      ];
      for (const [target, want] of cases) {
        const res = await client().signIn('hana', PASSWORD, target);
        assert.equal(res.location, want);
      }
    });
  });

  test('auth pages carry no-store, no-referrer, a CSP without script, and refuse framing', async () => {
    for (const path of ['/auth/login', '/auth/logout', '/auth/status', '/auth/setup?token=x']) {
      const res = await send(`${gw.url}${path}`, { headers: { accept: 'text/html' } });
      assert.equal(res.headers['cache-control'], 'no-store', path);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', path);
      assert.equal(res.headers['x-frame-options'], 'DENY', path);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.doesNotMatch(csp, /script-src|unsafe-inline/, path);
    }
    const page = await send(`${gw.url}/auth/login`, { headers: { accept: 'text/html' } });
    assert.doesNotMatch(
      page.body,
      /<script|style=|https?:\/\/(?!gw\.example\.com)/,
      'no script, inline style or third-party asset',
    );
    const css = await send(`${gw.url}${/href="([^"]+\.css[^"]*)"/.exec(page.body)?.[1]}`);
    assert.equal(css.status, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.match(css.body, /--accent:#4f46e5/);
  });

  describe('account page', () => {
    test('without a session it sends the browser to sign in', async () => {
      const res = await client().get('/auth/account');
      assert.equal(res.status, 303);
      assert.match(res.location ?? '', /\/auth\/login\?return_to=%2Fauth%2Faccount$/);
    });

    test('changing the password needs the current one and ends every other session', async () => {
      const laptop = client();
      const phone = client();
      await laptop.signIn('ivan', PASSWORD, '/');
      await phone.signIn('ivan', PASSWORD, '/');
      const account = await laptop.get('/auth/account');
      assert.equal(account.status, 200);
      assert.equal((account.body.match(/<tr>/g) ?? []).length, 3, 'header row + two sessions');
      const wrong = await laptop.submit('/auth/account', '/auth/account/password', {
        current_password: 'not my password at all',
        new_password: NEW_PASSWORD,
        confirm_password: NEW_PASSWORD,
      });
      assert.equal(wrong.status, 401);
      assert.match(wrong.body, /The current password is wrong/);
      const weak = await laptop.submit('/auth/account', '/auth/account/password', {
        current_password: PASSWORD,
        new_password: 'ivan12345678',
        confirm_password: 'ivan12345678',
      });
      assert.equal(weak.status, 400);
      assert.match(weak.body, /must not contain your username/);
      const differ = await laptop.submit('/auth/account', '/auth/account/password', {
        current_password: PASSWORD,
        new_password: NEW_PASSWORD,
        confirm_password: `${NEW_PASSWORD}!`,
      });
      assert.equal(differ.status, 400);
      assert.equal((await phone.get('/x')).status, 200, 'refused changes end nothing');
      const ok = await laptop.submit('/auth/account', '/auth/account/password', {
        current_password: PASSWORD,
        new_password: NEW_PASSWORD,
        confirm_password: NEW_PASSWORD,
      });
      assert.equal(ok.status, 303);
      assert.equal(ok.location, '/auth/account?done=password');
      assert.equal((await laptop.get('/x')).status, 200, 'this session goes on');
      assert.equal((await phone.get('/x')).status, 303, 'the other one is over');
      assert.equal((await client().signIn('ivan', PASSWORD)).status, 401);
      assert.equal((await client().signIn('ivan', NEW_PASSWORD, '/')).status, 303);
    });

    test('ending one of your own sessions from the account page; never someone else’s', async () => {
      const a = client();
      const b = client();
      await a.signIn('jon', PASSWORD, '/');
      await b.signIn('jon', PASSWORD, '/');
      const page = await a.get('/auth/account');
      const ids = [...page.body.matchAll(/name="session" value="(ses_[^"]+)"/g)].map((m) => m[1] as string);
      assert.equal(ids.length, 1, 'only the other session has an End button');
      const stranger = client();
      await stranger.signIn('hana', PASSWORD, '/');
      await stranger.submit('/auth/account', '/auth/account/sessions/end', { session: ids[0] as string });
      assert.equal((await b.get('/x')).status, 200, 'hana cannot end jon’s session');
      const end = await a.submit('/auth/account', '/auth/account/sessions/end', {
        session: ids[0] as string,
      });
      assert.equal(end.status, 303);
      assert.equal((await b.get('/x')).status, 303);
      assert.equal((await a.get('/x')).status, 200);
      assert.ok(a.jar.has(SESSION));
    });
  });
});
