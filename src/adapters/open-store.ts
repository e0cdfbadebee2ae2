// Chooses the store backend from `[store] url`: the one place that knows which adapters exist.
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
export async function openStore(url: string, clock: Clock, opts: { migrate?: boolean } = {}): Promise<Store> {
  if (url.startsWith('sqlite:'))
    return createSqliteStore({ path: url.slice('sqlite:'.length), clock, ...opts });
  if (url.startsWith('postgres://') || url.startsWith('postgresql://'))
    return createPostgresStore({ url, clock, ...opts });
  throw new Error(`store url "${url.split(':')[0]}:…" is not supported; use sqlite:PATH or postgres://…`);
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
