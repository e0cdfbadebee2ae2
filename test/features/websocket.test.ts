// WebSockets through the gateway, with the `ws` package on both ends: the gate applies to the upgrade, the
// upstream sees the identity headers, and a cookie-authenticated upgrade must come from our origin.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { hashPassword } from '../../src/crypto/password.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const PASSWORD = 'correct horse battery staple';

/** Opens a WebSocket; resolves with it once open, or with the HTTP status that refused the upgrade. */
function open(url: string, headers: Record<string, string>): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', () => resolve({ status: -1 }));
  });
}

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
        `[[route]]\nname = "nows"\npath = "/nows"\nupstream = "http://127.0.0.1:${port}"\nauth = "local"\nwebsocket = false\n`,
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
