// What most commands need: the config named by -c and the store it points at (migrated on open).

import { userInfo } from 'node:os';
import { fileAuditLog } from '../adapters/audit-file.ts';
import { openStore } from '../adapters/open-store.ts';
import { type Config, ConfigError, configPath, loadConfigFile } from '../config/load.ts';
import { type AuditEvent, type AuditLog, noAudit } from '../ports/audit.ts';
import { systemClock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { CliError, note } from './io.ts';

/** Audit events from the CLI name the operating-system user who ran the command. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export function loadConfigOrFail(flag: string | undefined): Config {
  const file = configPath(flag, process.env);
  const loaded = loadConfigFile(file);
  if (!loaded.ok) throw new ConfigError(loaded.problems);
  return loaded.config;
}

export async function withStore<T>(
  flag: string | undefined,
  fn: (store: Store, config: Config, audit: AuditLog) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const config = loadConfigOrFail(flag);
  let store: Store;
  try {
    store = openStore(config.store.url, systemClock, opts);
  } catch (err) {
    throw new CliError(`cannot open the store ${config.store.url}: ${(err as Error).message}`, 2);
  }
  const file = config.server.audit_log
    ? fileAuditLog(config.server.audit_log, systemClock, (err) =>
        note(`warning: could not write the audit log: ${(err as Error).message}`),
      )
    : null;
  const actor = cliActor();
  const audit: AuditLog = file ? { record: (e: AuditEvent) => file.record({ actor, ...e }) } : noAudit;
  try {
    return await fn(store, config, audit);
  } finally {
    await file?.flushed();
    await store.close();
  }
}
