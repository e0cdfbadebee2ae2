// Whole tables out of and into a PostgreSQL store, for `store copy`: a repeatable-read snapshot read through
// cursors a batch at a time, and one transaction that fills an empty store with multi-row INSERTs.
import type pg from 'pg';
import {
  StoreNotEmptyError,
  type StoreTransfer,
  type TransferRow,
  type TransferValue,
} from '../../ports/store-transfer.ts';
import { migrationFiles } from '../migration-files.ts';
import { columnValue, quoteName as quote } from '../transfer-rows.ts';
import { inTransaction, type Queryable, withClient } from './tx.ts';

/**
 * The store's own bookkeeping, kept by each store for itself: the migration ledger, the authz counter, and the
 * per-transaction marks that move it (empty outside a transaction).
 */
const BOOKKEEPING = new Set(['schema_migrations', 'meta', 'authz_pending']);

/**
 * Rows the migrations insert themselves (the built-in role admin and its claim), as a condition per table: every
 * freshly migrated store has them, so they do not make a target "not empty", and the source's rows replace them.
 */
const SEEDED: Record<string, string> = {
  roles: 'builtin',
  role_claims: 'role_id IN (SELECT id FROM roles WHERE builtin)',
};

/** PostgreSQL takes at most this many parameters in one statement; a batch is split into INSERTs below it. */
const MAX_PARAMS = 65_535;

interface Column {
  name: string;
  /** As format_type() names it: text, bigint, integer, boolean, bytea, … */
  type: string;
}

/** Every ordinary table of the current schema with its columns in order. */
async function schemaColumns(q: Queryable): Promise<Map<string, Column[]>> {
  const { rows } = await q.query<{ table: string; name: string; type: string }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
       AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.relname, a.attnum`,
  );
  const tables = new Map<string, Column[]>();
  for (const r of rows) {
    if (BOOKKEEPING.has(r.table)) continue;
    const list = tables.get(r.table) ?? [];
    list.push({ name: r.name, type: r.type });
    tables.set(r.table, list);
  }
  return tables;
}

/** SELECT of every column in primary-key order (all columns for a table without one): the same order every time. */
async function selectAll(q: Queryable, table: string, cols: readonly Column[]): Promise<string> {
  const { rows } = await q.query<{ name: string }>(
    `SELECT a.attname AS name
     FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.n`,
    [quote(table)],
  );
  const key = rows.length > 0 ? rows.map((r) => r.name) : cols.map((c) => c.name);
  return `SELECT ${cols.map((c) => quote(c.name)).join(', ')} FROM ${quote(table)} ORDER BY ${key.map(quote).join(', ')}`;
}

/** A copied value as this schema's column takes it: SQLite's 0/1 flags become booleans, bytes a Buffer. */
function forColumn(v: TransferValue, col: Column, table: string): unknown {
  if (v === null) return null;
  if (col.type === 'boolean') {
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    throw new Error(`${table}.${col.name}: ${JSON.stringify(v)} is not a flag`);
  }
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v);
  return v;
}

export function pgTransfer(pool: pg.Pool): StoreTransfer {
  return {
    async tables() {
      const tables = await schemaColumns(pool);
      return new Map([...tables].map(([t, cols]) => [t, cols.map((c) => c.name)]));
    },

    async unknownMigrations() {
      const known = new Set(migrationFiles('postgres').map((m) => m.version));
      const { rows } = await pool
        .query<{ version: number; name: string }>(
          'SELECT version, name FROM schema_migrations ORDER BY version',
        )
        .catch((err: { code?: string }) => {
          // No ledger yet (undefined_table): nothing is applied, so nothing unknown.
          if (err.code === '42P01') return { rows: [] as { version: number; name: string }[] };
          throw err;
        });
      return rows.filter((r) => !known.has(r.version)).map((r) => r.name);
    },

    async snapshot(batchSize, fn) {
      return withClient(pool, async (client) => {
        // One snapshot for every table read below, while a running gateway keeps writing: the rows copied
        // agree with each other (no session whose user was created after the users were read).
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          const tables = await schemaColumns(client);
          let cursors = 0;
          const result = await fn(async function* rows(table: string) {
            const cols = tables.get(table);
            if (!cols) throw new Error(`no table ${table}`);
            // A cursor hands the rows over a batch at a time: one batch in memory, not the table.
            const cursor = `hero_copy_${++cursors}`;
            await client.query(
              `DECLARE ${cursor} NO SCROLL CURSOR FOR ${await selectAll(client, table, cols)}`,
            );
            for (;;) {
              const { rows } = await client.query<TransferRow>(`FETCH FORWARD ${batchSize} FROM ${cursor}`);
              if (rows.length > 0) yield rows;
              if (rows.length < batchSize) break;
            }
            await client.query(`CLOSE ${cursor}`);
          });
          await client.query('COMMIT');
          return result;
        } catch (err) {
          // Only read: a failed ROLLBACK (a connection that died) must not hide why the copy stopped.
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
      });
    },

    async fill(order, rows) {
      return inTransaction(pool, async (c) => {
        // Writers wait until this transaction ends (readers do not): the emptiness checked below stays true
        // until the commit, and a second copy into the same store finds this one's rows and is refused.
        await c.query(`LOCK TABLE ${order.map(quote).join(', ')} IN EXCLUSIVE MODE`);
        const holding: string[] = [];
        for (const t of order) {
          const seeded = SEEDED[t];
          const where = seeded ? ` WHERE NOT (${seeded})` : '';
          const { rows: r } = await c.query<{ e: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM ${quote(t)}${where}) AS e`,
          );
          if (r[0]?.e) holding.push(t);
        }
        // Refused, not merged: two installations' users, grants and sessions would mix in one store.
        if (holding.length > 0) throw new StoreNotEmptyError(holding);
        for (const t of [...order].reverse()) {
          const seeded = SEEDED[t];
          if (seeded) await c.query(`DELETE FROM ${quote(t)} WHERE ${seeded}`);
        }
        const tables = await schemaColumns(c);
        const counts = new Map<string, number>();
        for (const table of order) {
          const cols = tables.get(table);
          if (!cols) throw new Error(`no table ${table}`);
          const head = `INSERT INTO ${quote(table)} (${cols.map((col) => quote(col.name)).join(', ')}) VALUES `;
          const perStatement = Math.max(1, Math.floor(MAX_PARAMS / cols.length));
          let n = 0;
          for await (const batch of rows(table)) {
            for (let i = 0; i < batch.length; i += perStatement) {
              const params: unknown[] = [];
              const tuples = batch.slice(i, i + perStatement).map((row) => {
                const marks = cols.map((col) => {
                  params.push(forColumn(columnValue(row, table, col.name), col, table));
                  return `$${params.length}`;
                });
                return `(${marks.join(', ')})`;
              });
              await c.query(head + tuples.join(', '), params);
            }
            n += batch.length;
          }
          counts.set(table, n);
        }
        return counts;
      });
    },
  };
}
