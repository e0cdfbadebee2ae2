// Moving an installation to another store (`store copy`, e.g. SQLite → PostgreSQL): every table, copied row for
// row through the store port, into an empty target in one transaction.
//
// Rows are copied verbatim. Passwords, sessions, API tokens and one-time links are stored as hashes, and mail
// payloads, provider tokens and private signing keys are sealed with the server secret: with the same secret
// the new store accepts every password, cookie and token the old one did, and nothing is ever decrypted here.
import type { Store } from '../ports/store.ts';
import { StoreNotEmptyError, type StoreTransfer } from '../ports/store-transfer.ts';

export interface CopiedTable {
  table: string;
  /** How the result line counts its rows: "1 user", "3 users". */
  one: string;
  many: string;
}

/**
 * What a copy moves, in the order it is written: parents before the rows that reference them. A new table is
 * one line here; a table the stores have that is missing here stops every copy instead of being left behind.
 */
export const COPIED_TABLES: readonly CopiedTable[] = [
  { table: 'users', one: 'user', many: 'users' },
  { table: 'credentials', one: 'credential', many: 'credentials' },
  { table: 'groups', one: 'group', many: 'groups' },
  { table: 'group_members', one: 'group membership', many: 'group memberships' },
  { table: 'roles', one: 'role', many: 'roles' },
  { table: 'role_claims', one: 'role claim', many: 'role claims' },
  { table: 'grants', one: 'grant', many: 'grants' },
  { table: 'api_tokens', one: 'API token', many: 'API tokens' },
  { table: 'sessions', one: 'session', many: 'sessions' },
  { table: 'oidc_identities', one: 'provider link', many: 'provider links' },
  { table: 'one_time_tokens', one: 'one-time token', many: 'one-time tokens' },
  { table: 'mail_outbox', one: 'outbox mail', many: 'outbox mails' },
  { table: 'throttles', one: 'throttle', many: 'throttles' },
  { table: 'signing_keys', one: 'signing key', many: 'signing keys' },
  { table: 'second_factors', one: 'second factor', many: 'second factors' },
  { table: 'recovery_codes', one: 'recovery code', many: 'recovery codes' },
];

/** Rows per read and per write batch: big enough for few round trips, small enough to hold in memory. */
export const COPY_BATCH = 1000;

/** A copy that was not started because something the operator can fix is wrong (exit 1); nothing changed. */
export class StoreCopyRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreCopyRefused';
  }
}

export interface CopyCount extends CopiedTable {
  rows: number;
}

export interface StoreCopyDeps {
  /** Opens the source as it is: no migrations applied (a copy never changes its source). */
  openSource(): Promise<Store>;
  /** Opens the target with its migrations applied. */
  openTarget(): Promise<Store>;
  batchSize?: number;
}

const list = (names: readonly string[]) => names.join(', ');

/** The store's transfer side; every backend has one, so its absence is a bug, not the operator's mistake. */
function transferOf(store: Store, side: string): StoreTransfer {
  if (!store.transfer) throw new Error(`the ${side} store cannot be copied (it has no table transfer)`);
  return store.transfer;
}

/** Refuses a store whose schema is not exactly the one this version writes: its rows would not fit. */
async function checkMigrations(store: Store, side: 'source' | 'target'): Promise<void> {
  // The first question a store is asked: a network database that is not there fails here, said as such.
  const state = await store.migrationState().catch((err: Error) => {
    throw new Error(`cannot reach the ${side} store: ${err.message}`, { cause: err });
  });
  if (side === 'source' && state.applied.length === 0)
    throw new StoreCopyRefused(
      'the source store holds no hero-gateway data (no migrations applied): check --from',
    );
  if (state.pending.length > 0)
    throw new StoreCopyRefused(
      `the ${side} store is behind this version (${state.pending.length} migration(s) not applied: ` +
        `${list(state.pending)}); run hero-gateway migrate with its config first`,
    );
  const unknown = await transferOf(store, side).unknownMigrations();
  if (unknown.length > 0)
    throw new StoreCopyRefused(
      `the ${side} store is ahead of this version (migration(s) ${list(unknown)} unknown here); ` +
        'run store copy with the hero-gateway version that wrote it',
    );
}

/** The same tables with the same columns on both sides, and every one of them in COPIED_TABLES. */
function checkTables(source: Map<string, string[]>, target: Map<string, string[]>): void {
  const known = new Set(COPIED_TABLES.map((t) => t.table));
  for (const [side, tables] of [
    ['source', source],
    ['target', target],
  ] as const) {
    // A table this list does not name would be silently left behind: stop instead (a bug to fix here).
    const unknown = [...tables.keys()].filter((t) => !known.has(t));
    if (unknown.length > 0) throw new Error(`store copy does not know the ${side} table(s) ${list(unknown)}`);
    const missing = [...known].filter((t) => !tables.has(t));
    if (missing.length > 0) throw new Error(`the ${side} store has no table(s) ${list(missing)}`);
  }
  for (const [table, columns] of source) {
    const theirs = new Set(target.get(table));
    const differ = columns.length !== theirs.size || columns.some((c) => !theirs.has(c));
    if (differ) throw new Error(`table ${table} has other columns in the source than in the target`);
  }
}

/**
 * Copies every table of the source into the target, which must hold nothing but what its migrations put
 * there. In order: the source's schema must match this version exactly (it is never migrated: a copy does not
 * change it); the target is migrated; then one snapshot of the source is written into the target in one
 * transaction. Returns the rows copied per table, in COPIED_TABLES order. Throws StoreCopyRefused for what the
 * operator can fix (nothing changed then, but the target's migrations), anything else for a failure (the
 * target holds none of the rows).
 */
export async function copyStore(deps: StoreCopyDeps): Promise<CopyCount[]> {
  const source = await deps.openSource();
  try {
    await checkMigrations(source, 'source');
    const target = await deps.openTarget();
    try {
      await checkMigrations(target, 'target');
      const from = transferOf(source, 'source');
      const to = transferOf(target, 'target');
      checkTables(await from.tables(), await to.tables());
      const order = COPIED_TABLES.map((t) => t.table);
      let counts: Map<string, number>;
      try {
        counts = await from.snapshot(deps.batchSize ?? COPY_BATCH, (rows) => to.fill(order, rows));
      } catch (err) {
        if (err instanceof StoreNotEmptyError)
          throw new StoreCopyRefused(
            `the target store is not empty (${list(err.tables)} hold rows); store copy only fills a new store, ` +
              'never merges two installations: point --to at an empty database',
          );
        throw err;
      }
      return COPIED_TABLES.map((t) => ({ ...t, rows: counts.get(t.table) ?? 0 }));
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
