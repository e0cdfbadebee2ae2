// Whole tables out of and into a SQLite store, for `store copy`: a read snapshot streamed in batches, and one
// IMMEDIATE transaction that fills an empty store.
import {
  StoreNotEmptyError,
  type StoreTransfer,
  type TransferRow,
  type TransferValue,
} from '../../ports/store-transfer.ts';
import { migrationFiles } from '../migration-files.ts';
import { columnValue, quoteName as quote } from '../transfer-rows.ts';
import type { Db } from './db.ts';

/** The store's own bookkeeping, kept by each store for itself: the migration ledger, the authz counter. */
const BOOKKEEPING = new Set(['schema_migrations', 'meta']);

/**
 * Rows the migrations insert themselves (the built-in role admin and its claim), as a condition per table: every
 * freshly migrated store has them, so they do not make a target "not empty", and the source's rows replace them.
 */
const SEEDED: Record<string, string> = {
  roles: 'builtin <> 0',
  role_claims: 'role_id IN (SELECT id FROM roles WHERE builtin <> 0)',
};

interface ColumnInfo {
  name: string;
  pk: number;
}

/** SQLite binds no booleans (PostgreSQL's flags arrive as true/false): 1/0, as this schema keeps flags. */
function bindable(v: TransferValue): number | string | Buffer | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v);
  return v as number | string | Buffer | null;
}

export function sqliteTransfer(db: Db): StoreTransfer {
  const columnsOf = (table: string) =>
    db.prepare('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid').all(table) as ColumnInfo[];

  async function tables(): Promise<Map<string, string[]>> {
    const names = (
      db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all() as { name: string }[]
    )
      .map((r) => r.name)
      .filter((n) => !BOOKKEEPING.has(n));
    return new Map(names.map((n) => [n, columnsOf(n).map((c) => c.name)]));
  }

  /** SELECT of every column in primary-key order (rowid for a table without one): the same order every time. */
  function selectAll(table: string): string {
    const cols = columnsOf(table);
    if (cols.length === 0) throw new Error(`no table ${table}`);
    const key = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const order = key.length > 0 ? key.map((c) => quote(c.name)).join(', ') : 'rowid';
    return `SELECT ${cols.map((c) => quote(c.name)).join(', ')} FROM ${quote(table)} ORDER BY ${order}`;
  }

  return {
    tables,

    async unknownMigrations() {
      const known = new Set(migrationFiles('sqlite').map((m) => m.version));
      const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
        version: number;
        name: string;
      }[];
      return rows.filter((r) => !known.has(r.version)).map((r) => r.name);
    },

    async snapshot(batchSize, fn) {
      // A read transaction in WAL mode: every SELECT below sees the database as of the first one, while a
      // running gateway keeps writing, so the rows copied agree with each other.
      db.exec('BEGIN');
      try {
        return await fn(async function* rows(table: string) {
          // iterate() steps through the rows as they are asked for: one batch in memory, not the table.
          let batch: TransferRow[] = [];
          for (const row of db.prepare(selectAll(table)).iterate() as Iterable<TransferRow>) {
            batch.push(row);
            if (batch.length >= batchSize) {
              yield batch;
              batch = [];
            }
          }
          if (batch.length > 0) yield batch;
        });
      } finally {
        if (db.inTransaction) db.exec('COMMIT');
      }
    },

    async fill(order, rows) {
      const counts = new Map<string, number>();
      // IMMEDIATE takes the write lock before the emptiness check: no other writer (another copy, a gateway)
      // can add a row between the check and the commit.
      db.exec('BEGIN IMMEDIATE');
      try {
        const holding = order.filter((t) => {
          const seeded = SEEDED[t];
          const where = seeded ? ` WHERE NOT (${seeded})` : '';
          return (
            db
              .prepare(`SELECT EXISTS (SELECT 1 FROM ${quote(t)}${where})`)
              .pluck()
              .get() === 1
          );
        });
        // Refused, not merged: two installations' users, grants and sessions would mix in one store.
        if (holding.length > 0) throw new StoreNotEmptyError(holding);
        for (const t of [...order].reverse()) {
          const seeded = SEEDED[t];
          if (seeded) db.prepare(`DELETE FROM ${quote(t)} WHERE ${seeded}`).run();
        }
        for (const table of order) {
          const cols = columnsOf(table).map((c) => c.name);
          const insert = db.prepare(
            `INSERT INTO ${quote(table)} (${cols.map(quote).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
          );
          let n = 0;
          for await (const batch of rows(table)) {
            for (const row of batch) insert.run(cols.map((c) => bindable(columnValue(row, table, c))));
            n += batch.length;
          }
          counts.set(table, n);
        }
        db.exec('COMMIT');
        return counts;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
  };
}
