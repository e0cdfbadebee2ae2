// WebSockets through the gateway, with the `ws` package on both ends: the gate applies to the upgrade, the
// upstream sees the identity headers, a cookie-authenticated upgrade must come from this origin or public_url's,
// and the app's 101 answer is filtered like any answer.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { hashPassword } from '../../src/crypto/password.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { echoes, handshake, open, PASSWORD, statusOf } from '../helpers/ws-client.ts';
import { startWsUpstream, type WsUpstream } from '../helpers/ws-upstream.ts';

describe('WebSockets', () => {
  let upstream: WebSocketServer;
  let seen: IncomingHttpHeaders[];
  let gw: TestGateway;
  let cookie: string;
  let token: string;

  before(async () => {
    seen = [];
    upstream = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => upstream.once('listening', () => r()));
    upstream.on('connection', (socket, req) => {
      seen.push(req.headers);
      socket.on('message', (m) => socket.send(`echo ${m}`));
    });
    const port = (upstream.address() as AddressInfo).port;
    gw = await startGateway(
      `[[route]]\nname = "live"\npath = "/live"\nupstream = "http://127.0.0.1:${port}"\nauth = ["local", "bearer"]\n` +
        `[[route]]\nname = "nows"\npath = "/nows"\nupstream = "http://127.0.0.1:${port}"\nauth = "local"\nwebsocket = false\n` +
        `[[route]]\nname = "wild"\nhost = "*.example.test"\npath = "/"\nupstream = "http://127.0.0.1:${port}"\nauth = "local"\n`,
    );
    const u = await createUser(gw.store, {
      username: 'wes',
      email: 'wes@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    const b = new BrowserClient(gw.url);
    await b.signIn('wes', PASSWORD, '/');
    cookie = b.cookieHeader();
    token = (
      await new ApiTokenService(gw.store, { now: () => Date.now() }).issue({
        userId: u.id,
        name: 'ws',
        claims: null,
        expiresAt: null,
      })
    ).token;
  });
  after(async () => {
    await gw.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  const wsUrl = (path: string) => `${gw.url.replace('http', 'ws')}${path}`;

  test('no session: no 101, and the upstream is never reached', async () => {
    const r = await open(wsUrl('/live'), {});
    assert.deepEqual(r, { status: 401 });
    assert.equal(seen.length, 0);
  });

  test('a session from the wrong Origin is refused (cross-site WebSocket hijacking)', async () => {
    assert.deepEqual(await open(wsUrl('/live'), { cookie, origin: 'https://evil.example' }), { status: 403 });
    assert.deepEqual(await open(wsUrl('/live'), { cookie }), { status: 403 }, 'no Origin with a cookie');
    assert.equal(seen.length, 0);
  });

  test("Origin: this request's own origin or public_url's, never a sibling host the gateway also serves", async () => {
    const at = (origin: string) => statusOf(wsUrl('/chat'), { host: 'a.example.test', cookie, origin });
    // A sibling under the same wildcard route is another app, perhaps another tenant: its pages must not
    // drive a signed-in user's tunnel into this one.
    assert.equal(await at('http://b.example.test'), 403, 'a sibling host');
    assert.equal(await at('http://a.example.test.evil.example'), 403);
    assert.equal(await at('http://a.example.test'), 101, 'the page on this very host');
    assert.equal(await at('http://localhost:8080'), 101, "public_url's origin");
  });

  test('a valid session from our origin: messages flow, the upstream saw the identity and not the cookie', async () => {
    const r = await open(wsUrl('/live/chat?room=1'), {
      cookie: `${cookie}; app=1`,
      origin: gw.url,
      'x-hero-user': 'root',
    });
    assert.ok('ws' in r, JSON.stringify(r));
    const reply = new Promise<string>((resolve) => r.ws.once('message', (m) => resolve(String(m))));
    r.ws.send('hello');
    assert.equal(await reply, 'echo hello');
    r.ws.close();
    const h = seen.at(-1) ?? {};
    assert.equal(h['x-hero-user'], 'wes');
    assert.equal(h['x-hero-auth-method'], 'password');
    assert.equal(h.cookie, 'app=1');
    assert.ok(h['x-hero-assertion']);
  });

  test('a bearer token needs no Origin; a route with websocket = false and other protocols get no tunnel', async () => {
    const r = await open(wsUrl('/live'), { authorization: `Bearer ${token}` });
    assert.ok('ws' in r);
    r.ws.close();
    assert.equal(seen.at(-1)?.['x-hero-auth-method'], 'bearer');
    assert.equal(seen.at(-1)?.authorization, undefined, 'the consumed token is not forwarded');
    assert.deepEqual(await open(wsUrl('/nows'), { cookie, origin: gw.url }), { status: 404 });
    const h2c = await rawRequest(
      gw.port,
      `GET /live HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n` +
        `HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nCookie: ${cookie}\r\nOrigin: ${gw.url}\r\n\r\n`,
    );
    assert.equal(h2c.status, 400, 'h2c is not tunnelled');
  });
});

describe('WebSocket 101 answers', () => {
  let app: WsUpstream;
  let gw: TestGateway;

  before(async () => {
    app = await startWsUpstream();
    gw = await startGateway(
      `[[route]]\nname = "open"\npath = "/open"\nupstream = "${app.url}"\nauth = "none"\n`,
    );
  });
  after(async () => {
    await gw.close();
    await app.close();
  });

  test("an app's 101 cannot set, replace or clear the gateway's cookies; its own cookie passes", async () => {
    app.handshake.splice(
      0,
      Infinity,
      'Set-Cookie: hero_session=planted; Path=/',
      'Set-Cookie: __Host-hero_session=planted; Path=/; Secure; HttpOnly',
      'Set-Cookie: __Secure-Hero_Session=planted; Path=/; Secure',
      'Set-Cookie: =hero_session=planted; Path=/',
      'Set-Cookie: hero_csrf=planted; Path=/',
      'Set-Cookie: __Host-hero_session=; Path=/; Max-Age=0',
      'Set-Cookie: app=1; Path=/open',
    );
    const { ws, res } = await handshake(`${gw.url.replace('http', 'ws')}/open/x`);
    assert.deepEqual(res.headers['set-cookie'], ['app=1; Path=/open']);
    assert.ok(await echoes(ws));
    ws.close();
  });

  test('a 101 passes only the handshake: nothing hop-by-hop, nothing else of the app', async () => {
    app.handshake.splice(
      0,
      Infinity,
      'Keep-Alive: timeout=600',
      'Proxy-Authenticate: Basic',
      'X-Powered-By: something',
      'Strict-Transport-Security: max-age=0',
      'Content-Length: 12',
    );
    const { ws, res } = await handshake(`${gw.url.replace('http', 'ws')}/open/x`);
    assert.deepEqual(Object.keys(res.headers).sort(), ['connection', 'sec-websocket-accept', 'upgrade']);
    assert.ok(await echoes(ws));
    ws.close();
  });

  test('a 101 header value with characters that cannot be sent is refused or cleaned, never a crash', async () => {
    const url = `${gw.url.replace('http', 'ws')}/open/x`;
    for (const bad of ['\x01', '\x7f']) {
      app.handshake.splice(0, Infinity, `Set-Cookie: app=a${bad}b; Path=/open`);
      // Node's parser refuses such an answer (502); were one to pass, the value would be cleaned.
      assert.ok([101, 502].includes(await statusOf(url, {})));
    }
    // Bytes above 0x7f pass exactly as the app sent them (here the UTF-8 of "é"), not re-encoded.
    app.handshake.splice(0, Infinity, 'Set-Cookie: app=café; Path=/open');
    const { ws, res } = await handshake(url);
    assert.deepEqual(res.headers['set-cookie'], [
      `app=${Buffer.from('café').toString('latin1')}; Path=/open`,
    ]);
    assert.ok(await echoes(ws));
    ws.close();
    app.handshake.length = 0;
  });
});
