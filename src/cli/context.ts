// The CLI's own small composition: the config named by -c, the store it points at (migrated on open), and
// the use cases over it (accounts, signing keys). Commands get the use cases, never the store.

import { userInfo } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import { fileAuditLog } from '../adapters/audit-file.ts';
import { readLegacySigningKeys } from '../adapters/legacy-signing-keys.ts';
import { openConfiguredStore } from '../adapters/open-store.ts';
import { type Config, configPath, type LoadResult, loadConfigFile } from '../config/load.ts';
import { ensureSecret } from '../config/secret.ts';
import type { MigrationState } from '../core/records.ts';
import { buildMail, type MailSide } from '../mail.ts';
import { noAudit } from '../ports/audit.ts';
import { systemClock } from '../ports/clock.ts';
import { AccountError, type Actor, operator } from '../services/accounts/actor.ts';
import { type Accounts, buildAccounts } from '../services/accounts/index.ts';
import { ApiTokenService } from '../services/api-tokens.ts';
import { SigningKeyAdmin } from '../services/signing-key-admin.ts';
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

/** What a command works with: the config, the account use cases, and who is acting. Never the store. */
export interface CliContext {
  config: Config;
  accounts: Accounts;
  /** The operator at this terminal ("cli:<login>" in the audit log). */
  actor: Actor;
  /**
   * Sends the mail the command queued: with an SMTP server configured, at once (so it also goes out when no
   * server runs); without one the running server prints it — the CLI never shows links. True when delivered.
   */
  deliverMail(): Promise<boolean>;
  migrations: { state(): Promise<MigrationState>; apply(): Promise<string[]> };
  /** The assertion signing keys (`keys list|rotate|remove`). */
  signingKeys: SigningKeyAdmin;
}

export async function withAccounts<T>(
  flag: string | undefined,
  fn: (ctx: CliContext) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const config = loadConfigOrFail(flag);
  let store: Awaited<ReturnType<typeof openConfiguredStore>>;
  try {
    store = await openConfiguredStore(config.store.url, systemClock, opts);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const file = config.server.audit_log
    ? fileAuditLog(config.server.audit_log, systemClock, (err) =>
        note(`warning: could not write the audit log: ${(err as Error).message}`),
      )
    : null;
  // Built on first use only: the mail side needs the server secret, which a plain listing must not create.
  let mail: MailSide | null = null;
  const mailSide = () => {
    mail ??= buildMail({
      config: () => config,
      store,
      clock: systemClock,
      secret: ensureSecret(config).secret,
      log: { warn() {}, info() {} },
    });
    return mail;
  };
  const accounts = buildAccounts({
    store,
    clock: systemClock,
    audit: file ?? noAudit,
    tokens: new ApiTokenService(store, systemClock),
    mail: {
      invite: (user) => mailSide().accounts.invite(user),
      forgot: (username) => mailSide().accounts.forgot(username),
    },
    passwordMinLength: () => config.accounts.password_min_length,
  });
  const deliverMail = async () => {
    if (!config.mail.smtp_url) return false;
    await mailSide().outbox.runOnce();
    return (await mailSide().outbox.depth()) === 0;
  };
  try {
    return await fn({
      config,
      accounts,
      actor: operator(cliActor()),
      deliverMail,
      migrations: { state: () => store.migrationState(), apply: () => store.migrate() },
      signingKeys: new SigningKeyAdmin({
        store,
        clock: systemClock,
        secret: () => ensureSecret(config).secret,
        legacyKeys: () => readLegacySigningKeys(config.server.data_dir),
      }),
    });
  } catch (err) {
    // A use case's refusal is one line for the operator.
    if (err instanceof AccountError) throw new CliError(err.message);
    throw err;
  } finally {
    await (mail as MailSide | null)?.mailer.close();
    await file?.flushed();
    await store.close();
  }
}
