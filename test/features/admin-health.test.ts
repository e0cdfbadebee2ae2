import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/adapters/open-store.ts';
import { buildGateway } from '../../src/app.ts';
import { loadConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { tempDir } from '../helpers/gateway.ts';

test('admin listener: /healthz is alive, /readyz follows the store', async () => {
  const dir = tempDir();
  const loaded = loadConfigText(`[server]\ndata_dir = "${dir}"\n[admin]\nlisten = "127.0.0.1:0"\n`, {
    file: join(dir, 'gw.toml'),
    env: {},
  });
  assert.ok(loaded.ok);
  const store = openStore(loaded.config.store.url, systemClock);
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
  assert.deepEqual(down.json(), { status: 'unavailable' });
  assert.equal((await admin.inject('/healthz')).statusCode, 200, 'alive even when not ready');
  assert.equal((await admin.inject('/nope')).statusCode, 404);
  await gw.close();
});
