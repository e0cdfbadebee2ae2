// How long a WebSocket tunnel lives: as long as what admitted it does. Revocations made by another process
// (the CLI) or in this one close the tunnel within seconds; shutdown closes every tunnel; a failing store
// closes them rather than trusting identities it cannot check.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { until } from '../helpers/until.ts';
import { closesWithin, echoes, PASSWORD, signedIn, statusOf, tunnel } from '../helpers/ws-client.ts';
import { startWsUpstream, type WsUpstream } from '../helpers/ws-upstream.ts';

describe('open tunnels end with their credentials', () => {
  let app: WsUpstream;
  let gw: TestGateway;
  let tokens: ApiTokenService;
  const url = (path: string) => `${gw.url.replace('http', 'ws')}${path}`;
  const run = async (...args: string[]) => {
    const r = await cli([...args, '-c', gw.file]);
    assert.equal(r.code, 0, r.stderr);
  };

  before(async () => {
    app = await startWsUpstream();
    gw = await startGateway(
      `[[route]]\nname = "live"\npath = "/live"\nupstream = "${app.url}"\nauth = ["local", "bearer"]\n` +
        `[[route]]\nname = "staff"\npath = "/staff"\nupstream = "${app.url}"\nauth = "local"\n` +
        `require_claims = ["staff.chat"]\n` +
        `[[route]]\nname = "open"\npath = "/open"\nupstream = "${app.url}"\nauth = "none"\n`,
    );
    tokens = new ApiTokenService(gw.store, { now: () => Date.now() });
  });
  after(async () => {
    await gw.close();
    await app.close();
  });

  test('tunnels whose credentials still hold stay open across checks', async () => {
    const { cookie, userId } = await signedIn(gw, 'stay');
    const { token } = await tokens.issue({ userId, name: 'ws', claims: null, expiresAt: null });
    const bySession = await tunnel(url('/live'), { cookie, origin: gw.url });
    const byToken = await tunnel(url('/live'), { authorization: `Bearer ${token}` });
    const unauthenticated = await tunnel(url('/open'), {});
    // Kept on purpose: several credential checks must pass with the tunnels staying open (no event to await).
    await new Promise((r) => setTimeout(r, 4500));
    for (const ws of [bySession, byToken, unauthenticated]) {
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.ok(await echoes(ws));
      ws.close();
    }
  });

  test('a session ended by the CLI in another process closes its tunnel within seconds', async () => {
    const { cookie } = await signedIn(gw, 'sam');
    const ws = await tunnel(url('/live'), { cookie, origin: gw.url });
    const appSide = app.sockets.size;
    await run('session', 'end', '--user', 'sam');
    assert.ok(await closesWithin(ws, 5000), 'the tunnel outlived its session');
    // The app's end of the tunnel is gone as well.
    await until(() => app.sockets.size === appSide - 1, { what: "the app's end of the tunnel closing" });
  });

  test('a revoked API token closes its tunnel within seconds', async () => {
    const { userId } = await signedIn(gw, 'tim');
    const { token, record } = await tokens.issue({ userId, name: 'ws', claims: null, expiresAt: null });
    const ws = await tunnel(url('/live'), { authorization: `Bearer ${token}` });
    await run('token', 'revoke', record.id);
    assert.ok(await closesWithin(ws, 5000), 'the tunnel outlived its token');
  });

  test("a disabled user's tunnels close, session and token alike", async () => {
    const { cookie, userId } = await signedIn(gw, 'dora');
    const { token } = await tokens.issue({ userId, name: 'ws', claims: null, expiresAt: null });
    const bySession = await tunnel(url('/live'), { cookie, origin: gw.url });
    const byToken = await tunnel(url('/live'), { authorization: `Bearer ${token}` });
    await run('user', 'disable', 'dora');
    const closed = await Promise.all([closesWithin(bySession, 5000), closesWithin(byToken, 5000)]);
    assert.deepEqual(closed, [true, true]);
  });

  test("a deleted user's tunnel closes", async () => {
    const { cookie, userId } = await signedIn(gw, 'dell');
    const ws = await tunnel(url('/live'), { cookie, origin: gw.url });
    await gw.store.users.delete(userId);
    assert.ok(await closesWithin(ws, 5000));
  });

  test('losing a claim the route requires closes the tunnel', async () => {
    await signedIn(gw, 'cleo');
    await run('role', 'set', 'chatter', '--claims', 'staff.chat');
    await run('grant', 'cleo', 'chatter');
    const b = new BrowserClient(gw.url);
    await b.signIn('cleo', PASSWORD, '/');
    const ws = await tunnel(url('/staff'), { cookie: b.cookieHeader(), origin: gw.url });
    await run('revoke', 'cleo', 'chatter');
    assert.ok(await closesWithin(ws, 5000), 'the tunnel outlived the claim');
  });

  test("another user's session in the same process going away leaves this tunnel alone", async () => {
    const mine = await signedIn(gw, 'una');
    const other = await signedIn(gw, 'vic');
    const ws = await tunnel(url('/live'), { cookie: mine.cookie, origin: gw.url });
    await gw.store.sessions.revokeAllForUser(other.userId, Date.now());
    // Kept on purpose: the tunnel must survive the checks that follow (no event to await).
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });
});

describe('open tunnels and the gateway going away', () => {
  test('closing the gateway closes its tunnels instead of waiting for them', async () => {
    const app = await startWsUpstream();
    const gw = await startGateway(
      `[[route]]\nname = "live"\npath = "/live"\nupstream = "${app.url}"\nauth = "local"\n` +
        `[[route]]\nname = "open"\npath = "/open"\nupstream = "${app.url}"\nauth = "none"\n`,
    );
    try {
      const { cookie } = await signedIn(gw, 'zed');
      const wsUrl = gw.url.replace('http', 'ws');
      const sockets = [
        await tunnel(`${wsUrl}/live`, { cookie, origin: gw.url }),
        await tunnel(`${wsUrl}/open`, {}),
      ];
      const started = Date.now();
      await gw.close();
      assert.ok(Date.now() - started < 3000, 'close waited for the tunnels');
      assert.deepEqual(await Promise.all(sockets.map((ws) => closesWithin(ws, 1000))), [true, true]);
    } finally {
      await app.close();
    }
  });

  test('a store that fails during a check closes the tunnel (fail closed) without crashing the gateway', async () => {
    const app = await startWsUpstream();
    const gw = await startGateway(
      `[[route]]\nname = "live"\npath = "/live"\nupstream = "${app.url}"\nauth = "local"\n`,
    );
    try {
      const { cookie } = await signedIn(gw, 'fay');
      const ws = await tunnel(`${gw.url.replace('http', 'ws')}/live`, { cookie, origin: gw.url });
      await gw.store.close();
      assert.ok(await closesWithin(ws, 5000), 'an identity that cannot be verified kept its tunnel');
      // Still serving: the next upgrade is answered (503, the store is gone), not a dead process.
      assert.equal(await statusOf(`${gw.url.replace('http', 'ws')}/live`, { cookie, origin: gw.url }), 503);
    } finally {
      await gw.close();
      await app.close();
    }
  });
});
