// `backup FILE`: a consistent copy of the store while the gateway runs, and what else to keep beside it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BackupRefused, backupStore } from '../../adapters/open-store.ts';
import type { Config } from '../../config/load.ts';
import { loadConfigOrFail } from '../context.ts';
import { CliError, out } from '../io.ts';

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The files beside the store that a restore needs too, as "path (what it is)". */
function companions(config: Config): string[] {
  const dir = config.server.data_dir;
  const files: string[] = [];
  // Without the secret, the signing keys sealed in the store do not open (the gateway refuses to start) and
  // CSRF and device cookies made with it stop verifying; with a configured one, nothing is on disk to copy.
  // The signing keys themselves are in the store.
  if (!config.server.secret && existsSync(join(dir, 'secret')))
    files.push(`${join(dir, 'secret')} (server secret)`);
  if (config.server.audit_log && existsSync(config.server.audit_log))
    files.push(`${config.server.audit_log} (audit log)`);
  return files;
}

export async function backupCommand(flag: string | undefined, file: string, force: boolean): Promise<number> {
  const config = loadConfigOrFail(flag);
  const target = resolve(file);
  let bytes: number;
  try {
    bytes = await backupStore(config.store.url, target, { force });
  } catch (err) {
    if (err instanceof BackupRefused) throw new CliError(err.message);
    throw new CliError(`backup failed: ${(err as Error).message}`, 2);
  }
  const also = companions(config);
  out(
    `backed up the store to ${target} (${size(bytes)}, mode 0600)` +
      (also.length > 0 ? `; keep a copy of ${also.join(', ')} with it` : ''),
  );
  return 0;
}
