// Starts a real gateway (real SQLite file, real listener on port 0) from a TOML snippet, for feature tests.
//
// The backend matrix: with HERO_TEST_STORE=postgres, a gateway whose snippet names no store of its own gets a
// fresh PostgreSQL database instead (dropped on close), so the same feature tests run against both backends.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/open-store.ts';
import { buildGateway, type Gateway, type GatewayDeps } from '../../src/app.ts';
import { type Config, loadConfigFile, loadConfigText } from '../../src/config/load.ts';
import { ensureSecret } from '../../src/config/secret.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Store } from '../../src/ports/store.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { until } from './until.ts';

export class TestClock implements Clock {
  t: number;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now() {
    return this.t;
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export interface TestGateway {
  url: string;
  port: number;
  config: Config;
  store: Store;
  gateway: Gateway;
  clock: Clock;
  dir: string;
  file: string;
  /**
   * What a config of its own (a CLI's, say) needs to reach this gateway's store: `server` lines to put under
   * [server] (the shared secret, for PostgreSQL) and a `store` section. Empty for the default SQLite store.
   */
  reach: { server: string; store: string };
  close(): Promise<void>;
}

export function tempDir(prefix = 'hgw-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startGateway(
  toml: string,
  opts: {
    clock?: Clock;
    env?: Record<string, string>;
    logger?: Logger;
    server?: string;
    /** Build the admin app too (not listening: use `gateway.admin.inject`). */
    admin?: boolean;
    /** Identity providers: a faster retry schedule for tests of providers that are down. */
    oidc?: GatewayDeps['oidc'];
  } = {},
) {
  const dir = tempDir();
  const backend = await matrixBackend(toml, opts.server ?? '');
  const text = `[server]\ndata_dir = "${dir}"\nlog_level = "silent"\n${backend.server}${opts.server ?? ''}\n[admin]\nlisten = "${opts.admin ? '127.0.0.1:0' : ''}"\n${backend.store}${toml}`;
  const file = join(dir, 'hero-gateway.toml');
  // The file is written too, so a test can change it and reload.
  writeFileSync(file, text);
  const loaded = loadConfigText(text, { file, env: opts.env ?? {} });
  if (!loaded.ok) throw new Error(`test config invalid:\n${loaded.problems.join('\n')}`);
  const clock = opts.clock ?? { now: () => Date.now() };
  const store = await openStore(loaded.config.store.url, clock);
  const gateway = await buildGateway({
    config: loaded.config,
    store,
    clock,
    logger: opts.logger ?? createLogger('silent'),
    secret: ensureSecret(loaded.config).secret,
    loadConfig: () => loadConfigFile(file, opts.env ?? {}),
    ...(opts.oidc ? { oidc: opts.oidc } : {}),
  });
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  gateway.startBackground();
  const { port } = gateway.app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    config: loaded.config,
    store,
    gateway,
    clock,
    dir,
    file,
    reach: { server: backend.server, store: backend.store },
    async close() {
      await gateway.close();
      await store.close();
      await backend.database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  } satisfies TestGateway;
}

/** Puts a gateway's admin app (started with `admin: true`) on a port of its own; its base URL. */
export async function listenAdmin(gw: TestGateway): Promise<string> {
  const admin = gw.gateway.admin;
  if (!admin) throw new Error('start the gateway with { admin: true }');
  await admin.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(admin.server.address() as AddressInfo).port}`;
}

/** Which backend the feature tests run on: HERO_TEST_STORE=postgres, or SQLite (the default). */
export const testBackend = process.env.HERO_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** The secret every test gateway (and a CLI config beside it) shares. */
const TEST_SECRET = `secret = "${'s'.repeat(48)}"\n`;

/** The config a gateway needs for the matrix's backend, unless the test chose its store itself. */
async function matrixBackend(
  toml: string,
  server: string,
): Promise<{ server: string; store: string; database?: TestDatabase }> {
  // Every test gateway is an instance of one deployment: the same secret, as a PostgreSQL store requires and as
  // two gateways sharing a SQLite file need (the signing keys in the store are sealed with it).
  const secret = /^\s*secret\s*=/m.test(server) ? '' : TEST_SECRET;
  if (/^\s*\[store\]/m.test(toml) || testBackend !== 'postgres') return { server: secret, store: '' };
  const database = await createTestDatabase();
  return { server: secret, store: `[store]\nurl = "${database.url}"\n`, database };
}

/**
 * Asserts that a change made through another store connection (another instance, the CLI) is in force: on the
 * very next request with SQLite (its change signal), within a second with PostgreSQL (pushed by NOTIFY to every
 * instance, which is the guarantee there).
 */
export async function seesOtherInstance(what: string, probe: () => Promise<boolean>): Promise<void> {
  if (testBackend === 'postgres') await until(probe, { what, timeoutMs: 1000, intervalMs: 10 });
  else assert.ok(await probe(), what);
}

/** The audit events of one action the gateway has written so far (after flushing what it holds). */
export async function auditEvents(gw: TestGateway, action: string) {
  await gw.gateway.auditFlushed();
  return readFileSync(join(gw.dir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.action === action);
}
