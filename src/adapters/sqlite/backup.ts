// An online copy of a SQLite database: SQLite's backup API reads one consistent snapshot (WAL included)
// while the gateway keeps writing. The copy is private (0600) from its first byte and never overwrites by
// accident.
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

export class BackupRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupRefused';
  }
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

export async function backupSqlite(source: string, dest: string, opts: { force: boolean }): Promise<number> {
  if (!existsSync(source)) throw new BackupRefused(`there is no store at ${source} yet: nothing to back up`);
  const target = resolve(dest);
  if (target === resolve(source)) throw new BackupRefused('the backup cannot be the store itself');
  // lstat, not exists: a dangling symlink is still a name that is taken.
  if (!opts.force && lstatOrNull(target) !== null)
    throw new BackupRefused(`${target} already exists; pass --force to replace it`);
  if (!existsSync(dirname(target)))
    throw new BackupRefused(`the directory ${dirname(target)} does not exist`);
  // The copy holds every password hash and session: it is created 0600 before SQLite writes into it, under a
  // temporary name, and appears under its own name only once complete.
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  closeSync(openSync(temp, 'wx', 0o600));
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // All pages in one step: one read transaction, so writers (in WAL mode never blocked by it) cannot make
    // the copy restart, and it is one consistent snapshot.
    await db.backup(temp, { progress: () => 0x7fffffff });
    const fd = openSync(temp, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    chmodSync(temp, 0o600);
    if (opts.force) renameSync(temp, target);
    else linkSync(temp, target); // fails if the name was taken meanwhile: never overwrites without --force
    return statSync(target).size;
  } finally {
    db.close();
    rmSync(temp, { force: true });
    rmSync(`${temp}-journal`, { force: true });
  }
}
