// The scale run's housekeeping measurement: one pass of purgeStale (src/services/housekeeping.ts, which the
// gateway runs at start and hourly; sessions.deleteExpired first) through the store exactly as the gateway
// opens it — the same pool and statement timeout — with its clock moved ahead until `share` of the sessions
// are past their idle expiry (bench/scale-seed.ts). A pass the store refuses (a statement timeout) is a result
// too: it is reported with the time it took to fail, and what it left behind.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openStore } from '../src/adapters/open-store.ts';
import { STATEMENT_TIMEOUT_MS } from '../src/adapters/postgres/db.ts';
import type { Clock } from '../src/ports/clock.ts';
import { purgeStale } from '../src/services/housekeeping.ts';
import { purgeShift } from './scale-seed.ts';

export interface PurgeResult {
  /** How far ahead the store's clock was, ms. */
  shiftMs: number;
  statementTimeoutMs: number;
  /** Sessions before the pass, and how many of them were expired at the shifted clock. */
  sessions: number;
  expired: number;
  seconds: number;
  /** What the pass deleted per table; null when it failed. */
  purged: Record<string, number> | null;
  error: string | null;
  /** Sessions left afterwards. */
  remaining: number;
}

// The predicate of the PostgreSQL store's deleteExpired, for the count before the pass.
const COUNT = `SELECT count(*)::int AS sessions, count(*) FILTER (WHERE absolute_expires_at <= $1
    OR idle_expires_at <= $1 OR (revoked_at IS NOT NULL AND revoked_at < $1::bigint - 86400000))::int AS expired
  FROM sessions`;

async function counts(url: string, now: number): Promise<{ sessions: number; expired: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ sessions: number; expired: number }>(COUNT, [now]);
    return rows[0] ?? { sessions: 0, expired: 0 };
  } finally {
    await client.end();
  }
}

export async function timePurge(url: string, share: number): Promise<PurgeResult> {
  const shiftMs = purgeShift(share);
  // One instant for the count and the pass, so both see the same sessions as expired.
  const at = Date.now() + shiftMs;
  const clock: Clock = { now: () => at };
  const before = await counts(url, at);
  const store = await openStore(url, clock);
  const started = performance.now();
  let purged: Record<string, number> | null = null;
  let error: string | null = null;
  try {
    purged = await purgeStale(store, clock);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  const { sessions: remaining } = await counts(url, at);
  return { shiftMs, statementTimeoutMs: STATEMENT_TIMEOUT_MS, ...before, seconds, purged, error, remaining };
}
