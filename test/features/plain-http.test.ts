// Sign-in reached over plain http on a host that is not loopback, while the cookies are Secure (public_url is
// https or localhost): the browser would drop every cookie, so the gateway shows no form it could never
// submit but says what is wrong and how to fix it (400 insecure_transport). The scheme is the one the gateway
// decided on: X-Forwarded-Proto counts only from a trusted proxy.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { plainHttpWarning } from '../../src/config/plain-http.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import { createLogger } from '../../src/logger.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, type Response, send } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const LAN = 'lan.example:8080';
const ROUTE = (up: string) => `[[route]]\nname = "app"\npath = "/app"\nupstream = "${up}"\nauth = "local"\n`;

/** Log lines the gateway writes at warn and above. */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('warn', stream) };
}

const insecureLines = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => l.code === 'insecure_transport');

function assertInsecurePage(res: Response): void {
  assert.equal(res.status, 400, res.body.slice(0, 300));
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.match(res.body, /data-code="insecure_transport"/);
  assert.match(res.body, /<h1 id="page-title">Signing in needs HTTPS at this address<\/h1>/);
  assert.match(res.body, /tls_cert/);
  assert.match(res.body, /public_url = "http:\/\/lan\.example:8080"/, 'the development fix');
  assert.doesNotMatch(res.body, /name="csrf"/, 'no form that could never be submitted');
  assert.deepEqual(res.setCookies, [], 'no cookie the browser would drop anyway');
  assert.equal(res.headers['x-frame-options'], 'DENY');
}

async function addUser(gw: TestGateway, username: string): Promise<void> {
  await createUser(gw.store, {
    username,
    email: `${username}@example.com`,
    emailVerified: true,
    passwordHash: await hashPassword(PASSWORD),
  });
}

describe('public_url on localhost, browser on a LAN address over plain http', () => {
  let up: Upstream;
  let gw: TestGateway;
  const log = captureLog();

  before(async () => {
    up = await startUpstream();
    // public_url keeps its default, http://localhost:8080: loopback, so the cookies are __Host- and Secure.
    gw = await startGateway(ROUTE(up.url), { logger: log.logger });
    await addUser(gw, 'pia');
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const lan = () => new BrowserClient(gw.url, { host: LAN });

  test('the app sends the browser to sign in, and the sign-in page names the fixes instead of a form', async () => {
    const b = lan();
    const app = await b.get('/app/');
    assert.equal(app.status, 303);
    assert.equal(app.location, `http://${LAN}/auth/login?return_to=%2Fapp%2F`);
    const page = await b.get('/auth/login?return_to=%2Fapp%2F');
    assertInsecurePage(page);
    // public_url's address, with the same page and return_to, is one click away.
    assert.match(page.body, /href="http:\/\/localhost:8080\/auth\/login\?return_to=%2Fapp%2F"/);
    // The page's stylesheet still loads on this host.
    assert.equal((await b.get('/auth/assets/style.css')).status, 200);
  });

  test('a form post gets the same answer, not "Form expired"', async () => {
    const res = await lan().post(
      '/auth/login',
      { csrf: 'x', username: 'pia', password: PASSWORD },
      { origin: `http://${LAN}`, cookie: '__Host-hero_csrf=abc' },
    );
    assertInsecurePage(res);
    assert.doesNotMatch(res.body, /Form expired/);
  });

  test('scripts get problem+json with the same code', async () => {
    const res = await send(`${gw.url}/auth/login`, { headers: { host: LAN } });
    assert.equal(res.status, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const body = JSON.parse(res.body) as { code: string; public_url: string };
    assert.equal(body.code, 'insecure_transport');
    assert.equal(body.public_url, 'http://localhost:8080');
  });

  test('X-Forwarded-Proto from a peer that is not a trusted proxy changes nothing', async () => {
    const res = await lan().get('/auth/login', { 'x-forwarded-proto': 'https' });
    assertInsecurePage(res);
  });

  test('on a loopback host the form still works', async () => {
    for (const host of [`localhost:${gw.port}`, `127.0.0.1:${gw.port}`]) {
      const b = new BrowserClient(gw.url, { host });
      const res = await b.signIn('pia', PASSWORD, '/app/', { origin: `http://${host}` });
      assert.equal(res.status, 303, `${host}: ${res.body.slice(0, 200)}`);
    }
  });

  test('the log says it once per host, with the fix', async () => {
    const before = insecureLines(log.lines).length;
    for (let i = 0; i < 3; i++) await lan().get('/auth/login');
    await new BrowserClient(gw.url, { host: 'other.example' }).get('/auth/login');
    const lines = insecureLines(log.lines);
    const hosts = lines.map((l) => l.host);
    assert.equal(hosts.filter((h) => h === `http://${LAN}`).length, 1, JSON.stringify(hosts));
    assert.equal(hosts.filter((h) => h === 'http://other.example').length, 1);
    assert.ok(lines.length <= before + 1 + 1);
    const line = lines.find((l) => l.host === `http://${LAN}`);
    assert.equal(line?.level, 40, 'warn');
    assert.match(String(line?.msg), /tls_cert/);
    assert.match(String(line?.msg), /public_url/);
  });
});

describe('https public_url behind a trusted proxy', () => {
  test('the proxy says https: the form works; plain http at the same host is refused', async () => {
    const up = await startUpstream();
    const gw = await startGateway(ROUTE(up.url), {
      server: 'public_url = "https://gw.example.com"\ntrusted_proxies = ["127.0.0.1"]',
    });
    try {
      await addUser(gw, 'quinn');
      const viaTls = new BrowserClient(gw.url, {
        host: 'gw.example.com',
        'x-forwarded-proto': 'https',
      });
      const form = await viaTls.get('/auth/login');
      assert.equal(form.status, 200);
      assert.match(form.body, /name="csrf"/);
      const res = await viaTls.signIn('quinn', PASSWORD, '/app/', { origin: 'https://gw.example.com' });
      assert.equal(res.status, 303, res.body.slice(0, 200));
      // The proxy forwarding plain http (no TLS in front): the browser would drop the Secure cookies.
      const plain = await new BrowserClient(gw.url, {
        host: 'gw.example.com',
        'x-forwarded-proto': 'http',
      }).get('/auth/login');
      assert.equal(plain.status, 400);
      assert.match(plain.body, /data-code="insecure_transport"/);
      assert.match(plain.body, /href="https:\/\/gw\.example\.com\/auth\/login"/);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('public_url is the plain-http LAN address itself', () => {
  test('cookies are not Secure there, and signing in works', async () => {
    const up = await startUpstream();
    const gw = await startGateway(ROUTE(up.url), { server: `public_url = "http://${LAN}"` });
    try {
      await addUser(gw, 'rosa');
      const b = new BrowserClient(gw.url, { host: LAN });
      const form = await b.get('/auth/login');
      assert.equal(form.status, 200);
      assert.ok(
        form.setCookies.every((c) => !/;\s*secure/i.test(c)),
        form.setCookies.join(' | '),
      );
      const res = await b.signIn('rosa', PASSWORD, '/app/', { origin: `http://${LAN}` });
      assert.equal(res.status, 303, res.body.slice(0, 200));
      assert.equal((await b.get('/app/')).status, 200);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

test('plainHttpWarning (serve, at start): only for plain http on a host other machines reach', () => {
  assert.match(String(plainHttpWarning('http://lan.example:8080')), /plain http.*unencrypted/s);
  assert.equal(plainHttpWarning('https://gw.example.com'), null);
  assert.equal(plainHttpWarning('http://localhost:8080'), null);
  assert.equal(plainHttpWarning('http://127.0.0.1:8080'), null);
});
