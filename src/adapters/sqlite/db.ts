// Opening a SQLite database the way the gateway needs it, and applying the numbered migrations.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrationFiles } from '../migration-files.ts';

export type Db = Database.Database;

export function openDatabase(path: string): Db {
  if (path !== ':memory:' && path !== '') createPrivately(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL'); // readers never block the writer; CLI and server share the file
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Calls `onWrite` after every statement through this connection that may have written (a prepared statement
 * that is not read-only, or `exec`), whichever method ran it: the ChangeSignal learns of this process's own
 * writes at once, not when its file watch reports them.
 */
export function trackWrites(db: Db, onWrite: () => void): void {
  const prepare = db.prepare.bind(db);
  const exec = db.exec.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (statement.readonly) return statement;
    for (const method of ['run', 'get', 'all', 'iterate'] as const) {
      const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        try {
          return original(...args);
        } finally {
          onWrite();
        }
      };
    }
    return statement;
  }) as Db['prepare'];
  db.exec = ((source: string) => {
    try {
      return exec(source);
    } finally {
      onWrite();
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
