// One gateway instance of a deployment, started in this process the way `serve` starts one: its own data_dir
// and listener, a store it may share with other instances (a PostgreSQL database or a SQLite file), the
// deployment's server secret. Also the config file the CLI needs to act on that store.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/open-store.ts';
import { buildGateway, type Gateway } from '../../src/app.ts';
import { type Config, loadConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Store } from '../../src/ports/store.ts';

export interface InstanceOptions {
  /** `[store] url`: postgres://… or sqlite:PATH. */
  storeUrl: string;
  secret: string;
  /** `[[route]]` tables and anything else after [admin]. */
  toml?: string;
  /** The instance's data_dir (default: a fresh temporary one, removed on close). */
  dataDir?: string;
  clock?: Clock;
  /** How often the instance re-reads the signing keys. */
  keyRefreshMs?: number;
}

/** The config text of an instance: the same for a gateway started here and for the CLI run against it. */
export function instanceConfig(
  opts: Omit<InstanceOptions, 'clock' | 'keyRefreshMs'> & { dataDir: string },
): string {
  return (
    `[server]\nlisten = "127.0.0.1:0"\npublic_url = "http://localhost:8080"\ndata_dir = "${opts.dataDir}"\n` +
    `secret = "${opts.secret}"\nlog_level = "error"\n[admin]\nlisten = ""\n[store]\nurl = "${opts.storeUrl}"\n` +
    (opts.toml ?? '')
  );
}

/** Writes the instance's config to a file in `dir` (for `hero-gateway … -c FILE`); returns its path. */
export function writeInstanceConfig(
  dir: string,
  opts: Omit<InstanceOptions, 'clock' | 'keyRefreshMs'>,
): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'hero-gateway.toml');
  writeFileSync(file, instanceConfig({ ...opts, dataDir: opts.dataDir ?? join(dir, 'data') }));
  return file;
}

export interface Instance {
  url: string;
  config: Config;
  store: Store;
  gateway: Gateway;
  dataDir: string;
  close(): Promise<void>;
}

export async function startInstance(opts: InstanceOptions): Promise<Instance> {
  const own = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'hgw-instance-'));
  const loaded = loadConfigText(instanceConfig({ ...opts, dataDir }), { env: {} });
  if (!loaded.ok) throw new Error(`instance config invalid:\n${loaded.problems.join('\n')}`);
  const clock = opts.clock ?? { now: () => Date.now() };
  const store = await openStore(loaded.config.store.url, clock);
  let gateway: Gateway;
  try {
    gateway = await buildGateway({
      config: loaded.config,
      store,
      clock,
      logger: createLogger('silent'),
      secret: opts.secret,
      ...(opts.keyRefreshMs ? { signingKeys: { refreshMs: opts.keyRefreshMs } } : {}),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  gateway.startBackground();
  const { port } = gateway.app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    config: loaded.config,
    store,
    gateway,
    dataDir,
    async close() {
      await gateway.close();
      await store.close();
      if (own) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
