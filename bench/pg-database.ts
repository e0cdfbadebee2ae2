// A throwaway PostgreSQL database for the bench: created under a random name on the server that BENCH_PG_URL
// names (default: the local server's `postgres` database, user postgres), dropped again at the end, even when
// gateways still hold connections to it. Where no server answers, the PostgreSQL rows are skipped with a note.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hidePassword } from '../src/core/url-password.ts';
import { log } from './load.ts';

const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  /** The gateway's `[store] url`. */
  url: string;
  name: string;
  /** Drops the database (idempotent). */
  drop: () => Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `hero_bench_<random>`; null (with a note) when the server cannot be reached or refuses. */
export async function createBenchDatabase(): Promise<BenchDatabase | null> {
  const name = `hero_bench_${randomBytes(6).toString('hex')}`;
  try {
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
  } catch (err) {
    log(`PostgreSQL at ${hidePassword(ADMIN_URL)} is not usable (${String(err)}): its rows are skipped`);
    return null;
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.href,
    name,
    async drop() {
      if (dropped) return;
      // FORCE ends the sessions still connected (a gateway that did not stop, a pool not yet closed).
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      dropped = true;
    },
  };
}
