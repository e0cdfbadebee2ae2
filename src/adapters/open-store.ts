// Chooses the store backend from `[store] url`: the one place that knows which adapters exist.
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { hidePassword, scrubPasswords } from '../core/url-password.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { createPostgresStore } from './postgres/index.ts';
import { BackupRefused, backupSqlite } from './sqlite/backup.ts';
import { createSqliteStore } from './sqlite/index.ts';

export { BackupRefused };

/**
 * Opens the store at `url`. Asynchronous for every backend, although SQLite's file opens at once: a network
 * database connects first, and callers must not be written for the one that happens not to wait.
 */
export async function openStore(
  url: string,
  clock: Clock,
  opts: {
    migrate?: boolean;
    existing?: boolean;
    /** PostgreSQL: told when the change listener is lost or listening again, for the log. */
    onListenerState?: (state: 'listening' | 'lost', err?: Error) => void;
  } = {},
): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    // Opening a SQLite path creates the file: a mistyped source would become a new, empty store.
    if (opts.existing && path !== ':memory:' && !existsSync(path))
      throw new StoreMissing(`there is no store at ${path}`);
    return createSqliteStore({ path, clock, migrate: opts.migrate });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://'))
    return createPostgresStore({
      url,
      clock,
      migrate: opts.migrate,
      ...(opts.onListenerState ? { onListenerState: opts.onListenerState } : {}),
    });
  throw new Error(`store url "${url.split(':')[0]}:…" is not supported; use sqlite:PATH or postgres://…`);
}

/** The configured store could not be opened: one line that names the setting, with any password hidden. */
export class StoreOpenError extends Error {}

/** openStore for `[store] url`, failing with StoreOpenError. */
export async function openConfiguredStore(
  url: string,
  clock: Clock,
  opts: Parameters<typeof openStore>[2] = {},
): Promise<Store> {
  try {
    return await openStore(url, clock, opts);
  } catch (err) {
    // A driver's message can repeat the URL it was given: never print a password from it.
    const why = scrubPasswords((err as Error).message, [url]);
    throw new StoreOpenError(`cannot open the store (store.url = ${hidePassword(url)}): ${why}`);
  }
}

/** The store an existing-only open names is not there (`opts.existing`). */
export class StoreMissing extends Error {}

/** Whether two store URLs name the same store: the same SQLite file, or the same PostgreSQL database. */
export function sameStore(a: string, b: string): boolean {
  const where = (url: string): string | null => {
    if (url.startsWith('sqlite:')) {
      const path = url.slice('sqlite:'.length);
      if (path === ':memory:') return null; // every open is a new database
      return `sqlite:${existsSync(path) ? realpathSync(path) : resolve(path)}`;
    }
    try {
      const u = new URL(url);
      return `postgres://${u.hostname || 'localhost'}:${u.port || '5432'}${decodeURIComponent(u.pathname)}`;
    } catch {
      return url;
    }
  };
  const key = where(a);
  return key !== null && key === where(b);
}

/**
 * Copies the store at `url` to the file `dest`, consistently, while it is in use. Returns the copy's size.
 * Throws BackupRefused with a one-line reason when it cannot (another backend, no store yet, FILE exists).
 */
export function backupStore(url: string, dest: string, opts: { force: boolean }): Promise<number> {
  if (url === 'sqlite::memory:')
    throw new BackupRefused('the store is in memory: there is nothing to back up');
  if (url.startsWith('sqlite:')) return backupSqlite(url.slice('sqlite:'.length), dest, opts);
  throw new BackupRefused(
    `backup copies SQLite stores; for a ${url.split(':')[0]} store use that database's own tools (for example pg_dump)`,
  );
}
