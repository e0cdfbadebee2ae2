// What most commands need: the config named by -c and the store it points at (migrated on open).

import { userInfo } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import { fileAuditLog } from '../adapters/audit-file.ts';
import { openStore } from '../adapters/open-store.ts';
import { type Config, configPath, type LoadResult, loadConfigFile } from '../config/load.ts';
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

/** A path as typed from here: relative when under the current directory. */
function shown(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

/**
 * A file that is missing or not TOML is one CliError: the line that says what to do, and for a syntax error
 * the offending line with a caret under the column. Other problems follow a header, one line each.
 */
export function failLoad(file: string, loaded: Exclude<LoadResult, { ok: true }>): never {
  const { syntax } = loaded;
  if (syntax) {
    const n = String(syntax.line);
    // Tabs are kept so the caret lines up under the same column as the text above it.
    const pad = [...syntax.lineText.slice(0, syntax.column - 1)]
      .map((c) => (c === '\t' ? '\t' : ' '))
      .join('');
    throw new CliError(
      `${shown(file)} line ${n}, column ${syntax.column}: ${syntax.message}\n` +
        `  ${n} | ${syntax.lineText}\n  ${' '.repeat(n.length)} | ${pad}^`,
    );
  }
  if (loaded.unreadable) throw new CliError(loaded.problems[0] ?? `cannot read ${file}`);
  const n = loaded.problems.length;
  if (n === 1) throw new CliError(`${shown(file)}: ${loaded.problems[0]}`);
  throw new CliError(
    `${shown(file)} has ${n} problem${n === 1 ? '' : 's'}:${loaded.problems.map((p) => `\n  ${p}`).join('')}`,
  );
}

export function loadConfigOrFail(flag: string | undefined): Config {
  const file = configPath(flag, process.env);
  const loaded = loadConfigFile(file);
  if (!loaded.ok) failLoad(file, loaded);
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
