// Connecting to PostgreSQL the way the gateway needs it, and applying the numbered migrations.
//
// Driver: `pg` (node-postgres). It is the most used and longest-maintained PostgreSQL client for Node, its pool
// is bounded and observable, a dedicated client can LISTEN (how instances learn of each other's changes), and
// its errors carry PostgreSQL's own fields (`code` 23505, `constraint`) that conflicts are mapped from.
import pg from 'pg';
import { migrationFiles } from '../migration-files.ts';
import { inTransaction } from './tx.ts';

// bigint (int8) columns hold millisecond instants and counters, far inside Number's exact range: read them as
// numbers, like the SQLite adapter does, instead of pg's default strings.
const INT8 = 20;
const toNumber = (v: string) => Number(v);

/** Connections per instance (per worker): operators size `max_connections` from this × instances × workers. */
export const POOL_SIZE = 10;
/** No statement waits longer than this; a lock or a stalled server becomes an error the caller maps to 503. */
export const STATEMENT_TIMEOUT_MS = 5000;

export interface PgOptions {
  max?: number;
  statementTimeoutMs?: number;
  /** How long to wait for a free connection or a new one; beyond it the query fails. */
  connectTimeoutMs?: number;
  /** Prepares each new connection before its first query (awaited: a failure fails that checkout). */
  onConnect?: (client: pg.PoolClient) => Promise<void>;
}

export function createPool(url: string, opts: PgOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? POOL_SIZE,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    statement_timeout: opts.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS,
    // The server's timeout needs a server that answers; this one also ends a wait on a connection that went
    // silent (a network fault), so no request hangs until TCP gives up.
    query_timeout: (opts.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS) + 1000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    ...(opts.onConnect ? { onConnect: opts.onConnect } : {}),
    types: {
      getTypeParser: (oid, format) => (oid === INT8 ? toNumber : pg.types.getTypeParser(oid, format)),
    },
  } as pg.PoolConfig);
  // An idle connection that the server ends (restart, pg_terminate_backend) is dropped by the pool and
  // replaced on the next query; without a listener the error would end the process.
  pool.on('error', () => {});
  return pool;
}

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`;

/**
 * A fixed key for the advisory lock that serializes migrations: every instance starting at once takes it in
 * turn, and each one after the first finds nothing left to apply. ("hero" in ASCII.)
 */
const MIGRATION_LOCK = 0x6865726f;

export async function migrationState(pool: pg.Pool): Promise<{ applied: string[]; pending: string[] }> {
  const { rows } = await pool
    .query<{ version: number }>('SELECT version FROM schema_migrations')
    .catch((err: { code?: string }) => {
      // No ledger yet (undefined_table): nothing is applied.
      if (err.code === '42P01') return { rows: [] as { version: number }[] };
      throw err;
    });
  const applied = new Set(rows.map((r) => r.version));
  const all = migrationFiles('postgres');
  return {
    applied: all.filter((m) => applied.has(m.version)).map((m) => m.name),
    pending: all.filter((m) => !applied.has(m.version)).map((m) => m.name),
  };
}

/**
 * Applies pending migrations in one transaction under the advisory lock: several instances starting together
 * on an empty database apply each migration exactly once. Returns what this call applied.
 */
export async function migrate(pool: pg.Pool, now: number): Promise<string[]> {
  return inTransaction(pool, async (client) => {
    // Held until COMMIT or ROLLBACK; a second instance waits here, then sees the ledger the first wrote.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(LEDGER);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of migrationFiles('postgres')) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        now,
      ]);
      applied.push(m.name);
    }
    return applied;
  });
}

/**
 * Maps PostgreSQL's unique violation (23505) onto the column its constraint guards (constraints are named
 * `<table>_<column>_key` in migrations/postgres), else null.
 */
export function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: string; constraint?: string; table?: string };
  if (e?.code !== '23505') return null;
  const { constraint = '', table = '' } = e;
  if (table && constraint.startsWith(`${table}_`) && constraint.endsWith('_key'))
    return constraint.slice(table.length + 1, -'_key'.length);
  return 'value';
}
