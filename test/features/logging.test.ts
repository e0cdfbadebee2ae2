// What operators see in the log: one line per request with its id, and never a secret.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createLogger } from '../../src/logger.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn } from '../helpers/browser-client.ts';
import { startGateway } from '../helpers/gateway.ts';
import { until } from '../helpers/until.ts';
import { startUpstream } from '../helpers/upstream.ts';

test('access lines carry the request id, route and user, but no token, query or cookie', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const up = await startUpstream();
  const gw = await startGateway(
    `[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n`,
    {
      logger: createLogger('info', sink),
    },
  );
  try {
    const user = await createUser(gw.store, {
      username: 'lou',
      email: 'lou@example.com',
      emailVerified: true,
    });
    const { token } = await new ApiTokenService(gw.store, gw.clock).issue({
      userId: user.id,
      name: 't',
      claims: null,
      expiresAt: null,
    });
    const res = await fetch(`${gw.url}/api/x?reset_token=q-secret-123`, {
      headers: { authorization: `Bearer ${token}`, cookie: 'sid=c-secret-456' },
    });
    assert.equal(res.status, 200);
    await fetch(`${gw.url}/api/x`, { headers: { authorization: 'Bearer hgw_wrong' } });
    // The access log line is written after the answer: await both.
    await until(() => lines.filter((l) => l.msg === 'request').length >= 2, { what: 'two access-log lines' });
    const access = lines.filter((l) => l.msg === 'request');
    assert.equal(access.length, 2);
    assert.equal(access[0]?.reqId, up.seen[0]?.headers['x-request-id']);
    assert.equal(access[0]?.route, 'api');
    assert.equal(access[0]?.user, 'lou');
    assert.equal(access[0]?.status, 200);
    assert.equal(access[0]?.path, '/api/x');
    assert.equal(access[1]?.status, 401);
    const text = JSON.stringify(lines);
    for (const secret of [token, 'q-secret-123', 'c-secret-456', 'hgw_wrong'])
      assert.ok(!text.includes(secret), secret);
  } finally {
    await gw.close();
    await up.close();
  }
});

test('sign-in: no password, session or CSRF value in the log; an abandoned sign-in ends before the store closes', async () => {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk));
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const up = await startUpstream();
  const gw = await startGateway(`[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`, {
    logger: createLogger('info', sink),
  });
  const password = 'a long and secret passphrase';
  await createUser(gw.store, {
    username: 'lena',
    email: 'lena@example.com',
    emailVerified: true,
    passwordHash: await hashPassword(password),
  });
  const b = new BrowserClient(gw.url);
  assert.equal((await b.signIn('lena', password, '/')).status, 303);
  assert.equal((await b.get('/x')).status, 200);
  // A client that hangs up while its password is being checked; then the gateway shuts down at once.
  const csrf = csrfIn((await b.get('/auth/logout')).body);
  const body = new URLSearchParams({ csrf, username: 'lena', password: 'wrong wrong wrong' }).toString();
  const socket = connect(gw.port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.end(
    `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nOrigin: ${gw.url}\r\nCookie: ${b.cookieHeader()}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  // Kept on purpose: the client goes away a moment after sending, while the request is being handled.
  await new Promise((r) => setTimeout(r, 5));
  socket.destroy();
  await gw.close();
  await up.close();
  const text = raw.join('');
  for (const secret of [password, ...b.jar.values()])
    assert.ok(!text.includes(secret), `log holds no secret (${secret.slice(0, 6)}…)`);
  const errors = lines.filter((l) => (l.level as number) >= 50);
  assert.deepEqual(errors, [], 'nothing failed during shutdown');
});
