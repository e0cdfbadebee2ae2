// Opening a SQLite database the way the gateway needs it, and applying the numbered migrations.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrationFiles } from '../migration-files.ts';
import { BUSY_TIMEOUT_MS } from './lock-wait.ts';

export type Db = Database.Database;

export function openDatabase(path: string): Db {
  if (path !== ':memory:' && path !== '') createPrivately(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL'); // readers never block the writer; CLI and server share the file
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Opening and migrating happen before anything is served: waiting for a lock in SQLite's busy handler is fine
  // then. servingLockWaits() shortens it once the store serves (lock-wait.ts).
  db.pragma('busy_timeout = 5000');
  return db;
}

/** From here on a lock held elsewhere is waited for on timers, never in SQLite's handler (lock-wait.ts). */
export function servingLockWaits(db: Db): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

/**
 * Calls `onWrite` after every statement through this connection that may have written (a prepared statement
 * that is not read-only, or `exec`), whichever method ran it, with whether it succeeded: the ChangeSignal learns
 * of this process's own writes at once, not when its file watch reports them, and a store call that met a lock
 * knows whether it had already written (then it is never run again; lock-wait.ts).
 */
export function trackWrites(db: Db, onWrite: (ok: boolean) => void): void {
  const prepare = db.prepare.bind(db);
  const exec = db.exec.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (statement.readonly) return statement;
    for (const method of ['run', 'get', 'all', 'iterate'] as const) {
      const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        let ok = false;
        try {
          const result = original(...args);
          ok = true;
          return result;
        } finally {
          onWrite(ok);
        }
      };
    }
    return statement;
  }) as Db['prepare'];
  db.exec = ((source: string) => {
    let ok = false;
    try {
      const result = exec(source);
      ok = true;
      return result;
    } finally {
      onWrite(ok);
    }
  }) as Db['exec'];
}

/**
 * The store holds password hashes, sessions and token hashes: its directory is created 0700 and the file 0600
 * before SQLite opens it. SQLite gives the -wal and -shm files it creates the mode of the database file, so
 * they are private too. An existing file keeps the mode its owner gave it.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
    chmodSync(path, 0o600); // the umask may have taken bits away, never added them; this makes it exact
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function ensureLedger(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
}

export function migrationState(db: Db): { applied: string[]; pending: string[] } {
  ensureLedger(db);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const all = migrationFiles('sqlite');
  return {
    applied: all.filter((m) => applied.has(m.version)).map((m) => m.name),
    pending: all.filter((m) => !applied.has(m.version)).map((m) => m.name),
  };
}

/** Applies pending migrations in one IMMEDIATE transaction: two processes starting together serialize here. */
export function migrate(db: Db, now: number): string[] {
  ensureLedger(db);
  const run = db.transaction(() => {
    const done = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const m of migrationFiles('sqlite')) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        now,
      );
      applied.push(m.name);
    }
    return applied;
  });
  return run.immediate();
}

/** Maps SQLite's unique-constraint failure onto the column that caused it, else null. */
export function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: string; message?: string };
  if (e?.code !== 'SQLITE_CONSTRAINT_UNIQUE' && e?.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const m = /UNIQUE constraint failed: \w+\.(\w+)/.exec(e.message ?? '');
  return m?.[1] ?? 'value';
}
