// Every failure a browser sees is a page: the same status and code a script gets as problem+json, the auth
// pages' headers, who is signed in when the gateway knows it, and what to do next. `api = true` routes, the
// admin listener and scripts keep problem+json.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, type Response, send } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

/** A browser's failure page: same status, HTML, the code where it stays put, the pages' headers. */
function assertPage(res: Response, status: number, code: string): void {
  assert.equal(res.status, status, res.body.slice(0, 300));
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.match(res.body, new RegExp(`data-code="${code}"`));
  assert.match(res.body, new RegExp(`Code: ${code}\\b`));
  assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
  assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
  assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
  assert.match(res.body, /<h1 id="page-title">/);
  assert.match(res.body, /role="alert"/);
  assert.doesNotMatch(res.body, /<script|\bat .*\.ts:\d+|ECONN|undici|sqlite/i, 'no script, no internals');
}

/** A script's failure: problem+json with the same status and code. */
function assertProblem(res: Response, status: number, code: string): void {
  assert.equal(res.status, status, res.body.slice(0, 300));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal((JSON.parse(res.body) as { code: string }).code, code);
}

const JSON_ACCEPT = { accept: 'application/json' };

describe('failure pages for browsers, problem+json for scripts', () => {
  let up: Upstream;
  let deadUrl: string;
  let gw: TestGateway;
  let alice: BrowserClient;

  before(async () => {
    up = await startUpstream();
    const dead = await startUpstream();
    deadUrl = dead.url;
    await dead.close();
    gw = await startGateway(`
[[route]]
name = "open"
path = "/open"
upstream = "${up.url}"
auth = "none"

[[route]]
name = "admin"
path = "/admin"
upstream = "${up.url}"
auth = "local"
require_claims = ["admin.read"]

[[route]]
name = "api"
path = "/api"
upstream = "${up.url}"
auth = ["local", "bearer"]
api = true
require_claims = ["admin.read"]

[[route]]
name = "dead"
path = "/dead"
upstream = "${deadUrl}"
auth = "local"

[[route]]
name = "dead-api"
path = "/dead-api"
upstream = "${deadUrl}"
auth = "none"
api = true

[[route]]
name = "slow"
path = "/slow"
upstream = "${up.url}"
auth = "local"
timeout = "200ms"

[[route]]
name = "tokens"
path = "/tokens"
upstream = "${up.url}"
auth = "bearer"
`);
    await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    alice = new BrowserClient(gw.url, BROWSER);
    assert.equal((await alice.signIn('alice', PASSWORD, '/open/')).status, 303);
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('400 bad_path: a page for the browser, problem+json for curl and for JSON clients', async () => {
    const page = await send(`${gw.url}/open%2fadmin`, { headers: BROWSER });
    assertPage(page, 400, 'bad_path');
    assert.match(page.body, /Address not allowed/);
    assert.match(page.body, /href="\/"/, 'a way home');
    assertProblem(await send(`${gw.url}/open%2fadmin`), 400, 'bad_path');
    assertProblem(await send(`${gw.url}/open%2fadmin`, { headers: JSON_ACCEPT }), 400, 'bad_path');
  });

  test('403 forbidden names the signed-in user and offers to switch accounts', async () => {
    const page = await alice.get('/admin/x');
    assertPage(page, 403, 'forbidden');
    assert.match(page.body, /signed in as <strong>alice<\/strong>/);
    assert.match(page.body, /<a class="button" href="\/auth\/logout">Sign in as someone else<\/a>/);
    assert.match(page.body, /href="\/">Go to the start page</);
    assertProblem(await alice.get('/admin/x', JSON_ACCEPT), 403, 'forbidden');
    assert.equal(up.seen.filter((s) => s.url.startsWith('/admin')).length, 0, 'nothing forwarded');
  });

  test('an api = true route answers a browser with problem+json', async () => {
    const res = await alice.get('/api/x');
    assertProblem(res, 403, 'forbidden');
    assertProblem(await send(`${gw.url}/dead-api/x`, { headers: BROWSER }), 502, 'upstream_unavailable');
  });

  test('404: no route, and an unknown path under /auth', async () => {
    for (const path of ['/nowhere', '/auth/nothing-here']) {
      assertPage(await send(`${gw.url}${path}`, { headers: BROWSER }), 404, 'not_found');
      assertProblem(await send(`${gw.url}${path}`), 404, 'not_found');
    }
    // A method no route serves reaches the not-found handler rather than the gate: a page there too.
    assertPage(await send(`${gw.url}/open/x`, { method: 'PROPFIND', headers: BROWSER }), 404, 'not_found');
  });

  test('502 dead upstream and 504 timeout: try the same address again', async () => {
    const dead = await alice.get('/dead/page?x=1');
    assertPage(dead, 502, 'upstream_unavailable');
    assert.match(dead.body, /App not reachable/);
    assert.match(dead.body, /signed in as <strong>alice<\/strong>/);
    assert.match(dead.body, /<a class="button" href="\/dead\/page\?x=1">Try again<\/a>/);
    assertProblem(await alice.get('/dead/page', JSON_ACCEPT), 502, 'upstream_unavailable');
    up.delayMs = 1500;
    try {
      const slow = await alice.get('/slow/x');
      assertPage(slow, 504, 'upstream_timeout');
      assert.match(slow.body, /href="\/slow\/x">Try again</);
      assertProblem(await alice.get('/slow/x', JSON_ACCEPT), 504, 'upstream_timeout');
    } finally {
      up.delayMs = 0;
    }
  });

  test('401 on a token route keeps WWW-Authenticate and stays problem+json', async () => {
    const res = await send(`${gw.url}/tokens/x`, { headers: BROWSER });
    assertProblem(res, 401, 'auth_required');
    assert.match(String(res.headers['www-authenticate']), /^Bearer /);
  });

  test('429 says in how many seconds to try again', async () => {
    const b = new BrowserClient(gw.url, BROWSER);
    let res: Response | null = null;
    // The mail limit per address lets a few requests through, then asks to wait.
    for (let i = 0; i < 10; i++) {
      res = await b.submit('/auth/forgot', '/auth/forgot', { identifier: 'nobody@example.com' });
      if (res.status === 429) break;
    }
    assert.ok(res);
    assertPage(res, 429, 'too_many_requests');
    const seconds = Number(res.headers['retry-after']);
    assert.ok(seconds > 0);
    assert.match(res.body, new RegExp(`Try again in ${seconds} seconds\\.`));
    const script = await send(`${gw.url}/auth/forgot`, {
      method: 'POST',
      headers: {
        ...JSON_ACCEPT,
        origin: gw.url,
        'content-type': 'application/x-www-form-urlencoded',
        cookie: b.cookieHeader(),
      },
      body: new URLSearchParams({
        csrf: /name="csrf" value="([^"]+)"/.exec((await b.get('/auth/forgot')).body)?.[1] ?? '',
        identifier: 'nobody@example.com',
      }).toString(),
    });
    assertProblem(script, 429, 'too_many_requests');
  });
});

describe('503 when the store is down: a page for the browser, problem+json for scripts', () => {
  test('on a proxied route and on the sign-in page', async () => {
    const up = await startUpstream();
    const gw = await startGateway(`[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`);
    try {
      await createUser(gw.store, {
        username: 'olga',
        email: 'olga@example.com',
        emailVerified: true,
        passwordHash: await hashPassword(PASSWORD),
      });
      const b = new BrowserClient(gw.url, BROWSER);
      assert.equal((await b.signIn('olga', PASSWORD, '/')).status, 303);
      // Signed in, the sign-in page would send the browser on: the sign-out page has a form to take a token from.
      const form = await b.get('/auth/logout');
      await gw.store.close();
      const page = await b.get('/x?y=1');
      assertPage(page, 503, 'store_unavailable');
      assert.match(page.body, /Temporarily unavailable/);
      assert.match(page.body, /href="\/x\?y=1">Try again</);
      assertProblem(await b.get('/x', JSON_ACCEPT), 503, 'store_unavailable');
      const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
      const login = await b.post('/auth/login', { csrf, username: 'olga', password: PASSWORD });
      assertPage(login, 503, 'store_unavailable');
    } finally {
      await gw.gateway.close();
      rmSync(gw.dir, { recursive: true, force: true });
      await up.close();
    }
  });
});

describe('the admin listener answers programs only', () => {
  test('a browser asking the admin API gets problem+json', async () => {
    const gw = await startGateway('', { admin: true });
    try {
      const admin = gw.gateway.admin;
      assert.ok(admin);
      for (const url of ['/api/v1/users', '/nowhere']) {
        const res = await admin.inject({ url, headers: BROWSER });
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/, url);
        assert.ok(res.statusCode === 401 || res.statusCode === 404, `${url}: ${res.statusCode}`);
      }
    } finally {
      await gw.close();
    }
  });
});
