// The identity caches against a store whose reads answer late: a session, token or grant revoked while a read
// of it is in flight must not be put back into a cache by that read. The next request is refused.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/adapters/open-store.ts';
import { buildGateway, type Gateway } from '../../src/app.ts';
import { loadConfigText } from '../../src/config/load.ts';
import { ensureSecret } from '../../src/config/secret.ts';
import { hashToken, randomSecret } from '../../src/crypto/tokens.ts';
import { createLogger } from '../../src/logger.ts';
import type { Store, User } from '../../src/ports/store.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { tempDir } from '../helpers/gateway.ts';
import { type SlowRead, SlowStore } from '../helpers/slow-store.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const clock = { now: () => Date.now() };

describe('identity caches with a store that answers late', () => {
  let up: Upstream;
  let dir: string;
  let real: Store;
  let slow: SlowStore;
  let gateway: Gateway;
  let url: string;
  let n = 0;

  before(async () => {
    up = await startUpstream();
    dir = tempDir();
    const text = `[server]\ndata_dir = "${dir}"\nlog_level = "silent"\n[admin]\nlisten = ""\n
[[route]]
name = "app"
path = "/app"
upstream = "${up.url}"
auth = "local"
api = true

[[route]]
name = "api"
path = "/api"
upstream = "${up.url}"
auth = "bearer"

[[route]]
name = "reports"
path = "/reports"
upstream = "${up.url}"
auth = "bearer"
require_claims = ["reports.read"]
`;
    const file = join(dir, 'hero-gateway.toml');
    writeFileSync(file, text);
    const loaded = loadConfigText(text, { file, env: {} });
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    real = await openStore(loaded.config.store.url, clock);
    slow = new SlowStore(real);
    gateway = await buildGateway({
      config: loaded.config,
      store: slow.store,
      clock,
      logger: createLogger('silent'),
      secret: ensureSecret(loaded.config).secret,
    });
    await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const address = gateway.app.server.address();
    assert.ok(address && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}`;
    await real.authz.setRole('reporter', ['reports.read']);
  });
  after(async () => {
    await gateway?.close();
    await real?.close();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newUser = (): Promise<User> =>
    createUser(real, { username: `user${++n}`, email: `user${n}@example.com`, emailVerified: true });
  const get = (path: string, headers: Record<string, string>) =>
    fetch(`${url}${path}`, { headers, redirect: 'manual' }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  /**
   * Request A's `read` is held in flight; meanwhile `revoke` runs and request B, coming after it, sees the new
   * version (its `next` read has begun, so its freshness check is done). Then A's answer, read before the
   * revocation, lands.
   */
  const race = async (
    read: SlowRead,
    next: SlowRead,
    send: () => Promise<number>,
    revoke: () => Promise<unknown>,
  ) => {
    const release = slow.hold(read);
    const readStarted = slow.started(read);
    const a = send();
    await readStarted;
    await revoke();
    const nextStarted = slow.started(next);
    const b = send();
    await nextStarted;
    release();
    return { a: await a, b: await b };
  };

  test('a session revoked while its lookup is in flight is refused on the next request', async () => {
    const user = await newUser();
    const token = randomSecret(32);
    const now = clock.now();
    const session = await real.sessions.create({
      tokenHash: hashToken(token),
      userId: user.id,
      authMethod: 'password',
      idleExpiresAt: now + 3_600_000,
      absoluteExpiresAt: now + 7_200_000,
      ip: null,
      userAgent: null,
    });
    const send = () => get('/app/', { cookie: `__Host-hero_session=${token}` });

    const { a, b } = await race('findActive', 'findActive', send, () =>
      real.sessions.revoke(session.id, clock.now()),
    );
    // A began before the revocation was seen, so it may be answered as if it came a moment earlier.
    assert.equal(a, 200);
    assert.equal(b, 401);
    assert.equal(await send(), 401, 'the lookup that raced the revocation put the session back in the cache');
  });

  test('an API token revoked while its lookup is in flight is refused on the next request', async () => {
    const user = await newUser();
    const { token, record } = await new ApiTokenService(real, clock).issue({
      userId: user.id,
      name: 'ci',
      claims: null,
      expiresAt: null,
    });
    const send = () => get('/api/', { authorization: `Bearer ${token}` });

    const { a, b } = await race('findUsable', 'findUsable', send, () =>
      real.apiTokens.revoke(record.id, clock.now()),
    );
    assert.equal(a, 200);
    assert.equal(b, 401);
    assert.equal(await send(), 401, 'the lookup that raced the revocation put the token back in the cache');
  });

  test('a grant revoked while the claims are read is refused on the next request', async () => {
    const user = await newUser();
    await real.authz.grant('reporter', { userId: user.id }, '');
    const { token } = await new ApiTokenService(real, clock).issue({
      userId: user.id,
      name: 'reports',
      claims: null,
      expiresAt: null,
    });
    const send = () => get('/reports/', { authorization: `Bearer ${token}` });

    // B's token lookup begins only after its freshness check dropped the caches.
    const { a, b } = await race('claimGrants', 'findUsable', send, () =>
      real.authz.revoke('reporter', { userId: user.id }, ''),
    );
    assert.equal(a, 200);
    assert.equal(b, 403);
    assert.equal(await send(), 403, 'the read that raced the revocation put the grant back in the cache');
  });

  test('answers read with no change in between are cached: a second request reads nothing', async () => {
    const user = await newUser();
    await real.authz.grant('reporter', { userId: user.id }, '');
    const { token } = await new ApiTokenService(real, clock).issue({
      userId: user.id,
      name: 'warm',
      claims: null,
      expiresAt: null,
    });
    const send = () => get('/reports/', { authorization: `Bearer ${token}` });
    assert.equal(await send(), 200);
    const before = { ...slow.reads };
    assert.equal(await send(), 200);
    assert.equal(slow.reads.findUsable, before.findUsable);
    assert.equal(slow.reads.claimGrants, before.claimGrants);
    assert.equal(slow.reads.version, before.version + 1, 'one version read per request');
  });
});
