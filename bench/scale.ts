// The scale run (`npm run bench -- --only scale`; also the last stage of a whole `npm run bench`): the gateway's
// local route on a PostgreSQL store holding 100 000 users and 1 000 000 sessions (bench/scale-seed.ts), loaded
// with many distinct sessions, each used once, so every request finds the gateway's identity caches cold for
// it: latency, req/s, CPU and the gateway's memory. Then one housekeeping pass (src/services/housekeeping.ts)
// through the store as the gateway opens it, with its clock moved ahead until half the sessions have expired.
// BENCH_SCALE=quick runs a small population for a quick try.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openStore } from '../src/adapters/open-store.ts';
import { randomSecret } from '../src/crypto/tokens.ts';
import { systemClock } from '../src/ports/clock.ts';
import { benchConfig } from './account.ts';
import { cpuMicros } from './cpu.ts';
import { type FineLoadResult, runFineLoad } from './fine-load.ts';
import { log } from './load.ts';
import { type Memory, memoryOf } from './memory.ts';
import { createBenchDatabase } from './pg-database.ts';
import { startServe, startUpstream } from './processes.ts';
import { type PurgeResult, timePurge } from './scale-purge.ts';
import { type ScaleSize, scaleToken, seedScale } from './scale-seed.ts';
import { SESSION_COOKIE } from './signin.ts';

const SIZES = {
  full: { users: 100_000, sessions: 1_000_000, warmup: 2_000, requests: 20_000 },
  quick: { users: 5_000, sessions: 50_000, warmup: 500, requests: 3_000 },
};
const CONNECTIONS = 50;
/** The share of the sessions past their idle expiry when the purge runs. */
const EXPIRED_SHARE = 0.5;
/** Seconds a run of distinct sessions may take before it is cut short (and flagged). */
const LOAD_CAP_S = 600;

export interface ScaleResult {
  size: ScaleSize & { warmup: number; requests: number };
  connections: number;
  /** The migrations the database was created with. */
  schema: string[];
  seedSeconds: number;
  warmup: FineLoadResult;
  measured: FineLoadResult & { rps: number; cpuUsPerRequest: number | null };
  memory: { started: Memory | null; warmed: Memory | null; after: Memory | null };
  purge: PurgeResult;
  /** Not every request answered 2xx, or not every session was asked: the numbers are not valid. */
  flagged: boolean;
}

function scaleSize() {
  const name = process.env.BENCH_SCALE ?? 'full';
  if (name !== 'full' && name !== 'quick')
    throw new Error(`BENCH_SCALE must be full or quick, got "${name}"`);
  return SIZES[name];
}

/** `n` distinct session numbers below `below`, in random order. */
function distinctIndices(n: number, below: number): number[] {
  if (n > below) throw new Error(`cannot pick ${n} distinct sessions of ${below}`);
  const picked = new Set<number>();
  while (picked.size < n) picked.add(Math.floor(Math.random() * below));
  return [...picked];
}

async function expectStatus(url: string, headers: Record<string, string>, status: number): Promise<void> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  if (res.status !== status) throw new Error(`scale: GET ${url} answered ${res.status}, expected ${status}`);
}

async function populate(url: string, size: ScaleSize, seed: string): Promise<string[]> {
  // Opening the store applies the migrations, as `serve` does.
  const store = await openStore(url, systemClock);
  const { applied } = await store.migrationState();
  await store.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await seedScale(client, size, seed, Date.now());
  } finally {
    await client.end();
  }
  return applied;
}

/** Runs the scale stage; null (with a note) when no PostgreSQL server is usable. */
export async function runScale(cleanups: Array<() => unknown>): Promise<ScaleResult | null> {
  const size = scaleSize();
  const db = await createBenchDatabase();
  if (db === null) return null;
  cleanups.push(db.drop);
  const dir = mkdtempSync(join(tmpdir(), 'hero-scale-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  const seed = randomSecret(16);
  log(`scale: bulk-loading ${size.users} users and ${size.sessions} sessions into ${db.name}`);
  const seeding = performance.now();
  const schema = await populate(db.url, size, seed);
  const seedSeconds = (performance.now() - seeding) / 1000;

  // Warm-up sessions, measured sessions, and one more for the check below: all different.
  const picks = distinctIndices(size.warmup + size.requests + 1, size.sessions);
  const cookie = (i: number) => `${SESSION_COOKIE}=${scaleToken(seed, i)}`;
  const warm = picks.slice(0, size.warmup).map(cookie);
  const measured = picks.slice(size.warmup, size.warmup + size.requests).map(cookie);

  const upstream = await startUpstream();
  cleanups.push(upstream.stop);
  const file = join(dir, 'scale.toml');
  writeFileSync(file, benchConfig(dir, upstream.url, { url: db.url, secret: randomSecret(32) }));
  const gw = await startServe(file, join(dir, 'access.log'));
  cleanups.push(gw.stop);
  const url = `${gw.url}/app`;
  await expectStatus(url, {}, 401);
  await expectStatus(url, { cookie: cookie(picks.at(-1) as number) }, 200);

  const load = (cookies: string[]) =>
    runFineLoad({ url, headers: {}, connections: CONNECTIONS, duration: LOAD_CAP_S, cookies });
  const started = memoryOf(gw.pid);
  log(`scale: warm-up, ${warm.length} distinct sessions once each, ${CONNECTIONS} connections`);
  const warmup = await load(warm);
  const warmed = memoryOf(gw.pid);
  log(`scale: measured, ${measured.length} other distinct sessions once each, ${CONNECTIONS} connections`);
  const cpuBefore = cpuMicros(gw.pid);
  const run = await load(measured);
  const cpuAfter = cpuMicros(gw.pid);
  const after = memoryOf(gw.pid);
  await gw.stop();
  await upstream.stop();

  log(`scale: one housekeeping pass with ${EXPIRED_SHARE * 100}% of the sessions expired`);
  const purge = await timePurge(db.url, EXPIRED_SHARE);
  await db.drop();

  const cpu = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / run.requests;
  const incomplete = (r: FineLoadResult, n: number) => r.requests < n || r.non2xx + r.errors > 0;
  return {
    size: { ...size },
    connections: CONNECTIONS,
    schema,
    seedSeconds,
    warmup,
    measured: { ...run, rps: run.requests / run.seconds, cpuUsPerRequest: cpu },
    memory: { started, warmed, after },
    purge,
    flagged: incomplete(warmup, warm.length) || incomplete(run, measured.length),
  };
}
