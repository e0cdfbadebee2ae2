// What operators see in the log: one line per request with its id, and never a secret.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { startGateway } from '../helpers/gateway.ts';
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
    await new Promise((r) => setTimeout(r, 50));
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
