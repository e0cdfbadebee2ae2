import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/adapters/open-store.ts';
import { buildGateway } from '../../src/app.ts';
import { loadConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { tempDir } from '../helpers/gateway.ts';
import { rawGet } from '../helpers/raw-http.ts';

test('admin listener: /healthz is alive, /readyz follows the store', async () => {
  const dir = tempDir();
  const loaded = loadConfigText(`[server]\ndata_dir = "${dir}"\n[admin]\nlisten = "127.0.0.1:0"\n`, {
    file: join(dir, 'gw.toml'),
    env: {},
  });
  assert.ok(loaded.ok);
  const store = await openStore(loaded.config.store.url, systemClock);
  const gw = await buildGateway({
    config: loaded.config,
    store,
    clock: systemClock,
    logger: createLogger('silent'),
    secret: 'x'.repeat(32),
  });
  const admin = gw.admin!;
  assert.equal((await admin.inject('/healthz')).statusCode, 200);
  const ready = await admin.inject('/readyz');
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready' });
  await store.close();
  const down = await admin.inject('/readyz');
  assert.equal(down.statusCode, 503);
  assert.deepEqual(down.json(), { status: 'unavailable', code: 'store_unreachable' });
  assert.equal((await admin.inject('/healthz')).statusCode, 200, 'alive even when not ready');
  assert.equal((await admin.inject('/nope')).statusCode, 404);
  await gw.close();
});

test('admin listener: only Hosts that name it (DNS rebinding), and never two Authorization headers', async () => {
  const dir = tempDir();
  const loaded = loadConfigText(
    `[server]\ndata_dir = "${dir}"\n[admin]\nlisten = "127.0.0.1:0"\nhosts = ["gw-admin.internal"]\n`,
    { file: join(dir, 'gw.toml'), env: {} },
  );
  assert.ok(loaded.ok);
  const store = await openStore(loaded.config.store.url, systemClock);
  const gw = await buildGateway({
    config: loaded.config,
    store,
    clock: systemClock,
    logger: createLogger('silent'),
    secret: 'x'.repeat(32),
  });
  const admin = gw.admin!;
  try {
    for (const host of [
      'localhost:8081',
      '127.0.0.1:8081',
      '[::1]:8081',
      '10.1.2.3',
      'gw-admin.internal:8081',
    ])
      assert.equal((await admin.inject({ url: '/healthz', headers: { host } })).statusCode, 200, host);
    for (const host of ['rebind.attacker.example', 'rebind.attacker.example:8081', 'gw-admin.internal.evil'])
      for (const url of ['/healthz', '/metrics', '/api/v1/users']) {
        const res = await admin.inject({ url, headers: { host } });
        assert.equal(res.statusCode, 400, `${host}${url}`);
        assert.equal(res.json().code, 'bad_host');
      }
    await admin.listen({ port: 0, host: '127.0.0.1' });
    const port = (admin.server.address() as { port: number }).port;
    const twice = await rawGet(port, '/api/v1/users', [
      'Authorization: Bearer hgw_a',
      'Authorization: Bearer hgw_b',
    ]);
    assert.equal(twice.status, 400);
    assert.match(twice.body, /duplicate_authorization/);
  } finally {
    await gw.close();
    await store.close();
  }
});
